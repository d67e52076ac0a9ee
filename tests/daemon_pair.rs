//! Two real `tandem run` daemons on this machine, joined by a pty pair
//! (the null-modem cable) and UDP on loopback, both relayed by the test so
//! either can be cut. Bounds are generous: these run beside other tests on
//! two busy cores; exact figures belong to the benchmark.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use tandem::demo::{group_state, link_up, peer_liveness, Pair, Timings};

const EXE: &str = env!("CARGO_BIN_EXE_tandem");
const LONG: Duration = Duration::from_secs(20);

/// `tandem demo`'s timings: keepalive 100 ms, deadtime 600 ms.
const FAST: Timings = Timings::DEMO;

/// Deadtime long enough that a handover "well under deadtime" means
/// something on a loaded machine.
const SLOW: Timings = Timings {
    keepalive: "250ms",
    warntime: "1500ms",
    deadtime: "3",
    initdead: "6",
};

fn temp(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("tandem-{name}-"))
        .tempdir()
        .expect("temp dir")
}

/// A pair with alpha running the group and beta seeing alpha up.
fn running_pair(dir: &Path, t: &Timings) -> Pair {
    running_pair_with(dir, t, "")
}

/// The same, with `extra` at the end of both ha.cf files.
fn running_pair_with(dir: &Path, t: &Timings, extra: &str) -> Pair {
    let mut pair = Pair::new(dir, Path::new(EXE), t, extra).expect("pair config");
    pair.start(0).expect("start alpha");
    pair.start(1).expect("start beta");
    let up = pair.wait_for(LONG, |p| {
        p.service_on() == ["alpha"]
            && p.status(1)
                .is_some_and(|s| peer_liveness(&s, "alpha") == Some("up"))
            && p.status(1).is_some_and(|s| {
                link_up(&s, "alpha", 0) == Some(true) && link_up(&s, "alpha", 1) == Some(true)
            })
    });
    assert!(up.is_some(), "pair did not come up:\n{}", logs(&pair));
    pair
}

/// Starts both daemons and waits for alpha to run the group.
fn start_both(pair: &mut Pair) {
    pair.start(0).expect("start alpha");
    pair.start(1).expect("start beta");
    let up = pair.wait_for(LONG, |p| p.service_on() == ["alpha"]);
    assert!(up.is_some(), "{}", logs(pair));
}

/// Everything written to the FIFO at `path`, as it comes. Opened for
/// reading and writing, so the reader never sees end-of-file between the
/// daemon's writes.
fn fifo_tap(path: &Path) -> std::sync::Arc<std::sync::Mutex<Vec<u8>>> {
    use std::io::Read;
    let reader = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .expect("open fifo");
    let bytes = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = bytes.clone();
    std::thread::spawn(move || {
        for b in std::io::BufReader::new(reader)
            .bytes()
            .map_while(Result::ok)
        {
            if let Ok(mut v) = sink.lock() {
                v.push(b);
            }
        }
    });
    bytes
}

fn logs(pair: &Pair) -> String {
    (0..2)
        .map(|i| {
            format!(
                "--- {} ---\n{}",
                pair.names[i],
                std::fs::read_to_string(pair.log_path(i)).unwrap_or_default()
            )
        })
        .collect()
}

fn log_of(pair: &Pair, i: usize) -> String {
    std::fs::read_to_string(pair.log_path(i)).unwrap_or_default()
}

#[test]
fn kill_9_of_the_owner_is_taken_over_within_deadtime_plus_a_second() {
    let dir = temp("kill");
    let mut pair = running_pair(dir.path(), &FAST);
    let killed = Instant::now();
    pair.crash(0);
    let took = pair.wait_for(LONG, |p| p.service_on() == ["beta"]);
    let elapsed = killed.elapsed();
    assert!(took.is_some(), "no takeover:\n{}", logs(&pair));
    assert!(
        elapsed < Duration::from_millis(600 + 1000),
        "takeover took {elapsed:?}:\n{}",
        logs(&pair)
    );
    let running = pair.wait_for(LONG, |p| {
        p.status(1).is_some_and(|s| {
            peer_liveness(&s, "alpha") == Some("dead") && group_state(&s) == Some("running")
        })
    });
    assert!(running.is_some(), "{}", logs(&pair));
}

#[test]
fn graceful_stop_hands_over_well_under_deadtime() {
    let dir = temp("stop");
    let mut pair = running_pair(dir.path(), &SLOW);
    let asked = Instant::now();
    pair.request(0, "shutdown").expect("shutdown accepted");
    let moved = pair.wait_for(LONG, |p| p.service_on() == ["beta"]);
    assert!(moved.is_some(), "no handover:\n{}", logs(&pair));
    let elapsed = asked.elapsed();
    assert!(
        elapsed < Duration::from_millis(1500),
        "handover took {elapsed:?} (deadtime 3 s):\n{}",
        logs(&pair)
    );
    let exit = pair.wait_exit(0, Duration::from_secs(10));
    assert!(exit.is_some_and(|s| s.success()), "alpha did not exit 0");
    let left = pair.wait_for(LONG, |p| {
        log_of(p, 1).contains("node alpha left the cluster")
    });
    assert!(left.is_some(), "{}", logs(&pair));
}

#[test]
fn standby_and_takeover_move_the_group_and_back() {
    let dir = temp("standby");
    let pair = running_pair(dir.path(), &FAST);
    pair.request(0, "standby all").expect("standby");
    assert!(
        pair.wait_for(LONG, |p| p.service_on() == ["beta"])
            .is_some(),
        "standby:\n{}",
        logs(&pair)
    );
    pair.request(0, "takeover all").expect("takeover");
    assert!(
        pair.wait_for(LONG, |p| p.service_on() == ["alpha"])
            .is_some(),
        "takeover:\n{}",
        logs(&pair)
    );
    // And from the other side: beta takes it, with the CLI verbs.
    let out = Command::new(EXE)
        .args(["takeover", "all", "--state-dir"])
        .arg(pair.state_dir(1))
        .output()
        .expect("run tandem takeover");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        pair.wait_for(LONG, |p| p.service_on() == ["beta"])
            .is_some(),
        "takeover on beta:\n{}",
        logs(&pair)
    );
}

/// Cuts one wire for several deadtimes: the link goes down, the node
/// stays up, nothing moves.
fn one_link_cut(serial: bool) {
    let dir = temp(if serial { "cable" } else { "udp" });
    let pair = running_pair(dir.path(), &FAST);
    let (wire, link) = if serial {
        (&pair.cable.switch, 0)
    } else {
        (&pair.udp.switch, 1)
    };
    wire.cut();
    let down = pair.wait_for(LONG, |p| {
        p.status(1)
            .is_some_and(|s| link_up(&s, "alpha", link) == Some(false))
    });
    assert!(down.is_some(), "link never went down:\n{}", logs(&pair));
    std::thread::sleep(Duration::from_millis(2000));
    assert_eq!(pair.service_on(), ["alpha"], "{}", logs(&pair));
    let s = pair.status(1).expect("beta status");
    assert_eq!(peer_liveness(&s, "alpha"), Some("up"));
    wire.restore();
    let up = pair.wait_for(LONG, |p| {
        p.status(1)
            .is_some_and(|s| link_up(&s, "alpha", link) == Some(true))
    });
    assert!(up.is_some(), "link never came back:\n{}", logs(&pair));
    assert!(!log_of(&pair, 1).contains("is dead"), "{}", logs(&pair));
}

#[test]
fn serial_cable_cut_with_udp_up_is_no_takeover() {
    one_link_cut(true);
}

#[test]
fn udp_cut_with_serial_up_is_no_takeover() {
    one_link_cut(false);
}

#[test]
fn both_links_cut_is_a_split_brain_healed_on_restore() {
    let dir = temp("split");
    let pair = running_pair(dir.path(), &FAST);
    pair.cable.switch.cut();
    pair.udp.switch.cut();
    let both = pair.wait_for(LONG, |p| p.service_on() == ["alpha", "beta"]);
    assert!(both.is_some(), "beta never took over:\n{}", logs(&pair));
    pair.cable.switch.restore();
    pair.udp.switch.restore();
    let healed = pair.wait_for(LONG, |p| p.service_on() == ["alpha"]);
    assert!(healed.is_some(), "split brain not healed:\n{}", logs(&pair));
    let all = logs(&pair);
    assert!(all.contains("SPLIT BRAIN"), "{all}");
}

