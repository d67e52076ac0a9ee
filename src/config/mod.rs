//! Configuration: Heartbeat's `/etc/ha.d` (ha.cf, haresources, authkeys)
//! read into one typed [`Config`].
//!
//! Parsing is pure ([`parse`]): bytes in, a `Config` or findings out. Only
//! [`load`] touches the filesystem: it reads the files, finds the local
//! node name, checks the authkeys permissions and looks up the resource
//! scripts. Every finding names its file and line; one pass reports them
//! all, and a configuration with any error yields no `Config` at all.

pub mod authkeys;
pub mod diag;
pub mod explain;
pub mod hacf;
pub mod haresources;
pub mod ldirectord;
pub mod lines;
pub mod value;

use authkeys::AuthKeys;
use diag::{At, Diagnostics};
use hacf::{AutoFailback, HaCf};
use haresources::{ResourceGroup, SearchPaths};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The files of one configuration, as the operator named them.
#[derive(Debug, Clone, Serialize)]
pub struct Files {
    pub ha_cf: PathBuf,
    pub haresources: PathBuf,
    pub authkeys: PathBuf,
    /// Heartbeat's override for the local node name (first line).
    pub nodeinfo: PathBuf,
    /// Resource scripts, searched before /etc/init.d.
    pub resource_d: PathBuf,
}

impl Files {
    /// The standard names inside a configuration directory (`/etc/ha.d`).
    pub fn in_dir(dir: &Path) -> Files {
        Files {
            ha_cf: dir.join("ha.cf"),
            haresources: dir.join("haresources"),
            authkeys: dir.join("authkeys"),
            nodeinfo: dir.join("nodeinfo"),
            resource_d: dir.join("resource.d"),
        }
    }
}

/// Everything tandem is configured to do, typed and validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Config {
    /// This node's name (lowercased), one of `hacf.nodes`.
    pub local_node: String,
    pub hacf: HaCf,
    /// Resource groups in file order (Heartbeat's processing order).
    pub groups: Vec<ResourceGroup>,
    pub authkeys: AuthKeys,
}

/// The three files' contents, named for findings.
pub struct Texts<'a> {
    pub ha_cf: (&'a str, &'a [u8]),
    pub haresources: (&'a str, &'a [u8]),
    pub authkeys: (&'a str, &'a [u8]),
}

/// Parses the three files for node `local_node` (already lowercased).
/// Returns the configuration only when there is no error.
pub fn parse(texts: &Texts<'_>, local_node: &str) -> (Option<Config>, Diagnostics) {
    let (hacf, mut diags) = hacf::parse(texts.ha_cf.0, texts.ha_cf.1);
    let (authkeys, auth_diags) = authkeys::parse(texts.authkeys.0, texts.authkeys.1);
    diags.extend(auth_diags);
    let nodes: Option<Vec<String>> = hacf
        .as_ref()
        .map(|h| h.nodes.iter().map(|n| n.value.clone()).collect());
    // haresources is checked even when ha.cf has errors, so that one pass
    // reports everything; its node names only when ha.cf gave a node list.
    let (groups, res_diags) =
        haresources::parse(texts.haresources.0, texts.haresources.1, nodes.as_deref());
    diags.extend(res_diags);
    let Some(hacf) = hacf else {
        return (None, diags);
    };
    if !hacf.has_node(local_node) {
        let nodes = nodes.unwrap_or_default();
        diags.error(
            &At::directive(texts.ha_cf.0, "node"),
            format!(
                "this node, `{local_node}`, is not listed (nodes: {}); add `node {local_node}`, or name this node with --node or /etc/ha.d/nodeinfo",
                nodes.join(", ")
            ),
        );
    }
    // crc authenticates nothing: on a network, anyone can forge frames.
    if let Some(keys) = &authkeys {
        let crc = keys.signing().method == crate::wire::auth::AuthMethod::Crc;
        let udp = hacf.links.iter().find(|l| {
            !matches!(
                l.value,
                hacf::Medium::Serial { .. } | hacf::Medium::Ppp { .. }
            )
        });
        if let (true, Some(link)) = (crc, udp) {
            let shown = link.value.to_string();
            let directive = shown.split_whitespace().next().unwrap_or("auth");
            let at = match &link.source {
                value::Source::File { line, .. } => At::line(texts.ha_cf.0, *line, directive),
                value::Source::Default(_) => At::directive(texts.authkeys.0, "auth"),
            };
            diags.warning(
                &at,
                format!(
                    "`{}` is a UDP link and authkeys signs with crc, which authenticates nothing: anyone who reaches the network can forge frames; use sha256 (or sha1 with Heartbeat nodes)",
                    link.value
                ),
            );
        }
    }
    if hacf.auto_failback.value == AutoFailback::Legacy && !groups.is_empty() {
        let at = match &hacf.auto_failback.source {
            value::Source::File { line, .. } => At::line(texts.ha_cf.0, *line, "auto_failback"),
            value::Source::Default(_) => At::directive(texts.ha_cf.0, "auto_failback"),
        };
        diags.warning(
            &at,
            "`legacy` (the default) is deprecated, as in Heartbeat; write `auto_failback on` or `auto_failback off`",
        );
    }
    match authkeys {
        Some(authkeys) if !diags.has_errors() => (
            Some(Config {
                local_node: local_node.to_string(),
                hacf,
                groups,
                authkeys,
            }),
            diags,
        ),
        _ => (None, diags),
    }
}

