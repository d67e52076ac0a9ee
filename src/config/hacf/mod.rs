//! ha.cf: Heartbeat 3.0.6's main configuration file, read as Heartbeat
//! reads it, into typed settings.
//!
//! Every directive Heartbeat knows has a row in [`DIRECTIVES`]: it is either
//! implemented, kept for a part of tandem that acts on it, ignored with a
//! warning that says why, or refused with an error that says what to do.
//! Nothing is dropped silently. This file is that table and the reader of
//! each directive; the typed result is in `settings`, the defaults and the
//! rules that join directives in `finish`, and ha.cf written back in
//! `render`.

mod finish;
mod render;
mod settings;

use super::diag::{At, Diagnostics};
use super::lines;
use super::value::{parse_bool, parse_in, parse_time, Setting, Source, TIME_FORM};
use crate::time::Time;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub use settings::*;

/// What tandem does with a directive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handling {
    /// Read into a typed setting.
    Implemented,
    /// Accepted without effect; the warning says why.
    Ignored(&'static str),
    /// Refused; the error says why and what to do.
    Rejected(&'static str),
}

type Apply = fn(&mut Builder, &Args<'_>);

/// One row of the directive table.
pub struct Directive {
    pub name: &'static str,
    pub handling: Handling,
    apply: Option<Apply>,
}

const fn implemented(name: &'static str, apply: Apply) -> Directive {
    Directive {
        name,
        handling: Handling::Implemented,
        apply: Some(apply),
    }
}

const fn ignored(name: &'static str, why: &'static str) -> Directive {
    Directive {
        name,
        handling: Handling::Ignored(why),
        apply: None,
    }
}

const fn rejected(name: &'static str, why: &'static str) -> Directive {
    Directive {
        name,
        handling: Handling::Rejected(why),
        apply: None,
    }
}

/// Every ha.cf directive of Heartbeat 3.0.6 (config.c `Directives[]`,
/// `WLdirectives[]`, the HBcomm media plugins) and tandem's own.
pub const DIRECTIVES: &[Directive] = &[
    // Membership and timing.
    implemented("node", Builder::node),
    implemented("cluster", Builder::cluster),
    implemented("keepalive", |b, a| b.time(a, Field::Keepalive)),
    implemented("deadtime", |b, a| b.time(a, Field::Deadtime)),
    implemented("warntime", |b, a| b.time(a, Field::Warntime)),
    implemented("initdead", |b, a| b.time(a, Field::Initdead)),
    implemented("deadping", |b, a| b.time(a, Field::Deadping)),
    implemented("hbgenmethod", Builder::hbgenmethod),
    implemented("wire", Builder::wire),
    // Media.
    implemented("udpport", Builder::udpport),
    implemented("baud", Builder::baud),
    implemented("bcast", Builder::bcast),
    implemented("udp", Builder::bcast),
    implemented("mcast", Builder::mcast),
    implemented("mcast6", Builder::mcast6),
    implemented("ucast", Builder::ucast),
    implemented("ucast6", Builder::ucast6),
    implemented("serial", Builder::serial),
    implemented("ppp", Builder::ppp),
    implemented("ping", |b, a| b.ping(a, false)),
    implemented("ping6", |b, a| b.ping(a, true)),
    implemented("ping_group", Builder::ping_group),
    rejected(
        "hbaping",
        "Heartbeat's Fibre Channel HBA ping medium was never supported upstream; use ping nodes on an IP network",
    ),
    rejected("tipc", "the TIPC medium is not supported; use bcast, mcast or ucast"),
    rejected("rds", "the RDS medium is not supported (Heartbeat calls it known broken); use bcast, mcast or ucast"),
    // Resource management and safety.
    implemented("auto_failback", Builder::auto_failback),
    implemented("nice_failback", Builder::nice_failback),
    implemented("stonith", Builder::stonith),
    implemented("stonith_host", Builder::stonith_host),
    implemented("watchdog", Builder::watchdog),
    implemented("respawn", |b, a| b.respawn(a, false)),
    implemented("failfast", |b, a| b.respawn(a, true)),
    implemented("env", Builder::env),
    implemented("max_rexmit_delay", |b, a| b.time(a, Field::MaxRexmitDelay)),
    implemented("resource_timeout", |b, a| b.time(a, Field::ResourceTimeout)),
    implemented("monitor_interval", |b, a| b.time(a, Field::MonitorInterval)),
    implemented("migration_threshold", Builder::migration_threshold),
    implemented("failure_timeout", |b, a| b.time(a, Field::FailureTimeout)),
    implemented("on_stop_failure", Builder::on_stop_failure),
    implemented("notify", |b, a| b.path(a, Field::Notify)),
    implemented("notify_fifo", |b, a| b.path(a, Field::NotifyFifo)),
    implemented("arp_count", Builder::arp_count),
    implemented("arp_interval", |b, a| b.time(a, Field::ArpInterval)),
    implemented("arp_form", Builder::arp_form),
    // Logging and process.
    implemented("logfacility", Builder::logfacility),
    implemented("logfile", |b, a| b.path(a, Field::Logfile)),
    implemented("debugfile", |b, a| b.path(a, Field::Debugfile)),
    implemented("debug", Builder::debug),
    implemented("log_badpack", |b, a| b.boolean(a, Field::LogBadpack)),
    implemented("realtime", |b, a| b.boolean(a, Field::Realtime)),
    implemented("rtprio", Builder::rtprio),
    implemented("crm", Builder::crm),
    implemented("pacemaker", Builder::crm),
    implemented("autojoin", Builder::autojoin),
    rejected(
        "quorum_server",
        "tandem has no quorum daemon (quorumd); for a two-node pair use ping nodes or stonith to break ties",
    ),
    // Heartbeat internals with no counterpart in tandem.
    ignored("hopfudge", "tandem does not forward frames between serial ports, so there is no hop count"),
    ignored("uuidfrom", "tandem identifies nodes by their names"),
    ignored("msgfmt", "Heartbeat's text encoding; tandem chooses its frames with `wire native|heartbeat|auto`"),
    ignored("apiauth", "tandem has no Heartbeat API clients; operators use `tandem` verbs and the control socket"),
    ignored("use_logd", "tandem logs directly (stderr, syslog or files as ha.cf says); ha_logd is not used"),
    ignored("conn_logd_time", "tandem does not use ha_logd"),
    ignored("syslogmsgfmt", "tandem writes one event per line in the same form to every log destination"),
    ignored("compression", "tandem frames are a few dozen bytes; nothing is compressed"),
    ignored("compression_threshold", "tandem frames are a few dozen bytes; nothing is compressed"),
    ignored("traditional_compression", "tandem frames are a few dozen bytes; nothing is compressed"),
    ignored("memreserve", "tandem allocates its tables at start and locks its memory when realtime is on"),
    ignored("coredumps", "core dumps follow the system's settings (ulimit, systemd, kernel.core_pattern)"),
    ignored("coreroot", "core dumps follow the system's settings (ulimit, systemd, kernel.core_pattern)"),
    ignored("normalpoll", "a compile-time option of Heartbeat; tandem always uses the kernel's poll"),
    ignored("use_apphbd", "tandem runs under systemd's watchdog instead of apphbd"),
    ignored("crm_daemon_dir", "a Pacemaker setting; tandem runs haresources mode only"),
    ignored("crmd_spawns_pengine", "a Pacemaker setting; tandem runs haresources mode only"),
    ignored("record_config_changes", "a Pacemaker setting; tandem runs haresources mode only"),
    ignored("record_pengine_inputs", "a Pacemaker setting; tandem runs haresources mode only"),
    ignored("enable_config_writes", "a Pacemaker setting; tandem runs haresources mode only"),
];

pub fn directive(name: &str) -> Option<&'static Directive> {
    DIRECTIVES.iter().find(|d| d.name == name)
}

/// One directive line, split as Heartbeat splits it.
pub struct Args<'a> {
    pub file: &'a str,
    pub line: usize,
    pub directive: &'a str,
    /// Values split on blanks and commas (Heartbeat's option directives).
    pub values: Vec<&'a str>,
    /// Everything after the directive, trimmed (whole-line directives).
    pub rest: &'a str,
}

