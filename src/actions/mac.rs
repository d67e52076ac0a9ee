//! MAC address takeover: the surviving node puts the shared (virtual) MAC
//! on its interface, so that clients' ARP caches need not change at all;
//! switches learn the new port from the gratuitous ARPs that follow. On
//! release the interface gets its own address back.

use super::ActionError;
use netlink_packet_core::{NLM_F_ACK, NLM_F_REQUEST};
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
use netlink_packet_route::RouteNetlinkMessage;

/// A MAC address as six bytes, from `02:00:5e:00:01:01`.
pub fn parse(text: &str) -> Option<[u8; 6]> {
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

pub fn format(mac: &[u8; 6]) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The interface's current hardware address.
pub fn current(device: &str) -> Result<[u8; 6], ActionError> {
    let text =
        std::fs::read_to_string(format!("/sys/class/net/{device}/address")).map_err(|e| {
            ActionError::Device {
                device: device.to_string(),
                reason: e.to_string(),
            }
        })?;
    parse(text.trim()).ok_or_else(|| ActionError::Device {
        device: device.to_string(),
        reason: format!("`{}` is not an Ethernet address", text.trim()),
    })
}

fn set_link(device: &str, up: Option<bool>, mac: Option<[u8; 6]>) -> Result<(), ActionError> {
    let index = nix::net::if_::if_nametoindex(device).map_err(|e| ActionError::Device {
        device: device.to_string(),
        reason: e.desc().to_string(),
    })?;
    let mut m = LinkMessage::default();
    m.header.index = index;
    if let Some(up) = up {
        m.header.change_mask = LinkFlags::Up;
        if up {
            m.header.flags = LinkFlags::Up;
        }
    }
    if let Some(mac) = mac {
        m.attributes.push(LinkAttribute::Address(mac.to_vec()));
    }
    super::addr::request(RouteNetlinkMessage::SetLink(m), NLM_F_REQUEST | NLM_F_ACK).map(|_| ())
}

/// Puts `mac` on `device` (down, set, up: many drivers refuse a new
/// address on a running interface); returns the address it had.
fn set(device: &str, mac: [u8; 6]) -> Result<[u8; 6], ActionError> {
    let before = current(device)?;
    if before == mac {
        return Ok(before);
    }
    // Some drivers take the address while up (no carrier blip); try that
    // first, then the down/up dance.
    if set_link(device, None, Some(mac)).is_err() {
        set_link(device, Some(false), None)?;
        let set = set_link(device, None, Some(mac));
        set_link(device, Some(true), None)?;
        set?;
    }
    Ok(before)
}

/// Where `device`'s own address is kept while a shared one is on it: a
/// file, so that `tandem action` (the shipped script) and a restarted
/// daemon can give it back. Keyed by network namespace as well as name:
/// `eth0` in two namespaces is two interfaces.
fn memory(device: &str) -> Result<std::path::PathBuf, ActionError> {
    use std::os::unix::fs::MetadataExt;
    let netns = std::fs::metadata("/proc/self/ns/net")
        .map(|m| m.ino())
        .unwrap_or(0);
    if device.is_empty() || device.contains('/') || device.starts_with('.') {
        return Err(ActionError::Device {
            device: device.to_string(),
            reason: "not an interface name".to_string(),
        });
    }
    Ok(std::path::Path::new(MEMORY_DIR).join(format!("{netns}-{device}")))
}

/// Under /run: a reboot forgets it, as the interface forgets the shared
/// address.
const MEMORY_DIR: &str = "/run/tandem/mac";

/// Takes over: puts the shared `mac` on `device`, remembering the
/// address the interface had unless one is remembered already (a second
/// start must not remember the shared address as the own one). Returns
/// the own address.
pub fn take(device: &str, mac: [u8; 6]) -> Result<[u8; 6], ActionError> {
    let path = memory(device)?;
    let remembered = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| parse(t.trim()));
    let own = match remembered {
        Some(own) => own,
        None => {
            let own = current(device)?;
            if own == mac {
                return Err(ActionError::Device {
                    device: device.to_string(),
                    reason: format!(
                        "already has {} and its own address is not known",
                        format(&mac)
                    ),
                });
            }
            let fail = |e: std::io::Error| ActionError::Device {
                device: device.to_string(),
                reason: format!("cannot remember its address in {}: {e}", path.display()),
            };
            std::fs::create_dir_all(MEMORY_DIR).map_err(fail)?;
            std::fs::write(&path, format!("{}\n", format(&own))).map_err(fail)?;
            own
        }
    };
    set(device, mac)?;
    Ok(own)
}

/// Releases: gives `device` its own address back if it has the shared
/// `mac`. Returns the address given back, or `None` when the interface
/// did not have the shared one.
pub fn release(device: &str, mac: [u8; 6]) -> Result<Option<[u8; 6]>, ActionError> {
    let path = memory(device)?;
    if current(device)? != mac {
        let _ = std::fs::remove_file(&path);
        return Ok(None);
    }
    let own = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| parse(t.trim()))
        .ok_or_else(|| ActionError::Device {
            device: device.to_string(),
            reason: format!(
                "its own address is not known ({} is gone); set it with `ip link set {device} address ...`",
                path.display()
            ),
        })?;
    set(device, own)?;
    let _ = std::fs::remove_file(&path);
    Ok(Some(own))
}
