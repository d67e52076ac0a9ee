//! Arbitrary bytes as an ldirectord.cf (the reader must return a
//! configuration or findings, never panic, and a configuration it accepts
//! must plan without panicking) and as a netlink reply from the kernel's
//! IPVS (every parser must return a value or an error), and as what a
//! real server answers a check: the LDAP, DNS, HTTP and line-protocol
//! conversations must give a verdict or wait, never panic, whatever the
//! split of the bytes. A hostile DNS server's answer to a DynDNS update
//! and a hostile ICMP reply are read the same way.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tandem::config::ldirectord;
use tandem::config::ldirectord::Service;
use tandem::director::{dialogue, dns, http, ipvs, ldap, table};
use tandem::wire::{dns as dns_update, icmp};

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
            let _ = ipvs::parse_daemon(m);
        }
    }
    // Answers from a hostile real server, whole and in two pieces.
    let cut = data.first().map_or(0, |b| usize::from(*b)).min(data.len());
    let re = regex::Regex::new("o: Example|192").ok();
    let mut l = ldap::Ldap::new(Some("dc=example,dc=org".into()), re.clone());
    let _ = l.on_data(&data[..cut]);
    let _ = l.on_data(&data[cut..]);
    let _ = l.on_close();
    for qtype in [1, 12, 28] {
        let _ = dns::judge(data, u16::from_be_bytes([0, cut as u8]), qtype, re.as_ref());
    }
    let _ = http::judge(data, re.as_ref());
    let key = dns_update::Key {
        name: "k".into(),
        algorithm: dns_update::Algorithm::HmacSha256,
        secret: b"s".to_vec(),
    };
    let _ = dns_update::check_response(data, u16::from_be_bytes([0, cut as u8]), &key, &[0; 32]);
    if let Some((_, message)) = icmp::strip_ipv4(data) {
        let _ = icmp::answer(icmp::Family::V4, message);
    }
    let _ = icmp::answer(icmp::Family::V6, data);
    for service in [Service::Smtp, Service::Ftp, Service::Pop, Service::Imap, Service::Nntp] {
        if let Some(steps) = dialogue::script(service, Some(("user", "pass"))) {
            let mut d = dialogue::Dialogue::new(steps);
            let _ = d.on_data(&data[..cut]);
            let _ = d.on_data(&data[cut..]);
            let _ = d.on_close();
        }
    }
});
