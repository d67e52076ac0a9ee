//! Network namespaces for tests: a bridged Ethernet segment with one
//! namespace per node, named per test run and removed on drop (also
//! after a panic); tandem daemons started inside them.
#![allow(dead_code)]

pub mod debian;
pub mod heartbeat;
pub mod mta;
pub mod pacemaker;
pub mod vip;
pub mod vm;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const EXE: &str = env!("CARGO_BIN_EXE_tandem");
pub const NAMES: [&str; 3] = ["alpha", "beta", "gamma"];

pub fn skip(test: &str, why: &str) -> bool {
    assert!(
        std::env::var_os("CI").is_none(),
        "{test} cannot run under CI: {why}"
    );
    eprintln!("SKIPPED {test}: {why}");
    true
}

/// Debian's Heartbeat 3.0.6 example files (ha.cf, haresources, authkeys):
/// tests/run unpacks the package into target/heartbeat/ and sets
/// TANDEM_HEARTBEAT_DOC. Without them the test says so and skips, except
/// in CI, where it fails.
pub fn heartbeat_doc_dir(test: &str) -> Option<std::path::PathBuf> {
    use std::path::PathBuf;
    let candidates = [
        std::env::var_os("TANDEM_HEARTBEAT_DOC").map(PathBuf::from),
        Some(
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("target/heartbeat/usr/share/doc/heartbeat"),
        ),
        Some(PathBuf::from("/usr/share/doc/heartbeat")),
    ];
    let found = candidates
        .into_iter()
        .flatten()
        .find(|d| d.join("ha.cf").is_file() && d.join("haresources").is_file());
    if found.is_none() {
        skip(
            test,
            "Debian's heartbeat example files are not unpacked (tests/run does it: apt-get download heartbeat)",
        );
    }
    found
}

pub fn cannot_run(test: &str) -> bool {
    if !is_root() {
        return skip(test, "needs root for network namespaces");
    }
    if Command::new("ip").arg("-V").output().is_err() {
        return skip(test, "needs iproute2 (`ip`); tests/run installs it");
    }
    false
}

pub fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The namespaces of one test run; removed on drop, also after a panic.
pub struct Segment {
    prefix: String,
    children: Vec<Option<Child>>,
}

impl Segment {
    pub fn ns(&self, i: usize) -> String {
        format!("{}-{}", self.prefix, NAMES[i])
    }

    pub fn switch(&self) -> String {
        format!("{}-sw", self.prefix)
    }

    pub fn new(tag: &str, nodes: usize) -> Segment {
        let prefix = format!("tandem-{tag}-{}", std::process::id());
        let seg = Segment {
            prefix,
            children: (0..nodes).map(|_| None).collect(),
        };
        let sw = seg.switch();
        ip(&["netns", "add", &sw]);
        ip(&[
            "-n",
            &sw,
            "link",
            "add",
            "br0",
            "type",
            "bridge",
            "mcast_snooping",
            "0",
        ]);
        ip(&["-n", &sw, "link", "set", "br0", "up"]);
        for i in 0..nodes {
            let ns = seg.ns(i);
            ip(&["netns", "add", &ns]);
            let port = format!("p{i}");
            ip(&[
                "-n", &sw, "link", "add", &port, "type", "veth", "peer", "name", "eth0", "netns",
                &ns,
            ]);
            ip(&["-n", &sw, "link", "set", &port, "master", "br0", "up"]);
            ip(&["-n", &ns, "link", "set", "lo", "up"]);
            let addr = format!("192.0.2.{}/24", i + 1);
            ip(&["-n", &ns, "addr", "add", &addr, "brd", "+", "dev", "eth0"]);
            let addr6 = format!("2001:db8::{}/64", i + 1);
            ip(&["-n", &ns, "addr", "add", &addr6, "dev", "eth0", "nodad"]);
            ip(&["-n", &ns, "link", "set", "eth0", "up"]);
        }
        // IPv6 sends from the link-local address only once duplicate
        // address detection is over.
        let settled = wait_for(Duration::from_secs(10), || {
            (0..nodes).all(|i| {
                Command::new("ip")
                    .args(["-6", "-n", &seg.ns(i), "addr", "show", "tentative"])
                    .output()
                    .is_ok_and(|o| o.stdout.is_empty())
            })
        });
        assert!(settled, "IPv6 addresses still tentative");
        seg
    }

