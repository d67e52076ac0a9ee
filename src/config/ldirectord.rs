//! ldirectord.cf, as Ultra Monkey and ldirectord users write it: global
//! settings, then `virtual=` blocks whose lines are indented. Read into a
//! typed director configuration; every mistake is a finding at its line
//! (`file:line: directive: message`), and one pass reports them all.
//!
//! Values follow ldirectord(8). tandem's extensions: times may carry a
//! unit (`500ms`), `protocol = sctp`, and IPv6 real servers in brackets.

use super::diag::{At, Diagnostics};
use super::lines::{split, strip_comment};
use super::value::{parse_bool, parse_in, parse_time};
use crate::time::Time;
use serde::Serialize;
use std::net::{IpAddr, Ipv4Addr};

/// The whole file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Director {
    pub global: Settings,
    pub virtuals: Vec<Virtual>,
    pub logfile: Option<String>,
    pub autoreload: bool,
    pub maintenancedir: Option<String>,
    pub callback: Option<String>,
    pub readdquiescent: bool,
}

/// What a virtual service inherits from the global section unless it
/// says otherwise.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Settings {
    pub checkinterval: Time,
    /// `None`: negotiatetimeout's value, as ldirectord falls back.
    pub checktimeout: Option<Time>,
    pub negotiatetimeout: Time,
    pub failurecount: u32,
    pub quiescent: bool,
    pub cleanstop: bool,
    pub fallback: Option<Real>,
    pub fallbackcommand: Option<String>,
    pub emailalert: Option<String>,
    pub emailalertfrom: Option<String>,
    pub emailalertfreq: Time,
    pub emailalertstatus: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            checkinterval: Time::from_secs(10),
            checktimeout: None,
            negotiatetimeout: Time::from_secs(30),
            failurecount: 1,
            quiescent: true,
            cleanstop: true,
            fallback: None,
            fallbackcommand: None,
            emailalert: None,
            emailalertfrom: None,
            emailalertfreq: Time::ZERO,
            emailalertstatus: vec!["all".into()],
        }
    }
}

/// How a virtual service is addressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
    Fwm,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Address {
    /// An address and port with `protocol`.
    Socket { ip: IpAddr, port: u16 },
    /// A firewall mark (`virtual = 1`), IPv6 with `virtual6`.
    Fwmark { mark: u32, ipv6: bool },
}

/// The kernel's forwarding methods, by ldirectord's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Forward {
    /// Direct routing (ipvsadm -g).
    Gate,
    /// NAT (ipvsadm -m).
    Masq,
    /// IP-in-IP tunnelling (ipvsadm -i).
    Ipip,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Real {
    pub ip: IpAddr,
    /// `None`: the virtual service's port.
    pub port: Option<u16>,
    pub forward: Forward,
    pub weight: u32,
    /// Per-server request and receive strings for negotiate checks.
    pub request: Option<String>,
    pub receive: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "connects", rename_all = "lowercase")]
pub enum CheckType {
    Connect,
    Negotiate,
    External,
    Ping,
    /// Always down.
    Off,
    /// Always up.
    On,
    /// N connect checks, then one negotiate check.
    Combined(u32),
}

/// The protocol a negotiate check speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    None,
    Dns,
    Ftp,
    Http,
    Https,
    Imap,
    Imaps,
    Ldap,
    Nntp,
    Pop,
    Pops,
    Smtp,
    Submission,
}

const SERVICES: [(&str, Service, u16); 13] = [
    ("none", Service::None, 0),
    ("dns", Service::Dns, 53),
    ("ftp", Service::Ftp, 21),
    ("http", Service::Http, 80),
    ("https", Service::Https, 443),
    ("imap", Service::Imap, 143),
    ("imaps", Service::Imaps, 993),
    ("ldap", Service::Ldap, 389),
    ("nntp", Service::Nntp, 119),
    ("pop", Service::Pop, 110),
    ("pops", Service::Pops, 995),
    ("smtp", Service::Smtp, 25),
    ("submission", Service::Submission, 587),
];

impl Service {
    /// The service's well-known port (0 for `none`).
    pub fn port(self) -> u16 {
        SERVICES
            .iter()
            .find(|s| s.1 == self)
            .map(|s| s.2)
            .unwrap_or(0)
    }

    pub fn name(self) -> &'static str {
        SERVICES
            .iter()
            .find(|s| s.1 == self)
            .map(|s| s.0)
            .unwrap_or("none")
    }
}

