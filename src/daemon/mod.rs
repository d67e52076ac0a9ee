//! `tandem run`: the thin shell around the core. One single-threaded mio
//! loop turns sockets, serial lines, the control socket, signals, child
//! exits and deadlines into the core's inputs, and carries out its
//! outputs. No async runtime, no locks, no threads.

pub mod announce;
pub mod ping;
pub mod state;
pub mod status;
pub mod watchdog;

use crate::config::{self, Config, Files, LoadOptions, Purpose};
use crate::core::{self, Action, Command, Params, Severity, Which};
use crate::host::pid::PidLock;
use crate::host::{control, log::Log, sd_notify};
use crate::media::{self, serial::Received, Link};
use crate::resources::{self, runner, Runner, Step};
use crate::time;
use crate::wire::Authenticator;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
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

/// Everything a configuration turns into before the loop may use it.
struct Prepared {
    config: Config,
    params: Params,
    programs: Vec<Vec<resources::Program>>,
    fencer: Option<resources::fence::Fencer>,
    warnings: Vec<String>,
}

/// Loads and checks a configuration for running: nothing half-done, every
/// problem named.
fn prepare(opts: &Options) -> Result<Prepared, DaemonError> {
    let mut load = LoadOptions::new(opts.files.clone(), opts.node.clone(), Purpose::Run);
    if let Some(d) = &opts.init_d {
        load.init_d = d.clone();
    }
    let loaded = config::load(&load);
    let mut warnings: Vec<String> = Vec::new();
    let mut errors: Vec<String> = Vec::new();
    errors.extend(loaded.diagnostics.errors().map(ToString::to_string));
    warnings.extend(loaded.diagnostics.warnings().map(ToString::to_string));
    let Some(mut config) = loaded.config else {
        return Err(DaemonError::Config(errors));
    };
    for dropped in media::drop_self_links(&mut config, &media::udp::local_addresses()) {
        warnings.push(format!("{dropped}: points at this node itself; ignored"));
    }
    let params = Params::from_config(&config).map_err(|e| DaemonError::Config(vec![e]))?;
    if params.links.is_empty() {
        return Err(DaemonError::Config(vec![format!(
            "{}: no link reaches this node `{}`",
            opts.files.ha_cf.display(),
            config.local_node
        )]));
    }
    let mut missing = not_yet(&config);
    missing.extend(not_with_heartbeat(&config));
    if !missing.is_empty() {
        return Err(DaemonError::Config(missing));
    }
    let file = opts.files.haresources.display().to_string();
    let programs = resources::resolve_all(&config, &load.search_paths(), &file)?;
    let fencer =
        resources::fence::Fencer::new(&config.hacf.stonith, &config.local_node, timeout(&config))
            .map_err(|e| DaemonError::Config(vec![e]))?;
    if fencer.is_none() && !config.hacf.stonith.is_empty() {
        warnings.push(format!(
            "stonith_host: no STONITH device is usable from this node `{}`; it will not take over from a dead node that may hold resources",
            config.local_node
        ));
    }
    Ok(Prepared {
        config,
        params,
        programs,
        fencer,
        warnings,
    })
}

/// What `wire heartbeat` cannot carry out, for a start with it.
fn not_with_heartbeat(config: &Config) -> Vec<String> {
    if config.hacf.wire.value != config::hacf::WireMode::Heartbeat {
        return Vec::new();
    }
    heartbeat_conflicts(config)
}

/// The protocol this node speaks, with what the engine needs for it:
/// Heartbeat's uuid for this node, or why `wire auto` cannot answer a
/// Heartbeat node (said once, when one is heard). Read at start and at
/// each reload.
fn wire_of(config: &Config, paths: &Paths) -> Result<core::Wire, DaemonError> {
    use config::hacf::WireMode;
    Ok(match config.hacf.wire.value {
        WireMode::Native => core::Wire::Native,
        WireMode::Heartbeat => core::Wire::Heartbeat {
            uuid: state::heartbeat_uuid(paths).map_err(io_err("heartbeat-uuid file"))?,
        },
        WireMode::Auto => {
            let conflicts = heartbeat_conflicts(config);
            core::Wire::Auto(if !conflicts.is_empty() {
                Err(conflicts.join("; "))
            } else {
                state::heartbeat_uuid(paths).map_err(|e| format!("heartbeat-uuid file: {e}"))
            })
        }
    })
}

