//! A tandem pair on a hostile segment. alpha and beta run tandem in
//! their own namespaces, one ucast link each way, the group
//! `IPaddr2::192.0.2.100/24/eth0` preferred by alpha; a third namespace,
//! the attacker, sits on the same bridge (which floods every frame, as a
//! hub would) with its interface promiscuous. It captures what alpha
//! sends beta, and sends beta 15,500 datagrams a second (the test asserts
//! at least 15,000): Heartbeat messages naming alpha, signed with a key the pair does not
//! have or with a key index it does not know, in both forms, from its own
//! address and spoofed from alpha's; bit-flipped, truncated and exact
//! copies of alpha's captured frames spoofed from alpha; and random
//! datagrams. Run under `wire auto` and `wire heartbeat`:
//!
//! - while alpha lives, nothing starts on beta;
//! - kill -9 of alpha: beta holds the address no later than one keepalive
//!   after the same run's takeover without the attack (both measured from
//!   alpha's last frame on the wire, which is what deadtime counts from;
//!   measured from the kill, the kill's phase against the keepalive
//!   cadence adds up to one keepalive of noise either way);
//! - beta's CPU during the flood stays under 10 % of one core;
//! - beta's log holds no more drop lines than `log_badpack` allows;
//! - every datagram that reached beta is in its status (received) or in
//!   the kernel's receive-buffer drops.
//!
//! Needs root and iproute2; skips with the reason otherwise.

mod common;

use common::{cannot_run, ip, logs, status, wait_for, Segment};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tandem::wire::auth::AuthMethod;
use tandem::wire::heartbeat::{encode_netstring, encode_text, Message};
use tandem::wire::Authenticator;

const ALPHA: [u8; 4] = [192, 0, 2, 1];
const BETA: [u8; 4] = [192, 0, 2, 2];
const ATTACKER: [u8; 4] = [192, 0, 2, 3];
const VIP: [u8; 4] = [192, 0, 2, 100];
const PORT: u16 = 694;
const KEEPALIVE: f64 = 0.1;
const DEADTIME: f64 = 1.0;
/// What the attacker aims at; the test asserts at least [`FLOOR`].
const RATE: u64 = 15_500;
const FLOOR: f64 = 15_000.0;
const KEY: &str = "hostile-segment-key";

