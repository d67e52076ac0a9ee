//! Debian's Heartbeat example files run under tandem: ha.cf, haresources
//! and authkeys from the heartbeat package, completed as a Heartbeat user
//! completes them (their commented lines uncommented, node names and
//! addresses filled in), start a pair in network namespaces. As shipped
//! (no node, no link), they are refused with the reasons. The `respawn`
//! lines run real clients: as their user, with the `env` variables, back
//! when killed, not again after exit 100, gone with the daemon. Needs root
//! and iproute2 (skips with the reason otherwise).

mod common;

use common::vip::{has_vip, VIP};
use common::{cannot_run, heartbeat_doc_dir, logs, status, wait_for, Segment, EXE};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// A directory user `nobody` can write, removed on drop, holding a client
/// script that appends `uid pid HA_greeting HA_CURHOST` to `out`.
struct ClientDir(PathBuf);

impl ClientDir {
    fn new(name: &str, last: &str) -> ClientDir {
        let dir = PathBuf::from(format!("/tmp/tandem-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        let script = format!(
            "#!/bin/sh\necho \"$(id -u) $$ $HA_greeting $HA_CURHOST\" >> \"$(dirname \"$0\")/out\"\n{last}\n"
        );
        std::fs::write(dir.join("client"), script).expect("client");
        std::fs::set_permissions(dir.join("client"), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
        ClientDir(dir)
    }

    fn script(&self) -> String {
        self.0.join("client").display().to_string()
    }

    /// The lines written by the client on `node`: `[uid, pid, greeting]`.
    fn runs_on(&self, node: &str) -> Vec<Vec<String>> {
        std::fs::read_to_string(self.0.join("out"))
            .unwrap_or_default()
            .lines()
            .map(|l| l.split_whitespace().map(str::to_string).collect::<Vec<_>>())
            .filter(|w| w.get(3).map(String::as_str) == Some(node))
            .map(|mut w| {
                w.truncate(3);
                w
            })
            .collect()
    }
}

impl Drop for ClientDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Replaces the first line equal to `from` (after trimming) with `to`;
/// the example must have it.
fn replace_line(text: &str, from: &str, to: &str) -> String {
    let mut done = false;
    let out: Vec<String> = text
        .lines()
        .map(|l| {
            if !done && l.trim() == from {
                done = true;
                to.to_string()
            } else {
                l.to_string()
            }
        })
        .collect();
    assert!(done, "Debian's example has no line `{from}`");
    out.join("\n") + "\n"
}

/// Uncomments the first line that is `#` followed by `line`.
fn uncomment(text: &str, line: &str) -> String {
    let commented = format!("#{line}");
    let found = text
        .lines()
        .find(|l| l.trim() == commented)
        .unwrap_or_else(|| panic!("Debian's example has no line `{commented}`"))
        .to_string();
    replace_line(text, found.trim(), line)
}

/// Debian's ha.cf completed: its timings, udpport and `bcast eth0`
/// uncommented, the two nodes named, ipfail's respawn line kept (tandem
/// warns and does not run it), and the generic respawn line pointed at a
/// real client. Appended: a second client that exits with 100, an `env`
/// line, and `on_stop_failure block` (a test never reboots its machine).
fn completed_hacf(doc: &Path, client: &ClientDir, quitter: &ClientDir) -> String {
    let mut t = std::fs::read_to_string(doc.join("ha.cf")).expect("Debian's ha.cf");
    for line in [
        "keepalive 2",
        "deadtime 30",
        "warntime 10",
        "initdead 120",
        "udpport\t694",
        "bcast\teth0\t\t# Linux",
        "respawn hacluster /usr/lib/heartbeat/ipfail",
    ] {
        t = uncomment(&t, line);
    }
    t = replace_line(&t, "#node\tken3", "node\talpha");
    t = replace_line(&t, "#node\tkathy", "node\tbeta");
    t = replace_line(
        &t,
        "#respawn userid /path/name/to/run",
        &format!("respawn nobody {}", client.script()),
    );
    t + &format!(
        "respawn nobody {}\nenv greeting=hello\non_stop_failure block\n",
        quitter.script()
    )
}

/// Debian's haresources example `#just.linux-ha.org\t135.9.216.110`: the
/// node is alpha and the address one of TEST-NET-1.
fn completed_haresources(doc: &Path) -> String {
    let t = std::fs::read_to_string(doc.join("haresources")).expect("Debian's haresources");
    replace_line(
        &t,
        "#just.linux-ha.org\t135.9.216.110",
        &format!("alpha\t{VIP}"),
    )
}

/// Debian's authkeys with its sha1 key chosen.
fn completed_authkeys(doc: &Path) -> String {
    let t = std::fs::read_to_string(doc.join("authkeys")).expect("Debian's authkeys");
    replace_line(&uncomment(&t, "2 sha1 HI!"), "#auth 1", "auth 2")
}

#[test]
fn debian_s_example_files_as_shipped_are_refused_with_the_reasons() {
    let test = "debian_s_example_files_as_shipped_are_refused_with_the_reasons";
    let Some(doc) = heartbeat_doc_dir(test) else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    for f in ["ha.cf", "haresources", "authkeys"] {
        std::fs::copy(doc.join(f), dir.join(f)).expect("copy");
    }
    std::fs::set_permissions(dir.join("authkeys"), std::fs::Permissions::from_mode(0o600))
        .expect("chmod");
    let out = Command::new(EXE)
        .args(["run", "-c"])
        .arg(dir)
        .args(["--node", "alpha", "--state-dir"])
        .arg(dir.join("state"))
        .output()
        .expect("run");
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    for reason in [
        "ha.cf: no links: add at least one",
        "ha.cf: no nodes: list every node",
    ] {
        assert!(said.contains(reason), "{said}");
    }
}

#[test]
fn debian_s_example_files_completed_start_a_pair_and_its_clients() {
    let test = "debian_s_example_files_completed_start_a_pair_and_its_clients";
    if cannot_run(test) {
        return;
    }
    let Some(doc) = heartbeat_doc_dir(test) else {
        return;
    };
    let client = ClientDir::new("debian-respawn", "exec sleep 1000");
    let quitter = ClientDir::new("debian-respawn100", "exit 100");
    let tmp = tempfile::Builder::new()
        .prefix("tandem-debian-")
        .tempdir()
        .expect("tempdir");
    let dir = tmp.path();
    for name in ["alpha", "beta"] {
        let cfg = dir.join(name);
        std::fs::create_dir_all(cfg.join("state")).expect("mkdir");
        std::fs::write(cfg.join("ha.cf"), completed_hacf(&doc, &client, &quitter)).expect("ha.cf");
        std::fs::write(cfg.join("haresources"), completed_haresources(&doc)).expect("haresources");
        std::fs::write(cfg.join("authkeys"), completed_authkeys(&doc)).expect("authkeys");
        std::fs::set_permissions(cfg.join("authkeys"), std::fs::Permissions::from_mode(0o600))
            .expect("chmod");
        let check = Command::new(EXE)
            .args(["check-config", "-c"])
            .arg(&cfg)
            .args(["--node", name])
            .output()
            .expect("check-config");
        let report = String::from_utf8_lossy(&check.stdout);
        assert!(check.status.success(), "{report}");
        assert!(report.contains("ipfail is not run"), "{report}");
    }
    let mut seg = Segment::new("debian", 2);
    seg.start(0, dir);
    seg.start(1, dir);

    // The group runs on alpha, its haresources node, once both are up.
    let placed = wait_for(Duration::from_secs(60), || {
        has_vip(&seg, 0)
            && !has_vip(&seg, 1)
            && status(dir, 1).is_some_and(|s| s["nodes"][0]["liveness"] == "up")
    });
    assert!(placed, "the group did not start on alpha:\n{}", logs(dir));

    // Each node runs its client as nobody, with `env greeting=hello` as
    // HA_greeting; ipfail is not run.
    for node in ["alpha", "beta"] {
        let ran = wait_for(Duration::from_secs(10), || !client.runs_on(node).is_empty());
        assert!(ran, "no client on {node}:\n{}", logs(dir));
        let run = &client.runs_on(node)[0];
        assert_eq!(run[0], "65534", "{node}: not run as nobody: {run:?}");
        assert_eq!(run.get(2).map(String::as_str), Some("hello"), "{run:?}");
    }
    // Killed: alpha's client comes back.
    let pid = client.runs_on("alpha")[0][1].clone();
    let _ = Command::new("kill").args(["-9", &pid]).status();
    let again = wait_for(Duration::from_secs(10), || {
        client.runs_on("alpha").len() >= 2
    });
    assert!(again, "the client did not come back:\n{}", logs(dir));
    // Exit 100: run once on each node, never again.
    std::thread::sleep(Duration::from_millis(2500));
    for node in ["alpha", "beta"] {
        assert_eq!(quitter.runs_on(node).len(), 1, "{node}:\n{}", logs(dir));
    }
    // The daemon killed with -9: its client dies with it.
    let pid = client.runs_on("alpha")[1][1].clone();
    seg.kill(0);
    let gone = wait_for(Duration::from_secs(5), || {
        !Path::new(&format!("/proc/{pid}")).exists()
    });
    assert!(gone, "client {pid} outlived its daemon:\n{}", logs(dir));
    let log = logs(dir);
    assert!(log.contains("exited with 100 (do not respawn"), "{log}");
}
