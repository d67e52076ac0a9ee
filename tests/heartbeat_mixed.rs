//! A mixed pair: alpha runs Debian's Heartbeat 3.0.6 (in its own network,
//! UTS, mount and PID namespaces), beta runs tandem with `wire heartbeat`;
//! ucast on a bridged segment, the group `IPaddr2::192.0.2.100/24/eth0`
//! preferred by alpha, auto_failback on. As a migration leaves them for a
//! while. Needs root and the heartbeat package; skips with the reason
//! otherwise.

mod common;

use common::heartbeat::PCAP;
use common::heartbeat::{cannot_run, HeartbeatNode, HEARTBEAT};
use common::vip::{has_vip, in_ns, Helpers, VIP};
use common::{logs, status, wait_for, Segment};
use std::path::Path;
use std::time::{Duration, Instant};

const TIMINGS: &str = "keepalive 500ms\nwarntime 1\ndeadtime 2\ninitdead 4\nudpport 694\n";
const KEYS: &str = "auth 1\n1 sha1 mixed-pair-secret\n";

fn group() -> String {
    format!("alpha IPaddr2::{VIP}/24/eth0\n")
}

fn heartbeat_hacf() -> String {
    format!("{TIMINGS}ucast eth0 192.0.2.2\nauto_failback on\nnode alpha\nnode beta\n")
}

/// tandem's configuration for beta under `dir/beta`.
fn configure_tandem(dir: &Path) {
    configure_tandem_with(dir, KEYS);
}

fn configure_tandem_with(dir: &Path, keys_text: &str) {
    configure_tandem_wire(dir, keys_text, "wire heartbeat\n");
}

fn configure_tandem_wire(dir: &Path, keys_text: &str, wire: &str) {
    configure_node(dir, "beta", "192.0.2.1", keys_text, wire);
}

/// tandem's configuration for node `name` (its peer at `peer`).
fn configure_node(dir: &Path, name: &str, peer: &str, keys_text: &str, wire: &str) {
    use std::os::unix::fs::PermissionsExt;
    let cfg = dir.join(name);
    std::fs::create_dir_all(cfg.join("resource.d")).expect("mkdir");
    std::fs::create_dir_all(cfg.join("state")).expect("mkdir");
    std::fs::write(
        cfg.join("ha.cf"),
        format!(
            "{TIMINGS}ucast eth0 {peer}\n{wire}auto_failback on\nrealtime off\non_stop_failure block\nnode alpha\nnode beta\n"
        ),
    )
    .expect("ha.cf");
    std::fs::write(cfg.join("haresources"), group()).expect("haresources");
    let keys = cfg.join("authkeys");
    std::fs::write(&keys, keys_text).expect("authkeys");
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o600)).expect("chmod");
}

fn tandem_sees_alpha(dir: &Path) -> bool {
    status(dir, 1).is_some_and(|s| {
        s["nodes"].as_array().is_some_and(|n| {
            n.iter()
                .any(|n| n["node"] == "alpha" && n["liveness"] == "up")
        })
    })
}

fn temp() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("tandem-mixed-")
        .tempdir()
        .expect("tempdir")
}

/// target/captures, where the tests leave the pair's traffic.
fn captures() -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/captures");
    std::fs::create_dir_all(&dir).expect("captures dir");
    dir
}

/// Heartbeat's own alarm when it sees two owners, or asks for messages
/// it cannot get: never in a correct mixed pair.
fn assert_heartbeat_content(dir: &Path, hb: &HeartbeatNode) {
    let log = hb.log();
    for alarm in [
        "Both machines own",
        "Cannot rexmit",
        "Ignored standby message",
    ] {
        assert!(
            !log.contains(alarm),
            "Heartbeat: {alarm}\n{}",
            both_logs(dir, hb)
        );
    }
}

/// kill -9 of the Heartbeat node (its address goes with its machine):
/// tandem must take over. Returns how long that took.
fn kill_heartbeat(dir: &Path, seg: &Segment, hb: &HeartbeatNode, link: &str) -> Duration {
    let killed = Instant::now();
    hb.kill();
    let _ = hb.exec(&["ip", "addr", "del", &format!("{VIP}/24"), "dev", "eth0"]);
    let taken = wait_for(Duration::from_secs(15), || has_vip(seg, 1));
    let took = killed.elapsed();
    assert!(taken, "tandem did not take over:\n{}", both_logs(dir, hb));
    eprintln!("{link}: kill -9 of Heartbeat -> VIP on tandem: {took:?} (deadtime 2 s)");
    assert_heartbeat_content(dir, hb);
    took
}

