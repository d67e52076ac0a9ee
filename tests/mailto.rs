//! The shipped resource.d/MailTo against a real MTA: Debian's exim4,
//! with the test's own configuration bound over exim's in a private
//! mount namespace (nothing on the host changes), delivering to a
//! mailbox file in the test's directory. Needs root (mount namespaces)
//! and exim4 (tests/setup installs exim4-daemon-light); skips with the
//! reason otherwise.

mod common;

use common::mta::Mta;
use std::process::Output;
use std::time::Duration;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/resource.d/MailTo");

fn run(mta: &Mta, args: &[&str], no_mta: bool) -> Output {
    let rsctmp = mta.dir.path().join("rsctmp");
    let _ = std::fs::create_dir(&rsctmp);
    mta.command(no_mta, "sh")
        .arg(SCRIPT)
        .args(args)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("HA_RSCTMP", rsctmp)
        .output()
        .expect("run MailTo")
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn mailto_mails_on_start_and_stop_and_reports_status() {
    let Some(mta) = Mta::new("mailto") else {
        return;
    };
    let list = "ops@example.org,oncall@example.org";
    let out = run(&mta, &[list, "web pair", "status"], false);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "stopped");

    let out = run(&mta, &[list, "web pair", "start"], false);
    assert!(out.status.success(), "{}", text(&out));
    let mail = mta.wait_for_messages(2);
    // One message per address, each with the subject and the node.
    let node = nix::unistd::gethostname()
        .expect("hostname")
        .to_string_lossy()
        .to_string();
    assert_eq!(
        mail.matches(&format!("Subject: web pair: takeover on {node}\n"))
            .count(),
        2,
        "{mail}"
    );
    assert!(
        mail.contains("To: ops@example.org,oncall@example.org\n"),
        "{mail}"
    );
    let out = run(&mta, &[list, "web pair", "status"], false);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "running");

    let out = run(&mta, &[list, "web pair", "stop"], false);
    assert!(out.status.success(), "{}", text(&out));
    let mail = mta.wait_for_messages(4);
    assert_eq!(
        mail.matches(&format!("Subject: web pair: release on {node}\n"))
            .count(),
        2,
        "{mail}"
    );
    let out = run(&mta, &[list, "web pair", "status"], false);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
}

#[test]
fn mailto_refuses_hostile_arguments_and_survives_a_missing_mta() {
    let Some(mta) = Mta::new("mailto") else {
        return;
    };
    let marker = mta.dir.path().join("pwned");
    let hostile = [
        vec![
            format!("ops@example.org;touch {}", marker.display()),
            "start".into(),
        ],
        vec![
            "ops@example.org".into(),
            "x\nBcc: all@example.org".into(),
            "start".into(),
        ],
        vec!["-oQ/tmp@example.org".into(), "start".into()],
        vec![
            format!("$(touch {})@example.org", marker.display()),
            "start".into(),
        ],
    ];
    for args in &hostile {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run(&mta, &args, false);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
    assert!(!marker.exists(), "an argument reached a shell");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(mta.mailbox(), "", "a refused start sent mail");

    // No MTA at all: the start succeeds (a takeover must not fail for a
    // mail) and says why nothing was sent.
    let out = run(&mta, &["ops@example.org", "start"], true);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no sendmail"),
        "{}",
        text(&out)
    );
    assert_eq!(
        run(&mta, &["ops@example.org", "status"], true)
            .status
            .code(),
        Some(0)
    );
}
