//! Frame authentication with the keys of authkeys.
//!
//! HMAC-SHA256, HMAC-SHA1 and HMAC-MD5 tags are truncated to 128 bits, as
//! IPsec's HMAC-SHA-256-128 does: plenty against forgery for a frame that is
//! only valid for one sequence number, and it keeps a keepalive at 40 bytes.
//! `crc` is a CRC-32: it detects line noise and authenticates nothing.

use hmac::{Hmac, Mac};
use serde::Serialize;

/// How frames are authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMethod {
    /// A CRC: detects corruption, authenticates nothing (Heartbeat's crc).
    Crc,
    /// HMAC-MD5 (Heartbeat's md5).
    Md5,
    /// HMAC-SHA1 (Heartbeat's sha1).
    Sha1,
    /// HMAC-SHA256, tandem's default for native frames.
    Sha256,
}

impl AuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::Crc => "crc",
            AuthMethod::Md5 => "md5",
            AuthMethod::Sha1 => "sha1",
            AuthMethod::Sha256 => "sha256",
        }
    }

    /// The method authkeys names `text`.
    pub fn from_name(text: &str) -> Option<AuthMethod> {
        match text {
            "crc" => Some(AuthMethod::Crc),
            "md5" => Some(AuthMethod::Md5),
            "sha1" => Some(AuthMethod::Sha1),
            "sha256" => Some(AuthMethod::Sha256),
            _ => None,
        }
    }
}

/// Length of an HMAC tag on the wire.
pub const HMAC_TAG_LEN: usize = 16;
/// Length of a CRC-32 "tag".
pub const CRC_TAG_LEN: usize = 4;

#[derive(Clone)]
enum Keyed {
    Crc,
    // Keyed HMAC states, cloned per frame so that the key schedule is
    // computed once, at start.
    Sha256(Hmac<sha2::Sha256>),
    Sha1(Hmac<sha1::Sha1>),
    Md5(Hmac<md5::Md5>),
}

impl Keyed {
    fn new(method: AuthMethod, key: &[u8]) -> Keyed {
        // HMAC accepts keys of any length; new_from_slice cannot fail.
        match method {
            AuthMethod::Crc => Keyed::Crc,
            AuthMethod::Sha256 => Keyed::Sha256(
                Hmac::<sha2::Sha256>::new_from_slice(key).unwrap_or_else(|_| unreachable!()),
            ),
            AuthMethod::Sha1 => Keyed::Sha1(
                Hmac::<sha1::Sha1>::new_from_slice(key).unwrap_or_else(|_| unreachable!()),
            ),
            AuthMethod::Md5 => {
                Keyed::Md5(Hmac::<md5::Md5>::new_from_slice(key).unwrap_or_else(|_| unreachable!()))
            }
        }
    }

    fn tag_len(&self) -> usize {
        match self {
            Keyed::Crc => CRC_TAG_LEN,
            _ => HMAC_TAG_LEN,
        }
    }
}

/// Signs and verifies frames with the keys of one authkeys file.
#[derive(Clone)]
pub struct Authenticator {
    keys: [Option<Keyed>; 16],
    sign: u8,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let listed: Vec<usize> = (0..16).filter(|&i| self.keys[i].is_some()).collect();
        write!(
            f,
            "Authenticator {{ sign: {}, keys: {listed:?} }}",
            self.sign
        )
    }
}

impl Authenticator {
    /// Keys by index (`crc` takes an empty secret); `sign` must be one of
    /// them (authkeys guarantees it). An index over 15 is ignored.
    pub fn new(sign: u8, keys: &[(u8, AuthMethod, &[u8])]) -> Authenticator {
        let mut slots: [Option<Keyed>; 16] = Default::default();
        for &(index, method, secret) in keys {
            if let Some(slot) = slots.get_mut(usize::from(index)) {
                *slot = Some(Keyed::new(method, secret));
            }
        }
        Authenticator { keys: slots, sign }
    }

    /// The key index that signs outgoing frames.
    pub fn signing_index(&self) -> u8 {
        self.sign
    }