/// Where the configuration is meant to run. What depends on the host (a
/// resource's program, a client's user and program, an OCF parameter
/// file, a director's file, authkeys' mode) is an error on this host, as
/// `tandem run` refuses it, and only a warning for a configuration
/// checked on another machine before it is installed there
/// (`check-config --other-host`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host {
    This,
    Another,
}

impl Host {
    /// Records a finding that depends on the host.
    fn finding(self, diags: &mut Diagnostics, at: &At, msg: String) {
        match self {
            Host::This => diags.error(at, msg),
            Host::Another => diags.warning(at, msg),
        }
    }
}

/// How to load a configuration from disk.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub files: Files,
    /// The local node name; `None`: nodeinfo, else `uname -n`.
    pub node: Option<String>,
    pub host: Host,
    pub init_d: PathBuf,
    pub ocf_root: PathBuf,
}

impl LoadOptions {
    pub fn new(files: Files, node: Option<String>, host: Host) -> Self {
        LoadOptions {
            files,
            node,
            host,
            init_d: PathBuf::from("/etc/init.d"),
            ocf_root: PathBuf::from("/usr/lib/ocf"),
        }
    }

    pub fn search_paths(&self) -> SearchPaths {
        SearchPaths {
            resource_d: self.files.resource_d.clone(),
            init_d: self.init_d.clone(),
            ocf_root: self.ocf_root.clone(),
        }
    }
}

