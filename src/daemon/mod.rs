//! `tandem run`: the thin shell around the core. One single-threaded mio
//! loop turns sockets, serial lines, the control socket, signals, child
//! exits and deadlines into the core's inputs, and carries out its
//! outputs. No async runtime, no locks, no threads.

pub mod clients;
mod failures;
mod links;
pub mod notify;
pub mod ping;
mod prepare;
mod requests;
pub mod state;
pub mod status;
pub mod watchdog;

use crate::config::hacf::StopFailure;
use crate::config::{Config, Files};
use crate::core::{self, Action, Command, Severity, Which};
use crate::host::pid::PidLock;
use crate::host::{control, log::Log, sd_notify};
use crate::media::{self, serial::Received, Link};
use crate::resources::{self, runner, Runner, Step};
use crate::time;
use crate::wire::Authenticator;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use prepare::{go_realtime, prepare, program_env, runner_settings, timeout, wire_of, Prepared};
use signal_hook::consts::signal::{SIGCHLD, SIGHUP, SIGINT, SIGTERM, SIGUSR1, SIGUSR2};
use signal_hook_mio::v1_0::Signals;
use state::Paths;
use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const SIGNALS: Token = Token(0);
const CONTROL: Token = Token(1);
const PING: Token = Token(2);
const LINK_BASE: usize = 16;
const RUNNER_BASE: usize = 1 << 16;
const CONN_BASE: usize = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// The configuration has errors; each finding is one line.
    #[error("{}", .0.join("\n"))]
    Config(Vec<String>),
    #[error(transparent)]
    Resource(#[from] resources::ResourceError),
    #[error(transparent)]
    Media(#[from] media::MediaError),
    #[error("{what}")]
    Io {
        what: String,
        #[source]
        source: io::Error,
    },
}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> DaemonError {
    let what = what.into();
    move |source| DaemonError::Io { what, source }
}

/// How `tandem run` was asked to run.
#[derive(Debug, Clone)]
pub struct Options {
    pub files: Files,
    pub node: Option<String>,
    /// Control socket, pid and generation files in this directory.
    pub state_dir: Option<PathBuf>,
    /// Detach (`-d`): daemon(3), logs only where ha.cf says.
    pub detach: bool,
    /// LSB init scripts' directory, when not /etc/init.d.
    pub init_d: Option<PathBuf>,
}

/// Runs the daemon until a graceful shutdown completes.
pub fn run(opts: Options) -> Result<(), DaemonError> {
    let prepared = prepare(&opts)?;
    let paths = Paths::new(opts.state_dir.as_deref());
    if opts.detach {
        // Before the lock: the lock belongs to the process that stays.
        nix::unistd::daemon(false, false).map_err(|e| DaemonError::Io {
            what: "daemon(3)".to_string(),
            source: e.into(),
        })?;
    }
    let pid = PidLock::take(&paths.pid()).map_err(io_err("pid file"))?;
    let mut daemon = Daemon::new(opts, paths, prepared, pid)?;
    daemon.run()
}

/// A serial link's reopen schedule.
struct Reopen {
    at: Instant,
    logged: bool,
}

struct Daemon {
    opts: Options,
    paths: Paths,
    config: Config,
    core: core::Engine,
    links: Vec<Link>,
    /// Serial links waiting to be opened again.
    reopen: HashMap<usize, Reopen>,
    /// ppp links whose pppd is to be started again, and when.
    pppd_restart: HashMap<usize, Instant>,
    /// The last send error per link, logged once until it changes.
    send_errors: HashMap<usize, String>,
    runner: Runner,
    /// `respawn` and `failfast` clients.
    clients: clients::Clients,
    fencer: Option<resources::fence::Fencer>,
    notifications: notify::Notifications,
    watchdog: Option<watchdog::Watchdog>,
    next_monitor: Option<Instant>,
    pinger: Option<ping::Pinger>,
    /// Ping nodes reachable, as last told to the core.
    ping_count: u8,
    /// Groups to announce again after a split brain, and when.
    reannounce: Vec<(core::GroupId, Instant)>,
    /// Nodes whose last reset failed: the next one waits a little.
    fence_failed: std::collections::HashSet<core::NodeId>,
    log: Log,
    poll: Poll,
    signals: Signals,
    control: Option<control::Server>,
    known: Vec<Option<u32>>,
    /// One receive buffer for every link, allocated once: room for
    /// Heartbeat's larger messages, not only tandem's frames.
    receive: Box<[u8]>,
    epoch: Instant,
    notifier: sd_notify::Notifier,
    next_watchdog: Option<Instant>,
    exiting: bool,
    _pid: PidLock,
}

impl Daemon {
    fn new(opts: Options, paths: Paths, p: Prepared, pid: PidLock) -> Result<Daemon, DaemonError> {
        // First: a device that cannot be opened stops the start before
        // anything is written or bound.
        let watchdog = match &p.config.hacf.watchdog {
            Some(w) => {
                let keepalive = Duration::from_micros(p.config.hacf.keepalive.value.as_micros());
                Some(
                    watchdog::Watchdog::open(&w.value, keepalive, Instant::now())
                        .map_err(io_err(format!("{}: watchdog {}", w.source, w.value)))?,
                )
            }
            None => None,
        };
        let mut log = Log::stderr(&p.config.local_node);
        for problem in log.configure(&p.config.hacf.logging, !opts.detach) {
            log.warn(&problem);
        }
        for w in &p.warnings {
            log.warn(w);
        }
        let generation = match p.config.hacf.generation_method.value {
            crate::config::hacf::GenerationMethod::File => {
                state::next_generation(&paths).map_err(io_err("generation file"))?
            }
            crate::config::hacf::GenerationMethod::Time => {
                let early = sd_notify::Notifier::from_env();
                let mut wait = |now: u32, last: u32| {
                    let msg = format!(
                        "hbgenmethod time: the clock ({now}) is {} s behind the last generation ({last}); waiting for it rather than start with an older generation",
                        last - now + 1
                    );
                    log.warn(&msg);
                    early.send(&format!("STATUS={msg}"));
                };
                state::time_generation(&paths, &mut wait).map_err(io_err("generation"))?
            }
        };
        let known = state::known_generations(&paths, &p.params.nodes);
        let mut warnings = Vec::new();
        std::fs::create_dir_all(&paths.run).map_err(io_err("state directory"))?;
        let links = media::open_all(&p.config, &paths.run, &mut warnings)?;
        for w in &warnings {
            log.warn(w);
        }
        let env = program_env(&p.config, &opts);
        let running = {
            let mut say = |m: String| log.info(&m);
            runner::probe(&p.programs, &env, timeout(&p.config), &mut say)
        };
        let mask = running
            .iter()
            .enumerate()
            .filter(|(_, r)| **r)
            .fold(0, |m, (g, _)| m | (1 << g));
        let epoch = Instant::now();
        let auth = Authenticator::from(&p.config.authkeys);
        // Heartbeat's `ts` field and generations are wall-clock seconds.
        let wall_at_zero = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let boot = core::Boot {
            wire: wire_of(&p.config, &paths)?,
            generation,
            known: known.clone(),
            running: mask,
            wall_at_zero,
        };
        let core = core::Engine::new(p.params, auth, boot, time::Instant::ZERO).map_err(|e| {
            DaemonError::Config(vec![format!(
                "wire {}: {e}",
                p.config.hacf.wire.value.as_str()
            )])
        })?;
        let poll = Poll::new().map_err(io_err("epoll"))?;
        let mut signals = Signals::new([SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGCHLD])
            .map_err(io_err("signals"))?;
        poll.registry()
            .register(&mut signals, SIGNALS, Interest::READABLE)
            .map_err(io_err("signals"))?;
        let notifications = notify::Notifications::new(
            p.config
                .hacf
                .notify
                .as_ref()
                .map(|n| PathBuf::from(&n.value)),
            p.config
                .hacf
                .notify_fifo
                .as_ref()
                .map(|n| PathBuf::from(&n.value)),
            env.clone(),
            timeout(&p.config),
        );
        let clients = clients::Clients::new(&p.config.hacf.respawn, env.clone(), Instant::now());
        let runner = Runner::new(p.programs, env, runner_settings(&p.config), RUNNER_BASE);
        go_realtime(&p.config, &mut log);
        let notifier = sd_notify::Notifier::from_env();
        let next_watchdog = notifier.watchdog.map(|d| epoch + d);
        let mut daemon = Daemon {
            opts,
            paths,
            config: p.config,
            core,
            links,
            reopen: HashMap::new(),
            pppd_restart: HashMap::new(),
            send_errors: HashMap::new(),
            runner,
            clients,
            fencer: p.fencer,
            notifications,
            watchdog,
            next_monitor: None,
            reannounce: Vec::new(),
            pinger: None,
            ping_count: 0,
            fence_failed: std::collections::HashSet::new(),
            log,
            poll,
            signals,
            control: None,
            known,
            receive: vec![0u8; 65536].into_boxed_slice(),
            epoch,
            notifier,
            next_watchdog,
            exiting: false,
            _pid: pid,
        };
        for i in 0..daemon.links.len() {
            daemon.register_link(i)?;
        }
        let keepalive = Duration::from_micros(daemon.config.hacf.keepalive.value.as_micros());
        let deadping = Duration::from_micros(daemon.config.hacf.deadping.value.as_micros());
        let nodes: Vec<_> = daemon
            .config
            .hacf
            .ping_nodes
            .iter()
            .map(|p| p.value.clone())
            .collect();
        if let Some(mut p) = ping::Pinger::new(&nodes, keepalive, deadping, Instant::now())
            .map_err(io_err(
                "ping nodes: raw ICMP socket (needs root or CAP_NET_RAW)",
            ))?
        {
            p.register(daemon.poll.registry(), PING)
                .map_err(io_err("ping nodes"))?;
            daemon.pinger = Some(p);
        }
        // Last: once the socket is there, the daemon answers on it.
        let control = control::Server::bind(
            &daemon.paths.control(),
            daemon.poll.registry(),
            CONTROL,
            CONN_BASE,
        )
        .map_err(io_err(format!(
            "control socket {}",
            daemon.paths.control().display()
        )))?;
        daemon.control = Some(control);
        Ok(daemon)
    }

    fn now(&self) -> time::Instant {
        time::Instant(self.epoch.elapsed().as_micros() as u64)
    }

    fn at(&self, t: time::Instant) -> Instant {
        self.epoch + Duration::from_micros(t.as_micros())
    }

    fn run(&mut self) -> Result<(), DaemonError> {
        self.log.info(&format!(
            "tandem {} starting: node {}, generation {}, {} link(s), {} group(s)",
            env!("CARGO_PKG_VERSION"),
            self.config.local_node,
            self.core.generation(),
            self.links.len(),
            self.config.groups.len()
        ));
        self.next_monitor = self.monitor_every().map(|d| Instant::now() + d);
        self.notifier.send("READY=1\nSTATUS=joining the cluster");
        let mut events = Events::with_capacity(64);
        while !self.exiting {
            let wake = self.next_wake();
            let timeout = wake.saturating_duration_since(Instant::now());
            if let Err(e) = self.poll.poll(&mut events, Some(timeout)) {
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(DaemonError::Io {
                        what: "epoll".to_string(),
                        source: e,
                    });
                }
            }
            for ev in events.iter() {
                self.dispatch(ev.token());
            }
            self.on_deadlines();
            self.pump();
        }
        self.runner.kill_all();
        self.clients.stop_all();
        if let Some(w) = self.watchdog.take() {
            w.disarm();
        }
        for link in &mut self.links {
            if let Link::Ppp(p) = link {
                p.stop();
            }
        }
        self.notifier.send("STOPPING=1");
        self.log.info("shutdown complete");
        let _ = std::fs::remove_file(self.paths.control());
        Ok(())
    }

    fn next_wake(&self) -> Instant {
        let mut wake = self.at(self.core.poll_timeout());
        let mut consider = |t: Option<Instant>| {
            if let Some(t) = t {
                wake = wake.min(t);
            }
        };
        consider(self.runner.next_deadline());
        consider(self.fencer.as_ref().and_then(|f| f.next_deadline()));
        consider(self.notifications.next_deadline());
        consider(self.watchdog.as_ref().map(|w| w.next()));
        consider(self.next_monitor);
        consider(self.pinger.as_ref().map(|p| p.next));
        consider(self.reannounce.iter().map(|(_, at)| *at).min());
        consider(self.reopen.values().map(|r| r.at).min());
        consider(self.pppd_restart.values().min().copied());
        consider(self.next_watchdog);
        consider(self.clients.next());
        wake
    }

    fn on_deadlines(&mut self) {
        let now = self.now();
        if now >= self.core.poll_timeout() {
            self.core.handle_timeout(now);
        }
        let wall = Instant::now();
        if self.runner.next_deadline().is_some_and(|d| wall >= d) {
            self.reap();
        }
        self.monitor(wall);
        if self.clients.next().is_some_and(|at| wall >= at) {
            let log = &mut self.log;
            self.clients.start_due(wall, &mut |m| log.info(&m));
        }
        if let Some(p) = self.pinger.as_mut() {
            p.tick(wall);
        }
        self.ping_update(wall);
        let due: Vec<core::GroupId> = self
            .reannounce
            .iter()
            .filter(|(_, at)| wall >= *at)
            .map(|(g, _)| *g)
            .collect();
        self.reannounce.retain(|(_, at)| wall < *at);
        for g in due {
            if self.core.group(g) == core::GroupState::Running {
                let log = &mut self.log;
                if self.runner.reannounce(g, wall, &mut |m| log.info(&m)) {
                    let key = self.core.params().groups[g].key.clone();
                    self.log.info(&format!(
                        "group {key}: a node came back; announcing this group's addresses again"
                    ));
                }
            }
        }
        if let Some(w) = self.watchdog.as_mut() {
            if let Err(e) = w.tickle(wall) {
                let msg = format!("watchdog {}: {e}", w.device());
                self.log.error(&msg);
            }
        }
        if self
            .notifications
            .next_deadline()
            .is_some_and(|d| wall >= d)
        {
            self.notifications.reap(wall);
        }
        if self
            .fencer
            .as_ref()
            .and_then(|f| f.next_deadline())
            .is_some_and(|d| wall >= d)
        {
            self.reap_fencing();
        }
        let due: Vec<usize> = self
            .reopen
            .iter()
            .filter(|(_, r)| wall >= r.at)
            .map(|(i, _)| *i)
            .collect();
        for i in due {
            let _ = self.register_link(i);
        }
        let due: Vec<usize> = self
            .pppd_restart
            .iter()
            .filter(|(_, at)| wall >= **at)
            .map(|(i, _)| *i)
            .collect();
        for i in due {
            self.start_pppd(i);
        }
        if let (Some(at), Some(every)) = (self.next_watchdog, self.notifier.watchdog) {
            if wall >= at {
                self.notifier.send("WATCHDOG=1");
                self.next_watchdog = Some(wall + every);
            }
        }
    }

    fn dispatch(&mut self, token: Token) {
        match token {
            SIGNALS => self.on_signals(),
            PING => {
                let wall = Instant::now();
                if let Some(p) = self.pinger.as_mut() {
                    p.receive(wall);
                }
                self.ping_update(wall);
            }
            t if self.control.as_ref().is_some_and(|c| c.owns(t)) => self.on_control(t),
            Token(t) if t >= RUNNER_BASE => {
                if let Some(g) = self.runner.group_of(token) {
                    let log = &mut self.log;
                    self.runner.on_output(g, &mut |m| log.info(&m));
                }
            }
            Token(t) if t >= LINK_BASE => self.on_link(t - LINK_BASE),
            _ => {}
        }
    }

    fn on_signals(&mut self) {
        let pending: Vec<i32> = self.signals.pending().collect();
        for sig in pending {
            match sig {
                SIGTERM | SIGINT => {
                    self.log
                        .info("signal: graceful shutdown (handing groups over)");
                    self.notifier.send("STOPPING=1");
                    let now = self.now();
                    self.core.handle_command(now, Command::Shutdown);
                }
                SIGHUP => {
                    let r = self.reload();
                    match r {
                        Ok(m) => self.log.info(&m),
                        Err(m) => self.log.error(&m),
                    }
                }
                SIGUSR1 => {
                    self.log.debug = self.log.debug.saturating_add(1);
                    let d = self.log.debug;
                    self.log.info(&format!("debug level {d}"));
                }
                SIGUSR2 => {
                    self.log.debug = self.log.debug.saturating_sub(1);
                    let d = self.log.debug;
                    self.log.info(&format!("debug level {d}"));
                }
                SIGCHLD => {
                    self.reap_clients();
                    self.reap();
                    self.reap_pppd();
                    self.reap_fencing();
                    self.notifications.reap(Instant::now());
                }
                _ => {}
            }
        }
    }

    fn reap(&mut self) {
        let log = &mut self.log;
        let done = self
            .runner
            .reap(self.poll.registry(), Instant::now(), &mut |m| log.info(&m));
        let now = self.now();
        for f in done {
            self.finished(now, f);
        }
    }

    /// A job ended: a start's or stop's outcome goes to the core; a failed
    /// monitor of a running group moves the group.
    fn finished(&mut self, now: time::Instant, f: resources::Finished) {
        match (f.step, f.outcome) {
            (Step::Monitor, core::Outcome::Ok) => {}
            (Step::Monitor, _) => self.core.handle_monitor_failure(now, f.group),
            (Step::Check, outcome) => {
                self.core
                    .handle_stop_checked(now, f.group, outcome != core::Outcome::Ok)
            }
            _ => self.core.handle_resource(now, f.group, f.outcome),
        }
    }

    /// Tells the core how many ping nodes answer, when that changes.
    fn ping_update(&mut self, wall: Instant) {
        let Some(p) = self.pinger.as_ref() else {
            return;
        };
        let count = p.reachable(wall);
        if count != self.ping_count {
            self.log.info(&format!("ping nodes reachable: {count}"));
            self.ping_count = count;
            let now = self.now();
            self.core.handle_ping(now, count);
        }
    }

    /// Resets that ended go to the core; retries that are due start.
    fn reap_fencing(&mut self) {
        let Some(fencer) = self.fencer.as_mut() else {
            return;
        };
        let (done, lines) = fencer.poll(Instant::now());
        for l in lines {
            self.log.info(&l);
        }
        let now = self.now();
        for (name, ok) in done {
            let Some(id) = self.core.params().nodes.iter().position(|n| *n == name) else {
                continue;
            };
            let id = id as core::NodeId;
            if ok {
                self.fence_failed.remove(&id);
            } else {
                self.fence_failed.insert(id);
            }
            self.core.handle_fence(now, id, ok);
        }
    }

    fn on_control(&mut self, token: Token) {
        let Some(server) = self.control.as_mut() else {
            return;
        };
        match server.ready(self.poll.registry(), token) {
            control::Served::Idle => {}
            control::Served::AcceptFailed(e) => {
                self.log.warn(&format!("control socket: accept: {e}"));
            }
            control::Served::Request { client, line } => {
                let answer = self.serve(&line);
                if let Some(server) = self.control.as_mut() {
                    server.reply(self.poll.registry(), client, answer);
                }
            }
        }
    }

    fn log_event(&mut self, e: &core::Event) {
        let line = e.describe(self.core.params());
        match e.severity() {
            Severity::Info => self.log.info(&line),
            Severity::Warning => self.log.warn(&line),
            Severity::Error => self.log.error(&line),
        }
        // A node back after a partition (or a split brain noticed) may
        // have announced this node's addresses as its own: once things
        // settle, the groups that stay here announce them again, so that
        // neighbours do not keep talking to a node that gave them up
        // (keepalived's most reported problem). Twice: the resolution may
        // still be under way at the first.
        if matches!(e, core::Event::NodeUp(_) | core::Event::SplitBrain { .. }) {
            for g in 0..self.core.params().groups.len() {
                for ms in [500, 2000] {
                    self.reannounce
                        .push((g, Instant::now() + Duration::from_millis(ms)));
                }
            }
        }
        if let Some(c) = notify::change(e, self.core.params()) {
            if let Some(problem) = self.notifications.tell(&c, Instant::now()) {
                self.log.warn(&problem);
            }
        }
    }

    /// Carries out whatever the core has queued, until it is quiet.
    fn pump(&mut self) {
        loop {
            let mut busy = false;
            while let Some(t) = self.core.poll_transmit() {
                busy = true;
                self.transmit(&t);
            }
            while let Some((_, e)) = self.core.poll_event() {
                busy = true;
                self.log_event(&e);
            }
            while let Some(action) = self.core.poll_action() {
                busy = true;
                self.act(action);
            }
            if !busy {
                return;
            }
        }
    }

    fn transmit(&mut self, t: &core::Transmit) {
        // Heartbeat's netstring form on UDP, its text form on serial.
        let (datagram, line, framed) = match t {
            core::Transmit::Native(f) => (f, f, true),
            core::Transmit::Heartbeat(o) => (&o.netstring, &o.text, false),
        };
        for i in 0..self.links.len() {
            let result = match &mut self.links[i] {
                Link::Udp(u) => u.send(datagram),
                Link::Ppp(p) => p.send(datagram),
                Link::Serial(s) if s.is_open() && framed => s.send(line),
                Link::Serial(s) if s.is_open() => s.send_text(line),
                Link::Serial(_) => Ok(()),
            };
            match result {
                Ok(()) => {
                    self.send_errors.remove(&i);
                }
                Err(e) => {
                    if let Link::Serial(_) = self.links[i] {
                        self.serial_lost(i, &format!("write failed ({e})"));
                        continue;
                    }
                    let msg = e.to_string();
                    if self.send_errors.get(&i) != Some(&msg) {
                        let name = self.core.params().links[i].name.clone();
                        self.log.warn(&format!("link {name}: send failed: {msg}"));
                        self.send_errors.insert(i, msg);
                    }
                }
            }
        }
    }

    fn act(&mut self, action: Action) {
        let now = Instant::now();
        match action {
            Action::Start(g) | Action::Stop(g) => {
                let step = if matches!(action, Action::Start(_)) {
                    Step::Start
                } else {
                    Step::Stop
                };
                let log = &mut self.log;
                let finished = self
                    .runner
                    .begin(self.poll.registry(), g, step, now, &mut |m| log.info(&m));
                if let Some(f) = finished {
                    let t = self.now();
                    self.finished(t, f);
                }
            }
            Action::Fence(n) => {
                let name = self.core.params().name(n).to_string();
                let retry = self.fence_failed.contains(&n);
                match self.fencer.as_mut() {
                    Some(f) => {
                        let line = f.begin(&name, now, retry);
                        self.log.warn(&line);
                    }
                    // The reset stays pending: its groups are not taken
                    // over from here (reporting a failure would only ask
                    // again at once).
                    None => self.log.error(&format!(
                        "fencing node {name}: no STONITH device is usable from this node; its groups are not taken over"
                    )),
                }
            }
            Action::Restart(g) => {
                let log = &mut self.log;
                let finished = self
                    .runner
                    .restart(self.poll.registry(), g, now, &mut |m| log.info(&m));
                if let Some(f) = finished {
                    let t = self.now();
                    self.finished(t, f);
                }
            }
            Action::CheckStopped(g) => {
                let log = &mut self.log;
                let finished =
                    self.runner
                        .begin(self.poll.registry(), g, Step::Check, now, &mut |m| {
                            log.info(&m)
                        });
                if let Some(f) = finished {
                    let t = self.now();
                    self.finished(t, f);
                }
            }
            Action::Reboot => self.reboot(),
            Action::AskFencing(g) => {
                let key = self.group_key(g);
                self.log.error(&format!(
                    "group {key}: going silent so that the other node declares this one dead after deadtime and fences it (on_stop_failure fence)"
                ));
            }
            Action::PersistGeneration(n, generation) => {
                if let Some(slot) = self.known.get_mut(usize::from(n)) {
                    *slot = Some(generation);
                }
                if let Err(e) =
                    state::record_generations(&self.paths, &self.core.params().nodes, &self.known)
                {
                    self.log.warn(&format!("cannot record generations: {e}"));
                }
            }
            Action::Exit => self.exiting = true,
        }
    }
}
