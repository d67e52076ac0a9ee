//! `tandem demo`: a real two-node pair on this machine. Two `tandem run`
//! processes, joined by a null-modem "cable" (two pty pairs relayed by
//! this process, so the cable can be cut) and by UDP on loopback (also
//! relayed, so it can be cut too), with a stand-in service whose start
//! and stop scripts leave a file behind. The same harness drives the
//! integration tests.

use crate::host::control;
use serde_json::Value;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// How to run the demo.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Leave the pair running at the end (until the process is stopped).
    pub keep: bool,
    /// Work here instead of a new directory under $TMPDIR.
    pub dir: Option<PathBuf>,
}

/// A wire that this process relays and can cut: the bytes still flow in,
/// and are dropped while the wire is cut.
#[derive(Debug, Clone)]
pub struct Switch {
    connected: Arc<AtomicBool>,
    /// Set when the wire's owner is dropped: the relay threads end.
    closed: Arc<AtomicBool>,
}

impl Switch {
    fn new() -> Switch {
        Switch {
            connected: Arc::new(AtomicBool::new(true)),
            closed: Arc::new(AtomicBool::new(false)),
        }
    }
    pub fn cut(&self) {
        self.connected.store(false, Ordering::SeqCst)
    }
    pub fn restore(&self) {
        self.connected.store(true, Ordering::SeqCst)
    }
    pub fn connected(&self) -> bool {
        self.connected.load(Ordering::SeqCst)
    }
    fn close(&self) {
        self.closed.store(true, Ordering::SeqCst)
    }
    fn closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }
}

/// A null-modem cable between two pty slaves (`ends`), relayed through
/// their masters.
pub struct Cable {
    pub ends: [PathBuf; 2],
    pub switch: Switch,
    /// The masters again, for [`Cable::tap`].
    taps: [OwnedFd; 2],
    // Kept open so that the masters never see a hang-up between daemons.
    _slaves: [OwnedFd; 2],
}

fn pty() -> io::Result<(OwnedFd, OwnedFd, PathBuf)> {
    use nix::sys::termios;
    let pair = nix::pty::openpty(None, None).map_err(io::Error::from)?;
    // Raw from the start: no echo or line editing before a daemon opens
    // the slave and sets it up itself.
    let mut t = termios::tcgetattr(pair.slave.as_fd()).map_err(io::Error::from)?;
    termios::cfmakeraw(&mut t);
    termios::tcsetattr(pair.slave.as_fd(), termios::SetArg::TCSANOW, &t)
        .map_err(io::Error::from)?;
    let path = nix::unistd::ttyname(pair.slave.as_fd()).map_err(io::Error::from)?;
    Ok((pair.master, pair.slave, path))
}

impl Drop for Cable {
    fn drop(&mut self) {
        self.switch.close();
    }
}

impl Drop for UdpWire {
    fn drop(&mut self) {
        self.switch.close();
    }
}

impl Cable {
    /// End `i`'s daemon is gone: clear the exclusive-use flag that the
    /// serial port set on its pty (TIOCEXCL). A real UART loses it when
    /// its last user closes it; here the cable itself keeps the pty open,
    /// and without this a restarted daemon that is not root would find
    /// its end busy.
    pub fn release(&self, i: usize) {
        use std::os::fd::AsRawFd;
        if let Some(fd) = self._slaves.get(i) {
            // SAFETY: an ioctl without arguments on a descriptor we own.
            #[allow(unsafe_code)]
            let _ = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCNXCL) };
        }
    }

    /// A way onto the line towards end `to`: what is written reaches that
    /// end's daemon, as line noise or a stranger spliced into the cable
    /// would (tests of hostile input).
    pub fn tap(&self, to: usize) -> io::Result<std::fs::File> {
        let tap = self
            .taps
            .get(to)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "a cable has two ends"))?;
        Ok(std::fs::File::from(tap.try_clone()?))
    }

    pub fn new() -> io::Result<Cable> {
        let (ma, sa, pa) = pty()?;
        let (mb, sb, pb) = pty()?;
        let switch = Switch::new();
        let s = switch.clone();
        let taps = [ma.try_clone()?, mb.try_clone()?];
        thread::Builder::new()
            .name("cable".into())
            .spawn(move || relay_ptys(ma, mb, s))?;
        Ok(Cable {
            ends: [pa, pb],
            switch,
            taps,
            _slaves: [sa, sb],
        })
    }
}