fn write_hacf(pair: &Pair, i: usize, edit: impl Fn(&str) -> String) {
    let path = pair.config_dir(i).join("ha.cf");
    let text = std::fs::read_to_string(&path).expect("read ha.cf");
    std::fs::write(&path, edit(&text)).expect("write ha.cf");
}

#[test]
fn a_bad_reload_keeps_the_running_configuration_and_groups() {
    let dir = temp("reload");
    let pair = running_pair(dir.path(), &FAST);
    write_hacf(&pair, 0, |t| t.replace("keepalive 100ms", "keepalive soon"));
    let r = pair.request(0, "reload");
    let err = r.expect_err("a bad reload must be refused").to_string();
    assert!(err.contains("reload refused"), "{err}");
    assert!(err.contains("ha.cf"), "names the file: {err}");
    assert_eq!(pair.service_on(), ["alpha"]);
    let s = pair.status(0).expect("alpha still answers");
    assert_eq!(s["keepalive_ms"], 100);
    // A link change is refused too: it cannot be applied without a restart.
    write_hacf(&pair, 0, |t| {
        t.replace("keepalive soon", "keepalive 100ms")
            .replace("baud 19200", "baud 19200\nbcast lo")
    });
    let err = pair
        .request(0, "reload")
        .expect_err("links changed")
        .to_string();
    assert!(err.contains("links changed"), "{err}");
    // A good one (new timings) is applied, and nothing moves.
    write_hacf(&pair, 0, |t| {
        t.replace("keepalive 100ms", "keepalive 50ms")
            .replace("baud 19200\nbcast lo", "baud 19200")
    });
    pair.request(0, "reload").expect("good reload");
    let s = pair.status(0).expect("status");
    assert_eq!(s["keepalive_ms"], 50);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(pair.service_on(), ["alpha"]);
    // SIGHUP goes the same way.
    let pid = pair.children[0].as_ref().expect("alpha runs").id();
    write_hacf(&pair, 0, |t| t.replace("keepalive 50ms", "keepalive 80ms"));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGHUP,
    )
    .expect("send HUP");
    let applied = pair.wait_for(LONG, |p| {
        p.status(0).is_some_and(|s| s["keepalive_ms"] == 80)
    });
    assert!(applied.is_some(), "{}", logs(&pair));
}

#[test]
fn a_second_daemon_with_the_same_state_refuses_to_start() {
    let dir = temp("twice");
    let pair = running_pair(dir.path(), &FAST);
    let out = Command::new(EXE)
        .args(["run", "-c"])
        .arg(pair.config_dir(0))
        .args(["--node", "alpha", "--state-dir"])
        .arg(pair.state_dir(0))
        .output()
        .expect("run tandem");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("already running"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert_eq!(pair.service_on(), ["alpha"]);
}

#[test]
fn a_missing_serial_device_is_a_down_link_not_an_exit() {
    let dir = temp("nodev");
    let mut pair = Pair::new(dir.path(), Path::new(EXE), &FAST, "").expect("pair");
    // alpha's cable end points at a device that does not exist (yet).
    write_hacf(&pair, 0, |t| {
        let line = t
            .lines()
            .find(|l| l.starts_with("serial "))
            .unwrap_or("")
            .to_string();
        t.replace(&line, "serial /dev/tandem-test-no-such-tty")
    });
    pair.start(0).expect("start alpha");
    pair.start(1).expect("start beta");
    let up = pair.wait_for(LONG, |p| {
        p.status(1)
            .is_some_and(|s| peer_liveness(&s, "alpha") == Some("up"))
    });
    assert!(up.is_some(), "{}", logs(&pair));
    std::thread::sleep(Duration::from_millis(1500));
    let log = log_of(&pair, 0);
    assert!(log.contains("/dev/tandem-test-no-such-tty"), "{log}");
    assert_eq!(
        log.lines()
            .filter(|l| l.contains("the link is down, retrying"))
            .count(),
        1,
        "logged once:\n{log}"
    );
    assert!(pair.children[0]
        .as_mut()
        .is_some_and(|c| c.try_wait().ok().flatten().is_none()));
}

#[test]
fn control_verbs_without_a_daemon_say_so_in_one_line() {
    let dir = temp("nodaemon");
    let out = Command::new(EXE)
        .args(["status", "--state-dir"])
        .arg(dir.path())
        .output()
        .expect("run tandem status");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not running"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn status_text_json_and_cl_status_answer() {
    let dir = temp("status");
    let pair = running_pair(dir.path(), &FAST);
    let state: PathBuf = pair.state_dir(1);
    let run = |args: &[&str]| {
        let out = Command::new(EXE)
            .args(args)
            .arg("--state-dir")
            .arg(&state)
            .output()
            .expect("run tandem");
        eprintln!("{}", String::from_utf8_lossy(&out.stderr));
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string(),
        )
    };
    let (ok, text) = run(&["status"]);
    assert!(ok);
    assert!(
        text.contains("alpha") && text.contains("link serial"),
        "{text}"
    );
    assert!(text.contains("held by alpha"), "{text}");
    let (ok, json) = run(&["status", "--json"]);
    assert!(ok);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v["node"], "beta");
    assert!(v["generation"].as_u64().is_some_and(|g| g >= 1));
    assert!(v["frames"]["dropped"]["replay"].is_u64());
    assert_eq!(
        run(&["cl-status", "nodestatus", "alpha"]).1.trim(),
        "active"
    );
    assert_eq!(run(&["cl-status", "listnodes"]).1, "alpha\nbeta\n");
    assert_eq!(run(&["cl-status", "rscstatus"]).1.trim(), "none");
    let (ok, _) = run(&["cl-status", "nodestatus", "gamma"]);
    assert!(!ok);
    // An unknown request is one clear line and a non-zero exit.
    let out = Command::new(EXE)
        .args(["standby", "sideways", "--state-dir"])
        .arg(&state)
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("sideways"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn a_restarted_node_has_a_new_generation_and_is_recognised() {
    let dir = temp("gen");
    let mut pair = running_pair(dir.path(), &FAST);
    let g1 = pair.status(0).expect("status")["generation"].as_u64();
    pair.crash(0);
    pair.wait_for(LONG, |p| p.service_on() == ["beta"])
        .expect("takeover");
    pair.start(0).expect("restart alpha");
    let back = pair.wait_for(LONG, |p| p.service_on() == ["alpha"]);
    assert!(back.is_some(), "{}", logs(&pair));
    let g2 = pair.status(0).expect("status")["generation"].as_u64();
    assert!(g2 > g1, "{g1:?} -> {g2:?}");
    assert!(log_of(&pair, 1).contains("node alpha restarted"));
}

#[test]
fn keepalives_go_on_while_a_resource_script_runs() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp("slow");
    let mut pair = Pair::new(dir.path(), Path::new(EXE), &FAST, "").expect("pair");
    // alpha's start takes 3 s, five deadtimes: the loop must not wait.
    let script = pair.config_dir(0).join("resource.d/demo-service");
    let text = std::fs::read_to_string(&script).expect("script");
    let slow = text.replace("    start)  ", "    start)  sleep 3; ");
    assert_ne!(slow, text);
    std::fs::write(&script, slow).expect("write");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    pair.start(0).expect("start alpha");
    pair.start(1).expect("start beta");
    let starting = pair.wait_for(LONG, |p| {
        p.status(0)
            .is_some_and(|s| group_state(&s) == Some("starting"))
    });
    assert!(starting.is_some(), "{}", logs(&pair));
    let running = pair.wait_for(LONG, |p| p.service_on() == ["alpha"]);
    assert!(running.is_some(), "{}", logs(&pair));
    let beta = log_of(&pair, 1);
    assert!(
        !beta.contains("is dead"),
        "beta lost alpha during its start:\n{beta}"
    );
    // (A late-keepalive warning may come from a loaded test machine; a
    // blocked loop would show as a death: 3 s is five deadtimes.)
}

