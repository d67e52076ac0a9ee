//! Telling the operator's tools of every state change: a `notify`
//! program run as `PROGRAM EVENT SUBJECT [DETAIL]` (argv, never a shell),
//! and a `notify_fifo` that gets the same as one line per change, in order
//! (programs may finish out of order; the FIFO never does: keepalived's
//! lesson).

use crate::core::{Event, Params};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A state change in the words of the notify interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub event: &'static str,
    pub subject: String,
    pub detail: Option<String>,
}

/// The change an event is, if it is one the notify interface reports.
pub fn change(e: &Event, p: &Params) -> Option<Change> {
    let node = |n: &u8| p.name(*n).to_string();
    let group = |g: &usize| p.groups.get(*g).map(|g| g.key.clone()).unwrap_or_default();
    let link = |l: &usize| p.links.get(*l).map(|l| l.name.clone()).unwrap_or_default();
    let (event, subject, detail) = match e {
        Event::NodeUp(n) => ("node-up", node(n), None),
        Event::NodeDead(n) => ("node-dead", node(n), None),
        Event::NodeLeft(n) => ("node-left", node(n), None),
        Event::LinkUp { node: n, link: l } => ("link-up", node(n), Some(link(l))),
        Event::LinkDown { node: n, link: l } => ("link-down", node(n), Some(link(l))),
        Event::Starting(g) => ("group-starting", group(g), None),
        Event::Started(g) => ("group-started", group(g), None),
        Event::StartFailed(g) => ("group-failed", group(g), Some("start".to_string())),
        Event::Stopping(g) => ("group-stopping", group(g), None),
        Event::Stopped(g) => ("group-stopped", group(g), None),
        Event::StopGaveUp(g) => ("group-failed", group(g), Some("stop".to_string())),
        Event::MonitorFailed(g) => ("group-failed", group(g), Some("monitor".to_string())),
        Event::SplitBrain { group: g, other } => ("split-brain", group(g), Some(node(other))),
        _ => return None,
    };
    Some(Change {
        event,
        subject,
        detail,
    })
}

/// The notify program and FIFO, and the programs still running.
#[derive(Debug, Default)]
pub struct Notifications {
    program: Option<PathBuf>,
    fifo: Option<PathBuf>,
    env: Vec<(String, String)>,
    timeout: Duration,
    running: Vec<(Child, Instant)>,
}

impl Notifications {
    pub fn new(
        program: Option<PathBuf>,
        fifo: Option<PathBuf>,
        env: Vec<(String, String)>,
        timeout: Duration,
    ) -> Notifications {
        Notifications {
            program,
            fifo,
            env,
            timeout,
            running: Vec::new(),
        }
    }

    /// Tells of one change; returns a problem worth a log line.
    pub fn tell(&mut self, c: &Change, now: Instant) -> Option<String> {
        let mut problem = None;
        if let Some(fifo) = &self.fifo {
            let mut line = format!("{} {}", c.event, c.subject);
            if let Some(d) = &c.detail {
                line.push(' ');
                line.push_str(d);
            }
            line.push('\n');
            // Non-blocking: with no reader, the line is dropped (ENXIO),
            // never the event loop stalled.
            let written = std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(fifo)
                .and_then(|mut f| f.write_all(line.as_bytes()));
            if let Err(e) = written {
                if e.raw_os_error() != Some(libc::ENXIO) {
                    problem = Some(format!("notify_fifo {}: {e}", fifo.display()));
                }
            }
        }
        if let Some(program) = &self.program {
            let mut cmd = Command::new(program);
            cmd.arg(c.event).arg(&c.subject);
            if let Some(d) = &c.detail {
                cmd.arg(d);
            }
            let spawned = cmd
                .env_clear()
                .envs(self.env.iter().map(|(k, v)| (k, v)))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .spawn();
            match spawned {
                Ok(child) => self.running.push((child, now + self.timeout)),
                Err(e) => problem = Some(format!("notify {}: {e}", program.display())),
            }
        }
        problem
    }

    /// Reaps finished programs and kills overdue ones.
    pub fn reap(&mut self, now: Instant) {
        self.running
            .retain_mut(|(child, deadline)| match child.try_wait() {
                Ok(Some(_)) | Err(_) => false,
                Ok(None) if now >= *deadline => {
                    // Started as its own process group: kill all of it.
                    crate::resources::runner::kill_tree(child);
                    let _ = child.wait();
                    false
                }
                Ok(None) => true,
            });
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.running.iter().map(|(_, d)| *d).min()
    }
}
