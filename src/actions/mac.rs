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
pub fn take(device: &str, mac: [u8; 6]) -> Result<[u8; 6], ActionError> {
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

/// Gives `device` back its own address.
pub fn restore(device: &str, own: [u8; 6]) -> Result<(), ActionError> {
    take(device, own).map(|_| ())
}
