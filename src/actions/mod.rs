//! What a takeover does to the network, in Rust: IP aliases (netlink)
//! and gratuitous ARP (a raw packet socket). The daemon runs these
//! in-process for IPaddr, IPaddr2 and SendArp (no shell on the takeover
//! path); `tandem action` runs them for the shipped resource.d scripts.

pub mod addr;
pub mod arp;
pub mod mac;

pub use addr::Alias;

#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("interface {device}: {reason}")]
    Device { device: String, reason: String },
    #[error("netlink: {0}")]
    Netlink(String),
    #[error("the kernel refused: {}", std::io::Error::from_raw_os_error(*.0))]
    Kernel(i32),
    #[error("gratuitous ARP: {0}")]
    Arp(String),
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
}

impl Builtin {
    /// The built-in for a haresources resource, resolving the interface
    /// and prefix as IPaddr does when they are not given.
    pub fn of(kind: &ResourceKind) -> Result<Builtin, ActionError> {
        match kind {
            ResourceKind::IpAlias(a) => Ok(Builtin::Address(alias(a)?)),
            ResourceKind::SendArp { ip, nic } => {
                let device = match nic {
                    Some(n) => n.clone(),
                    None => addr::find_interface(*ip, None).map(|(d, _)| d).ok_or_else(|| {
                        ActionError::Usage(format!(
                            "no interface has an address in the network of {ip}; name it: SendArp::{ip}/NIC"
                        ))
                    })?,
                };
                Ok(Builtin::SendArp { ip: *ip, device })
            }
            _ => Err(ActionError::Usage("not a built-in resource".to_string())),
        }
    }

    /// The built-in for a resource by name and arguments, for those the
    /// haresources parser keeps as a plain script (MacTakeover).
    pub fn of_script(script: &str, args: &[String]) -> Result<Builtin, ActionError> {
        const FORM: &str = "MacTakeover::NIC::MAC (e.g. MacTakeover::eth0::02:00:5e:00:01:01)";
        match (script, args) {
            ("MacTakeover", [device, mac]) => {
                let mac = mac::parse(mac)
                    .filter(|m| m[0] & 1 == 0 && *m != [0; 6])
                    .ok_or_else(|| {
                        ActionError::Usage(format!(
                            "`{mac}` is not a unicast Ethernet address; expected {FORM}"
                        ))
                    })?;
                Ok(Builtin::MacTakeover {
                    device: device.clone(),
                    mac,
                })
            }
            ("MacTakeover", _) => Err(ActionError::Usage(format!("expected {FORM}"))),
            _ => Err(ActionError::Usage("not a built-in resource".to_string())),
        }
    }

    /// The IPv4 address announced by gratuitous ARP after a start.
    pub fn announces(&self) -> Option<(String, Ipv4Addr)> {
        match self {
            Builtin::Address(Alias {
                ip: IpAddr::V4(ip),
                device,
                ..
            }) => Some((device.clone(), *ip)),
            Builtin::SendArp { ip, device } => Some((device.clone(), *ip)),
            Builtin::Address(_) | Builtin::MacTakeover { .. } => None,
        }
    }
}

fn alias(a: &IpAlias) -> Result<Alias, ActionError> {
    let (device, prefix) = match (&a.nic, a.prefix, a.ip) {
        (Some(nic), Some(p), _) => (nic.clone(), p),
        (Some(nic), None, IpAddr::V4(ip)) => {
            let p = addr::find_interface(ip, None).map(|(_, p)| p).unwrap_or(32);
            (nic.clone(), p)
        }
        (Some(nic), None, IpAddr::V6(_)) => (nic.clone(), 64),
        (None, p, IpAddr::V4(ip)) => addr::find_interface(ip, p).ok_or_else(|| {
            ActionError::Usage(format!(
                "no interface has an address in the network of {ip}; name it: IPaddr2::{ip}/PREFIX/NIC"
            ))
        })?,
        (None, _, IpAddr::V6(ip)) => {
            return Err(ActionError::Usage(format!(
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
