//! haresources: Heartbeat's v1 resource groups, one logical line each:
//! `preferred-node resource resource ...`.
//!
//! A resource is `script`, `script::arg::arg` (positional arguments, the
//! action goes last), a bare IPv4 address (short for `IPaddr::address`), or
//! tandem's `ocf:provider:type::name=value` for an OCF agent. The first
//! resource of a line is the group's key; Heartbeat names the group by it
//! on the wire, so it is kept exactly as written.

use super::diag::{At, Diagnostics};
use super::lines;
use super::value::{Setting, Source};
use serde::Serialize;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};

/// A resource group: started left to right on one node, stopped right to
/// left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceGroup {
    /// The node that owns the group when it is up (lowercased).
    pub node: Setting<String>,
    pub resources: Vec<Resource>,
}

impl ResourceGroup {
    /// The group key: its first resource as written.
    pub fn key(&self) -> &str {
        self.resources
            .first()
            .map(|r| r.token.as_str())
            .unwrap_or("")
    }
}

/// One resource of a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resource {
    /// As written in haresources (`192.0.2.10`, `IPaddr2::192.0.2.10/24/eth0`).
    pub token: String,
    /// The script (or agent) that manages it: `IPaddr` for a bare address.
    pub script: String,
    /// Positional arguments, before the action.
    pub args: Vec<String>,
    pub kind: ResourceKind,
}

/// What tandem knows about a resource beyond its script name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ResourceKind {
    /// An address alias (IPaddr, IPaddr2, IPv6addr, bare IPv4).
    IpAlias(IpAlias),
    /// Gratuitous ARP only, for an address configured elsewhere.
    SendArp { ip: Ipv4Addr, nic: Option<String> },
    /// An OCF resource agent with its parameters (`OCF_RESKEY_name=value`).
    Ocf {
        provider: String,
        agent: String,
        params: Vec<(String, String)>,
    },
    /// `OCF::TYPE::INSTANCE` (Heartbeat's): the `heartbeat` provider's
    /// agent TYPE, its parameters in `conf/OCF/TYPE/INSTANCE` beside
    /// haresources, one `name=value` a line.
    OcfInstance { agent: String, instance: String },
    /// MacTakeover::NIC::MAC: the shared MAC on this node's interface.
    MacTakeover { device: String, mac: [u8; 6] },
    /// `DynDNS::NAME::IP::SERVER[:PORT]::KEYFILE[::TTL]`: a signed DNS UPDATE.
    DynDns(DynDns),
    /// ldirectord::FILE or LVSDirector::FILE: `tandem director` on FILE
    /// (relative to the configuration directory; `ldirectord.cf` if none).
    Director { file: Option<String> },
    /// `LVSSyncDaemonSwap::ROLE[::IFACE[::SYNCID[::GROUP]]]`: the kernel's
    /// connection-sync daemon in ROLE while the group runs here.
    SyncDaemonSwap(SyncSwap),
    /// Any other resource.d or init.d script.
    Script,
}

impl ResourceKind {
    /// Carried out by tandem itself, never a script found on disk.
    pub fn is_builtin(&self) -> bool {
        !matches!(
            self,
            ResourceKind::Script | ResourceKind::Ocf { .. } | ResourceKind::OcfInstance { .. }
        )
    }

    /// Run by the pair's daemon as a child of this binary (`tandem action
    /// resource`), since it waits on a server or another process.
    pub fn runs_as_child(&self) -> bool {
        matches!(
            self,
            ResourceKind::DynDns(_)
                | ResourceKind::Director { .. }
                | ResourceKind::SyncDaemonSwap(_)
        )
    }

    /// The director's configuration file, resolved as ldirectord does: a
    /// relative name is in the configuration directory `dir`.
    pub fn director_file(&self, dir: &Path) -> Option<PathBuf> {
        let ResourceKind::Director { file } = self else {
            return None;
        };
        let p = Path::new(file.as_deref().unwrap_or("ldirectord.cf"));
        Some(if p.is_absolute() {
            p.to_path_buf()
        } else {
            dir.join(p)
        })
    }
}

/// A DynDNS resource's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DynDns {
    pub name: String,
    pub ip: IpAddr,
    pub server: SocketAddr,
    pub key_file: String,
    pub ttl: u32,
}

/// The kernel's connection-sync daemon role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncRole {
    Master,
    Backup,
}