fn configure(dir: &Path, wire: &str) {
    use std::os::unix::fs::PermissionsExt;
    for (name, peer) in [("alpha", "192.0.2.2"), ("beta", "192.0.2.1")] {
        let cfg = dir.join(name);
        std::fs::create_dir_all(cfg.join("state")).expect("mkdir");
        std::fs::write(
            cfg.join("ha.cf"),
            format!(
                "keepalive 100ms\nwarntime 500ms\ndeadtime 1\ninitdead 3\nudpport {PORT}\n\
                 ucast eth0 {peer}\nwire {wire}\nnode alpha\nnode beta\n\
                 auto_failback on\nrealtime off\non_stop_failure block\n"
            ),
        )
        .expect("ha.cf");
        std::fs::write(
            cfg.join("haresources"),
            "alpha IPaddr2::192.0.2.100/24/eth0\n",
        )
        .expect("haresources");
        let keys = cfg.join("authkeys");
        std::fs::write(&keys, format!("auth 1\n1 sha1 {KEY}\n")).expect("authkeys");
        std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
}

fn wall() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

/// What the attacker's capture saw on the segment.
#[derive(Default)]
struct Seen {
    /// alpha's datagrams to beta's port 694, newest last (bounded).
    pool: Vec<Vec<u8>>,
    /// When the last of them passed.
    last_alpha: f64,
    /// How many passed since counting started.
    counted: u64,
    counting: bool,
    /// Gratuitous ARPs for the VIP: (time, sender MAC).
    garps: Vec<(f64, [u8; 6])>,
}

/// The attacker: a capture thread and, while flooding, a sender thread,
/// both inside the attacker's namespace.
struct Attacker {
    netns: String,
    seen: Arc<Mutex<Seen>>,
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

/// Runs `f` on a new thread inside network namespace `netns`.
fn spawn_in(netns: &str, f: impl FnOnce() + Send + 'static) -> std::thread::JoinHandle<()> {
    use std::os::fd::AsRawFd;
    let file = std::fs::File::open(format!("/run/netns/{netns}")).expect("open netns");
    std::thread::spawn(move || {
        // SAFETY: setns on this thread only, with a namespace file it holds.
        let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
        f()
    })
}

fn os_check(rc: libc::c_int, what: &str) -> libc::c_int {
    assert!(rc >= 0, "{what}: {}", std::io::Error::last_os_error());
    rc
}

impl Attacker {
    fn new(seg: &Segment, i: usize) -> Attacker {
        let netns = seg.ns(i);
        ip(&["-n", &netns, "link", "set", "eth0", "promisc", "on"]);
        let seen = Arc::new(Mutex::new(Seen::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st) = (seen.clone(), stop.clone());
        let ready = Arc::new(AtomicBool::new(false));
        let r = ready.clone();
        let capture = spawn_in(&netns, move || capture(&s, &st, &r));
        assert!(
            wait_for(Duration::from_secs(5), || ready.load(Ordering::SeqCst)),
            "the capture did not start"
        );
        Attacker {
            netns,
            seen,
            stop,
            threads: vec![capture],
        }
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().expect("capture state")
    }

    /// Waits for one of alpha's frames, then a little: the next is a
    /// keepalive away, so counters read now miss none and double none.
    fn between_frames(&self) {
        let before = self.seen().last_alpha;
        assert!(
            wait_for(Duration::from_secs(5), || self.seen().last_alpha > before),
            "no frame from alpha on the segment"
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    /// The first gratuitous ARP for the VIP from `mac` after `after`.
    fn garp_from(&self, mac: [u8; 6], after: f64) -> Option<f64> {
        self.seen()
            .garps
            .iter()
            .find(|(t, m)| *t > after && *m == mac)
            .map(|(t, _)| *t)
    }

    /// Starts the flood; its sent count and start time come back from
    /// [`Flood::end`].
    fn flood(&self) -> Flood {
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicU64::new(0));
        let (seen, st, se) = (self.seen.clone(), stop.clone(), sent.clone());
        let thread = spawn_in(&self.netns, move || flood(&seen, &st, &se));
        Flood {
            stop,
            sent,
            started: Instant::now(),
            thread: Some(thread),
        }
    }
}

impl Drop for Attacker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

struct Flood {
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
    started: Instant,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Flood {
    /// Stops the flood: (datagrams sent, seconds it ran).
    fn end(mut self) -> (u64, f64) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        (
            self.sent.load(Ordering::SeqCst),
            self.started.elapsed().as_secs_f64(),
        )
    }
}

impl Drop for Flood {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Reads every frame on eth0 but the attacker's own: alpha's datagrams to
/// beta and gratuitous ARPs for the VIP.
fn capture(seen: &Mutex<Seen>, stop: &AtomicBool, ready: &AtomicBool) {
    // SAFETY: plain socket calls on a descriptor this function owns; the
    // buffers passed are valid for their stated lengths.
    unsafe {
        let fd = os_check(
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW,
                i32::from((libc::ETH_P_ALL as u16).to_be()),
            ),
            "packet socket",
        );
        let one: libc::c_int = 1;
        // The flood's own frames would cost a wakeup each.
        os_check(
            libc::setsockopt(
                fd,
                libc::SOL_PACKET,
                libc::PACKET_IGNORE_OUTGOING,
                (&one as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as u32,
            ),
            "PACKET_IGNORE_OUTGOING",
        );
        let mut addr: libc::sockaddr_ll = std::mem::zeroed();
        addr.sll_family = libc::AF_PACKET as u16;
        addr.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
        addr.sll_ifindex = libc::if_nametoindex(c"eth0".as_ptr()) as i32;
        os_check(
            libc::bind(
                fd,
                (&addr as *const libc::sockaddr_ll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as u32,
            ),
            "bind packet socket",
        );
        let tv = libc::timeval {
            tv_sec: 0,
            tv_usec: 100_000,
        };
        os_check(
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&tv as *const libc::timeval).cast(),
                std::mem::size_of::<libc::timeval>() as u32,
            ),
            "SO_RCVTIMEO",
        );
        ready.store(true, Ordering::SeqCst);
        let mut buf = [0u8; 2048];
        while !stop.load(Ordering::SeqCst) {
            let n = libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0);
            if n <= 0 {
                continue;
            }
            let f = &buf[..n as usize];
            if let Ok(mut s) = seen.lock() {
                note_frame(&mut s, f);
            }
        }
        libc::close(fd);
    }
}

fn note_frame(s: &mut Seen, f: &[u8]) {
    if f.len() < 14 {
        return;
    }
    let now = wall();
    match u16::from_be_bytes([f[12], f[13]]) {
        0x0806 if f.len() >= 42 && f[28..32] == VIP && f[38..42] == VIP => {
            let mut mac = [0u8; 6];
            mac.copy_from_slice(&f[22..28]);
            s.garps.push((now, mac));
        }
        0x0800 if f.len() >= 34 => {
            let ip = &f[14..];
            let ihl = usize::from(ip[0] & 0xf) * 4;
            let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
            if ip[9] != 17 || ip[12..16] != ALPHA || ip[16..20] != BETA {
                return;
            }
            let Some(udp) = ip.get(ihl..total.min(ip.len())) else {
                return;
            };
            if udp.len() < 8 || u16::from_be_bytes([udp[2], udp[3]]) != PORT {
                return;
            }
            s.last_alpha = now;
            if s.counting {
                s.counted += 1;
            }
            if s.pool.len() >= 512 {
                s.pool.remove(0);
            }
            s.pool.push(udp[8..].to_vec());
        }
        _ => {}
    }
}

/// A small xorshift generator: the flood needs variety, not secrecy.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Heartbeat status messages naming alpha, as a stranger can write them:
/// signed with a key the pair does not have, or with a key index it does
/// not know; netstring and text forms.
fn forgeries() -> Vec<Vec<u8>> {
    let wrong = Authenticator::new(1, &[(1, AuthMethod::Sha1, b"a guess")]);
    let unknown = Authenticator::new(7, &[(7, AuthMethod::Sha1, KEY.as_bytes())]);
    let mut out = Vec::new();
    for seq in 1..=32u64 {
        let mut m = Message::new();
        m.add("t", "status")
            .add("st", "active")
            .add("dt", "3e8")
            .add("protocol", "1")
            .add("src", "alpha")
            .add("seq", format!("{:x}", 0x10_0000 + seq))
            .add("hg", "7fffffff")
            .add("ts", format!("{:x}", wall() as u64))
            .add("ld", "0.10 0.05 0.01 1/100 1000")
            .add("ttl", "3");
        for auth in [&wrong, &unknown] {
            out.push(encode_netstring(&m, auth).expect("netstring"));
            out.push(encode_text(&m, auth).expect("text"));
        }
    }
    out
}

/// An IPv4 + UDP datagram for a raw socket (the kernel fills in the
/// header checksum, total length and id; UDP's checksum is left out).
fn datagram(src: [u8; 4], sport: u16, payload: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(28 + payload.len());
    p.extend_from_slice(&[0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0]);
    p.extend_from_slice(&src);
    p.extend_from_slice(&BETA);
    p.extend_from_slice(&sport.to_be_bytes());
    p.extend_from_slice(&PORT.to_be_bytes());
    p.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    p.extend_from_slice(&[0, 0]);
    p.extend_from_slice(payload);
    p
}

/// Sends beta [`RATE`] datagrams a second, paced in 1 ms batches, until
/// told to stop; counts those the kernel took.
fn flood(seen: &Mutex<Seen>, stop: &AtomicBool, sent: &AtomicU64) {
    let forged = forgeries();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    // SAFETY: a raw socket this function owns; sendto with a valid buffer
    // and address.
    let fd = unsafe {
        os_check(
            libc::socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_RAW),
            "raw socket",
        )
    };
    let mut to: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    to.sin_family = libc::AF_INET as u16;
    to.sin_addr.s_addr = u32::from_ne_bytes(BETA);
    let start = Instant::now();
    let mut n: u64 = 0;
    let mut pool: Vec<Vec<u8>> = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        if n.is_multiple_of(1000) {
            if let Ok(s) = seen.lock() {
                pool.clone_from(&s.pool);
            }
        }
        let due = (start.elapsed().as_secs_f64() * RATE as f64) as u64;
        if n >= due {
            std::thread::sleep(Duration::from_micros(500));
            continue;
        }
        let packet = match (n % 10, pool.is_empty()) {
            (0, _) => datagram(ATTACKER, PORT, &forged[rng.below(forged.len())]),
            (1 | 2, _) => datagram(ALPHA, PORT, &forged[rng.below(forged.len())]),
            (3, false) => {
                let mut f = pool[rng.below(pool.len())].clone();
                let at = rng.below(f.len());
                f[at] ^= 1 << rng.below(8);
                datagram(ALPHA, PORT, &f)
            }
            (4, false) => {
                let f = &pool[rng.below(pool.len())];
                datagram(ALPHA, PORT, &f[..rng.below(f.len())])
            }
            (5 | 6, false) => datagram(ALPHA, PORT, &pool[rng.below(pool.len())]),
            _ => {
                let len = 1 + rng.below(1400);
                let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
                datagram(ATTACKER, 1024 + rng.below(60000) as u16, &bytes)
            }
        };
        // SAFETY: see above.
        let rc = unsafe {
            libc::sendto(
                fd,
                packet.as_ptr().cast(),
                packet.len(),
                0,
                (&to as *const libc::sockaddr_in).cast(),
                std::mem::size_of::<libc::sockaddr_in>() as u32,
            )
        };
        n += 1;
        if rc == packet.len() as isize {
            sent.fetch_add(1, Ordering::SeqCst);
        }
    }
    // SAFETY: closing the descriptor opened above.
    unsafe { libc::close(fd) };
}

/// Datagrams beta's kernel dropped on udp/694 for want of buffer room.
fn kernel_drops(seg: &Segment, i: usize) -> u64 {
    let out = std::process::Command::new("ip")
        .args([
            "netns",
            "exec",
            &seg.ns(i),
            "cat",
            "/proc/net/udp",
            "/proc/net/udp6",
        ])
        .output()
        .expect("read /proc/net/udp");
    let port = format!(":{PORT:04X}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| {
            l.split_whitespace()
                .nth(1)
                .is_some_and(|local| local.ends_with(&port))
        })
        .filter_map(|l| l.split_whitespace().last()?.parse::<u64>().ok())
        .sum()
}

