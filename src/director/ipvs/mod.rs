//! The kernel's IPVS table over generic netlink (family "IPVS", version 1;
//! include/uapi/linux/ip_vs.h): the messages, built and read by hand (a
//! few dozen attributes do not need a framework), and a synchronous
//! socket that reads the table and applies a plan's operations.
//!
//! Replies are parsed with bounds on every length: a malformed message is
//! an error, never a panic.

use super::table::{DestConf, DestKey, Op, ServiceConf, ServiceKey, Table};
use crate::config::haresources::SyncRole;
use crate::config::ldirectord::Forward;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

#[derive(Debug, thiserror::Error)]
pub enum IpvsError {
    #[error(
        "this kernel has no IPVS (the ip_vs module is not loaded and cannot be: modprobe ip_vs)"
    )]
    NoIpvs,
    #[error("netlink: {0}")]
    Io(#[from] std::io::Error),
    #[error("the kernel refused {what}: {source}")]
    Refused {
        what: String,
        source: std::io::Error,
    },
    #[error("malformed netlink reply: {0}")]
    Malformed(&'static str),
}

// Netlink and generic netlink.
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_MULTI: u16 = 0x2;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_DUMP: u16 = 0x300;
const NLA_F_NESTED: u16 = 0x8000;
const GENL_ID_CTRL: u16 = 0x10;
const CTRL_CMD_GETFAMILY: u8 = 3;
const CTRL_ATTR_FAMILY_ID: u16 = 1;
const CTRL_ATTR_FAMILY_NAME: u16 = 2;

// IPVS commands.
const IPVS_GENL_VERSION: u8 = 1;
const CMD_NEW_SERVICE: u8 = 1;
const CMD_SET_SERVICE: u8 = 2;
const CMD_DEL_SERVICE: u8 = 3;
const CMD_GET_SERVICE: u8 = 4;
const CMD_NEW_DEST: u8 = 5;
const CMD_SET_DEST: u8 = 6;
const CMD_DEL_DEST: u8 = 7;
const CMD_GET_DEST: u8 = 8;
const CMD_NEW_DAEMON: u8 = 9;
const CMD_DEL_DAEMON: u8 = 10;
const CMD_GET_DAEMON: u8 = 11;

// Top-level attributes.
const ATTR_SERVICE: u16 = 1;
const ATTR_DEST: u16 = 2;
const ATTR_DAEMON: u16 = 3;

// Sync daemon attributes.
const DAEMON_STATE: u16 = 1;
const DAEMON_MCAST_IFN: u16 = 2;
const DAEMON_SYNC_ID: u16 = 3;
const DAEMON_MCAST_GROUP: u16 = 5;
const DAEMON_MCAST_GROUP6: u16 = 6;
const DAEMON_MCAST_PORT: u16 = 7;

// Service attributes.
const SVC_AF: u16 = 1;
const SVC_PROTOCOL: u16 = 2;
const SVC_ADDR: u16 = 3;
const SVC_PORT: u16 = 4;
const SVC_FWMARK: u16 = 5;
const SVC_SCHED_NAME: u16 = 6;
const SVC_FLAGS: u16 = 7;
const SVC_TIMEOUT: u16 = 8;
const SVC_NETMASK: u16 = 9;

// Destination attributes.
const DEST_ADDR: u16 = 1;
const DEST_PORT: u16 = 2;
const DEST_FWD_METHOD: u16 = 3;
const DEST_WEIGHT: u16 = 4;
const DEST_U_THRESH: u16 = 5;
const DEST_L_THRESH: u16 = 6;
const DEST_ADDR_FAMILY: u16 = 11;

const AF_INET: u16 = 2;
const AF_INET6: u16 = 10;

const F_PERSISTENT: u32 = 0x1;
const F_ONEPACKET: u32 = 0x4;
/// The service flags the director owns; the scheduler's own flags
/// (sh-fallback, sh-port, …) are left as they are.
const F_MANAGED: u32 = F_PERSISTENT | F_ONEPACKET;

const FWD_MASQ: u32 = 0;
const FWD_TUNNEL: u32 = 2;
const FWD_DROUTE: u32 = 3;
const FWD_MASK: u32 = 0x7;

/// A netlink message under construction.
struct Msg {
    buf: Vec<u8>,
    /// Offsets of nested attributes still open.
    open: Vec<usize>,
}

impl Msg {
    fn new(kind: u16, flags: u16, seq: u32, cmd: u8, version: u8) -> Msg {
        let mut buf = Vec::with_capacity(128);
        buf.extend_from_slice(&0u32.to_ne_bytes());
        buf.extend_from_slice(&kind.to_ne_bytes());
        buf.extend_from_slice(&flags.to_ne_bytes());
        buf.extend_from_slice(&seq.to_ne_bytes());
        buf.extend_from_slice(&0u32.to_ne_bytes());
        buf.extend_from_slice(&[cmd, version, 0, 0]);
        Msg {
            buf,
            open: Vec::new(),
        }
    }

    fn attr(&mut self, kind: u16, payload: &[u8]) -> &mut Msg {
        let len = (4 + payload.len()) as u16;
        self.buf.extend_from_slice(&len.to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.buf.extend_from_slice(payload);
        self.pad();
        self
    }

    fn pad(&mut self) {
        while !self.buf.len().is_multiple_of(4) {
            self.buf.push(0);
        }
    }

    fn u16(&mut self, kind: u16, v: u16) -> &mut Msg {
        self.attr(kind, &v.to_ne_bytes())
    }

    fn u32(&mut self, kind: u16, v: u32) -> &mut Msg {
        self.attr(kind, &v.to_ne_bytes())
    }

    fn begin(&mut self, kind: u16) -> &mut Msg {
        self.open.push(self.buf.len());
        self.buf.extend_from_slice(&0u16.to_ne_bytes());
        self.buf
            .extend_from_slice(&(kind | NLA_F_NESTED).to_ne_bytes());
        self
    }

    fn end(&mut self) -> &mut Msg {
        if let Some(at) = self.open.pop() {
            let len = (self.buf.len() - at) as u16;
            self.buf[at..at + 2].copy_from_slice(&len.to_ne_bytes());
        }
        self
    }

    fn finish(mut self) -> Vec<u8> {
        let len = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&len.to_ne_bytes());
        self.buf
    }
}

fn family_of(ip: &IpAddr) -> u16 {
    if ip.is_ipv6() {
        AF_INET6
    } else {
        AF_INET
    }
}

/// `union nf_inet_addr`: 16 bytes, an IPv4 address in the first four.
fn inet_addr(ip: &IpAddr) -> [u8; 16] {
    let mut a = [0u8; 16];
    match ip {
        IpAddr::V4(v4) => a[..4].copy_from_slice(&v4.octets()),
        IpAddr::V6(v6) => a.copy_from_slice(&v6.octets()),
    }
    a
}

/// The attributes that name a service (its key).
fn service_key_attrs(m: &mut Msg, key: &ServiceKey) {
    match key {
        ServiceKey::Socket { protocol, ip, port } => {
            m.u16(SVC_AF, family_of(ip))
                .u16(SVC_PROTOCOL, *protocol)
                .attr(SVC_ADDR, &inet_addr(ip))
                .attr(SVC_PORT, &port.to_be_bytes());
        }
        ServiceKey::Fwmark { mark, family } => {
            m.u16(SVC_AF, *family).u32(SVC_FWMARK, *mark);
        }
    }
}

fn is_ipv6(key: &ServiceKey) -> bool {
    match key {
        ServiceKey::Socket { ip, .. } => ip.is_ipv6(),
        ServiceKey::Fwmark { family, .. } => *family == AF_INET6,
    }
}

fn service_conf_attrs(m: &mut Msg, key: &ServiceKey, conf: &ServiceConf) {
    let mut flags = 0;
    if conf.persistent.is_some() {
        flags |= F_PERSISTENT;
    }
    if conf.one_packet {
        flags |= F_ONEPACKET;
    }
    let mut fl = [0u8; 8];
    fl[..4].copy_from_slice(&flags.to_ne_bytes());
    fl[4..].copy_from_slice(&F_MANAGED.to_ne_bytes());
    // The kernel reads the netmask as a big-endian IPv4 mask, or (IPv6)
    // as the prefix length in host order, as ipvsadm writes them.
    let netmask = if is_ipv6(key) {
        conf.netmask.to_ne_bytes()
    } else {
        conf.netmask.to_be_bytes()
    };
    m.attr(SVC_SCHED_NAME, &nul_terminated(&conf.scheduler))
        .attr(SVC_FLAGS, &fl)
        .u32(SVC_TIMEOUT, conf.persistent.unwrap_or(0))
        .attr(SVC_NETMASK, &netmask);
}

fn nul_terminated(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    v
}

fn forward_code(f: Forward) -> u32 {
    match f {
        Forward::Gate => FWD_DROUTE,
        Forward::Masq => FWD_MASQ,
        Forward::Ipip => FWD_TUNNEL,
    }
}

fn dest_attrs(m: &mut Msg, d: &DestKey, conf: Option<&DestConf>) {
    m.begin(ATTR_DEST)
        .attr(DEST_ADDR, &inet_addr(&d.ip))
        .attr(DEST_PORT, &d.port.to_be_bytes())
        .u16(DEST_ADDR_FAMILY, family_of(&d.ip));
    if let Some(c) = conf {
        m.u32(DEST_FWD_METHOD, forward_code(c.forward))
            .u32(DEST_WEIGHT, c.weight)
            .u32(DEST_U_THRESH, 0)
            .u32(DEST_L_THRESH, 0);
    }
    m.end();
}

/// The request that carries out `op`, acknowledged.
pub fn encode(op: &Op, family: u16, seq: u32) -> Vec<u8> {
    let flags = NLM_F_REQUEST | NLM_F_ACK;
    let (cmd, key) = match op {
        Op::AddService(k, _) => (CMD_NEW_SERVICE, k),
        Op::EditService(k, _) => (CMD_SET_SERVICE, k),
        Op::DelService(k) => (CMD_DEL_SERVICE, k),
        Op::AddDest(k, ..) => (CMD_NEW_DEST, k),
        Op::EditDest(k, ..) => (CMD_SET_DEST, k),
        Op::DelDest(k, _) => (CMD_DEL_DEST, k),
    };
    let mut m = Msg::new(family, flags, seq, cmd, IPVS_GENL_VERSION);
    m.begin(ATTR_SERVICE);
    service_key_attrs(&mut m, key);
    if let Op::AddService(k, c) | Op::EditService(k, c) = op {
        service_conf_attrs(&mut m, k, c);
    }
    m.end();
    match op {
        Op::AddDest(_, d, c) | Op::EditDest(_, d, c) => dest_attrs(&mut m, d, Some(c)),
        Op::DelDest(_, d) => dest_attrs(&mut m, d, None),
        _ => {}
    }
    m.finish()
}

/// The connection-sync daemon's role (the active director's master sends
/// its connection table, the standby's backup receives it) as the kernel
/// numbers it.
fn role_code(role: SyncRole) -> u32 {
    match role {
        SyncRole::Master => 1,
        SyncRole::Backup => 2,
    }
}

/// One sync daemon as the kernel runs it (ipvsadm --start-daemon).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SyncDaemon {
    pub role: SyncRole,
    pub interface: String,
    pub syncid: u32,
    /// The multicast group and port (`None`: the kernel's 224.0.0.81:8848).
    pub group: Option<IpAddr>,
    pub port: Option<u16>,
}

