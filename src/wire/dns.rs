//! DNS messages: the RFC 2136 UPDATE that points a name at this node,
//! signed with TSIG (RFC 8945, hmac-sha256 or hmac-sha1 from a BIND key
//! file), the reading of its signed answer, and the bounded [`Reader`] the
//! director's DNS check shares. One message deletes the name's A (or AAAA)
//! RRset and adds the new record, so sending it twice changes nothing.
//!
//! The encoder and the bounded response reader are small and exact; the
//! HMACs are the same RustCrypto crates the native frames use.

use hmac::{Hmac, Mac};

/// Why a DNS message could not be made or its answer was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnsError {
    /// The key or the name given cannot be used.
    #[error("{0}")]
    Usage(String),
    /// The answer was malformed, unsigned, badly signed or a refusal.
    #[error("{0}")]
    Answer(String),
}

const TYPE_A: u16 = 1;
const TYPE_SOA: u16 = 6;
const TYPE_AAAA: u16 = 28;
const TYPE_TSIG: u16 = 250;
const CLASS_IN: u16 = 1;
const CLASS_ANY: u16 = 255;
const OPCODE_UPDATE: u16 = 5;
/// RFC 8945's recommended fudge.
const FUDGE: u16 = 300;

/// A TSIG key, as BIND's key files hold it.
#[derive(Clone, PartialEq, Eq)]
pub struct Key {
    pub name: String,
    pub algorithm: Algorithm,
    pub secret: Vec<u8>,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret.
        write!(f, "Key({} {:?})", self.name, self.algorithm)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    HmacSha256,
    HmacSha1,
}

impl Algorithm {
    fn name(self) -> &'static str {
        match self {
            Algorithm::HmacSha256 => "hmac-sha256",
            Algorithm::HmacSha1 => "hmac-sha1",
        }
    }

    fn mac(self, secret: &[u8], data: &[&[u8]]) -> Vec<u8> {
        fn run<M: Mac + hmac::digest::KeyInit>(secret: &[u8], data: &[&[u8]]) -> Vec<u8> {
            // HMAC takes keys of any length.
            let Ok(mut m) = <M as hmac::digest::KeyInit>::new_from_slice(secret) else {
                return Vec::new();
            };
            for d in data {
                m.update(d);
            }
            m.finalize().into_bytes().to_vec()
        }
        match self {
            Algorithm::HmacSha256 => run::<Hmac<sha2::Sha256>>(secret, data),
            Algorithm::HmacSha1 => run::<Hmac<sha1::Sha1>>(secret, data),
        }
    }
}

/// Reads a BIND key file: `key "NAME" { algorithm hmac-sha256; secret "BASE64"; };`
pub fn parse_key(text: &str, file: &str) -> Result<Key, DnsError> {
    let bad = |what: &str| DnsError::Usage(format!("{file}: {what}"));
    let after = |word: &str| -> Option<&str> {
        let i = text.find(word)?;
        Some(text[i + word.len()..].trim_start())
    };
    let quoted = |s: &str| -> Option<String> {
        let s = s.strip_prefix('"')?;
        Some(s[..s.find('"')?].to_string())
    };
    let name = after("key")
        .and_then(quoted)
        .ok_or_else(|| bad("no `key \"NAME\"` (expected a BIND key file)"))?;
    let algorithm = match after("algorithm").map(|s| {
        s.split(|c: char| c == ';' || c.is_whitespace())
            .next()
            .unwrap_or("")
    }) {
        Some("hmac-sha256") => Algorithm::HmacSha256,
        Some("hmac-sha1") => Algorithm::HmacSha1,
        Some(other) => {
            return Err(bad(&format!(
                "algorithm `{other}` is not supported; use hmac-sha256 (or hmac-sha1)"
            )))
        }
        None => return Err(bad("no `algorithm`")),
    };
    let secret = after("secret")
        .and_then(quoted)
        .ok_or_else(|| bad("no `secret \"BASE64\"`"))?;
    use base64::Engine;
    let secret = base64::engine::general_purpose::STANDARD
        .decode(secret.trim())
        .map_err(|_| bad("the secret is not base64"))?;
    Ok(Key {
        name: name.trim_end_matches('.').to_ascii_lowercase(),
        algorithm,
        secret,
    })
}

