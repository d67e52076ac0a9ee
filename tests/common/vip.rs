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
    has_vip_in(&seg.ns(i))
}

/// Whether the VIP is on eth0 in network namespace `ns`.
pub fn has_vip_in(ns: &str) -> bool {
    Command::new("ip")
        .args(["-n", ns, "-o", "addr", "show", "dev", "eth0"])
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
                "{timings}\nbcast eth0\nnode alpha\nnode beta\nauto_failback on\nrealtime off\non_stop_failure block\n"
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
/// time it answered to argv[1]. With argv[3], a resolver's address, the
/// service is `www.tandem.test` resolved through it before every try
/// (a client that does not cache: the resolver does).
pub const REACH: &str = r#"
import random, selectors, socket, struct, sys, time

def resolve(server):
    name = b"".join(bytes([len(p)]) + p for p in b"www.tandem.test".split(b".")) + b"\0"
    ident = random.randrange(65536)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(0.2)
    try:
        u.sendto(struct.pack(">HHHHHH", ident, 0x0100, 1, 0, 0, 0) + name + b"\0\1\0\1", (server, 53))
        r = u.recv(512)
    except OSError:
        return None
    finally:
        u.close()
    if len(r) < 12 or struct.unpack(">H", r[:2])[0] != ident:
        return None
    answers = struct.unpack(">H", r[6:8])[0]
    at = 12 + len(name) + 4
    for _ in range(answers):
        if r[at] & 0xC0:
            at += 2
        else:
            while r[at]:
                at += r[at] + 1
            at += 1
        kind, _, _, size = struct.unpack(">HHIH", r[at:at + 10])
        at += 10
        if kind == 1 and size == 4:
            return socket.inet_ntoa(r[at:at + 4])
        at += size
    return None

sel = selectors.DefaultSelector()
next_try = 0.0
while True:
    now = time.time()
    if now >= next_try:
        next_try = now + 0.002
        target = resolve(sys.argv[3]) if len(sys.argv) > 3 else "192.0.2.100"
        s = socket.socket() if target else None
        if s is not None:
            s.setblocking(False)
            try:
                s.connect((target, 8080))
                sel.register(s, selectors.EVENT_READ, now)
            except BlockingIOError:
                sel.register(s, selectors.EVENT_READ, now)
            except OSError:
                s.close()
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
