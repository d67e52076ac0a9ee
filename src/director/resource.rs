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
use super::ipvs::{Ipvs, SyncDaemon, SyncRole};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The resource names this module carries out.
pub const SCRIPTS: [&str; 3] = ["ldirectord", "LVSDirector", "LVSSyncDaemonSwap"];

/// How long start and stop wait for the director.
const WAIT: Duration = Duration::from_secs(15);

/// The director's configuration for `ldirectord::FILE`: ldirectord's
/// rule, a relative name is in the configuration directory; no name is
/// `ldirectord.cf` there.
pub fn config_path(arg: Option<&str>, dir: &Path) -> PathBuf {
    let name = arg.unwrap_or("ldirectord.cf");
    let p = Path::new(name);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        dir.join(p)
    }
}

/// Checks a resource's arguments before anything runs; for a director,
/// reads its configuration (a bad one never starts a half-configured
/// pair). The configuration loader calls this once per load.
pub fn check(script: &str, args: &[String], dir: &Path) -> Result<(), String> {
    match script {
        "ldirectord" | "LVSDirector" => {
            if args.len() > 1 {
                return Err(format!(
                    "{script} takes one argument, the configuration file"
                ));
            }
            let path = config_path(args.first().map(String::as_str), dir);
            daemon::load(&path).map(|_| ()).map_err(|e| e.to_string())
        }
        "LVSSyncDaemonSwap" => sync_daemon(args).map(|_| ()),
        _ => Err(format!("{script}: not a director resource")),
    }
}

/// The arguments to hand the child that carries the resource out: a
/// director's configuration file made absolute (the child does not know
/// the configuration directory). No checks: [`check`] made them.
pub fn child_args(script: &str, args: &[String], dir: &Path) -> Vec<String> {
    match script {
        "ldirectord" | "LVSDirector" => {
            vec![config_path(args.first().map(String::as_str), dir)
                .display()
                .to_string()]
        }
        _ => args.to_vec(),
    }
}

/// `master|backup [IFACE [SYNCID [GROUP]]]`: the role the resource
/// holds while running, and the daemon's settings.
fn sync_daemon(args: &[String]) -> Result<SyncDaemon, String> {
    let usage = "LVSSyncDaemonSwap::master|backup[::IFACE[::SYNCID[::GROUP]]]";
    if args.is_empty() || args.len() > 4 {
        return Err(format!("expected {usage}"));
    }
    let role = match args[0].as_str() {
        "master" => SyncRole::Master,
        "backup" => SyncRole::Backup,
        other => return Err(format!("`{other}`: expected master or backup ({usage})")),
    };
    let interface = args.get(1).cloned().unwrap_or_else(|| "eth0".into());
    if interface.is_empty() || interface.len() > 15 || interface.contains('/') {
        return Err(format!("`{interface}`: not an interface name"));
    }
    let syncid = match args.get(2) {
        Some(s) => s
            .parse::<u8>()
            .map_err(|_| format!("`{s}`: a sync id is 0 to 255"))?
            .into(),
        None => 0,
    };
    let group = match args.get(3) {
        Some(g) => {
            let ip: IpAddr = g
                .parse()
                .map_err(|_| format!("`{g}`: not a multicast group address"))?;
            if !ip.is_multicast() {
                return Err(format!("`{g}`: not a multicast group address"));
            }
            Some(ip)
        }
        None => None,
    };
    Ok(SyncDaemon {
        role,
        interface,
        syncid,
        group,
        port: None,
    })
}

/// What an action found: for `status`, whether the resource runs.
pub enum Done {
    Ok(String),
    Running(bool),
}

