//! What ha.cf says, typed: the settings the directives fill in, and
//! Heartbeat's limits and defaults.

use crate::config::value::Setting;
use crate::time::Time;
use serde::Serialize;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Heartbeat's limits (MAXNODE, MAXMEDIA); tandem keeps them.
pub const NODES_MAX: usize = 100;
pub const LINKS_MAX: usize = 64;
/// Heartbeat's default UDP port (`ha-cluster` in /etc/services).
pub const UDPPORT_DEFAULT: u16 = 694;
pub const BAUD_DEFAULT: u32 = 19200;
pub const BAUDS: [u32; 7] = [9600, 19200, 38400, 57600, 115200, 230400, 460800];

/// Which frames tandem puts on the wire (tandem's own `wire` directive;
/// Heartbeat's `msgfmt` is about its text encoding and means something else).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WireMode {
    /// tandem's compact authenticated frames only.
    Native,
    /// Heartbeat 3.0.6's messages only (a pair with a Heartbeat node).
    Heartbeat,
    /// Native, answering a node in Heartbeat's format once it speaks it.
    Auto,
}

impl WireMode {
    pub fn as_str(self) -> &'static str {
        match self {
            WireMode::Native => "native",
            WireMode::Heartbeat => "heartbeat",
            WireMode::Auto => "auto",
        }
    }
}

/// Heartbeat's `auto_failback`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AutoFailback {
    /// Groups move back to their preferred node when it returns.
    On,
    /// Groups stay where they are until an operator or a failure moves them.
    Off,
    /// Heartbeat's pre-nice_failback protocol (ip-request); deprecated.
    Legacy,
}

impl AutoFailback {
    pub fn as_str(self) -> &'static str {
        match self {
            AutoFailback::On => "on",
            AutoFailback::Off => "off",
            AutoFailback::Legacy => "legacy",
        }
    }
}

/// What a stop that still fails after Heartbeat's ten tries leads to
/// (`on_stop_failure`), once the resource's status says it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StopFailure {
    /// Reboot this node at once (Heartbeat): the other takes over when it
    /// goes silent.
    Reboot,
    /// Ask the other node to fence this one, then take over.
    Fence,
    /// Stay up; the group runs nowhere until `tandem cleanup`.
    Block,
}

impl StopFailure {
    pub fn as_str(self) -> &'static str {
        match self {
            StopFailure::Reboot => "reboot",
            StopFailure::Fence => "fence",
            StopFailure::Block => "block",
        }
    }
}

/// How the generation number is chosen at each start (`hbgenmethod`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GenerationMethod {
    /// A counter in a file, incremented and fsynced at every start.
    File,
    /// The start time (diskless nodes); breaks if the clock goes back.
    Time,
}

/// One medium instance: a link that carries keepalives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "medium", rename_all = "lowercase")]
pub enum Medium {
    /// UDP/IPv4 broadcast on `device`, port `udpport`.
    Bcast { device: String },
    /// UDP/IPv4 multicast.
    Mcast {
        device: String,
        group: Ipv4Addr,
        port: u16,
        ttl: u8,
        #[serde(rename = "loop")]
        loopback: bool,
    },
    /// UDP/IPv6 multicast.
    Mcast6 {
        device: String,
        group: Ipv6Addr,
        port: u16,
        hops: u8,
        #[serde(rename = "loop")]
        loopback: bool,
    },
    /// UDP/IPv4 unicast to `peer`, port `port` (tandem's `PEER:PORT`,
    /// for several nodes on one host) or else `udpport`.
    Ucast {
        device: String,
        peer: Ipv4Addr,
        #[serde(skip_serializing_if = "Option::is_none")]
        port: Option<u16>,
    },
    /// UDP/IPv6 unicast to `peer`, port `udpport`.
    Ucast6 {
        device: String,
        peer: Ipv6Addr,
        scope: Option<String>,
    },
    /// A raw serial line (null-modem cable) at `baud`.
    Serial { device: String },
    /// A serial line carrying PPP (tandem supervises pppd on it); UDP
    /// keepalives go over the point-to-point interface. `ends` names the
    /// two nodes and their addresses on the link.
    Ppp {
        device: String,
        ends: [(String, Ipv4Addr); 2],
    },
}

