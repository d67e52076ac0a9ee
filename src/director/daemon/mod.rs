//! `tandem director`: its own single-threaded mio loop (so a slow real
//! server can never delay the pair's keepalives), every check a
//! non-blocking probe in it, verdicts in [`Health`], and the kernel's
//! IPVS table reconciled to what the verdicts ask for: on every change,
//! and every few seconds in case someone else touched it.
//!
//! Start-up never flushes: the kernel's table is left alone until every
//! real server has had its first check (or that round ran out of time),
//! then only the difference is applied.

mod alerts;
mod farm;
mod status;

use super::check::Check;
use super::health::{Due, Health, Verdict};
use super::ipvs::{Ipvs, IpvsError};
use super::probe::{self, Probe, Probed, Started};
use super::table::{self, Table};
use crate::config::ldirectord::{self, Address, Director, Virtual};
use crate::host::control;
use crate::host::log::Log;
use crate::time::Instant;
use crate::time::Time;
use farm::{build, Farm};
use mio::{Events, Interest, Poll, Token};
use status::service_name;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const LISTENER: Token = Token(0);
const SIGNALS: Token = Token(1);
/// Control connections: tokens from here.
const CONN_BASE: usize = 2;
/// Probes: tokens from here.
const PROBE_BASE: usize = CONN_BASE + control::CLIENTS_MAX;