/// ldirectord's services that tandem does not check (yet): named so that
/// the error says so instead of "unknown".
const UNCHECKED_SERVICES: [&str; 9] = [
    "http_proxy",
    "ldaps",
    "mysql",
    "oracle",
    "pgsql",
    "radius",
    "simpletcp",
    "sip",
    "external-perl",
];

/// The kernel's schedulers (ip_vs_*.ko).
pub const SCHEDULERS: [&str; 14] = [
    "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos",
];

/// Port names ldirectord users write (`virtual = 192.0.2.10:http`).
const PORT_NAMES: [(&str, u16); 15] = [
    ("ftp", 21),
    ("smtp", 25),
    ("domain", 53),
    ("http", 80),
    ("www", 80),
    ("pop3", 110),
    ("nntp", 119),
    ("imap", 143),
    ("imap2", 143),
    ("ldap", 389),
    ("https", 443),
    ("submission", 587),
    ("ldaps", 636),
    ("imaps", 993),
    ("pop3s", 995),
];

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Virtual {
    /// The line of `virtual=`, for messages.
    pub line: usize,
    pub address: Address,
    pub protocol: Protocol,
    pub reals: Vec<Real>,
    pub scheduler: String,
    /// Persistence timeout; `None`: not persistent.
    pub persistent: Option<u32>,
    /// Persistence granularity: an IPv4 mask or IPv6 prefix length.
    pub netmask: Option<u32>,
    pub checktype: CheckType,
    pub service: Service,
    pub checkport: Option<u16>,
    pub checkcommand: Option<String>,
    pub request: Option<String>,
    pub receive: Option<String>,
    pub httpmethod: HttpMethod,
    pub virtualhost: Option<String>,
    pub login: Option<String>,
    pub passwd: Option<String>,
    /// One-packet scheduling (UDP).
    pub ops: bool,
    pub settings: Settings,
    pub monitorfile: Option<String>,
    pub servicename: Option<String>,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum HttpMethod {
    #[serde(rename = "GET")]
    Get,
    #[serde(rename = "HEAD")]
    Head,
}

/// The warning for directives whose value is checked but whose action
/// (a callback, a monitor file) the director does not take yet: an
/// operator must not believe an alert is configured when none will come.
const NOT_YET: &str = "read, but not acted on yet by tandem's director";

/// The most real servers one `a->b` range may name.
const RANGE_MAX: u32 = 1024;

/// One `key = value` line.
struct Entry {
    line: usize,
    key: String,
    value: String,
}

/// Reads and parses the file at `path`: the director, or every problem
/// found, one `file:line: directive: message` per line. The one reader of
/// ldirectord.cf, for the director and for the pair's configuration check.
pub fn load(path: &std::path::Path) -> Result<Director, String> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| format!("{name}: cannot read: {e}"))?;
    let (director, diags) = parse(&name, &bytes);
    director.ok_or_else(|| {
        diags
            .errors()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// Reads ldirectord.cf text. Returns the configuration when there is no
/// error; the findings either way.
pub fn parse(file: &str, bytes: &[u8]) -> (Option<Director>, Diagnostics) {
    let mut diags = Diagnostics::new();
    let mut director = Director {
        global: Settings::default(),
        virtuals: Vec::new(),
        logfile: None,
        autoreload: false,
        maintenancedir: None,
        callback: None,
        readdquiescent: false,
    };
    // Virtual blocks' lines, gathered first: their defaults are the
    // global settings, wherever in the file those are written.
    let mut blocks: Vec<(Entry, Vec<Entry>)> = Vec::new();
    for line in split(file, bytes, &mut diags) {
        let text = strip_comment(line.text);
        if text.trim().is_empty() {
            continue;
        }
        let indented = text.starts_with([' ', '\t']);
        let Some((key, value)) = text.trim().split_once('=') else {
            let word = text.split_whitespace().next().unwrap_or("");
            diags.error(
                &At::line(file, line.number, word),
                "expected `directive = value`",
            );
            continue;
        };
        let (key, value) = (key.trim().to_ascii_lowercase(), value.trim().to_string());
        let entry = Entry {
            line: line.number,
            key: key.clone(),
            value: value.clone(),
        };
        if indented && key != "virtual" && key != "virtual6" {
            match blocks.last_mut() {
                Some(block) => block.1.push(entry),
                None => diags.error(
                    &At::line(file, line.number, &key),
                    "indented, but no `virtual =` line above it",
                ),
            }
            continue;
        }
        if key == "virtual" || key == "virtual6" {
            blocks.push((entry, Vec::new()));
            continue;
        }
        let at = At::line(file, line.number, &key);
        if !global(&mut director, &key, &value, &at, &mut diags) {
            diags.error(&at, unknown(&key, "global"));
        }
    }
    for (head, lines) in blocks {
        let at = At::line(file, head.line, &head.key);
        if let Some(v) = virtual_block(&director.global, &head, &lines, file, &at, &mut diags) {
            director.virtuals.push(v);
        }
    }
    check_duplicates(&director, file, &mut diags);
    if director.virtuals.is_empty() && !diags.has_errors() {
        diags.error(&At::file(file), "no `virtual =` service");
    }
    let ok = !diags.has_errors();
    (ok.then_some(director), diags)
}

fn unknown(key: &str, section: &str) -> String {
    match key {
        "execute" => "not supported: run one `tandem director` per file".into(),
        "database" | "secret" => {
            format!("`{key}` is for SQL and RADIUS checks, which tandem does not do")
        }
        _ => format!("unknown {section} directive"),
    }
}

/// Applies a setting both sections know. Returns whether `key` is one.
fn common(s: &mut Settings, key: &str, value: &str, at: &At<'_>, diags: &mut Diagnostics) -> bool {
    let mut time = |slot: &mut Time| match parse_time(value) {
        Ok(t) if t > Time::ZERO => *slot = t,
        Ok(_) => diags.error(at, "must be more than zero"),
        Err(e) => diags.error(at, e),
    };
    match key {
        "checkinterval" => time(&mut s.checkinterval),
        "negotiatetimeout" => time(&mut s.negotiatetimeout),
        "checktimeout" => {
            let mut t = Time::ZERO;
            time(&mut t);
            if t > Time::ZERO {
                s.checktimeout = Some(t);
            }
        }
        "emailalertfreq" => match parse_time(value) {
            Ok(t) => s.emailalertfreq = t,
            Err(e) => diags.error(at, e),
        },
        "failurecount" => match parse_in(value, 1u32, 1000, "a count") {
            Ok(n) => s.failurecount = n,
            Err(e) => diags.error(at, e),
        },
        "quiescent" => boolean(&mut s.quiescent, value, at, diags),
        "cleanstop" => boolean(&mut s.cleanstop, value, at, diags),
        "fallback" => match real_server(value) {
            Ok(mut reals) if reals.len() == 1 => s.fallback = reals.pop(),
            Ok(_) => diags.error(at, "one server, not a range"),
            Err(e) => diags.error(at, e),
        },
        "fallbackcommand" => match value.trim_matches('"').split_whitespace().next() {
            Some(p) if p.starts_with('/') => {
                s.fallbackcommand = Some(value.trim_matches('"').to_string())
            }
            _ => diags.error(at, "expected an absolute path to a program"),
        },
        "emailalert" => match mail_address(value) {
            Ok(()) => s.emailalert = Some(value.to_string()),
            Err(e) => diags.error(at, e),
        },
        "emailalertfrom" => match mail_address(value) {
            Ok(()) if !value.contains(',') => s.emailalertfrom = Some(value.to_string()),
            Ok(()) => diags.error(at, "one address"),
            Err(e) => diags.error(at, e),
        },
        "emailalertstatus" => {
            let words: Vec<String> = value
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|w| !w.is_empty())
                .map(str::to_ascii_lowercase)
                .collect();
            let known = [
                "all",
                "none",
                "starting",
                "running",
                "stopping",
                "reloading",
            ];
            match words.iter().find(|w| !known.contains(&w.as_str())) {
                Some(w) => diags.error(at, format!("`{w}` is not one of {}", known.join(", "))),
                None if words.is_empty() => diags.error(at, "expected a status"),
                None => s.emailalertstatus = words,
            }
        }
        _ => return false,
    }
    true
}

fn boolean(slot: &mut bool, value: &str, at: &At<'_>, diags: &mut Diagnostics) {
    match parse_bool(value) {
        Ok(b) => *slot = b,
        Err(e) => diags.error(at, e),
    }
}

fn global(d: &mut Director, key: &str, value: &str, at: &At<'_>, diags: &mut Diagnostics) -> bool {
    if common(&mut d.global, key, value, at, diags) {
        return true;
    }
    match key {
        "logfile" => d.logfile = Some(value.trim_matches('"').to_string()),
        "autoreload" => boolean(&mut d.autoreload, value, at, diags),
        "readdquiescent" => boolean(&mut d.readdquiescent, value, at, diags),
        "maintenancedir" => d.maintenancedir = Some(value.to_string()),
        "callback" => {
            d.callback = Some(value.trim_matches('"').to_string());
            diags.warning(at, NOT_YET);
        }
        "checkcount" => diags.warning(at, "ignored: deprecated in ldirectord, use failurecount"),
        "supervised" | "fork" => {
            let mut b = false;
            boolean(&mut b, value, at, diags);
            diags.warning(
                at,
                "ignored: tandem's director runs in the foreground under its resource manager and checks every server in one event loop",
            );
        }
        "smtp" => diags.warning(
            at,
            "ignored: tandem's director sends alerts through the system's sendmail",
        ),
        _ => return false,
    }
    true
}

fn virtual_block(
    global: &Settings,
    head: &Entry,
    lines: &[Entry],
    file: &str,
    at: &At<'_>,
    diags: &mut Diagnostics,
) -> Option<Virtual> {
    let errors_before = diags.errors().count();
    let ipv6 = head.key == "virtual6";
    let address = match virtual_address(&head.value, ipv6) {
        Ok(a) => Some(a),
        Err(e) => {
            diags.error(at, e);
            None
        }
    };
    let mut v = Virtual {
        line: at.line.unwrap_or(0),
        address: address.unwrap_or(Address::Fwmark { mark: 0, ipv6 }),
        protocol: match address {
            Some(Address::Fwmark { .. }) => Protocol::Fwm,
            _ => Protocol::Tcp,
        },
        reals: Vec::new(),
        scheduler: "wrr".into(),
        persistent: None,
        netmask: None,
        checktype: CheckType::Negotiate,
        service: Service::None,
        checkport: None,
        checkcommand: None,
        request: None,
        receive: None,
        httpmethod: HttpMethod::Get,
        virtualhost: None,
        login: None,
        passwd: None,
        ops: false,
        settings: global.clone(),
        monitorfile: None,
        servicename: None,
        comment: None,
    };
    let mut service_given = false;
    let mut protocol_line = None;
    for Entry {
        line: number,
        key,
        value,
    } in lines
    {
        let at = At::line(file, *number, key);
        if common(&mut v.settings, key, value, &at, diags) {
            continue;
        }
        let text = || Some(value.trim_matches('"').to_string());
        match key.as_str() {
            "real" | "real6" => match real_server(value) {
                Ok(reals) => v.reals.extend(reals),
                Err(e) => diags.error(&at, e),
            },
            "scheduler" => {
                if SCHEDULERS.contains(&value.as_str()) {
                    v.scheduler = value.clone();
                } else {
                    diags.error(
                        &at,
                        format!("`{value}` is not one of {}", SCHEDULERS.join(", ")),
                    );
                }
            }
            "persistent" => match parse_in(value, 1u32, 31_536_000, "seconds") {
                Ok(n) => v.persistent = Some(n),
                Err(e) => diags.error(&at, e),
            },
            "netmask" => match netmask(value, ipv6) {
                Ok(n) => v.netmask = Some(n),
                Err(e) => diags.error(&at, e),
            },
            "protocol" => {
                protocol_line = Some(*number);
                v.protocol = match value.to_ascii_lowercase().as_str() {
                    "tcp" => Protocol::Tcp,
                    "udp" => Protocol::Udp,
                    "sctp" => Protocol::Sctp,
                    "fwm" => Protocol::Fwm,
                    _ => {
                        diags.error(&at, format!("`{value}` is not tcp, udp, sctp or fwm"));
                        v.protocol
                    }
                }
            }
            "checktype" => match check_type(value) {
                Ok(c) => v.checktype = c,
                Err(e) => diags.error(&at, e),
            },
            "service" => match SERVICES.iter().find(|s| s.0 == value.to_ascii_lowercase()) {
                Some(s) => {
                    v.service = s.1;
                    service_given = true;
                }
                None if UNCHECKED_SERVICES.contains(&value.to_ascii_lowercase().as_str()) => {
                    diags.error(&at, format!("tandem does not check `{value}` servers (yet): use checktype = connect or external"))
                }
                None => diags.error(
                    &at,
                    format!(
                        "`{value}` is not one of {}",
                        SERVICES.map(|s| s.0).join(", ")
                    ),
                ),
            },
            "checkport" => match port(value) {
                Ok(p) => v.checkport = Some(p),
                Err(e) => diags.error(&at, e),
            },
            "checkcommand" => v.checkcommand = text(),
            "request" => v.request = text(),
            "receive" => match pattern(value.trim_matches('"')) {
                Ok(()) => v.receive = text(),
                Err(e) => diags.error(&at, e),
            },
            "httpmethod" => match value.to_ascii_uppercase().as_str() {
                "GET" => v.httpmethod = HttpMethod::Get,
                "HEAD" => v.httpmethod = HttpMethod::Head,
                _ => diags.error(&at, format!("`{value}` is not GET or HEAD")),
            },
            "virtualhost" => v.virtualhost = text(),
            "login" => v.login = text(),
            "passwd" => v.passwd = text(),
            "ops" => boolean(&mut v.ops, value, &at, diags),
            "monitorfile" => {
                v.monitorfile = text();
                diags.warning(&at, NOT_YET);
            }
            "servicename" => v.servicename = text(),
            "comment" => v.comment = text(),
            "smtp" => diags.warning(
                &at,
                "ignored: tandem's director sends alerts through the system's sendmail",
            ),
            _ => diags.error(&at, unknown(key, "virtual service")),
        }
    }
    // The service from the port when not given, as ldirectord does.
    if !service_given {
        if let Address::Socket { port, .. } = v.address {
            let port = v.checkport.unwrap_or(port);
            if let Some(s) = SERVICES.iter().find(|s| s.2 == port && s.2 != 0) {
                v.service = s.1;
            }
        }
    }
    let at_protocol = At::line(file, protocol_line.unwrap_or(v.line), "protocol");
    // A bad address was said once; nothing more follows from it.
    let address_ok = address.is_some();
    match (v.address, v.protocol) {
        _ if !address_ok => {}
        (Address::Fwmark { .. }, p) if p != Protocol::Fwm => {
            diags.error(&at_protocol, "a firewall-mark service has protocol fwm")
        }
        (Address::Socket { .. }, Protocol::Fwm) => diags.error(
            &at_protocol,
            "fwm is for a firewall-mark service (`virtual = MARK`)",
        ),
        _ => {}
    }
    if v.checktype == CheckType::External && v.checkcommand.is_none() {
        diags.error(at, "checktype = external needs checkcommand");
    }
    if v.reals.is_empty() {
        diags.error(at, "no `real =` server in this virtual service");
    }
    for r in v.reals.iter().filter(|_| address_ok) {
        let family = |ip: &IpAddr| ip.is_ipv6();
        let vs_family = match v.address {
            Address::Socket { ip, .. } => family(&ip),
            Address::Fwmark { ipv6, .. } => ipv6,
        };
        if family(&r.ip) != vs_family {
            diags.error(
                at,
                format!(
                    "real server {} is not of the virtual service's address family",
                    r.ip
                ),
            );
        }
        if r.forward != Forward::Masq {
            if let (Some(p), Address::Socket { port, .. }) = (r.port, v.address) {
                if p != port {
                    diags.error(at, format!("real server {}:{p}: only masq (NAT) may change the port (virtual port {port})", r.ip));
                }
            }
        }
    }
    (diags.errors().count() == errors_before).then_some(v)
}

fn check_duplicates(d: &Director, file: &str, diags: &mut Diagnostics) {
    for (i, v) in d.virtuals.iter().enumerate() {
        if let Some(first) = d.virtuals[..i]
            .iter()
            .find(|w| w.address == v.address && w.protocol == v.protocol)
        {
            diags.error(
                &At::line(file, v.line, "virtual"),
                format!("the same service as line {}", first.line),
            );
        }
    }
}

fn check_type(value: &str) -> Result<CheckType, String> {
    Ok(match value.to_ascii_lowercase().as_str() {
        "connect" => CheckType::Connect,
        "negotiate" => CheckType::Negotiate,
        "external" => CheckType::External,
        "ping" => CheckType::Ping,
        "off" => CheckType::Off,
        "on" => CheckType::On,
        "external-perl" => {
            return Err("tandem runs no Perl: use checktype = external with a program".into())
        }
        n if n.bytes().all(|b| b.is_ascii_digit()) && !n.is_empty() => {
            CheckType::Combined(parse_in(n, 1u32, 1000, "a number of connect checks")?)
        }
        _ => {
            return Err(format!(
                "`{value}` is not connect, negotiate, external, ping, off, on or a number"
            ))
        }
    })
}

fn port(text: &str) -> Result<u16, String> {
    if let Some((_, p)) = PORT_NAMES.iter().find(|(n, _)| *n == text) {
        return Ok(*p);
    }
    parse_in(text, 1u16, 65535, "a port")
        .map_err(|_| format!("`{text}` is not a port (1 to 65535, or a name such as http)"))
}

/// `IP:PORT`, `[IPv6]:PORT`, or a firewall mark.
fn virtual_address(text: &str, ipv6: bool) -> Result<Address, String> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        let mark = parse_in(text, 1u32, u32::MAX, "a firewall mark")?;
        return Ok(Address::Fwmark { mark, ipv6 });
    }
    let (ip, port_text) = host_port(text)?;
    let Some(port_text) = port_text else {
        return Err(format!(
            "`{text}` has no port (write IP:PORT, or a firewall mark)"
        ));
    };
    if ip.is_ipv6() != ipv6 {
        let want = if ipv6 {
            "an IPv4 service is written `virtual = IP:PORT`"
        } else {
            "an IPv6 service is written `virtual6 = [IPv6]:PORT`"
        };
        return Err(format!("`{text}`: {want}"));
    }
    Ok(Address::Socket {
        ip,
        port: port(port_text)?,
    })
}