impl<'a> Args<'a> {
    fn at(&self) -> At<'a> {
        At::line(self.file, self.line, self.directive)
    }

    /// Values split on blanks only (media plugins split this way).
    fn words(&self) -> Vec<&'a str> {
        self.rest.split_whitespace().collect()
    }
}

#[derive(Clone, Copy)]
enum Field {
    Keepalive,
    Deadtime,
    Warntime,
    Initdead,
    Deadping,
    MaxRexmitDelay,
    ResourceTimeout,
    MonitorInterval,
    FailureTimeout,
    ArpInterval,
    Notify,
    NotifyFifo,
    Logfile,
    Debugfile,
    LogBadpack,
    Realtime,
}

/// Accumulates ha.cf into typed settings; `None` means "not in the file".
#[derive(Default)]
pub struct Builder {
    diags: Diagnostics,
    cluster: Option<Setting<String>>,
    nodes: Vec<Setting<String>>,
    keepalive: Option<Setting<Time>>,
    deadtime: Option<Setting<Time>>,
    warntime: Option<Setting<Time>>,
    initdead: Option<Setting<Time>>,
    deadping: Option<Setting<Time>>,
    max_rexmit_delay: Option<Setting<Time>>,
    resource_timeout: Option<Setting<Time>>,
    monitor_interval: Option<Setting<Time>>,
    migration_threshold: Option<Setting<u32>>,
    failure_timeout: Option<Setting<Time>>,
    on_stop_failure: Option<Setting<StopFailure>>,
    notify: Option<Setting<String>>,
    notify_fifo: Option<Setting<String>>,
    arp_count: Option<Setting<u32>>,
    arp_interval: Option<Setting<Time>>,
    arp_form: Option<Setting<ArpForm>>,
    udpport: Option<Setting<u16>>,
    baud: Option<Setting<u32>>,
    links: Vec<Setting<Medium>>,
    ping_nodes: Vec<Setting<PingNode>>,
    wire: Option<Setting<WireMode>>,
    auto_failback: Option<Setting<AutoFailback>>,
    stonith: Vec<Setting<Stonith>>,
    watchdog: Option<Setting<String>>,
    respawn: Vec<Setting<Respawn>>,
    env: Vec<Setting<(String, String)>>,
    facility: Option<Setting<Option<String>>>,
    logfile: Option<Setting<String>>,
    debugfile: Option<Setting<String>>,
    debug: Option<Setting<u8>>,
    log_badpack: Option<Setting<bool>>,
    realtime: Option<Setting<bool>>,
    rtprio: Option<Setting<u8>>,
    generation_method: Option<Setting<GenerationMethod>>,
    /// `ppp` lines, whose node names are checked once all nodes are known.
    ppp_lines: Vec<(usize, Vec<String>)>,
    stonith_host_lines: Vec<(usize, String)>,
    /// A media line was seen, even one with errors (no "no links" then).
    media_seen: bool,
}