/// kill -9 of the tandem node; its address goes with its machine.
fn kill_tandem(seg: &mut Segment) {
    seg.kill(1);
    common::ip(&[
        "-n",
        &seg.ns(1),
        "addr",
        "del",
        &format!("{VIP}/24"),
        "dev",
        "eth0",
    ]);
}

fn both_logs(dir: &Path, hb: &HeartbeatNode) -> String {
    format!("{}\n--- heartbeat alpha ---\n{}", logs(dir), hb.log())
}

#[test]
fn a_mixed_pair_places_hands_over_and_takes_over_like_a_heartbeat_pair() {
    let test = "a_mixed_pair_places_hands_over_and_takes_over_like_a_heartbeat_pair";
    if cannot_run(test) {
        return;
    }
    let tmp = temp();
    let dir = tmp.path();
    configure_tandem(dir);
    let mut seg = Segment::new("hbmix", 2);
    // The pair's traffic, kept for the documentation.
    let pcap = captures().join("mixed-udp.pcap").display().to_string();
    let _capture = Helpers(vec![in_ns(&seg, 1, &["python3", "-c", PCAP, &pcap])]);
    let hb = HeartbeatNode::start(&seg.ns(0), "alpha", &heartbeat_hacf(), KEYS, &group());
    seg.start(1, dir);

    // Both come up; the group runs on alpha, its preferred node; each
    // side reports the other alive.
    let placed = wait_for(Duration::from_secs(40), || {
        has_vip(&seg, 0)
            && !has_vip(&seg, 1)
            && tandem_sees_alpha(dir)
            && hb.cl_status(&["nodestatus", "beta"]) == "active"
    });
    assert!(
        placed,
        "no stable mixed pair (cl_status nodestatus beta: {}):\n{}",
        hb.cl_status(&["nodestatus", "beta"]),
        both_logs(dir, &hb)
    );

    // hb_standby on the Heartbeat node hands the group to tandem.
    standby_alpha(dir, &seg, &hb);

    // `tandem standby` hands it back.
    standby_beta(dir, &seg, &hb);

    // Graceful stop of Heartbeat: tandem takes the group at once.
    // (`heartbeat -k` itself returns only once Heartbeat has exited.)
    let stopped = Instant::now();
    let mut stopping = hb.spawn(&[HEARTBEAT, "-k"]);
    let taken = wait_for(Duration::from_secs(10), || has_vip(&seg, 1));
    let took = stopped.elapsed();
    let _ = stopping.wait();
    assert!(taken, "tandem did not take over:\n{}", both_logs(dir, &hb));
    eprintln!("graceful stop of Heartbeat -> VIP on tandem: {took:?} (deadtime 2 s)");
    assert!(
        took < Duration::from_secs(3),
        "{took:?}\n{}",
        both_logs(dir, &hb)
    );

    // Heartbeat starts again: auto_failback gives the group back to it.
    let out = hb.exec(&[HEARTBEAT]);
    assert!(out.status.success(), "{out:?}");
    let back = wait_for(Duration::from_secs(40), || {
        has_vip(&seg, 0) && !has_vip(&seg, 1)
    });
    assert!(
        back,
        "no failback to the restarted Heartbeat:\n{}",
        both_logs(dir, &hb)
    );

    // kill -9 of Heartbeat: tandem takes over within Heartbeat's deadtime
    // (plus the time to add the address).
    std::thread::sleep(Duration::from_secs(2));
    let took = kill_heartbeat(dir, &seg, &hb, "udp");
    assert!(took < Duration::from_secs(6), "{took:?}");
    if std::env::var_os("TANDEM_SHOW_LOGS").is_some() {
        eprintln!("{}", both_logs(dir, &hb));
    }
    seg.kill(1);
}

/// Starts the pair and waits until it is stable with the group on alpha.
fn stable_pair(dir: &Path, seg: &mut Segment, hb: &HeartbeatNode) {
    seg.start(1, dir);
    let placed = wait_for(Duration::from_secs(40), || {
        has_vip(seg, 0)
            && !has_vip(seg, 1)
            && tandem_sees_alpha(dir)
            && hb.cl_status(&["nodestatus", "beta"]) == "active"
    });
    assert!(placed, "no stable mixed pair:\n{}", both_logs(dir, hb));
}