/// Frames beta's core read (authentic or dropped), from its status.
fn received(dir: &Path, i: usize) -> u64 {
    status(dir, i)
        .and_then(|s| s["frames"]["received"].as_u64())
        .expect("status answers with frames.received")
}

/// CPU time of process `pid`, all threads, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|tasks| {
            tasks
                .flatten()
                .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
                .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
                .sum::<u64>() as f64
                / 1e9
        })
        .unwrap_or(0.0)
}

fn mac_of(seg: &Segment, i: usize) -> [u8; 6] {
    let out = std::process::Command::new("ip")
        .args(["-n", &seg.ns(i), "-o", "link", "show", "eth0"])
        .output()
        .expect("ip link");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let word = text
        .split_whitespace()
        .skip_while(|w| *w != "link/ether")
        .nth(1)
        .unwrap_or("")
        .to_string();
    let mut mac = [0u8; 6];
    for (m, h) in mac.iter_mut().zip(word.split(':')) {
        *m = u8::from_str_radix(h, 16).unwrap_or(0);
    }
    mac
}

fn holds_vip(seg: &Segment, i: usize) -> bool {
    common::vip::has_vip(seg, i)
}

/// A drop line of beta's log: (seconds into the day, link, node, reason).
fn drop_lines(log: &str) -> Vec<(f64, String)> {
    log.lines()
        .filter(|l| l.contains(": dropped ") && l.contains(" claiming to be from "))
        .filter_map(|l| {
            let clock = l.split_whitespace().next()?.split('T').nth(1)?;
            let clock = clock.trim_end_matches('Z');
            let mut hms = clock.split(':');
            let h: f64 = hms.next()?.parse().ok()?;
            let m: f64 = hms.next()?.parse().ok()?;
            let s: f64 = hms.next()?.parse().ok()?;
            let at = h * 3600.0 + m * 60.0 + s;
            // The key: the link, the claimed node and the reason.
            let rest = l.split(": link ").nth(1)?;
            let link = rest.split(": dropped ").next()?.to_string();
            let tail = rest.split(" claiming to be from ").nth(1)?;
            let key = format!("{link}|{}", tail.split(" since").next()?);
            Some((at, key))
        })
        .collect()
}