#[test]
fn daemonized_run_writes_a_pid_file_and_stops_on_request() {
    let dir = temp("detach");
    let mut pair = Pair::new(dir.path(), Path::new(EXE), &FAST, "").expect("pair");
    // Logs go where ha.cf says once detached.
    let log = dir.path().join("alpha-detached.log");
    write_hacf(&pair, 0, |t| format!("{t}logfile {}\n", log.display()));
    let out = Command::new(EXE)
        .args(["run", "-d", "-c"])
        .arg(pair.config_dir(0))
        .args(["--node", "alpha", "--state-dir"])
        .arg(pair.state_dir(0))
        .output()
        .expect("run -d");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    pair.start(1).expect("start beta");
    let pid_file = pair.state_dir(0).join("tandem.pid");
    let up = pair.wait_for(LONG, |p| {
        p.service_on() == ["alpha"] && pid_file.exists() && p.status(0).is_some()
    });
    assert!(up.is_some(), "{}", logs(&pair));
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .expect("pid file")
        .trim()
        .parse()
        .expect("a pid");
    assert!(Path::new(&format!("/proc/{pid}")).exists());
    pair.request(0, "shutdown").expect("stop");
    let gone = pair.wait_for(LONG, |_| !Path::new(&format!("/proc/{pid}")).exists());
    assert!(gone.is_some(), "daemon did not exit");
    assert!(!pid_file.exists(), "pid file left behind");
    let text = std::fs::read_to_string(&log).expect("logfile written");
    assert!(text.contains("shutdown complete"), "{text}");
    let moved = pair.wait_for(LONG, |p| p.service_on() == ["beta"]);
    assert!(moved.is_some(), "{}", logs(&pair));
}

#[test]
fn run_refuses_what_it_cannot_carry_out_naming_each_line() {
    let dir = temp("notyet");
    let pair = Pair::new(dir.path(), Path::new(EXE), &FAST, "").expect("pair");
    write_hacf(&pair, 0, |t| {
        format!(
            "{t}ping6 2001:db8::fe\nrespawn hacluster /usr/lib/heartbeat/ipfail\nwire heartbeat\n"
        )
    });
    let out = Command::new(EXE)
        .args(["run", "-c"])
        .arg(pair.config_dir(0))
        .args(["--node", "alpha", "--state-dir"])
        .arg(pair.state_dir(0))
        .output()
        .expect("run tandem");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    // IPv6 ping nodes run now: no longer refused.
    assert!(
        !err.lines().any(|l| l.contains(": ping6: ")),
        "ping6 refused:\n{err}"
    );
    // ipfail is not run (ping nodes do its job), and is no error.
    assert!(
        !err.lines().any(|l| l.contains(": respawn: ")),
        "respawn of ipfail refused:\n{err}"
    );
    // What Heartbeat's partner cannot agree on is refused with its line.
    assert!(
        err.lines().any(|l| l.contains("ha.cf:")
            && l.contains(": ping: not available with Heartbeat's protocol")),
        "{err}"
    );
    assert!(
        !pair.state_dir(0).join("control").exists(),
        "nothing half-started"
    );
}

fn edit_service(pair: &Pair, i: usize, edit: impl Fn(&str) -> String) {
    use std::os::unix::fs::PermissionsExt;
    let script = pair.config_dir(i).join("resource.d/demo-service");
    let text = std::fs::read_to_string(&script).expect("script");
    let new = edit(&text);
    assert_ne!(new, text, "edit changed nothing");
    std::fs::write(&script, new).expect("write");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

#[test]
fn a_hanging_start_is_killed_at_resource_timeout_and_the_group_moves() {
    let dir = temp("hang");
    let mut pair =
        Pair::new(dir.path(), Path::new(EXE), &FAST, "resource_timeout 1s").expect("pair");
    edit_service(&pair, 0, |t| {
        t.replace("    start)  ", "    start)  sleep 60; ")
    });
    pair.start(0).expect("start alpha");
    pair.start(1).expect("start beta");
    let moved = pair.wait_for(LONG, |p| p.service_on() == ["beta"]);
    assert!(moved.is_some(), "{}", logs(&pair));
    let alpha = log_of(&pair, 0);
    assert!(alpha.contains("timed out after 1s; killed"), "{alpha}");
    assert!(alpha.contains("start failed"), "{alpha}");
    // Nothing of the script left behind: its whole process group was
    // killed (its environment names alpha's configuration directory).
    let tag = format!("HA_d={}", pair.config_dir(0).display());
    let left: Vec<String> = std::fs::read_dir("/proc")
        .expect("/proc")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().parse::<u32>().is_ok())
        .filter(|e| {
            std::fs::read(e.path().join("environ"))
                .is_ok_and(|env| env.split(|&b| b == 0).any(|v| v == tag.as_bytes()))
        })
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    assert!(left.is_empty(), "left running: {left:?}");
}

#[test]
fn a_failing_start_hands_the_group_over() {
    let dir = temp("fail");
    let mut pair = Pair::new(dir.path(), Path::new(EXE), &FAST, "").expect("pair");
    edit_service(&pair, 0, |t| {
        t.replace("    start)  ", "    start)  echo broken >&2; exit 1; ")
    });
    pair.start(0).expect("start alpha");
    pair.start(1).expect("start beta");
    let moved = pair.wait_for(LONG, |p| p.service_on() == ["beta"]);
    assert!(moved.is_some(), "{}", logs(&pair));
    let alpha = log_of(&pair, 0);
    assert!(alpha.contains("resource demo-service"), "{alpha}");
    assert!(
        alpha.contains(": broken"),
        "script output in the log: {alpha}"
    );
    let s = pair.status(0).expect("status");
    assert_eq!(s["groups"][0]["failed"], true);
}

#[test]
fn arguments_reach_scripts_literally_even_from_odd_paths() {
    use std::os::unix::fs::PermissionsExt;
    // Scripts under a directory with a space and a semicolon in its path
    // (haresources arguments themselves cannot hold whitespace).
    let tmp = tempfile::Builder::new()
        .prefix("tandem odd;dir ")
        .tempdir()
        .expect("temp dir");
    let mut pair = Pair::new(tmp.path(), Path::new(EXE), &FAST, "").expect("pair");
    let seen = tmp.path().join("argv");
    let marker = std::env::temp_dir().join(format!("tandem-pwned-{}", std::process::id()));
    let odd = format!("argcheck::$(touch${{IFS}}{})::;ls::`id`", marker.display());
    for i in 0..2 {
        let script = pair.config_dir(i).join("resource.d/argcheck");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > '{}.'\"$TANDEM_NODE\"\n",
                seen.display()
            ),
        )
        .expect("script");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        std::fs::write(
            pair.config_dir(i).join("haresources"),
            format!("alpha {odd}\n"),
        )
        .expect("haresources");
    }
    pair.start(0).expect("start alpha");
    pair.start(1).expect("start beta");
    let file = format!("{}.alpha", seen.display());
    let argv = pair
        .wait_for(LONG, |_| {
            std::fs::read_to_string(&file).is_ok_and(|t| t.ends_with("start\n"))
        })
        .and_then(|_| std::fs::read_to_string(&file).ok())
        .unwrap_or_default();
    let expected = format!("$(touch${{IFS}}{})\n;ls\n`id`\nstart\n", marker.display());
    assert_eq!(argv, expected, "{}", logs(&pair));
    assert!(!marker.exists(), "an argument reached a shell");
}

/// Whether resource-agents' Dummy is installed (skips with the reason,
/// fails under CI, when not).
fn dummy_agent(test: &str) -> bool {
    if Path::new("/usr/lib/ocf/resource.d/heartbeat/Dummy").exists() {
        return true;
    }
    let why = "needs Debian's resource-agents (tests/setup installs it as root)";
    assert!(std::env::var_os("CI").is_none(), "{test}: {why}");
    eprintln!("SKIPPED {test}: {why}");
    false
}