/// A configuration loaded from disk with the findings about it.
#[derive(Debug)]
pub struct Loaded {
    /// `None` when any finding is an error.
    pub config: Option<Config>,
    pub diagnostics: Diagnostics,
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

/// Reads one file, bounded; a missing or unreadable file is a finding.
fn read(path: &Path, diags: &mut Diagnostics, hint: &str) -> Option<Vec<u8>> {
    use std::io::Read;
    let name = display(path);
    let mut buf = Vec::new();
    let result = std::fs::File::open(path)
        .and_then(|f| f.take(lines::FILE_MAX as u64 + 1).read_to_end(&mut buf));
    match result {
        Ok(_) => Some(buf),
        Err(e) => {
            diags.error(&At::file(&name), format!("cannot read: {e}{hint}"));
            None
        }
    }
}

/// The local node name as Heartbeat finds it: the first line of nodeinfo,
/// else `uname -n`; always lowercased.
pub fn local_node_name(nodeinfo: &Path) -> Result<String, String> {
    if let Ok(text) = std::fs::read_to_string(nodeinfo) {
        if let Some(first) = text.lines().next().map(str::trim).filter(|l| !l.is_empty()) {
            return Ok(first.to_ascii_lowercase());
        }
    }
    let name = nix::unistd::gethostname().map_err(|e| format!("cannot read uname -n: {e}"))?;
    name.into_string()
        .map(|n| n.to_ascii_lowercase())
        .map_err(|_| "uname -n is not valid UTF-8".to_string())
}

/// Reads, parses and checks a configuration directory.
pub fn load(opts: &LoadOptions) -> Loaded {
    let mut diags = Diagnostics::new();
    let files = &opts.files;
    let local_node = match &opts.node {
        Some(n) => n.to_ascii_lowercase(),
        None => match local_node_name(&files.nodeinfo) {
            Ok(n) => n,
            Err(e) => {
                diags.error(
                    &At::file(&display(&files.nodeinfo)),
                    format!("{e}; pass --node NAME"),
                );
                String::new()
            }
        },
    };
    let ha_cf = read(&files.ha_cf, &mut diags, "");
    let haresources = read(
        &files.haresources,
        &mut diags,
        " (create an empty file if this cluster manages no resources)",
    );
    let authkeys = read(&files.authkeys, &mut diags, "");
    if let Some(msg) = authkeys_mode_problem(&files.authkeys) {
        let name = display(&files.authkeys);
        let at = At::file(&name);
        opts.host.finding(&mut diags, &at, msg)
    }
    let (Some(ha_cf), Some(haresources), Some(authkeys)) = (ha_cf, haresources, authkeys) else {
        return Loaded {
            config: None,
            diagnostics: diags,
        };
    };
    let names = (
        display(&files.ha_cf),
        display(&files.haresources),
        display(&files.authkeys),
    );
    let texts = Texts {
        ha_cf: (&names.0, &ha_cf),
        haresources: (&names.1, &haresources),
        authkeys: (&names.2, &authkeys),
    };
    let (config, parse_diags) = parse(&texts, &local_node);
    diags.extend(parse_diags);
    match &config {
        Some(config) => check_scripts(&config.groups, opts, &names.1, &mut diags),
        // The groups that did parse are still checked (their scripts,
        // their directors' files), so that one pass reports every problem.
        None => {
            let (groups, _) = haresources::parse(&names.1, &haresources, None);
            check_scripts(&groups, opts, &names.1, &mut diags);
        }
    }
    if let Some(config) = &config {
        check_clients(&config.hacf.respawn, opts, &mut diags);
        // `tandem run` refuses these; check-config says so too.
        if config.hacf.wire.value == hacf::WireMode::Heartbeat {
            for c in heartbeat_conflicts(config) {
                let (file, line) = match &c.source {
                    value::Source::File { file, line } => (file.as_str(), Some(*line)),
                    value::Source::Default(_) => ("ha.cf", None),
                };
                let at = At {
                    file,
                    line,
                    directive: Some(c.directive),
                };
                diags.error(&at, c.why);
            }
        }
    }
    let config = if diags.has_errors() { None } else { config };
    Loaded {
        config,
        diagnostics: diags,
    }
}

/// Something a Heartbeat partner cannot agree on, at its line.
#[derive(Debug, Clone)]
pub struct Conflict {
    pub source: value::Source,
    pub directive: &'static str,
    /// What is wrong, and the wire line that makes it so.
    pub why: String,
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}: {}", self.source, self.directive, self.why)
    }
}

