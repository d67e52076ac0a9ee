//! Resource groups on this host: the programs that start, stop and probe
//! each resource, run as child processes that never block the event loop.
//!
//! A group starts left to right and stops right to left (haresources
//! order). Every program runs with argv (never a shell string), a clean
//! environment, its own process group (a timeout kills the whole tree),
//! and its output captured line by line for the log.

pub mod fence;
pub mod runner;

pub use runner::{Finished, Runner, Step};

use crate::config::haresources::{self, Resolution, Resource, ResourceKind, SearchPaths};
use crate::config::Config;
use std::path::{Path, PathBuf};

/// How a program is called, which decides its arguments and how its
/// `status` answer is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Convention {
    /// Heartbeat v1 resource.d: `script ARG... ACTION`; `status` prints
    /// "running" or "OK" when running.
    V1,
    /// LSB init script: `script ACTION`; `status` exits 0 when running.
    Lsb,
    /// OCF agent: `agent ACTION` with OCF_RESKEY_*; `monitor` exits 0
    /// when running, 7 when stopped.
    Ocf,
}

/// One resource, resolved to the program that manages it.
#[derive(Debug, Clone)]
pub struct Program {
    /// As written in haresources, for logs.
    pub token: String,
    /// Carried out in-process (IPaddr, IPaddr2, IPv6addr, SendArp): no
    /// child, no shell on the takeover path. `path` is then empty.
    pub builtin: Option<crate::takeover::Builtin>,
    pub path: PathBuf,
    pub args: Vec<String>,
    pub convention: Convention,
    /// OCF_RESKEY_* and OCF_RESOURCE_INSTANCE for OCF agents.
    pub env: Vec<(String, String)>,
    /// Whether `monitor_interval` asks it (a DNS record is no process
    /// that can die here).
    pub watched: bool,
}

/// What stops a configuration from being carried out on this host.
#[derive(Debug, thiserror::Error)]
pub enum ResourceError {
    #[error("{file}: group {group}: resource `{token}`: {reason}")]
    Unusable {
        file: String,
        group: String,
        token: String,
        reason: String,
    },
}

/// Resolves every resource of every group to its program, or says which
/// one cannot run here.
/// Every group's programs; `state` is the state directory, where
/// built-ins keep what must outlive a restart.
pub fn resolve_all(
    config: &Config,
    search: &SearchPaths,
    state: &Path,
    file: &str,
) -> Result<Vec<Vec<Program>>, ResourceError> {
    config
        .groups
        .iter()
        .map(|g| {
            g.resources
                .iter()
                .map(|r| {
                    program(r, search, state).map_err(|reason| ResourceError::Unusable {
                        file: file.to_string(),
                        group: g.key().to_string(),
                        token: r.token.clone(),
                        reason,
                    })
                })
                .collect()
        })
        .collect()
}

