//! The shipped resource.d/MailTo against a real MTA: Debian's exim4,
//! with the test's own configuration bound over exim's in a private
//! mount namespace (nothing on the host changes), delivering to a
//! mailbox file in the test's directory. Needs root (mount namespaces)
//! and exim4 (tests/setup installs exim4-daemon-light); skips with the
//! reason otherwise.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/resource.d/MailTo");
const EXIM: &str = "/usr/sbin/exim4";

/// A private exim: spool, log and mailbox under `dir`.
struct Mta {
    dir: tempfile::TempDir,
    /// The configuration file exim reads, which the test's is bound over.
    configure_file: String,
}

impl Mta {
    fn new() -> Option<Mta> {
        if !common::is_root() {
            common::skip("mailto", "needs root for a private mount namespace");
            return None;
        }
        if !Path::new(EXIM).exists() {
            common::skip(
                "mailto",
                "needs exim4 (Debian package exim4-daemon-light); tests/setup installs it",
            );
            return None;
        }
        let out = Command::new(EXIM)
            .args(["-bP", "configure_file"])
            .output()
            .expect("exim4 -bP");
        let configure_file = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let dir = tempfile::Builder::new()
            .prefix("tandem-mailto-")
            .tempdir()
            .expect("tempdir");
        let d = dir.path();
        let spool = d.join("spool");
        std::fs::create_dir(&spool).expect("spool");
        // exim writes its spool as its own user, the mailbox as nobody.
        let chown = Command::new("chown")
            .arg("Debian-exim:")
            .arg(&spool)
            .status()
            .expect("chown");
        assert!(chown.success());
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        std::fs::create_dir(d.join("rsctmp")).expect("rsctmp");
        std::fs::write(
            d.join("exim.conf"),
            format!(
                "primary_hostname = tandem.test\n\
                 spool_directory = {spool}\n\
                 log_file_path = {d}/%slog\n\
                 begin routers\n\
                 mailbox:\n  driver = accept\n  transport = mailbox\n\
                 begin transports\n\
                 mailbox:\n  driver = appendfile\n  file = {d}/mailbox\n  user = nobody\n  group = nogroup\n  mode = 0666\n",
                spool = spool.display(),
                d = d.display()
            ),
        )
        .expect("exim.conf");
        Some(Mta {
            dir,
            configure_file,
        })
    }

    fn mailbox(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("mailbox")).unwrap_or_default()
    }

    /// Runs MailTo with `args` in a mount namespace where exim reads the
    /// test's configuration (and, with `no_mta`, where there is no
    /// sendmail at all).
    fn run(&self, args: &[&str], no_mta: bool) -> Output {
        let conf = self.dir.path().join("exim.conf");
        let mut setup = format!(
            "mount --bind '{}' '{}'",
            conf.display(),
            self.configure_file
        );
        if no_mta {
            setup.push_str(&format!(" && mount --bind /dev/null {EXIM}"));
        }
        Command::new("unshare")
            .args(["-m", "--propagation", "private", "sh", "-c"])
            .arg(format!("{setup} && exec sh \"$0\" \"$@\""))
            .arg(SCRIPT)
            .args(args)
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("HA_RSCTMP", self.rsctmp())
            .output()
            .expect("run MailTo")
    }

    fn rsctmp(&self) -> PathBuf {
        self.dir.path().join("rsctmp")
    }

    /// Waits for `n` messages in the mailbox (exim delivers in a child it
    /// forks after accepting the message).
    fn wait_for_messages(&self, n: usize) -> String {
        common::wait_for(Duration::from_secs(10), || {
            self.mailbox()
                .lines()
                .filter(|l| l.starts_with("From "))
                .count()
                >= n
        });
        self.mailbox()
    }
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
    let Some(mta) = Mta::new() else { return };
    let list = "ops@example.org,oncall@example.org";
    let out = mta.run(&[list, "web pair", "status"], false);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "stopped");

    let out = mta.run(&[list, "web pair", "start"], false);
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
    let out = mta.run(&[list, "web pair", "status"], false);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "running");

    let out = mta.run(&[list, "web pair", "stop"], false);
    assert!(out.status.success(), "{}", text(&out));
    let mail = mta.wait_for_messages(4);
    assert_eq!(
        mail.matches(&format!("Subject: web pair: release on {node}\n"))
            .count(),
        2,
        "{mail}"
    );
    let out = mta.run(&[list, "web pair", "status"], false);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
}

#[test]
fn mailto_refuses_hostile_arguments_and_survives_a_missing_mta() {
    let Some(mta) = Mta::new() else { return };
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
        let out = mta.run(&args, false);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
    assert!(!marker.exists(), "an argument reached a shell");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(mta.mailbox(), "", "a refused start sent mail");

    // No MTA at all: the start succeeds (a takeover must not fail for a
    // mail) and says why nothing was sent.
    let out = mta.run(&["ops@example.org", "start"], true);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no sendmail"),
        "{}",
        text(&out)
    );
    assert_eq!(
        mta.run(&["ops@example.org", "status"], true).status.code(),
        Some(0)
    );
}
