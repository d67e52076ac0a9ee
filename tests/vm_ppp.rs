//! The `ppp` medium on a kernel that has PPP: two QEMU guests (Debian's
//! stock kernel, tests/vm/rig.sh) joined by a serial cable, each running
//! tandem with `ppp /dev/ttyS1 alpha=192.0.2.1 beta=192.0.2.2`. Checks
//! that tandem starts pppd, keepalives cross the PPP link, and when pppd is
//! killed tandem starts it again and the link recovers. Needs root (to
//! install qemu and pppd, tests/setup does it) and takes about 20 s.

mod common;

#[test]
fn pppd_under_tandem_in_two_guests() {
    let Some(vm) = common::vm::prepare_or_skip("pppd_under_tandem_in_two_guests") else {
        return;
    };
    let console = common::vm::run(
        &vm,
        &["pair", "ppp-alpha.sh", "ppp-beta.sh"],
        "ppp-common.sh:ppp-common.sh",
    );
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