    /// The tag length for frames signed with `index`, if that key is known.
    pub fn tag_len(&self, index: u8) -> Option<usize> {
        self.key(index).map(Keyed::tag_len)
    }

    fn key(&self, index: u8) -> Option<&Keyed> {
        self.keys.get(usize::from(index)).and_then(Option::as_ref)
    }

    /// Appends the signing key's tag over `out[..]` to `out`.
    pub fn sign(&self, out: &mut Vec<u8>) {
        // The signing index is always listed (authkeys guarantees it).
        let Some(key) = self.key(self.sign) else {
            return;
        };
        match key {
            Keyed::Crc => {
                let crc = crc32fast::hash(out);
                out.extend_from_slice(&crc.to_be_bytes());
            }
            Keyed::Sha256(mac) => {
                let tag = mac.clone().chain_update(&out[..]).finalize().into_bytes();
                out.extend_from_slice(&tag[..HMAC_TAG_LEN]);
            }
            Keyed::Sha1(mac) => {
                let tag = mac.clone().chain_update(&out[..]).finalize().into_bytes();
                out.extend_from_slice(&tag[..HMAC_TAG_LEN]);
            }
            Keyed::Md5(mac) => {
                let tag = mac.clone().chain_update(&out[..]).finalize().into_bytes();
                out.extend_from_slice(&tag[..HMAC_TAG_LEN]);
            }
        }
    }

    /// Whether `tag` authenticates `data` under key `index`. HMAC tags are
    /// compared in constant time.
    pub fn verify(&self, index: u8, data: &[u8], tag: &[u8]) -> bool {
        let Some(key) = self.key(index) else {
            return false;
        };
        if tag.len() != key.tag_len() {
            return false;
        }
        match key {
            Keyed::Crc => crc32fast::hash(data).to_be_bytes() == tag,
            Keyed::Sha256(mac) => mac
                .clone()
                .chain_update(data)
                .verify_truncated_left(tag)
                .is_ok(),
            Keyed::Sha1(mac) => mac
                .clone()
                .chain_update(data)
                .verify_truncated_left(tag)
                .is_ok(),
            Keyed::Md5(mac) => mac
                .clone()
                .chain_update(data)
                .verify_truncated_left(tag)
                .is_ok(),
        }
    }
}

/// Heartbeat's `crc`: CRC-32 over polynomial 0x04c11db7, most
/// significant bit first, from 0, inverted at the end (not the zlib CRC
/// tandem's native frames use). Found by checking Heartbeat 3.0.6's own
/// packets, kept as test vectors.
pub fn heartbeat_crc(data: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut t = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = (i as u32) << 24;
            let mut bit = 0;
            while bit < 8 {
                c = if c & 0x8000_0000 != 0 {
                    (c << 1) ^ 0x04c1_1db7
                } else {
                    c << 1
                };
                bit += 1;
            }
            t[i] = c;
            i += 1;
        }
        t
    };
    let mut c = 0u32;
    for &b in data {
        c = (c << 8) ^ TABLE[((c >> 24) as u8 ^ b) as usize];
    }
    !c
}

impl Authenticator {
    /// Heartbeat's digest of `data` under key `index`, as its messages
    /// carry it: the whole HMAC in lowercase hex (md5, sha1), or the CRC
    /// as `%lx`. `None` when the key is unknown or has no Heartbeat form
    /// (sha256 is tandem's own).
    pub fn heartbeat_digest(&self, index: u8, data: &[u8]) -> Option<String> {
        let (hex, len) = self.heartbeat_hex(index, data)?;
        Some(hex[..len].iter().map(|&b| char::from(b)).collect())
    }

    /// Whether key `index` is one Heartbeat's messages can carry (sha1,
    /// md5, crc), without computing a digest.
    pub fn has_heartbeat_key(&self, index: u8) -> bool {
        matches!(
            self.key(index),
            Some(Keyed::Crc | Keyed::Sha1(_) | Keyed::Md5(_))
        )
    }