/// The wires stand for cables, which no CPU load slows down: where the
/// system allows it, their relay threads run SCHED_FIFO (a benchmark
/// that loads both cores then measures the daemons, not the relay).
fn wire_priority() {
    let param = libc::sched_param { sched_priority: 10 };
    // SAFETY: a plain system call on the calling thread, with a valid
    // sched_param; failure (no privilege) leaves the thread as it was.
    #[allow(unsafe_code)]
    let _ = unsafe { libc::sched_setscheduler(0, libc::SCHED_FIFO, &param) };
}

fn relay_ptys(a: OwnedFd, b: OwnedFd, switch: Switch) {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    wire_priority();
    let mut buf = [0u8; 4096];
    while !switch.closed() {
        let (ra, rb) = {
            let mut fds = [
                PollFd::new(a.as_fd(), PollFlags::POLLIN),
                PollFd::new(b.as_fd(), PollFlags::POLLIN),
            ];
            if poll(&mut fds, PollTimeout::from(100u16)).is_err() {
                continue;
            }
            let ready = |f: &PollFd| f.revents().is_some_and(|r| r.contains(PollFlags::POLLIN));
            let hung = |f: &PollFd| {
                f.revents()
                    .is_some_and(|r| r.intersects(PollFlags::POLLHUP | PollFlags::POLLERR))
            };
            if hung(&fds[0]) || hung(&fds[1]) {
                thread::sleep(Duration::from_millis(10));
            }
            (ready(&fds[0]), ready(&fds[1]))
        };
        for (from, to, ready) in [(&a, &b, ra), (&b, &a, rb)] {
            if !ready {
                continue;
            }
            match nix::unistd::read(from, &mut buf) {
                Ok(n) if n > 0 => {
                    if switch.connected() {
                        let _ = nix::unistd::write(to, &buf[..n]);
                    }
                }
                // A hung-up end (EIO): nothing to relay; never spin.
                _ => thread::sleep(Duration::from_millis(10)),
            }
        }
    }
}

/// A UDP path on loopback relayed through this process: each node sends
/// to its relay port, which forwards to the other node's port.
pub struct UdpWire {
    /// Where node 0 and node 1 send.
    pub relay: [u16; 2],
    pub switch: Switch,
}

impl UdpWire {
    /// `ports` are the nodes' own listening ports.
    pub fn new(ports: [u16; 2]) -> io::Result<UdpWire> {
        let switch = Switch::new();
        let mut relay = [0u16; 2];
        for (i, r) in relay.iter_mut().enumerate() {
            let sock = UdpSocket::bind("127.0.0.1:0")?;
            sock.set_read_timeout(Some(Duration::from_millis(100)))?;
            *r = sock.local_addr()?.port();
            let dest: SocketAddr = SocketAddr::from(([127, 0, 0, 1], ports[1 - i]));
            let s = switch.clone();
            thread::Builder::new()
                .name("udp-wire".into())
                .spawn(move || {
                    let mut buf = [0u8; 2048];
                    loop {
                        if let Ok((n, _)) = sock.recv_from(&mut buf) {
                            if s.connected() {
                                let _ = sock.send_to(&buf[..n], dest);
                            }
                        }
                    }
                })?;
        }
        Ok(UdpWire { relay, switch })
    }
}