impl Medium {
    /// The directive that declares this medium.
    pub fn directive(&self) -> &'static str {
        match self {
            Medium::Bcast { .. } => "bcast",
            Medium::Mcast { .. } => "mcast",
            Medium::Mcast6 { .. } => "mcast6",
            Medium::Ucast { .. } => "ucast",
            Medium::Ucast6 { .. } => "ucast6",
            Medium::Serial { .. } => "serial",
            Medium::Ppp { .. } => "ppp",
        }
    }

    /// Whether this medium uses the global `udpport`.
    pub fn uses_udpport(&self) -> bool {
        matches!(
            self,
            Medium::Bcast { .. }
                | Medium::Ucast { .. }
                | Medium::Ucast6 { .. }
                | Medium::Ppp { .. }
        )
    }

    /// Whether this medium uses the global `baud`.
    pub fn uses_baud(&self) -> bool {
        matches!(self, Medium::Serial { .. } | Medium::Ppp { .. })
    }

    /// Whether `node` is at one end of this link. Broadcast, multicast,
    /// unicast and serial lines reach every node; a ppp link only its ends.
    pub fn reaches(&self, node: &str) -> bool {
        match self {
            Medium::Ppp { ends, .. } => ends.iter().any(|(n, _)| n == node),
            _ => true,
        }
    }
}

impl fmt::Display for Medium {
    /// The ha.cf line that declares this link (also its name in logs).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Medium::Bcast { device } => write!(f, "bcast {device}"),
            Medium::Mcast {
                device,
                group,
                port,
                ttl,
                loopback,
            } => write!(
                f,
                "mcast {device} {group} {port} {ttl} {}",
                u8::from(*loopback)
            ),
            Medium::Mcast6 {
                device,
                group,
                port,
                hops,
                loopback,
            } => write!(
                f,
                "mcast6 {device} {group} {port} {hops} {}",
                u8::from(*loopback)
            ),
            Medium::Ucast {
                device,
                peer,
                port: None,
            } => write!(f, "ucast {device} {peer}"),
            Medium::Ucast {
                device,
                peer,
                port: Some(port),
            } => write!(f, "ucast {device} {peer}:{port}"),
            Medium::Ucast6 {
                device,
                peer,
                scope: None,
            } => write!(f, "ucast6 {device} {peer}"),
            Medium::Ucast6 {
                device,
                peer,
                scope: Some(scope),
            } => write!(f, "ucast6 {device} {peer}%{scope}"),
            Medium::Serial { device } => write!(f, "serial {device}"),
            Medium::Ppp { device, ends } => write!(
                f,
                "ppp {device} {}={} {}={}",
                ends[0].0, ends[0].1, ends[1].0, ends[1].1
            ),
        }
    }
}

/// A ping node: an address (or group of addresses) whose reachability
/// counts as connectivity, as Heartbeat's `ping`, `ping6`, `ping_group`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PingNode {
    /// The pseudo-node's name: the address itself, or the group name.
    pub name: String,
    /// `ping`/`ping6`: one address; `ping_group`: any of these answering.
    pub addresses: Vec<IpAddr>,
    pub group: bool,
}

/// Fencing (STONITH) configuration, run before taking over from a node
/// that may still hold resources.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "form", rename_all = "snake_case")]
pub enum Stonith {
    /// `stonith TYPE CONFIG-FILE`: one device for the whole cluster.
    Device { kind: String, config_file: String },
    /// `stonith_host HOST|* TYPE PARAMS…`: a device usable from `host`.
    Host {
        host: String,
        kind: String,
        params: String,
    },
}

/// `respawn USER /path [args]` or `failfast …`: a client process that
/// tandem keeps running (failfast: reboot the node if it dies).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Respawn {
    pub user: String,
    /// The program's full path and its arguments, split on white space
    /// (as Heartbeat splits them; no shell).
    pub command: String,
    pub failfast: bool,
}

impl Respawn {
    pub fn directive(&self) -> &'static str {
        if self.failfast {
            "failfast"
        } else {
            "respawn"
        }
    }

    /// The program's path.
    pub fn program(&self) -> &str {
        self.command.split_whitespace().next().unwrap_or_default()
    }

    /// Heartbeat's ipfail, whose job tandem's ping nodes do.
    pub fn is_ipfail(&self) -> bool {
        self.program().rsplit('/').next() == Some("ipfail")
    }
}