#[test]
fn an_ocf_agent_from_resource_agents_runs_unchanged() {
    if !dummy_agent("an_ocf_agent_from_resource_agents_runs_unchanged") {
        return;
    }
    let dir = temp("ocf");
    let mut pair = Pair::new(dir.path(), Path::new(EXE), &FAST, "").expect("pair");
    let names = pair.names;
    let state = |i: usize| dir.path().join(format!("dummy-{}.state", names[i]));
    for i in 0..2 {
        std::fs::write(
            pair.config_dir(i).join("haresources"),
            format!("alpha ocf:heartbeat:Dummy::state={}\n", state(i).display()),
        )
        .expect("haresources");
    }
    pair.start(0).expect("start alpha");
    pair.start(1).expect("start beta");
    // The state file appears as the agent's start runs; the group is
    // running once the daemon has its exit status.
    let on_alpha = pair.wait_for(LONG, |p| {
        state(0).exists()
            && !state(1).exists()
            && p.status(0)
                .is_some_and(|s| group_state(&s) == Some("running"))
    });
    assert!(on_alpha.is_some(), "{}", logs(&pair));
    // alpha dies with its resource; beta's Dummy starts.
    pair.kill(0);
    let _ = std::fs::remove_file(state(0));
    let on_beta = pair.wait_for(LONG, |_| state(1).exists());
    assert!(on_beta.is_some(), "{}", logs(&pair));
    // Restarted, alpha probes Dummy (monitor: not running) and takes the
    // group back (auto_failback on): beta's Dummy stops.
    pair.start(0).expect("restart alpha");
    let back = pair.wait_for(LONG, |_| state(0).exists() && !state(1).exists());
    assert!(back.is_some(), "{}", logs(&pair));
}

/// A Heartbeat v1 name whose resource.d wrapper is gone (Heartbeat
/// removed) runs the OCF agent that wrapper called, the positional
/// arguments as its parameters: `Filesystem::DEVICE::DIR::FSTYPE`.
#[test]
fn a_heartbeat_v1_name_runs_the_ocf_agent_its_wrapper_called() {
    let agent = Path::new("/usr/lib/ocf/resource.d/heartbeat/Filesystem");
    let test = "a_heartbeat_v1_name_runs_the_ocf_agent_its_wrapper_called";
    if !agent.exists() {
        common::skip(
            test,
            "needs Debian's resource-agents (tests/setup installs it as root)",
        );
        return;
    }
    if !common::is_root() {
        common::skip(test, "needs root to mount a tmpfs");
        return;
    }
    let dir = temp("v1agent");
    let mut pair = Pair::new(dir.path(), Path::new(EXE), &FAST, "").expect("pair");
    let names = pair.names;
    let mount_point = |i: usize| dir.path().join(format!("mnt-{}", names[i]));
    /// Unmounts whatever the test left mounted, also after a failure.
    struct Unmount(Vec<PathBuf>);
    impl Drop for Unmount {
        fn drop(&mut self) {
            for m in &self.0 {
                let _ = Command::new("umount").arg("-l").arg(m).status();
            }
        }
    }
    let _unmount = Unmount((0..2).map(mount_point).collect());
    for i in 0..2 {
        std::fs::create_dir(mount_point(i)).expect("mount point");
        std::fs::write(
            pair.config_dir(i).join("haresources"),
            format!(
                "alpha Filesystem::tandem-test::{}::tmpfs\n",
                mount_point(i).display()
            ),
        )
        .expect("haresources");
    }
    let mounted = |i: usize| {
        let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
        let want = format!(" {} tmpfs ", mount_point(i).display());
        mounts.lines().any(|l| l.contains(&want))
    };
    pair.start(0).expect("start alpha");
    pair.start(1).expect("start beta");
    let on_alpha = pair.wait_for(LONG, |p| {
        mounted(0)
            && !mounted(1)
            && p.status(0)
                .is_some_and(|s| group_state(&s) == Some("running"))
    });
    assert!(on_alpha.is_some(), "{}", logs(&pair));
    pair.request(0, "standby all").expect("standby");
    let on_beta = pair.wait_for(LONG, |_| mounted(1) && !mounted(0));
    assert!(on_beta.is_some(), "{}", logs(&pair));
}

fn stonith_available(test: &str) -> bool {
    if Path::new("/usr/sbin/stonith").exists() {
        return true;
    }
    let why =
        "needs cluster-glue's stonith tool (tests/setup installs resource-agents, which brings it)";
    assert!(std::env::var_os("CI").is_none(), "{test}: {why}");
    eprintln!("SKIPPED {test}: {why}");
    false
}

#[test]
fn a_dead_owner_is_fenced_before_its_group_is_taken_over() {
    if !stonith_available("a_dead_owner_is_fenced_before_its_group_is_taken_over") {
        return;
    }
    let dir = temp("fence");
    let mut pair = Pair::new(
        dir.path(),
        Path::new(EXE),
        &FAST,
        "stonith_host * null alpha beta",
    )
    .expect("pair");
    start_both(&mut pair);
    pair.crash(0);
    assert!(
        pair.wait_for(LONG, |p| p.service_on() == ["beta"])
            .is_some(),
        "{}",
        logs(&pair)
    );
    let logged = pair.wait_for(LONG, |p| {
        log_of(p, 1).contains("demo service started on beta")
    });
    assert!(logged.is_some(), "{}", logs(&pair));
    let beta = log_of(&pair, 1);
    let fenced = beta.find("fencing node alpha: reset done").expect("fenced");
    let started = beta.find("/service start").expect("started");
    assert!(fenced < started, "fenced after the start:\n{beta}");
}

/// on_stop_failure fence: alpha cannot stop its group, goes silent; beta
/// declares it dead, resets it through the STONITH device, then takes
/// over (the null device resets nothing: the stand-in stays on alpha).
#[test]
fn a_stop_that_keeps_failing_gets_the_node_fenced_before_the_takeover() {
    if !stonith_available("a_stop_that_keeps_failing_gets_the_node_fenced_before_the_takeover") {
        return;
    }
    let dir = temp("stopfence");
    let extra = "stonith_host * null alpha beta\non_stop_failure fence";
    let mut pair = stuck_stop_pair(dir.path(), extra);
    start_both(&mut pair);
    pair.request(0, "standby all").expect("standby");
    let taken = pair.wait_for(Duration::from_secs(40), |p| {
        log_of(p, 1).contains("demo service started on beta")
    });
    assert!(taken.is_some(), "{}", logs(&pair));
    let alpha = log_of(&pair, 0);
    assert!(alpha.contains("going silent"), "{alpha}");
    let beta = log_of(&pair, 1);
    let dead = beta
        .find("node alpha is dead")
        .expect("alpha declared dead");
    let fenced = beta.find("fencing node alpha: reset done").expect("fenced");
    let started = beta.find("/service start").expect("started");
    assert!(dead < fenced && fenced < started, "{beta}");
}

#[test]
fn a_failed_fence_blocks_the_takeover_and_is_retried() {
    if !stonith_available("a_failed_fence_blocks_the_takeover_and_is_retried") {
        return;
    }
    let dir = temp("nofence");
    let mut pair = Pair::new(
        dir.path(),
        Path::new(EXE),
        &FAST,
        "stonith_host * no-such-device x",
    )
    .expect("pair");
    start_both(&mut pair);
    pair.crash(0);
    let failed = pair.wait_for(LONG, |p| {
        log_of(p, 1).contains("fencing node alpha: FAILED")
    });
    assert!(failed.is_some(), "{}", logs(&pair));
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        pair.service_on().is_empty(),
        "taken over unfenced:\n{}",
        logs(&pair)
    );
    let beta = log_of(&pair, 1);
    assert!(beta.contains("trying again in 5s"), "{beta}");
    assert_eq!(
        beta.matches("-T reset alpha").count(),
        1,
        "no retry storm:\n{beta}"
    );
}