/// A free UDP port on loopback (bound and released: good enough for a
/// demo or a test that starts at once).
pub fn free_udp_port() -> io::Result<u16> {
    Ok(UdpSocket::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The stand-in service: a file `running-on-NODE` exists while it runs.
const SERVICE: &str = r#"#!/bin/sh
# demo-service DIR ACTION: the demo's stand-in service. While it runs on a
# node, DIR/running-on-NODE exists. Heartbeat v1 calling convention.
dir="$1"
f="$dir/running-on-$TANDEM_NODE"
case "$2" in
    start)  date +%s.%N > "$f"; echo "demo service started on $TANDEM_NODE" ;;
    stop)   rm -f "$f"; echo "demo service stopped on $TANDEM_NODE" ;;
    status) if [ -e "$f" ]; then echo running; else echo stopped; fi ;;
    *)      echo "usage: demo-service DIR start|stop|status" >&2; exit 2 ;;
esac
"#;

/// Timings of a pair, as ha.cf writes them.
#[derive(Debug, Clone)]
pub struct Timings {
    pub keepalive: &'static str,
    pub warntime: &'static str,
    pub deadtime: &'static str,
    pub initdead: &'static str,
}

impl Timings {
    pub const DEMO: Timings = Timings {
        keepalive: "100ms",
        warntime: "300ms",
        deadtime: "600ms",
        initdead: "1200ms",
    };
}

/// Two nodes' configuration directories joined by a cable and a UDP wire.
pub struct Pair {
    pub dir: PathBuf,
    pub names: [&'static str; 2],
    /// Each node's own UDP port.
    pub ports: [u16; 2],
    pub cable: Cable,
    pub udp: UdpWire,
    pub children: [Option<Child>; 2],
    /// A command that runs `tandem run` (tests: `unshare --pid --fork`,
    /// to run a node in a PID namespace of its own); empty: none.
    pub wrapper: Vec<String>,
    /// More arguments for `tandem run` (tests: `--init-d DIR`).
    pub run_args: Vec<String>,
    exe: PathBuf,
}

impl Pair {
    /// Writes both nodes' configuration under `dir`; `extra` goes at the
    /// end of both ha.cf files.
    pub fn new(dir: &Path, exe: &Path, t: &Timings, extra: &str) -> io::Result<Pair> {
        let names = ["alpha", "beta"];
        std::fs::create_dir_all(dir)?;
        let cable = Cable::new()?;
        let ports = [free_udp_port()?, free_udp_port()?];
        let udp = UdpWire::new(ports)?;
        let service_dir = dir.join("service");
        std::fs::create_dir_all(&service_dir)?;
        for (i, name) in names.iter().enumerate() {
            let cfg = dir.join(name);
            let rd = cfg.join("resource.d");
            std::fs::create_dir_all(&rd)?;
            std::fs::create_dir_all(cfg.join("state"))?;
            let ha_cf = format!(
                "# {name}'s ha.cf, written by tandem demo\n\
                 cluster demo\n\
                 keepalive {}\nwarntime {}\ndeadtime {}\ninitdead {}\n\
                 udpport {}\n\
                 baud 19200\n\
                 serial {}\n\
                 ucast lo 127.0.0.1:{}\n\
                 node alpha\nnode beta\n\
                 auto_failback on\n\
                 # A stop that keeps failing blocks the group here: a demo\n\
                 # never reboots the machine it runs on.\n\
                 on_stop_failure block\n\
                 {realtime}\
                 {extra}\n",
                t.keepalive,
                t.warntime,
                t.deadtime,
                t.initdead,
                ports[i],
                cable.ends[i].display(),
                udp.relay[i],
                // Off unless asked for: SCHED_FIFO daemons spinning on a
                // test machine help nobody; the soak benchmark asks.
                realtime = if extra.contains("realtime") {
                    ""
                } else {
                    "realtime off\n"
                },
            );
            std::fs::write(cfg.join("ha.cf"), ha_cf)?;
            std::fs::write(
                cfg.join("haresources"),
                format!("alpha demo-service::{}\n", service_dir.display()),
            )?;
            write_mode(
                &cfg.join("authkeys"),
                "auth 1\n1 sha256 tandem-demo-key-not-for-production\n",
                0o600,
            )?;
            write_mode(&rd.join("demo-service"), SERVICE, 0o755)?;
        }
        Ok(Pair {
            dir: dir.to_path_buf(),
            names,
            ports,
            cable,
            udp,
            children: [None, None],
            wrapper: Vec::new(),
            run_args: Vec::new(),
            exe: exe.to_path_buf(),
        })
    }

