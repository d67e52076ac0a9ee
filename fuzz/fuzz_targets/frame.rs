//! Arbitrary bytes as a received datagram: the frame decoder (and the
//! Heartbeat sniffer) must return a frame or a drop reason, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use tandem::config::authkeys;
use tandem::wire::{sniff, Authenticator, Frame};

fn auths() -> &'static [Authenticator] {
    static AUTHS: OnceLock<Vec<Authenticator>> = OnceLock::new();
    AUTHS.get_or_init(|| {
        ["auth 1\n1 sha256 k\n", "auth 2\n2 crc\n", "auth 3\n3 md5 k\n4 sha1 j\n"]
            .iter()
            .map(|t| Authenticator::new(&authkeys::parse("a", t.as_bytes()).0.unwrap()))
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    for auth in auths() {
        let cluster = data.get(4..6).map(|c| u16::from_be_bytes([c[0], c[1]])).unwrap_or(0);
        if let Ok(frame) = Frame::decode(data, cluster, auth) {
            // Whatever decodes must encode again to the same frame.
            let mut out = Vec::new();
            frame.encode(64, auth, &mut out);
            let again = Frame::decode(&out, cluster, auth).expect("re-encoded frame decodes");
            assert_eq!(again.status, frame.status);
        }
    }
    let _ = sniff::heartbeat_source(data);
});