/// Splits `IP[:PORT]` or `[IPv6][:PORT]`.
fn host_port(text: &str) -> Result<(IpAddr, Option<&str>), String> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (h, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("`{text}`: no closing `]`"))?;
        let port = match after {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .ok_or_else(|| format!("`{text}`: expected `:PORT` after `]`"))?,
            ),
        };
        (h, port)
    } else if text.matches(':').count() > 1 {
        (text, None)
    } else {
        match text.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (text, None),
        }
    };
    let ip = host.parse::<IpAddr>().map_err(|_| {
        format!("`{host}` is not an IP address (tandem does not resolve host names here; write the address)")
    })?;
    Ok((ip, port))
}

fn netmask(text: &str, ipv6: bool) -> Result<u32, String> {
    if ipv6 {
        return parse_in(text, 1u32, 128, "an IPv6 prefix length");
    }
    let mask: Ipv4Addr = text
        .parse()
        .map_err(|_| format!("`{text}` is not an IPv4 netmask (255.255.255.0)"))?;
    let bits = u32::from(mask);
    if bits.leading_ones() + bits.trailing_zeros() != 32 {
        return Err(format!("`{text}` is not a contiguous netmask"));
    }
    Ok(bits)
}

/// Splits on whitespace and commas, keeping "double-quoted" text whole.
fn words(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() || c == ',' {
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut word = String::new();
            loop {
                match chars.next() {
                    Some('"') => break,
                    Some('\\') => word.extend(chars.next()),
                    Some(ch) => word.push(ch),
                    None => return Err("a quoted string is not closed".into()),
                }
            }
            out.push(word);
        } else {
            let mut word = String::new();
            while let Some(&ch) = chars.peek() {
                if ch.is_whitespace() || ch == ',' {
                    break;
                }
                word.push(ch);
                chars.next();
            }
            out.push(word);
        }
    }
    Ok(out)
}