#[test]
fn notify_program_and_fifo_are_told_of_every_state_change() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp("notify");
    let pair = Pair::new(dir.path(), Path::new(EXE), &FAST, "").expect("pair");
    let fifo = dir.path().join("alpha.fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo")
        .success());
    let script = dir.path().join("notify.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$@\" >> '{}/notify-'\"$TANDEM_NODE\"\n",
            dir.path().display()
        ),
    )
    .expect("script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    write_hacf(&pair, 0, |t| {
        format!(
            "{t}notify {}\nnotify_fifo {}\n",
            script.display(),
            fifo.display()
        )
    });
    let tapped = fifo_tap(&fifo);
    let lines = || -> Vec<String> {
        let bytes = tapped.lock().map(|v| v.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(str::to_string)
            .collect()
    };
    let mut pair = pair;
    start_both(&mut pair);
    pair.request(0, "standby all").expect("standby");
    assert!(
        pair.wait_for(LONG, |p| p.service_on() == ["beta"])
            .is_some(),
        "{}",
        logs(&pair)
    );
    let group = format!("demo-service::{}", dir.path().join("service").display());
    let expected = [
        "node-up beta".to_string(),
        format!("group-starting {group}"),
        format!("group-started {group}"),
        format!("group-stopping {group}"),
        format!("group-stopped {group}"),
    ];
    let got = pair
        .wait_for(LONG, |_| lines().iter().any(|l| *l == expected[4]))
        .map(|_| lines())
        .unwrap_or_default();
    // In order, on the FIFO.
    let positions: Vec<Option<usize>> = expected
        .iter()
        .map(|e| got.iter().position(|l| l == e))
        .collect();
    assert!(positions.iter().all(Option::is_some), "{got:?}");
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "out of order: {got:?}"
    );
    assert!(
        got.iter().any(|l| l.starts_with("link-up beta serial ")),
        "{got:?}"
    );
    // And the program heard the same (perhaps in another order).
    let told = dir.path().join("notify-alpha");
    let heard = pair.wait_for(LONG, |_| {
        std::fs::read_to_string(&told).is_ok_and(|t| t.contains(&expected[4]))
    });
    assert!(
        heard.is_some(),
        "{}",
        std::fs::read_to_string(&told).unwrap_or_default()
    );
    let text = std::fs::read_to_string(&told).unwrap_or_default();
    for e in &expected {
        assert!(text.lines().any(|l| l == e), "{e} missing: {text}");
    }
}

/// A FIFO stands in for the watchdog device (this kernel has no softdog):
/// the daemon writes to it while it runs and writes the magic `V` on a
/// graceful exit.
#[test]
fn the_watchdog_is_fed_while_running_and_disarmed_on_exit() {
    let dir = temp("watchdog");
    let mut pair = Pair::new(dir.path(), Path::new(EXE), &FAST, "").expect("pair");
    let dev = dir.path().join("watchdog");
    assert!(Command::new("mkfifo")
        .arg(&dev)
        .status()
        .expect("mkfifo")
        .success());
    write_hacf(&pair, 0, |t| format!("{t}watchdog {}\n", dev.display()));
    let bytes = fifo_tap(&dev);
    start_both(&mut pair);
    std::thread::sleep(Duration::from_millis(1000));
    let fed = bytes.lock().map(|v| v.len()).unwrap_or(0);
    assert!(fed >= 5, "fed {fed} times in a second at keepalive 100 ms");
    pair.request(0, "shutdown").expect("stop");
    assert!(pair.wait_exit(0, LONG).is_some_and(|s| s.success()));
    let last = pair.wait_for(LONG, |_| {
        bytes.lock().is_ok_and(|v| v.last() == Some(&b'V'))
    });
    assert!(last.is_some(), "no magic close");
}

#[test]
fn a_missing_watchdog_device_stops_the_start_naming_the_line() {
    let dir = temp("nowatchdog");
    let pair = Pair::new(dir.path(), Path::new(EXE), &FAST, "").expect("pair");
    write_hacf(&pair, 0, |t| {
        format!("{t}watchdog /dev/tandem-test-no-such-watchdog\n")
    });
    let out = Command::new(EXE)
        .args(["run", "-c"])
        .arg(pair.config_dir(0))
        .args(["--node", "alpha", "--state-dir"])
        .arg(pair.state_dir(0))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    // Warnings may be logged first; the refusal is one line.
    let refusals: Vec<&str> = err.lines().filter(|l| l.starts_with("tandem: ")).collect();
    assert_eq!(refusals.len(), 1, "{err}");
    assert!(
        refusals[0].contains("ha.cf:")
            && refusals[0].contains("watchdog /dev/tandem-test-no-such-watchdog"),
        "{err}"
    );
    assert!(
        !pair.state_dir(0).join("control").exists(),
        "nothing half-started"
    );
}

#[test]
fn a_monitor_failure_restarts_in_place_and_the_second_moves_the_group() {
    let dir = temp("monitor");
    let mut pair =
        Pair::new(dir.path(), Path::new(EXE), &FAST, "monitor_interval 200ms").expect("pair");
    start_both(&mut pair);
    // Healthy: monitors pass, nothing moves, the log stays quiet.
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(pair.service_on(), ["alpha"], "{}", logs(&pair));
    assert!(
        !log_of(&pair, 0).contains("failed its monitor"),
        "{}",
        log_of(&pair, 0)
    );
    // The service dies on alpha (its file goes): the first failure is
    // below migration_threshold 2, so it is restarted where it is.
    let file = dir.path().join("service/running-on-alpha");
    let _ = std::fs::remove_file(&file);
    let restarted = pair.wait_for(LONG, |p| log_of(p, 0).contains("restarted in place"));
    assert!(restarted.is_some(), "{}", logs(&pair));
    assert_eq!(pair.service_on(), ["alpha"], "{}", logs(&pair));
    let alpha = log_of(&pair, 0);
    assert!(
        alpha.contains("failure 1 of migration_threshold 2"),
        "{alpha}"
    );
    let s = pair.status(0).expect("status");
    assert_eq!(s["groups"][0]["failures"], 1, "{s}");
    assert_eq!(s["groups"][0]["failed"], false, "{s}");
    assert!(
        !log_of(&pair, 1).contains("demo service started on beta"),
        "{}",
        logs(&pair)
    );
    // Again, within failure_timeout: the second failure moves the group.
    let _ = std::fs::remove_file(&file);
    let moved = pair.wait_for(LONG, |p| p.service_on() == ["beta"]);
    assert!(moved.is_some(), "{}", logs(&pair));
    let alpha = log_of(&pair, 0);
    assert!(alpha.contains("failed its monitor"), "{alpha}");
    let s = pair.status(0).expect("status");
    assert_eq!(s["groups"][0]["failed"], true, "{s}");
    assert_eq!(s["groups"][0]["failures"], 2, "{s}");
    let text = pair.request(0, "status").expect("status");
    assert!(text.contains("failed here 2 times"), "{text}");
}

#[test]
fn after_a_failure_on_each_node_the_group_runs_again_once_failures_expire() {
    let dir = temp("expire");
    let extra = "monitor_interval 200ms\nmigration_threshold 1\nfailure_timeout 4";
    let mut pair = Pair::new(dir.path(), Path::new(EXE), &FAST, extra).expect("pair");
    start_both(&mut pair);
    let _ = std::fs::remove_file(dir.path().join("service/running-on-alpha"));
    let moved = pair.wait_for(LONG, |p| p.service_on() == ["beta"]);
    assert!(moved.is_some(), "{}", logs(&pair));
    let _ = std::fs::remove_file(dir.path().join("service/running-on-beta"));
    // Failed on both: it runs nowhere for a while, and both say why.
    let down = pair.wait_for(LONG, |p| {
        p.service_on().is_empty()
            && (0..2).all(|i| {
                p.status(i)
                    .is_some_and(|s| s["groups"][0]["failed"] == true)
            })
    });
    assert!(down.is_some(), "{}", logs(&pair));
    // alpha's failure expires first (failure_timeout 4): it runs again.
    let back = pair.wait_for(LONG, |p| p.service_on() == ["alpha"]);
    assert!(back.is_some(), "{}", logs(&pair));
    assert!(
        log_of(&pair, 0).contains("failures of it expired"),
        "{}",
        logs(&pair)
    );
}

#[test]
fn cleanup_forgets_failures_at_once() {
    let dir = temp("cleanup");
    let extra = "monitor_interval 200ms\nmigration_threshold 1\nfailure_timeout 0";
    let mut pair = Pair::new(dir.path(), Path::new(EXE), &FAST, extra).expect("pair");
    start_both(&mut pair);
    let _ = std::fs::remove_file(dir.path().join("service/running-on-alpha"));
    assert!(pair
        .wait_for(LONG, |p| p.service_on() == ["beta"])
        .is_some());
    let _ = std::fs::remove_file(dir.path().join("service/running-on-beta"));
    let down = pair.wait_for(LONG, |p| {
        p.service_on().is_empty()
            && p.status(1)
                .is_some_and(|s| s["groups"][0]["failed"] == true)
    });
    assert!(down.is_some(), "{}", logs(&pair));
    let text = pair.request(0, "status").expect("status");
    assert!(text.contains("they do not expire"), "{text}");
    std::thread::sleep(Duration::from_millis(1000));
    assert!(pair.service_on().is_empty(), "{}", logs(&pair));
    let key = pair.status(0).expect("status")["groups"][0]["group"]
        .as_str()
        .expect("group key")
        .to_string();
    let reply = pair.request(0, &format!("cleanup {key}")).expect("cleanup");
    assert!(reply.contains("failures forgotten"), "{reply}");
    let back = pair.wait_for(LONG, |p| p.service_on() == ["alpha"]);
    assert!(back.is_some(), "{}", logs(&pair));
    assert!(pair.request(0, "cleanup no-such-group").is_err());
}

