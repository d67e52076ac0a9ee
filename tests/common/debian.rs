//! Debian's Heartbeat example files (ha.cf, haresources, authkeys from the
//! heartbeat package), completed as a Heartbeat user completes them, and
//! the respawn clients they run.

use super::vip::VIP;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// A directory user `nobody` can write, removed on drop, holding a client
/// script that appends `uid pid HA_greeting HA_CURHOST` to `out`.
pub struct ClientDir(PathBuf);

impl ClientDir {
    pub fn new(name: &str, last: &str) -> ClientDir {
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

    pub fn script(&self) -> String {
        self.0.join("client").display().to_string()
    }

    /// The lines written by the client on `node`: `[uid, pid, greeting]`.
    pub fn runs_on(&self, node: &str) -> Vec<Vec<String>> {
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
pub fn replace_line(text: &str, from: &str, to: &str) -> String {
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
pub fn uncomment(text: &str, line: &str) -> String {
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
pub fn completed_hacf(doc: &Path, client: &ClientDir, quitter: &ClientDir) -> String {
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
pub fn completed_haresources(doc: &Path) -> String {
    let t = std::fs::read_to_string(doc.join("haresources")).expect("Debian's haresources");
    replace_line(
        &t,
        "#just.linux-ha.org\t135.9.216.110",
        &format!("alpha\t{VIP}"),
    )
}

/// Debian's authkeys with its sha1 key chosen.
pub fn completed_authkeys(doc: &Path) -> String {
    let t = std::fs::read_to_string(doc.join("authkeys")).expect("Debian's authkeys");
    replace_line(&uncomment(&t, "2 sha1 HI!"), "#auth 1", "auth 2")
}
