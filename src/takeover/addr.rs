//! IP address aliases over rtnetlink: what IPaddr, IPaddr2 and IPv6addr
//! do, in-process. One synchronous request and its acknowledgement: the
//! kernel answers at once, so the event loop may wait for it.

use super::TakeoverError;
use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL,
    NLM_F_REQUEST,
};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};
use std::net::{IpAddr, Ipv4Addr};

/// An address on an interface, as IPaddr2's shorthand gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    pub ip: IpAddr,
    pub prefix: u8,
    pub device: String,
    /// IPv4 label (`eth0:web`), shown by ifconfig as an alias.
    pub label: Option<String>,
    pub broadcast: Option<Ipv4Addr>,
}

impl Alias {
    /// The broadcast address for an IPv4 alias: the given one, else the
    /// prefix's (as `ip addr add … brd +`).
    fn broadcast(&self) -> Option<Ipv4Addr> {
        let IpAddr::V4(ip) = self.ip else {
            return None;
        };
        if let Some(b) = self.broadcast {
            return Some(b);
        }
        if self.prefix >= 31 {
            return None;
        }
        let host = u32::MAX >> self.prefix;
        Some(Ipv4Addr::from(u32::from(ip) | host))
    }
}

fn index(device: &str) -> Result<u32, TakeoverError> {
    nix::net::if_::if_nametoindex(device).map_err(|e| TakeoverError::Device {
        device: device.to_string(),
        reason: e.desc().to_string(),
    })
}

fn message(alias: &Alias, index: u32) -> AddressMessage {
    let mut m = AddressMessage::default();
    m.header.family = match alias.ip {
        IpAddr::V4(_) => AddressFamily::Inet,
        IpAddr::V6(_) => AddressFamily::Inet6,
    };
    m.header.prefix_len = alias.prefix;
    m.header.index = index;
    m.attributes.push(AddressAttribute::Local(alias.ip));
    m.attributes.push(AddressAttribute::Address(alias.ip));
    if let Some(b) = alias.broadcast() {
        m.attributes.push(AddressAttribute::Broadcast(b));
    }
    if let (IpAddr::V4(_), Some(label)) = (alias.ip, &alias.label) {
        m.attributes.push(AddressAttribute::Label(label.clone()));
    }
    m
}

/// Sends one request and waits for its acknowledgement; returns the
/// kernel's errno on a refusal, and the messages of a dump.
pub(crate) fn request(
    msg: RouteNetlinkMessage,
    flags: u16,
) -> Result<Vec<RouteNetlinkMessage>, TakeoverError> {
    let io = |e: std::io::Error| TakeoverError::Netlink(e.to_string());
    let mut socket = Socket::new(NETLINK_ROUTE).map_err(io)?;
    socket.bind_auto().map_err(io)?;
    socket.connect(&SocketAddr::new(0, 0)).map_err(io)?;
    let mut header = NetlinkHeader::default();
    header.flags = flags;
    let mut nl = NetlinkMessage::new(header, NetlinkPayload::from(msg));
    nl.finalize();
    let mut buf = vec![0u8; nl.buffer_len()];
    nl.serialize(&mut buf);
    socket.send(&buf, 0).map_err(io)?;
    let mut out = Vec::new();
    loop {
        let (bytes, _) = socket.recv_from_full().map_err(io)?;
        let mut offset = 0;
        while offset < bytes.len() {
            let reply = <NetlinkMessage<RouteNetlinkMessage>>::deserialize(&bytes[offset..])
                .map_err(|e| TakeoverError::Netlink(e.to_string()))?;
            let len = reply.header.length as usize;
            match reply.payload {
                NetlinkPayload::Error(e) => {
                    return match e.code {
                        None => Ok(out),
                        Some(code) => Err(TakeoverError::Kernel(-code.get())),
                    };
                }
                NetlinkPayload::Done(_) => return Ok(out),
                NetlinkPayload::InnerMessage(m) => out.push(m),
                _ => {}
            }
            if len == 0 {
                break;
            }
            offset += len;
        }
    }
}

/// Adds the alias. An address already there counts as added (scripts must
/// be idempotent, and so is this); returns whether it was added now.
pub fn add(alias: &Alias) -> Result<bool, TakeoverError> {
    let msg = RouteNetlinkMessage::NewAddress(message(alias, index(&alias.device)?));
    match request(msg, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL) {
        Ok(_) => Ok(true),
        Err(TakeoverError::Kernel(libc::EEXIST)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Removes the alias; one already gone counts as removed.
pub fn remove(alias: &Alias) -> Result<bool, TakeoverError> {
    let msg = RouteNetlinkMessage::DelAddress(message(alias, index(&alias.device)?));
    match request(msg, NLM_F_REQUEST | NLM_F_ACK) {
        Ok(_) => Ok(true),
        Err(TakeoverError::Kernel(libc::EADDRNOTAVAIL))
        | Err(TakeoverError::Kernel(libc::ENODEV)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Whether the alias's address is on its interface now.
pub fn present(alias: &Alias) -> Result<bool, TakeoverError> {
    let index = index(&alias.device)?;
    let mut m = AddressMessage::default();
    m.header.family = match alias.ip {
        IpAddr::V4(_) => AddressFamily::Inet,
        IpAddr::V6(_) => AddressFamily::Inet6,
    };
    let all = request(
        RouteNetlinkMessage::GetAddress(m),
        NLM_F_REQUEST | NLM_F_DUMP,
    )?;
    Ok(all.iter().any(|msg| {
        let RouteNetlinkMessage::NewAddress(a) = msg else {
            return false;
        };
        a.header.index == index
            && a.attributes.iter().any(|attr| {
                matches!(attr, AddressAttribute::Local(ip) | AddressAttribute::Address(ip) if *ip == alias.ip)
            })
    }))
}

/// The interface and prefix for an address given without them, as
/// IPaddr finds them: the interface that has an IPv4 address in the
/// same network.
pub fn find_interface(ip: Ipv4Addr, prefix: Option<u8>) -> Option<(String, u8)> {
    let addrs = nix::ifaddrs::getifaddrs().ok()?;
    for a in addrs {
        let (Some(addr), Some(mask)) = (
            a.address
                .as_ref()
                .and_then(|s| s.as_sockaddr_in())
                .map(|s| s.ip()),
            a.netmask
                .as_ref()
                .and_then(|s| s.as_sockaddr_in())
                .map(|s| s.ip()),
        ) else {
            continue;
        };
        let len = prefix.unwrap_or(u32::from(mask).count_ones() as u8);
        if len == 0 || len > 32 || addr.is_loopback() {
            continue;
        }
        let net = u32::MAX << (32 - u32::from(len));
        if u32::from(addr) & net == u32::from(ip) & net {
            return Some((a.interface_name, len));
        }
    }
    None
}

/// The IPv4 addresses on `device`.
pub fn ipv4_on(device: &str) -> Vec<Ipv4Addr> {
    nix::ifaddrs::getifaddrs()
        .map(|addrs| {
            addrs
                .filter(|a| a.interface_name == device)
                .filter_map(|a| a.address.and_then(|s| s.as_sockaddr_in().map(|v4| v4.ip())))
                .collect()
        })
        .unwrap_or_default()
}
