//! Debian's Heartbeat example files run under tandem: ha.cf, haresources
//! and authkeys from the heartbeat package, completed as a Heartbeat user
//! completes them (their commented lines uncommented, node names and
//! addresses filled in), start a pair in network namespaces. As shipped
//! (no node, no link), they are refused with the reasons. The `respawn`
//! lines run real clients: as their user, with the `env` variables, back
//! when killed, not again after exit 100, gone with the daemon. The group
//! also runs Debian's Dummy OCF agent in Heartbeat's OCF::TYPE::INSTANCE
//! form, its parameters from conf/OCF/Dummy/web. Needs root
//! and iproute2 (skips with the reason otherwise).

mod common;

use common::debian::{completed_authkeys, completed_hacf, completed_haresources, ClientDir};
use common::vip::{has_vip, VIP};
use common::{cannot_run, heartbeat_doc_dir, logs, status, wait_for, Segment, EXE};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// The state file of node `name`'s Dummy (its parameter `state`).
fn dummy_state(dir: &Path, name: &str) -> std::path::PathBuf {
    dir.join(format!("dummy-web-{name}.state"))
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
        // The group gets Heartbeat's OCF::TYPE::INSTANCE form too: Debian's
        // Dummy agent with its state file from conf/OCF/Dummy/web.
        let haresources = completed_haresources(&doc).replace(
            &format!("alpha\t{VIP}"),
            &format!("alpha\t{VIP} OCF::Dummy::web"),
        );
        std::fs::write(cfg.join("haresources"), haresources).expect("haresources");
        std::fs::create_dir_all(cfg.join("conf/OCF/Dummy")).expect("mkdir");
        std::fs::write(
            cfg.join("conf/OCF/Dummy/web"),
            format!("state={}\n", dummy_state(dir, name).display()),
        )
        .expect("parameters");
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
    let dummy = wait_for(Duration::from_secs(10), || {
        dummy_state(dir, "alpha").exists()
    });
    assert!(
        dummy,
        "OCF::Dummy::web did not start with its state file:\n{}",
        logs(dir)
    );
    assert!(
        !dummy_state(dir, "beta").exists(),
        "OCF::Dummy::web runs on beta too"
    );

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