/// An LSB init script runs as it is: `script start|stop|status`, its exit
/// codes read the LSB way (status 3: not running).
#[test]
fn an_lsb_init_script_runs_unchanged() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp("lsb");
    let mut pair = Pair::new(dir.path(), Path::new(EXE), &FAST, "").expect("pair");
    let init_d = dir.path().join("init.d");
    std::fs::create_dir_all(&init_d).expect("mkdir");
    let state = dir.path().join("lsb-state");
    let script = init_d.join("lsb-svc");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n### BEGIN INIT INFO\n# Provides: lsb-svc\n### END INIT INFO\n\
             f='{}'.\"$TANDEM_NODE\"\n\
             case \"$1\" in\n\
             start) touch \"$f\" ;;\n\
             stop) rm -f \"$f\" ;;\n\
             status) [ -e \"$f\" ] && {{ echo 'lsb-svc is running'; exit 0; }}; echo 'lsb-svc is not running'; exit 3 ;;\n\
             *) exit 2 ;;\nesac\nexit 0\n",
            state.display()
        ),
    )
    .expect("script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    for i in 0..2 {
        std::fs::write(pair.config_dir(i).join("haresources"), "alpha lsb-svc\n")
            .expect("haresources");
    }
    pair.run_args = vec!["--init-d".into(), init_d.display().to_string()];
    pair.start(0).expect("start alpha");
    pair.start(1).expect("start beta");
    let on = |n: &str| Path::new(&format!("{}.{n}", state.display())).exists();
    assert!(
        pair.wait_for(LONG, |_| on("alpha") && !on("beta"))
            .is_some(),
        "{}",
        logs(&pair)
    );
    pair.request(0, "standby all").expect("standby");
    assert!(
        pair.wait_for(LONG, |_| on("beta") && !on("alpha"))
            .is_some(),
        "{}",
        logs(&pair)
    );
    let alpha = log_of(&pair, 0);
    assert!(
        alpha.contains(&format!("{} stop", script.display())),
        "{alpha}"
    );
}

/// A stop that keeps failing is retried (Heartbeat: 10 times, a second
/// apart), then escalated: the group stays where it is, and the other
/// node never starts it beside it.
/// A pair whose alpha cannot stop its service (its stop script fails),
/// alpha running it; `extra` at the end of both ha.cf files.
fn stuck_stop_pair(dir: &Path, extra: &str) -> Pair {
    let pair = Pair::new(dir, Path::new(EXE), &FAST, extra).expect("pair");
    edit_service(&pair, 0, |t| {
        t.replace("    stop)   ", "    stop)   echo stuck >&2; exit 1; ")
    });
    pair
}

#[test]
fn a_stop_that_keeps_failing_blocks_the_group_until_cleanup() {
    // on_stop_failure block (the demo's and the tests' setting).
    let dir = temp("stopfail");
    let mut pair = stuck_stop_pair(dir.path(), "");
    // beta's copy of the script is the unbroken one.
    let good = std::fs::read_to_string(pair.config_dir(1).join("resource.d/demo-service"))
        .expect("script");
    start_both(&mut pair);
    pair.request(0, "standby all").expect("standby");
    let blocked = pair.wait_for(Duration::from_secs(30), |p| {
        log_of(p, 0).contains("blocked: no node will start it")
    });
    assert!(blocked.is_some(), "{}", logs(&pair));
    let alpha = log_of(&pair, 0);
    assert!(alpha.contains("stop failed (attempt 10)"), "{alpha}");
    assert!(alpha.contains("asking its status"), "{alpha}");
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(pair.service_on(), ["alpha"], "{}", logs(&pair));
    assert!(
        !log_of(&pair, 1).contains("demo service started on beta"),
        "beta started the group beside a node that could not stop it:\n{}",
        logs(&pair)
    );
    let s = pair.status(0).expect("status");
    assert_eq!(s["groups"][0]["blocked"], true, "{s}");
    let key = s["groups"][0]["group"].as_str().expect("key").to_string();
    let text = pair.request(0, "status").expect("status");
    assert!(
        text.contains(&format!("then run `tandem cleanup {key}`")),
        "{text}"
    );
    // The operator stops it by hand and cleans up: the group goes where it
    // belongs (alpha is in standby: beta).
    std::fs::write(pair.config_dir(0).join("resource.d/demo-service"), good).expect("script");
    let _ = std::fs::remove_file(dir.path().join("service/running-on-alpha"));
    pair.request(0, &format!("cleanup {key}")).expect("cleanup");
    let moved = pair.wait_for(LONG, |p| p.service_on() == ["beta"]);
    assert!(moved.is_some(), "{}", logs(&pair));
}

#[test]
fn a_failed_stop_whose_status_says_stopped_is_warned_about_and_passed() {
    // Heartbeat's rule: a stop that failed ten times but whose status says
    // stopped is a script that is probably not LSB-compliant; go on.
    let dir = temp("stopnotlsb");
    let mut pair = Pair::new(dir.path(), Path::new(EXE), &FAST, "").expect("pair");
    edit_service(&pair, 0, |t| {
        t.replace(
            "    stop)   rm -f \"$f\"; ",
            "    stop)   rm -f \"$f\"; exit 1; ",
        )
    });
    start_both(&mut pair);
    pair.request(0, "standby all").expect("standby");
    let moved = pair.wait_for(Duration::from_secs(30), |p| p.service_on() == ["beta"]);
    assert!(moved.is_some(), "{}", logs(&pair));
    let alpha = log_of(&pair, 0);
    assert!(alpha.contains("probably not LSB-compliant"), "{alpha}");
}

/// on_stop_failure reboot: alpha runs in a PID namespace of its own, where
/// reboot(2) ends only that namespace (Linux 3.4 and later): its init,
/// the daemon itself, dies of SIGHUP. beta takes over when alpha goes
/// silent. Needs root and unshare; skips with the reason otherwise.
#[test]
fn a_stop_that_keeps_failing_reboots_the_node_and_the_other_takes_over() {
    let test = "a_stop_that_keeps_failing_reboots_the_node_and_the_other_takes_over";
    if !common::is_root() {
        common::skip(test, "needs root for a PID namespace");
        return;
    }
    if Command::new("unshare").arg("--version").output().is_err() {
        common::skip(test, "needs unshare (util-linux)");
        return;
    }
    let dir = temp("reboot");
    // Only alpha's stop fails, and only alpha may reboot: in its own PID
    // namespace (never the host's).
    let mut pair = stuck_stop_pair(dir.path(), "on_stop_failure reboot");
    write_hacf(&pair, 1, |t| {
        t.replace("on_stop_failure reboot", "on_stop_failure block")
    });
    pair.wrapper = ["unshare", "--pid", "--fork", "--kill-child"]
        .map(String::from)
        .to_vec();
    pair.start(0).expect("start alpha");
    pair.wrapper.clear();
    pair.start(1).expect("start beta");
    let up = pair.wait_for(LONG, |p| p.service_on() == ["alpha"]);
    assert!(up.is_some(), "{}", logs(&pair));
    // alpha runs as the PID namespace's init.
    pair.request(0, "standby all").expect("standby");
    let ended = pair.wait_exit(0, Duration::from_secs(40));
    let status = ended.unwrap_or_else(|| panic!("alpha did not reboot:\n{}", logs(&pair)));
    use std::os::unix::process::ExitStatusExt;
    // unshare reports its child's death by SIGHUP as 128 + 1, or dies of
    // the same signal.
    assert!(
        status.signal() == Some(libc::SIGHUP) || status.code() == Some(128 + libc::SIGHUP),
        "alpha ended with {status:?}, not by reboot(2) in its PID namespace:\n{}",
        logs(&pair)
    );
    let alpha = log_of(&pair, 0);
    assert!(alpha.contains("rebooting now"), "{alpha}");
    // The resource is a stand-in that survives a "reboot"; a real node
    // comes back without it. beta takes over once alpha is silent.
    let _ = std::fs::remove_file(dir.path().join("service/running-on-alpha"));
    let took = pair.wait_for(LONG, |p| p.service_on() == ["beta"]);
    assert!(took.is_some(), "{}", logs(&pair));
}