/// What a Heartbeat partner cannot agree on: only what Heartbeat's
/// haresources mode speaks can be. Each names its line.
fn heartbeat_conflicts(config: &Config) -> Vec<String> {
    use crate::wire::auth::AuthMethod;
    let h = &config.hacf;
    let mut out = Vec::new();
    let mut say = |source: &config::value::Source, directive: &str, why: &str| {
        out.push(format!(
            "{source}: {directive}: not available with Heartbeat's protocol (`wire {}` at {}): {why}",
            h.wire.value.as_str(),
            h.wire.source
        ))
    };
    if h.nodes.len() != 2 {
        say(
            &h.wire.source,
            "node",
            "Heartbeat's haresources mode pairs exactly two nodes",
        );
    }
    for st in &h.stonith {
        say(
            &st.source,
            "stonith",
            "Heartbeat's STONITH exchange is not spoken; fence from the Heartbeat node, or remove the line",
        );
    }
    for p in &h.ping_nodes {
        say(
            &p.source,
            "ping",
            "Heartbeat weighs ping nodes in its own way; remove the line until both nodes run tandem",
        );
    }
    if let Some(m) = &h.monitor_interval {
        say(
            &m.source,
            "monitor_interval",
            "Heartbeat v1 watches no resources, and a group failed here could not be handed over",
        );
    }
    let signing = &config.authkeys.sign;
    if config.authkeys.signing().method == AuthMethod::Sha256 {
        say(
            &signing.source,
            "auth",
            "Heartbeat has no sha256; sign with a sha1 (or md5) key both nodes list",
        );
    }
    out
}

/// Directives the configuration accepts (they are Heartbeat's, and
/// check-config explains them) but this daemon does not carry out yet.
/// Running without them would be a quieter, less safe cluster than the
/// operator configured, so the daemon refuses, naming each line.
fn not_yet(config: &Config) -> Vec<String> {
    let h = &config.hacf;
    let mut out = Vec::new();
    let mut say = |source: &config::value::Source, directive: &str, what: &str| {
        out.push(format!(
            "{source}: {directive}: {what} is not implemented in this version of the daemon; remove the line to run without it"
        ))
    };
    for p in &h.ping_nodes {
        if p.value.addresses.iter().any(|a| a.is_ipv6()) {
            say(&p.source, "ping6", "an IPv6 ping node");
        }
    }
    for r in &h.respawn {
        say(
            &r.source,
            if r.value.failfast {
                "failfast"
            } else {
                "respawn"
            },
            "keeping a client process running",
        );
    }
    out
}

/// How long one resource action may run (`resource_timeout`).
fn timeout(config: &Config) -> Duration {
    Duration::from_micros(config.hacf.resource_timeout.value.as_micros())
}

/// What the runner takes from ha.cf.
fn runner_settings(config: &Config) -> crate::resources::runner::Settings {
    let h = &config.hacf;
    crate::resources::runner::Settings {
        timeout: timeout(config),
        arp: crate::takeover::arp::Policy {
            count: h.arp_count.value,
            interval: Duration::from_micros(h.arp_interval.value.as_micros()),
            form: h.arp_form.value,
        },
    }
}

/// The environment resource programs see: nothing inherited.
fn program_env(config: &Config, opts: &Options) -> Vec<(String, String)> {
    let mut env = vec![
        (
            "PATH".to_string(),
            "/usr/sbin:/usr/bin:/sbin:/bin".to_string(),
        ),
        ("LANG".to_string(), "C".to_string()),
        (
            "HA_d".to_string(),
            opts.files
                .ha_cf
                .parent()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        ),
        ("HA_CURHOST".to_string(), config.local_node.clone()),
        ("TANDEM_NODE".to_string(), config.local_node.clone()),
    ];
    for e in &config.hacf.env {
        env.push(e.value.clone());
    }
    env
}