/// Starts a sync daemon (`start`) or stops the one in `d.role`.
pub fn daemon_request(family: u16, seq: u32, d: &SyncDaemon, start: bool) -> Vec<u8> {
    let cmd = if start {
        CMD_NEW_DAEMON
    } else {
        CMD_DEL_DAEMON
    };
    let mut m = Msg::new(
        family,
        NLM_F_REQUEST | NLM_F_ACK,
        seq,
        cmd,
        IPVS_GENL_VERSION,
    );
    m.begin(ATTR_DAEMON).u32(DAEMON_STATE, role_code(d.role));
    if start {
        m.attr(DAEMON_MCAST_IFN, &nul_terminated(&d.interface))
            .u32(DAEMON_SYNC_ID, d.syncid);
        match d.group {
            Some(IpAddr::V4(g)) => {
                m.attr(DAEMON_MCAST_GROUP, &g.octets());
            }
            Some(IpAddr::V6(g)) => {
                m.attr(DAEMON_MCAST_GROUP6, &g.octets());
            }
            None => {}
        }
        if let Some(p) = d.port {
            m.u16(DAEMON_MCAST_PORT, p);
        }
    }
    m.end();
    m.finish()
}

pub fn daemons_request(family: u16, seq: u32) -> Vec<u8> {
    Msg::new(
        family,
        NLM_F_REQUEST | NLM_F_DUMP,
        seq,
        CMD_GET_DAEMON,
        IPVS_GENL_VERSION,
    )
    .finish()
}