#[test]
fn a_node_restarted_with_another_key_takes_nothing_and_both_logs_say_why() {
    for wire in ["wire native", "wire auto"] {
        restarted_with_another_key(wire);
    }
}

fn restarted_with_another_key(wire: &str) {
    // The wrong-key case as a new user meets it: beta restarts with a
    // different key. It must not declare the live alpha dead after
    // initdead, nor start alpha's group; its log and status say why, and
    // alpha's log counts beta's failing frames.
    let dir = temp("wrong-key");
    let mut pair = running_pair_with(dir.path(), &FAST, wire);
    pair.kill(1);
    let authkeys = pair.config_dir(1).join("authkeys");
    std::fs::write(&authkeys, "auth 1\n1 sha256 another-key-entirely\n").expect("authkeys");
    pair.start(1).expect("restart beta");
    // initdead (3 deadtimes here) and more.
    std::thread::sleep(Duration::from_millis(3000));
    assert_eq!(pair.service_on(), ["alpha"], "{wire}: {}", logs(&pair));
    let beta = log_of(&pair, 1);
    assert!(
        beta.contains("node alpha sends messages that fail authentication"),
        "{wire}: {beta}"
    );
    assert!(!beta.contains("node alpha is dead"), "{wire}: {beta}");
    let alpha = log_of(&pair, 0);
    assert!(
        alpha.contains("claiming to be from beta (bad_tag)"),
        "{alpha}"
    );
    let status = pair.status(1).expect("beta's status");
    let peer = status["nodes"]
        .as_array()
        .and_then(|n| n.iter().find(|n| n["node"] == "alpha"))
        .cloned()
        .expect("alpha in beta's status");
    assert!(
        peer["unauthenticated_since_ms_ago"].as_u64().is_some(),
        "{status}"
    );
    assert_eq!(peer["liveness"], "unknown", "{status}");
}

#[test]
fn a_reload_that_would_cut_off_a_live_peer_s_key_is_refused() {
    let dir = temp("rotate");
    let pair = running_pair(dir.path(), &FAST);
    let authkeys = pair.config_dir(0).join("authkeys");
    let old = std::fs::read_to_string(&authkeys).expect("authkeys");
    let old_line = old.lines().nth(1).expect("key line").to_string();
    // Only the new key: beta still signs with key 1.
    std::fs::write(&authkeys, "auth 2\n2 sha256 the-new-key\n").expect("write");
    let err = pair
        .request(0, "reload")
        .expect_err("would split the pair")
        .to_string();
    assert!(err.contains("reload refused"), "{err}");
    assert!(
        err.contains("authkeys: key 1, which node beta signs with, is no longer accepted"),
        "{err}"
    );
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(pair.service_on(), ["alpha"], "{}", logs(&pair));
    // The rotation that works: the new key beside the old one.
    std::fs::write(
        &authkeys,
        format!("auth 1\n{old_line}\n2 sha256 the-new-key\n"),
    )
    .expect("write");
    pair.request(0, "reload").expect("both keys: accepted");
}

#[test]
fn crc_on_a_udp_link_is_warned_about() {
    let dir = temp("crc");
    let pair = Pair::new(dir.path(), Path::new(EXE), &FAST, "").expect("pair config");
    let cfg = pair.config_dir(0);
    std::fs::write(cfg.join("authkeys"), "auth 1\n1 crc\n").expect("write");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(cfg.join("authkeys"), std::fs::Permissions::from_mode(0o600))
        .expect("chmod");
    let out = Command::new(EXE)
        .args(["check-config", "-c"])
        .arg(&cfg)
        .args(["--node", "alpha"])
        .output()
        .expect("check-config");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("is a UDP link and authkeys signs with crc, which authenticates nothing"),
        "{text}"
    );
}

#[test]
fn hbgenmethod_time_takes_the_clock_and_never_goes_backwards() {
    let dir = temp("genmethod");
    let mut pair = Pair::new(dir.path(), Path::new(EXE), &FAST, "hbgenmethod time").expect("pair");
    let wall = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs()
    };
    // A generation file two seconds ahead of the clock: the start waits.
    let ahead = wall() + 2;
    let state = pair.state_dir(0);
    std::fs::create_dir_all(&state).expect("state dir");
    std::fs::write(state.join("generation"), format!("{ahead}\n")).expect("generation");
    let started = Instant::now();
    pair.start(0).expect("start alpha");
    pair.start(1).expect("start beta");
    let up = pair.wait_for(LONG, |p| p.status(0).is_some());
    assert!(up.is_some(), "{}", logs(&pair));
    assert!(started.elapsed() >= Duration::from_secs(1), "it waited");
    let s = pair.status(0).expect("status");
    let generation = s["generation"].as_u64().expect("generation");
    assert!(generation > ahead, "{generation} after {ahead}");
    assert!(generation <= wall() + 1, "{generation}");
    assert!(
        log_of(&pair, 0).contains("hbgenmethod time: the clock"),
        "{}",
        log_of(&pair, 0)
    );
    let b = pair.status(1).expect("beta");
    assert!(b["generation"].as_u64().expect("gen") + 5 >= wall());
}

