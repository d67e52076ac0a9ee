//! A VIP on a segment: servers that answer with their node's name, a
//! gratuitous ARP capture, and the client's view (connect, neighbour).
#![allow(dead_code)]

use super::{Segment, NAMES};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

pub const VIP: &str = "192.0.2.100";
pub const CLIENT: usize = 2;

/// Processes the test started in namespaces, killed on drop.
pub struct Helpers(pub Vec<Child>);

impl Drop for Helpers {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub fn in_ns(seg: &Segment, i: usize, args: &[&str]) -> Child {
    Command::new("ip")
        .args(["netns", "exec", &seg.ns(i)])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start helper")
}

pub const SERVER: &str = r#"
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8080))
s.listen()
while True:
    c, _ = s.accept()
    c.sendall(sys.argv[1].encode())
    c.close()
"#;

/// Writes `time mac op` for every gratuitous ARP announcing the address
/// argv[2] (default: the VIP); op is 1 for a request, 2 for a reply.
pub const CAPTURE: &str = r#"
import socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806))
s.bind(("eth0", 0))
out = open(sys.argv[1], "a", buffering=1)
vip = socket.inet_aton(sys.argv[2] if len(sys.argv) > 2 else "192.0.2.100")
while True:
    f = s.recv(100)
    if f[28:32] == vip and f[38:42] == vip:
        out.write("%.6f %s %d\n" % (time.time(), f[22:28].hex(":"), f[21]))
"#;

/// A gratuitous ARP the capture saw.
#[derive(Debug, Clone, PartialEq)]
pub struct Garp {
    pub time: f64,
    pub mac: String,
    pub reply: bool,
}

/// The gratuitous ARPs in a capture file.
pub fn garps(path: &Path) -> Vec<Garp> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            Some(Garp {
                time: w.next()?.parse().ok()?,
                mac: w.next()?.to_string(),
                reply: w.next()? == "2",
            })
        })
        .collect()
}

pub fn connect(seg: &Segment) -> Option<String> {
    let out = Command::new("ip")
        .args(["netns", "exec", &seg.ns(CLIENT), "python3", "-c"])
        .arg(format!(
            "import socket\ns=socket.create_connection(('{VIP}',8080),timeout=1)\nprint(s.recv(100).decode())"
        ))
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

pub fn mac(seg: &Segment, i: usize) -> String {
    let out = Command::new("ip")
        .args(["-n", &seg.ns(i), "-o", "link", "show", "eth0"])
        .output()
        .expect("ip link");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    text.split_whitespace()
        .skip_while(|w| *w != "link/ether")
        .nth(1)
        .unwrap_or("")
        .to_string()
}

pub fn neighbour(seg: &Segment) -> String {
    let out = Command::new("ip")
        .args(["-n", &seg.ns(CLIENT), "neigh", "show", VIP])
        .output()
        .expect("ip neigh");
    String::from_utf8_lossy(&out.stdout).to_string()
}

pub fn has_vip(seg: &Segment, i: usize) -> bool {
    Command::new("ip")
        .args(["-n", &seg.ns(i), "-o", "addr", "show", "dev", "eth0"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(&format!("{VIP}/24")))
}

/// The tests' timings: keepalive 100 ms, deadtime 1 s.
pub const TIMINGS: &str = "keepalive 100ms\nwarntime 400ms\ndeadtime 1\ninitdead 2";

pub fn configure(dir: &Path, group: &str, timings: &str) {
    use std::os::unix::fs::PermissionsExt;
    for name in &NAMES[..2] {
        let cfg = dir.join(name);
        std::fs::create_dir_all(cfg.join("resource.d")).expect("mkdir");
        std::fs::create_dir_all(cfg.join("state")).expect("mkdir");
        std::fs::write(
            cfg.join("ha.cf"),
            format!(
                "{timings}\nbcast eth0\nnode alpha\nnode beta\nauto_failback on\nrealtime off\n"
            ),
        )
        .expect("ha.cf");
        std::fs::write(cfg.join("haresources"), format!("alpha {group}\n")).expect("haresources");
        let keys = cfg.join("authkeys");
        std::fs::write(&keys, "auth 1\n1 sha256 takeover-test-key\n").expect("authkeys");
        std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
}

pub fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

/// Starts a connection to the VIP every 2 ms, each left to run for up to
/// a second (so that one sent into a dead node's MAC does not hold the
/// next back), until the node named argv[2] answers one; writes the wall
/// time it answered to argv[1].
pub const REACH: &str = r#"
import selectors, socket, sys, time
sel = selectors.DefaultSelector()
next_try = 0.0
while True:
    now = time.time()
    if now >= next_try:
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(("192.0.2.100", 8080))
        except BlockingIOError:
            pass
        except OSError:
            s.close()
            s = None
        if s is not None:
            sel.register(s, selectors.EVENT_READ, now)
        next_try = now + 0.002
    for key, _ in sel.select(0.001):
        s = key.fileobj
        sel.unregister(s)
        try:
            name = s.recv(100).decode()
        except OSError:
            name = ""
        s.close()
        if name == sys.argv[2]:
            open(sys.argv[1], "w").write("%.6f\n" % time.time())
            sys.exit(0)
    for key in list(sel.get_map().values()):
        if now - key.data > 1.0:
            sel.unregister(key.fileobj)
            key.fileobj.close()
"#;