/// A GET_DAEMON reply: the role, interface and sync id (the kernel does
/// not report the group or port).
pub fn parse_daemon(r: &Reply<'_>) -> Result<SyncDaemon, IpvsError> {
    let top = attrs(r.payload.get(4..).unwrap_or(&[]))?;
    let a = attrs(get(&top, ATTR_DAEMON).ok_or(IpvsError::Malformed("no daemon"))?)?;
    let role = match u32_of(get(&a, DAEMON_STATE)) {
        Some(1) => SyncRole::Master,
        Some(2) => SyncRole::Backup,
        _ => return Err(IpvsError::Malformed("daemon state")),
    };
    let interface = get(&a, DAEMON_MCAST_IFN).unwrap_or(&[]);
    let interface = interface.split(|&b| b == 0).next().unwrap_or(&[]);
    Ok(SyncDaemon {
        role,
        interface: String::from_utf8_lossy(interface).into_owned(),
        syncid: u32_of(get(&a, DAEMON_SYNC_ID)).unwrap_or(0),
        group: None,
        port: None,
    })
}

/// Asks the generic netlink controller for the IPVS family's id.
pub fn family_request(seq: u32) -> Vec<u8> {
    let mut m = Msg::new(GENL_ID_CTRL, NLM_F_REQUEST, seq, CTRL_CMD_GETFAMILY, 1);
    m.attr(CTRL_ATTR_FAMILY_NAME, &nul_terminated("IPVS"));
    m.finish()
}