/// kill -9 of alpha on a serial-only pair (the UDP wire cut); with
/// `noisy`, line noise and forged Heartbeat text naming alpha reach beta
/// all along. The time from alpha's last frame beta heard to the group
/// running on beta.
fn serial_takeover(noisy: bool) -> Duration {
    use std::sync::atomic::{AtomicBool, Ordering};
    let dir = temp(if noisy { "serial-noise" } else { "serial-calm" });
    let mut pair = running_pair(dir.path(), &FAST);
    pair.udp.switch.cut();
    let serial_only = pair.wait_for(LONG, |p| {
        p.status(1)
            .is_some_and(|s| link_up(&s, "alpha", 1) == Some(false))
    });
    assert!(serial_only.is_some(), "{}", logs(&pair));
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let injected = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let took = std::thread::scope(|scope| {
        if noisy {
            use std::io::Write;
            let mut tap = pair.cable.tap(1).expect("tap the cable");
            let (stop, counter) = (stop.clone(), injected.clone());
            scope.spawn(move || {
                let mut x: u64 = 0x2545_f491_4f6c_dd1d;
                let mut seq = 0u64;
                while !stop.load(Ordering::SeqCst) {
                    let mut noise = [0u8; 64];
                    for b in &mut noise {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        *b = x as u8;
                    }
                    seq += 1;
                    let forged = format!(
                        "\n>>>\nt=status\nst=active\nsrc=alpha\nseq={seq:x}\nhg=7fffffff\nts=0\nauth=1 {}\n<<<\n",
                        "0123456789abcdef0123456789abcdef01234567"
                    );
                    for bytes in [&noise[..], forged.as_bytes()] {
                        if tap.write_all(bytes).is_ok() {
                            counter.fetch_add(bytes.len(), Ordering::SeqCst);
                        }
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
            });
        }
        // Three deadtimes with alpha alive: nothing moves.
        std::thread::sleep(Duration::from_millis(1800));
        assert_eq!(pair.service_on(), ["alpha"], "{}", logs(&pair));
        pair.crash(0);
        let heard = pair
            .status(1)
            .and_then(|s| {
                s["nodes"]
                    .as_array()?
                    .iter()
                    .find(|n| n["node"] == "alpha")?["last_heard_ms_ago"]
                    .as_u64()
            })
            .expect("beta heard alpha");
        let last = Instant::now() - Duration::from_millis(heard);
        let took = pair.wait_for(LONG, |p| p.service_on() == ["beta"]);
        stop.store(true, Ordering::SeqCst);
        assert!(took.is_some(), "no takeover:\n{}", logs(&pair));
        last.elapsed()
    });
    if noisy {
        let s = pair.status(1).expect("beta answers");
        let dropped = &s["frames"]["dropped"];
        assert!(
            dropped["noise"].as_u64().unwrap_or(0) > 100
                && dropped["unknown_key"].as_u64().unwrap_or(0) > 100,
            "{} bytes injected; beta's drops: {dropped}",
            injected.load(Ordering::SeqCst)
        );
    }
    took
}

#[test]
fn noise_and_forged_heartbeat_text_on_the_cable_do_not_delay_a_takeover() {
    let calm = serial_takeover(false);
    let noisy = serial_takeover(true);
    eprintln!("serial only, from alpha's last frame to the group on beta: {calm:?} calm, {noisy:?} under noise");
    // The same bound as on UDP: no later than one keepalive (100 ms).
    // (The forged text is signed with key 1, which is sha256 here and has
    // no Heartbeat form: it is dropped as unknown_key.)
    assert!(
        noisy <= calm + Duration::from_millis(100),
        "{noisy:?} under noise, {calm:?} without"
    );
}

/// A directory user `nobody` can read and write, removed on drop, with a
/// client script in it.
struct ClientDir(PathBuf);

impl ClientDir {
    fn new(name: &str, script: &str) -> ClientDir {
        use std::os::unix::fs::PermissionsExt;
        let dir = PathBuf::from(format!("/tmp/tandem-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        let path = dir.join("client");
        std::fs::write(&path, script).expect("client");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        ClientDir(dir)
    }

    fn script(&self) -> PathBuf {
        self.0.join("client")
    }
}

impl Drop for ClientDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A failfast client dies: the node reboots. alpha runs in a PID
/// namespace of its own, where reboot(2) ends only that namespace.
#[test]
fn a_failfast_client_s_death_reboots_the_node() {
    let test = "a_failfast_client_s_death_reboots_the_node";
    if !common::is_root() {
        common::skip(test, "needs root for a PID namespace");
        return;
    }
    if Command::new("unshare").arg("--version").output().is_err() {
        common::skip(test, "needs unshare (util-linux)");
        return;
    }
    let client = ClientDir::new("failfast", "#!/bin/sh\nsleep 4\nexit 1\n");
    let dir = temp("failfast");
    let mut pair = Pair::new(dir.path(), Path::new(EXE), &FAST, "").expect("pair");
    // Only alpha has the client, and only alpha runs in its own PID
    // namespace.
    write_hacf(&pair, 0, |t| {
        format!("{t}failfast nobody {}\n", client.script().display())
    });
    pair.wrapper = ["unshare", "--pid", "--fork", "--kill-child"]
        .map(String::from)
        .to_vec();
    pair.start(0).expect("start alpha");
    pair.wrapper.clear();
    pair.start(1).expect("start beta");
    let up = pair.wait_for(LONG, |p| p.service_on() == ["alpha"]);
    assert!(up.is_some(), "{}", logs(&pair));
    let ended = pair.wait_exit(0, Duration::from_secs(20));
    let status = ended.unwrap_or_else(|| panic!("alpha did not reboot:\n{}", logs(&pair)));
    use std::os::unix::process::ExitStatusExt;
    assert!(
        status.signal() == Some(libc::SIGHUP) || status.code() == Some(128 + libc::SIGHUP),
        "alpha ended with {status:?}:\n{}",
        logs(&pair)
    );
    assert!(
        log_of(&pair, 0).contains("the failfast client died"),
        "{}",
        logs(&pair)
    );
    let _ = std::fs::remove_file(dir.path().join("service/running-on-alpha"));
    let took = pair.wait_for(LONG, |p| p.service_on() == ["beta"]);
    assert!(took.is_some(), "{}", logs(&pair));
}

/// Heartbeat's `OCF::TYPE::INSTANCE`: the heartbeat provider's agent,
/// its parameters from conf/OCF/TYPE/INSTANCE beside haresources; a
/// missing parameter file is an error at the haresources line.
#[test]
fn an_ocf_instance_runs_its_agent_with_the_parameters_of_its_file() {
    if !dummy_agent("an_ocf_instance_runs_its_agent_with_the_parameters_of_its_file") {
        return;
    }
    let dir = temp("ocfinstance");
    let mut pair = Pair::new(dir.path(), Path::new(EXE), &FAST, "").expect("pair");
    let names = pair.names;
    let state = |i: usize| dir.path().join(format!("web-{}.state", names[i]));
    for i in 0..2 {
        let cfg = pair.config_dir(i);
        std::fs::write(cfg.join("haresources"), "alpha OCF::Dummy::web\n").expect("haresources");
    }
    // Without its parameter file: refused, naming the line and the file.
    let out = Command::new(EXE)
        .args(["check-config", "-c"])
        .arg(pair.config_dir(0))
        .args(["--node", "alpha"])
        .output()
        .expect("check-config");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("haresources:1") && text.contains("conf/OCF/Dummy/web"),
        "{text}"
    );
    for i in 0..2 {
        let conf = pair.config_dir(i).join("conf/OCF/Dummy");
        std::fs::create_dir_all(&conf).expect("mkdir");
        std::fs::write(
            conf.join("web"),
            format!(
                "# Dummy's own parameters\nstate=\"{}\"\nfake=hello\n",
                state(i).display()
            ),
        )
        .expect("parameters");
    }
    pair.start(0).expect("start alpha");
    pair.start(1).expect("start beta");
    let on_alpha = pair.wait_for(LONG, |p| {
        state(0).exists()
            && !state(1).exists()
            && p.status(0)
                .is_some_and(|s| group_state(&s) == Some("running"))
    });
    assert!(on_alpha.is_some(), "{}", logs(&pair));
}

/// check-config and run agree: what check-config calls OK starts, and
/// what run refuses check-config calls an error, on each configuration
/// of a small corpus (alpha's configuration with one change each: a line
/// added to ha.cf, or haresources replaced). What depends on the host (a
/// missing script, user, program or parameter file) is among them.
#[test]
fn check_config_and_run_agree_on_every_configuration_of_the_corpus() {
    let corpus: &[(&str, &str, bool)] = &[
        ("ha.cf", "", true),
        (
            "ha.cf",
            "migration_threshold 3\nfailure_timeout 0\non_stop_failure block",
            true,
        ),
        ("ha.cf", "ping6 ::1\nping_group both 127.0.0.1 ::1", true),
        ("ha.cf", "wire heartbeat", false),
        ("ha.cf", "on_stop_failure fence", false),
        ("ha.cf", "migration_threshold 0", false),
        ("ha.cf", "respawn nobody /bin/sleep 1000", true),
        ("ha.cf", "respawn hacluster /usr/lib/heartbeat/ipfail", true),
        ("ha.cf", "respawn no-such-user /bin/sleep 1000", false),
        ("ha.cf", "respawn nobody /no/such/program", false),
        ("haresources", "alpha no-such-script", false),
        ("haresources", "alpha OCF::Dummy::no-such-instance", false),
    ];
    for (file, extra, good) in corpus {
        let dir = temp("agree");
        let pair = Pair::new(dir.path(), Path::new(EXE), &FAST, "").expect("pair");
        if *file == "ha.cf" {
            write_hacf(&pair, 0, |t| format!("{t}{extra}\n"));
        } else {
            std::fs::write(pair.config_dir(0).join(file), format!("{extra}\n")).expect("write");
        }
        let check = Command::new(EXE)
            .args(["check-config", "-c"])
            .arg(pair.config_dir(0))
            .args(["--node", "alpha"])
            .output()
            .expect("check-config");
        let mut run = Command::new(EXE)
            .args(["run", "-c"])
            .arg(pair.config_dir(0))
            .args(["--node", "alpha", "--state-dir"])
            .arg(pair.state_dir(0))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run");
        let control = pair.state_dir(0).join("control");
        let mut started = false;
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if control.exists() {
                started = true;
                break;
            }
            if run.try_wait().is_ok_and(|s| s.is_some()) {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = run.kill();
        let out = run.wait_with_output().expect("run output");
        let said = format!(
            "check-config:\n{}{}\nrun:\n{}",
            String::from_utf8_lossy(&check.stdout),
            String::from_utf8_lossy(&check.stderr),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            check.status.success(),
            started,
            "`{extra}`: check-config and run disagree:\n{said}"
        );
        assert_eq!(started, *good, "`{extra}`:\n{said}");
        if !good {
            // Both name the line.
            let named = |text: &[u8]| {
                let text = String::from_utf8_lossy(text);
                ["ha.cf:", "haresources:", "authkeys:"]
                    .iter()
                    .any(|f| text.contains(f))
            };
            assert!(
                named(&check.stdout) && named(&out.stderr),
                "`{extra}`:\n{said}"
            );
        }
    }
}