/// `IP[->IP][:PORT] gate|masq|ipip [WEIGHT] ["request", "receive"]`.
fn real_server(text: &str) -> Result<Vec<Real>, String> {
    let words = words(text)?;
    let Some(first) = words.first() else {
        return Err("expected IP[:PORT] gate|masq|ipip [WEIGHT]".into());
    };
    let forward = match words.get(1).map(|w| w.to_ascii_lowercase()).as_deref() {
        Some("gate") | None => Forward::Gate,
        Some("masq") => Forward::Masq,
        Some("ipip") => Forward::Ipip,
        Some(other) => return Err(format!("`{other}` is not gate, masq or ipip")),
    };
    let weight = match words.get(2) {
        Some(w) => parse_in(w, 0u32, i32::MAX as u32, "a weight")?,
        None => 1,
    };
    let (request, receive) = match &words[words.len().min(3)..] {
        [] => (None, None),
        [req, rec] => {
            pattern(rec)?;
            (Some(req.clone()), Some(rec.clone()))
        }
        _ => return Err("after the weight, expected \"request\", \"receive\"".into()),
    };
    let (range, port_text) = match first.split_once("->") {
        Some((a, b)) => {
            let (b_ip, p) = host_port(b)?;
            (Some((a, b_ip)), p)
        }
        None => (None, None),
    };
    let mut ips = Vec::new();
    let port_text = match range {
        Some((a, b)) => {
            let a: IpAddr = a
                .parse()
                .map_err(|_| format!("`{a}` is not an IP address"))?;
            let (IpAddr::V4(a), IpAddr::V4(b)) = (a, b) else {
                return Err("ranges are for IPv4 addresses".into());
            };
            let (a, b) = (u32::from(a), u32::from(b));
            if b < a || b - a >= RANGE_MAX {
                return Err(format!(
                    "`{first}`: a range runs upwards and names at most {RANGE_MAX} servers"
                ));
            }
            ips.extend((a..=b).map(|n| IpAddr::V4(Ipv4Addr::from(n))));
            port_text
        }
        None => {
            let (ip, p) = host_port(first)?;
            ips.push(ip);
            p
        }
    };
    let port = port_text.map(port).transpose()?;
    Ok(ips
        .into_iter()
        .map(|ip| Real {
            ip,
            port,
            forward,
            weight,
            request: request.clone(),
            receive: receive.clone(),
        })
        .collect())
}