    pub fn config_dir(&self, i: usize) -> PathBuf {
        self.dir.join(self.names[i])
    }

    pub fn state_dir(&self, i: usize) -> PathBuf {
        self.config_dir(i).join("state")
    }

    pub fn log_path(&self, i: usize) -> PathBuf {
        self.dir.join(format!("{}.log", self.names[i]))
    }

    /// Starts node `i`'s daemon, its log appended to `NAME.log`.
    pub fn start(&mut self, i: usize) -> io::Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path(i))?;
        let mut command = match self.wrapper.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(&self.exe);
                c
            }
            None => Command::new(&self.exe),
        };
        let child = command
            .arg("run")
            .arg("-c")
            .arg(self.config_dir(i))
            .arg("--node")
            .arg(self.names[i])
            .arg("--state-dir")
            .arg(self.state_dir(i))
            .args(&self.run_args)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        self.children[i] = Some(child);
        Ok(())
    }

    /// kill -9.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut c) = self.children[i].take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        self.cable.release(i);
    }

    /// A crash of node `i`: kill -9 of its daemon, and its service dies
    /// with it (the stand-in service's file goes).
    pub fn crash(&mut self, i: usize) {
        self.kill(i);
        let _ = std::fs::remove_file(
            self.dir
                .join("service")
                .join(format!("running-on-{}", self.names[i])),
        );
    }

    /// Waits for node `i`'s daemon to exit by itself.
    pub fn wait_exit(&mut self, i: usize, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        let c = self.children[i].as_mut()?;
        loop {
            if let Ok(Some(s)) = c.try_wait() {
                self.children[i] = None;
                self.cable.release(i);
                return Some(s);
            }
            if Instant::now() > deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// Sends a control request to node `i`.
    pub fn request(&self, i: usize, line: &str) -> Result<String, control::ClientError> {
        let path = self.state_dir(i).join("control");
        control::request(&path, line, Duration::from_secs(5))
    }

    /// Node `i`'s status, if its daemon answers.
    pub fn status(&self, i: usize) -> Option<Value> {
        let body = self.request(i, "status-json").ok()?;
        serde_json::from_str(&body).ok()
    }

    /// Which nodes run the stand-in service now (by its files).
    pub fn service_on(&self) -> Vec<&'static str> {
        self.names
            .iter()
            .copied()
            .filter(|n| {
                self.dir
                    .join("service")
                    .join(format!("running-on-{n}"))
                    .exists()
            })
            .collect()
    }

    /// Polls until `cond` holds, or gives up after `timeout`; returns the
    /// time it took.
    pub fn wait_for(
        &self,
        timeout: Duration,
        mut cond: impl FnMut(&Pair) -> bool,
    ) -> Option<Duration> {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if cond(self) {
                return Some(start.elapsed());
            }
            thread::sleep(Duration::from_millis(2));
        }
        None
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        for i in 0..2 {
            self.kill(i);
        }
    }
}

fn write_mode(path: &Path, text: &str, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

/// A group's state on a node, from its status JSON.
pub fn group_state(status: &Value) -> Option<&str> {
    status["groups"][0]["state"].as_str()
}

/// Whether node `status` sees `peer` with liveness `want`.
pub fn peer_liveness<'a>(status: &'a Value, peer: &str) -> Option<&'a str> {
    status["nodes"]
        .as_array()?
        .iter()
        .find(|n| n["node"] == peer)?["liveness"]
        .as_str()
}