/// An LVSSyncDaemonSwap resource's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncSwap {
    pub role: SyncRole,
    pub interface: String,
    pub syncid: u32,
    /// The multicast group (`None`: the kernel's default).
    pub group: Option<IpAddr>,
}

/// An IP address alias as IPaddr/IPaddr2's shorthand writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IpAlias {
    pub ip: IpAddr,
    pub prefix: Option<u8>,
    pub nic: Option<String>,
    pub label: Option<String>,
    pub broadcast: Option<Ipv4Addr>,
}

/// Parses haresources; `nodes` are the nodes ha.cf lists.
/// Node names are checked against `nodes` when given (ha.cf parsed).
pub fn parse(
    file: &str,
    bytes: &[u8],
    nodes: Option<&[String]>,
) -> (Vec<ResourceGroup>, Diagnostics) {
    let mut diags = Diagnostics::new();
    let physical = lines::split(file, bytes, &mut diags);
    let mut groups: Vec<ResourceGroup> = Vec::new();
    let mut logical = String::new();
    let mut first_line = 0;
    for line in &physical {
        let text = lines::strip_comment(line.text);
        if logical.is_empty() {
            first_line = line.number;
        }
        let (text, continues) = match text.trim_end().strip_suffix('\\') {
            Some(t) => (t, true),
            None => (text, false),
        };
        logical.push_str(text);
        logical.push(' ');
        if continues {
            continue;
        }
        if let Some(group) = parse_group(file, first_line, &logical, nodes, &mut diags) {
            if let Some(other) = groups.iter().find(|g| g.key() == group.key()) {
                let msg = format!(
                    "group key `{}` is already the first resource of the group at {}; each group needs its own first resource",
                    group.key(),
                    other.node.source
                );
                diags.error(&At::line(file, first_line, group.key()), msg);
            } else {
                groups.push(group);
            }
        }
        logical.clear();
    }
    if !logical.trim().is_empty() {
        diags.error(
            &At::line(file, first_line, "\\"),
            "the file ends inside a continued line; remove the last `\\`",
        );
    }
    (groups, diags)
}

fn parse_group(
    file: &str,
    line: usize,
    text: &str,
    nodes: Option<&[String]>,
    diags: &mut Diagnostics,
) -> Option<ResourceGroup> {
    let mut tokens = text.split_whitespace();
    let node = tokens.next()?.to_ascii_lowercase();
    if let Some(nodes) = nodes.filter(|nodes| !nodes.contains(&node)) {
        let msg = format!(
            "`{node}` is not a node listed in ha.cf (nodes: {}); the first word of a line is the preferred node",
            nodes.join(", ")
        );
        diags.error(&At::line(file, line, &node), msg);
        return None;
    }
    let mut resources = Vec::new();
    let mut bad = 0;
    for token in tokens {
        match parse_resource(token) {
            Ok(r) => resources.push(r),
            Err(e) => {
                diags.error(&At::line(file, line, token), e);
                bad += 1;
            }
        }
    }
    if resources.is_empty() && bad == 0 {
        diags.error(
            &At::line(file, line, &node),
            "no resources; expected `NODE RESOURCE [RESOURCE...]`",
        );
        return None;
    }
    // A group with a bad resource is kept without it, so that the checks
    // that follow (scripts present, directors' files) report in the same
    // pass; the error above already refuses the configuration.
    (!resources.is_empty()).then(|| ResourceGroup {
        node: Setting {
            value: node,
            source: Source::File {
                file: file.to_string(),
                line,
            },
        },
        resources,
    })
}

/// The characters a script name may have: it becomes a file name under
/// resource.d or init.d, so no `/` and no leading dot.
fn is_script_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'+' | b'@'))
}