/// `receive` is a regular expression, as in ldirectord (Perl's syntax;
/// the common subset is the same).
fn pattern(text: &str) -> Result<(), String> {
    regex::Regex::new(text).map(|_| ()).map_err(|e| {
        let why = e.to_string();
        let last = why.lines().last().unwrap_or("invalid").trim().to_string();
        format!("`{text}` is not a regular expression: {last}")
    })
}

/// A plain mail address: mail alerts go through sendmail's argv, and a
/// leading `-` or shell characters have no business in one.
fn mail_address(text: &str) -> Result<(), String> {
    let ok = text.split(',').all(|a| {
        let a = a.trim();
        !a.starts_with('-')
            && a.contains('@')
            && a.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"@._+-".contains(&b))
    });
    if ok {
        Ok(())
    } else {
        Err(format!("`{text}` is not a plain mail address (user@host)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FARM: &str = "\
# Ultra Monkey's example, with TEST-NET addresses
checktimeout=10
checkinterval=2
autoreload=no
logfile=\"local0\"
quiescent=yes

virtual=192.0.2.10:80
\treal=198.51.100.2:80 gate
\treal=198.51.100.3:80 gate 3
\tfallback=127.0.0.1:80 gate
\tservice=http
\trequest=\"index.html\"
\treceive=\"Test Page\"
\tvirtualhost=www.example.test
\tscheduler=rr
\tpersistent=600
\tnetmask=255.255.255.0
\tprotocol=tcp
\tchecktype=negotiate
\tcheckport=80

virtual = 192.0.2.10:https
        real = 198.51.100.10->198.51.100.12 masq 2
        checktype = connect
        quiescent = no
        failurecount = 3

virtual=7
\treal=198.51.100.2 gate
\tchecktype=5
\tservice=imap
\tcheckport=143

virtual6=[2001:db8::10]:25
\treal6=[2001:db8::2]:25 ipip 1 \"HELO\", \"250\"
\tchecktype=negotiate
";

    fn parse_ok(text: &str) -> Director {
        let (d, diags) = parse("ldirectord.cf", text.as_bytes());
        assert!(!diags.has_errors(), "{:?}", diags.into_vec());
        d.expect("parsed")
    }

    fn errors(text: &str) -> Vec<String> {
        let (d, diags) = parse("ldirectord.cf", text.as_bytes());
        assert!(d.is_none());
        diags.errors().map(|e| e.to_string()).collect()
    }

    #[test]
    fn reads_a_farm() {
        let d = parse_ok(FARM);
        assert_eq!(d.global.checkinterval, Time::from_secs(2));
        assert_eq!(d.global.checktimeout, Some(Time::from_secs(10)));
        assert_eq!(d.logfile.as_deref(), Some("local0"));
        assert_eq!(d.virtuals.len(), 4);
        let web = &d.virtuals[0];
        assert_eq!(
            web.address,
            Address::Socket {
                ip: "192.0.2.10".parse().unwrap(),
                port: 80
            }
        );
        assert_eq!(web.reals.len(), 2);
        assert_eq!(web.reals[1].weight, 3);
        assert_eq!(web.scheduler, "rr");
        assert_eq!(web.persistent, Some(600));
        assert_eq!(web.netmask, Some(0xffff_ff00));
        assert_eq!(web.service, Service::Http);
        assert_eq!(web.request.as_deref(), Some("index.html"));
        assert_eq!(web.receive.as_deref(), Some("Test Page"));
        assert_eq!(web.virtualhost.as_deref(), Some("www.example.test"));
        assert_eq!(
            web.settings.fallback.as_ref().map(|f| f.ip),
            Some("127.0.0.1".parse().unwrap())
        );
        let tls = &d.virtuals[1];
        // The service from the port name, as ldirectord does.
        assert_eq!(tls.service, Service::Https);
        assert_eq!(tls.reals.len(), 3);
        assert!(tls
            .reals
            .iter()
            .all(|r| r.forward == Forward::Masq && r.weight == 2));
        assert!(!tls.settings.quiescent);
        assert_eq!(tls.settings.failurecount, 3);
        // Inherited from the global section.
        assert_eq!(tls.settings.checkinterval, Time::from_secs(2));
        assert_eq!(tls.scheduler, "wrr");
        let mark = &d.virtuals[2];
        assert_eq!(
            mark.address,
            Address::Fwmark {
                mark: 7,
                ipv6: false
            }
        );
        assert_eq!(mark.protocol, Protocol::Fwm);
        assert_eq!(mark.checktype, CheckType::Combined(5));
        let mail = &d.virtuals[3];
        assert_eq!(mail.service, Service::Smtp);
        assert_eq!(mail.reals[0].forward, Forward::Ipip);
        assert_eq!(mail.reals[0].request.as_deref(), Some("HELO"));
        assert_eq!(mail.reals[0].receive.as_deref(), Some("250"));
    }

    #[test]
    fn every_mistake_is_named_at_its_line() {
        let text = "\
checkinterval=0
bogus=1
virtual=192.0.2.10
\treal=198.51.100.2:80 gate
virtual=192.0.2.11:80
\treal=198.51.100.2:81 gate
\tscheduler=fastest
\tservice=mysql
\tchecktype=external
\tfrobnicate=yes
\tnetmask=255.0.255.0
virtual=192.0.2.12:80
virtual=www.example.test:80
\treal=198.51.100.2 gate
virtual=192.0.2.13:80
\treal=198.51.100.9->198.51.100.2 gate
virtual=192.0.2.14:80
\treal=[2001:db8::2] gate
\temailalert=-oQ/tmp/x
\treceive=\"ok(\"
";
        assert_eq!(
            errors(text),
            [
                "ldirectord.cf:1: checkinterval: must be more than zero",
                "ldirectord.cf:2: bogus: unknown global directive",
                "ldirectord.cf:3: virtual: `192.0.2.10` has no port (write IP:PORT, or a firewall mark)",
                "ldirectord.cf:7: scheduler: `fastest` is not one of rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh, twos",
                "ldirectord.cf:8: service: tandem does not check `mysql` servers (yet): use checktype = connect or external",
                "ldirectord.cf:10: frobnicate: unknown virtual service directive",
                "ldirectord.cf:11: netmask: `255.0.255.0` is not a contiguous netmask",
                "ldirectord.cf:5: virtual: checktype = external needs checkcommand",
                "ldirectord.cf:5: virtual: real server 198.51.100.2:81: only masq (NAT) may change the port (virtual port 80)",
                "ldirectord.cf:12: virtual: no `real =` server in this virtual service",
                "ldirectord.cf:13: virtual: `www.example.test` is not an IP address (tandem does not resolve host names here; write the address)",
                "ldirectord.cf:16: real: `198.51.100.9->198.51.100.2`: a range runs upwards and names at most 1024 servers",
                "ldirectord.cf:15: virtual: no `real =` server in this virtual service",
                "ldirectord.cf:19: emailalert: `-oQ/tmp/x` is not a plain mail address (user@host)",
                "ldirectord.cf:20: receive: `ok(` is not a regular expression: error: unclosed group",
                "ldirectord.cf:17: virtual: real server 2001:db8::2 is not of the virtual service's address family",
            ]
        );
    }

    #[test]
    fn hostile_input_is_refused_without_panic() {
        for text in [
            "\treal=1.2.3.4",
            "virtual=1:2:3",
            "virtual=[::1",
            "virtual=192.0.2.1:80\n\treal=\"unclosed",
            "virtual=192.0.2.1:99999\n\treal=198.51.100.1 gate",
            "virtual=0\n\treal=198.51.100.1",
            "=",
            "virtual=192.0.2.1:80\n\treal=198.51.100.1 gate 1 \"a\"",
        ] {
            let (d, diags) = parse("f", text.as_bytes());
            assert!(d.is_none() && diags.has_errors(), "{text:?} accepted");
        }
    }

    #[test]
    fn duplicate_services_are_refused() {
        let text = "virtual=192.0.2.1:80\n\treal=198.51.100.1 gate\nvirtual=192.0.2.1:80\n\treal=198.51.100.2 gate\n";
        assert_eq!(
            errors(text),
            ["ldirectord.cf:3: virtual: the same service as line 1"]
        );
    }
}