/// `realtime on`: SCHED_FIFO and locked memory, or a warning why not.
fn go_realtime(config: &Config, log: &mut Log) {
    if !config.hacf.realtime.value {
        return;
    }
    let prio = config.hacf.rtprio.as_ref().map(|p| p.value).unwrap_or(1);
    let param = libc::sched_param {
        sched_priority: i32::from(prio),
    };
    // SAFETY: plain syscalls on this process with a valid sched_param.
    #[allow(unsafe_code)]
    let rc = unsafe { libc::sched_setscheduler(0, libc::SCHED_FIFO, &param) };
    if rc != 0 {
        log.warn(&format!(
            "realtime: cannot set SCHED_FIFO priority {prio}: {}; running at normal priority",
            io::Error::last_os_error()
        ));
    }
    // MCL_ONFAULT: lock pages as they are touched, not every page mapped
    // (the whole binary and libc), so that the locked set is the resident
    // set and fits the default RLIMIT_MEMLOCK of 8 MiB.
    // SAFETY: as above.
    #[allow(unsafe_code)]
    let rc = unsafe { libc::mlockall(libc::MCL_CURRENT | libc::MCL_FUTURE | libc::MCL_ONFAULT) };
    if rc != 0 {
        log.warn(&format!(
            "realtime: cannot lock memory: {} (RLIMIT_MEMLOCK?); pages may be swapped out",
            io::Error::last_os_error()
        ));
    }
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
    fencer: Option<resources::fence::Fencer>,
    announcer: announce::Announcer,
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
        let generation = state::next_generation(&paths).map_err(io_err("generation file"))?;
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
        let announcer = announce::Announcer::new(
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
            fencer: p.fencer,
            announcer,
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
            daemon
                .poll
                .registry()
                .register(&mut p.socket, PING, Interest::READABLE)
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

    fn register_link(&mut self, i: usize) -> Result<(), DaemonError> {
        let token = Token(LINK_BASE + i);
        let registry = self.poll.registry();
        match &mut self.links[i] {
            // A unicast link sharing another's socket receives through it.
            Link::Udp(u) if u.receives_for.is_none() => Ok(()),
            Link::Udp(u) => registry
                .register(&mut u.socket, token, Interest::READABLE)
                .map_err(io_err("udp link")),
            Link::Ppp(p) => {
                registry
                    .register(&mut p.socket, token, Interest::READABLE)
                    .map_err(io_err("ppp link"))?;
                self.start_pppd(i);
                Ok(())
            }
            Link::Serial(s) => match s.open() {
                Ok(fd) => {
                    registry
                        .register(&mut SourceFd(&fd), token, Interest::READABLE)
                        .map_err(io_err("serial link"))?;
                    if self.reopen.remove(&i).is_some_and(|r| r.logged) {
                        let name = self.core.params().links[i].name.clone();
                        self.log.info(&format!("link {name}: device open again"));
                    }
                    Ok(())
                }
                Err(e) => {
                    self.serial_lost(i, &e.to_string());
                    Ok(())
                }
            },
        }
    }

    /// Starts (or restarts) pppd on ppp link `i`.
    fn start_pppd(&mut self, i: usize) {
        self.pppd_restart.remove(&i);
        let name = self.core.params().links[i].name.clone();
        if let Link::Ppp(p) = &mut self.links[i] {
            match p.spawn() {
                Ok(pid) => self
                    .log
                    .info(&format!("link {name}: pppd started (pid {pid})")),
                Err(e) => {
                    self.log.warn(&format!(
                        "link {name}: cannot start pppd: {e}; retrying in {}s",
                        media::ppp::RESTART_INTERVAL.as_secs()
                    ));
                    self.pppd_restart
                        .insert(i, Instant::now() + media::ppp::RESTART_INTERVAL);
                }
            }
        }
    }

    /// A pppd that exited is started again, after a pause.
    fn reap_pppd(&mut self) {
        for i in 0..self.links.len() {
            let Link::Ppp(p) = &mut self.links[i] else {
                continue;
            };
            if let Some(status) = p.exited() {
                let name = self.core.params().links[i].name.clone();
                self.log.warn(&format!(
                    "link {name}: pppd exited ({status}); the link is down, restarting it in {}s",
                    media::ppp::RESTART_INTERVAL.as_secs()
                ));
                self.pppd_restart
                    .insert(i, Instant::now() + media::ppp::RESTART_INTERVAL);
            }
        }
    }

    /// A serial device is missing or failed: down, logged once, retried.
    fn serial_lost(&mut self, i: usize, why: &str) {
        if let Link::Serial(s) = &mut self.links[i] {
            if let Some(fd) = s.fd() {
                let _ = self.poll.registry().deregister(&mut SourceFd(&fd));
            }
            s.close();
        }
        let at = Instant::now() + media::serial::REOPEN_INTERVAL;
        let entry = self.reopen.entry(i).or_insert(Reopen { at, logged: false });
        entry.at = at;
        if !entry.logged {
            entry.logged = true;
            let name = self.core.params().links[i].name.clone();
            self.log.warn(&format!(
                "link {name}: {why}; the link is down, retrying every {}s",
                media::serial::REOPEN_INTERVAL.as_secs()
            ));
        }
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
        consider(self.announcer.next_deadline());
        consider(self.watchdog.as_ref().map(|w| w.next()));
        consider(self.next_monitor);
        consider(self.pinger.as_ref().map(|p| p.next));
        consider(self.reannounce.iter().map(|(_, at)| *at).min());
        consider(self.reopen.values().map(|r| r.at).min());
        consider(self.pppd_restart.values().min().copied());
        consider(self.next_watchdog);
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
        if self.announcer.next_deadline().is_some_and(|d| wall >= d) {
            self.announcer.reap(wall);
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

    fn on_link(&mut self, i: usize) {
        // Room for Heartbeat's larger messages, not only tandem's frames.
        let mut buf = vec![0u8; 65536];
        let socket = match self.links.get(i) {
            Some(Link::Udp(u)) => Some((&u.socket, Some(u))),
            Some(Link::Ppp(p)) => Some((&p.socket, None)),
            _ => None,
        };
        if let Some((socket, udp)) = socket {
            loop {
                match socket.recv_from(&mut buf) {
                    Ok((n, from)) => {
                        let bytes = &buf[..n];
                        let link = udp.map_or(i, |u| u.link_of(from.ip(), i));
                        let now = time::Instant(self.epoch.elapsed().as_micros() as u64);
                        self.core.handle_frame(now, link, bytes);
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    // ICMP errors (port unreachable) surface here: the peer
                    // is not listening yet. Nothing to do but go on.
                    Err(_) => break,
                }
            }
            return;
        }
        if let Some(Link::Serial(s)) = self.links.get_mut(i) {
            let mut items = Vec::new();
            let result = s.receive(&mut items);
            let now = self.now();
            for item in items {
                match item {
                    Received::Frame(f) => self.core.handle_frame(now, i, &f),
                    Received::Heartbeat(_, message) => self.core.handle_frame(now, i, &message),
                    Received::Noise => self.core.handle_noise(i),
                }
            }
            if let Err(e) = result {
                self.serial_lost(i, &format!("device lost ({e})"));
            }
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
                    self.reap();
                    self.reap_pppd();
                    self.reap_fencing();
                    self.announcer.reap(Instant::now());
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

    /// Starts the monitors that are due (`monitor_interval`).
    fn monitor(&mut self, wall: Instant) {
        let (Some(at), Some(every)) = (self.next_monitor, self.monitor_every()) else {
            return;
        };
        if wall < at {
            return;
        }
        self.next_monitor = Some(wall + every);
        for g in 0..self.core.params().groups.len() {
            if self.core.group(g) != core::GroupState::Running || self.runner.busy_group(g) {
                continue;
            }
            let log = &mut self.log;
            let finished =
                self.runner
                    .begin(self.poll.registry(), g, Step::Monitor, wall, &mut |m| {
                        log.info(&m)
                    });
            if let Some(f) = finished {
                let t = self.now();
                self.finished(t, f);
            }
        }
    }

    fn monitor_every(&self) -> Option<Duration> {
        self.config
            .hacf
            .monitor_interval
            .as_ref()
            .map(|m| Duration::from_micros(m.value.as_micros()))
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

    /// HUP or `tandem reload`: the new configuration replaces the running
    /// one only when it is valid and keeps nodes, links and groups.
    fn reload(&mut self) -> Result<String, String> {
        let p = prepare(&self.opts).map_err(|e| {
            format!(
                "reload refused, the running configuration stays: {}",
                e.to_string().replace('\n', "; ")
            )
        })?;
        let auth = Authenticator::from(&p.config.authkeys);
        let wire = wire_of(&p.config, &self.paths)
            .map_err(|e| format!("reload refused, the running configuration stays: {e}"))?;
        self.core
            .reconfigure(p.params, auth, wire)
            .map_err(|e| format!("reload refused, the running configuration stays: {e}"))?;
        for problem in self
            .log
            .configure(&p.config.hacf.logging, !self.opts.detach)
        {
            self.log.warn(&problem);
        }
        self.runner.configure(runner_settings(&p.config));
        self.config = p.config;
        self.next_monitor = self.monitor_every().map(|d| Instant::now() + d);
        Ok("configuration reloaded".to_string())
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

    /// Answers one control request.
    fn serve(&mut self, line: &str) -> Result<String, String> {
        let words: Vec<&str> = line.split_whitespace().collect();
        let which = |w: Option<&&str>| -> Result<Which, String> {
            match w.copied().unwrap_or("all") {
                "all" => Ok(Which::All),
                "local" => Ok(Which::Local),
                "foreign" => Ok(Which::Foreign),
                "failback" => Ok(Which::Failback),
                other => Err(format!(
                    "`{other}`: expected all, local, foreign or failback"
                )),
            }
        };
        let now = self.now();
        match words.as_slice() {
            ["status"] => Ok(status::text(&self.core, &self.config, now)),
            ["status-json"] => Ok(status::json(&self.core, &self.config, now)),
            ["standby", rest @ ..] => {
                let w = which(rest.first())?;
                self.command(now, Command::Standby(w))
            }
            ["takeover", rest @ ..] => {
                let w = which(rest.first())?;
                self.command(now, Command::Takeover(w))
            }
            ["shutdown"] => {
                self.log
                    .info("control: graceful shutdown (handing groups over)");
                self.core.handle_command(now, Command::Shutdown);
                Ok("shutting down: handing groups over\n".to_string())
            }
            ["reload"] => {
                let r = self.reload();
                match &r {
                    Ok(m) => self.log.info(m),
                    Err(m) => self.log.error(m),
                }
                r.map(|m| m + "\n")
            }
            ["hbstatus"]
            | ["listnodes"]
            | ["nodestatus", _]
            | ["listhblinks", _]
            | ["hblinkstatus", _, _]
            | ["rscstatus"] => status::cl_status(&self.core, &words, now).map(|s| s + "\n"),
            [] => Err("empty request".to_string()),
            _ => Err(format!("unknown request `{line}`")),
        }
    }

    /// Hands an operator command to the core and reports a refusal.
    fn command(&mut self, now: time::Instant, command: Command) -> Result<String, String> {
        self.log.info(&format!("control: {command:?}"));
        self.core.handle_command(now, command);
        // A refusal comes back as an event at once.
        let mut refused = None;
        let mut rest = Vec::new();
        while let Some((t, e)) = self.core.poll_event() {
            if let core::Event::CommandRefused(why) = e {
                refused = Some(why.to_string());
            }
            rest.push((t, e));
        }
        for (_, e) in rest {
            self.log_event(&e);
        }
        match refused {
            Some(why) => Err(why),
            None => Ok("accepted\n".to_string()),
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
        if let Some(c) = announce::change(e, self.core.params()) {
            if let Some(problem) = self.announcer.tell(&c, Instant::now()) {
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
            Action::Escalate(g) => {
                let key = self
                    .core
                    .params()
                    .groups
                    .get(g)
                    .map(|g| g.key.clone())
                    .unwrap_or_default();
                self.log.error(&format!(
                    "group {key}: cannot be stopped; it stays here and no other node will start it. Stop it by hand, then restart tandem"
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