fn looks_like_ipv4(token: &str) -> bool {
    // ResourceManager's `isip` glob, `[0-9]*.[0-9]*.[0-9]*.[0-9]*`: an
    // address, possibly followed by IPaddr's `/prefix/nic/broadcast`.
    let address = token.split('/').next().unwrap_or("");
    let parts: Vec<&str> = address.split('.').collect();
    parts.len() == 4 && parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

/// Parses one resource token.
pub fn parse_resource(token: &str) -> Result<Resource, String> {
    if looks_like_ipv4(token) {
        let args = vec![token.to_string()];
        let alias = parse_ip_alias("IPaddr", &args, false)
            .map_err(|e| format!("{e} (a bare address is short for IPaddr::ADDRESS)"))?;
        return Ok(Resource {
            token: token.to_string(),
            script: "IPaddr".to_string(),
            args,
            kind: ResourceKind::IpAlias(alias),
        });
    }
    if let Some(spec) = token.strip_prefix("ocf:") {
        return parse_ocf(token, spec);
    }
    let mut parts = token.split("::");
    let script = parts.next().unwrap_or("");
    let args: Vec<String> = if script == "IPv6addr" && token.len() > script.len() {
        // An IPv6 address has `::` of its own: Heartbeat's splitting would
        // cut it apart, so IPv6addr takes the rest of the token whole.
        vec![token[script.len() + 2..].to_string()]
    } else {
        parts.map(str::to_string).collect()
    };
    if !is_script_name(script) {
        return Err(format!(
            "`{script}` is not a script name; expected `SCRIPT[::ARG...]`, a bare IPv4 address or `ocf:PROVIDER:TYPE[::NAME=VALUE...]`"
        ));
    }
    if args.iter().any(String::is_empty) {
        return Err("empty argument (`::::`); expected `SCRIPT::ARG[::ARG...]`".to_string());
    }
    let kind = match script {
        "IPaddr" | "IPaddr2" => ResourceKind::IpAlias(parse_ip_alias(script, &args, false)?),
        "IPv6addr" => ResourceKind::IpAlias(parse_ip_alias(script, &args, true)?),
        "SendArp" => parse_send_arp(&args)?,
        "MacTakeover" => parse_mac_takeover(&args)?,
        "DynDNS" => ResourceKind::DynDns(parse_dyndns(&args)?),
        "ldirectord" | "LVSDirector" => match args.as_slice() {
            [] => ResourceKind::Director { file: None },
            [file] => ResourceKind::Director {
                file: Some(file.clone()),
            },
            _ => {
                return Err(format!(
                    "{script} takes one argument, the configuration file"
                ))
            }
        },
        "LVSSyncDaemonSwap" => ResourceKind::SyncDaemonSwap(parse_sync_swap(&args)?),
        "OCF" => match args.as_slice() {
            [agent, instance] if is_script_name(agent) && is_script_name(instance) => {
                ResourceKind::OcfInstance {
                    agent: agent.clone(),
                    instance: instance.clone(),
                }
            }
            _ => return Err(
                "expected `OCF::TYPE::INSTANCE` (the agent's parameters in conf/OCF/TYPE/INSTANCE)"
                    .to_string(),
            ),
        },
        _ => ResourceKind::Script,
    };
    Ok(Resource {
        token: token.to_string(),
        script: script.to_string(),
        args,
        kind,
    })
}

fn parse_ocf(token: &str, spec: &str) -> Result<Resource, String> {
    const FORM: &str = "ocf:PROVIDER:TYPE[::NAME=VALUE...]";
    let mut parts = spec.split("::");
    let agent_spec = parts.next().unwrap_or("");
    let (provider, agent) = agent_spec
        .split_once(':')
        .filter(|(p, a)| is_script_name(p) && is_script_name(a))
        .ok_or_else(|| format!("`{token}` does not name an OCF agent; expected `{FORM}`"))?;
    let mut params = Vec::new();
    let mut args = Vec::new();
    for param in parts {
        let (name, value) = param
            .split_once('=')
            .filter(|(n, _)| {
                !n.is_empty()
                    && !n.starts_with(|c: char| c.is_ascii_digit())
                    && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            })
            .ok_or_else(|| format!("`{param}` is not NAME=VALUE; expected `{FORM}`"))?;
        params.push((name.to_string(), value.to_string()));
        args.push(param.to_string());
    }
    Ok(Resource {
        token: token.to_string(),
        script: format!("ocf:{provider}:{agent}"),
        args,
        kind: ResourceKind::Ocf {
            provider: provider.to_string(),
            agent: agent.to_string(),
            params,
        },
    })
}

fn parse_ip_alias(script: &str, args: &[String], v6: bool) -> Result<IpAlias, String> {
    let form = match script {
        "IPaddr" => "IPaddr::IP[/PREFIX[/NIC][/BROADCAST]]",
        "IPaddr2" => "IPaddr2::IP[/PREFIX[/NIC[:LABEL][/BROADCAST]]]",
        _ => "IPv6addr::IPV6[/PREFIX[/NIC]]",
    };
    let [spec] = args else {
        return Err(format!("expected one address argument, `{form}`"));
    };
    let parts: Vec<&str> = spec.split('/').collect();
    if parts.len() > if v6 { 3 } else { 4 } {
        return Err(format!(
            "`{spec}` has too many `/` parts; expected `{form}`"
        ));
    }
    let ip: IpAddr = if v6 {
        IpAddr::V6(
            parts[0]
                .parse::<Ipv6Addr>()
                .map_err(|_| format!("`{}` is not an IPv6 address; expected `{form}`", parts[0]))?,
        )
    } else {
        IpAddr::V4(
            parts[0]
                .parse::<Ipv4Addr>()
                .map_err(|_| format!("`{}` is not an IPv4 address; expected `{form}`", parts[0]))?,
        )
    };
    let prefix = match parts.get(1) {
        None => None,
        Some(p) => Some(parse_prefix(p, v6).map_err(|e| format!("{e}; expected `{form}`"))?),
    };
    let mut alias = IpAlias {
        ip,
        prefix,
        nic: None,
        label: None,
        broadcast: None,
    };
    for part in parts.iter().skip(2) {
        // A part that starts with a digit is the broadcast address
        // (ResourceManager's rule); anything else is the interface.
        if !v6 && part.starts_with(|c: char| c.is_ascii_digit()) {
            if alias.broadcast.is_some() {
                return Err(format!(
                    "`{spec}` has two broadcast addresses; expected `{form}`"
                ));
            }
            alias.broadcast = Some(part.parse::<Ipv4Addr>().map_err(|_| {
                format!("`{part}` is not an IPv4 broadcast address; expected `{form}`")
            })?);
        } else if alias.nic.is_none() && alias.broadcast.is_none() {
            let (nic, label) = match part.split_once(':') {
                Some((n, l)) => (n, Some(l)),
                None => (*part, None),
            };
            // The kernel's label is `nic:label` within IFNAMSIZ (15 chars).
            let valid_nic = !nic.is_empty()
                && nic.len() < 16
                && nic.bytes().all(|b| b.is_ascii_graphic() && b != b'/');
            let valid_label = label.is_none_or(|l| {
                !l.is_empty()
                    && part.len() < 16
                    && l.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            });
            if !valid_nic || !valid_label || (v6 && label.is_some()) {
                return Err(format!(
                    "`{part}` is not an interface name (with at most 15 characters for NIC:LABEL); expected `{form}`"
                ));
            }
            alias.nic = Some(nic.to_string());
            alias.label = label.map(str::to_string);
        } else {
            return Err(format!(
                "`{part}` is out of place in `{spec}`; expected `{form}`"
            ));
        }
    }
    Ok(alias)
}

/// A prefix length, or (IPv4) a dotted netmask as IPaddr also takes.
fn parse_prefix(text: &str, v6: bool) -> Result<u8, String> {
    let max = if v6 { 128 } else { 32 };
    if let Ok(n) = text.parse::<u8>() {
        if n <= max && !text.starts_with('+') {
            return Ok(n);
        }
    }
    if !v6 {
        if let Ok(mask) = text.parse::<Ipv4Addr>() {
            let bits = u32::from(mask);
            if bits.leading_ones() + bits.trailing_zeros() == 32 {
                return Ok(bits.leading_ones() as u8);
            }
            return Err(format!("`{text}` is not a contiguous netmask"));
        }
    }
    Err(format!("`{text}` is not a prefix length from 0 to {max}"))
}

fn parse_send_arp(args: &[String]) -> Result<ResourceKind, String> {
    const FORM: &str = "SendArp::IP/NIC";
    let [spec] = args else {
        return Err(format!("expected one argument, `{FORM}`"));
    };
    let (ip, nic) = match spec.split_once('/') {
        Some((ip, nic)) => (ip, Some(nic)),
        None => (spec.as_str(), None),
    };
    let ip = ip
        .parse::<Ipv4Addr>()
        .map_err(|_| format!("`{ip}` is not an IPv4 address; expected `{FORM}`"))?;
    if let Some(nic) = nic {
        if nic.is_empty() || nic.len() > 15 || nic.contains('/') {
            return Err(format!(
                "`{nic}` is not an interface name; expected `{FORM}`"
            ));
        }
    }
    Ok(ResourceKind::SendArp {
        ip,
        nic: nic.map(str::to_string),
    })
}

fn parse_mac_takeover(args: &[String]) -> Result<ResourceKind, String> {
    const FORM: &str = "MacTakeover::NIC::MAC (e.g. MacTakeover::eth0::02:00:5e:00:01:01)";
    let [device, mac] = args else {
        return Err(format!("expected {FORM}"));
    };
    let mac = parse_mac(mac)
        .filter(|m| m[0] & 1 == 0 && *m != [0; 6])
        .ok_or_else(|| format!("`{mac}` is not a unicast Ethernet address; expected {FORM}"))?;
    Ok(ResourceKind::MacTakeover {
        device: device.clone(),
        mac,
    })
}

/// `02:00:5e:00:01:01`: six two-digit hex octets.
pub fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let mut out = [0u8; 6];
    let mut parts = text.split(':');
    for b in &mut out {
        let p = parts.next()?;
        if p.len() != 2 {
            return None;
        }
        *b = u8::from_str_radix(p, 16).ok()?;
    }
    parts.next().is_none().then_some(out)
}