/// The zone a name is updated in when none is given: the name without
/// its first label (`www.example.org` → `example.org`).
pub fn zone_of(name: &str) -> Option<String> {
    name.trim_end_matches('.')
        .split_once('.')
        .map(|(_, z)| z.to_string())
}

/// A name in wire form (uncompressed, lowercase: canonical for TSIG).
pub fn name(out: &mut Vec<u8>, n: &str) -> Result<(), DnsError> {
    for label in n.trim_end_matches('.').split('.').filter(|l| !l.is_empty()) {
        if label.len() > 63 {
            return Err(DnsError::Usage(format!("`{n}`: a label is longer than 63")));
        }
        out.push(label.len() as u8);
        out.extend(label.to_ascii_lowercase().bytes());
    }
    out.push(0);
    Ok(())
}

fn u16be(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn u32be(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// What to put in DNS.
#[derive(Debug, Clone)]
pub struct Update {
    pub zone: String,
    pub name: String,
    pub address: Address,
    pub ttl: u32,
}

/// The record an update points the name at: A or AAAA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Address {
    V4([u8; 4]),
    V6([u8; 16]),
}

/// TSIG's signed variables after the message: name, class, TTL,
/// algorithm, time, fudge, error, other data.
fn tsig_variables(key: &Key, time: u64, error: u16) -> Result<Vec<u8>, DnsError> {
    let mut v = Vec::new();
    name(&mut v, &key.name)?;
    u16be(&mut v, CLASS_ANY);
    u32be(&mut v, 0);
    name(&mut v, key.algorithm.name())?;
    v.extend_from_slice(&time.to_be_bytes()[2..]);
    u16be(&mut v, FUDGE);
    u16be(&mut v, error);
    u16be(&mut v, 0);
    Ok(v)
}

/// The signed UPDATE message and its MAC (needed to verify the answer).
pub fn encode(u: &Update, key: &Key, id: u16, time: u64) -> Result<(Vec<u8>, Vec<u8>), DnsError> {
    let rtype = match u.address {
        Address::V4(_) => TYPE_A,
        Address::V6(_) => TYPE_AAAA,
    };
    let mut m = Vec::with_capacity(256);
    u16be(&mut m, id);
    u16be(&mut m, OPCODE_UPDATE << 11);
    u16be(&mut m, 1); // zone
    u16be(&mut m, 0); // prerequisites
    u16be(&mut m, 2); // updates: delete the RRset, add the record
    u16be(&mut m, 0); // additional (TSIG counted below)
    name(&mut m, &u.zone)?;
    u16be(&mut m, TYPE_SOA);
    u16be(&mut m, CLASS_IN);
    name(&mut m, &u.name)?;
    u16be(&mut m, rtype);
    u16be(&mut m, CLASS_ANY);
    u32be(&mut m, 0);
    u16be(&mut m, 0);
    name(&mut m, &u.name)?;
    u16be(&mut m, rtype);
    u16be(&mut m, CLASS_IN);
    u32be(&mut m, u.ttl);
    match u.address {
        Address::V4(ip) => {
            u16be(&mut m, 4);
            m.extend_from_slice(&ip);
        }
        Address::V6(ip) => {
            u16be(&mut m, 16);
            m.extend_from_slice(&ip);
        }
    }
    let vars = tsig_variables(key, time, 0)?;
    let mac = key.algorithm.mac(&key.secret, &[&m, &vars]);
    // The TSIG record.
    name(&mut m, &key.name)?;
    u16be(&mut m, TYPE_TSIG);
    u16be(&mut m, CLASS_ANY);
    u32be(&mut m, 0);
    let mut rdata = Vec::new();
    name(&mut rdata, key.algorithm.name())?;
    rdata.extend_from_slice(&time.to_be_bytes()[2..]);
    u16be(&mut rdata, FUDGE);
    u16be(&mut rdata, mac.len() as u16);
    rdata.extend_from_slice(&mac);
    u16be(&mut rdata, id);
    u16be(&mut rdata, 0);
    u16be(&mut rdata, 0);
    u16be(&mut m, rdata.len() as u16);
    m.extend_from_slice(&rdata);
    m[10..12].copy_from_slice(&1u16.to_be_bytes());
    Ok((m, mac))
}

/// A bounded reader over a DNS message (shared with the director's DNS
/// check).
pub struct Reader<'a> {
    pub b: &'a [u8],
    pub at: usize,
}

