//! From tandem's configuration to a Pacemaker + Corosync cluster: what
//! each node, link, group, resource and directive becomes.

use crate::config::hacf::{AutoFailback, Medium, StopFailure};
use crate::config::haresources::{self, Resolution, ResourceKind, SearchPaths};
use crate::config::value::Source;
use crate::config::Config;
use crate::time::Time;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

/// The monitor interval when ha.cf sets none (Heartbeat v1 never asked
/// a running resource's status; Pacemaker's primitives are monitored, and
/// pcs adds a monitor to every primitive anyway).
pub const MONITOR_DEFAULT: Time = Time::from_secs(10);
/// Corosync's smallest sensible token; a shorter deadtime is raised to it.
pub const TOKEN_MIN_MS: u64 = 1_000;
/// The location score for the node haresources names.
pub const PREFERENCE: i64 = 100;
/// resource-stickiness for `auto_failback off`: above the preference, so a
/// group stays where it runs.
pub const STICKY: i64 = 200;
/// Added to a node's score for each ping directive it reaches: more than
/// the preference and the stickiness, so connectivity decides first (as
/// tandem's ping nodes do). A node that reaches none keeps its score
/// (never below zero), so a group still runs somewhere.
pub const REACHABLE: i64 = 1_000;

/// What the export reads besides the configuration.
pub struct Inputs<'a> {
    pub config: &'a Config,
    /// Where resource programs are found (as `tandem run` finds them).
    pub search: SearchPaths,
    /// The configuration directory (ldirectord.cf and conf/OCF paths are
    /// relative to it).
    pub config_dir: PathBuf,
    /// Each node's addresses, one per Corosync link in order.
    pub addresses: BTreeMap<String, Vec<IpAddr>>,
    /// ha.cf and haresources as read: (file name, text), for the report.
    pub hacf: (String, String),
    pub haresources: (String, String),
}

/// Why there is nothing to export.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("{file}: no UDP link (bcast, mcast, mcast6, ucast or ucast6): Corosync has nothing to run on")]
    NoUdpLink { file: String },
    #[error("node {node}: no address; pass --address {node}=IP (one per link, comma-separated) or list it in /etc/hosts")]
    NoAddress { node: String },
    #[error(
        "node {node}: {have} address(es) for {links} Corosync links; pass --address {node}=IP,IP…"
    )]
    TooFewAddresses {
        node: String,
        have: usize,
        links: usize,
    },
    #[error("{at}: {token}: ocf:heartbeat:SendArp needs the interface; write SendArp::IP/NIC")]
    SendArpWithoutNic { at: String, token: String },
    #[error("{at}: {token}: {why}")]
    Resource {
        at: String,
        token: String,
        why: String,
    },
}

/// A Corosync node.
#[derive(Debug, Clone)]
pub struct Node {
    pub name: String,
    pub id: u32,
    /// One per link.
    pub addresses: Vec<IpAddr>,
}

/// A Corosync knet link: the UDP media of ha.cf on one device.
#[derive(Debug, Clone)]
pub struct Link {
    pub device: String,
    /// The ha.cf lines it comes from.
    pub sources: Vec<String>,
}

/// A Pacemaker operation.
#[derive(Debug, Clone)]
pub struct Op {
    pub name: &'static str,
    pub interval: String,
    pub timeout: Option<String>,
    pub on_fail: Option<&'static str>,
}

/// A Pacemaker primitive resource.
#[derive(Debug, Clone)]
pub struct Primitive {
    pub id: String,
    pub class: &'static str,
    pub provider: Option<String>,
    pub agent: String,
    pub params: Vec<(String, String)>,
    pub ops: Vec<Op>,
}

impl Primitive {
    /// `ocf:heartbeat:IPaddr2`, `lsb:apache2`.
    pub fn agent_spec(&self) -> String {
        match &self.provider {
            Some(p) => format!("{}:{p}:{}", self.class, self.agent),
            None => format!("{}:{}", self.class, self.agent),
        }
    }
}

/// A haresources line: a group of primitives in order, and its node.
#[derive(Debug, Clone)]
pub struct Group {
    pub id: String,
    pub node: String,
    pub primitives: Vec<Primitive>,
    /// `file:line` of its haresources line.
    pub source: String,
}