/// `tandem standby` on beta hands the group back to alpha.
fn standby_beta(dir: &Path, seg: &Segment, hb: &HeartbeatNode) {
    let control = dir.join("beta/state/control");
    let answer = tandem::host::control::request(&control, "standby all", Duration::from_secs(5));
    assert!(answer.is_ok(), "{answer:?}");
    let back = wait_for(Duration::from_secs(30), || {
        has_vip(seg, 0) && !has_vip(seg, 1)
    });
    assert!(
        back,
        "tandem standby did not move the group:\n{}",
        both_logs(dir, hb)
    );
}

fn standby_alpha(dir: &Path, seg: &Segment, hb: &HeartbeatNode) {
    let out = hb.exec(&["/usr/share/heartbeat/hb_standby"]);
    assert!(out.status.success(), "{out:?}");
    let moved = wait_for(Duration::from_secs(30), || {
        has_vip(seg, 1) && !has_vip(seg, 0)
    });
    assert!(
        moved,
        "hb_standby did not move the group:\n{}",
        both_logs(dir, hb)
    );
}

#[test]
fn tandem_stopping_or_dying_hands_the_group_to_heartbeat() {
    let test = "tandem_stopping_or_dying_hands_the_group_to_heartbeat";
    if cannot_run(test) {
        return;
    }
    let tmp = temp();
    let dir = tmp.path();
    configure_tandem(dir);
    let mut seg = Segment::new("hbleave", 2);
    let hb = HeartbeatNode::start(&seg.ns(0), "alpha", &heartbeat_hacf(), KEYS, &group());
    stable_pair(dir, &mut seg, &hb);
    standby_alpha(dir, &seg, &hb);

    // Graceful stop of tandem: Heartbeat takes the group at once, well
    // before its deadtime could have passed.
    let stopped = Instant::now();
    seg.stop(1);
    let taken = wait_for(Duration::from_secs(10), || has_vip(&seg, 0));
    let took = stopped.elapsed();
    assert!(
        taken,
        "Heartbeat did not take over:\n{}",
        both_logs(dir, &hb)
    );
    assert!(!has_vip(&seg, 1), "tandem left the address behind");
    eprintln!("graceful stop of tandem -> VIP on Heartbeat: {took:?} (deadtime 2 s)");
    assert!(
        took < Duration::from_secs(2),
        "{took:?}\n{}",
        both_logs(dir, &hb)
    );

    // Back, then dying: Heartbeat takes over within its deadtime.
    stable_pair(dir, &mut seg, &hb);
    standby_alpha(dir, &seg, &hb);
    std::thread::sleep(Duration::from_secs(1));
    let killed = Instant::now();
    kill_tandem(&mut seg);
    let taken = wait_for(Duration::from_secs(15), || has_vip(&seg, 0));
    let took = killed.elapsed();
    assert!(
        taken,
        "Heartbeat did not take over:\n{}",
        both_logs(dir, &hb)
    );
    eprintln!("kill -9 of tandem -> VIP on Heartbeat: {took:?} (deadtime 2 s)");
    assert_heartbeat_content(dir, &hb);
    assert!(took < Duration::from_secs(6), "{took:?}");
}

#[test]
fn a_wrong_key_is_logged_on_both_sides_and_the_live_holder_keeps_the_group() {
    let test = "a_wrong_key_is_logged_on_both_sides_and_the_live_holder_keeps_the_group";
    if cannot_run(test) {
        return;
    }
    let tmp = temp();
    let dir = tmp.path();
    configure_tandem_with(dir, "auth 1\n1 sha1 not-the-pair-secret\n");
    let mut seg = Segment::new("hbwrong", 2);
    let hb = HeartbeatNode::start(&seg.ns(0), "alpha", &heartbeat_hacf(), KEYS, &group());
    assert!(
        wait_for(Duration::from_secs(30), || has_vip(&seg, 0)),
        "Heartbeat alone never took its group:\n{}",
        hb.log()
    );
    seg.start(1, dir);
    let logged = wait_for(Duration::from_secs(20), || {
        logs(dir).contains("fail authentication") && hb.log().contains("authentication failed")
    });
    assert!(logged, "{}", both_logs(dir, &hb));
    // Longer than tandem's initdead and deadtime together: still nothing
    // taken from the live node.
    std::thread::sleep(Duration::from_secs(8));
    assert!(has_vip(&seg, 0));
    assert!(
        !has_vip(&seg, 1),
        "tandem took over a live node:\n{}",
        both_logs(dir, &hb)
    );
}

