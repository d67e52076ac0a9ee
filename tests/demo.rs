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
