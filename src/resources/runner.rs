//! Runs groups' programs as child processes for the event loop: one job
//! per group, one program at a time, each with a deadline.

use super::Program;
use crate::core::{GroupId, Outcome};
use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The longest line of a program's output kept for the log.
const LINE_MAX: usize = 1024;

/// Start or stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Start,
    Stop,
    /// `status` (OCF `monitor`) of every resource of a running group.
    Monitor,
    /// `status` of every resource after the group's stops gave up: fails
    /// when any still runs.
    Check,
    /// The failed resource and those after it stopped, then started again
    /// (reported only: the job runs as a stop, then a start).
    Restart,
}

impl Step {
    fn action(self) -> &'static str {
        match self {
            Step::Start => "start",
            Step::Stop => "stop",
            Step::Monitor | Step::Check => "status",
            Step::Restart => "restart",
        }
    }
}

/// A group's start or stop came to an end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finished {
    pub group: GroupId,
    pub step: Step,
    pub outcome: Outcome,
}

#[derive(Debug)]
struct Running {
    /// Which program of the group.
    index: usize,
    child: Child,
    output: OwnedFd,
    line: Vec<u8>,
    /// A monitor's output, kept to read its answer (not logged unless it
    /// fails: a status every few seconds would drown the log).
    kept: Option<String>,
    deadline: Instant,
}

#[derive(Debug)]
struct Job {
    step: Step,
    /// The programs still to run, in order.
    queue: Vec<usize>,
    running: Option<Running>,
    /// A program failed (a stop goes on with the rest, then reports it).
    failed: bool,
    timed_out: bool,
    /// A restart in place: the start from this program on that follows
    /// this stop.
    then_start: Option<usize>,
    /// Reported as [`Step::Restart`].
    restart: bool,
}

impl Job {
    /// Runs `queue` (popped from the end) with `step`'s action.
    fn new(step: Step, queue: Vec<usize>) -> Job {
        Job {
            step,
            queue,
            running: None,
            failed: false,
            timed_out: false,
            then_start: None,
            restart: false,
        }
    }
}

/// Gratuitous ARPs still to send after a start, IPaddr2's way: a few,
/// spaced out, so that a neighbour that missed one hears the next.
#[derive(Debug)]
struct Announcement {
    group: GroupId,
    device: String,
    ip: std::net::IpAddr,
    sent: u32,
    next: Instant,
}

/// Every group's job.
#[derive(Debug)]
pub struct Runner {
    announcements: Vec<Announcement>,
    /// Per group, the first program found not running by the last
    /// monitor: where a restart in place begins.
    failed_at: Vec<Option<usize>>,
    programs: Vec<Vec<Program>>,
    env: Vec<(String, String)>,
    settings: Settings,
    token_base: usize,
    jobs: Vec<Option<Job>>,
}

/// What ha.cf says about running resources; a reload may change it.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// `resource_timeout`: how long one action may run.
    pub timeout: Duration,
    /// `arp_count`, `arp_interval`, `arp_form`.
    pub arp: crate::takeover::arp::Policy,
}

impl Runner {
    /// `env` is the whole environment programs see (no inherited
    /// secrets); output pipes are registered as `token_base + group`.
    pub fn new(
        programs: Vec<Vec<Program>>,
        env: Vec<(String, String)>,
        settings: Settings,
        token_base: usize,
    ) -> Runner {
        let jobs = programs.iter().map(|_| None).collect();
        Runner {
            announcements: Vec::new(),
            failed_at: vec![None; programs.len()],
            programs,
            env,
            settings,
            token_base,
            jobs,
        }
    }

