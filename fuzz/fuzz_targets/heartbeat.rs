//! Arbitrary bytes as a Heartbeat message from the wire (UDP datagram or
//! serial stream): the codec must return a message or an error, never
//! panic, within its size, field and depth bounds. Each input is also
//! given a valid netstring trailer, so that what lies behind the
//! authentication check is fuzzed too; whatever decodes must encode and
//! decode to the same message. Serial input goes through the deframer
//! the daemon uses.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use tandem::config::authkeys;
use tandem::wire::heartbeat::{decode, encode_netstring, encode_text};
use tandem::wire::serial::{Deframed, Deframer};
use tandem::wire::Authenticator;

fn crc() -> &'static Authenticator {
    static AUTH: OnceLock<Authenticator> = OnceLock::new();
    AUTH.get_or_init(|| Authenticator::from(&authkeys::parse("a", b"auth 1\n1 crc\n").0.unwrap()))
}

fn round_trip(bytes: &[u8]) {
    let auth = crc();
    if let Ok((msg, _)) = decode(bytes, auth) {
        if let Ok(again) = encode_netstring(&msg, auth) {
            assert_eq!(
                decode(&again, auth).expect("re-encoded message decodes").0,
                msg
            );
        }
        if let Ok(again) = encode_text(&msg, auth) {
            assert_eq!(
                decode(&again, auth).expect("re-encoded text decodes").0,
                msg
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    round_trip(data);
    let mut signed = data.to_vec();
    let digest = crc().heartbeat_digest(1, data).unwrap();
    let trailer = format!("1 {digest}");
    signed.extend_from_slice(format!("{}:{trailer},", trailer.len()).as_bytes());
    round_trip(&signed);
    // As on a serial line: the text messages the deframer cuts out.
    let mut deframer = Deframer::new();
    for chunk in data.chunks(61) {
        deframer.push(chunk);
        while let Some(item) = deframer.next_item() {
            if let Deframed::Heartbeat(_, message) = item {
                round_trip(message);
            }
        }
    }
});