    /// A second segment (bridge `br1`, `eth1` in the first `nodes`
    /// namespaces, 198.51.100.i+1/24): a second, independent link.
    pub fn second_link(&self, nodes: usize) {
        let sw = self.switch();
        ip(&["-n", &sw, "link", "add", "br1", "type", "bridge"]);
        ip(&["-n", &sw, "link", "set", "br1", "up"]);
        for i in 0..nodes {
            let ns = self.ns(i);
            let port = format!("q{i}");
            ip(&[
                "-n", &sw, "link", "add", &port, "type", "veth", "peer", "name", "eth1", "netns",
                &ns,
            ]);
            ip(&["-n", &sw, "link", "set", &port, "master", "br1", "up"]);
            let addr = format!("198.51.100.{}/24", i + 1);
            ip(&["-n", &ns, "addr", "add", &addr, "brd", "+", "dev", "eth1"]);
            ip(&["-n", &ns, "link", "set", "eth1", "up"]);
        }
    }

    pub fn start(&mut self, i: usize, dir: &Path) {
        let cfg = dir.join(NAMES[i]);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(format!("{}.log", NAMES[i])))
            .expect("log");
        let child = Command::new("ip")
            .args(["netns", "exec", &self.ns(i), EXE, "run", "-c"])
            .arg(&cfg)
            .args(["--node", NAMES[i], "--state-dir"])
            .arg(cfg.join("state"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start tandem");
        self.children[i] = Some(child);
    }

    /// The pid of node `i`'s tandem daemon, if it runs.
    pub fn pid(&self, i: usize) -> Option<u32> {
        self.children[i].as_ref().map(|c| c.id())
    }

    /// Graceful stop (SIGTERM), waiting for the daemon to exit.
    pub fn stop(&mut self, i: usize) {
        if let Some(mut c) = self.children[i].take() {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            let _ = c.wait();
        }
    }

    pub fn kill(&mut self, i: usize) {
        if let Some(mut c) = self.children[i].take() {
            // `ip netns exec` execs tandem: this is the daemon itself.
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Segment {
    fn drop(&mut self) {
        for i in 0..self.children.len() {
            self.kill(i);
        }
        for i in 0..self.children.len() {
            let _ = Command::new("ip")
                .args(["netns", "del", &self.ns(i)])
                .output();
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.switch()])
            .output();
    }
}

pub fn status(dir: &Path, i: usize) -> Option<serde_json::Value> {
    let path = dir.join(NAMES[i]).join("state").join("control");
    let body = tandem::host::control::request(&path, "status-json", Duration::from_secs(5)).ok()?;
    serde_json::from_str(&body).ok()
}

pub fn wait_for(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

pub fn logs(dir: &Path) -> String {
    NAMES
        .iter()
        .map(|n| {
            format!(
                "--- {n} ---\n{}",
                std::fs::read_to_string(dir.join(format!("{n}.log"))).unwrap_or_default()
            )
        })
        .collect()
}

/// Whether this process runs as root (from /proc, no extra crate feature).
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(2))
            == Some("0")
    })
}

/// A `tandem director`'s answer to `status-json` on its control socket.
pub fn director_status(socket: &Path) -> Option<serde_json::Value> {
    use std::io::{Read, Write};
    let mut s = std::os::unix::net::UnixStream::connect(socket).ok()?;
    s.write_all(b"status-json\n").ok()?;
    let mut reply = String::new();
    s.read_to_string(&mut reply).ok()?;
    serde_json::from_str(reply.strip_prefix("OK\n")?).ok()
}