    /// Announces group `g`'s addresses again (a split brain healed with
    /// the group here: neighbours may still point at the other node).
    /// Returns whether there was anything to announce.
    pub fn reannounce(&mut self, g: GroupId, now: Instant, say: &mut dyn FnMut(String)) -> bool {
        let Some(programs) = self.programs.get(g) else {
            return false;
        };
        let before = self.announcements.len();
        for b in programs.iter().filter_map(|p| p.builtin.as_ref()) {
            push_announcements(&mut self.announcements, g, b, now);
        }
        let any = self.announcements.len() > before;
        announce_due(&mut self.announcements, self.settings.arp, now, say);
        any
    }

    /// Reloaded settings, for the actions and announcements from now.
    pub fn configure(&mut self, settings: Settings) {
        self.settings = settings;
    }

    /// The group whose output pipe `token` is.
    pub fn group_of(&self, token: Token) -> Option<GroupId> {
        token
            .0
            .checked_sub(self.token_base)
            .filter(|&g| g < self.jobs.len())
    }

    /// Whether group `g` has a job in flight.
    pub fn busy_group(&self, g: GroupId) -> bool {
        self.jobs.get(g).is_some_and(Option::is_some)
    }

    /// Begins starting (left to right) or stopping (right to left) group
    /// `g`. A job already running for the group is killed first: the core
    /// asks for the opposite only when it has given up on the first.
    pub fn begin(
        &mut self,
        registry: &Registry,
        g: GroupId,
        step: Step,
        now: Instant,
        say: &mut dyn FnMut(String),
    ) -> Option<Finished> {
        let n = self.programs.get(g)?.len();
        if let Some(was) = self.abandon(registry, g) {
            say(format!(
                "group {}: abandoning {} for {}",
                g,
                was.action(),
                step.action()
            ));
        }
        if step == Step::Stop {
            // Stop announcing addresses that are going away.
            self.announcements.retain(|a| a.group != g);
        }
        let queue: Vec<usize> = match step {
            Step::Start | Step::Monitor | Step::Check | Step::Restart => (0..n).rev().collect(),
            Step::Stop => (0..n).collect(),
        };
        if step == Step::Monitor {
            self.failed_at[g] = None;
        }
        self.jobs[g] = Some(Job::new(step, queue));
        self.advance(registry, g, now, say)
    }

    /// Restarts group `g` in place: the program its last monitor found
    /// not running and those after it are stopped (right to left), then
    /// started again (left to right); reported as [`Step::Restart`].
    pub fn restart(
        &mut self,
        registry: &Registry,
        g: GroupId,
        now: Instant,
        say: &mut dyn FnMut(String),
    ) -> Option<Finished> {
        let n = self.programs.get(g)?.len();
        let from = self.failed_at.get(g).copied().flatten().unwrap_or(0).min(n);
        self.abandon(registry, g);
        self.announcements.retain(|a| a.group != g);
        self.jobs[g] = Some(Job {
            then_start: Some(from),
            restart: true,
            ..Job::new(Step::Stop, (from..n).collect())
        });
        self.advance(registry, g, now, say)
    }

    /// Ends group `g`'s job, killing its running program: the core asks
    /// for something else only when it has given up on the first. What
    /// was running, if anything.
    fn abandon(&mut self, registry: &Registry, g: GroupId) -> Option<Step> {
        let job = self.jobs.get_mut(g).and_then(Option::take)?;
        let mut r = job.running?;
        kill_tree(&mut r.child);
        let _ = registry.deregister(&mut SourceFd(&r.output.as_raw_fd()));
        Some(job.step)
    }

