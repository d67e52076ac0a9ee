//! A Heartbeat partner gone wrong: the compatibility core is fed
//! authentic Heartbeat messages built from the input (any type, words,
//! numbers, generations, order), operator commands and resource results,
//! in virtual time. It must never panic, and never ask to be woken in the
//! past (which would spin the daemon's loop).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tandem::config::{authkeys, hacf::AutoFailback};
use tandem::time::{Instant, Time};
use tandem::core::compat::Compat;
use tandem::core::{Command, GroupParams, LinkParams, Outcome, Params, Which};
use tandem::wire::heartbeat::{encode_netstring, Message};
use tandem::wire::Authenticator;

const TYPES: [&str; 16] = [
    "status",
    "starting",
    "resource",
    "ask_resources",
    "hb_takeover",
    "shutdone",
    "ip-request",
    "ip-request-resp",
    "NS_rexmit",
    "NS_ackmsg",
    "reqnodes",
    "stonith",
    "repnodes",
    "NS_nak_rexmit",
    "crmd",
    "ifstat",
];
const WORDS: [&str; 6] = ["none", "local", "foreign", "all", "bogus", ""];
const INFOS: [&str; 7] = [
    "me",
    "other",
    "done",
    "shutdown",
    "standby",
    "mach_down",
    "x",
];
const STATES: [&str; 5] = ["init", "up", "active", "dead", "ping"];

fuzz_target!(|data: &[u8]| {
    let auth = Authenticator::from(&authkeys::parse("a", b"auth 1\n1 crc\n").0.unwrap());
    let failback = match data.first().map(|b| b % 3) {
        Some(0) => AutoFailback::On,
        Some(1) => AutoFailback::Off,
        _ => AutoFailback::Legacy,
    };
    let params = Params {
        cluster: 0,
        nodes: vec!["alpha".into(), "beta".into()],
        local: 1,
        links: vec![
            LinkParams {
                name: "u".into(),
                reaches: vec![0, 1],
            },
            LinkParams {
                name: "s".into(),
                reaches: vec![0, 1],
            },
        ],
        groups: vec![
            GroupParams {
                key: "g0".into(),
                preferred: 0,
            },
            GroupParams {
                key: "g1".into(),
                preferred: 1,
            },
        ],
        keepalive: Time::from_millis(200),
        warntime: Time::from_millis(500),
        deadtime: Time::from_secs(1),
        initdead: Time::from_secs(2),
        auto_failback: failback,
        ping: false,
        fencing: false,
        stop_retries: 2,
        stop_retry_interval: Time::from_millis(100),
        log_badpack: true,
        migration_threshold: 2,
        failure_timeout: tandem::time::Time::from_secs(600),
        on_stop_failure: tandem::config::hacf::StopFailure::Block,
    };
    let mut c = Compat::new(
        params,
        auth.clone(),
        [7; 16],
        5,
        1_800_000_000,
        Instant(0),
        0,
    )
    .unwrap();
    let mut now = 0u64;
    for chunk in data.get(1..).unwrap_or(&[]).chunks(6) {
        let [op, a, b, d, e, f] = match chunk {
            [op, a, b, d, e, f] => [*op, *a, *b, *d, *e, *f],
            _ => break,
        };
        now += u64::from(op >> 4) * 50_000;
        match op & 0x0f {
            0..=9 => {
                let mut m = Message::new();
                m.add("t", TYPES[usize::from(a) % TYPES.len()]);
                m.add("rsc_hold", WORDS[usize::from(b) % WORDS.len()]);
                m.add("info", INFOS[usize::from(b >> 4) % INFOS.len()]);
                m.add("isstable", if d & 1 == 0 { "0" } else { "1" });
                m.add("st", STATES[usize::from(d >> 1) % STATES.len()]);
                m.add("dt", format!("{:x}", u32::from(e) * 40));
                m.add("ipaddr", if e & 1 == 0 { "g0" } else { "g1" });
                m.add("firstseq", u64::from(e).to_string());
                m.add("lastseq", (u64::from(e) + u64::from(f)).to_string());
                if d & 0x80 != 0 {
                    m.add("dest", if d & 0x40 != 0 { "beta" } else { "alpha" });
                }
                m.add("src", if f == 0xff { "gamma" } else { "alpha" });
                m.add(
                    "seq",
                    format!("{:x}", u64::from(f) + u64::from(e >> 4) * 200),
                );
                m.add("hg", format!("{:x}", 100 + u64::from(d >> 6)));
                if let Ok(bytes) = encode_netstring(&m, &auth) {
                    c.handle_frame(Instant(now), usize::from(a & 1), &bytes);
                }
            }
            10 => c.handle_command(Instant(now), Command::Standby(Which::All)),
            11 => c.handle_command(Instant(now), Command::Takeover(Which::Local)),
            12 => c.handle_command(Instant(now), Command::Shutdown),
            13 => {
                let outcome = [Outcome::Ok, Outcome::Failed, Outcome::TimedOut][usize::from(a) % 3];
                c.handle_resource(Instant(now), usize::from(b & 1), outcome);
            }
            _ => {
                c.handle_timeout(Instant(now));
                assert!(
                    c.poll_timeout() > Instant(now),
                    "woken in the past at {now}: {c:#?}"
                );
            }
        }
        while c.poll_transmit().is_some() {}
        while c.poll_action().is_some() {}
        while c.poll_event().is_some() {}
    }
});