/// What one run measured.
struct Run {
    /// alpha's last frame on the wire to beta's first gratuitous ARP.
    takeover: f64,
    /// The kill to beta's first gratuitous ARP.
    from_kill: f64,
}

/// Starts both nodes and waits for alpha to hold the VIP and beta to see
/// alpha up.
fn form(seg: &mut Segment, dir: &Path, started: &[usize]) {
    for &i in started {
        seg.start(i, dir);
    }
    let formed = wait_for(Duration::from_secs(40), || {
        holds_vip(seg, 0)
            && !holds_vip(seg, 1)
            && status(dir, 1).is_some_and(|s| {
                s["nodes"].as_array().is_some_and(|n| {
                    n.iter()
                        .any(|n| n["node"] == "alpha" && n["liveness"] == "up")
                })
            })
    });
    assert!(formed, "alpha never held the address:\n{}", logs(dir));
}

/// kill -9 of alpha; beta must hold the VIP. Times from the capture.
fn kill_alpha(seg: &mut Segment, dir: &Path, attacker: &Attacker, beta_mac: [u8; 6]) -> Run {
    let killed = wall();
    seg.kill(0);
    let took = wait_for(Duration::from_secs(20), || {
        attacker.garp_from(beta_mac, killed).is_some()
    });
    assert!(took, "beta never announced the address:\n{}", logs(dir));
    assert!(holds_vip(seg, 1), "{}", logs(dir));
    let garp = attacker.garp_from(beta_mac, killed).unwrap_or(killed);
    let last = attacker.seen().last_alpha;
    Run {
        takeover: garp - last,
        from_kill: garp - killed,
    }
}

