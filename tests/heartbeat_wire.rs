//! tandem's Heartbeat codec against packets Heartbeat 3.0.6 itself sent
//! (Debian's heartbeat 1:3.0.6-13, ucast and serial, authkeys
//! `1 sha1|md5 interop-secret` and `1 crc`), kept in tests/fixtures:
//! each decodes and authenticates, and encoding the decoded message again
//! gives Heartbeat's bytes exactly.

use tandem::config::authkeys;
use tandem::wire::heartbeat::{decode, encode_netstring, encode_text, DecodeError, Form};
use tandem::wire::Authenticator;

fn auth(text: &str) -> Authenticator {
    let (keys, d) = authkeys::parse("authkeys", text.as_bytes());
    assert!(!d.has_errors(), "{d:?}");
    Authenticator::from(&keys.expect("keys"))
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/heartbeat/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn heartbeats_own_udp_packets_decode_and_encode_back_byte_for_byte() {
    for (file, keys) in [
        ("udp-sha1.bin", "auth 1\n1 sha1 interop-secret\n"),
        ("udp-md5.bin", "auth 1\n1 md5 interop-secret\n"),
        ("udp-crc.bin", "auth 1\n1 crc\n"),
    ] {
        let a = auth(keys);
        let bytes = fixture(file);
        let (msg, form) = decode(&bytes, &a).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(form, Form::Netstring);
        assert_eq!(msg.str("t"), Some("status"), "{file}");
        assert_eq!(msg.str("st"), Some("init"), "{file}");
        assert_eq!(msg.str("src"), Some("hbnode"), "{file}");
        assert_eq!(msg.hex("seq"), Some(1), "{file}");
        assert_eq!(msg.hex("dt"), Some(7000), "{file}");
        assert_eq!(msg.binary("srcuuid").map(<[u8]>::len), Some(16), "{file}");
        assert_eq!(
            encode_netstring(&msg, &a).as_deref(),
            Ok(&bytes[..]),
            "{file}"
        );
        assert_eq!(
            tandem::wire::sniff::heartbeat_source(&bytes).as_deref(),
            Some("hbnode")
        );
    }
}

#[test]
fn heartbeats_own_serial_message_decodes_and_encodes_back() {
    let a = auth("auth 1\n1 sha1 interop-secret\n");
    let bytes = fixture("serial-sha1.txt");
    let (msg, form) = decode(&bytes, &a).expect("decode");
    assert_eq!(form, Form::Text);
    assert_eq!(msg.str("src"), Some("hbnode"));
    assert_eq!(msg.hex("seq"), Some(12));
    assert_eq!(msg.binary("srcuuid").map(<[u8]>::len), Some(16));
    assert_eq!(encode_text(&msg, &a).as_deref(), Ok(&bytes[..]));
}

#[test]
fn the_wrong_key_fails_heartbeats_packets() {
    let a = auth("auth 1\n1 sha1 another-secret\n");
    assert_eq!(
        decode(&fixture("udp-sha1.bin"), &a).map(|_| ()),
        Err(DecodeError::BadAuth(1))
    );
    assert_eq!(
        decode(&fixture("serial-sha1.txt"), &a).map(|_| ()),
        Err(DecodeError::BadAuth(1))
    );
}