/// Whether `status` sees link number `link` to `peer` up.
pub fn link_up(status: &Value, peer: &str, link: usize) -> Option<bool> {
    status["nodes"]
        .as_array()?
        .iter()
        .find(|n| n["node"] == peer)?["links"][link]["up"]
        .as_bool()
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

/// Why the demo could not run at all (a step that fails is reported in
/// [`Finished::failures`] instead).
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("the pair did not come up within {within:?}; see {log}")]
    NotUp { within: Duration, log: String },
}

/// How the demo ended.
#[derive(Debug)]
pub struct Finished {
    /// What did not work, one line each; empty when everything did.
    pub failures: Vec<String>,
    /// Where the pair ran (removed when everything worked).
    pub dir: PathBuf,
}

/// Runs the demo, telling `out` what happens, one line at a time.
pub fn run(opts: &Options, out: &mut dyn FnMut(&str)) -> Result<Finished, DemoError> {
    let exe = std::env::current_exe()?;
    let dir = match &opts.dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("tandem-demo-{}", std::process::id())),
    };
    let t = Timings::DEMO;
    let mut pair = Pair::new(&dir, &exe, &t, "")?;
    let started = Instant::now();
    let say = |out: &mut dyn FnMut(&str), m: &str| {
        out(&format!("[{:6.2}s] {m}", started.elapsed().as_secs_f64()))
    };
    out(&format!(
        "tandem demo: a two-node pair on this machine, in {}",
        dir.display()
    ));
    out(&format!(
        "  serial cable: {} <-> {} (a pty pair, relayed by this demo)",
        pair.cable.ends[0].display(),
        pair.cable.ends[1].display()
    ));
    out(&format!(
        "  udp link:     ucast on loopback, via relay ports {} and {}",
        pair.udp.relay[0], pair.udp.relay[1]
    ));
    out(&format!(
        "  keepalive {}, deadtime {}; group demo-service prefers alpha; logs in {}/alpha.log and beta.log\n",
        t.keepalive,
        t.deadtime,
        dir.display()
    ));
    let mut failures = Vec::new();
    let long = Duration::from_secs(20);

    say(out, "starting alpha and beta");
    pair.start(0)?;
    pair.start(1)?;
    let up = pair.wait_for(long, |p| {
        p.service_on() == ["alpha"]
            && p.status(1)
                .is_some_and(|s| peer_liveness(&s, "alpha") == Some("up"))
    });
    match up {
        Some(d) => say(
            out,
            &format!(
                "alpha runs demo-service; beta sees alpha up ({} after start)",
                ms(d)
            ),
        ),
        None => {
            return Err(DemoError::NotUp {
                within: long,
                log: pair.log_path(0).display().to_string(),
            })
        }
    }
    print_links(&pair, &mut |m: &str| say(out, m));

    // 1. kill -9 the active node.
    say(
        out,
        "crash of alpha, the active node: kill -9 of its daemon, its service dies with it",
    );
    let killed = Instant::now();
    pair.crash(0);
    let dead = pair.wait_for(long, |p| {
        p.status(1)
            .is_some_and(|s| peer_liveness(&s, "alpha") == Some("dead"))
    });
    let took = pair.wait_for(long, |p| p.service_on() == ["beta"]);
    match (dead, took) {
        (Some(_), Some(_)) => {
            let total = killed.elapsed();
            say(out, &format!(
                "takeover: beta declared alpha dead and started demo-service; {} from kill -9 to service running on beta (deadtime {})",
                ms(total),
                t.deadtime
            ));
        }
        _ => failures.push("beta did not take over after kill -9 of alpha".to_string()),
    }

    // 2. alpha comes back; auto_failback on returns the group.
    say(
        out,
        "restarting alpha (auto_failback on: the group goes back to it)",
    );
    pair.start(0)?;
    match pair.wait_for(long, |p| p.service_on() == ["alpha"]) {
        Some(d) => say(
            out,
            &format!(
                "failback: demo-service runs on alpha again ({} after restart)",
                ms(d)
            ),
        ),
        None => failures.push("the group did not fail back to alpha".to_string()),
    }

    // 3. Cut the serial cable: UDP still carries keepalives, no takeover.
    say(out, "cutting the serial cable (UDP still up)");
    pair.cable.switch.cut();
    let down = pair.wait_for(long, |p| {
        p.status(1)
            .is_some_and(|s| link_up(&s, "alpha", 0) == Some(false))
    });
    if down.is_some() {
        say(
            out,
            "beta: link serial to alpha is down; alpha still up over UDP",
        );
    } else {
        failures.push("beta did not notice the cut cable".to_string());
    }
    thread::sleep(Duration::from_millis(1500));
    if pair.service_on() == ["alpha"] {
        say(out, "no takeover: demo-service still runs on alpha only");
    } else {
        failures.push(format!(
            "the service moved on a cable cut: {:?}",
            pair.service_on()
        ));
    }
    pair.cable.switch.restore();
    match pair.wait_for(long, |p| {
        p.status(1)
            .is_some_and(|s| link_up(&s, "alpha", 0) == Some(true))
    }) {
        Some(d) => say(
            out,
            &format!("cable restored: serial link up again after {}", ms(d)),
        ),
        None => failures.push("the serial link did not come back".to_string()),
    }

    // 4. Standby and takeover.
    say(out, "tandem standby on alpha (hb_standby)");
    let _ = pair.request(0, "standby all");
    match pair.wait_for(long, |p| p.service_on() == ["beta"]) {
        Some(d) => say(
            out,
            &format!("standby: demo-service moved to beta in {}", ms(d)),
        ),
        None => failures.push("standby did not move the group".to_string()),
    }
    say(out, "tandem takeover on alpha (hb_takeover)");
    let _ = pair.request(0, "takeover all");
    match pair.wait_for(long, |p| p.service_on() == ["alpha"]) {
        Some(d) => say(
            out,
            &format!("takeover: demo-service back on alpha in {}", ms(d)),
        ),
        None => failures.push("takeover did not move the group back".to_string()),
    }

    if opts.keep {
        out("\nThe pair keeps running. Try:");
        for i in 0..2 {
            out(&format!(
                "  {} status --state-dir {}",
                exe.display(),
                pair.state_dir(i).display()
            ));
        }
        out("Press Ctrl-C to stop it.");
        loop {
            thread::sleep(Duration::from_secs(3600));
        }
    }

    // 5. Graceful stop: immediate handover, no deadtime wait.
    say(
        out,
        "graceful stop of alpha (tandem stop): it hands the group over",
    );
    let stopping = Instant::now();
    let _ = pair.request(0, "shutdown");
    match pair.wait_for(long, |p| p.service_on() == ["beta"]) {
        Some(_) => say(
            out,
            &format!(
                "handover: demo-service runs on beta {} after the stop request",
                ms(stopping.elapsed())
            ),
        ),
        None => failures.push("graceful stop did not hand the group over".to_string()),
    }
    let _ = pair.wait_exit(0, Duration::from_secs(10));
    let _ = pair.request(1, "shutdown");
    let _ = pair.wait_exit(1, Duration::from_secs(10));

    if failures.is_empty() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(Finished { failures, dir })
}

fn print_links(pair: &Pair, say: &mut dyn FnMut(&str)) {
    if let Some(s) = pair.status(1) {
        if let Some(links) = s["nodes"]
            .as_array()
            .and_then(|n| n.iter().find(|n| n["node"] == "alpha"))
            .and_then(|n| n["links"].as_array())
        {
            for l in links {
                say(&format!(
                    "beta: link {} to alpha is {}",
                    l["link"].as_str().unwrap_or("?"),
                    if l["up"].as_bool() == Some(true) {
                        "up"
                    } else {
                        "down"
                    }
                ));
            }
        }
    }
}
