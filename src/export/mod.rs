//! The way out to Pacemaker + Corosync: `tandem export-pacemaker`.
//!
//! A loaded configuration (ha.cf, haresources, authkeys, the ldirectord.cf
//! files haresources names) becomes a [`Plan`]: the cluster's nodes and
//! Corosync links, each resource group as a Pacemaker group of primitives,
//! the constraints and defaults that give Heartbeat's behaviour, and for
//! every line of the files what it became. The plan is then written as
//! Corosync's and Pacemaker's files, each by its own module: `corosync`
//! (corosync.conf), `cib` (cib.xml), `scripts` (the same configuration as
//! crmsh and pcs commands), `report` (report.txt). Only [`plan`] looks at
//! the host (which scripts are where); the writers are pure text.

pub mod cib;
pub mod corosync;
pub mod plan;
pub mod report;
pub mod scripts;

pub use plan::{plan, Inputs, Plan, PlanError};

use crate::config::{self, Files, Host, LoadOptions};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// What `tandem export-pacemaker` was asked.
pub struct Options {
    /// The configuration directory (ha.cf, haresources, authkeys).
    pub dir: PathBuf,
    /// The node the configuration is loaded for (as `tandem run`).
    pub node: Option<String>,
    pub out: PathBuf,
    /// `NODE=IP[,IP…]`: a node's address on each Corosync link.
    pub addresses: Vec<String>,
}

/// Why nothing was exported.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The configuration's errors, one line each, as check-config says them.
    #[error("the configuration has errors")]
    Config(Vec<String>),
    #[error("--address {0}: expected NODE=IP[,IP…]")]
    BadAddress(String),
    #[error("--address {0}: no node of that name in ha.cf")]
    UnknownNode(String),
    #[error("{0}: {1}")]
    Dir(String, std::io::Error),
    #[error("cannot be exported")]
    Plan(Vec<PlanError>),
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// Reads the configuration as `tandem run` would, plans the export and
/// writes it. Returns the warnings (also at the top of report.txt).
pub fn export(opts: &Options) -> Result<Vec<String>, ExportError> {
    // Absolute, so that the paths written (scripts, ldirectord.cf, key
    // files) name the same files from anywhere.
    let dir = std::fs::canonicalize(&opts.dir)
        .map_err(|e| ExportError::Dir(opts.dir.display().to_string(), e))?;
    let files = Files::in_dir(&dir);
    let load = LoadOptions::new(files.clone(), opts.node.clone(), Host::This);
    let loaded = config::load(&load);
    let Some(config) = loaded.config else {
        let lines = loaded
            .diagnostics
            .iter()
            .filter(|d| d.severity == config::diag::Severity::Error)
            .map(|d| d.to_string())
            .collect();
        return Err(ExportError::Config(lines));
    };
    let mut addresses: BTreeMap<String, Vec<IpAddr>> = BTreeMap::new();
    for a in &opts.addresses {
        let (node, ips) = a
            .split_once('=')
            .ok_or_else(|| ExportError::BadAddress(a.clone()))?;
        let node = node.to_ascii_lowercase();
        if !config.hacf.nodes.iter().any(|n| n.value == node) {
            return Err(ExportError::UnknownNode(a.clone()));
        }
        let ips = ips
            .split(',')
            .map(|ip| ip.trim().parse::<IpAddr>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| ExportError::BadAddress(a.clone()))?;
        addresses.insert(node, ips);
    }
    // A node not given: its name through the system resolver (/etc/hosts,
    // as Heartbeat sites usually have), for the first link.
    for n in &config.hacf.nodes {
        if !addresses.contains_key(&n.value) {
            if let Some(ip) = resolve(&n.value) {
                addresses.insert(n.value.clone(), vec![ip]);
            }
        }
    }
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    let inputs = Inputs {
        config: &config,
        search: load.search_paths(),
        config_dir: dir,
        addresses,
        hacf: (files.ha_cf.display().to_string(), read(&files.ha_cf)),
        haresources: (
            files.haresources.display().to_string(),
            read(&files.haresources),
        ),
    };
    let mut plan = plan(&inputs).map_err(ExportError::Plan)?;
    plan.rows = report::rows(&plan, &inputs);
    write(&plan, &opts.out)?;
    Ok(plan.warnings)
}

/// A node name's address by the system resolver, IPv4 first.
fn resolve(name: &str) -> Option<IpAddr> {
    use std::net::ToSocketAddrs;
    let all: Vec<IpAddr> = (name, 0).to_socket_addrs().ok()?.map(|a| a.ip()).collect();
    all.iter()
        .find(|a| a.is_ipv4())
        .or_else(|| all.first())
        .copied()
}

/// The files of one export, by name, as they are written into OUTDIR.
pub fn files(plan: &Plan) -> Vec<(&'static str, String)> {
    vec![
        ("corosync.conf", corosync::render(plan)),
        ("cib.xml", cib::render(plan)),
        ("configure.crm", scripts::crm(plan)),
        ("configure.pcs", scripts::pcs(plan)),
        ("report.txt", report::render(plan)),
    ]
}

/// Why nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{0}: exists and is not an empty directory; nothing was written")]
    NotEmpty(String),
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
}

/// Writes the export into `out`, which must not exist or be empty: nothing
/// is overwritten. Corosync's `authkey` is fresh random bytes, mode 0600
/// (Heartbeat's key is not reused).
pub fn write(plan: &Plan, out: &Path) -> Result<(), WriteError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let name = out.display().to_string();
    let io = |e| WriteError::Io(name.clone(), e);
    match std::fs::read_dir(out) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(WriteError::NotEmpty(name));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(out).map_err(io)?;
        }
        Err(e) => return Err(io(e)),
    }
    let mut key = [0u8; 256];
    getrandom(&mut key).map_err(io)?;
    let mut contents: Vec<(&str, Vec<u8>, u32)> = files(plan)
        .into_iter()
        .map(|(n, t)| (n, t.into_bytes(), 0o644))
        .collect();
    contents.push(("authkey", key.to_vec(), 0o600));
    for (file, bytes, mode) in contents {
        let path = out.join(file);
        let at = |e| WriteError::Io(path.display().to_string(), e);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&path)
            .map_err(at)?;
        f.write_all(&bytes).map_err(at)?;
    }
    Ok(())
}

/// Fills `buf` from the kernel's random source.
fn getrandom(buf: &mut [u8]) -> std::io::Result<()> {
    use std::io::Read;
    std::fs::File::open("/dev/urandom")?.read_exact(buf)
}
