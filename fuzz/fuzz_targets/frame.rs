//! Arbitrary bytes as a received datagram: the frame decoder (and the
//! Heartbeat sniffer) must return a frame or a drop reason, never panic.
//! Each input is also signed as it stands, so that the body parser behind
//! the authentication check is fuzzed too, not only the tag check.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use tandem::config::authkeys;
use tandem::wire::{sniff, Authenticator, Frame};

fn auths() -> &'static [Authenticator] {
    static AUTHS: OnceLock<Vec<Authenticator>> = OnceLock::new();
    AUTHS.get_or_init(|| {
        [
            "auth 1\n1 sha256 k\n",
            "auth 2\n2 crc\n",
            "auth 3\n3 md5 k\n4 sha1 j\n",
        ]
        .iter()
        .map(|t| Authenticator::from(&authkeys::parse("a", t.as_bytes()).0.unwrap()))
        .collect()
    })
}

fn check(bytes: &[u8], auth: &Authenticator) {
    let cluster = bytes
        .get(4..6)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .unwrap_or(0);
    if let Ok(frame) = Frame::decode(bytes, cluster, auth) {
        // Whatever decodes encodes again to a frame with the same content.
        let mut out = Vec::new();
        frame.encode(64, auth, &mut out);
        let again = Frame::decode(&out, cluster, auth).expect("re-encoded frame decodes");
        assert_eq!(again.status, frame.status);
        assert_eq!(again.claim, frame.claim);
    }
}

fuzz_target!(|data: &[u8]| {
    for auth in auths() {
        check(data, auth);
        // The same bytes with a valid tag, the key index set to the
        // signing key's and the body length made to match.
        if data.len() >= 16 {
            let mut signed = data[..data.len().min(16 + 255)].to_vec();
            signed[3] = auth.signing_index();
            signed[7] = (signed.len() - 16) as u8;
            auth.sign(&mut signed);
            check(&signed, auth);
        }
    }
    let _ = sniff::heartbeat_source(data);
});