/// The same pair over a null-modem cable only (a pty pair joined by
/// socat, which also logs the traffic): Heartbeat's text form.
#[test]
fn a_mixed_pair_over_a_serial_cable_hands_the_group_both_ways() {
    let test = "a_mixed_pair_over_a_serial_cable_hands_the_group_both_ways";
    if cannot_run(test) {
        return;
    }
    if std::process::Command::new("socat")
        .arg("-V")
        .output()
        .is_err()
    {
        common::skip(
            test,
            "needs socat (Debian package socat); tests/setup installs it",
        );
        return;
    }
    let tmp = temp();
    let dir = tmp.path();
    let (a, b) = (dir.join("ttyA"), dir.join("ttyB"));
    let mut cable = std::process::Command::new("socat")
        .args(["-v", "-lu"])
        .arg(format!("pty,raw,echo=0,link={}", a.display()))
        .arg(format!("pty,raw,echo=0,link={}", b.display()))
        .stderr(std::fs::File::create(captures().join("mixed-serial.log")).expect("log"))
        .spawn()
        .expect("socat");
    assert!(
        wait_for(Duration::from_secs(5), || a.exists() && b.exists()),
        "socat made no ptys"
    );
    // Heartbeat opens the pty by its real name (it locks it by name).
    let real = |p: &Path| std::fs::canonicalize(p).expect("pty").display().to_string();
    let serial_timings = TIMINGS.replace("udpport 694\n", "baud 19200\n");
    let hb_cf = format!(
        "{serial_timings}serial {}\nauto_failback on\nnode alpha\nnode beta\n",
        real(&a)
    );
    configure_tandem(dir);
    std::fs::write(
        dir.join("beta/ha.cf"),
        format!(
            "{serial_timings}serial {}\nwire heartbeat\nauto_failback on\nrealtime off\non_stop_failure block\nnode alpha\nnode beta\n",
            real(&b)
        ),
    )
    .expect("ha.cf");
    let mut seg = Segment::new("hbserial", 2);
    let hb = HeartbeatNode::start(&seg.ns(0), "alpha", &hb_cf, KEYS, &group());
    stable_pair(dir, &mut seg, &hb);
    standby_alpha(dir, &seg, &hb);
    standby_beta(dir, &seg, &hb);
    // kill -9 of Heartbeat: over the cable alone, tandem takes over.
    std::thread::sleep(Duration::from_secs(1));
    kill_heartbeat(dir, &seg, &hb, "serial");
    seg.stop(1);
    drop(hb);
    let _ = cable.kill();
    let _ = cable.wait();
}

/// `wire auto` (the default, no `wire` line): tandem starts native and
/// becomes Heartbeat's partner once it hears an authentic Heartbeat
/// message from alpha.
#[test]
fn wire_auto_answers_a_heartbeat_node_in_its_format() {
    let test = "wire_auto_answers_a_heartbeat_node_in_its_format";
    if cannot_run(test) {
        return;
    }
    let tmp = temp();
    let dir = tmp.path();
    configure_tandem_wire(dir, KEYS, "");
    let mut seg = Segment::new("hbauto", 2);
    let hb = HeartbeatNode::start(&seg.ns(0), "alpha", &heartbeat_hacf(), KEYS, &group());
    stable_pair(dir, &mut seg, &hb);
    assert!(
        logs(dir).contains("answering it in its format from now on (wire auto)"),
        "{}",
        both_logs(dir, &hb)
    );
    standby_alpha(dir, &seg, &hb);
}

