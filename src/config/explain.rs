//! `tandem check-config`: the configuration explained back to the
//! operator, every value with where it came from, and the findings.

use super::diag::{Diagnostic, Severity};
use super::hacf::{Medium, Stonith, StopFailure};
use super::haresources::{resolve, Resolution, ResourceKind};
use super::{Config, Files, LoadOptions, Loaded};
use serde::Serialize;
use std::fmt::Write;

/// What `check-config --json` prints.
#[derive(Debug, Serialize)]
pub struct Report<'a> {
    /// True when the configuration can run (no errors).
    pub ok: bool,
    pub files: &'a Files,
    pub config: Option<&'a Config>,
    /// Per group, per resource: where its program is.
    pub resolutions: Vec<Vec<Resolution>>,
    pub diagnostics: Vec<&'a Diagnostic>,
}

impl<'a> Report<'a> {
    pub fn new(loaded: &'a Loaded, opts: &'a LoadOptions) -> Self {
        let search = opts.search_paths();
        let resolutions = loaded
            .config
            .iter()
            .flat_map(|c| &c.groups)
            .map(|g| g.resources.iter().map(|r| resolve(r, &search)).collect())
            .collect();
        Report {
            ok: loaded.config.is_some(),
            files: &opts.files,
            config: loaded.config.as_ref(),
            resolutions,
            diagnostics: loaded.diagnostics.iter().collect(),
        }
    }

    /// The human form.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        if let Some(config) = self.config {
            write_config(&mut out, config, &self.resolutions);
        }
        let warnings: Vec<_> = self
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .collect();
        let errors: Vec<_> = self
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .collect();
        if !warnings.is_empty() {
            let _ = writeln!(out, "\nWarnings ({})", warnings.len());
            for w in warnings {
                let _ = writeln!(out, "  {w}");
            }
        }
        if !errors.is_empty() {
            let _ = writeln!(out, "\nErrors ({})", errors.len());
            for e in errors {
                let _ = writeln!(out, "  {e}");
            }
        }
        let verdict = if self.ok {
            "configuration OK"
        } else {
            "configuration has errors; tandem will not start with it"
        };
        let _ = writeln!(out, "\n{verdict}");
        out
    }
}

fn medium_detail(m: &Medium, config: &Config) -> String {
    let udp = config.hacf.udpport.value;
    let baud = config.hacf.baud.value;
    match m {
        Medium::Bcast { .. } => format!("udp port {udp}, broadcast"),
        Medium::Ucast {
            port: Some(port), ..
        } => format!("udp port {udp}, unicast to port {port}"),
        Medium::Ucast { .. } | Medium::Ucast6 { .. } => format!("udp port {udp}, unicast"),
        Medium::Mcast { .. } | Medium::Mcast6 { .. } => "multicast".to_string(),
        Medium::Serial { .. } => format!("{baud} baud, 8N1"),
        Medium::Ppp { .. } => format!("pppd at {baud} baud, udp port {udp}"),
    }
}