/// What a Heartbeat partner cannot agree on: only what Heartbeat's
/// haresources mode speaks can be. Each names its line.
pub fn heartbeat_conflicts(config: &Config) -> Vec<Conflict> {
    use crate::wire::auth::AuthMethod;
    let h = &config.hacf;
    let mut out = Vec::new();
    let mut say = |source: &value::Source, directive: &'static str, why: &str| {
        out.push(Conflict {
            source: source.clone(),
            directive,
            why: format!(
                "not available with Heartbeat's protocol (`wire {}` at {}): {why}",
                h.wire.value.as_str(),
                h.wire.source
            ),
        })
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

/// A `respawn`/`failfast` client needs its user and its program on this
/// host (ipfail excepted: it is not run).
fn check_clients(
    lines: &[value::Setting<hacf::Respawn>],
    opts: &LoadOptions,
    diags: &mut Diagnostics,
) {
    use std::os::unix::fs::PermissionsExt;
    for l in lines.iter().filter(|l| !l.value.is_ipfail()) {
        let (file, line) = match &l.source {
            value::Source::File { file, line } => (file.as_str(), Some(*line)),
            value::Source::Default(_) => ("ha.cf", None),
        };
        let at = At {
            file,
            line,
            directive: Some(l.value.directive()),
        };
        let mut problems = Vec::new();
        if !matches!(nix::unistd::User::from_name(&l.value.user), Ok(Some(_))) {
            problems.push(format!("no user `{}` on this host", l.value.user));
        }
        let program = l.value.program();
        let runnable = std::fs::metadata(program)
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
        if !runnable {
            problems.push(format!("no executable `{program}` on this host"));
        }
        for msg in problems {
            opts.host.finding(diags, &at, msg)
        }
    }
}

/// Heartbeat refuses an authkeys that group or other can read.
fn authkeys_mode_problem(path: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    (mode & 0o077 != 0).then(|| {
        format!(
            "mode {:04o} lets group or other read the keys; run `chmod 600 {}`",
            mode & 0o7777,
            path.display()
        )
    })
}

/// A director resource's arguments, and for `ldirectord::FILE` the file
/// itself: a director that would not start fails the configuration, not
/// the takeover. A missing file is only a warning for another host (it may
/// be installed later), as a missing script is.
fn check_director(
    resource: &haresources::Resource,
    opts: &LoadOptions,
    file: &str,
    line: Option<usize>,
    diags: &mut Diagnostics,
) {
    let dir = opts
        .files
        .resource_d
        .parent()
        .unwrap_or(Path::new("/etc/ha.d"));
    let at = At {
        file,
        line,
        directive: Some(&resource.token),
    };
    let Some(path) = resource.kind.director_file(dir) else {
        return;
    };
    if !path.exists() && opts.host == Host::Another {
        diags.warning(&at, format!("{} does not exist", display(&path)));
        return;
    }
    // The director's file is read now: a bad one never starts a
    // half-configured pair.
    if let Err(e) = ldirectord::load(&path) {
        for l in e.lines() {
            diags.error(&at, l.to_string());
        }
    }
}

/// Every resource's program must exist on this host to run.
fn check_scripts(
    groups: &[haresources::ResourceGroup],
    opts: &LoadOptions,
    file: &str,
    diags: &mut Diagnostics,
) {
    let search = opts.search_paths();
    for group in groups {
        let line = match &group.node.source {
            value::Source::File { line, .. } => Some(*line),
            value::Source::Default(_) => None,
        };
        for resource in &group.resources {
            if matches!(
                resource.kind,
                haresources::ResourceKind::Director { .. }
                    | haresources::ResourceKind::SyncDaemonSwap(_)
            ) {
                check_director(resource, opts, file, line, diags);
                continue;
            }
            if let haresources::Resolution::NotFound { searched } =
                haresources::resolve(resource, &search)
            {
                let paths: Vec<String> = searched.iter().map(|p| display(p)).collect();
                let at = At {
                    file,
                    line,
                    directive: Some(&resource.token),
                };
                let msg = match &resource.kind {
                    haresources::ResourceKind::OcfInstance { agent, .. }
                        if searched.iter().any(|p| p.ends_with(agent)) =>
                    {
                        format!("no OCF agent {} on this host", paths.join(", "))
                    }
                    haresources::ResourceKind::OcfInstance { .. } => format!(
                        "no parameter file {} (OCF::TYPE::INSTANCE reads the agent's NAME=VALUE lines there)",
                        paths.join(", ")
                    ),
                    _ => format!(
                        "no executable `{}` on this host (searched {})",
                        resource.script,
                        paths.join(", ")
                    ),
                };
                opts.host.finding(diags, &at, msg)
            } else if let haresources::ResourceKind::OcfInstance { agent, instance } =
                &resource.kind
            {
                let path = haresources::ocf_instance_file(&search, agent, instance);
                if let Err(e) = haresources::ocf_instance_params(&path) {
                    let at = At {
                        file,
                        line,
                        directive: Some(&resource.token),
                    };
                    diags.error(&at, e);
                }
            }
        }
    }
}