/// Parses ha.cf. `file` is the name used in findings.
pub fn parse(file: &str, bytes: &[u8]) -> (Option<HaCf>, Diagnostics) {
    let mut b = Builder::default();
    let lines = lines::split(file, bytes, &mut b.diags);
    for line in &lines {
        // Heartbeat cuts a comment at the first `#` anywhere on the line.
        let text = line.text.split('#').next().unwrap_or("").trim();
        if text.is_empty() {
            continue;
        }
        let (name, rest) = match text.find(char::is_whitespace) {
            Some(i) => (&text[..i], text[i..].trim()),
            None => (text, ""),
        };
        let args = Args {
            file,
            line: line.number,
            directive: name,
            values: rest
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|v| !v.is_empty())
                .collect(),
            rest,
        };
        b.directive(&args);
    }
    b.finish(file)
}

/// Splits off the first blank-separated word; the rest is trimmed.
fn first_word(text: &str) -> (&str, &str) {
    let text = text.trim_start();
    match text.find(char::is_whitespace) {
        Some(i) => (&text[..i], text[i..].trim()),
        None => (text, ""),
    }
}

fn malformed(at: &At<'_>, diags: &mut Diagnostics, expected: &str) {
    diags.error(at, format!("expected `{expected}`"));
}

fn is_ifname(name: &str) -> bool {
    // Linux IFNAMSIZ is 16 including the NUL; no '/', no blanks.
    !name.is_empty()
        && name.len() < 16
        && name
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'/' && b != b':')
}

fn is_node_name(name: &str) -> bool {
    // uname -n: a host name, possibly fully qualified. Heartbeat limits it
    // to HOSTLENG (256) and to what can travel in its text messages.
    !name.is_empty()
        && name.len() < 256
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
}

const SYSLOG_FACILITIES: &[&str] = &[
    "auth", "authpriv", "cron", "daemon", "ftp", "kern", "lpr", "mail", "news", "syslog", "user",
    "uucp", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
];

impl Builder {
    fn directive(&mut self, args: &Args<'_>) {
        let Some(row) = directive(args.directive) else {
            self.diags.error(
                &args.at(),
                "unknown directive; see ha.cf(5) for the directives tandem reads",
            );
            return;
        };
        if matches!(
            args.directive,
            "bcast" | "udp" | "mcast" | "mcast6" | "ucast" | "ucast6" | "serial" | "ppp"
        ) {
            self.media_seen = true;
        }
        match row.handling {
            Handling::Implemented => {
                if let Some(apply) = row.apply {
                    apply(self, args);
                }
            }
            Handling::Ignored(why) => self.diags.warning(&args.at(), format!("ignored: {why}")),
            Handling::Rejected(why) => self
                .diags
                .error(&args.at(), format!("not supported: {why}")),
        }
    }

