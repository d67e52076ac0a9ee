//! tandem's Heartbeat codec against a live Heartbeat 3.0.6 node (Debian's
//! package, in its own namespaces): the messages tandem writes are
//! accepted (Heartbeat's cl_status reports the tandem node), Heartbeat's
//! are read and authenticated, and a wrong key is refused on both sides.
//! Needs root and the heartbeat package; skips with the reason otherwise.

mod common;

use common::heartbeat::{cannot_run, in_netns, HeartbeatNode};
use common::{wait_for, Segment};
use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tandem::config::authkeys;
use tandem::wire::heartbeat::{decode, encode_netstring, Message};
use tandem::wire::Authenticator;

const KEYS: &str = "auth 1\n1 sha1 mixed-pair-secret\n";

fn hacf() -> String {
    "keepalive 200ms\nwarntime 1\ndeadtime 2\ninitdead 4\nudpport 694\n\
     ucast eth0 192.0.2.2\nauto_failback on\nnode alpha\nnode beta\n"
        .to_string()
}

fn authenticator(text: &str) -> Authenticator {
    let (keys, d) = authkeys::parse("authkeys", text.as_bytes());
    assert!(!d.has_errors(), "{d:?}");
    Authenticator::from(&keys.expect("keys"))
}

/// What the tandem side saw while it spoke for node beta.
#[derive(Debug, Default)]
struct Heard {
    authentic: Vec<Message>,
    refused: usize,
}

/// Speaks for node `beta` from namespace `netns` until `stop`: a status
/// message every 200 ms, signed with `keys`; reads what comes back.
fn speak_as_beta(
    netns: &str,
    keys: &'static str,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<Heard> {
    let netns = netns.to_string();
    std::thread::spawn(move || {
        in_netns(&netns, move || {
            let auth = authenticator(keys);
            let socket = UdpSocket::bind("0.0.0.0:694").expect("bind 694");
            socket
                .set_read_timeout(Some(Duration::from_millis(50)))
                .expect("timeout");
            let uuid: [u8; 16] = *b"tandem-beta-uuid";
            let generation = 0x6b00_0001u64;
            let mut seq = 1u64;
            let mut heard = Heard::default();
            let mut next = Instant::now();
            let mut buf = vec![0u8; 65536];
            while !stop.load(Ordering::Relaxed) {
                if Instant::now() >= next {
                    let mut m = Message::new();
                    m.add("t", "status")
                        .add("st", "active")
                        .add("dt", format!("{:x}", 2000))
                        .add("protocol", "1")
                        .add("src", "beta")
                        .add_binary("srcuuid", &uuid)
                        .add("seq", format!("{seq:x}"))
                        .add("hg", format!("{generation:x}"))
                        .add("ts", format!("{:x}", common::vip::now() as u64))
                        .add("ld", "0.00 0.00 0.00 1/1 1")
                        .add("ttl", "3");
                    let bytes = encode_netstring(&m, &auth).expect("encode");
                    let _ = socket.send_to(&bytes, "192.0.2.1:694");
                    seq += 1;
                    next += Duration::from_millis(200);
                }
                if let Ok((n, _)) = socket.recv_from(&mut buf) {
                    match decode(&buf[..n], &auth) {
                        Ok((m, _)) => heard.authentic.push(m),
                        Err(_) => heard.refused += 1,
                    }
                }
            }
            heard
        })
    })
}

#[test]
fn a_real_heartbeat_accepts_tandems_messages_and_tandem_reads_its() {
    if cannot_run("a_real_heartbeat_accepts_tandems_messages_and_tandem_reads_its") {
        return;
    }
    let seg = Segment::new("hbcodec", 2);
    let hb = HeartbeatNode::start(&seg.ns(0), "alpha", &hacf(), KEYS, "");
    let stop = Arc::new(AtomicBool::new(false));
    let speaker = speak_as_beta(&seg.ns(1), KEYS, stop.clone());
    // Heartbeat's API (cl_status) opens only once the resource
    // negotiation is over, which this codec-level peer does not do: its
    // log says what it made of beta.
    let active = wait_for(Duration::from_secs(20), || {
        let log = hb.log();
        log.contains("Link beta:eth0 up")
            && log.contains("Status update for node beta: status active")
    });
    std::thread::sleep(Duration::from_secs(1));
    stop.store(true, Ordering::Relaxed);
    let heard = speaker.join().expect("speaker");
    let kinds: std::collections::BTreeSet<&str> =
        heard.authentic.iter().filter_map(|m| m.str("t")).collect();
    eprintln!("message types from Heartbeat: {kinds:?}");
    assert!(active, "Heartbeat never saw beta active:\n{}", hb.log());
    let statuses: Vec<&Message> = heard
        .authentic
        .iter()
        .filter(|m| m.str("t") == Some("status") && m.str("src") == Some("alpha"))
        .collect();
    assert!(
        statuses.len() >= 3,
        "authentic status messages from alpha: {}, refused: {}\n{}",
        statuses.len(),
        heard.refused,
        hb.log()
    );
    // Heartbeat's dead time for itself travels with its status (while it
    // starts, its initdead: 4 s here; then its deadtime, 2 s).
    let dts: std::collections::BTreeSet<u64> =
        statuses.iter().filter_map(|m| m.hex("dt")).collect();
    assert!(
        !dts.is_empty() && dts.iter().all(|d| [2000, 4000].contains(d)),
        "dt values: {dts:?}"
    );
    assert_eq!(heard.refused, 0);
    assert!(!hb.log().contains("authentication failed"), "{}", hb.log());
}

#[test]
fn a_wrong_key_is_refused_by_both_sides() {
    if cannot_run("a_wrong_key_is_refused_by_both_sides") {
        return;
    }
    let seg = Segment::new("hbkey", 2);
    let hb = HeartbeatNode::start(&seg.ns(0), "alpha", &hacf(), KEYS, "");
    let stop = Arc::new(AtomicBool::new(false));
    let speaker = speak_as_beta(&seg.ns(1), "auth 1\n1 sha1 not-the-secret\n", stop.clone());
    let logged = wait_for(Duration::from_secs(20), || {
        hb.log().contains("authentication failed")
    });
    std::thread::sleep(Duration::from_secs(1));
    stop.store(true, Ordering::Relaxed);
    let heard = speaker.join().expect("speaker");
    assert!(
        logged,
        "Heartbeat did not log the bad packets:\n{}",
        hb.log()
    );
    assert!(!hb.log().contains("Link beta:eth0 up"), "{}", hb.log());
    assert!(heard.authentic.is_empty(), "{:?}", heard.authentic);
    assert!(heard.refused >= 3, "refused: {}", heard.refused);
}
