//! Takeover on a real (virtual) network: alpha and beta run tandem in
//! their own namespaces on a bridged segment, with the group
//! `IPaddr2::192.0.2.100/24/eth0`; a third namespace is the client. Each
//! node runs a small TCP server that answers with its name. When alpha
//! dies (daemon killed, its interface down), beta adds the address and
//! announces it: the client captures the gratuitous ARP, its neighbour
//! entry moves to beta's MAC, and a TCP connect to the address reaches
//! beta. Needs root and iproute2 (skips with the reason otherwise).

mod common;

use common::vip::{garps as garps_of, *};
use common::{cannot_run, ip, logs, status, wait_for, Segment};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

#[test]
fn the_address_moves_with_gratuitous_arp_and_answers_on_the_survivor() {
    if cannot_run("the_address_moves_with_gratuitous_arp_and_answers_on_the_survivor") {
        return;
    }
    let tmp = tempfile::Builder::new()
        .prefix("tandem-vip-")
        .tempdir()
        .expect("tempdir");
    let dir = tmp.path();
    configure(dir, &format!("IPaddr2::{VIP}/24/eth0"), TIMINGS);
    let mut seg = Segment::new("vip", 3);
    let garps = dir.join("garps");
    let garps_arg = garps.display().to_string();
    let _helpers = Helpers(vec![
        in_ns(&seg, 0, &["python3", "-c", SERVER, "alpha"]),
        in_ns(&seg, 1, &["python3", "-c", SERVER, "beta"]),
        in_ns(&seg, CLIENT, &["python3", "-c", CAPTURE, &garps_arg]),
    ]);
    seg.start(0, dir);
    seg.start(1, dir);
    let formed = wait_for(Duration::from_secs(20), || {
        has_vip(&seg, 0)
            && status(dir, 1).is_some_and(|s| {
                s["nodes"].as_array().is_some_and(|n| {
                    n.iter()
                        .any(|n| n["node"] == "alpha" && n["liveness"] == "up")
                })
            })
    });
    assert!(formed, "alpha never held the address:\n{}", logs(dir));
    assert!(
        wait_for(Duration::from_secs(10), || connect(&seg).as_deref()
            == Some("alpha")),
        "the client cannot reach alpha at {VIP}:\n{}",
        logs(dir)
    );
    let (mac_a, mac_b) = (mac(&seg, 0), mac(&seg, 1));
    assert!(neighbour(&seg).contains(&mac_a), "{}", neighbour(&seg));

    // alpha dies: its daemon is killed and its machine leaves the segment.
    let killed = now();
    seg.kill(0);
    ip(&["-n", &seg.ns(0), "link", "set", "eth0", "down"]);

    assert!(
        wait_for(Duration::from_secs(20), || connect(&seg).as_deref()
            == Some("beta")),
        "the client never reached beta at {VIP}:\n{}",
        logs(dir)
    );
    assert!(has_vip(&seg, 1));
    assert!(
        wait_for(Duration::from_secs(5), || neighbour(&seg).contains(&mac_b)),
        "the client's neighbour entry did not move to beta ({mac_b}): {}",
        neighbour(&seg)
    );
    // Five announcements, 200 ms apart: at least two within a second.
    let read = || -> Vec<f64> {
        garps_of(&garps)
            .into_iter()
            .filter(|g| g.time > killed && g.mac == mac_b)
            .map(|g| g.time)
            .collect()
    };
    wait_for(Duration::from_secs(3), || read().len() >= 2);
    let seen = read();
    assert!(
        seen.len() >= 2,
        "gratuitous ARPs from beta after the kill: {seen:?}\n{}",
        logs(dir)
    );
    eprintln!(
        "kill -9 -> first gratuitous ARP from beta: {:.0} ms (deadtime 1 s); {} announcements",
        (seen[0] - killed) * 1000.0,
        seen.len()
    );
}