    /// Whether `digest` (as Heartbeat writes it) authenticates `data`
    /// under key `index`; compared in constant time. Nothing is
    /// allocated: every message a stranger sends is checked here.
    pub fn heartbeat_verify(&self, index: u8, data: &[u8], digest: &[u8]) -> bool {
        use subtle::ConstantTimeEq;
        self.heartbeat_hex(index, data)
            .is_some_and(|(d, len)| len == digest.len() && bool::from(d[..len].ct_eq(digest)))
    }

    /// The digest as Heartbeat writes it: lowercase hex, the crc without
    /// leading zeros; in a buffer of 40 (sha1's), with its length.
    fn heartbeat_hex(&self, index: u8, data: &[u8]) -> Option<([u8; 40], usize)> {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 40];
        let bytes = |out: &mut [u8; 40], raw: &[u8]| {
            for (pair, b) in out.chunks_exact_mut(2).zip(raw) {
                pair[0] = DIGITS[usize::from(b >> 4)];
                pair[1] = DIGITS[usize::from(b & 15)];
            }
            raw.len() * 2
        };
        let len = match self.key(index)? {
            Keyed::Crc => {
                let crc = heartbeat_crc(data);
                let digits = (8 - crc.leading_zeros() as usize / 4).max(1);
                for (i, o) in out[..digits].iter_mut().enumerate() {
                    *o = DIGITS[((crc >> (4 * (digits - 1 - i))) & 15) as usize];
                }
                digits
            }
            Keyed::Sha1(mac) => bytes(
                &mut out,
                &mac.clone().chain_update(data).finalize().into_bytes(),
            ),
            Keyed::Md5(mac) => bytes(
                &mut out,
                &mac.clone().chain_update(data).finalize().into_bytes(),
            ),
            Keyed::Sha256(_) => return None,
        };
        Some((out, len))
    }
}

#[cfg(test)]
mod tests {
    use super::testing::auth;

    #[test]
    fn every_method_signs_and_verifies() {
        for (method, len) in [("sha256 k", 16), ("sha1 k", 16), ("md5 k", 16), ("crc", 4)] {
            let a = auth(&format!("auth 3\n3 {method}\n"));
            let mut frame = b"hello".to_vec();
            a.sign(&mut frame);
            assert_eq!(frame.len(), 5 + len);
            let (data, tag) = frame.split_at(5);
            assert!(a.verify(3, data, tag), "{method}");
            assert!(!a.verify(3, b"hellp", tag), "{method}");
            assert!(!a.verify(4, data, tag), "{method}: unknown index");
        }
    }

    #[test]
    fn hmac_sha256_128_is_the_rfc_4231_vector_truncated() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?"
        let a = auth("auth 1\n1 sha256 Jefe\n");
        let mut out = b"what do ya want for nothing?".to_vec();
        a.sign(&mut out);
        let tag: String = out[28..].iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(tag, "5bdcc146bf60754e6a042426089575c7");
    }

    #[test]
    fn rotation_accepts_any_listed_key() {
        let old = auth("auth 1\n1 sha1 old\n");
        let both = auth("auth 2\n1 sha1 old\n2 sha256 new\n");
        let mut frame = b"x".to_vec();
        old.sign(&mut frame);
        assert!(both.verify(1, &frame[..1], &frame[1..]));
    }
}

/// For the wire's own tests: an authenticator from authkeys text in its
/// simplest form (`auth N`, then `index method [key]` lines). The config
/// layer owns the real parser; the wire sits below it.
#[cfg(test)]
pub(crate) mod testing {
    use super::{AuthMethod, Authenticator};

    pub(crate) fn auth(text: &str) -> Authenticator {
        let mut sign = 0;
        let mut keys = Vec::new();
        for line in text.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["auth", n] => sign = n.parse().expect("auth index"),
                [i, m, rest @ ..] => keys.push((
                    i.parse::<u8>().expect("index"),
                    AuthMethod::from_name(m).expect("method"),
                    rest.first().copied().unwrap_or("").as_bytes(),
                )),
                _ => panic!("not an authkeys line: {line}"),
            }
        }
        Authenticator::new(sign, &keys)
    }
}