/// Where tandem's own log lines go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Logging {
    /// syslog facility (`logfacility`); `None` for none.
    pub facility: Setting<Option<String>>,
    pub logfile: Option<Setting<String>>,
    pub debugfile: Option<Setting<String>>,
    pub debug: Setting<u8>,
    /// Log frames that fail to parse or authenticate (`log_badpack`).
    pub log_badpack: Setting<bool>,
}

/// Everything ha.cf says, typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HaCf {
    pub cluster: Setting<String>,
    pub nodes: Vec<Setting<String>>,
    pub keepalive: Setting<Time>,
    pub deadtime: Setting<Time>,
    pub warntime: Setting<Time>,
    pub initdead: Setting<Time>,
    pub deadping: Setting<Time>,
    pub udpport: Setting<u16>,
    pub baud: Setting<u32>,
    pub links: Vec<Setting<Medium>>,
    pub ping_nodes: Vec<Setting<PingNode>>,
    pub wire: Setting<WireMode>,
    pub auto_failback: Setting<AutoFailback>,
    pub stonith: Vec<Setting<Stonith>>,
    pub watchdog: Option<Setting<String>>,
    pub respawn: Vec<Setting<Respawn>>,
    pub env: Vec<Setting<(String, String)>>,
    pub logging: Logging,
    pub realtime: Setting<bool>,
    pub rtprio: Option<Setting<u8>>,
    pub generation_method: Setting<GenerationMethod>,
    /// Upper bound of the random delay before asking for a retransmission
    /// (Heartbeat wire compatibility).
    pub max_rexmit_delay: Setting<Time>,
    /// tandem's: how long one resource action (start, stop, status) may
    /// run before it is killed and counted as failed.
    pub resource_timeout: Setting<Time>,
    /// tandem's (keepalived's track_script): how often the resources of
    /// running groups are asked for their status; a failure moves the
    /// group. `None`: never (Heartbeat v1's behaviour).
    pub monitor_interval: Option<Setting<Time>>,
    /// Monitor failures of a group on a node before it moves; below, the
    /// failed resource and those after it restart in place.
    pub migration_threshold: Setting<u32>,
    /// A node's failures of a group expire this long after the last one
    /// (zero: never).
    pub failure_timeout: Setting<Time>,
    pub on_stop_failure: Setting<StopFailure>,
    /// tandem's (keepalived's `notify`): a program told of every state
    /// change, as `PROGRAM EVENT SUBJECT [DETAIL]`.
    pub notify: Option<Setting<String>>,
    /// tandem's (keepalived's `notify_fifo`): a FIFO that gets one line
    /// per state change, in order.
    pub notify_fifo: Option<Setting<String>>,
    /// IPaddr2's `arp_count`: gratuitous ARPs (or IPv6 neighbour
    /// advertisements) sent for an address after it is taken over.
    pub arp_count: Setting<u32>,
    /// IPaddr2's `arp_interval`: the time between them.
    pub arp_interval: Setting<Time>,
    /// Which ARP packet they are.
    pub arp_form: Setting<ArpForm>,
}

/// The ARP packet a gratuitous announcement uses: `arping -U`'s request
/// (RFC 5227, the default), `arping -A`'s reply (for the few stacks that
/// only update a cache from replies), or one of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ArpForm {
    Request,
    Reply,
    Both,
}

impl std::str::FromStr for ArpForm {
    type Err = String;
    fn from_str(v: &str) -> Result<ArpForm, String> {
        match v {
            "request" => Ok(ArpForm::Request),
            "reply" => Ok(ArpForm::Reply),
            "both" => Ok(ArpForm::Both),
            _ => Err(format!(
                "`{v}` is not an ARP form; expected `request`, `reply` or `both`"
            )),
        }
    }
}

impl ArpForm {
    pub fn as_str(self) -> &'static str {
        match self {
            ArpForm::Request => "request",
            ArpForm::Reply => "reply",
            ArpForm::Both => "both",
        }
    }
}
