//! A real Heartbeat 3.0.6 node (Debian's `heartbeat` package) in its own
//! network, UTS, mount and PID namespaces: node name from the UTS
//! namespace; /etc/ha.d, /var/lib/heartbeat, /var/log/hb bound from a
//! temporary directory and a private /run, so nothing on the host is
//! read or written. Everything in its PID namespace dies with the node.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

pub const HEARTBEAT: &str = "/usr/libexec/heartbeat/heartbeat";

/// Writes every frame on eth0 (both directions) to the pcap file argv[1].
pub const PCAP: &str = r#"
import socket, struct, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind(("eth0", 0))
out = open(sys.argv[1], "wb")
out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
while True:
    f = s.recv(70000)
    t = time.time()
    out.write(struct.pack("<IIII", int(t), int((t % 1) * 1e6), len(f), len(f)) + f)
    out.flush()
"#;

/// Whether the tests can run a Heartbeat node here; says why not.
pub fn cannot_run(test: &str) -> bool {
    if super::cannot_run(test) {
        return true;
    }
    for (path, what) in [
        (HEARTBEAT, "Debian's heartbeat package"),
        ("/usr/bin/unshare", "util-linux's unshare"),
    ] {
        if !Path::new(path).exists() {
            return super::skip(
                test,
                &format!("needs {what} ({path}); tests/setup installs it"),
            );
        }
    }
    false
}

pub struct HeartbeatNode {
    pub name: String,
    pub dir: tempfile::TempDir,
    /// `ip netns exec … unshare …`: the process holding the namespaces.
    holder: Child,
    /// The namespace's init (a shell that waits), as the host sees it.
    init: u32,
}