    fn one_value<'a>(&mut self, args: &Args<'a>, expected: &str) -> Option<&'a str> {
        if args.values.len() == 1 {
            Some(args.values[0])
        } else {
            malformed(&args.at(), &mut self.diags, expected);
            None
        }
    }

    /// Records a single-valued setting; a repeat keeps the later value, as
    /// Heartbeat does, and says so.
    fn set<T>(
        &mut self,
        slot_of: fn(&mut Self) -> &mut Option<Setting<T>>,
        args: &Args<'_>,
        value: T,
    ) {
        let setting = Setting::from_file(value, args.file, args.line);
        let at = args.at();
        let previous = slot_of(self).replace(setting);
        if let Some(Setting {
            source: Source::File { line, .. },
            ..
        }) = previous
        {
            self.diags.warning(
                &at,
                format!("also given at line {line}; this later value is used"),
            );
        }
    }

    fn node(&mut self, args: &Args<'_>) {
        if args.values.is_empty() {
            malformed(&args.at(), &mut self.diags, "node NAME [NAME...]");
        }
        for value in &args.values {
            // Heartbeat lowercases node names everywhere (uname -n may not).
            let name = value.to_ascii_lowercase();
            if !is_node_name(&name) {
                self.diags.error(
                    &args.at(),
                    format!("`{value}` is not a node name; expected the node's `uname -n`"),
                );
            } else if let Some(first) = self.nodes.iter().find(|n| n.value == name) {
                let first = first.source.clone();
                self.diags.error(
                    &args.at(),
                    format!("node `{name}` is already listed at {first}"),
                );
            } else if self.nodes.len() == NODES_MAX {
                self.diags.error(
                    &args.at(),
                    format!("more than {NODES_MAX} nodes; Heartbeat and tandem allow {NODES_MAX}"),
                );
            } else {
                self.nodes
                    .push(Setting::from_file(name, args.file, args.line));
            }
        }
    }

    fn cluster(&mut self, args: &Args<'_>) {
        if let Some(v) = self.one_value(args, "cluster NAME") {
            self.set(|b| &mut b.cluster, args, v.to_string());
        }
    }

    fn time(&mut self, args: &Args<'_>, field: Field) {
        let form = format!("{} TIME", args.directive);
        let Some(v) = self.one_value(args, &form) else {
            return;
        };
        let time = match parse_time(v) {
            Ok(t) => t,
            Err(e) => return self.diags.error(&args.at(), e),
        };
        if time == Time::ZERO && !matches!(field, Field::MaxRexmitDelay | Field::FailureTimeout) {
            return self.diags.error(
                &args.at(),
                format!("must be more than 0; expected {TIME_FORM}"),
            );
        }
        let slot: fn(&mut Self) -> &mut Option<Setting<Time>> = match field {
            Field::Keepalive => |b| &mut b.keepalive,
            Field::Deadtime => |b| &mut b.deadtime,
            Field::Warntime => |b| &mut b.warntime,
            Field::Initdead => |b| &mut b.initdead,
            Field::Deadping => |b| &mut b.deadping,
            Field::MaxRexmitDelay => |b| &mut b.max_rexmit_delay,
            Field::ResourceTimeout => |b| &mut b.resource_timeout,
            Field::MonitorInterval => |b| &mut b.monitor_interval,
            Field::FailureTimeout => |b| &mut b.failure_timeout,
            Field::ArpInterval => |b| &mut b.arp_interval,
            _ => unreachable!("not a time field"),
        };
        self.set(slot, args, time);
    }

    fn boolean(&mut self, args: &Args<'_>, field: Field) {
        let form = format!("{} on|off", args.directive);
        let Some(v) = self.one_value(args, &form) else {
            return;
        };
        match parse_bool(v) {
            Ok(value) => {
                let slot: fn(&mut Self) -> &mut Option<Setting<bool>> = match field {
                    Field::LogBadpack => |b| &mut b.log_badpack,
                    Field::Realtime => |b| &mut b.realtime,
                    _ => unreachable!("not a boolean field"),
                };
                self.set(slot, args, value);
            }
            Err(e) => self.diags.error(&args.at(), e),
        }
    }

    fn path(&mut self, args: &Args<'_>, field: Field) {
        let form = format!("{} /PATH", args.directive);
        let Some(v) = self.one_value(args, &form) else {
            return;
        };
        if !v.starts_with('/') {
            return self.diags.error(
                &args.at(),
                format!("`{v}` is not an absolute path; expected `{form}`"),
            );
        }
        let slot: fn(&mut Self) -> &mut Option<Setting<String>> = match field {
            Field::Logfile => |b| &mut b.logfile,
            Field::Debugfile => |b| &mut b.debugfile,
            Field::Notify => |b| &mut b.notify,
            Field::NotifyFifo => |b| &mut b.notify_fifo,
            _ => unreachable!("not a path field"),
        };
        self.set(slot, args, v.to_string());
    }

    fn hbgenmethod(&mut self, args: &Args<'_>) {
        let Some(v) = self.one_value(args, "hbgenmethod file|time") else {
            return;
        };
        let method = match v {
            "file" => GenerationMethod::File,
            "time" => GenerationMethod::Time,
            _ => {
                return self.diags.error(
                    &args.at(),
                    format!("`{v}` is not a method; expected `file` or `time`"),
                )
            }
        };
        self.set(|b| &mut b.generation_method, args, method);
    }

    fn wire(&mut self, args: &Args<'_>) {
        let Some(v) = self.one_value(args, "wire native|heartbeat|auto") else {
            return;
        };
        let mode = match v {
            "native" => WireMode::Native,
            "heartbeat" => WireMode::Heartbeat,
            "auto" => WireMode::Auto,
            _ => {
                return self.diags.error(
                    &args.at(),
                    format!("`{v}` is not a wire mode; expected `native`, `heartbeat` or `auto`"),
                )
            }
        };
        self.set(|b| &mut b.wire, args, mode);
    }

    fn arp_count(&mut self, args: &Args<'_>) {
        let Some(v) = self.one_value(args, "arp_count COUNT") else {
            return;
        };
        match parse_in::<u32>(v, 1, 1000, "a number of announcements") {
            Ok(n) => self.set(|b| &mut b.arp_count, args, n),
            Err(e) => self.diags.error(&args.at(), e),
        }
    }

    fn migration_threshold(&mut self, args: &Args<'_>) {
        let Some(v) = self.one_value(args, "migration_threshold COUNT") else {
            return;
        };
        match parse_in::<u32>(v, 1, 1000, "a number of monitor failures") {
            Ok(n) => self.set(|b| &mut b.migration_threshold, args, n),
            Err(e) => self.diags.error(&args.at(), e),
        }
    }

    fn on_stop_failure(&mut self, args: &Args<'_>) {
        let Some(v) = self.one_value(args, "on_stop_failure reboot|fence|block") else {
            return;
        };
        let policy = match v {
            "reboot" => StopFailure::Reboot,
            "fence" => StopFailure::Fence,
            "block" => StopFailure::Block,
            _ => {
                return self.diags.error(
                    &args.at(),
                    format!("`{v}` is not a policy; expected `reboot`, `fence` or `block`"),
                )
            }
        };
        self.set(|b| &mut b.on_stop_failure, args, policy);
    }

    fn arp_form(&mut self, args: &Args<'_>) {
        let Some(v) = self.one_value(args, "arp_form request|reply|both") else {
            return;
        };
        let form = match v.parse::<ArpForm>() {
            Ok(f) => f,
            Err(e) => return self.diags.error(&args.at(), e),
        };
        self.set(|b| &mut b.arp_form, args, form);
    }

    fn udpport(&mut self, args: &Args<'_>) {
        let Some(v) = self.one_value(args, "udpport PORT") else {
            return;
        };
        let port = match parse_in::<u16>(v, 1, 65535, "a UDP port") {
            Ok(p) => p,
            Err(e) => return self.diags.error(&args.at(), e),
        };
        if let Some(first) = self.links.iter().find(|l| l.value.uses_udpport()) {
            let msg = format!(
                "must come before the media lines that use it (`{}` at {}); move it up",
                first.value, first.source
            );
            return self.diags.error(&args.at(), msg);
        }
        if let Some(prev) = &self.udpport {
            let msg = format!("udpport is already set at {}; give it once", prev.source);
            return self.diags.error(&args.at(), msg);
        }
        self.udpport = Some(Setting::from_file(port, args.file, args.line));
    }

    fn baud(&mut self, args: &Args<'_>) {
        let Some(v) = self.one_value(args, "baud RATE") else {
            return;
        };
        let rate = match v.parse::<u32>() {
            Ok(r) if BAUDS.contains(&r) => r,
            _ => {
                return self.diags.error(
                    &args.at(),
                    format!(
                        "`{v}` is not a baud rate; expected one of 9600, 19200, 38400, 57600, 115200, 230400, 460800"
                    ),
                )
            }
        };
        if let Some(first) = self.links.iter().find(|l| l.value.uses_baud()) {
            let msg = format!(
                "must come before the serial lines that use it (`{}` at {}); move it up",
                first.value, first.source
            );
            return self.diags.error(&args.at(), msg);
        }
        if let Some(prev) = &self.baud {
            let msg = format!("baud is already set at {}; give it once", prev.source);
            return self.diags.error(&args.at(), msg);
        }
        self.baud = Some(Setting::from_file(rate, args.file, args.line));
    }

    fn add_link(&mut self, args: &Args<'_>, medium: Medium) {
        self.media_seen = true;
        if let Some(same) = self.links.iter().find(|l| l.value == medium) {
            let msg = format!("`{medium}` is already declared at {}", same.source);
            return self.diags.error(&args.at(), msg);
        }
        if self.links.len() == LINKS_MAX {
            let msg =
                format!("more than {LINKS_MAX} links; Heartbeat and tandem allow {LINKS_MAX}");
            return self.diags.error(&args.at(), msg);
        }
        self.links
            .push(Setting::from_file(medium, args.file, args.line));
    }

    fn device(&mut self, args: &Args<'_>, name: &str, form: &str) -> Option<String> {
        if is_ifname(name) {
            Some(name.to_string())
        } else {
            self.diags.error(
                &args.at(),
                format!("`{name}` is not a network interface name; expected `{form}`"),
            );
            None
        }
    }

    fn bcast(&mut self, args: &Args<'_>) {
        const FORM: &str = "bcast DEVICE [DEVICE...]";
        if args.directive == "udp" {
            self.diags.warning(
                &args.at(),
                "`udp` is Heartbeat's old name for `bcast`; read as bcast",
            );
        }
        let words = args.words();
        if words.is_empty() {
            return malformed(&args.at(), &mut self.diags, FORM);
        }
        for dev in words {
            if let Some(device) = self.device(args, dev, FORM) {
                self.add_link(args, Medium::Bcast { device });
            }
        }
    }

    fn mcast(&mut self, args: &Args<'_>) {
        const FORM: &str = "mcast DEVICE GROUP PORT TTL LOOP";
        let w = args.words();
        if w.len() != 5 {
            return malformed(&args.at(), &mut self.diags, FORM);
        }
        let Some(device) = self.device(args, w[0], FORM) else {
            return;
        };
        let group = match w[1].parse::<Ipv4Addr>() {
            Ok(g) if g.is_multicast() => g,
            _ => {
                let msg = format!(
                    "`{}` is not an IPv4 multicast group (224.0.0.0/4); expected `{FORM}`",
                    w[1]
                );
                return self.diags.error(&args.at(), msg);
            }
        };
        let fields = (
            parse_in::<u16>(w[2], 1, 65535, "a UDP port"),
            parse_in::<u8>(w[3], 1, 255, "a TTL"),
            parse_in::<u8>(w[4], 0, 1, "a loop flag"),
        );
        match fields {
            (Ok(port), Ok(ttl), Ok(lp)) => self.add_link(
                args,
                Medium::Mcast {
                    device,
                    group,
                    port,
                    ttl,
                    loopback: lp == 1,
                },
            ),
            (p, t, l) => {
                for e in [p.err(), t.err(), l.err()].into_iter().flatten() {
                    self.diags.error(&args.at(), e);
                }
            }
        }
    }

    fn mcast6(&mut self, args: &Args<'_>) {
        const FORM: &str = "mcast6 DEVICE GROUP PORT HOPS LOOP";
        let w = args.words();
        if w.len() != 5 {
            return malformed(&args.at(), &mut self.diags, FORM);
        }
        let Some(device) = self.device(args, w[0], FORM) else {
            return;
        };
        let group = match w[1].parse::<Ipv6Addr>() {
            Ok(g) if g.is_multicast() => g,
            _ => {
                let msg = format!(
                    "`{}` is not an IPv6 multicast group (ff00::/8); expected `{FORM}`",
                    w[1]
                );
                return self.diags.error(&args.at(), msg);
            }
        };
        let fields = (
            parse_in::<u16>(w[2], 1, 65535, "a UDP port"),
            parse_in::<u8>(w[3], 0, 255, "a hop limit"),
            parse_in::<u8>(w[4], 0, 1, "a loop flag"),
        );
        match fields {
            (Ok(port), Ok(hops), Ok(lp)) => self.add_link(
                args,
                Medium::Mcast6 {
                    device,
                    group,
                    port,
                    hops,
                    loopback: lp == 1,
                },
            ),
            (p, h, l) => {
                for e in [p.err(), h.err(), l.err()].into_iter().flatten() {
                    self.diags.error(&args.at(), e);
                }
            }
        }
    }

    fn ucast(&mut self, args: &Args<'_>) {
        const FORM: &str = "ucast DEVICE PEER-IPV4[:PORT] [PEER-IPV4[:PORT]...]";
        let w = args.words();
        if w.len() < 2 {
            return malformed(&args.at(), &mut self.diags, FORM);
        }
        let Some(device) = self.device(args, w[0], FORM) else {
            return;
        };
        for word in &w[1..] {
            // tandem's `:PORT` lets several nodes share one host (tests,
            // `tandem demo`); Heartbeat always sends to `udpport`.
            let (addr, port) = match word.split_once(':') {
                Some((a, p)) => {
                    match p.parse::<u16>() {
                        Ok(p) if p > 0 => (a, Some(p)),
                        _ => {
                            self.diags.error(
                            &args.at(),
                            format!("`{word}`: `{p}` is not a UDP port (1-65535); expected `{FORM}`"),
                        );
                            continue;
                        }
                    }
                }
                None => (*word, None),
            };
            match addr.parse::<Ipv4Addr>() {
                Ok(peer)
                    if !peer.is_multicast() && !peer.is_broadcast() && !peer.is_unspecified() =>
                {
                    self.add_link(
                        args,
                        Medium::Ucast {
                            device: device.clone(),
                            peer,
                            port,
                        },
                    )
                }
                _ => self.diags.error(
                    &args.at(),
                    format!("`{word}` is not a unicast IPv4 address; expected `{FORM}`"),
                ),
            }
        }
    }

    fn ucast6(&mut self, args: &Args<'_>) {
        const FORM: &str = "ucast6 DEVICE PEER-IPV6[%SCOPE] [...]";
        let w = args.words();
        if w.len() < 2 {
            return malformed(&args.at(), &mut self.diags, FORM);
        }
        let Some(device) = self.device(args, w[0], FORM) else {
            return;
        };
        for peer in &w[1..] {
            let (addr, scope) = match peer.split_once('%') {
                Some((a, s)) => (a, Some(s)),
                None => (*peer, None),
            };
            let scope_ok = scope.is_none_or(is_ifname);
            match addr.parse::<Ipv6Addr>() {
                Ok(ip) if scope_ok && !ip.is_multicast() && !ip.is_unspecified() => self.add_link(
                    args,
                    Medium::Ucast6 {
                        device: device.clone(),
                        peer: ip,
                        scope: scope.map(str::to_string),
                    },
                ),
                _ => self.diags.error(
                    &args.at(),
                    format!("`{peer}` is not a unicast IPv6 address; expected `{FORM}`"),
                ),
            }
        }
    }

    fn serial(&mut self, args: &Args<'_>) {
        const FORM: &str = "serial /dev/TTY [/dev/TTY...]";
        let words = args.words();
        if words.is_empty() {
            return malformed(&args.at(), &mut self.diags, FORM);
        }
        for dev in words {
            if dev.starts_with('/') {
                self.add_link(
                    args,
                    Medium::Serial {
                        device: dev.to_string(),
                    },
                );
            } else {
                self.diags.error(
                    &args.at(),
                    format!("`{dev}` is not a device path; expected `{FORM}`"),
                );
            }
        }
    }

    fn ppp(&mut self, args: &Args<'_>) {
        const FORM: &str = "ppp /dev/TTY NODE=IPV4 NODE=IPV4";
        let w = args.words();
        if w.len() != 3 || !w[0].starts_with('/') {
            return malformed(&args.at(), &mut self.diags, FORM);
        }
        let mut ends = Vec::new();
        for end in &w[1..] {
            let parsed = end
                .split_once('=')
                .and_then(|(n, ip)| Some((n.to_ascii_lowercase(), ip.parse::<Ipv4Addr>().ok()?)));
            match parsed {
                Some(end) => ends.push(end),
                None => {
                    let msg = format!("`{end}` is not NODE=IPV4; expected `{FORM}`");
                    return self.diags.error(&args.at(), msg);
                }
            }
        }
        if ends[0].0 == ends[1].0 || ends[0].1 == ends[1].1 {
            return self.diags.error(
                &args.at(),
                format!("the two ends must be different nodes with different addresses; expected `{FORM}`"),
            );
        }
        self.ppp_lines
            .push((args.line, ends.iter().map(|(n, _)| n.clone()).collect()));
        let ends = [ends[0].clone(), ends[1].clone()];
        self.add_link(
            args,
            Medium::Ppp {
                device: w[0].to_string(),
                ends,
            },
        );
    }

    fn ping(&mut self, args: &Args<'_>, v6: bool) {
        let form = if v6 {
            "ping6 IPV6 [IPV6...]"
        } else {
            "ping IP [IP...]"
        };
        if args.values.is_empty() {
            return malformed(&args.at(), &mut self.diags, form);
        }
        for v in &args.values {
            // `ping` takes IPv4 (Heartbeat's) and IPv6 (ICMPv6 echo).
            let addr: Option<IpAddr> = if v6 {
                v.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
            } else {
                v.parse::<IpAddr>().ok()
            };
            match addr {
                Some(addr) => self.add_ping(
                    args,
                    PingNode {
                        name: addr.to_string(),
                        addresses: vec![addr],
                        group: false,
                    },
                ),
                None => self.diags.error(
                    &args.at(),
                    format!("`{v}` is not an address; expected `{form}`"),
                ),
            }
        }
    }

    fn ping_group(&mut self, args: &Args<'_>) {
        const FORM: &str = "ping_group NAME IP [IP...]";
        if args.values.len() < 2 {
            return malformed(&args.at(), &mut self.diags, FORM);
        }
        let name = args.values[0];
        if !is_node_name(name) || name.parse::<IpAddr>().is_ok() {
            let msg = format!("`{name}` is not a group name; expected `{FORM}`");
            return self.diags.error(&args.at(), msg);
        }
        let mut addresses = Vec::new();
        for v in &args.values[1..] {
            match v.parse::<IpAddr>() {
                Ok(a) => addresses.push(a),
                Err(_) => {
                    let msg = format!("`{v}` is not an address; expected `{FORM}`");
                    return self.diags.error(&args.at(), msg);
                }
            }
        }
        self.add_ping(
            args,
            PingNode {
                name: name.to_string(),
                addresses,
                group: true,
            },
        );
    }

    fn add_ping(&mut self, args: &Args<'_>, node: PingNode) {
        if let Some(same) = self.ping_nodes.iter().find(|p| p.value.name == node.name) {
            let msg = format!(
                "ping node `{}` is already declared at {}",
                node.name, same.source
            );
            return self.diags.error(&args.at(), msg);
        }
        self.ping_nodes
            .push(Setting::from_file(node, args.file, args.line));
    }

    fn auto_failback(&mut self, args: &Args<'_>) {
        let Some(v) = self.one_value(args, "auto_failback on|off|legacy") else {
            return;
        };
        let value = if v.eq_ignore_ascii_case("legacy") {
            AutoFailback::Legacy
        } else {
            match parse_bool(v) {
                Ok(true) => AutoFailback::On,
                Ok(false) => AutoFailback::Off,
                Err(_) => {
                    return self.diags.error(
                        &args.at(),
                        format!("`{v}` is not a failback policy; expected `on`, `off` or `legacy`"),
                    )
                }
            }
        };
        self.set(|b| &mut b.auto_failback, args, value);
    }

    fn nice_failback(&mut self, args: &Args<'_>) {
        let Some(v) = self.one_value(args, "nice_failback on|off") else {
            return;
        };
        // Heartbeat: obsolete; on means `auto_failback off`, off `legacy`.
        let (value, replacement) = match parse_bool(v) {
            Ok(true) => (AutoFailback::Off, "auto_failback off"),
            Ok(false) => (AutoFailback::Legacy, "auto_failback legacy"),
            Err(e) => return self.diags.error(&args.at(), e),
        };
        self.diags.warning(
            &args.at(),
            format!("obsolete; read as `{replacement}` as Heartbeat does; write that instead"),
        );
        self.set(|b| &mut b.auto_failback, args, value);
    }

    fn stonith(&mut self, args: &Args<'_>) {
        const FORM: &str = "stonith TYPE CONFIG-FILE";
        let w = args.words();
        if w.len() != 2 {
            return malformed(&args.at(), &mut self.diags, FORM);
        }
        let stonith = Stonith::Device {
            kind: w[0].to_string(),
            config_file: w[1].to_string(),
        };
        self.stonith
            .push(Setting::from_file(stonith, args.file, args.line));
    }

    fn stonith_host(&mut self, args: &Args<'_>) {
        const FORM: &str = "stonith_host HOST|* TYPE [PARAMS...]";
        let (host, rest) = first_word(args.rest);
        let (kind, params) = first_word(rest);
        if host.is_empty() || kind.is_empty() {
            return malformed(&args.at(), &mut self.diags, FORM);
        }
        let host = host.to_ascii_lowercase();
        if host != "*" {
            self.stonith_host_lines.push((args.line, host.clone()));
        }
        let stonith = Stonith::Host {
            host,
            kind: kind.to_string(),
            params: params.to_string(),
        };
        self.stonith
            .push(Setting::from_file(stonith, args.file, args.line));
    }

    fn watchdog(&mut self, args: &Args<'_>) {
        let Some(v) = self.one_value(args, "watchdog /dev/DEVICE") else {
            return;
        };
        if !v.starts_with('/') {
            let msg = format!("`{v}` is not a device path; expected `watchdog /dev/DEVICE`");
            return self.diags.error(&args.at(), msg);
        }
        if let Some(prev) = &self.watchdog {
            // Heartbeat refuses this too ("Watchdog device multiply specified").
            let msg = format!("a watchdog is already set at {}; give one", prev.source);
            return self.diags.error(&args.at(), msg);
        }
        self.watchdog = Some(Setting::from_file(v.to_string(), args.file, args.line));
    }

    fn respawn(&mut self, args: &Args<'_>, failfast: bool) {
        let form = format!("{} USER /PATH [ARGS...]", args.directive);
        let (user, command) = first_word(args.rest);
        if user.is_empty() || command.is_empty() {
            return malformed(&args.at(), &mut self.diags, &form);
        }
        if !command.starts_with('/') {
            let msg = format!("`{command}` is not a full path; expected `{form}`");
            return self.diags.error(&args.at(), msg);
        }
        let respawn = Respawn {
            user: user.to_string(),
            command: command.to_string(),
            failfast,
        };
        if respawn.is_ipfail() {
            self.diags.warning(
                &args.at(),
                "ipfail is not run: tandem's `ping` and `ping_group` nodes already give the groups to the better connected node, which is ipfail's job",
            );
        }
        self.respawn
            .push(Setting::from_file(respawn, args.file, args.line));
    }

    fn env(&mut self, args: &Args<'_>) {
        const FORM: &str = "env NAME=VALUE";
        let Some(v) = self.one_value(args, FORM) else {
            return;
        };
        let valid = v.split_once('=').filter(|(name, _)| {
            !name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        });
        match valid {
            Some((name, value)) => self.env.push(Setting::from_file(
                (name.to_string(), value.to_string()),
                args.file,
                args.line,
            )),
            None => self.diags.error(
                &args.at(),
                format!("`{v}` is not NAME=VALUE; expected `{FORM}`"),
            ),
        }
    }

    fn logfacility(&mut self, args: &Args<'_>) {
        let Some(v) = self.one_value(args, "logfacility FACILITY|none") else {
            return;
        };
        let v = v.to_ascii_lowercase();
        let value = if v == "none" {
            None
        } else if SYSLOG_FACILITIES.contains(&v.as_str()) {
            Some(v)
        } else {
            let msg = format!(
                "`{v}` is not a syslog facility; expected `none` or one of {}",
                SYSLOG_FACILITIES.join(", ")
            );
            return self.diags.error(&args.at(), msg);
        };
        self.set(|b| &mut b.facility, args, value);
    }

    fn debug(&mut self, args: &Args<'_>) {
        let Some(v) = self.one_value(args, "debug LEVEL") else {
            return;
        };
        match parse_in::<u8>(v, 0, 255, "a debug level") {
            Ok(level) => self.set(|b| &mut b.debug, args, level),
            Err(e) => self.diags.error(&args.at(), e),
        }
    }

    fn rtprio(&mut self, args: &Args<'_>) {
        let Some(v) = self.one_value(args, "rtprio PRIORITY") else {
            return;
        };
        // sched_get_priority_min/max(SCHED_FIFO) on Linux.
        match parse_in::<u8>(v, 1, 99, "a SCHED_FIFO priority") {
            Ok(p) => self.set(|b| &mut b.rtprio, args, p),
            Err(e) => self.diags.error(&args.at(), e),
        }
    }

    fn crm(&mut self, args: &Args<'_>) {
        let Some(v) = self.one_value(args, "crm off") else {
            return;
        };
        match parse_bool(v) {
            Ok(false) => {}
            _ => self.diags.error(
                &args.at(),
                "not supported: tandem runs haresources mode only; use Pacemaker for CRM clusters",
            ),
        }
    }

    fn autojoin(&mut self, args: &Args<'_>) {
        let Some(v) = self.one_value(args, "autojoin none") else {
            return;
        };
        if v != "none" {
            self.diags.error(
                &args.at(),
                format!("`{v}` is not supported: tandem needs every node listed with `node` (haresources mode cannot autojoin, as in Heartbeat); use `autojoin none`"),
            );
        }
    }
}

impl HaCf {
    /// Whether `name` is a configured node.
    pub fn has_node(&self, name: &str) -> bool {
        self.nodes.iter().any(|n| n.value == name)
    }
}