    /// Runs the job's next program, or reports the job done.
    fn advance(
        &mut self,
        registry: &Registry,
        g: GroupId,
        now: Instant,
        say: &mut dyn FnMut(String),
    ) -> Option<Finished> {
        loop {
            let job = self.jobs.get_mut(g)?.as_mut()?;
            let give_up = job.step == Step::Start && job.failed;
            let next = if give_up { None } else { job.queue.pop() };
            if next.is_none() && !job.failed {
                if let Some(from) = job.then_start.take() {
                    // The restart's stop is done: now its start.
                    let n = self.programs[g].len();
                    job.step = Step::Start;
                    job.queue = (from..n).rev().collect();
                    continue;
                }
            }
            let Some(i) = next else {
                let outcome = if job.timed_out {
                    Outcome::TimedOut
                } else if job.failed {
                    Outcome::Failed
                } else {
                    Outcome::Ok
                };
                let step = if job.restart { Step::Restart } else { job.step };
                self.jobs[g] = None;
                return Some(Finished {
                    group: g,
                    step,
                    outcome,
                });
            };
            let program = &self.programs[g][i];
            let action = job.step.action();
            if job.step == Step::Monitor && !program.watched {
                continue;
            }
            if let (Some(b), Step::Monitor) = (&program.builtin, job.step) {
                // Nothing local to look at counts as healthy.
                let running = b.in_place().is_none_or(|r| r.unwrap_or(false));
                if !running {
                    say(format!("resource {}: monitor: not running", program.token));
                    self.failed_at[g].get_or_insert(i);
                    job.failed = true;
                }
                continue;
            }
            if let (Some(b), Step::Check) = (&program.builtin, job.step) {
                // Here nothing local to look at counts as stopped.
                if b.in_place().is_some_and(|r| r.unwrap_or(true)) {
                    say(format!("resource {}: status: still running", program.token));
                    job.failed = true;
                }
                continue;
            }
            if let Some(b) = &program.builtin {
                match builtin(b, job.step) {
                    Ok(what) => say(format!("resource {}: {what}", program.token)),
                    Err(e) => {
                        say(format!("resource {}: {action} failed: {e}", program.token));
                        job.failed = true;
                    }
                }
                if job.step == Step::Start && !job.failed {
                    push_announcements(&mut self.announcements, g, b, now);
                    announce_due(&mut self.announcements, self.settings.arp, now, say);
                }
                continue;
            }
            match spawn(program, action, &self.env, self.token_base + g, registry) {
                Ok((child, output)) => {
                    let monitor = matches!(job.step, Step::Monitor | Step::Check);
                    if !monitor {
                        say(format!(
                            "resource {}: {} {}",
                            program.token,
                            program.path.display(),
                            program.argv(action).join(" ")
                        ));
                    }
                    job.running = Some(Running {
                        index: i,
                        child,
                        output,
                        line: Vec::new(),
                        kept: monitor.then(String::new),
                        deadline: now + self.settings.timeout,
                    });
                    return None;
                }
                Err(e) => {
                    say(format!(
                        "resource {}: cannot run {}: {e}",
                        program.token,
                        program.path.display()
                    ));
                    job.failed = true;
                }
            }
        }
    }

    /// The output pipe of group `g`'s program is readable.
    pub fn on_output(&mut self, g: GroupId, say: &mut dyn FnMut(String)) {
        let Some(Some(job)) = self.jobs.get_mut(g) else {
            return;
        };
        let token = token_of(&self.programs[g], job);
        let Some(r) = job.running.as_mut() else {
            return;
        };
        drain(r, token, say);
    }