fn parse_dyndns(args: &[String]) -> Result<DynDns, String> {
    const FORM: &str = "DynDNS::NAME::IP::SERVER[:PORT]::KEYFILE[::TTL]";
    let [name, ip, server, key_file, rest @ ..] = args else {
        return Err(format!("expected {FORM}"));
    };
    if rest.len() > 1 {
        return Err(format!("expected {FORM}"));
    }
    let usage = |what: &str| format!("{what}; expected {FORM}");
    let ip: IpAddr = ip
        .parse()
        .map_err(|_| usage(&format!("`{ip}` is not an IP address")))?;
    let server = server
        .parse::<SocketAddr>()
        .or_else(|_| server.parse::<IpAddr>().map(|a| SocketAddr::new(a, 53)))
        .map_err(|_| usage(&format!("`{server}` is not ADDRESS[:PORT]")))?;
    if !key_file.starts_with('/') {
        return Err(usage(&format!("`{key_file}` is not an absolute path")));
    }
    let ttl = match rest.first() {
        Some(t) => t
            .parse()
            .map_err(|_| usage(&format!("`{t}` is not a TTL in seconds")))?,
        None => 60,
    };
    Ok(DynDns {
        name: name.clone(),
        ip,
        server,
        key_file: key_file.clone(),
        ttl,
    })
}