/// Two tandem nodes that both speak Heartbeat's protocol (the middle of a
/// migration whose second node was started with `wire heartbeat` or
/// switched by `wire auto`) agree as two Heartbeat nodes do.
#[test]
fn two_tandem_nodes_speaking_heartbeat_agree_with_each_other() {
    let test = "two_tandem_nodes_speaking_heartbeat_agree_with_each_other";
    if common::cannot_run(test) {
        return;
    }
    let tmp = temp();
    let dir = tmp.path();
    configure_node(dir, "alpha", "192.0.2.2", KEYS, "wire heartbeat\n");
    configure_node(dir, "beta", "192.0.2.1", KEYS, "wire heartbeat\n");
    let mut seg = Segment::new("hbboth", 2);
    seg.start(0, dir);
    seg.start(1, dir);
    let placed = wait_for(Duration::from_secs(40), || {
        has_vip(&seg, 0) && !has_vip(&seg, 1) && tandem_sees_alpha(dir)
    });
    assert!(placed, "{}", logs(dir));
    let control = |n: &str| dir.join(n).join("state/control");
    let answer =
        tandem::host::control::request(&control("alpha"), "standby all", Duration::from_secs(5));
    assert!(answer.is_ok(), "{answer:?}");
    let moved = wait_for(Duration::from_secs(30), || {
        has_vip(&seg, 1) && !has_vip(&seg, 0)
    });
    assert!(moved, "standby did not move the group:\n{}", logs(dir));
    kill_tandem(&mut seg);
    let taken = wait_for(Duration::from_secs(15), || has_vip(&seg, 0));
    assert!(taken, "alpha did not take over:\n{}", logs(dir));
}

/// `auto_failback legacy` on both: no negotiation, Heartbeat's old
/// `ip-request`/`ip-request-resp`. tandem runs alone first and holds the
/// group; Heartbeat starts and asks for its group, tandem gives it.
#[test]
fn legacy_auto_failback_hands_the_group_over_by_ip_request() {
    let test = "legacy_auto_failback_hands_the_group_over_by_ip_request";
    if cannot_run(test) {
        return;
    }
    let tmp = temp();
    let dir = tmp.path();
    configure_tandem(dir);
    let legacy = |text: String| text.replace("auto_failback on", "auto_failback legacy");
    let hacf = std::fs::read_to_string(dir.join("beta/ha.cf")).expect("ha.cf");
    std::fs::write(dir.join("beta/ha.cf"), legacy(hacf)).expect("ha.cf");
    let mut seg = Segment::new("hblegacy", 2);
    seg.start(1, dir);
    assert!(
        wait_for(Duration::from_secs(20), || has_vip(&seg, 1)),
        "tandem alone never took the group:\n{}",
        logs(dir)
    );
    let hb = HeartbeatNode::start(
        &seg.ns(0),
        "alpha",
        &legacy(heartbeat_hacf()),
        KEYS,
        &group(),
    );
    let moved = wait_for(Duration::from_secs(40), || {
        has_vip(&seg, 0) && !has_vip(&seg, 1)
    });
    assert!(
        moved,
        "Heartbeat's ip-request did not move its group:\n{}",
        both_logs(dir, &hb)
    );
    kill_heartbeat(dir, &seg, &hb, "legacy");
}

/// `wire auto` with what Heartbeat's protocol cannot carry (here
/// monitor_interval): tandem says so once, naming the line, stays native,
/// and takes nothing from the Heartbeat node it hears.
#[test]
fn wire_auto_that_cannot_answer_says_why_once_and_takes_nothing() {
    let test = "wire_auto_that_cannot_answer_says_why_once_and_takes_nothing";
    if cannot_run(test) {
        return;
    }
    let tmp = temp();
    let dir = tmp.path();
    configure_tandem_wire(dir, KEYS, "monitor_interval 10s\n");
    let mut seg = Segment::new("hbnoauto", 2);
    let hb = HeartbeatNode::start(&seg.ns(0), "alpha", &heartbeat_hacf(), KEYS, &group());
    assert!(
        wait_for(Duration::from_secs(30), || has_vip(&seg, 0)),
        "Heartbeat alone never took its group:\n{}",
        hb.log()
    );
    seg.start(1, dir);
    let said = "wire auto cannot answer it in its format";
    assert!(
        wait_for(Duration::from_secs(10), || logs(dir).contains(said)),
        "{}",
        both_logs(dir, &hb)
    );
    // Longer than tandem's initdead: still once, and nothing taken.
    std::thread::sleep(Duration::from_secs(6));
    let log = logs(dir);
    assert_eq!(log.matches(said).count(), 1, "{log}");
    assert!(log.contains("monitor_interval"), "{log}");
    assert!(!has_vip(&seg, 1), "tandem took over a live node:\n{log}");
    assert!(has_vip(&seg, 0));
}
