//! The director's alerts, as ldirectord users configure them: mail to
//! `emailalert` through a real MTA (Debian's exim4 in a private mount
//! namespace, tests/common/mta.rs) when a real server goes down and up,
//! and when the director starts and stops; `fallbackcommand start` when
//! every real server is down and `stop` when one is back. Needs root.

mod common;

use common::mta::Mta;
use std::net::TcpListener;
use std::process::Stdio;
use std::time::Duration;

const EXE: &str = env!("CARGO_BIN_EXE_tandem");

#[test]
fn mail_and_fallbackcommand_follow_the_real_servers() {
    let Some(mta) = Mta::new("mail_and_fallbackcommand_follow_the_real_servers") else {
        return;
    };
    let dir = mta.dir.path();
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = server.local_addr().unwrap().port();
    let script = dir.join("fallback.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"$1\" >> {}/fallback.log\n", dir.display()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let cf = dir.join("ldirectord.cf");
    std::fs::write(
        &cf,
        format!(
            "checkinterval=1\nemailalert=ops@example.org\nemailalertfrom=director@example.org\n\
             emailalertstatus=all\nfallbackcommand=\"{}\"\n\
             virtual=192.0.2.10:80\n\treal=127.0.0.1:{port} masq\n\tchecktype=connect\n",
            script.display()
        ),
    )
    .unwrap();
    let sock = dir.join("s.sock");
    let mut director = mta
        .command(false, EXE)
        .args(["director", "--checks-only", "-c"])
        .arg(&cf)
        .arg("--socket")
        .arg(&sock)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Stopped however the test ends (it holds the test's output open).
    struct Kill<'a>(&'a mut std::process::Child);
    impl Drop for Kill<'_> {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let director = Kill(&mut director);
    let mail = mta.wait_for_messages(2);
    assert!(mail.contains("Subject: tandem director on "), "{mail}");
    assert!(
        mail.contains("director started: 1 virtual service(s)"),
        "{mail}"
    );
    assert!(
        mail.contains(&format!(
            "real server 127.0.0.1:{port} of TCP 192.0.2.10:80 (connect) is up"
        )),
        "{mail}"
    );
    assert!(mail.contains("From: director@example.org"), "{mail}");
    // The server goes: mail, and the fallback command starts.
    drop(server);
    let mail = mta.wait_for_messages(3);
    assert!(
        mail.contains("is down: connect: Connection refused"),
        "{mail}"
    );
    let log = || std::fs::read_to_string(dir.join("fallback.log")).unwrap_or_default();
    assert!(
        common::wait_for(Duration::from_secs(10), || log() == "start\n"),
        "{}",
        log()
    );
    // It comes back: mail, and the fallback command stops.
    let _server = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let mail = mta.wait_for_messages(4);
    let ups = mail
        .lines()
        .filter(|l| l.starts_with("Subject:") && l.ends_with("(connect) is up"))
        .count();
    assert_eq!(ups, 2, "{mail}");
    assert!(
        common::wait_for(Duration::from_secs(10), || log() == "start\nstop\n"),
        "{}",
        log()
    );
    // Stopping is mailed too.
    let _ = std::process::Command::new(EXE)
        .args(["director", "--socket"])
        .arg(&sock)
        .arg("stop")
        .output();
    let _ = director.0.wait();
    let mail = mta.wait_for_messages(5);
    assert!(mail.contains("director stopped"), "{mail}");
}