fn hostile_segment(wire: &str) {
    let test = format!("a_pair_on_a_hostile_segment_{wire}");
    if cannot_run(&test) {
        return;
    }
    let tmp = tempfile::Builder::new()
        .prefix("tandem-hostile-")
        .tempdir()
        .expect("tempdir");
    let dir = tmp.path();
    configure(dir, wire);
    let mut seg = Segment::new(&format!("hostile-{}", &wire[..1]), 3);
    // A hub, not a switch: the attacker sees what alpha sends beta.
    ip(&[
        "-n",
        &seg.switch(),
        "link",
        "set",
        "br0",
        "type",
        "bridge",
        "ageing_time",
        "0",
    ]);
    let attacker = Attacker::new(&seg, 2);
    let beta_mac = mac_of(&seg, 1);

    // Without the attack.
    form(&mut seg, dir, &[0, 1]);
    std::thread::sleep(Duration::from_millis(500));
    let calm = kill_alpha(&mut seg, dir, &attacker, beta_mac);
    // alpha back, with a new generation: what was captured before is now
    // an older life's.
    form(&mut seg, dir, &[0]);
    std::thread::sleep(Duration::from_millis(1000));

    // The attack.
    let log_before = std::fs::read_to_string(dir.join("beta.log"))
        .unwrap_or_default()
        .len();
    attacker.between_frames();
    attacker.seen().counting = true;
    let received_before = received(dir, 1);
    let drops_before = kernel_drops(&seg, 1);
    let beta = seg.pid(1).expect("beta runs");
    let cpu_before = cpu_seconds(beta);
    let flood = attacker.flood();
    // (a) Three deadtimes and more of it, alpha alive: nothing on beta.
    let watch = Instant::now();
    while watch.elapsed() < Duration::from_secs_f64(3.5 * DEADTIME) {
        assert!(
            !holds_vip(&seg, 1),
            "beta took the address from a live alpha under attack:\n{}",
            logs(dir)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(holds_vip(&seg, 0), "{}", logs(dir));
    // (b) kill -9 of alpha, the attack going on.
    let attacked = kill_alpha(&mut seg, dir, &attacker, beta_mac);
    std::thread::sleep(Duration::from_millis(1000));
    let (sent, seconds) = flood.end();
    let cpu = (cpu_seconds(beta) - cpu_before) / seconds;
    // Let beta read what is queued, then count.
    std::thread::sleep(Duration::from_millis(500));
    let alpha_frames = {
        let mut s = attacker.seen();
        s.counting = false;
        s.counted
    };
    let read = received(dir, 1) - received_before;
    let dropped = kernel_drops(&seg, 1) - drops_before;
    let beta_log = std::fs::read_to_string(dir.join("beta.log")).unwrap_or_default();
    let lines = drop_lines(&beta_log[log_before.min(beta_log.len())..]);
    let rate = sent as f64 / seconds;
    eprintln!(
        "wire {wire}: takeover from alpha's last frame {:.0} ms calm, {:.0} ms under attack \
         (from the kill {:.0} / {:.0} ms); {sent} datagrams in {seconds:.1} s ({rate:.0}/s); \
         beta's CPU {:.1} % of a core; beta read {read}, its kernel dropped {dropped}, \
         alpha sent {alpha_frames}; {} drop lines",
        calm.takeover * 1000.0,
        attacked.takeover * 1000.0,
        calm.from_kill * 1000.0,
        attacked.from_kill * 1000.0,
        cpu * 100.0,
        lines.len()
    );
    assert!(
        rate >= FLOOR,
        "the attack reached only {rate:.0} datagrams/s"
    );
    assert!(
        attacked.takeover <= calm.takeover + KEEPALIVE,
        "under attack the takeover took {:.0} ms from alpha's last frame, {:.0} ms without:\n{}",
        attacked.takeover * 1000.0,
        calm.takeover * 1000.0,
        logs(dir)
    );
    assert!(cpu < 0.10, "beta used {:.1} % of a core", cpu * 100.0);
    assert_eq!(
        read + dropped,
        sent + alpha_frames,
        "beta read {read} and its kernel dropped {dropped}, but {sent} were sent and alpha sent {alpha_frames}"
    );
    // log_badpack: one line per (link, reason, claimed node) per 10 s,
    // at most 5 lines in any second.
    for (i, (at, key)) in lines.iter().enumerate() {
        let same_key_before = lines[..i]
            .iter()
            .any(|(t, k)| k == key && at - t < 10.0 - 0.01);
        assert!(!same_key_before, "two lines for {key} within 10 s");
        // (Less a little: the log's clock is the wall clock at the write,
        // the limiter's the event loop's.)
        let in_second = lines
            .iter()
            .filter(|(t, _)| (0.0..0.99).contains(&(t - at)))
            .count();
        assert!(in_second <= 5, "{in_second} drop lines in one second");
    }
    assert!(!lines.is_empty(), "beta logged none of the drops");
    // Nothing else changed beta's mind: it never said alpha speaks
    // Heartbeat, and alpha's death was declared once per kill.
    let said = |what: &str| beta_log.matches(what).count();
    assert_eq!(said("node alpha is dead"), 2, "{beta_log}");
}

#[test]
fn a_pair_on_a_hostile_segment_in_wire_auto() {
    let _one = ONE_AT_A_TIME.lock();
    hostile_segment("auto");
}

#[test]
fn a_pair_on_a_hostile_segment_in_wire_heartbeat() {
    let _one = ONE_AT_A_TIME.lock();
    hostile_segment("heartbeat");
}

/// The flood and the CPU it measures are this binary's only load.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
