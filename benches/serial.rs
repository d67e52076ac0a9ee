//! Keepalives on a serial line: bytes each, and the shortest keepalive
//! interval a 9600 and a 19200 baud null-modem cable carry (8N1: ten bits
//! a byte), for tandem's native frames (COBS-framed, as on the wire), for
//! tandem speaking Heartbeat's protocol, and for a real Heartbeat 3.0.6
//! writing on a pty (its status messages read off the other end).
//!
//!     cargo bench --bench serial
//!
//! The Heartbeat row needs root (namespaces) and Debian's heartbeat;
//! without them it says why and the others are still measured.

#[path = "../tests/common/mod.rs"]
mod common;

use std::io::Read;
use std::time::{Duration, Instant};
use tandem::config::{authkeys, hacf::AutoFailback};
use tandem::core::compat::Compat;
use tandem::core::{GroupParams, LinkParams, Node, Params};
use tandem::time::{Instant as CoreInstant, Time};
use tandem::wire::Authenticator;

fn params() -> Params {
    Params {
        cluster: tandem::wire::frame::cluster_id("bench"),
        nodes: vec!["alpha".into(), "beta".into()],
        local: 1,
        links: vec![LinkParams {
            name: "serial /dev/ttyS0".into(),
            reaches: vec![0, 1],
        }],
        groups: vec![
            GroupParams {
                key: "IPaddr2::192.0.2.100/24/eth0".into(),
                preferred: 0,
            },
            GroupParams {
                key: "IPaddr2::192.0.2.101/24/eth0".into(),
                preferred: 1,
            },
        ],
        keepalive: Time::from_secs(1),
        warntime: Time::from_secs(5),
        deadtime: Time::from_secs(10),
        initdead: Time::from_secs(30),
        auto_failback: AutoFailback::On,
        ping: false,
        fencing: false,
        stop_retries: 10,
        stop_retry_interval: Time::from_secs(1),
        log_badpack: true,
        migration_threshold: 2,
        failure_timeout: tandem::time::Time::from_secs(600),
        on_stop_failure: tandem::config::hacf::StopFailure::Block,
    }
}

fn auth(text: &str) -> Authenticator {
    Authenticator::from(
        &authkeys::parse("authkeys", text.as_bytes())
            .0
            .expect("keys"),
    )
}

fn row(what: &str, bytes: f64) {
    // A keepalive must be on the wire before the next one is due.
    let at = |baud: f64| bytes * 10.0 / baud * 1000.0;
    println!(
        "{what:<44} {bytes:>6.1} B   9600: every {:>6.1} ms   19200: every {:>6.1} ms",
        at(9600.0),
        at(19200.0)
    );
}

/// A real Heartbeat node writing on a pty: the mean size of its status
/// messages and its bytes per second.
fn heartbeat_on_a_pty() -> Result<(f64, f64), String> {
    if !common::is_root() {
        return Err("needs root (namespaces)".into());
    }
    if !std::path::Path::new(common::heartbeat::HEARTBEAT).exists() {
        return Err("needs Debian's heartbeat (tests/setup installs it)".into());
    }
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (a, b) = (dir.path().join("ttyA"), dir.path().join("ttyB"));
    let mut cable = std::process::Command::new("socat")
        .arg(format!("pty,raw,echo=0,link={}", a.display()))
        .arg(format!("pty,raw,echo=0,link={}", b.display()))
        .spawn()
        .map_err(|e| format!("socat: {e}"))?;
    common::wait_for(Duration::from_secs(5), || a.exists() && b.exists());
    let real = std::fs::canonicalize(&a).map_err(|e| e.to_string())?;
    let seg = common::Segment::new("serialbench", 1);
    let hb = common::heartbeat::HeartbeatNode::start(
        &seg.ns(0),
        "alpha",
        &format!(
            "keepalive 1\ndeadtime 10\ninitdead 30\nbaud 19200\nserial {}\nnode alpha\nnode beta\n",
            real.display()
        ),
        "auth 1\n1 sha1 bench-secret\n",
        "",
    );
    let mut tty = std::fs::File::open(&b).map_err(|e| e.to_string())?;
    // Skip the start-up burst, then read for ten keepalives.
    std::thread::sleep(Duration::from_secs(3));
    let mut bytes = Vec::new();
    let start = Instant::now();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = tty.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    while start.elapsed() < Duration::from_secs(10) {
        if let Ok(chunk) = rx.recv_timeout(Duration::from_millis(100)) {
            bytes.extend_from_slice(&chunk);
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    drop(hb);
    let _ = cable.kill();
    let _ = cable.wait();
    let text = String::from_utf8_lossy(&bytes);
    let statuses: Vec<usize> = text
        .split_inclusive("<<<\n")
        .filter(|m| m.contains("\nt=status\n"))
        .map(|m| m.len() - m.find(">>>\n").unwrap_or(0))
        .collect();
    if statuses.is_empty() {
        return Err(format!("no status message read in {elapsed:.0} s"));
    }
    let mean = statuses.iter().sum::<usize>() as f64 / statuses.len() as f64;
    Ok((mean, bytes.len() as f64 / elapsed))
}

fn main() {
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        return;
    }
    println!("serial keepalive benchmark (two nodes, two groups)");
    // tandem native: the frame the core sends, COBS-framed as on the line.
    let mut node = Node::new(
        params(),
        auth("auth 1\n1 sha256 bench-secret\n"),
        1,
        &[None, None],
        0,
        CoreInstant::ZERO,
    );
    node.handle_timeout(CoreInstant::ZERO);
    let frame = node.poll_transmit().expect("a keepalive");
    let mut line = Vec::new();
    tandem::wire::serial::encode(&frame, &mut line);
    row("tandem native (sha256, COBS-framed)", line.len() as f64);
    // tandem speaking Heartbeat's protocol: its status message as text.
    let mut compat = Compat::new(
        params(),
        auth("auth 1\n1 sha1 bench-secret\n"),
        [7; 16],
        1_796_000_000,
        1_796_000_000,
        CoreInstant::ZERO,
        0,
    )
    .expect("compat");
    compat.set_load("0.12 0.08 0.05 1/123 4567");
    let status = std::iter::from_fn(|| compat.poll_transmit())
        .find(|o| String::from_utf8_lossy(&o.text).contains("\nt=status\n"))
        .expect("a status message");
    row(
        "tandem, wire heartbeat (sha1, text form)",
        status.text.len() as f64,
    );
    match heartbeat_on_a_pty() {
        Ok((mean, rate)) => {
            row("Heartbeat 3.0.6 on a pty (sha1, measured)", mean);
            println!(
                "  Heartbeat wrote {rate:.0} B/s in all at keepalive 1 s (status and its other messages)"
            );
        }
        Err(why) => println!("Heartbeat 3.0.6 on a pty: not measured: {why}"),
    }
}