pub fn services_request(family: u16, seq: u32) -> Vec<u8> {
    Msg::new(
        family,
        NLM_F_REQUEST | NLM_F_DUMP,
        seq,
        CMD_GET_SERVICE,
        IPVS_GENL_VERSION,
    )
    .finish()
}

pub fn dests_request(family: u16, seq: u32, key: &ServiceKey) -> Vec<u8> {
    let mut m = Msg::new(
        family,
        NLM_F_REQUEST | NLM_F_DUMP,
        seq,
        CMD_GET_DEST,
        IPVS_GENL_VERSION,
    );
    m.begin(ATTR_SERVICE);
    service_key_attrs(&mut m, key);
    m.end();
    m.finish()
}

/// One netlink message read from a buffer.
#[derive(Debug)]
pub struct Reply<'a> {
    pub kind: u16,
    pub flags: u16,
    pub seq: u32,
    /// After the netlink header.
    pub payload: &'a [u8],
}

/// Splits a datagram into its messages.
pub fn messages(mut buf: &[u8]) -> Result<Vec<Reply<'_>>, IpvsError> {
    let mut out = Vec::new();
    while buf.len() >= 16 {
        let len = u32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
        if len < 16 || len > buf.len() {
            return Err(IpvsError::Malformed("message length"));
        }
        out.push(Reply {
            kind: u16::from_ne_bytes([buf[4], buf[5]]),
            flags: u16::from_ne_bytes([buf[6], buf[7]]),
            seq: u32::from_ne_bytes([buf[8], buf[9], buf[10], buf[11]]),
            payload: &buf[16..len],
        });
        let next = (len + 3) & !3;
        buf = buf.get(next..).unwrap_or(&[]);
    }
    Ok(out)
}