/// A cloned primitive (the ping resources).
#[derive(Debug, Clone)]
pub struct Clone {
    pub id: String,
    pub primitive: Primitive,
}

/// A location constraint.
#[derive(Debug, Clone)]
pub enum Location {
    /// `rsc` prefers `node` with `score`.
    Prefer {
        id: String,
        rsc: String,
        node: String,
        score: i64,
    },
    /// `score` on a node where node attribute `attribute` is above zero
    /// (one of a ping directive's addresses answers there).
    Reachable {
        id: String,
        rsc: String,
        attribute: String,
        score: i64,
    },
}

/// One line of ha.cf or haresources and what it became.
#[derive(Debug, Clone)]
pub struct Row {
    pub at: String,
    pub text: String,
    pub became: String,
}

/// The whole export.
#[derive(Debug, Clone)]
pub struct Plan {
    pub cluster: String,
    pub nodes: Vec<Node>,
    pub links: Vec<Link>,
    pub token_ms: u64,
    pub groups: Vec<Group>,
    pub clones: Vec<Clone>,
    pub locations: Vec<Location>,
    /// Cluster properties (`crm_config`).
    pub properties: Vec<(String, String)>,
    pub rsc_defaults: Vec<(String, String)>,
    pub op_defaults: Vec<(String, String)>,
    /// Filled in by `report::rows` once the plan stands.
    pub rows: Vec<Row>,
    /// What changes on the way, said once in the report.
    pub notes: Vec<String>,
    /// Said loudly: on stderr and at the top of the report.
    pub warnings: Vec<String>,
}

/// Pacemaker's form of a time: whole seconds (`20s`) or milliseconds.
pub fn duration(t: Time) -> String {
    let ms = t.as_millis();
    if ms.is_multiple_of(1_000) {
        format!("{}s", ms / 1_000)
    } else {
        format!("{ms}ms")
    }
}

/// An XML ID from free text: letters, digits, `_`, `.`, `-`; never
/// starting with a digit, `.` or `-`.
pub fn xml_id(text: &str) -> String {
    let mut id: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    while id.ends_with('_') {
        id.pop();
    }
    if !id.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        id.insert(0, '_');
    }
    id
}

fn source(s: &Source) -> String {
    s.to_string()
}

fn is_udp(m: &Medium) -> Option<&str> {
    match m {
        Medium::Bcast { device }
        | Medium::Mcast { device, .. }
        | Medium::Mcast6 { device, .. }
        | Medium::Ucast { device, .. }
        | Medium::Ucast6 { device, .. } => Some(device),
        Medium::Serial { .. } | Medium::Ppp { .. } => None,
    }
}