impl Reader<'_> {
    pub fn take(&mut self, n: usize) -> Option<&[u8]> {
        let s = self.b.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }
    pub fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|s| u16::from_be_bytes([s[0], s[1]]))
    }
    /// Reads a name in presentation form (lowercase, no final dot),
    /// following compression pointers; at most 128 labels and pointers.
    pub fn read_name(&mut self) -> Option<String> {
        let mut labels: Vec<String> = Vec::new();
        let mut at = self.at;
        let mut resume = None;
        for _ in 0..128 {
            let len = *self.b.get(at)?;
            match len {
                0 => {
                    self.at = resume.unwrap_or(at + 1);
                    return Some(labels.join("."));
                }
                l if l & 0xc0 == 0xc0 => {
                    let lo = *self.b.get(at + 1)?;
                    resume.get_or_insert(at + 2);
                    at = (usize::from(l & 0x3f) << 8) | usize::from(lo);
                }
                l => {
                    let label = self.b.get(at + 1..at + 1 + usize::from(l))?;
                    labels.push(String::from_utf8_lossy(label).to_ascii_lowercase());
                    at += 1 + usize::from(l);
                }
            }
        }
        None
    }
    /// Skips a name (labels or a compression pointer), bounded.
    pub fn skip_name(&mut self) -> Option<()> {
        for _ in 0..128 {
            let len = *self.take(1)?.first()?;
            match len {
                0 => return Some(()),
                l if l & 0xc0 == 0xc0 => {
                    self.take(1)?;
                    return Some(());
                }
                l => {
                    self.take(usize::from(l))?;
                }
            }
        }
        None
    }
}

/// Response codes worth a word.
pub fn rcode_name(rcode: u16) -> &'static str {
    match rcode {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        9 => "NOTAUTH (wrong key, or the server is not authoritative for the zone)",
        10 => "NOTZONE (the name is not in the zone)",
        16 => "BADSIG",
        17 => "BADKEY",
        18 => "BADTIME (clocks differ by more than 300 s)",
        _ => "an error",
    }
}