impl HeartbeatNode {
    /// Starts Heartbeat as node `name` inside network namespace `netns`
    /// with these configuration files.
    pub fn start(
        netns: &str,
        name: &str,
        hacf: &str,
        authkeys: &str,
        haresources: &str,
    ) -> HeartbeatNode {
        let dir = tempfile::Builder::new()
            .prefix("tandem-hb-")
            .tempdir()
            .expect("tempdir");
        let d = dir.path();
        let had = d.join("ha.d");
        copy_tree(Path::new("/etc/ha.d"), &had);
        copy_tree(Path::new("/var/lib/heartbeat"), &d.join("lib"));
        std::fs::create_dir_all(d.join("log")).expect("log dir");
        std::fs::write(
            had.join("ha.cf"),
            format!("logfile /var/log/hb/ha-log\ndebugfile /var/log/hb/ha-debug\n{hacf}"),
        )
        .expect("ha.cf");
        std::fs::write(had.join("haresources"), haresources).expect("haresources");
        let keys = had.join("authkeys");
        std::fs::write(&keys, authkeys).expect("authkeys");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        // The namespace's init: Heartbeat daemonizes, and a PID namespace
        // ends when its first process does. It reaps orphans, or a stopped
        // Heartbeat stays a zombie and `heartbeat -k` waits for it forever.
        std::fs::write(
            d.join("reaper.py"),
            "import os, time\nwhile True:\n    try:\n        os.wait()\n    except ChildProcessError:\n        time.sleep(0.2)\n",
        )
        .expect("reaper.py");
        let script = format!(
            "set -e\n\
             hostname {name}\n\
             mount --make-rprivate /\n\
             mount -t tmpfs tmpfs /run\n\
             mkdir -p /run/heartbeat/ccm /run/heartbeat/crm /run/heartbeat/dopd /run/crm\n\
             chown -R hacluster:haclient /run/heartbeat /run/crm\n\
             chmod 750 /run/heartbeat /run/heartbeat/ccm /run/heartbeat/crm /run/heartbeat/dopd /run/crm\n\
             mkdir -p /run/heartbeat/rsctmp /run/resource-agents /run/lock /var/log/hb\n\
             mount --bind {d}/ha.d /etc/ha.d\n\
             mount --bind {d}/lib /var/lib/heartbeat\n\
             mount --bind {d}/log /var/log/hb\n\
             {HEARTBEAT}\n\
             exec python3 {d}/reaper.py\n",
            d = d.display()
        );
        std::fs::write(d.join("init.sh"), script).expect("init.sh");
        let holder = Command::new("ip")
            .args(["netns", "exec", netns, "unshare", "--uts", "--mount"])
            .args(["--pid", "--fork", "--mount-proc", "sh"])
            .arg(d.join("init.sh"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(d.join("init.err")).expect("init.err"))
            .spawn()
            .expect("start heartbeat's namespaces");
        let holder_pid = holder.id();
        let mut init = 0;
        super::wait_for(Duration::from_secs(5), || {
            init =
                std::fs::read_to_string(format!("/proc/{holder_pid}/task/{holder_pid}/children"))
                    .ok()
                    .and_then(|c| c.split_whitespace().next()?.parse().ok())
                    .unwrap_or(0);
            init != 0
        });
        assert!(init != 0, "heartbeat's namespace has no init");
        HeartbeatNode {
            name: name.to_string(),
            dir,
            holder,
            init,
        }
    }

    pub fn log(&self) -> String {
        let bytes = std::fs::read(self.dir.path().join("log/ha-log")).unwrap_or_default();
        let err = std::fs::read(self.dir.path().join("init.err")).unwrap_or_default();
        format!(
            "{}{}",
            String::from_utf8_lossy(&bytes),
            String::from_utf8_lossy(&err)
        )
    }

    /// Runs a command inside the node's namespaces (its /run, its PIDs).
    pub fn exec(&self, args: &[&str]) -> Output {
        Command::new("nsenter")
            .args(["-t", &self.init.to_string(), "-m", "-u", "-n", "-p", "--"])
            .args(args)
            .output()
            .expect("nsenter")
    }

    /// Starts a command inside the node's namespaces without waiting.
    pub fn spawn(&self, args: &[&str]) -> Child {
        Command::new("nsenter")
            .args(["-t", &self.init.to_string(), "-m", "-u", "-n", "-p", "--"])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nsenter")
    }

    /// `cl_status ARGS` on the Heartbeat side, trimmed stdout.
    pub fn cl_status(&self, args: &[&str]) -> String {
        let mut all = vec!["cl_status"];
        all.extend_from_slice(args);
        let out = self.exec(&all);
        let text = if out.status.success() {
            out.stdout
        } else {
            out.stderr
        };
        String::from_utf8_lossy(&text).trim().to_string()
    }

    /// Graceful stop, as `/etc/init.d/heartbeat stop` does.
    pub fn stop(&self) {
        let _ = self.exec(&[HEARTBEAT, "-k"]);
    }

    /// kill -9 of every Heartbeat process.
    pub fn kill(&self) {
        let _ = self.exec(&["pkill", "-9", "-f", "^heartbeat:"]);
    }

    /// Every process of the node (Heartbeat's and its children's), not
    /// the namespace's init, which is the test's.
    pub fn processes(&self) -> Vec<u32> {
        let ns = |pid: u32| std::fs::read_link(format!("/proc/{pid}/ns/pid")).ok();
        let Some(own) = ns(self.init) else {
            return Vec::new();
        };
        std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .filter(|&pid| pid != self.init && ns(pid).as_ref() == Some(&own))
            .collect()
    }

    pub fn config_dir(&self) -> PathBuf {
        self.dir.path().join("ha.d")
    }
}

impl Drop for HeartbeatNode {
    fn drop(&mut self) {
        // The namespace's init going takes every process in it along.
        let _ = Command::new("kill")
            .args(["-9", &self.init.to_string()])
            .status();
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

fn copy_tree(from: &Path, to: &Path) {
    let out = Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", from.display()))
        .arg(to)
        .output()
        .expect("cp");
    assert!(
        out.status.success() || to.exists(),
        "cp {}: {}",
        from.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `f` on a thread that has entered network namespace `netns`;
/// sockets it opens stay in that namespace.
pub fn in_netns<T: Send + 'static>(netns: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    use std::os::fd::AsRawFd;
    let file = std::fs::File::open(format!("/run/netns/{netns}")).expect("open netns");
    std::thread::spawn(move || {
        // SAFETY: setns on this thread only, with a namespace file it holds.
        let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
        f()
    })
    .join()
    .expect("netns thread")
}