/// Builds the plan, or says every reason there is none.
pub fn plan(inputs: &Inputs<'_>) -> Result<Plan, Vec<PlanError>> {
    let c = inputs.config;
    let h = &c.hacf;
    let mut errors = Vec::new();
    let mut warnings = Vec::new();

    // Links: the UDP media, one knet link per device.
    let mut links: Vec<Link> = Vec::new();
    for m in &h.links {
        let Some(device) = is_udp(&m.value) else {
            warnings.push(format!(
                "{}: {}: a serial or PPP link has no Corosync counterpart; it is left out",
                source(&m.source),
                m.value
            ));
            continue;
        };
        match links.iter_mut().find(|l| l.device == device) {
            Some(l) => l.sources.push(source(&m.source)),
            None => links.push(Link {
                device: device.to_string(),
                sources: vec![source(&m.source)],
            }),
        }
    }
    if links.is_empty() {
        errors.push(PlanError::NoUdpLink {
            file: inputs.hacf.0.clone(),
        });
    }

    // Nodes, with an address on every link.
    let mut nodes = Vec::new();
    for (i, n) in h.nodes.iter().enumerate() {
        let name = n.value.clone();
        let addresses = inputs.addresses.get(&name).cloned().unwrap_or_default();
        if addresses.is_empty() {
            errors.push(PlanError::NoAddress { node: name });
            continue;
        }
        if !links.is_empty() && addresses.len() < links.len() {
            errors.push(PlanError::TooFewAddresses {
                node: name,
                have: addresses.len(),
                links: links.len(),
            });
            continue;
        }
        let mut addresses = addresses;
        addresses.truncate(links.len().max(1));
        nodes.push(Node {
            name,
            id: i as u32 + 1,
            addresses,
        });
    }

    let deadtime = h.deadtime.value.as_millis();
    let token_ms = deadtime.max(TOKEN_MIN_MS);
    if token_ms > deadtime {
        warnings.push(format!(
            "{}: deadtime {} is below Corosync's sensible minimum: token is {token_ms} ms",
            source(&h.deadtime.source),
            h.deadtime.value
        ));
    }

    // Operations every primitive gets.
    let timeout = duration(h.resource_timeout.value);
    let stop_fail = match h.on_stop_failure.value {
        StopFailure::Reboot => "fence",
        StopFailure::Fence => "fence",
        StopFailure::Block => "block",
    };
    if h.on_stop_failure.value == StopFailure::Reboot {
        warnings.push(format!(
            "{}: on_stop_failure reboot becomes on-fail=fence: Pacemaker has the peer fence the node instead of the node rebooting itself",
            source(&h.on_stop_failure.source)
        ));
    }
    let mut notes = Vec::new();
    let monitor = match &h.monitor_interval {
        Some(m) => m.value,
        None => {
            notes.push(format!(
                "no monitor_interval: as Heartbeat v1, tandem never asks a running resource's status; in Pacemaker every primitive is monitored every {}",
                duration(MONITOR_DEFAULT)
            ));
            MONITOR_DEFAULT
        }
    };
    let mut ops = vec![Op {
        name: "monitor",
        interval: duration(monitor),
        timeout: Some(timeout.clone()),
        on_fail: None,
    }];
    ops.push(Op {
        name: "stop",
        interval: "0s".into(),
        timeout: Some(timeout.clone()),
        on_fail: Some(stop_fail),
    });

    // IPaddr2's announcements, when ha.cf sets them.
    let mut ip_extra = Vec::new();
    if matches!(h.arp_count.source, Source::File { .. }) {
        ip_extra.push(("arp_count".to_string(), h.arp_count.value.to_string()));
    }
    if matches!(h.arp_interval.source, Source::File { .. }) {
        ip_extra.push((
            "arp_interval".to_string(),
            h.arp_interval.value.as_millis().to_string(),
        ));
    }

    // Groups.
    let mut used: BTreeMap<String, usize> = BTreeMap::new();
    let mut unique = |base: String| -> String {
        let n = used.entry(base.clone()).or_insert(0);
        *n += 1;
        if *n == 1 {
            base
        } else {
            format!("{base}-{n}")
        }
    };
    let mut groups = Vec::new();
    for g in &c.groups {
        let at = source(&g.node.source);
        let mut primitives = Vec::new();
        for r in &g.resources {
            match primitive(r, inputs, &ip_extra) {
                Ok(mut p) => {
                    p.id = unique(p.id);
                    p.ops = ops.clone();
                    primitives.push(p);
                }
                Err(why) => errors.push(match why {
                    Why::SendArpNic => PlanError::SendArpWithoutNic {
                        at: at.clone(),
                        token: r.token.clone(),
                    },
                    Why::Other(why) => PlanError::Resource {
                        at: at.clone(),
                        token: r.token.clone(),
                        why,
                    },
                }),
            }
        }
        let Some(first) = primitives.first() else {
            continue;
        };
        let id = unique(format!("group_{}", first.id));
        groups.push(Group {
            id,
            node: g.node.value.clone(),
            primitives,
            source: at,
        });
    }

    // Ping directives: one cloned ocf:pacemaker:ping each.
    let mut clones = Vec::new();
    for (i, p) in h.ping_nodes.iter().enumerate() {
        let id = format!("ping_{}", i + 1);
        let hosts: Vec<String> = p.value.addresses.iter().map(|a| a.to_string()).collect();
        clones.push(Clone {
            id: format!("{id}-clone"),
            primitive: Primitive {
                id: id.clone(),
                class: "ocf",
                provider: Some("pacemaker".into()),
                agent: "ping".into(),
                params: vec![
                    ("host_list".into(), hosts.join(" ")),
                    ("name".into(), id.clone()),
                    ("multiplier".into(), "1".into()),
                    ("dampen".into(), duration(h.deadping.value)),
                ],
                ops: vec![Op {
                    name: "monitor",
                    interval: duration(h.keepalive.value.max(Time::from_secs(10))),
                    timeout: Some("60s".into()),
                    on_fail: None,
                }],
            },
        });
    }

    let mut locations = Vec::new();
    for g in &groups {
        locations.push(Location::Prefer {
            id: format!("location_{}_{}", g.id, xml_id(&g.node)),
            rsc: g.id.clone(),
            node: g.node.clone(),
            score: PREFERENCE,
        });
        for c in &clones {
            locations.push(Location::Reachable {
                id: format!("location_{}_{}", g.id, c.primitive.id),
                rsc: g.id.clone(),
                attribute: c.primitive.id.clone(),
                score: REACHABLE,
            });
        }
    }

    let stickiness = match h.auto_failback.value {
        AutoFailback::On => 0,
        AutoFailback::Off => STICKY,
        AutoFailback::Legacy => {
            warnings.push(format!(
                "{}: auto_failback legacy: exported as `on` (Pacemaker has no ip-request protocol)",
                source(&h.auto_failback.source)
            ));
            0
        }
    };
    let mut rsc_defaults = vec![("resource-stickiness".to_string(), stickiness.to_string())];
    rsc_defaults.push((
        "migration-threshold".into(),
        h.migration_threshold.value.to_string(),
    ));
    if !h.failure_timeout.value.is_zero() {
        rsc_defaults.push(("failure-timeout".into(), duration(h.failure_timeout.value)));
    }
    let op_defaults = vec![("timeout".to_string(), timeout)];

    // Fencing: Heartbeat's stonith plugins take positional parameters
    // that no fence agent's named ones can be derived from.
    let fencing = match h.stonith.first() {
        Some(s) => format!(
            "{}: Heartbeat's STONITH configuration cannot be translated into a fence agent's parameters",
            source(&s.source)
        ),
        None => format!("{}: no stonith line", inputs.hacf.0),
    };
    warnings.push(format!(
        "FENCING IS OFF: {fencing}; cib.xml sets stonith-enabled=false. Configure a fence device (pcs stonith create / crm configure primitive … stonith:…) and set stonith-enabled=true before production"
    ));
    let properties = vec![
        ("stonith-enabled".to_string(), "false".to_string()),
        ("cluster-name".to_string(), h.cluster.value.clone()),
    ];

    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Plan {
        cluster: h.cluster.value.clone(),
        nodes,
        links,
        token_ms,
        groups,
        clones,
        locations,
        properties,
        rsc_defaults,
        op_defaults,
        rows: Vec::new(),
        notes,
        warnings,
    })
}

