//! Arbitrary bytes as an ldirectord.cf (the reader must return a
//! configuration or findings, never panic, and a configuration it accepts
//! must plan without panicking) and as a netlink reply from the kernel's
//! IPVS (every parser must return a value or an error).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tandem::config::ldirectord;
use tandem::director::{ipvs, table};

fuzz_target!(|data: &[u8]| {
    if let (Some(d), _) = ldirectord::parse("fuzz.cf", data) {
        let all = table::desired(&d, &|_, _| true);
        let some = table::desired(&d, &|v, r| (v + r) % 2 == 0);
        let _ = table::plan(&all, &some);
        assert!(table::plan(&all, &all).is_empty());
    }
    if let Ok(messages) = ipvs::messages(data) {
        for m in &messages {
            let _ = ipvs::parse_service(m);
            let _ = ipvs::parse_dest(m, 2);
            let _ = ipvs::parse_dest(m, 10);
            let _ = ipvs::parse_family(m);
            let _ = ipvs::error_code(m);
        }
    }
});
