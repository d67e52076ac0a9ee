//! Fencing (STONITH) through cluster-glue's `stonith` tool, as Heartbeat
//! does it: before a node takes over from a dead node that may still hold
//! resources, the dead node is reset, and only a reset that succeeded lets
//! the takeover go on.

use crate::config::hacf::Stonith;
use crate::config::value::Setting;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where cluster-glue installs its tool.
const STONITH: &[&str] = &["/usr/sbin/stonith", "/sbin/stonith"];

/// A failed reset is tried again after this long.
pub const RETRY_INTERVAL: Duration = Duration::from_secs(5);

/// How this node fences others: the first `stonith` line, or the first
/// `stonith_host` line usable from this node (`*` or its name).
#[derive(Debug)]
pub struct Fencer {
    tool: PathBuf,
    args: Vec<String>,
    timeout: Duration,
    running: Vec<Reset>,
    /// Resets to start later (retries), by node name.
    later: Vec<(String, Instant)>,
}

#[derive(Debug)]
struct Reset {
    node: String,
    child: Child,
    deadline: Instant,
}

impl Fencer {
    /// The fencer for this configuration, `Ok(None)` when none is
    /// configured for this node, or why it cannot work here.
    pub fn new(
        stonith: &[Setting<Stonith>],
        local: &str,
        timeout: Duration,
    ) -> Result<Option<Fencer>, String> {
        let chosen = stonith.iter().find(|s| match &s.value {
            Stonith::Device { .. } => true,
            Stonith::Host { host, .. } => host == "*" || host.eq_ignore_ascii_case(local),
        });
        let Some(chosen) = chosen else {
            return Ok(None);
        };
        let tool = STONITH
            .iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
            .ok_or_else(|| {
                format!(
                    "{}: stonith: cluster-glue's `stonith` tool is not installed (/usr/sbin/stonith); install cluster-glue",
                    chosen.source
                )
            })?;
        let args = match &chosen.value {
            Stonith::Device { kind, config_file } => {
                vec!["-t".into(), kind.clone(), "-F".into(), config_file.clone()]
            }
            Stonith::Host { kind, params, .. } => {
                vec!["-t".into(), kind.clone(), "-p".into(), params.clone()]
            }
        };
        Ok(Some(Fencer {
            tool,
            args,
            timeout,
            running: Vec::new(),
            later: Vec::new(),
        }))
    }

    /// Starts resetting `node` (now, or after [`RETRY_INTERVAL`] when it
    /// failed just before). Returns a line for the log.
    pub fn begin(&mut self, node: &str, now: Instant, retry: bool) -> String {
        if retry {
            self.later.push((node.to_string(), now + RETRY_INTERVAL));
            return format!(
                "fencing node {node}: trying again in {}s",
                RETRY_INTERVAL.as_secs()
            );
        }
        self.spawn(node, now)
    }

    fn spawn(&mut self, node: &str, now: Instant) -> String {
        let child = Command::new(&self.tool)
            .args(&self.args)
            .args(["-T", "reset", node])
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn();
        match child {
            Ok(child) => {
                self.running.push(Reset {
                    node: node.to_string(),
                    child,
                    deadline: now + self.timeout,
                });
                format!(
                    "fencing node {node}: {} {} -T reset {node}",
                    self.tool.display(),
                    self.args.join(" ")
                )
            }
            Err(e) => {
                self.later.push((node.to_string(), now + RETRY_INTERVAL));
                format!(
                    "fencing node {node}: cannot run {}: {e}",
                    self.tool.display()
                )
            }
        }
    }

    /// Resets that ended (node, succeeded, what to log), and retries due.
    pub fn poll(&mut self, now: Instant) -> (Vec<(String, bool)>, Vec<String>) {
        let mut done = Vec::new();
        let mut lines = Vec::new();
        let due: Vec<String> = self
            .later
            .iter()
            .filter(|(_, at)| *at <= now)
            .map(|(n, _)| n.clone())
            .collect();
        self.later.retain(|(_, at)| *at > now);
        for node in due {
            lines.push(self.spawn(&node, now));
        }
        let mut i = 0;
        while i < self.running.len() {
            let r = &mut self.running[i];
            let status = match r.child.try_wait() {
                Ok(Some(s)) => Some(s.success()),
                Ok(None) if now >= r.deadline => {
                    super::runner::kill_tree(&mut r.child);
                    let _ = r.child.wait();
                    lines.push(format!("fencing node {}: timed out; killed", r.node));
                    Some(false)
                }
                Ok(None) => None,
                Err(_) => Some(false),
            };
            let Some(ok) = status else {
                i += 1;
                continue;
            };
            let r = self.running.remove(i);
            let mut out = String::new();
            let mut child = r.child;
            for pipe in [
                child.stdout.take().map(|p| Box::new(p) as Box<dyn Read>),
                child.stderr.take().map(|p| Box::new(p) as Box<dyn Read>),
            ]
            .into_iter()
            .flatten()
            {
                let _ = pipe.take(16 * 1024).read_to_string(&mut out);
            }
            for l in out.lines().filter(|l| !l.trim().is_empty()) {
                lines.push(format!("fencing node {}: {l}", r.node));
            }
            lines.push(format!(
                "fencing node {}: {}",
                r.node,
                if ok { "reset done" } else { "FAILED" }
            ));
            done.push((r.node, ok));
        }
        (done, lines)
    }

    /// When to poll next (a deadline or a retry).
    pub fn next_deadline(&self) -> Option<Instant> {
        self.running
            .iter()
            .map(|r| r.deadline)
            .chain(self.later.iter().map(|(_, at)| *at))
            .min()
    }
}
