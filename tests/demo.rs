//! The README's main job: `tandem demo` runs a real pair and exits 0.

use std::process::Command;

#[test]
fn readme_main_job_is_the_demo() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    assert!(
        readme.contains("cargo run --release -- demo\n"),
        "README names another main job"
    );
}

#[test]
fn demo_shows_a_takeover_and_exits_0() {
    let dir = tempfile::tempdir().expect("temp dir");
    let work = dir.path().join("demo");
    let out = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .arg("demo")
        .arg("--dir")
        .arg(&work)
        .output()
        .expect("run tandem demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for step in [
        "takeover: beta declared alpha dead",
        "failback: demo-service runs on alpha again",
        "no takeover: demo-service still runs on alpha only",
        "standby: demo-service moved to beta",
        "handover: demo-service runs on beta",
        "demo complete",
    ] {
        assert!(stdout.contains(step), "missing `{step}`:\n{stdout}");
    }
    assert!(!work.exists(), "a successful demo cleans up");
}

/// The README promises the demo needs no root. As root, run it as
/// `nobody` (setpriv, from util-linux); as anyone else the test above
/// already does.
#[test]
fn demo_runs_without_root() {
    let root = std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(2))
            == Some("0")
    });
    if !root {
        eprintln!("SKIPPED demo_runs_without_root: not root; demo_shows_a_takeover_and_exits_0 runs it unprivileged");
        return;
    }
    let out = Command::new("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
        .arg(env!("CARGO_BIN_EXE_tandem"))
        .arg("demo")
        .env("TMPDIR", "/tmp")
        .current_dir("/tmp")
        .output()
        .expect("run setpriv");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("demo complete"), "{stdout}");
}
