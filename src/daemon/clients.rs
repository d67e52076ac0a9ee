//! `respawn` and `failfast` clients, as Heartbeat runs them: each started
//! with the daemon as its user (uid and primary group; supplementary
//! groups dropped), with the programs' environment (`env` lines' `HA_*`
//! variables included), and dying with the daemon (SIGTERM when it exits,
//! and the kernel's parent-death signal if it is killed). A respawn client
//! that exits is started again a second later, unless it exited with 100
//! (Heartbeat's "do not respawn") or died within a minute of its start ten
//! times in a row (then it is left stopped, and the log says so). A
//! failfast client that dies makes the node reboot (or go silent to be
//! fenced, as `on_stop_failure` says).

use crate::config::hacf::Respawn;
use crate::config::value::Setting;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Heartbeat's exit status for "do not start me again".
pub const NO_RESPAWN: i32 = 100;
/// A client that dies sooner than this after its start died quickly.
pub const QUICK: Duration = Duration::from_secs(60);
/// Quick deaths in a row after which a client is left stopped.
pub const QUICK_DEATHS_MAX: u32 = 10;
/// The pause before a client is started again.
pub const RESTART_DELAY: Duration = Duration::from_secs(1);

#[derive(Debug)]
struct Client {
    spec: Respawn,
    /// `file:line` of its ha.cf line, for the log.
    source: String,
    child: Option<Child>,
    started: Instant,
    quick_deaths: u32,
    /// When to start it again, if it is to be.
    next_start: Option<Instant>,
}

/// What a reap found that the daemon must act on.
#[derive(Debug, PartialEq, Eq)]
pub enum Death {
    /// A failfast client died: the node must not go on.
    Failfast { source: String, status: String },
}

#[derive(Debug, Default)]
pub struct Clients {
    clients: Vec<Client>,
    env: Vec<(String, String)>,
}

impl Clients {
    /// The clients of ha.cf's `respawn` and `failfast` lines, ipfail's
    /// left out (ping nodes do its job; check-config warns).
    pub fn new(lines: &[Setting<Respawn>], env: Vec<(String, String)>, now: Instant) -> Clients {
        let clients = lines
            .iter()
            .filter(|l| !l.value.is_ipfail())
            .map(|l| Client {
                spec: l.value.clone(),
                source: l.source.to_string(),
                child: None,
                started: now,
                quick_deaths: 0,
                next_start: Some(now),
            })
            .collect();
        Clients { clients, env }
    }

    /// Starts the clients that are due; says what it did.
    pub fn start_due(&mut self, now: Instant, say: &mut dyn FnMut(String)) {
        for c in &mut self.clients {
            if c.child.is_some() || c.next_start.is_none_or(|at| now < at) {
                continue;
            }
            c.next_start = None;
            match spawn(&c.spec, &self.env) {
                Ok(child) => {
                    say(format!(
                        "{}: {} {} started as {} (pid {})",
                        c.source,
                        c.spec.directive(),
                        c.spec.command,
                        c.spec.user,
                        child.id()
                    ));
                    c.started = now;
                    c.child = Some(child);
                }
                Err(e) => {
                    say(format!(
                        "{}: cannot start {} as {}: {e}; trying again in {}s",
                        c.source,
                        c.spec.command,
                        c.spec.user,
                        RESTART_DELAY.as_secs()
                    ));
                    c.next_start = Some(now + RESTART_DELAY);
                }
            }
        }
    }

    /// Collects clients that exited; schedules respawns. A failfast
    /// client's death comes back for the daemon to act on.
    pub fn reap(&mut self, now: Instant, say: &mut dyn FnMut(String)) -> Vec<Death> {
        let mut deaths = Vec::new();
        for c in &mut self.clients {
            let Some(child) = c.child.as_mut() else {
                continue;
            };
            let Ok(Some(status)) = child.try_wait() else {
                continue;
            };
            c.child = None;
            if c.spec.failfast {
                deaths.push(Death::Failfast {
                    source: c.source.clone(),
                    status: status.to_string(),
                });
                continue;
            }
            if status.code() == Some(NO_RESPAWN) {
                say(format!(
                    "{}: {} exited with {NO_RESPAWN} (do not respawn, as Heartbeat); not started again",
                    c.source, c.spec.command
                ));
                continue;
            }
            if now.duration_since(c.started) < QUICK {
                c.quick_deaths += 1;
            } else {
                c.quick_deaths = 0;
            }
            if c.quick_deaths >= QUICK_DEATHS_MAX {
                say(format!(
                    "{}: {} respawns too fast ({status}; {QUICK_DEATHS_MAX} deaths in a row within {}s of the start); not started again until tandem restarts",
                    c.source,
                    c.spec.command,
                    QUICK.as_secs()
                ));
                continue;
            }
            say(format!(
                "{}: {} exited ({status}); starting it again in {}s",
                c.source,
                c.spec.command,
                RESTART_DELAY.as_secs()
            ));
            c.next_start = Some(now + RESTART_DELAY);
        }
        deaths
    }

    /// When a client is next to be started.
    pub fn next(&self) -> Option<Instant> {
        self.clients.iter().filter_map(|c| c.next_start).min()
    }

    /// The daemon exits: every client gets SIGTERM and is waited for.
    pub fn stop_all(&mut self) {
        for c in &mut self.clients {
            c.next_start = None;
            if let Some(mut child) = c.child.take() {
                let pid = nix::unistd::Pid::from_raw(child.id() as i32);
                let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
                let _ = child.wait();
            }
        }
    }
}

/// Starts one client as its user, with `env` only.
fn spawn(spec: &Respawn, env: &[(String, String)]) -> std::io::Result<Child> {
    let user = nix::unistd::User::from_name(&spec.user)
        .map_err(std::io::Error::from)?
        .ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("no user `{}` on this host", spec.user),
            )
        })?;
    let mut words = spec.command.split_whitespace();
    let program = words.next().unwrap_or_default();
    let mut command = Command::new(program);
    command
        .args(words)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("HOME", &user.dir)
        .env("USER", &spec.user)
        .stdin(Stdio::null())
        .current_dir("/")
        .uid(user.uid.as_raw())
        .gid(user.gid.as_raw())
        .process_group(0);
    // SAFETY: prctl(2) is async-signal-safe and touches no memory of the
    // parent; it asks the kernel to SIGTERM the client when the daemon
    // dies, however it dies.
    #[allow(unsafe_code)]
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    command.spawn()
}