/// `master|backup [IFACE [SYNCID [GROUP]]]`.
fn parse_sync_swap(args: &[String]) -> Result<SyncSwap, String> {
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
    Ok(SyncSwap {
        role,
        interface,
        syncid,
        group,
    })
}

/// Where the program that manages a resource was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "found", rename_all = "snake_case")]
pub enum Resolution {
    /// Carried out in tandem's own process.
    Builtin,
    /// A Heartbeat v1 script in resource.d.
    ResourceD { path: PathBuf },
    /// An LSB init script.
    InitD { path: PathBuf },
    /// An OCF resource agent.
    Ocf { path: PathBuf },
    /// A Heartbeat v1 name whose resource.d wrapper is not installed,
    /// carried out by the OCF agent that wrapper called, the positional
    /// arguments becoming the parameters `params` names in order.
    V1Agent {
        path: PathBuf,
        params: &'static [&'static str],
    },
    /// Not on this host; these paths were searched.
    NotFound { searched: Vec<PathBuf> },
}

/// Where scripts are searched, in order: resource.d, then init.d; OCF
/// agents under the OCF root.
#[derive(Debug, Clone)]
pub struct SearchPaths {
    pub resource_d: PathBuf,
    pub init_d: PathBuf,
    pub ocf_root: PathBuf,
}

