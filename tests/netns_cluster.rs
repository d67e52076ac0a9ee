//! Three nodes, each in its own network namespace, on one Ethernet
//! segment (veth pairs on a bridge in a fourth namespace), with a `bcast`
//! and an `mcast` link. Needs root and iproute2; skips with the reason
//! otherwise (and fails under CI=true, where tests/run installed them).
//!
//! Addresses: 192.0.2.0/24 (TEST-NET-1) and multicast 239.255.0.0/16,
//! inside namespaces named per test run and removed even on failure.

mod common;

use common::{cannot_run, logs, status, wait_for, Segment, NAMES};
use std::path::{Path, PathBuf};
use std::time::Duration;

const SERVICE: &str = "#!/bin/sh\n\
f=\"$1/running-on-$TANDEM_NODE\"\n\
case \"$2\" in\n\
start) touch \"$f\" ;;\n\
stop) rm -f \"$f\" ;;\n\
status) if [ -e \"$f\" ]; then echo running; else echo stopped; fi ;;\n\
esac\n";

fn configure(dir: &Path, links: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let service = dir.join("service");
    std::fs::create_dir_all(&service).expect("mkdir");
    for name in NAMES {
        let cfg = dir.join(name);
        std::fs::create_dir_all(cfg.join("resource.d")).expect("mkdir");
        std::fs::create_dir_all(cfg.join("state")).expect("mkdir");
        std::fs::write(
            cfg.join("ha.cf"),
            format!(
                "keepalive 100ms\nwarntime 400ms\ndeadtime 1\ninitdead 2\n{links}\n\
                 node alpha\nnode beta\nnode gamma\nauto_failback on\nrealtime off\non_stop_failure block\n"
            ),
        )
        .expect("ha.cf");
        std::fs::write(
            cfg.join("haresources"),
            format!("alpha svc::{}\n", service.display()),
        )
        .expect("haresources");
        let keys = cfg.join("authkeys");
        std::fs::write(&keys, "auth 2\n2 sha256 netns-test-key\n").expect("authkeys");
        std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let script = cfg.join("resource.d").join("svc");
        std::fs::write(&script, SERVICE).expect("script");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    service
}

fn running_on(service: &Path) -> Vec<&'static str> {
    NAMES
        .iter()
        .copied()
        .filter(|n| service.join(format!("running-on-{n}")).exists())
        .collect()
}

/// Every node sees every other node up, and every one of its links
/// carries frames from some node (a unicast link reaches only the node at
/// its address; broadcast and multicast links reach them all).
fn all_links_up(dir: &Path) -> bool {
    (0..3).all(|i| {
        status(dir, i).is_some_and(|s| {
            let Some(nodes) = s["nodes"].as_array() else {
                return false;
            };
            let peers: Vec<&serde_json::Value> =
                nodes.iter().filter(|n| n["local"] == false).collect();
            let links = peers
                .first()
                .and_then(|p| p["links"].as_array())
                .map_or(0, |l| l.len());
            peers.iter().all(|n| n["liveness"] == "up")
                && (0..links).all(|l| peers.iter().any(|p| p["links"][l]["up"] == true))
        })
    })
}

fn three_nodes_one_killed(tag: &str, links: &str) {
    let tmp = tempfile::Builder::new()
        .prefix(&format!("tandem-{tag}-"))
        .tempdir()
        .expect("tempdir");
    let dir = tmp.path();
    let service = configure(dir, links);
    let mut seg = Segment::new(tag, 3);
    for i in 0..3 {
        seg.start(i, dir);
    }
    assert!(
        wait_for(Duration::from_secs(20), || all_links_up(dir)
            && running_on(&service) == ["alpha"]),
        "cluster did not form:\n{}",
        logs(dir)
    );
    // Crash alpha: its daemon is killed and its service dies with it.
    seg.kill(0);
    let _ = std::fs::remove_file(service.join("running-on-alpha"));
    assert!(
        wait_for(Duration::from_secs(20), || running_on(&service).len() == 1),
        "no takeover:\n{}",
        logs(dir)
    );
    // Exactly one survivor runs it, and it stays that way.
    std::thread::sleep(Duration::from_millis(1500));
    let owners = running_on(&service);
    assert_eq!(owners.len(), 1, "{owners:?}\n{}", logs(dir));
    for i in 1..3 {
        let s = status(dir, i).expect("survivor answers");
        let alpha = s["nodes"]
            .as_array()
            .and_then(|n| n.iter().find(|n| n["node"] == "alpha"))
            .cloned()
            .unwrap_or_default();
        assert_eq!(alpha["liveness"], "dead", "{}", logs(dir));
    }
}

