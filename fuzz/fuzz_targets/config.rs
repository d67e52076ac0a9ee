//! Arbitrary bytes as each file tandem reads from /etc/ha.d: ha.cf,
//! haresources and authkeys. Each reader must return settings or
//! findings, never panic; ha.cf settings it accepts must write back as
//! text that reads to the same settings.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tandem::config::{authkeys, hacf, haresources};

fuzz_target!(|data: &[u8]| {
    if let (Some(h), _) = hacf::parse("ha.cf", data) {
        let text = h.to_text();
        match hacf::parse("ha.cf", text.as_bytes()) {
            (Some(again), _) => assert_eq!(again.to_text(), text),
            (None, d) => panic!("the normal form does not read back: {d:?}\n{text}"),
        }
    }
    let nodes = ["alpha".to_string(), "beta".to_string()];
    let _ = haresources::parse("haresources", data, Some(&nodes));
    let _ = haresources::parse("haresources", data, None);
    if let (Some(k), _) = authkeys::parse("authkeys", data) {
        let _ = authkeys::parse("authkeys", k.to_text().as_bytes());
    }
});
