//! Before the loop: the configuration loaded and checked for running
//! (nothing half-done, every problem named), what `wire heartbeat` and
//! this version cannot carry out, and what the runner and the resource
//! programs take from ha.cf.

use super::state::{self, Paths};
use super::{io_err, DaemonError, Options};
use crate::config::{self, Config, Host, LoadOptions};
use crate::core::{self, Params};
use crate::host::log::Log;
use crate::{media, resources};
use std::io;
use std::time::Duration;

/// Everything a configuration turns into before the loop may use it.
pub(super) struct Prepared {
    pub(super) config: Config,
    pub(super) params: Params,
    pub(super) programs: Vec<Vec<resources::Program>>,
    pub(super) fencer: Option<resources::fence::Fencer>,
    pub(super) warnings: Vec<String>,
}

/// Loads and checks a configuration for running: nothing half-done, every
/// problem named.
pub(super) fn prepare(opts: &Options) -> Result<Prepared, DaemonError> {
    let mut load = LoadOptions::new(opts.files.clone(), opts.node.clone(), Host::This);
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
    let missing = not_with_heartbeat(&config);
    if !missing.is_empty() {
        return Err(DaemonError::Config(missing));
    }
    let file = opts.files.haresources.display().to_string();
    let state = super::state::Paths::new(opts.state_dir.as_deref()).state;
    let programs = resources::resolve_all(&config, &load.search_paths(), &state, &file)?;
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

/// What `wire heartbeat` cannot carry out, for a start with it (config
/// loading refuses it already; a reload passes through here too).
pub(super) fn not_with_heartbeat(config: &Config) -> Vec<String> {
    if config.hacf.wire.value != config::hacf::WireMode::Heartbeat {
        return Vec::new();
    }
    config::heartbeat_conflicts(config)
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// The protocol this node speaks, with what the engine needs for it:
/// Heartbeat's uuid for this node, or why `wire auto` cannot answer a
/// Heartbeat node (said once, when one is heard). Read at start and at
/// each reload.
pub(super) fn wire_of(config: &Config, paths: &Paths) -> Result<core::Wire, DaemonError> {
    use config::hacf::WireMode;
    Ok(match config.hacf.wire.value {
        WireMode::Native => core::Wire::Native,
        WireMode::Heartbeat => core::Wire::Heartbeat {
            uuid: state::heartbeat_uuid(paths).map_err(io_err("heartbeat-uuid file"))?,
        },
        WireMode::Auto => {
            let conflicts = config::heartbeat_conflicts(config);
            core::Wire::Auto(if !conflicts.is_empty() {
                Err(conflicts
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "))
            } else {
                state::heartbeat_uuid(paths).map_err(|e| format!("heartbeat-uuid file: {e}"))
            })
        }
    })
}

/// How long one resource action may run (`resource_timeout`).
pub(super) fn timeout(config: &Config) -> Duration {
    Duration::from_micros(config.hacf.resource_timeout.value.as_micros())
}

/// What the runner takes from ha.cf.
pub(super) fn runner_settings(config: &Config) -> crate::resources::runner::Settings {
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
pub(super) fn program_env(config: &Config, opts: &Options) -> Vec<(String, String)> {
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
        // Where `tandem action` (the shipped scripts) keeps what must
        // outlive a restart, as the daemon does.
        (
            "TANDEM_STATE_DIR".to_string(),
            super::state::Paths::new(opts.state_dir.as_deref())
                .state
                .display()
                .to_string(),
        ),
    ];
    for e in &config.hacf.env {
        // Heartbeat exports `env NAME=VALUE` as HA_NAME; the bare name
        // too, as tandem did before.
        let (name, value) = &e.value;
        if !name.starts_with("HA_") {
            env.push((format!("HA_{name}"), value.clone()));
        }
        env.push(e.value.clone());
    }
    env
}

/// `realtime on`: SCHED_FIFO and locked memory, or a warning why not.
pub(super) fn go_realtime(config: &Config, log: &mut Log) {
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