#[test]
fn three_nodes_over_broadcast_survive_a_killed_owner() {
    if cannot_run("three_nodes_over_broadcast_survive_a_killed_owner") {
        return;
    }
    three_nodes_one_killed("bc", "bcast eth0");
}

#[test]
fn three_nodes_over_multicast_survive_a_killed_owner() {
    if cannot_run("three_nodes_over_multicast_survive_a_killed_owner") {
        return;
    }
    three_nodes_one_killed("mc", "mcast eth0 239.255.42.1 694 1 0");
}

#[test]
fn three_nodes_over_broadcast_and_multicast_at_once() {
    if cannot_run("three_nodes_over_broadcast_and_multicast_at_once") {
        return;
    }
    three_nodes_one_killed(
        "both",
        "udpport 7694\nbcast eth0\nmcast eth0 239.255.42.2 7695 1 0",
    );
}

#[test]
fn three_nodes_over_unicast_with_one_shared_file() {
    if cannot_run("three_nodes_over_unicast_with_one_shared_file") {
        return;
    }
    // One ha.cf for all: each node skips the line that names itself.
    three_nodes_one_killed("uc", "ucast eth0 192.0.2.1 192.0.2.2 192.0.2.3");
}

#[test]
fn three_nodes_over_ipv6_unicast_and_multicast() {
    if cannot_run("three_nodes_over_ipv6_unicast_and_multicast") {
        return;
    }
    three_nodes_one_killed(
        "v6",
        "udpport 7696\nucast6 eth0 2001:db8::1 2001:db8::2 2001:db8::3\nmcast6 eth0 ff02::1:6 7697 1 0",
    );
}

/// A bcast link does not hear its own broadcasts (a socket filter drops
/// them in the kernel: no wakeup per keepalive sent) but hears the other
/// node's, and the other node hears it.
#[test]
fn a_bcast_link_hears_the_peer_and_not_itself() {
    if cannot_run("a_bcast_link_hears_the_peer_and_not_itself") {
        return;
    }
    let seg = Segment::new("own", 2);
    let open = |i: usize| {
        common::heartbeat::in_netns(&seg.ns(i), || {
            let medium = tandem::config::hacf::Medium::Bcast {
                device: "eth0".into(),
            };
            let mut warnings = Vec::new();
            let link = tandem::media::udp::open(&medium, 36940, &mut warnings).expect("open");
            assert!(warnings.is_empty(), "{warnings:?}");
            link.socket_fd().expect("fd")
        })
    };
    let (a, b) = (open(0), open(1));
    for s in [&a, &b] {
        s.set_nonblocking(false).expect("blocking");
        s.set_read_timeout(Some(Duration::from_millis(300)))
            .expect("timeout");
    }
    let dest = "192.0.2.255:36940";
    a.send_to(b"from alpha", dest).expect("send");
    b.send_to(b"from beta", dest).expect("send");
    let mut buf = [0u8; 64];
    let (n, from) = a.recv_from(&mut buf).expect("alpha hears beta");
    assert_eq!(
        (&buf[..n], from.to_string().as_str()),
        (&b"from beta"[..], "192.0.2.2:36940")
    );
    let (n, _) = b.recv_from(&mut buf).expect("beta hears alpha");
    assert_eq!(&buf[..n], b"from alpha");
    // Nothing else: neither hears itself.
    assert!(
        a.recv_from(&mut buf).is_err(),
        "alpha heard its own broadcast"
    );
    assert!(
        b.recv_from(&mut buf).is_err(),
        "beta heard its own broadcast"
    );
}