    /// Collects exited programs and kills overdue ones; returns the jobs
    /// that ended. Called on SIGCHLD and at [`Runner::next_deadline`].
    pub fn reap(
        &mut self,
        registry: &Registry,
        now: Instant,
        say: &mut dyn FnMut(String),
    ) -> Vec<Finished> {
        announce_due(&mut self.announcements, self.settings.arp, now, say);
        let mut done = Vec::new();
        for g in 0..self.jobs.len() {
            let Some(job) = self.jobs[g].as_mut() else {
                continue;
            };
            let token = token_of(&self.programs[g], job);
            let Some(r) = job.running.as_mut() else {
                continue;
            };
            let status = match r.child.try_wait() {
                Ok(Some(status)) => Some(status),
                Ok(None) if now >= r.deadline => {
                    say(format!(
                        "resource {token}: {} timed out after {:?}; killed",
                        job.step.action(),
                        self.settings.timeout
                    ));
                    kill_tree(&mut r.child);
                    job.timed_out = true;
                    job.failed = true;
                    r.child.wait().ok()
                }
                Ok(None) => continue,
                Err(e) => {
                    say(format!("resource {token}: cannot wait: {e}"));
                    job.failed = true;
                    None
                }
            };
            drain(r, token.clone(), say);
            if !r.line.is_empty() {
                say(format!(
                    "resource {token}: {}",
                    String::from_utf8_lossy(&r.line)
                ));
            }
            let _ = registry.deregister(&mut SourceFd(&r.output.as_raw_fd()));
            if let Some(status) = status {
                if let Some(kept) = &r.kept {
                    let program = &self.programs[g][r.index];
                    let running = program.status_running(status.code(), kept);
                    if job.step == Step::Check {
                        // A status that cannot answer counts as running:
                        // only a clear "stopped" lets the group go.
                        if running || job.timed_out {
                            say(format!(
                                "resource {token}: status: still running ({status}): {}",
                                kept.trim()
                            ));
                            job.failed = true;
                        }
                    } else if !job.timed_out && !running {
                        say(format!(
                            "resource {token}: monitor: not running ({status}): {}",
                            kept.trim()
                        ));
                        self.failed_at[g].get_or_insert(r.index);
                        job.failed = true;
                    }
                } else if !status.success() && !job.timed_out {
                    say(format!(
                        "resource {token}: {} failed ({status})",
                        job.step.action()
                    ));
                    job.failed = true;
                }
            }
            job.running = None;
            if let Some(f) = self.advance(registry, g, now, say) {
                done.push(f);
            }
        }
        done
    }

    /// When the first running program is overdue, or an announcement due.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.jobs
            .iter()
            .flatten()
            .filter_map(|j| j.running.as_ref().map(|r| r.deadline))
            .chain(self.announcements.iter().map(|a| a.next))
            .min()
    }

    /// Kills every running program (the daemon is exiting).
    pub fn kill_all(&mut self) {
        for job in self.jobs.iter_mut().flatten() {
            if let Some(r) = job.running.as_mut() {
                kill_tree(&mut r.child);
            }
        }
    }
}

/// Carries out a built-in resource's start or stop; says what it did.
fn builtin(
    b: &crate::takeover::Builtin,
    step: Step,
) -> Result<String, crate::takeover::TakeoverError> {
    use crate::takeover::{Builtin, TakeoverError};
    match (b, step) {
        // Never in-process (it waits for a server): resolved to a child.
        (Builtin::DynDns { .. }, _) => Err(TakeoverError::Usage(
            "DynDNS runs as a child process".to_string(),
        )),
        (_, Step::Start) => b.start(),
        (_, Step::Stop) => b.stop(),
        // Statuses of built-ins are answered before this is called, and a
        // restart runs as a stop, then a start.
        (_, Step::Monitor | Step::Check | Step::Restart) => Ok("checked".to_string()),
    }
}

/// Queues the announcements a built-in makes after its start: its
/// address, or for MacTakeover every IPv4 address on the interface.
fn push_announcements(
    list: &mut Vec<Announcement>,
    g: GroupId,
    b: &crate::takeover::Builtin,
    now: Instant,
) {
    for (device, ip) in b.announces() {
        list.push(Announcement {
            group: g,
            device,
            ip,
            sent: 0,
            next: now,
        });
    }
}

/// Sends the announcements that are due.
fn announce_due(
    list: &mut Vec<Announcement>,
    policy: crate::takeover::arp::Policy,
    now: Instant,
    say: &mut dyn FnMut(String),
) {
    for a in list
        .iter_mut()
        .filter(|a| a.next <= now && a.sent < policy.count)
    {
        if let Err(e) = crate::takeover::arp::announce(&a.device, a.ip, policy.form) {
            say(format!("gratuitous ARP for {} on {}: {e}", a.ip, a.device));
        }
        a.sent += 1;
        a.next = now + policy.interval;
    }
    list.retain(|a| a.sent < policy.count);
}