impl SearchPaths {
    /// The standard places, with resource.d beside the configuration.
    pub fn standard(resource_d: PathBuf) -> Self {
        SearchPaths {
            resource_d,
            init_d: PathBuf::from("/etc/init.d"),
            ocf_root: PathBuf::from("/usr/lib/ocf"),
        }
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Where `OCF::TYPE::INSTANCE` finds its parameters: `conf/OCF/TYPE/INSTANCE`
/// in the configuration directory (resource.d's parent).
pub fn ocf_instance_file(search: &SearchPaths, agent: &str, instance: &str) -> PathBuf {
    search
        .resource_d
        .parent()
        .unwrap_or(Path::new("/etc/ha.d"))
        .join("conf/OCF")
        .join(agent)
        .join(instance)
}

/// Reads an `OCF::TYPE::INSTANCE` parameter file: `name=value` lines
/// (blank lines and `#` comments skipped; a value may be in double
/// quotes). An error names the file and line.
pub fn ocf_instance_params(path: &Path) -> Result<Vec<(String, String)>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut params = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, value) = line
            .split_once('=')
            .filter(|(n, _)| {
                !n.is_empty()
                    && !n.starts_with(|c: char| c.is_ascii_digit())
                    && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            })
            .ok_or_else(|| format!("{}:{}: `{line}` is not NAME=VALUE", path.display(), n + 1))?;
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        params.push((name.to_string(), value.to_string()));
    }
    Ok(params)
}

/// Finds the program for `resource`, as Heartbeat's ResourceManager does:
/// resource.d first, then init.d (built-ins are never looked up).
pub fn resolve(resource: &Resource, search: &SearchPaths) -> Resolution {
    if let ResourceKind::OcfInstance { agent, instance } = &resource.kind {
        let path = search.ocf_root.join("resource.d/heartbeat").join(agent);
        let file = ocf_instance_file(search, agent, instance);
        return match (is_executable(&path), file.is_file()) {
            (true, true) => Resolution::Ocf { path },
            (false, _) => Resolution::NotFound {
                searched: vec![path],
            },
            (true, false) => Resolution::NotFound {
                searched: vec![file],
            },
        };
    }
    if let ResourceKind::Ocf {
        provider, agent, ..
    } = &resource.kind
    {
        let path = search
            .ocf_root
            .join("resource.d")
            .join(provider)
            .join(agent);
        return if is_executable(&path) {
            Resolution::Ocf { path }
        } else {
            Resolution::NotFound {
                searched: vec![path],
            }
        };
    }
    if resource.kind.is_builtin() {
        return Resolution::Builtin;
    }
    let in_resource_d = search.resource_d.join(&resource.script);
    if is_executable(&in_resource_d) {
        return Resolution::ResourceD {
            path: in_resource_d,
        };
    }
    let in_init_d = search.init_d.join(&resource.script);
    if is_executable(&in_init_d) {
        return Resolution::InitD { path: in_init_d };
    }
    let mut searched = vec![in_resource_d, in_init_d];
    if let Some((_, params)) = V1_AGENTS.iter().find(|(n, _)| *n == resource.script) {
        let path = search
            .ocf_root
            .join("resource.d/heartbeat")
            .join(&resource.script);
        if is_executable(&path) {
            return Resolution::V1Agent { path, params };
        }
        searched.push(path);
    }
    Resolution::NotFound { searched }
}

/// Heartbeat 3's resource.d wrappers over OCF agents (the `heartbeat`
/// provider, Debian package resource-agents): each passed its positional
/// arguments to the agent as these parameters. tandem does the same when
/// the wrapper itself is not installed, so `Filesystem::/dev/drbd0::/srv::ext4`
/// keeps working after Heartbeat is removed.
pub const V1_AGENTS: &[(&str, &[&str])] = &[
    ("Filesystem", &["device", "directory", "fstype", "options"]),
    ("Delay", &["startdelay", "stopdelay"]),
    ("LVM", &["volgrpname"]),
    ("Raid1", &["raidconf", "raiddev"]),
    ("Xinetd", &["service"]),
    ("portblock", &["protocol", "portno", "action"]),
    ("apache", &["configfile"]),
    ("db2", &["instance"]),
    ("WAS", &["config"]),
    ("WinPopup", &["hostfile"]),
    ("AudibleAlarm", &["nodelist"]),
    ("ICP", &["driveid", "device"]),
    ("LinuxSCSI", &["scsi"]),
    ("ServeRAID", &["serveraid", "mergegroup"]),
];

/// Writes groups back as haresources text (one line per group).
pub fn to_text(groups: &[ResourceGroup]) -> String {
    let mut out = String::new();
    for g in groups {
        out.push_str(&g.node.value);
        for r in &g.resources {
            out.push(' ');
            out.push_str(&r.token);
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests;