/// How often the kernel's table is compared with the wanted one even
/// when no verdict changed.
const RESYNC: Time = Time::from_secs(5);
/// How often `autoreload = yes` looks at the file.
const AUTORELOAD: Time = Time::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum DirectorError {
    #[error("{0}")]
    Config(String),
    #[error("this kernel has no IPVS (try `modprobe ip_vs`), and nothing was programmed; `tandem director --checks-only` runs the health checks alone")]
    NoIpvs,
    #[error("IPVS: {0}")]
    Ipvs(#[from] IpvsError),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("a director for {0} is already running")]
    Running(String),
    #[error(transparent)]
    Probe(#[from] probe::ProbeError),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> DirectorError {
    let what = what.into();
    move |source| DirectorError::Io { what, source }
}

#[derive(Debug, Clone)]
pub struct Options {
    pub config: PathBuf,
    pub socket: PathBuf,
    /// Run the checks without programming IPVS (every status says so).
    pub checks_only: bool,
    /// Log to stderr (the foreground).
    pub stderr: bool,
}

/// The control socket of the director reading `config`.
pub fn socket_for(config: &Path) -> PathBuf {
    let name = config
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "ldirectord.cf".into());
    PathBuf::from(format!("/run/tandem/director.{name}.sock"))
}

/// Reads and checks the configuration: all of it or an error listing
/// every problem, one `file:line: directive: message` per line.
pub fn load(path: &Path) -> Result<Director, DirectorError> {
    ldirectord::load(path).map_err(DirectorError::Config)
}

pub struct Daemon {
    opts: Options,
    log: Log,
    poll: Poll,
    epoch: std::time::Instant,
    farm: Farm,
    ipvs: Option<Ipvs>,
    /// The kernel's table as last read or written (empty with
    /// --checks-only).
    kernel: Table,
    tls: Arc<rustls::ClientConfig>,
    probes: Vec<Option<(Probe, usize)>>,
    control: control::Server,
    signals: signal_hook_mio::v1_0::Signals,
    /// The first reconcile waits for every server's first verdict or
    /// this moment, whichever comes first.
    hold_until: Option<Instant>,
    dirty: bool,
    next_resync: Instant,
    next_autoreload: Instant,
    modified: Option<std::time::SystemTime>,
    seq: u16,
    stop: bool,
    /// The last IPVS error, for status (cleared by a good reconcile).
    ipvs_error: Option<String>,
    /// Mail and fallbackcommand processes, reaped on SIGCHLD.
    children: Vec<std::process::Child>,
    /// Per virtual service: whether its fallback is in use (every real
    /// server down), for fallbackcommand.
    fallback_on: Vec<bool>,
    /// When each server next needs attention, soonest first.
    timers: BinaryHeap<Reverse<(Instant, usize)>>,
    /// The virtual services this director has programmed: a reload that
    /// drops one from the configuration removes it from the kernel.
    owned: std::collections::BTreeSet<table::ServiceKey>,
}

impl Daemon {
    /// Reads the configuration and opens everything the director needs;
    /// any failure here leaves nothing behind.
    pub fn new(opts: Options) -> Result<Daemon, DirectorError> {
        let config = load(&opts.config)?;
        let ipvs = if opts.checks_only {
            None
        } else {
            match Ipvs::open() {
                Ok(i) => Some(i),
                Err(IpvsError::NoIpvs) => return Err(DirectorError::NoIpvs),
                Err(e) => return Err(e.into()),
            }
        };
        let tls = probe::tls_config()?;
        if control::request(&opts.socket, "ping", std::time::Duration::from_millis(500)).is_ok() {
            return Err(DirectorError::Running(opts.config.display().to_string()));
        }
        if let Some(dir) = opts.socket.parent() {
            std::fs::create_dir_all(dir).map_err(io(dir.display().to_string()))?;
        }
        let poll = Poll::new().map_err(io("poll"))?;
        let control = control::Server::bind(&opts.socket, poll.registry(), LISTENER, CONN_BASE)
            .map_err(io(opts.socket.display().to_string()))?;
        use signal_hook::consts::{SIGCHLD, SIGHUP, SIGINT, SIGTERM};
        let mut signals = signal_hook_mio::v1_0::Signals::new([SIGTERM, SIGINT, SIGHUP, SIGCHLD])
            .map_err(io("signals"))?;
        poll.registry()
            .register(&mut signals, SIGNALS, Interest::READABLE)
            .map_err(io("poll"))?;
        let mut log = Log::stderr("director");
        for p in log.configure_target(config.logfile.as_deref(), opts.stderr) {
            log.warn(&p);
        }
        let modified = std::fs::metadata(&opts.config)
            .and_then(|m| m.modified())
            .ok();
        let farm = build(config, Instant::ZERO, None);
        let longest = farm
            .servers
            .iter()
            .map(|s| s.health.timeout())
            .max()
            .unwrap_or(Time::ZERO);
        Ok(Daemon {
            opts,
            log,
            poll,
            epoch: std::time::Instant::now(),
            farm,
            ipvs,
            kernel: Table::default(),
            tls,
            probes: Vec::new(),
            control,
            signals,
            hold_until: Some(Instant::ZERO.plus(longest)),
            dirty: true,
            next_resync: Instant::ZERO,
            next_autoreload: Instant::ZERO.plus(AUTORELOAD),
            modified,
            seq: 0,
            stop: false,
            ipvs_error: None,
            owned: Default::default(),
            timers: BinaryHeap::new(),
            children: Vec::new(),
            fallback_on: Vec::new(),
        })
    }

    fn now(&self) -> Instant {
        Instant(self.epoch.elapsed().as_micros() as u64)
    }

    /// Runs until SIGTERM/SIGINT; then, with `cleanstop = yes` (the
    /// default), removes the virtual services it programmed.
    pub fn run(mut self) -> Result<(), DirectorError> {
        self.arm_all();
        let n = self.farm.servers.len();
        let what = if self.ipvs.is_some() {
            "programming IPVS"
        } else {
            "checks only: nothing is programmed"
        };
        let started = format!(
            "director started: {} virtual service(s), {n} real server(s), {what}",
            self.farm.config.virtuals.len()
        );
        self.log.info(&started);
        self.daemon_alert("starting", &started);
        let mut events = Events::with_capacity(1024);
        while !self.stop {
            let now = self.now();
            self.tick(now);
            let wake = self.wake_at();
            let now = self.now();
            let timeout = std::time::Duration::from_micros(wake.0.saturating_sub(now.0));
            match self.poll.poll(&mut events, Some(timeout)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(DirectorError::Io {
                        what: "poll".into(),
                        source: e,
                    })
                }
            }
            for ev in events.iter() {
                match ev.token() {
                    SIGNALS => self.signals(),
                    t if self.control.owns(t) => self.on_control(t),
                    Token(t) => self.probe_event(t - PROBE_BASE),
                }
            }
        }
        self.shutdown();
        Ok(())
    }

    fn wake_at(&mut self) -> Instant {
        let mut wake = self.next_resync.min(self.next_autoreload);
        if let Some(h) = self.hold_until {
            wake = wake.min(h);
        }
        while let Some(&Reverse((t, i))) = self.timers.peek() {
            if self.is_current(t, i) {
                wake = wake.min(t);
                break;
            }
            self.timers.pop();
        }
        wake
    }

    /// Whether a timer entry is still the server's next moment (entries
    /// are not removed when a result moves it: they go stale).
    fn is_current(&self, t: Instant, i: usize) -> bool {
        self.farm
            .servers
            .get(i)
            .is_some_and(|s| s.health.wake_at() == t)
    }

    /// Files server `i`'s next moment in the timer heap.
    fn arm(&mut self, i: usize) {
        if let Some(s) = self.farm.servers.get(i) {
            self.timers.push(Reverse((s.health.wake_at(), i)));
        }
    }

    fn arm_all(&mut self) {
        self.timers.clear();
        for i in 0..self.farm.servers.len() {
            self.arm(i);
        }
    }

    /// Starts due checks, times out late ones, reconciles when needed.
    fn tick(&mut self, now: Instant) {
        // Only the servers whose moment has come: with a thousand real
        // servers, a pass over all of them on every event cost more than
        // the checks.
        while let Some(&Reverse((t, i))) = self.timers.peek() {
            if t > now {
                break;
            }
            self.timers.pop();
            if !self.is_current(t, i) {
                continue;
            }
            let due = self.farm.servers[i].health.poll(now);
            match due {
                Some(Due::Start { .. }) => self.start_probe(i),
                Some(Due::TimedOut) => {
                    if let Some(p) = self.farm.servers[i].probe.take() {
                        if let Some((probe, _)) = self.probes[p].take() {
                            probe.finish(self.poll.registry());
                        }
                    }
                    let s = &self.farm.servers[i];
                    let took = s.health.timeout();
                    self.result(i, Probed::Failed(format!("no verdict within {took}")));
                }
                None => {}
            }
            self.arm(i);
        }
        if self.hold_until.is_some_and(|h| now >= h)
            || self
                .farm
                .servers
                .iter()
                .all(|s| s.health.verdict != Verdict::Unknown)
        {
            self.hold_until = None;
        }
        if self.hold_until.is_none() && (self.dirty || now >= self.next_resync) {
            self.reconcile();
            self.next_resync = now.plus(RESYNC);
        }
        if now >= self.next_autoreload {
            self.next_autoreload = now.plus(AUTORELOAD);
            if self.farm.config.autoreload {
                let m = std::fs::metadata(&self.opts.config)
                    .and_then(|m| m.modified())
                    .ok();
                if m != self.modified {
                    self.modified = m;
                    let _ = self.reload();
                }
            }
        }
    }

    fn start_probe(&mut self, i: usize) {
        let slot = match self.probes.iter().position(Option::is_none) {
            Some(p) => p,
            None => {
                self.probes.push(None);
                self.probes.len() - 1
            }
        };
        self.seq = self.seq.wrapping_add(1);
        if let Some(file) = self.in_maintenance(i) {
            self.result(i, Probed::Failed(format!("in maintenance ({file} exists)")));
            return;
        }
        let s = &mut self.farm.servers[i];
        let connect_only = s.check.connect_only(s.rounds);
        s.rounds += 1;
        let started = Probe::start(
            &s.check,
            connect_only,
            &self.tls,
            self.poll.registry(),
            Token(PROBE_BASE + slot),
            self.seq,
        );
        match started {
            Started::Running(p) => {
                self.probes[slot] = Some((p, i));
                self.farm.servers[i].probe = Some(slot);
            }
            Started::Done(outcome) => self.result(i, outcome),
        }
    }

    /// ldirectord's `maintenancedir`: a file named after a real server
    /// (`IP` or `IP:PORT`, `[IP]:PORT` for IPv6) takes it out of service
    /// as a failed check would, until the file goes.
    fn in_maintenance(&self, i: usize) -> Option<String> {
        let dir = Path::new(self.farm.config.maintenancedir.as_deref()?);
        let s = &self.farm.servers[i];
        let v = &self.farm.config.virtuals[s.virtual_index];
        let r = &v.reals[s.real_index];
        let port = table::dest_key(v, r).port;
        let with_port = match r.ip {
            std::net::IpAddr::V6(ip) => format!("[{ip}]:{port}"),
            std::net::IpAddr::V4(ip) => format!("{ip}:{port}"),
        };
        [r.ip.to_string(), with_port]
            .into_iter()
            .map(|name| dir.join(name))
            .find(|p| p.exists())
            .map(|p| p.display().to_string())
    }

    fn probe_event(&mut self, slot: usize) {
        let Some(Some((probe, i))) = self.probes.get_mut(slot) else {
            return;
        };
        let i = *i;
        let outcome = probe.on_event();
        if outcome != Probed::Pending {
            self.end_probe(slot, i, outcome);
        }
    }

    fn end_probe(&mut self, slot: usize, i: usize, outcome: Probed) {
        if let Some((probe, _)) = self.probes[slot].take() {
            probe.finish(self.poll.registry());
        }
        self.farm.servers[i].probe = None;
        self.result(i, outcome);
    }

    fn result(&mut self, i: usize, outcome: Probed) {
        let (ok, error) = match outcome {
            Probed::Passed => (true, None),
            Probed::Failed(e) => (false, Some(e)),
            Probed::Pending => return,
        };
        let verdict = self.farm.servers[i].health.result(ok, error.clone());
        self.arm(i);
        let Some(verdict) = verdict else {
            self.repeat_alert(i, error.as_deref());
            return;
        };
        self.dirty = true;
        let s = &mut self.farm.servers[i];
        s.since = Some(std::time::SystemTime::now());
        let what = s.describe(&self.farm.config);
        let vi = s.virtual_index;
        let line = if verdict == Verdict::Up {
            let line = format!("{what} is up");
            self.log.info(&line);
            line
        } else {
            let line = format!("{what} is down: {}", error.as_deref().unwrap_or("failed"));
            self.log.warn(&line);
            line
        };
        self.server_alert(i, vi, &line);
    }

    fn signals(&mut self) {
        use signal_hook::consts::{SIGCHLD, SIGHUP, SIGINT, SIGTERM};
        let pending: Vec<i32> = self.signals.pending().collect();
        for sig in pending {
            match sig {
                SIGTERM | SIGINT => self.stop = true,
                SIGHUP => {
                    let _ = self.reload();
                }
                SIGCHLD => {
                    self.children
                        .retain_mut(|c| !matches!(c.try_wait(), Ok(Some(_)) | Err(_)));
                    for slot in 0..self.probes.len() {
                        let Some((p, i)) = &mut self.probes[slot] else {
                            continue;
                        };
                        if !p.is_child() {
                            continue;
                        }
                        let i = *i;
                        let o = p.on_child();
                        if o != Probed::Pending {
                            self.end_probe(slot, i, o);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// Re-reads the configuration; a bad one is logged and the running
    /// one kept.
    fn reload(&mut self) -> Result<String, String> {
        match load(&self.opts.config) {
            Err(e) => {
                let msg = format!("reload refused, the running configuration stays: {e}");
                self.log.error(&msg);
                Err(msg)
            }
            Ok(config) => {
                // Running probes belong to the old servers.
                for slot in 0..self.probes.len() {
                    if let Some((p, _)) = self.probes[slot].take() {
                        p.finish(self.poll.registry());
                    }
                }
                let now = self.now();
                let mut old = std::mem::take(&mut self.farm.servers);
                for s in &mut old {
                    s.probe = None;
                    s.health.abandon();
                }
                self.owned
                    .extend(self.farm.config.virtuals.iter().map(table::service_key));
                self.farm = build(config, now, Some((&self.farm.config, old)));
                self.arm_all();
                self.dirty = true;
                let msg = format!(
                    "configuration reloaded: {} virtual service(s), {} real server(s)",
                    self.farm.config.virtuals.len(),
                    self.farm.servers.len()
                );
                self.log.info(&msg);
                self.daemon_alert("reloading", &msg);
                Ok(msg)
            }
        }
    }

    fn desired(&self) -> Table {
        let servers = &self.farm.servers;
        let index: HashMap<(usize, usize), usize> = servers
            .iter()
            .enumerate()
            .map(|(i, s)| ((s.virtual_index, s.real_index), i))
            .collect();
        table::desired(&self.farm.config, &|vi, ri| {
            index
                .get(&(vi, ri))
                .is_some_and(|&i| servers[i].health.is_up())
        })
    }

    /// Makes the kernel's table what the verdicts ask for.
    fn reconcile(&mut self) {
        self.dirty = false;
        self.fallback_commands();
        let desired = self.desired();
        let Some(ipvs) = &mut self.ipvs else {
            return;
        };
        let owned = &self.owned;
        let result = (|| -> Result<usize, IpvsError> {
            let mut current = ipvs.table()?;
            // Only the services this director describes, or described
            // before a reload: another tool's services are not ours.
            current
                .services
                .retain(|k, _| desired.services.contains_key(k) || owned.contains(k));
            let ops = table::plan(&current, &desired);
            for op in &ops {
                ipvs.apply(op)?;
            }
            Ok(ops.len())
        })();
        match result {
            Ok(n) => {
                if n > 0 {
                    self.log.info(&format!("IPVS: {n} change(s) applied"));
                }
                self.owned = desired.services.keys().copied().collect();
                self.kernel = desired;
                self.ipvs_error = None;
            }
            Err(e) => {
                let msg = e.to_string();
                if self.ipvs_error.as_deref() != Some(msg.as_str()) {
                    self.log.error(&format!("IPVS: {msg}"));
                }
                self.ipvs_error = Some(msg);
                self.dirty = true;
                if let Ok(t) = ipvs.table() {
                    self.kernel = t;
                }
            }
        }
    }

    fn shutdown(&mut self) {
        for slot in 0..self.probes.len() {
            if let Some((p, _)) = self.probes[slot].take() {
                p.finish(self.poll.registry());
            }
        }
        // cleanstop is each service's (inherited from the global section).
        if let Some(ipvs) = &mut self.ipvs {
            let mine: Vec<_> = self
                .farm
                .config
                .virtuals
                .iter()
                .filter(|v| v.settings.cleanstop)
                .map(table::service_key)
                .collect();
            if let Ok(current) = ipvs.table() {
                for key in mine {
                    if current.services.contains_key(&key) {
                        if let Err(e) = ipvs.apply(&table::Op::DelService(key)) {
                            self.log.error(&format!("IPVS on stop: {e}"));
                        }
                    }
                }
            }
        }
        let _ = std::fs::remove_file(&self.opts.socket);
        self.log.info("director stopped");
        self.daemon_alert("stopping", "director stopped");
        // Let the mails go out before the process ends.
        let t = std::time::Instant::now();
        while !self.children.is_empty() && t.elapsed() < std::time::Duration::from_secs(5) {
            self.children
                .retain_mut(|c| !matches!(c.try_wait(), Ok(Some(_)) | Err(_)));
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    fn on_control(&mut self, token: Token) {
        match self.control.ready(self.poll.registry(), token) {
            control::Served::Idle => {}
            control::Served::AcceptFailed(e) => {
                self.log.warn(&format!("control socket: accept: {e}"));
            }
            control::Served::Request { client, line } => {
                let answer = self.answer(line.trim());
                self.control.reply(self.poll.registry(), client, answer);
            }
        }
    }
}