fn token_of(programs: &[Program], job: &Job) -> String {
    job.running
        .as_ref()
        .and_then(|r| programs.get(r.index))
        .map(|p| p.token.clone())
        .unwrap_or_default()
}

/// Starts one program with its output on a pipe registered for reading.
fn spawn(
    program: &Program,
    action: &str,
    env: &[(String, String)],
    token: usize,
    registry: &Registry,
) -> io::Result<(Child, OwnedFd)> {
    let (read, write) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC | nix::fcntl::OFlag::O_NONBLOCK)
            .map_err(io::Error::from)?;
    let write2 = write.try_clone()?;
    let child = Command::new(&program.path)
        .args(program.argv(action))
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .envs(program.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::from(write))
        .stderr(Stdio::from(write2))
        .process_group(0)
        .spawn()?;
    registry.register(
        &mut SourceFd(&read.as_raw_fd()),
        Token(token),
        Interest::READABLE,
    )?;
    Ok((child, read))
}

/// Reads what the program wrote and logs it line by line.
fn drain(r: &mut Running, token: String, say: &mut dyn FnMut(String)) {
    let mut buf = [0u8; 4096];
    loop {
        match nix::unistd::read(&r.output, &mut buf) {
            Ok(0) => return,
            Ok(n) => {
                for &b in &buf[..n] {
                    if b == b'\n' {
                        let line = String::from_utf8_lossy(&r.line).to_string();
                        match r.kept.as_mut() {
                            Some(k) if k.len() < 64 * 1024 => {
                                k.push_str(&line);
                                k.push('\n');
                            }
                            Some(_) => {}
                            None => say(format!("resource {token}: {line}")),
                        }
                        r.line.clear();
                    } else if r.line.len() < LINE_MAX {
                        r.line.push(b);
                    }
                }
            }
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return,
        }
    }
}

/// SIGKILL to the program's whole process group (it was started as its
/// leader), then to the program itself.
pub(crate) fn kill_tree(child: &mut Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    let _ = child.kill();
}

/// Asks every program of every group for its status, at start-up, before
/// the event loop runs: a group counts as running when any of its
/// resources does (it must then be stopped or kept, never started twice).
pub fn probe(
    programs: &[Vec<Program>],
    env: &[(String, String)],
    timeout: Duration,
    say: &mut dyn FnMut(String),
) -> Vec<bool> {
    programs
        .iter()
        .map(|group| {
            group.iter().any(|p| {
                // Nothing local to look at is not running here.
                let running = match &p.builtin {
                    Some(b) => b
                        .in_place()
                        .unwrap_or(Ok(false))
                        .map_err(|e| io::Error::other(e.to_string())),
                    None => status(p, env, timeout),
                };
                match running {
                    Ok(true) => {
                        say(format!("resource {}: already running", p.token));
                        true
                    }
                    Ok(false) => false,
                    Err(e) => {
                        say(format!("resource {}: status: {e}", p.token));
                        false
                    }
                }
            })
        })
        .collect()
}

fn status(p: &Program, env: &[(String, String)], timeout: Duration) -> io::Result<bool> {
    let mut child = Command::new(&p.path)
        .args(p.argv("status"))
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .envs(p.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()?;
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait()? {
            let mut out = String::new();
            if let Some(mut s) = child.stdout.take() {
                use io::Read;
                let _ = s.by_ref().take(64 * 1024).read_to_string(&mut out);
            }
            return Ok(p.status_running(status.code(), &out));
        }
        if Instant::now() >= deadline {
            kill_tree(&mut child);
            let _ = child.wait();
            return Err(io::Error::new(io::ErrorKind::TimedOut, "timed out"));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