/// The attributes in `buf`: (type without flags, payload).
fn attrs(mut buf: &[u8]) -> Result<Vec<(u16, &[u8])>, IpvsError> {
    let mut out = Vec::new();
    while buf.len() >= 4 {
        let len = u16::from_ne_bytes([buf[0], buf[1]]) as usize;
        let kind = u16::from_ne_bytes([buf[2], buf[3]]) & 0x3fff;
        if len < 4 || len > buf.len() {
            return Err(IpvsError::Malformed("attribute length"));
        }
        out.push((kind, &buf[4..len]));
        let next = (len + 3) & !3;
        buf = buf.get(next..).unwrap_or(&[]);
    }
    Ok(out)
}

fn get<'a>(list: &[(u16, &'a [u8])], kind: u16) -> Option<&'a [u8]> {
    list.iter().find(|(k, _)| *k == kind).map(|(_, v)| *v)
}

fn u16_of(v: Option<&[u8]>) -> Option<u16> {
    Some(u16::from_ne_bytes(v?.get(..2)?.try_into().ok()?))
}

fn u32_of(v: Option<&[u8]>) -> Option<u32> {
    Some(u32::from_ne_bytes(v?.get(..4)?.try_into().ok()?))
}

fn be16_of(v: Option<&[u8]>) -> Option<u16> {
    Some(u16::from_be_bytes(v?.get(..2)?.try_into().ok()?))
}

fn ip_of(v: Option<&[u8]>, family: u16) -> Option<IpAddr> {
    let v = v?;
    match family {
        AF_INET => Some(IpAddr::V4(Ipv4Addr::from(
            <[u8; 4]>::try_from(v.get(..4)?).ok()?,
        ))),
        AF_INET6 => Some(IpAddr::V6(Ipv6Addr::from(
            <[u8; 16]>::try_from(v.get(..16)?).ok()?,
        ))),
        _ => None,
    }
}