fn program(r: &Resource, search: &SearchPaths, state: &Path) -> Result<Program, String> {
    let (path, convention) = match haresources::resolve(r, search) {
        Resolution::ResourceD { path } => (path, Convention::V1),
        Resolution::InitD { path } => (path, Convention::Lsb),
        Resolution::Ocf { path } => (path, Convention::Ocf),
        Resolution::V1Agent { path, params } => {
            if r.args.len() > params.len() {
                return Err(format!(
                    "{} takes at most {} arguments ({}), as Heartbeat's wrapper did",
                    r.script,
                    params.len(),
                    params.join(", ")
                ));
            }
            let mut env = ocf_env(search, &r.script);
            for (k, v) in params.iter().zip(&r.args) {
                env.push((format!("OCF_RESKEY_{k}"), v.clone()));
            }
            return Ok(Program {
                token: r.token.clone(),
                builtin: None,
                path,
                args: Vec::new(),
                convention: Convention::Ocf,
                env,
                watched: true,
            });
        }
        // The director (and the sync daemon swap) run as children of
        // this same binary: starting a director waits for it to answer.
        Resolution::Builtin
            if matches!(
                r.kind,
                ResourceKind::Director { .. } | ResourceKind::SyncDaemonSwap(_)
            ) =>
        {
            let dir = search
                .resource_d
                .parent()
                .unwrap_or(std::path::Path::new("/etc/ha.d"));
            // The child does not know the configuration directory: it gets
            // the director's file made absolute (read when the
            // configuration was loaded).
            let args = match r.kind.director_file(dir) {
                Some(file) => vec![file.display().to_string()],
                None => r.args.clone(),
            };
            let exe =
                std::env::current_exe().map_err(|e| format!("cannot find tandem itself: {e}"))?;
            let mut token = r.script.clone();
            for a in &args {
                token.push_str("::");
                token.push_str(a);
            }
            return Ok(Program {
                token: r.token.clone(),
                builtin: None,
                path: exe,
                args: vec!["action".to_string(), "resource".to_string(), token],
                convention: Convention::V1,
                env: Vec::new(),
                watched: true,
            });
        }
        // DynDNS waits for a server's answer (seconds, with retries): it
        // runs as a child, this same binary, never in the event loop.
        Resolution::Builtin if matches!(r.kind, ResourceKind::DynDns(_)) => {
            let exe =
                std::env::current_exe().map_err(|e| format!("cannot find tandem itself: {e}"))?;
            return Ok(Program {
                token: r.token.clone(),
                builtin: None,
                path: exe,
                args: vec![
                    "action".to_string(),
                    "resource".to_string(),
                    r.token.clone(),
                ],
                convention: Convention::V1,
                env: Vec::new(),
                watched: false,
            });
        }
        Resolution::Builtin => {
            let builtin =
                crate::takeover::Builtin::of(&r.kind, state).map_err(|e| e.to_string())?;
            return Ok(Program {
                token: r.token.clone(),
                builtin: Some(builtin),
                path: PathBuf::new(),
                args: Vec::new(),
                convention: Convention::V1,
                env: Vec::new(),
                watched: true,
            });
        }
        Resolution::NotFound { searched } => {
            let paths: Vec<String> = searched.iter().map(|p| p.display().to_string()).collect();
            return Err(format!(
                "no executable found (searched {})",
                paths.join(", ")
            ));
        }
    };
    let mut env = Vec::new();
    if let ResourceKind::Ocf { agent, params, .. } = &r.kind {
        env = ocf_env(search, agent);
        for (k, v) in params {
            env.push((format!("OCF_RESKEY_{k}"), v.clone()));
        }
    }
    if let ResourceKind::OcfInstance { agent, instance } = &r.kind {
        env = ocf_env(search, instance);
        let file = haresources::ocf_instance_file(search, agent, instance);
        for (k, v) in haresources::ocf_instance_params(&file)? {
            env.push((format!("OCF_RESKEY_{k}"), v));
        }
    }
    let args = match convention {
        Convention::V1 | Convention::Lsb => r.args.clone(),
        Convention::Ocf => Vec::new(),
    };
    Ok(Program {
        token: r.token.clone(),
        builtin: None,
        path,
        args,
        convention,
        env,
        watched: true,
    })
}

/// What every OCF agent is given besides its parameters.
fn ocf_env(search: &SearchPaths, instance: &str) -> Vec<(String, String)> {
    vec![
        (
            "OCF_ROOT".to_string(),
            search.ocf_root.display().to_string(),
        ),
        ("OCF_RESOURCE_INSTANCE".to_string(), instance.to_string()),
    ]
}

impl Program {
    /// The argv for `action` (`start`, `stop`, `status`).
    pub fn argv(&self, action: &str) -> Vec<String> {
        let action = match (self.convention, action) {
            (Convention::Ocf, "status") => "monitor",
            (_, a) => a,
        };
        let mut v = self.args.clone();
        v.push(action.to_string());
        v
    }

    /// Whether a finished `status` says the resource runs.
    pub fn status_running(&self, exit: Option<i32>, output: &str) -> bool {
        match self.convention {
            // Heartbeat's ResourceManager reads v1 output, not the exit
            // code: "not running" first, then "running" or "OK".
            Convention::V1 => {
                !output.contains("not running")
                    && (output.contains("running") || output.contains("OK"))
            }
            Convention::Lsb | Convention::Ocf => exit == Some(0),
        }
    }
}