/// The shipped resource.d/IPaddr2 by hand: start adds and announces,
/// status answers as Heartbeat's scripts do, stop removes, and a hostile
/// argument is refused as text, never run.
#[test]
fn shipped_ipaddr2_script_starts_reports_and_stops() {
    if cannot_run("shipped_ipaddr2_script_starts_reports_and_stops") {
        return;
    }
    let seg = Segment::new("script", 1);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("resource.d/IPaddr2");
    let run = |args: &[&str]| {
        Command::new("ip")
            .args(["netns", "exec", &seg.ns(0), "sh"])
            .arg(&script)
            .args(args)
            .env("TANDEM", common::EXE)
            .output()
            .expect("run IPaddr2")
    };
    let out = run(&["192.0.2.50/24/eth0", "status"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "stopped");
    let out = run(&["192.0.2.50/24/eth0", "start"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(has_vip_at(&seg, "192.0.2.50/24"));
    let out = run(&["192.0.2.50/24/eth0", "status"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "running");
    let out = run(&["192.0.2.50/24/eth0", "stop"]);
    assert!(out.status.success());
    assert!(!has_vip_at(&seg, "192.0.2.50/24"));
    let marker = std::env::temp_dir().join(format!("tandem-pwned-{}", std::process::id()));
    let hostile = format!("192.0.2.51/24/eth0;touch {}", marker.display());
    let out = run(&[&hostile, "start"]);
    assert!(!out.status.success());
    assert!(!marker.exists(), "an argument reached a shell");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

fn has_vip_at(seg: &Segment, cidr: &str) -> bool {
    Command::new("ip")
        .args(["-n", &seg.ns(0), "-o", "addr", "show", "dev", "eth0"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(cidr))
}

/// MAC takeover: the shared MAC moves with the address, so the client's
/// neighbour entry never changes; on failback beta gets its own MAC back.
#[test]
fn mac_takeover_keeps_the_clients_neighbour_entry() {
    if cannot_run("mac_takeover_keeps_the_clients_neighbour_entry") {
        return;
    }
    const SHARED: &str = "02:00:5e:00:01:64";
    let tmp = tempfile::Builder::new()
        .prefix("tandem-mac-")
        .tempdir()
        .expect("tempdir");
    let dir = tmp.path();
    configure(
        dir,
        &format!("MacTakeover::eth0::{SHARED} IPaddr2::{VIP}/24/eth0"),
        TIMINGS,
    );
    let mut seg = Segment::new("mac", 3);
    let _helpers = Helpers(vec![
        in_ns(&seg, 0, &["python3", "-c", SERVER, "alpha"]),
        in_ns(&seg, 1, &["python3", "-c", SERVER, "beta"]),
    ]);
    let beta_own = mac(&seg, 1);
    seg.start(0, dir);
    seg.start(1, dir);
    assert!(
        wait_for(Duration::from_secs(20), || has_vip(&seg, 0)
            && mac(&seg, 0) == SHARED),
        "alpha never took the MAC and address:\n{}",
        logs(dir)
    );
    assert!(
        wait_for(Duration::from_secs(10), || connect(&seg).as_deref()
            == Some("alpha")),
        "{}",
        logs(dir)
    );
    assert!(neighbour(&seg).contains(SHARED), "{}", neighbour(&seg));
    seg.kill(0);
    ip(&["-n", &seg.ns(0), "link", "set", "eth0", "down"]);
    assert!(
        wait_for(Duration::from_secs(20), || connect(&seg).as_deref()
            == Some("beta")),
        "the client never reached beta:\n{}",
        logs(dir)
    );
    assert_eq!(mac(&seg, 1), SHARED);
    assert!(neighbour(&seg).contains(SHARED), "{}", neighbour(&seg));
    // alpha comes back (a new machine: its own MAC), auto_failback on.
    ip(&[
        "-n",
        &seg.ns(0),
        "link",
        "set",
        "eth0",
        "address",
        "02:00:00:00:00:0a",
    ]);
    ip(&["-n", &seg.ns(0), "link", "set", "eth0", "up"]);
    ip(&[
        "-n",
        &seg.ns(0),
        "addr",
        "flush",
        "dev",
        "eth0",
        "to",
        &format!("{VIP}/32"),
    ]);
    seg.start(0, dir);
    assert!(
        wait_for(Duration::from_secs(20), || mac(&seg, 1) == beta_own
            && mac(&seg, 0) == SHARED),
        "beta did not get its own MAC back ({beta_own}, has {}):\n{}",
        mac(&seg, 1),
        logs(dir)
    );
}

/// Writes `time mac` for every unsolicited neighbour advertisement for
/// 2001:db8::100 (ICMPv6 type 136, target at offset 62).
const CAPTURE_NA: &str = r#"
import socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x86dd))
s.bind(("eth0", 0))
out = open(sys.argv[1], "a", buffering=1)
vip = socket.inet_pton(socket.AF_INET6, "2001:db8::100")
while True:
    f = s.recv(200)
    if len(f) >= 78 and f[20] == 58 and f[54] == 136 and f[62:78] == vip:
        out.write("%.6f %s\n" % (time.time(), f[6:12].hex(":")))
"#;

/// IPv6addr: the survivor adds the address and sends unsolicited
/// neighbour advertisements; the client's neighbour entry follows.
#[test]
fn an_ipv6_address_moves_with_unsolicited_neighbour_advertisements() {
    if cannot_run("an_ipv6_address_moves_with_unsolicited_neighbour_advertisements") {
        return;
    }
    let tmp = tempfile::Builder::new()
        .prefix("tandem-na-")
        .tempdir()
        .expect("tempdir");
    let dir = tmp.path();
    configure(dir, "IPv6addr::2001:db8::100/64/eth0", TIMINGS);
    let mut seg = Segment::new("na", 3);
    let nas = dir.join("nas");
    let nas_arg = nas.display().to_string();
    let _helpers = Helpers(vec![in_ns(
        &seg,
        CLIENT,
        &["python3", "-c", CAPTURE_NA, &nas_arg],
    )]);
    seg.start(0, dir);
    seg.start(1, dir);
    let (mac_a, mac_b) = (mac(&seg, 0), mac(&seg, 1));
    let announced = |m: &str| {
        std::fs::read_to_string(&nas)
            .unwrap_or_default()
            .lines()
            .any(|l| l.ends_with(m))
    };
    assert!(
        wait_for(Duration::from_secs(20), || announced(&mac_a)),
        "no advertisement from alpha:\n{}",
        logs(dir)
    );
    seg.kill(0);
    ip(&["-n", &seg.ns(0), "link", "set", "eth0", "down"]);
    assert!(
        wait_for(Duration::from_secs(20), || announced(&mac_b)),
        "no advertisement from beta after the takeover:\n{}",
        logs(dir)
    );
    let v6 = |i: usize| {
        Command::new("ip")
            .args(["-n", &seg.ns(i), "-o", "addr", "show", "dev", "eth0"])
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("2001:db8::100/64"))
    };
    assert!(v6(1), "beta does not hold 2001:db8::100");
}

/// A split brain over the address: the heartbeat path (its own segment,
/// eth1) is cut, beta takes the address and announces it, so the client
/// follows beta. When the heartbeat path returns, one node keeps the
/// group and announces it again at once, so the client follows it back
/// instead of talking to the node that gave it up until its neighbour
/// entry ages out (keepalived's most reported problem).
#[test]
fn after_a_healed_split_brain_the_keeper_announces_the_address_again() {
    if cannot_run("after_a_healed_split_brain_the_keeper_announces_the_address_again") {
        return;
    }
    let tmp = tempfile::Builder::new()
        .prefix("tandem-sb-")
        .tempdir()
        .expect("tempdir");
    let dir = tmp.path();
    configure(dir, &format!("IPaddr2::{VIP}/24/eth0"), TIMINGS);
    for name in ["alpha", "beta"] {
        let path = dir.join(name).join("ha.cf");
        let text = std::fs::read_to_string(&path).expect("ha.cf");
        std::fs::write(&path, text.replace("bcast eth0", "bcast eth1")).expect("ha.cf");
    }
    let mut seg = Segment::new("sb", 3);
    // The heartbeat segment: a second bridge for alpha and beta only.
    let sw = seg.switch();
    ip(&["-n", &sw, "link", "add", "br1", "type", "bridge"]);
    ip(&["-n", &sw, "link", "set", "br1", "up"]);
    for i in 0..2 {
        let port = format!("q{i}");
        ip(&[
            "-n",
            &sw,
            "link",
            "add",
            &port,
            "type",
            "veth",
            "peer",
            "name",
            "eth1",
            "netns",
            &seg.ns(i),
        ]);
        ip(&["-n", &sw, "link", "set", &port, "master", "br1", "up"]);
        let addr = format!("198.51.100.{}/24", i + 1);
        ip(&[
            "-n",
            &seg.ns(i),
            "addr",
            "add",
            &addr,
            "brd",
            "+",
            "dev",
            "eth1",
        ]);
        ip(&["-n", &seg.ns(i), "link", "set", "eth1", "up"]);
    }
    let _helpers = Helpers(vec![
        in_ns(&seg, 0, &["python3", "-c", SERVER, "alpha"]),
        in_ns(&seg, 1, &["python3", "-c", SERVER, "beta"]),
    ]);
    seg.start(0, dir);
    seg.start(1, dir);
    let (mac_a, mac_b) = (mac(&seg, 0), mac(&seg, 1));
    assert!(
        wait_for(Duration::from_secs(20), || has_vip(&seg, 0)
            && connect(&seg).as_deref() == Some("alpha")),
        "{}",
        logs(dir)
    );
    // Cut the heartbeat path only: both nodes stay on the client's segment.
    ip(&["-n", &sw, "link", "set", "q0", "down"]);
    assert!(
        wait_for(Duration::from_secs(20), || has_vip(&seg, 1)
            && neighbour(&seg).contains(&mac_b)),
        "beta did not take the address over:\n{}",
        logs(dir)
    );
    // Heal.
    ip(&["-n", &sw, "link", "set", "q0", "up"]);
    assert!(
        wait_for(Duration::from_secs(20), || has_vip(&seg, 0)
            != has_vip(&seg, 1)),
        "the split brain was not resolved:\n{}",
        logs(dir)
    );
    let (keeper, keeper_mac) = if has_vip(&seg, 0) {
        ("alpha", mac_a)
    } else {
        ("beta", mac_b)
    };
    assert!(
        wait_for(Duration::from_secs(3), || neighbour(&seg)
            .contains(&keeper_mac)
            && connect(&seg).as_deref() == Some(keeper)),
        "the client still points elsewhere than {keeper} ({keeper_mac}): {}\n{}",
        neighbour(&seg),
        logs(dir)
    );
    assert!(logs(dir).contains("SPLIT BRAIN"), "{}", logs(dir));
}

/// The shipped resource.d/IPsrcaddr: the default route prefers the
/// service address while it runs; a bad address never reaches `ip`.
#[test]
fn shipped_ipsrcaddr_sets_and_clears_the_default_routes_source() {
    if cannot_run("shipped_ipsrcaddr_sets_and_clears_the_default_routes_source") {
        return;
    }
    let seg = Segment::new("src", 1);
    let ns = seg.ns(0);
    ip(&[
        "-n",
        &ns,
        "route",
        "add",
        "default",
        "via",
        "192.0.2.254",
        "dev",
        "eth0",
    ]);
    ip(&["-n", &ns, "addr", "add", "192.0.2.100/24", "dev", "eth0"]);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("resource.d/IPsrcaddr");
    let run = |args: &[&str]| {
        Command::new("ip")
            .args(["netns", "exec", &ns, "sh"])
            .arg(&script)
            .args(args)
            .output()
            .expect("run IPsrcaddr")
    };
    let route = || {
        Command::new("ip")
            .args(["-n", &ns, "-4", "route", "show", "default"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
            .unwrap_or_default()
    };
    let said = |args: &[&str]| {
        String::from_utf8_lossy(&run(args).stdout)
            .trim()
            .to_string()
    };
    assert_eq!(said(&["192.0.2.100", "status"]), "stopped");
    assert!(run(&["192.0.2.100", "start"]).status.success());
    assert!(route().contains("src 192.0.2.100"), "{}", route());
    assert_eq!(said(&["192.0.2.100", "status"]), "running");
    assert!(run(&["192.0.2.100", "stop"]).status.success());
    assert!(!route().contains("src"), "{}", route());
    assert!(route().contains("via 192.0.2.254"), "{}", route());
    let out = run(&["192.0.2.100;reboot", "start"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!route().contains("src"), "{}", route());
}

/// Ping nodes: alpha loses its route to the ping node (the client's
/// address), beta still reaches it: the group moves to the better
/// connected node, and back when alpha's connectivity returns.
#[test]
fn a_node_that_loses_its_ping_node_gives_the_group_to_one_that_has_it() {
    ping_node_decides(
        "a_node_that_loses_its_ping_node_gives_the_group_to_one_that_has_it",
        "ping4",
        "ping 192.0.2.3",
        1,
        "192.0.2.3/32",
    );
}

/// An IPv6 ping node (ICMPv6 echo) beside an IPv4 one: alpha loses only
/// the IPv6 one, beta reaches both, and the IPv6 node decides.
#[test]
fn an_ipv6_ping_node_decides_a_tie() {
    ping_node_decides(
        "an_ipv6_ping_node_decides_a_tie",
        "ping6",
        "ping 192.0.2.3\nping 2001:db8::3",
        2,
        "2001:db8::3/128",
    );
}

/// alpha and beta (namespaces tagged `tag`) reach `reachable` ping nodes
/// (`ping` lines), the client
/// namespace's addresses; then a blackhole route to `cut` on alpha: the
/// group moves to beta, and back when the route goes.
fn ping_node_decides(test: &str, tag: &str, ping: &str, reachable: u8, cut: &str) {
    if cannot_run(test) {
        return;
    }
    let tmp = tempfile::Builder::new()
        .prefix("tandem-ping-")
        .tempdir()
        .expect("tempdir");
    let dir = tmp.path();
    configure(
        dir,
        &format!("IPaddr2::{VIP}/24/eth0"),
        &format!("{TIMINGS}\n{ping}"),
    );
    let mut seg = Segment::new(tag, 3);
    seg.start(0, dir);
    seg.start(1, dir);
    let all = format!("ping nodes reachable: {reachable}");
    let reaches = |i: usize| {
        std::fs::read_to_string(dir.join(format!("{}.log", ["alpha", "beta"][i])))
            .is_ok_and(|l| l.contains(&all))
    };
    assert!(
        wait_for(Duration::from_secs(20), || has_vip(&seg, 0)
            && reaches(0)
            && reaches(1)),
        "{}",
        logs(dir)
    );
    let six = if cut.contains(':') { "-6" } else { "-4" };
    ip(&[six, "-n", &seg.ns(0), "route", "add", "blackhole", cut]);
    assert!(
        wait_for(Duration::from_secs(20), || has_vip(&seg, 1)
            && !has_vip(&seg, 0)),
        "the group did not move to the connected node:\n{}",
        logs(dir)
    );
    ip(&[six, "-n", &seg.ns(0), "route", "del", "blackhole", cut]);
    assert!(
        wait_for(Duration::from_secs(20), || has_vip(&seg, 0)
            && !has_vip(&seg, 1)),
        "the group did not come back (auto_failback on):\n{}",
        logs(dir)
    );
}

/// `arp_count`, `arp_interval` and `arp_form` shape the announcements:
/// with `arp_form both` and `arp_count 2`, the new owner sends two
/// requests and two replies (arping -A's form: target hardware address
/// its own), spaced by `arp_interval`, and no more.
#[test]
fn the_arp_directives_set_count_interval_and_form() {
    if cannot_run("the_arp_directives_set_count_interval_and_form") {
        return;
    }
    let tmp = tempfile::Builder::new()
        .prefix("tandem-arpform-")
        .tempdir()
        .expect("tempdir");
    let dir = tmp.path();
    let timings = format!("{TIMINGS}\narp_count 2\narp_interval 300ms\narp_form both");
    configure(dir, &format!("IPaddr2::{VIP}/24/eth0"), &timings);
    let mut seg = Segment::new("arpform", 3);
    let capture = dir.join("garps");
    let _helpers = Helpers(vec![in_ns(
        &seg,
        CLIENT,
        &["python3", "-c", CAPTURE, &capture.display().to_string()],
    )]);
    // The capture must be listening before the address is announced.
    std::thread::sleep(Duration::from_millis(500));
    // alpha alone: a peer coming up would make it announce again (the
    // split-brain rule), which is not what this test counts.
    seg.start(0, dir);
    assert!(
        wait_for(Duration::from_secs(20), || has_vip(&seg, 0)),
        "alpha never held the address:\n{}",
        logs(dir)
    );
    let alpha = mac(&seg, 0);
    let of_alpha = || -> Vec<Garp> {
        garps_of(&capture)
            .into_iter()
            .filter(|g| g.mac == alpha)
            .collect()
    };
    assert!(
        wait_for(Duration::from_secs(5), || of_alpha().len() >= 4),
        "announcements from alpha: {:?}\n{}",
        of_alpha(),
        logs(dir)
    );
    // Longer than the whole burst again: nothing more comes.
    std::thread::sleep(Duration::from_millis(1000));
    let seen = of_alpha();
    let requests: Vec<f64> = seen.iter().filter(|g| !g.reply).map(|g| g.time).collect();
    let replies: Vec<f64> = seen.iter().filter(|g| g.reply).map(|g| g.time).collect();
    assert_eq!(
        (requests.len(), replies.len()),
        (2, 2),
        "{seen:?}\n{}",
        logs(dir)
    );
    let gap = requests[1] - requests[0];
    assert!(
        (0.25..1.0).contains(&gap),
        "requests {gap:.3} s apart, expected arp_interval 300ms: {seen:?}"
    );
}

/// The shipped resource.d/MacTakeover by hand: start puts the shared MAC
/// on the interface and announces the interface's addresses from it,
/// status answers, stop gives the interface its own address back (the
/// script's process is long gone: the own address was remembered).
#[test]
fn shipped_mactakeover_script_takes_and_gives_back_the_mac() {
    if cannot_run("shipped_mactakeover_script_takes_and_gives_back_the_mac") {
        return;
    }
    const SHARED: &str = "02:00:5e:00:01:65";
    let tmp = tempfile::Builder::new()
        .prefix("tandem-macscript-")
        .tempdir()
        .expect("tempdir");
    let seg = Segment::new("macscript", 2);
    let capture = tmp.path().join("garps");
    let _helpers = Helpers(vec![in_ns(
        &seg,
        1,
        &[
            "python3",
            "-c",
            CAPTURE,
            &capture.display().to_string(),
            "192.0.2.1",
        ],
    )]);
    std::thread::sleep(Duration::from_millis(500));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("resource.d/MacTakeover");
    let run = |action: &str| {
        Command::new("ip")
            .args(["netns", "exec", &seg.ns(0), "sh"])
            .arg(&script)
            .args(["eth0", SHARED, action])
            .env("TANDEM", common::EXE)
            // As the daemon sets it for the scripts it runs.
            .env("TANDEM_STATE_DIR", tmp.path())
            .output()
            .expect("run MacTakeover")
    };
    let own = mac(&seg, 0);
    let out = run("status");
    assert_eq!(out.status.code(), Some(3));
    let out = run("start");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mac(&seg, 0), SHARED);
    assert_eq!(run("status").status.code(), Some(0));
    // A second start keeps the own address remembered, not the shared one.
    assert!(run("start").status.success());
    assert!(
        wait_for(Duration::from_secs(3), || garps_of(&capture)
            .iter()
            .any(|g| g.mac == SHARED)),
        "no gratuitous ARP for 192.0.2.1 from {SHARED}: {:?}",
        garps_of(&capture)
    );
    let out = run("stop");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mac(&seg, 0), own);
    assert_eq!(run("status").status.code(), Some(3));
    // Stopping again is not an error: nothing to give back.
    assert!(run("stop").status.success());
}

/// A daemon killed while it held a shared MAC leaves its memory of the
/// interface's own address behind; a namespace made after that one is
/// gone (which may get the same namespace inode) must not inherit it:
/// each new interface gets its own address back.
#[test]
fn a_dead_namespaces_mac_memory_does_not_reach_a_new_one() {
    if cannot_run("a_dead_namespaces_mac_memory_does_not_reach_a_new_one") {
        return;
    }
    const SHARED: &str = "02:00:5e:00:02:01";
    let ns = format!("tandem-macmem-{}", std::process::id());
    let state = tempfile::Builder::new()
        .prefix("tandem-macmem-")
        .tempdir()
        .expect("tempdir");
    let link_mac = |ns: &str| {
        let out = Command::new("ip")
            .args(["-n", ns, "-o", "link", "show", "eth0"])
            .output()
            .expect("ip link");
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .skip_while(|w| *w != "link/ether")
            .nth(1)
            .unwrap_or("")
            .to_string()
    };
    let action = |ns: &str, step: &str| {
        Command::new("ip")
            .args(["netns", "exec", ns, common::EXE, "action", "resource"])
            .arg(format!("MacTakeover::eth0::{SHARED}"))
            .arg(step)
            .arg("--state-dir")
            .arg(state.path())
            .output()
            .expect("tandem action")
    };
    for round in 0..4 {
        let _ = Command::new("ip").args(["netns", "del", &ns]).output();
        ip(&["netns", "add", &ns]);
        ip(&[
            "-n", &ns, "link", "add", "eth0", "type", "veth", "peer", "name", "peer0",
        ]);
        let own = format!("02:00:00:00:03:{round:02x}");
        ip(&["-n", &ns, "link", "set", "eth0", "address", &own]);
        ip(&["-n", &ns, "link", "set", "eth0", "up"]);
        let start = action(&ns, "start");
        assert!(
            start.status.success(),
            "{}",
            String::from_utf8_lossy(&start.stderr)
        );
        assert_eq!(link_mac(&ns), SHARED);
        if round % 2 == 1 {
            // Stopped properly: the own address comes back.
            let stop = action(&ns, "stop");
            assert!(
                stop.status.success(),
                "{}",
                String::from_utf8_lossy(&stop.stderr)
            );
            assert_eq!(link_mac(&ns), own, "round {round}");
        }
        // Else the namespace dies with the shared address on, as a node
        // whose daemon was killed: its memory stays behind.
    }
    let _ = Command::new("ip").args(["netns", "del", &ns]).output();
}

/// MacTakeover held across a crash, as systemd restarts tandem: the
/// daemon is killed while the shared MAC is on, and starts again with an
/// empty /run (systemd empties `RuntimeDirectory=` at every stop and
/// start; here each start gets a fresh tmpfs on /run in a mount namespace
/// of its own). A graceful stop then gives the interface its own address
/// back: what must outlive a restart lives in the state directory.
#[test]
fn a_held_mac_is_given_back_after_a_crash_and_an_emptied_run_directory() {
    let test = "a_held_mac_is_given_back_after_a_crash_and_an_emptied_run_directory";
    if cannot_run(test) {
        return;
    }
    if Command::new("unshare").arg("--version").output().is_err() {
        common::skip(test, "needs unshare (util-linux)");
        return;
    }
    const SHARED: &str = "02:00:5e:00:02:07";
    const OWN: &str = "02:00:00:00:05:01";
    let tmp = tempfile::Builder::new()
        .prefix("tandem-macrun-")
        .tempdir()
        .expect("tempdir");
    let dir = tmp.path();
    configure(dir, &format!("MacTakeover::eth0::{SHARED}"), TIMINGS);
    let seg = Segment::new("macrun", 1);
    let ns = seg.ns(0);
    ip(&["-n", &ns, "link", "set", "eth0", "address", OWN]);
    let cfg = dir.join("alpha");
    let state = cfg.join("state");
    let start = || {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("alpha.log"))
            .expect("log");
        Command::new("ip")
            .args([
                "netns",
                "exec",
                &ns,
                "unshare",
                "-m",
                "--propagation",
                "private",
            ])
            .args([
                "sh",
                "-c",
                "mount -t tmpfs tmpfs /run && exec \"$0\" \"$@\"",
            ])
            .arg(common::EXE)
            .args(["run", "-c"])
            .arg(&cfg)
            .args(["--node", "alpha", "--state-dir"])
            .arg(&state)
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start tandem")
    };
    let link_mac = || common::vip::mac(&seg, 0);
    let mut alpha = start();
    // beta never comes: alpha takes its group after initdead.
    assert!(
        wait_for(Duration::from_secs(20), || link_mac() == SHARED),
        "alpha never took the MAC:\n{}",
        logs(dir)
    );
    // The crash, and a start with an empty /run.
    let _ = alpha.kill();
    let _ = alpha.wait();
    assert_eq!(link_mac(), SHARED);
    let mut alpha = start();
    let running = wait_for(Duration::from_secs(20), || {
        status(dir, 0).is_some_and(|s| {
            s["groups"]
                .as_array()
                .is_some_and(|g| g.iter().any(|g| g["state"] == "running"))
        })
    });
    assert!(
        running,
        "the restarted alpha does not hold the group:\n{}",
        logs(dir)
    );
    // A graceful stop releases the MAC: the own address comes back.
    let _ = Command::new("kill")
        .args(["-TERM", &alpha.id().to_string()])
        .status();
    let stopped = wait_for(Duration::from_secs(20), || {
        alpha.try_wait().is_ok_and(|s| s.is_some())
    });
    if !stopped {
        let _ = alpha.kill();
        let _ = alpha.wait();
    }
    assert!(stopped, "alpha did not stop:\n{}", logs(dir));
    assert_eq!(link_mac(), OWN, "{}", logs(dir));
    let log = std::fs::read_to_string(dir.join("alpha.log")).unwrap_or_default();
    assert!(!log.contains("its own address is not known"), "{log}");
}