enum Why {
    SendArpNic,
    Other(String),
}

/// One haresources resource as a Pacemaker primitive (its id before it
/// is made unique).
fn primitive(
    r: &haresources::Resource,
    inputs: &Inputs<'_>,
    ip_extra: &[(String, String)],
) -> Result<Primitive, Why> {
    let ocf = |provider: &str, agent: &str, id: String, params: Vec<(String, String)>| Primitive {
        id,
        class: "ocf",
        provider: Some(provider.to_string()),
        agent: agent.to_string(),
        params,
        ops: Vec::new(),
    };
    let kv = |k: &str, v: String| (k.to_string(), v);
    let base = match r.args.first() {
        Some(a) => xml_id(&format!("{}_{a}", r.script)),
        None => xml_id(&r.script),
    };
    Ok(match &r.kind {
        ResourceKind::IpAlias(a) => {
            let id = xml_id(&format!("ip_{}", a.ip));
            if a.ip.is_ipv6() {
                let mut params = vec![kv("ipv6addr", a.ip.to_string())];
                if let Some(p) = a.prefix {
                    params.push(kv("cidr_netmask", p.to_string()));
                }
                if let Some(n) = &a.nic {
                    params.push(kv("nic", n.clone()));
                }
                ocf("heartbeat", "IPv6addr", id, params)
            } else {
                let mut params = vec![kv("ip", a.ip.to_string())];
                if let Some(p) = a.prefix {
                    params.push(kv("cidr_netmask", p.to_string()));
                }
                if let Some(n) = &a.nic {
                    params.push(kv("nic", n.clone()));
                }
                if let Some(b) = a.broadcast {
                    params.push(kv("broadcast", b.to_string()));
                }
                if let Some(l) = &a.label {
                    params.push(kv("iflabel", l.clone()));
                }
                params.extend(ip_extra.iter().cloned());
                ocf("heartbeat", "IPaddr2", id, params)
            }
        }
        ResourceKind::SendArp { ip, nic } => {
            let nic = nic.clone().ok_or(Why::SendArpNic)?;
            let id = xml_id(&format!("arp_{ip}"));
            ocf(
                "heartbeat",
                "SendArp",
                id,
                vec![kv("ip", ip.to_string()), kv("nic", nic)],
            )
        }
        ResourceKind::MacTakeover { device, mac } => {
            let mac = mac
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(":");
            ocf(
                "tandem",
                "MacTakeover",
                xml_id(&format!("mac_{device}")),
                vec![kv("nic", device.clone()), kv("mac", mac)],
            )
        }
        ResourceKind::DynDns(d) => {
            let mut params = vec![
                kv("hostname", d.name.trim_end_matches('.').to_string()),
                kv("ip", d.ip.to_string()),
                kv("server", d.server.ip().to_string()),
                kv("serverport", d.server.port().to_string()),
                kv("ttl", d.ttl.to_string()),
            ];
            let key = inputs.config_dir.join(&d.key_file);
            params.push(kv("keyfile", key.display().to_string()));
            ocf(
                "heartbeat",
                "dnsupdate",
                xml_id(&format!("dns_{}", d.name)),
                params,
            )
        }
        ResourceKind::Director { .. } => {
            let file = r
                .kind
                .director_file(&inputs.config_dir)
                .unwrap_or_else(|| inputs.config_dir.join("ldirectord.cf"));
            ocf(
                "heartbeat",
                "ldirectord",
                base,
                vec![kv("configfile", file.display().to_string())],
            )
        }
        ResourceKind::SyncDaemonSwap(s) => {
            let mut params = vec![
                kv(
                    "role",
                    match s.role {
                        haresources::SyncRole::Master => "master",
                        haresources::SyncRole::Backup => "backup",
                    }
                    .to_string(),
                ),
                kv("interface", s.interface.clone()),
                kv("syncid", s.syncid.to_string()),
            ];
            if let Some(g) = s.group {
                params.push(kv("group", g.to_string()));
            }
            ocf("tandem", "LVSSyncDaemonSwap", base, params)
        }
        ResourceKind::Ocf {
            provider,
            agent,
            params,
        } => ocf(provider, agent, base, params.clone()),
        ResourceKind::OcfInstance { agent, instance } => {
            let file = haresources::ocf_instance_file(&inputs.search, agent, instance);
            let params = haresources::ocf_instance_params(&file).map_err(Why::Other)?;
            ocf(
                "heartbeat",
                agent,
                xml_id(&format!("{agent}_{instance}")),
                params,
            )
        }
        ResourceKind::Script => match haresources::resolve(r, &inputs.search) {
            Resolution::InitD { .. } if r.args.is_empty() => Primitive {
                id: base,
                class: "lsb",
                provider: None,
                agent: r.script.clone(),
                params: Vec::new(),
                ops: Vec::new(),
            },
            Resolution::ResourceD { path } | Resolution::InitD { path } => {
                let mut params = vec![kv("script", path.display().to_string())];
                if !r.args.is_empty() {
                    params.push(kv("args", r.args.join(" ")));
                }
                ocf("tandem", "v1script", base, params)
            }
            Resolution::V1Agent { params, .. } => ocf(
                "heartbeat",
                &r.script,
                base,
                params
                    .iter()
                    .zip(&r.args)
                    .map(|(k, v)| kv(k, v.clone()))
                    .collect(),
            ),
            Resolution::Ocf { .. } | Resolution::Builtin => {
                return Err(Why::Other("not a script".into()))
            }
            Resolution::NotFound { searched } => {
                let paths: Vec<String> = searched.iter().map(|p| p.display().to_string()).collect();
                return Err(Why::Other(format!(
                    "no program on this host (searched {})",
                    paths.join(", ")
                )));
            }
        },
    })
}
