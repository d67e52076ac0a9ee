//! What a takeover does to the network, in Rust: IP aliases (netlink)
//! and gratuitous ARP (a raw packet socket). The daemon runs these
//! in-process for IPaddr, IPaddr2 and SendArp (no shell on the takeover
//! path); `tandem action` runs them for the shipped resource.d scripts.

pub mod addr;
pub mod arp;
pub mod dns;
pub mod mac;

pub use addr::Alias;

#[derive(Debug, thiserror::Error)]
pub enum TakeoverError {
    #[error("interface {device}: {reason}")]
    Device { device: String, reason: String },
    #[error("netlink: {0}")]
    Netlink(String),
    #[error("the kernel refused: {}", std::io::Error::from_raw_os_error(*.0))]
    Kernel(i32),
    #[error("gratuitous ARP: {0}")]
    Arp(String),
    #[error("DNS update: {0}")]
    Dns(String),
    #[error("{0}")]
    Usage(String),
}

use crate::config::haresources::{IpAlias, ResourceKind};
use std::net::{IpAddr, Ipv4Addr};

/// A resource tandem carries out itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Builtin {
    /// IPaddr, IPaddr2, IPv6addr: the alias, announced by gratuitous ARP.
    Address(Alias),
    /// SendArp: announcements only, for an address configured elsewhere.
    SendArp { ip: Ipv4Addr, device: String },
    /// MacTakeover::NIC::MAC: the shared MAC on this node's interface.
    MacTakeover { device: String, mac: [u8; 6] },
    /// DynDNS::NAME::IP::SERVER::KEYFILE[::TTL]: a signed DNS UPDATE.
    DynDns {
        name: String,
        ip: IpAddr,
        server: std::net::SocketAddr,
        key_file: String,
        ttl: u32,
    },
}

impl Builtin {
    /// The built-in for a haresources resource, resolving the interface
    /// and prefix as IPaddr does when they are not given.
    pub fn of(kind: &ResourceKind) -> Result<Builtin, TakeoverError> {
        match kind {
            ResourceKind::IpAlias(a) => Ok(Builtin::Address(alias(a)?)),
            ResourceKind::SendArp { ip, nic } => {
                let device = match nic {
                    Some(n) => n.clone(),
                    None => addr::find_interface(*ip, None).map(|(d, _)| d).ok_or_else(|| {
                        TakeoverError::Usage(format!(
                            "no interface has an address in the network of {ip}; name it: SendArp::{ip}/NIC"
                        ))
                    })?,
                };
                Ok(Builtin::SendArp { ip: *ip, device })
            }
            _ => Err(TakeoverError::Usage("not a built-in resource".to_string())),
        }
    }

    /// The built-in for a resource by name and arguments, for those the
    /// haresources parser keeps as a plain script (MacTakeover).
    pub fn of_script(script: &str, args: &[String]) -> Result<Builtin, TakeoverError> {
        const FORM: &str = "MacTakeover::NIC::MAC (e.g. MacTakeover::eth0::02:00:5e:00:01:01)";
        match (script, args) {
            ("MacTakeover", [device, mac]) => {
                let mac = mac::parse(mac)
                    .filter(|m| m[0] & 1 == 0 && *m != [0; 6])
                    .ok_or_else(|| {
                        TakeoverError::Usage(format!(
                            "`{mac}` is not a unicast Ethernet address; expected {FORM}"
                        ))
                    })?;
                Ok(Builtin::MacTakeover {
                    device: device.clone(),
                    mac,
                })
            }
            ("MacTakeover", _) => Err(TakeoverError::Usage(format!("expected {FORM}"))),
            ("DynDNS", [name, ip, server, key_file, rest @ ..]) if rest.len() <= 1 => {
                const DNS_FORM: &str = "DynDNS::NAME::IP::SERVER[:PORT]::KEYFILE[::TTL]";
                let usage =
                    |what: &str| TakeoverError::Usage(format!("{what}; expected {DNS_FORM}"));
                let ip: IpAddr = ip
                    .parse()
                    .map_err(|_| usage(&format!("`{ip}` is not an IP address")))?;
                let server = server
                    .parse::<std::net::SocketAddr>()
                    .or_else(|_| {
                        server
                            .parse::<IpAddr>()
                            .map(|a| std::net::SocketAddr::new(a, 53))
                    })
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
                Ok(Builtin::DynDns {
                    name: name.clone(),
                    ip,
                    server,
                    key_file: key_file.clone(),
                    ttl,
                })
            }
            ("DynDNS", _) => Err(TakeoverError::Usage(
                "expected DynDNS::NAME::IP::SERVER[:PORT]::KEYFILE[::TTL]".to_string(),
            )),
            _ => Err(TakeoverError::Usage("not a built-in resource".to_string())),
        }
    }

