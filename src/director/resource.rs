//! The director as haresources resources, as Ultra Monkey pairs write
//! them: `ldirectord::FILE` (or `LVSDirector::FILE`) runs `tandem
//! director` on the active node; `LVSSyncDaemonSwap::master[::IFACE
//! [::SYNCID[::GROUP]]]` makes the kernel's connection-sync daemon a
//! master while the group runs here and a backup when it does not, so the
//! standby already knows the connections it will take over.
//!
//! Carried out by `tandem action resource TOKEN start|stop|status`, a
//! child of the pair's daemon: starting a director waits for it to
//! answer, which must never stall the daemon's event loop.

use super::daemon;
use super::ipvs::{Ipvs, IpvsError, SyncDaemon};
use crate::config::haresources::{SyncRole, SyncSwap};
use crate::takeover::Report;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// How long start and stop wait for the director.
const WAIT: Duration = Duration::from_secs(15);

/// Why a director resource's action failed.
#[derive(Debug, thiserror::Error)]
pub enum ResourceError {
    #[error("`{0}`: expected start, stop or status")]
    Action(String),
    #[error("{what}: {source}")]
    Io {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// The director refused to start; its own words, one line.
    #[error("{0}")]
    Refused(String),
    #[error("the director for {0} did not answer")]
    NoAnswer(String),
    #[error("the director for {0} did not stop")]
    DidNotStop(String),
    #[error("{0}")]
    Ipvs(#[from] IpvsError),
}

/// `ldirectord::FILE start|stop|status`.
pub fn director(config: &Path, action: &str) -> Result<Report, ResourceError> {
    let socket = daemon::socket_for(config);
    let ask = |req: &str| crate::host::control::request(&socket, req, Duration::from_secs(5));
    let running = || ask("ping").is_ok();
    match action {
        "status" => Ok(Report::Running(running())),
        "start" => {
            if running() {
                return Ok(Report::Done(format!(
                    "director for {} already running",
                    config.display()
                )));
            }
            let exe = std::env::current_exe().map_err(|source| ResourceError::Io {
                what: "cannot find tandem",
                source,
            })?;
            // -d: the director detaches once its configuration is read and
            // its sockets are open, so its exit status says whether it
            // could start.
            let out = Command::new(exe)
                .arg("director")
                .arg("-c")
                .arg(config)
                .arg("-d")
                .output()
                .map_err(|source| ResourceError::Io {
                    what: "tandem director",
                    source,
                })?;
            if !out.status.success() {
                let err = String::from_utf8_lossy(&out.stderr);
                return Err(ResourceError::Refused(
                    err.trim().lines().collect::<Vec<_>>().join("; "),
                ));
            }
            let started = Instant::now();
            while started.elapsed() < WAIT {
                if running() {
                    return Ok(Report::Done(format!(
                        "director for {} started",
                        config.display()
                    )));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(ResourceError::NoAnswer(config.display().to_string()))
        }
        "stop" => {
            if ask("stop").is_err() {
                return Ok(Report::Done("director not running".into()));
            }
            let started = Instant::now();
            while started.elapsed() < WAIT {
                if !running() && !socket.exists() {
                    return Ok(Report::Done(format!(
                        "director for {} stopped",
                        config.display()
                    )));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(ResourceError::DidNotStop(config.display().to_string()))
        }
        other => Err(ResourceError::Action(other.to_string())),
    }
}

/// `LVSSyncDaemonSwap::ROLE… start|stop|status`, as Heartbeat's script:
/// start stops the other role's daemon and starts this one; stop does
/// the reverse; status says whether this role's daemon runs.
pub fn sync(swap: &SyncSwap, action: &str) -> Result<Report, ResourceError> {
    let want = SyncDaemon {
        role: swap.role,
        interface: swap.interface.clone(),
        syncid: swap.syncid,
        group: swap.group,
        port: None,
    };
    let other = SyncDaemon {
        role: match want.role {
            SyncRole::Master => SyncRole::Backup,
            SyncRole::Backup => SyncRole::Master,
        },
        ..want.clone()
    };
    let mut ipvs = Ipvs::open()?;
    let runs = |ipvs: &mut Ipvs, role| -> Result<bool, ResourceError> {
        Ok(ipvs.daemons()?.iter().any(|d| d.role == role))
    };
    let swap =
        |ipvs: &mut Ipvs, from: &SyncDaemon, to: &SyncDaemon| -> Result<Report, ResourceError> {
            ipvs.stop_daemon(from.role)?;
            if !runs(ipvs, to.role)? {
                ipvs.start_daemon(to)?;
            }
            Ok(Report::Done(format!(
                "sync daemon: {} on {} (syncid {})",
                role_name(to.role),
                to.interface,
                to.syncid
            )))
        };
    match action {
        "status" => Ok(Report::Running(runs(&mut ipvs, want.role)?)),
        "start" => swap(&mut ipvs, &other, &want),
        "stop" => swap(&mut ipvs, &want, &other),
        other => Err(ResourceError::Action(other.to_string())),
    }
}

fn role_name(r: SyncRole) -> &'static str {
    match r {
        SyncRole::Master => "master",
        SyncRole::Backup => "backup",
    }
}
