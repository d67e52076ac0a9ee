//! The `ppp` medium on a kernel that has PPP: two QEMU guests (Debian's
//! stock kernel, tests/vm/rig.sh) joined by a serial cable, each running
//! tandem with `ppp /dev/ttyS1 alpha=192.0.2.1 beta=192.0.2.2`. Checks
//! that tandem starts pppd, keepalives cross the PPP link, and when pppd is
//! killed tandem starts it again and the link recovers. Needs root (to
//! install qemu and pppd, tests/setup does it) and takes about 20 s.

use std::path::Path;
use std::process::Command;

fn skip(why: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "pppd_under_tandem_in_two_guests cannot run under CI: {why}"
    );
    eprintln!("SKIPPED pppd_under_tandem_in_two_guests: {why}");
}

#[test]
fn pppd_under_tandem_in_two_guests() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let vm = root.join("tests/vm");
    let rig = root.join("target/vm-rig");
    let have = |p: &str| Path::new(p).exists();
    if !have("/usr/bin/qemu-system-x86_64") || !have("/usr/sbin/pppd") || !have("/bin/busybox") {
        return skip(
            "needs qemu-system-x86, ppp and busybox-static (tests/vm/rig.sh deps, as root)",
        );
    }
    let kernel = std::fs::read_dir(&rig)
        .map(|d| {
            d.flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("linux-image-"))
        })
        .unwrap_or(false);
    if !kernel {
        return skip("no kernel package in target/vm-rig (tests/vm/rig.sh deps)");
    }
    let build = Command::new("bash")
        .arg(vm.join("rig.sh"))
        .arg("build")
        .arg(env!("CARGO_BIN_EXE_tandem"))
        .output()
        .expect("run rig.sh build");
    assert!(
        build.status.success(),
        "rig build: {}",
        String::from_utf8_lossy(&build.stderr)
    );
    let out = Command::new("bash")
        .current_dir(&vm)
        .env("RIG_FILES", "ppp-common.sh:ppp-common.sh")
        .arg("rig.sh")
        .args(["pair", "ppp-alpha.sh", "ppp-beta.sh"])
        .output()
        .expect("run rig.sh pair");
    let console = String::from_utf8_lossy(&out.stdout);
    let verdict = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{console}\n{verdict}");
    // A guest's first line may carry the firmware's terminal escapes.
    let said = |guest: &str, step: &str| {
        console
            .lines()
            .any(|l| l.starts_with(guest) && l.contains(step))
    };
    for step in ["PPP-UP", "PPP-RESTARTED", "PPP-RECOVERED", "PPP-OK"] {
        assert!(said("[A]", step), "{step} missing:\n{console}");
    }
    assert!(said("[B]", "PPP-OK"), "{console}");
}
