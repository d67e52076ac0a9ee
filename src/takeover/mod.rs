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

use crate::config::haresources::{DynDns, IpAlias, ResourceKind};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

/// What a resource action reports, in Heartbeat's v1 words: a line for
/// start and stop; for status, running or stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    Done(String),
    Running(bool),
}

/// A resource tandem carries out itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Builtin {
    /// IPaddr, IPaddr2, IPv6addr: the alias, announced by gratuitous ARP.
    Address(Alias),
    /// SendArp: announcements only, for an address configured elsewhere.
    SendArp { ip: Ipv4Addr, device: String },
    /// MacTakeover::NIC::MAC: the shared MAC on this node's interface;
    /// the interface's own address is remembered under `memory`.
    MacTakeover {
        device: String,
        mac: [u8; 6],
        memory: PathBuf,
    },
    /// `DynDNS::NAME::IP::SERVER::KEYFILE[::TTL]`: a signed DNS UPDATE.
    DynDns(DynDns),
}

impl Builtin {
    /// The built-in for a haresources resource, resolving the interface
    /// and prefix as IPaddr does when they are not given. `state` is the
    /// state directory (what must outlive a restart is kept there).
    pub fn of(kind: &ResourceKind, state: &Path) -> Result<Builtin, TakeoverError> {
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
            ResourceKind::MacTakeover { device, mac } => Ok(Builtin::MacTakeover {
                device: device.clone(),
                mac: *mac,
                memory: state.join("mac"),
            }),
            ResourceKind::DynDns(d) => Ok(Builtin::DynDns(d.clone())),
            _ => Err(TakeoverError::Usage(
                "not a resource tandem carries out in its process".to_string(),
            )),
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
            Builtin::DynDns(_) => Vec::new(),
        }
    }

    /// Whether this built-in's effect is in place on this host: `None`
    /// for those that leave nothing here to look at (SendArp, DynDNS).
    pub fn in_place(&self) -> Option<Result<bool, TakeoverError>> {
        match self {
            Builtin::Address(a) => Some(addr::present(a)),
            Builtin::MacTakeover { device, mac, .. } => {
                Some(mac::current(device).map(|m| m == *mac))
            }
            Builtin::SendArp { .. } | Builtin::DynDns(_) => None,
        }
    }

    /// Starts the built-in: the address added, the MAC taken, the DNS
    /// record pointed here (DynDNS blocks for seconds, so the daemon runs
    /// that one in a child). Announcements are the caller's: the daemon
    /// spaces them out, `tandem action` sends a burst. Says what it did.
    pub fn start(&self) -> Result<String, TakeoverError> {
        match self {
            Builtin::Address(a) => Ok(if addr::add(a)? {
                format!("added {}/{} on {}", a.ip, a.prefix, a.device)
            } else {
                format!("{}/{} already on {}", a.ip, a.prefix, a.device)
            }),
            Builtin::SendArp { ip, device } => Ok(format!("announcing {ip} on {device}")),
            Builtin::MacTakeover {
                device,
                mac,
                memory,
            } => {
                let own = mac::take(memory, device, *mac)?;
                Ok(format!(
                    "{device} now has {} (its own: {})",
                    mac::format(mac),
                    mac::format(&own)
                ))
            }
            Builtin::DynDns(_) => self.dns_update(),
        }
    }

    /// Stops the built-in; says what it did. A DynDNS record stays: the
    /// node taking over points it at itself.
    pub fn stop(&self) -> Result<String, TakeoverError> {
        match self {
            Builtin::Address(a) => Ok(if addr::remove(a)? {
                format!("removed {}/{} from {}", a.ip, a.prefix, a.device)
            } else {
                format!("{} already gone from {}", a.ip, a.device)
            }),
            Builtin::MacTakeover {
                device,
                mac,
                memory,
            } => Ok(match mac::release(memory, device, *mac)? {
                Some(own) => format!("{device} has its own {} again", mac::format(&own)),
                None => format!("{device} does not have {}", mac::format(mac)),
            }),
            Builtin::SendArp { .. } | Builtin::DynDns(_) => Ok("nothing to undo".to_string()),
        }
    }

    /// Carries out `action` (start, stop or status) as a resource script
    /// would, without the announcements that follow a start.
    pub fn act(&self, action: &str) -> Result<Report, TakeoverError> {
        match action {
            "start" => self.start().map(Report::Done),
            "stop" => self.stop().map(Report::Done),
            "status" => self.status().map(Report::Running),
            other => Err(TakeoverError::Usage(format!(
                "`{other}`: expected start, stop or status"
            ))),
        }
    }

    /// Whether the built-in runs here, as a resource script's `status`
    /// would say: those that leave nothing here to look at (SendArp,
    /// DynDNS) report stopped, as Heartbeat's scripts do.
    pub fn status(&self) -> Result<bool, TakeoverError> {
        self.in_place().unwrap_or(Ok(false))
    }

    /// Carries out a DynDNS start: the signed update, with retries. Blocks
    /// for up to a few seconds: the daemon runs it in a child process.
    pub fn dns_update(&self) -> Result<String, TakeoverError> {
        let Builtin::DynDns(DynDns {
            name,
            ip,
            server,
            key_file,
            ttl,
        }) = self
        else {
            return Err(TakeoverError::Usage("not a DynDNS resource".to_string()));
        };
        let key = dns::read_key(std::path::Path::new(key_file))?;
        let zone = dns::zone_of(name)
            .ok_or_else(|| TakeoverError::Usage(format!("`{name}` has no zone")))?;
        let update = dns::Update {
            zone,
            name: name.clone(),
            address: dns::address(*ip),
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