/// Checks the answer to message `id`: its code, and its TSIG signature
/// over (request MAC, answer without TSIG, variables).
pub fn check_response(resp: &[u8], id: u16, key: &Key, request_mac: &[u8]) -> Result<(), DnsError> {
    let bad = |why: &str| DnsError::Answer(format!("malformed answer: {why}"));
    let mut r = Reader { b: resp, at: 0 };
    let rid = r.u16().ok_or_else(|| bad("short"))?;
    let flags = r.u16().ok_or_else(|| bad("short"))?;
    let counts = [
        r.u16().ok_or_else(|| bad("short"))?,
        r.u16().ok_or_else(|| bad("short"))?,
        r.u16().ok_or_else(|| bad("short"))?,
    ];
    let arcount = r.u16().ok_or_else(|| bad("short"))?;
    if rid != id || flags & 0x8000 == 0 {
        return Err(bad("not the answer to this update"));
    }
    let rcode = flags & 0xf;
    for _ in 0..counts[0] {
        r.skip_name().ok_or_else(|| bad("zone"))?;
        r.take(4).ok_or_else(|| bad("zone"))?;
    }
    for _ in 0..(u32::from(counts[1]) + u32::from(counts[2]) + u32::from(arcount.saturating_sub(1)))
    {
        r.skip_name().ok_or_else(|| bad("record"))?;
        r.take(8).ok_or_else(|| bad("record"))?;
        let len = r.u16().ok_or_else(|| bad("record"))?;
        r.take(usize::from(len)).ok_or_else(|| bad("record"))?;
    }
    if arcount == 0 {
        return Err(DnsError::Answer(format!(
            "the server answered {} unsigned",
            rcode_name(rcode)
        )));
    }
    let tsig_at = r.at;
    r.skip_name().ok_or_else(|| bad("tsig"))?;
    let rtype = r.u16().ok_or_else(|| bad("tsig"))?;
    r.take(6).ok_or_else(|| bad("tsig"))?;
    let _rdlen = r.u16().ok_or_else(|| bad("tsig"))?;
    if rtype != TYPE_TSIG {
        return Err(bad("last record is not TSIG"));
    }
    r.skip_name().ok_or_else(|| bad("tsig algorithm"))?;
    let time = r.take(6).ok_or_else(|| bad("tsig"))?;
    let time = time.iter().fold(0u64, |t, &b| t << 8 | u64::from(b));
    r.u16().ok_or_else(|| bad("tsig"))?; // fudge
    let mac_len = r.u16().ok_or_else(|| bad("tsig"))?;
    let mac = r
        .take(usize::from(mac_len))
        .ok_or_else(|| bad("tsig"))?
        .to_vec();
    r.u16().ok_or_else(|| bad("tsig"))?; // original id
    let error = r.u16().ok_or_else(|| bad("tsig"))?;
    if error != 0 {
        return Err(DnsError::Answer(format!(
            "the server refused the signature: {}",
            rcode_name(error)
        )));
    }
    // The answer as signed: without its TSIG record, ARCOUNT one less.
    let mut unsigned = resp[..tsig_at].to_vec();
    unsigned[10..12].copy_from_slice(&(arcount - 1).to_be_bytes());
    let vars = tsig_variables(key, time, 0)?;
    let len = (request_mac.len() as u16).to_be_bytes();
    let expected = key
        .algorithm
        .mac(&key.secret, &[&len, request_mac, &unsigned, &vars]);
    use subtle::ConstantTimeEq;
    if expected.len() != mac.len() || expected.ct_eq(&mac).unwrap_u8() == 0 {
        return Err(DnsError::Answer(
            "the answer's signature does not verify".to_string(),
        ));
    }
    if rcode != 0 {
        return Err(DnsError::Answer(format!(
            "the server answered {}",
            rcode_name(rcode)
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_bind_key_file() {
        let k = parse_key(
            "key \"ddns-key\" {\n\talgorithm hmac-sha256;\n\tsecret \"c2VjcmV0LXNlY3JldA==\";\n};\n",
            "k",
        )
        .expect("key");
        assert_eq!(k.name, "ddns-key");
        assert_eq!(k.algorithm, Algorithm::HmacSha256);
        assert_eq!(k.secret, b"secret-secret");
        assert!(parse_key("key \"x\" { algorithm hmac-md5; secret \"AA==\"; };", "k").is_err());
    }

    #[test]
    fn the_update_carries_delete_add_and_a_tsig_record() {
        let k = Key {
            name: "k".into(),
            algorithm: Algorithm::HmacSha256,
            secret: b"s".to_vec(),
        };
        let u = Update {
            zone: "tandem.test".into(),
            name: "www.tandem.test".into(),
            address: Address::V4([192, 0, 2, 10]),
            ttl: 60,
        };
        let (m, mac) = encode(&u, &k, 7, 1_700_000_000).expect("encode");
        assert_eq!(&m[0..2], &[0, 7]);
        assert_eq!(m[2] >> 3, 5, "opcode UPDATE");
        assert_eq!(&m[8..10], &[0, 2], "two updates");
        assert_eq!(&m[10..12], &[0, 1], "one TSIG");
        assert_eq!(mac.len(), 32);
        assert!(m.ends_with(&[0, 7, 0, 0, 0, 0]));
        // A truncated or foreign answer is an error, never a panic.
        for n in 0..m.len() {
            assert!(check_response(&m[..n], 7, &k, &mac).is_err());
        }
    }
}
