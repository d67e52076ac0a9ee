//! A real MTA for tests: Debian's exim4 with the test's own
//! configuration bound over exim's in a private mount namespace (nothing
//! on the host changes), delivering every message to a mailbox file in
//! the test's directory.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

const EXIM: &str = "/usr/sbin/exim4";

/// A private exim: spool, log and mailbox under `dir`.
pub struct Mta {
    pub dir: tempfile::TempDir,
    /// The configuration file exim reads, which the test's is bound over.
    configure_file: String,
}

impl Mta {
    /// A private exim for `test`; `None` (with the reason printed) when
    /// this host cannot run one.
    pub fn new(test: &str) -> Option<Mta> {
        if !super::is_root() {
            super::skip(test, "needs root for a private mount namespace");
            return None;
        }
        if !Path::new(EXIM).exists() {
            super::skip(
                test,
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

    pub fn mailbox(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("mailbox")).unwrap_or_default()
    }

    /// `program` (arguments to be added) in a private mount namespace
    /// where exim reads the test's configuration, and with `no_mta`,
    /// where there is no sendmail at all.
    pub fn command(&self, no_mta: bool, program: &str) -> Command {
        let conf = self.dir.path().join("exim.conf");
        let mut setup = format!(
            "mount --bind '{}' '{}'",
            conf.display(),
            self.configure_file
        );
        if no_mta {
            setup.push_str(&format!(" && mount --bind /dev/null {EXIM}"));
        }
        let mut c = Command::new("unshare");
        c.args(["-m", "--propagation", "private", "sh", "-c"])
            .arg(format!("{setup} && exec \"$0\" \"$@\""))
            .arg(program);
        c
    }

    /// Waits for `n` messages in the mailbox (exim delivers in a child it
    /// forks after accepting the message).
    pub fn wait_for_messages(&self, n: usize) -> String {
        super::wait_for(Duration::from_secs(10), || {
            self.mailbox()
                .lines()
                .filter(|l| l.starts_with("From "))
                .count()
                >= n
        });
        self.mailbox()
    }
}