    /// The addresses announced after a start: gratuitous ARP for IPv4,
    /// an unsolicited neighbour advertisement for IPv6. For MacTakeover,
    /// every IPv4 address on the interface: switches learn the MAC's new
    /// port from these.
    pub fn announces(&self) -> Vec<(String, IpAddr)> {
        match self {
            Builtin::Address(Alias { ip, device, .. }) => vec![(device.clone(), *ip)],
            Builtin::SendArp { ip, device } => vec![(device.clone(), IpAddr::V4(*ip))],
            Builtin::MacTakeover { device, .. } => addr::ipv4_on(device)
                .into_iter()
                .map(|ip| (device.clone(), IpAddr::V4(ip)))
                .collect(),
            Builtin::DynDns { .. } => Vec::new(),
        }
    }

    /// Whether this built-in's effect is in place on this host: `None`
    /// for those that leave nothing here to look at (SendArp, DynDNS).
    pub fn in_place(&self) -> Option<Result<bool, TakeoverError>> {
        match self {
            Builtin::Address(a) => Some(addr::present(a)),
            Builtin::MacTakeover { device, mac } => Some(mac::current(device).map(|m| m == *mac)),
            Builtin::SendArp { .. } | Builtin::DynDns { .. } => None,
        }
    }

    /// Carries out a DynDNS start: the signed update, with retries. Blocks
    /// for up to a few seconds: the daemon runs it in a child process.
    pub fn dns_update(&self) -> Result<String, TakeoverError> {
        let Builtin::DynDns {
            name,
            ip,
            server,
            key_file,
            ttl,
        } = self
        else {
            return Err(TakeoverError::Usage("not a DynDNS resource".to_string()));
        };
        let key = dns::read_key(std::path::Path::new(key_file))?;
        let zone = dns::zone_of(name)
            .ok_or_else(|| TakeoverError::Usage(format!("`{name}` has no zone")))?;
        let update = dns::Update {
            zone,
            name: name.clone(),
            ip: *ip,
            ttl: *ttl,
        };
        dns::send(&update, &key, *server, 4)?;
        Ok(format!("{name} -> {ip} (TTL {ttl}) at {server}"))
    }
}

fn alias(a: &IpAlias) -> Result<Alias, TakeoverError> {
    let (device, prefix) = match (&a.nic, a.prefix, a.ip) {
        (Some(nic), Some(p), _) => (nic.clone(), p),
        (Some(nic), None, IpAddr::V4(ip)) => {
            let p = addr::find_interface(ip, None).map(|(_, p)| p).unwrap_or(32);
            (nic.clone(), p)
        }
        (Some(nic), None, IpAddr::V6(_)) => (nic.clone(), 64),
        (None, p, IpAddr::V4(ip)) => addr::find_interface(ip, p).ok_or_else(|| {
            TakeoverError::Usage(format!(
                "no interface has an address in the network of {ip}; name it: IPaddr2::{ip}/PREFIX/NIC"
            ))
        })?,
        (None, _, IpAddr::V6(ip)) => {
            return Err(TakeoverError::Usage(format!(
                "name the interface for {ip}: IPv6addr::{ip}/PREFIX/NIC"
            )))
        }
    };
    let label = a.label.as_ref().map(|l| {
        if l.starts_with(&format!("{device}:")) {
            l.clone()
        } else {
            format!("{device}:{l}")
        }
    });
    Ok(Alias {
        ip: a.ip,
        prefix,
        device,
        label,
        broadcast: a.broadcast,
    })
}