fn write_config(out: &mut String, c: &Config, resolutions: &[Vec<Resolution>]) {
    let h = &c.hacf;
    let _ = writeln!(out, "Cluster {} ({})", h.cluster.value, h.cluster.source);
    let _ = writeln!(out, "\nNodes");
    for n in &h.nodes {
        let me = if n.value == c.local_node {
            "  (this node)"
        } else {
            ""
        };
        let _ = writeln!(out, "  {:<24} {}{me}", n.value, n.source);
    }
    let _ = writeln!(out, "\nTiming");
    for (name, s) in [
        ("keepalive", &h.keepalive),
        ("warntime", &h.warntime),
        ("deadtime", &h.deadtime),
        ("initdead", &h.initdead),
        ("deadping", &h.deadping),
    ] {
        let _ = writeln!(out, "  {name:<10} {:<10} {}", s.value.to_string(), s.source);
    }

    let _ = writeln!(out, "\nLinks");
    for l in &h.links {
        let text = l.value.to_string();
        let detail = medium_detail(&l.value, c);
        let _ = writeln!(out, "  {text:<40} {detail:<28} {}", l.source);
    }
    let _ = writeln!(out, "\nLinks per node (from {})", c.local_node);
    for n in h.nodes.iter().filter(|n| n.value != c.local_node) {
        let links: Vec<String> = h
            .links
            .iter()
            .filter(|l| l.value.reaches(&n.value) && l.value.reaches(&c.local_node))
            .map(|l| l.value.to_string())
            .collect();
        let shown = if links.is_empty() {
            "none: this node cannot hear it".to_string()
        } else {
            links.join("; ")
        };
        let _ = writeln!(out, "  {:<24} {shown}", n.value);
    }

    let _ = writeln!(out, "\nResource groups");
    if c.groups.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for (g, res) in c.groups.iter().zip(resolutions) {
        let _ = writeln!(
            out,
            "  {}  preferred node {}  ({})",
            g.key(),
            g.node.value,
            g.node.source
        );
        for (i, (r, how)) in g.resources.iter().zip(res).enumerate() {
            let found = match how {
                Resolution::Builtin
                    if matches!(
                        r.kind,
                        ResourceKind::Director { .. } | ResourceKind::SyncDaemonSwap(_)
                    ) =>
                {
                    "built in (tandem runs it as a child process)".to_string()
                }
                Resolution::Builtin => "built in (run in tandem's process)".to_string(),
                Resolution::ResourceD { path } => format!("{} (Heartbeat script)", path.display()),
                Resolution::InitD { path } => format!("{} (LSB init script)", path.display()),
                Resolution::Ocf { path } => format!("{} (OCF agent)", path.display()),
                Resolution::V1Agent { path, .. } => format!(
                    "{} (OCF agent, as Heartbeat's resource.d wrapper called it)",
                    path.display()
                ),
                Resolution::NotFound { .. } => "NOT FOUND on this host".to_string(),
            };
            let what = match &r.kind {
                ResourceKind::IpAlias(a) => {
                    let mut s = format!("address {}", a.ip);
                    if let Some(p) = a.prefix {
                        let _ = write!(s, "/{p}");
                    }
                    if let Some(n) = &a.nic {
                        let _ = write!(s, " on {n}");
                    }
                    if let Some(l) = &a.label {
                        let _ = write!(s, " label {l}");
                    }
                    if let Some(b) = &a.broadcast {
                        let _ = write!(s, " broadcast {b}");
                    }
                    s
                }
                ResourceKind::SendArp { ip, .. } => format!("gratuitous ARP for {ip}"),
                ResourceKind::Ocf { params, .. } => format!("{} parameters", params.len()),
                ResourceKind::OcfInstance { agent, instance } => {
                    format!("agent heartbeat/{agent}, parameters in conf/OCF/{agent}/{instance}")
                }
                _ => {
                    if r.args.is_empty() {
                        String::new()
                    } else {
                        format!("args {}", r.args.join(" "))
                    }
                }
            };
            let _ = writeln!(out, "    {}. {:<36} {what}", i + 1, r.token);
            let _ = writeln!(out, "       {found}");
        }
    }

    let a = &c.authkeys;
    let _ = writeln!(out, "\nAuthentication");
    let _ = writeln!(
        out,
        "  signs with key {} ({})  ({})",
        a.sign.value,
        a.signing().method.as_str(),
        a.sign.source
    );
    let accepted: Vec<String> = a
        .keys
        .iter()
        .map(|k| format!("{} {}", k.value.index, k.value.method.as_str()))
        .collect();
    let _ = writeln!(out, "  accepts keys {}", accepted.join(", "));

    let _ = writeln!(out, "\nPolicy");
    let _ = writeln!(
        out,
        "  {:<16} {:<10} {}",
        "wire",
        h.wire.value.as_str(),
        h.wire.source
    );
    let _ = writeln!(
        out,
        "  {:<16} {:<10} {}",
        "auto_failback",
        h.auto_failback.value.as_str(),
        h.auto_failback.source
    );
    let _ = writeln!(
        out,
        "  {:<16} {:<10} {}",
        "realtime",
        if h.realtime.value { "on" } else { "off" },
        h.realtime.source
    );
    let facility = h.logging.facility.value.as_deref().unwrap_or("none");
    let _ = writeln!(
        out,
        "  {:<16} {facility:<10} {}",
        "logfacility", h.logging.facility.source
    );
    if let Some(f) = &h.logging.logfile {
        let _ = writeln!(out, "  {:<16} {:<10} {}", "logfile", f.value, f.source);
    }

    let _ = writeln!(out, "\nFailures");
    let monitored = h.monitor_interval.is_some();
    let _ = writeln!(
        out,
        "  {:<20} {:<8} {}\n      {}",
        "migration_threshold",
        h.migration_threshold.value,
        h.migration_threshold.source,
        match (monitored, h.migration_threshold.value) {
            (false, _) => "(no monitor_interval: resources are not watched; failed starts move a group at once)".to_string(),
            (true, 1) => "a monitor failure moves the group at once".to_string(),
            (true, n) => format!("monitor failures 1 to {} restart the failed resource in place; failure {n} moves the group", n - 1),
        }
    );
    let _ = writeln!(
        out,
        "  {:<20} {:<8} {}\n      {}",
        "failure_timeout",
        h.failure_timeout.value.to_hacf(),
        h.failure_timeout.source,
        if h.failure_timeout.value.is_zero() {
            "failures are kept until `tandem cleanup` or `tandem takeover`".to_string()
        } else {
            format!(
                "a node's failures of a group expire {} after the last one; then it may run the group again",
                h.failure_timeout.value
            )
        }
    );
    let _ = writeln!(
        out,
        "  {:<20} {:<8} {}\n      {}",
        "on_stop_failure",
        h.on_stop_failure.value.as_str(),
        h.on_stop_failure.source,
        match h.on_stop_failure.value {
            StopFailure::Reboot => "a stop still failing after 10 tries (and status says running) reboots this node; the other takes over after deadtime",
            StopFailure::Fence => "a stop still failing after 10 tries (and status says running) silences this node; the other fences it, then takes over",
            StopFailure::Block => "a stop still failing after 10 tries (and status says running) blocks the group: it runs nowhere until `tandem cleanup GROUP`",
        }
    );

    let safety = !h.stonith.is_empty()
        || h.watchdog.is_some()
        || !h.respawn.is_empty()
        || !h.ping_nodes.is_empty();
    if safety {
        let _ = writeln!(out, "\nSafety");
        for s in &h.stonith {
            let text = match &s.value {
                Stonith::Device { kind, config_file } => format!("stonith {kind} {config_file}"),
                Stonith::Host { host, kind, .. } => {
                    format!("stonith_host {host} {kind} (parameters not shown)")
                }
            };
            let _ = writeln!(out, "  {text:<48} {}", s.source);
        }
        if let Some(w) = &h.watchdog {
            let _ = writeln!(
                out,
                "  {:<48} {}",
                format!("watchdog {}", w.value),
                w.source
            );
        }
        for r in &h.respawn {
            let d = if r.value.failfast {
                "failfast"
            } else {
                "respawn"
            };
            let text = format!("{d} {} {}", r.value.user, r.value.command);
            let _ = writeln!(out, "  {text:<48} {}", r.source);
        }
        for p in &h.ping_nodes {
            let addrs: Vec<String> = p.value.addresses.iter().map(|a| a.to_string()).collect();
            let text = if p.value.group {
                format!("ping_group {} {}", p.value.name, addrs.join(" "))
            } else {
                format!("ping node {}", p.value.name)
            };
            let _ = writeln!(out, "  {text:<48} {}", p.source);
        }
    }
}