/// The error code of an NLMSG_ERROR message (0: an acknowledgement).
pub fn error_code(r: &Reply<'_>) -> Result<i32, IpvsError> {
    let b = r
        .payload
        .get(..4)
        .ok_or(IpvsError::Malformed("error message"))?;
    Ok(i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
}

/// The IPVS family id from the controller's reply.
pub fn parse_family(r: &Reply<'_>) -> Result<u16, IpvsError> {
    let list = attrs(r.payload.get(4..).unwrap_or(&[]))?;
    u16_of(get(&list, CTRL_ATTR_FAMILY_ID)).ok_or(IpvsError::Malformed("family id"))
}

/// One service of a GET_SERVICE dump.
pub fn parse_service(r: &Reply<'_>) -> Result<(ServiceKey, ServiceConf), IpvsError> {
    let top = attrs(r.payload.get(4..).unwrap_or(&[]))?;
    let svc = attrs(get(&top, ATTR_SERVICE).ok_or(IpvsError::Malformed("no service"))?)?;
    let bad = IpvsError::Malformed;
    let af = u16_of(get(&svc, SVC_AF)).ok_or(bad("service family"))?;
    let key = match u32_of(get(&svc, SVC_FWMARK)) {
        Some(mark) if mark != 0 => ServiceKey::Fwmark { mark, family: af },
        _ => ServiceKey::Socket {
            protocol: u16_of(get(&svc, SVC_PROTOCOL)).ok_or(bad("service protocol"))?,
            ip: ip_of(get(&svc, SVC_ADDR), af).ok_or(bad("service address"))?,
            port: be16_of(get(&svc, SVC_PORT)).ok_or(bad("service port"))?,
        },
    };
    let sched = get(&svc, SVC_SCHED_NAME).ok_or(bad("scheduler"))?;
    let sched = sched.split(|&b| b == 0).next().unwrap_or(&[]);
    let flags = u32_of(get(&svc, SVC_FLAGS)).ok_or(bad("service flags"))?;
    let timeout = u32_of(get(&svc, SVC_TIMEOUT)).unwrap_or(0);
    let raw = get(&svc, SVC_NETMASK)
        .and_then(|v| v.get(..4))
        .ok_or(bad("netmask"))?;
    let raw: [u8; 4] = raw.try_into().map_err(|_| bad("netmask"))?;
    let netmask = if af == AF_INET6 {
        u32::from_ne_bytes(raw)
    } else {
        u32::from_be_bytes(raw)
    };
    Ok((
        key,
        ServiceConf {
            scheduler: String::from_utf8_lossy(sched).into_owned(),
            persistent: (flags & F_PERSISTENT != 0).then_some(timeout),
            netmask,
            one_packet: flags & F_ONEPACKET != 0,
        },
    ))
}

/// One real server of a GET_DEST dump.
pub fn parse_dest(r: &Reply<'_>, service_family: u16) -> Result<(DestKey, DestConf), IpvsError> {
    let top = attrs(r.payload.get(4..).unwrap_or(&[]))?;
    let d = attrs(get(&top, ATTR_DEST).ok_or(IpvsError::Malformed("no destination"))?)?;
    let bad = IpvsError::Malformed;
    let af = u16_of(get(&d, DEST_ADDR_FAMILY)).unwrap_or(service_family);
    let fwd = u32_of(get(&d, DEST_FWD_METHOD)).ok_or(bad("forwarding method"))? & FWD_MASK;
    let forward = match fwd {
        FWD_MASQ => Forward::Masq,
        FWD_TUNNEL => Forward::Ipip,
        // Direct routing; a local real server reads as LOCALNODE (1),
        // which the kernel chose, not the director.
        _ => Forward::Gate,
    };
    Ok((
        DestKey {
            ip: ip_of(get(&d, DEST_ADDR), af).ok_or(bad("destination address"))?,
            port: be16_of(get(&d, DEST_PORT)).ok_or(bad("destination port"))?,
        },
        DestConf {
            forward,
            weight: u32_of(get(&d, DEST_WEIGHT)).ok_or(bad("weight"))?,
        },
    ))
}

/// A generic netlink socket speaking to the kernel's IPVS.
pub struct Ipvs {
    socket: netlink_sys::Socket,
    family: u16,
    seq: u32,
}

impl Ipvs {
    /// Opens the socket and finds the IPVS family (asking for it loads
    /// the ip_vs module where it exists).
    pub fn open() -> Result<Ipvs, IpvsError> {
        let mut socket = netlink_sys::Socket::new(netlink_sys::protocols::NETLINK_GENERIC)?;
        socket.bind_auto()?;
        socket.connect(&netlink_sys::SocketAddr::new(0, 0))?;
        let mut ipvs = Ipvs {
            socket,
            family: 0,
            seq: 1,
        };
        let replies = ipvs.exchange(&family_request(1), "the IPVS family lookup");
        let replies = match replies {
            Err(IpvsError::Refused { source, .. })
                if source.raw_os_error() == Some(libc::ENOENT) =>
            {
                return Err(IpvsError::NoIpvs)
            }
            other => other?,
        };
        let family = replies
            .iter()
            .find_map(|buf| {
                messages(buf)
                    .ok()?
                    .iter()
                    .find(|r| r.kind == GENL_ID_CTRL)
                    .and_then(|r| parse_family(r).ok())
            })
            .ok_or(IpvsError::Malformed("no family id"))?;
        ipvs.family = family;
        Ok(ipvs)
    }

    /// Sends `req` and collects the reply datagrams until the kernel's
    /// acknowledgement, its error, or the end of a dump.
    fn exchange(&mut self, req: &[u8], what: &str) -> Result<Vec<Vec<u8>>, IpvsError> {
        self.socket.send(req, 0)?;
        let seq = u32::from_ne_bytes([req[8], req[9], req[10], req[11]]);
        let mut out = Vec::new();
        loop {
            let mut buf = Vec::with_capacity(64 * 1024);
            self.socket.recv(&mut buf, 0)?;
            let mut done = false;
            for r in messages(&buf)? {
                if r.seq != seq {
                    continue;
                }
                match r.kind {
                    NLMSG_ERROR => {
                        let code = error_code(&r)?;
                        if code != 0 {
                            return Err(IpvsError::Refused {
                                what: what.to_string(),
                                source: std::io::Error::from_raw_os_error(-code),
                            });
                        }
                        done = true;
                    }
                    NLMSG_DONE => done = true,
                    _ if r.flags & NLM_F_MULTI == 0 => done = true,
                    _ => {}
                }
            }
            out.push(buf);
            if done {
                return Ok(out);
            }
        }
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1).max(2);
        self.seq
    }

    /// The kernel's whole table.
    pub fn table(&mut self) -> Result<Table, IpvsError> {
        let seq = self.next_seq();
        let req = services_request(self.family, seq);
        let mut table = Table::default();
        for buf in self.exchange(&req, "the service dump")? {
            for r in messages(&buf)? {
                if r.kind == self.family {
                    let (key, conf) = parse_service(&r)?;
                    table.services.insert(key, (conf, BTreeMap::new()));
                }
            }
        }
        let keys: Vec<ServiceKey> = table.services.keys().copied().collect();
        for key in keys {
            let seq = self.next_seq();
            let req = dests_request(self.family, seq, &key);
            let family = if is_ipv6(&key) { AF_INET6 } else { AF_INET };
            let mut dests = BTreeMap::new();
            for buf in self.exchange(&req, "the real-server dump")? {
                for r in messages(&buf)? {
                    if r.kind == self.family {
                        let (d, c) = parse_dest(&r, family)?;
                        dests.insert(d, c);
                    }
                }
            }
            if let Some(entry) = table.services.get_mut(&key) {
                entry.1 = dests;
            }
        }
        Ok(table)
    }

    /// The sync daemons running (at most a master and a backup).
    pub fn daemons(&mut self) -> Result<Vec<SyncDaemon>, IpvsError> {
        let seq = self.next_seq();
        let req = daemons_request(self.family, seq);
        let mut out = Vec::new();
        for buf in self.exchange(&req, "the sync daemon dump")? {
            for r in messages(&buf)? {
                if r.kind == self.family {
                    out.push(parse_daemon(&r)?);
                }
            }
        }
        Ok(out)
    }

    /// Starts the sync daemon `d` (its role must not be running).
    pub fn start_daemon(&mut self, d: &SyncDaemon) -> Result<(), IpvsError> {
        let seq = self.next_seq();
        let req = daemon_request(self.family, seq, d, true);
        self.exchange(&req, &format!("starting the {:?} sync daemon", d.role))
            .map(|_| ())
    }

    /// Stops the sync daemon in `role`, if one runs.
    pub fn stop_daemon(&mut self, role: SyncRole) -> Result<(), IpvsError> {
        if !self.daemons()?.iter().any(|d| d.role == role) {
            return Ok(());
        }
        let seq = self.next_seq();
        let d = SyncDaemon {
            role,
            interface: String::new(),
            syncid: 0,
            group: None,
            port: None,
        };
        let req = daemon_request(self.family, seq, &d, false);
        self.exchange(&req, &format!("stopping the {role:?} sync daemon"))
            .map(|_| ())
    }

    /// Carries out one operation of a plan.
    pub fn apply(&mut self, op: &Op) -> Result<(), IpvsError> {
        let seq = self.next_seq();
        let req = encode(op, self.family, seq);
        self.exchange(&req, &format!("{op:?}")).map(|_| ())
    }
}

#[cfg(test)]
mod tests;