/// `ldirectord::FILE start|stop|status`.
pub fn director(config: &Path, action: &str) -> Result<Done, String> {
    let socket = daemon::socket_for(config);
    let ask = |req: &str| crate::host::control::request(&socket, req, Duration::from_secs(5));
    let running = || ask("ping").is_ok();
    match action {
        "status" => Ok(Done::Running(running())),
        "start" => {
            if running() {
                return Ok(Done::Ok(format!(
                    "director for {} already running",
                    config.display()
                )));
            }
            let exe = std::env::current_exe().map_err(|e| format!("cannot find tandem: {e}"))?;
            // -d: the director detaches once its configuration is read and
            // its sockets are open, so its exit status says whether it
            // could start.
            let out = Command::new(exe)
                .arg("director")
                .arg("-c")
                .arg(config)
                .arg("-d")
                .output()
                .map_err(|e| format!("tandem director: {e}"))?;
            if !out.status.success() {
                let err = String::from_utf8_lossy(&out.stderr);
                return Err(err.trim().lines().collect::<Vec<_>>().join("; "));
            }
            let started = Instant::now();
            while started.elapsed() < WAIT {
                if running() {
                    return Ok(Done::Ok(format!(
                        "director for {} started",
                        config.display()
                    )));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(format!(
                "the director for {} did not answer",
                config.display()
            ))
        }
        "stop" => {
            if ask("stop").is_err() {
                return Ok(Done::Ok("director not running".into()));
            }
            let started = Instant::now();
            while started.elapsed() < WAIT {
                if !running() && !socket.exists() {
                    return Ok(Done::Ok(format!(
                        "director for {} stopped",
                        config.display()
                    )));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(format!(
                "the director for {} did not stop",
                config.display()
            ))
        }
        other => Err(format!("`{other}`: expected start, stop or status")),
    }
}

/// `LVSSyncDaemonSwap::ROLE… start|stop|status`, as Heartbeat's script:
/// start stops the other role's daemon and starts this one; stop does
/// the reverse; status says whether this role's daemon runs.
pub fn sync(args: &[String], action: &str) -> Result<Done, String> {
    let want = sync_daemon(args)?;
    let other = SyncDaemon {
        role: match want.role {
            SyncRole::Master => SyncRole::Backup,
            SyncRole::Backup => SyncRole::Master,
        },
        ..want.clone()
    };
    let mut ipvs = Ipvs::open().map_err(|e| e.to_string())?;
    let runs = |ipvs: &mut Ipvs, role| -> Result<bool, String> {
        Ok(ipvs
            .daemons()
            .map_err(|e| e.to_string())?
            .iter()
            .any(|d| d.role == role))
    };
    let swap = |ipvs: &mut Ipvs, from: &SyncDaemon, to: &SyncDaemon| -> Result<Done, String> {
        ipvs.stop_daemon(from.role).map_err(|e| e.to_string())?;
        if !runs(ipvs, to.role)? {
            ipvs.start_daemon(to).map_err(|e| e.to_string())?;
        }
        Ok(Done::Ok(format!(
            "sync daemon: {} on {} (syncid {})",
            role_name(to.role),
            to.interface,
            to.syncid
        )))
    };
    match action {
        "status" => Ok(Done::Running(runs(&mut ipvs, want.role)?)),
        "start" => swap(&mut ipvs, &other, &want),
        "stop" => swap(&mut ipvs, &want, &other),
        other => Err(format!("`{other}`: expected start, stop or status")),
    }
}

fn role_name(r: SyncRole) -> &'static str {
    match r {
        SyncRole::Master => "master",
        SyncRole::Backup => "backup",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn sync_arguments() {
        let d = sync_daemon(&args(&["master"])).unwrap();
        assert_eq!(
            (d.role, d.interface.as_str(), d.syncid),
            (SyncRole::Master, "eth0", 0)
        );
        let d = sync_daemon(&args(&["backup", "br0", "7", "239.255.0.81"])).unwrap();
        assert_eq!(d.group, Some("239.255.0.81".parse().unwrap()));
        for bad in [
            &["slave"][..],
            &["master", "eth0", "300"],
            &["master", "eth0", "1", "192.0.2.1"],
            &["master", "../x"],
            &[],
        ] {
            assert!(sync_daemon(&args(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn relative_configurations_are_in_the_configuration_directory() {
        let dir = Path::new("/etc/ha.d");
        assert_eq!(config_path(None, dir), Path::new("/etc/ha.d/ldirectord.cf"));
        assert_eq!(
            config_path(Some("www.cf"), dir),
            Path::new("/etc/ha.d/www.cf")
        );
        assert_eq!(
            config_path(Some("/srv/lvs.cf"), dir),
            Path::new("/srv/lvs.cf")
        );
    }
}
