//! Gratuitous ARP: tells the segment that an IPv4 address now lives at
//! this interface's MAC, so that neighbours' caches follow at once
//! instead of after their entries age out.

use super::ActionError;
use std::net::Ipv4Addr;
use std::time::Duration;

/// IPaddr2's defaults: 5 announcements, 200 ms apart.
pub const COUNT: u32 = 5;
pub const INTERVAL: Duration = Duration::from_millis(200);

/// A gratuitous ARP frame: an ARP request from `ip` for `ip`, broadcast
/// (RFC 5227's announcement, which every stack accepts to update an entry).
pub fn frame(mac: [u8; 6], ip: Ipv4Addr) -> [u8; 42] {
    let mut f = [0u8; 42];
    f[0..6].copy_from_slice(&[0xff; 6]);
    f[6..12].copy_from_slice(&mac);
    f[12..14].copy_from_slice(&0x0806u16.to_be_bytes());
    f[14..16].copy_from_slice(&1u16.to_be_bytes()); // Ethernet
    f[16..18].copy_from_slice(&0x0800u16.to_be_bytes()); // IPv4
    f[18] = 6;
    f[19] = 4;
    f[20..22].copy_from_slice(&1u16.to_be_bytes()); // request
    f[22..28].copy_from_slice(&mac);
    f[28..32].copy_from_slice(&ip.octets());
    // Target hardware address unknown (zero), target address our own.
    f[38..42].copy_from_slice(&ip.octets());
    f
}

/// Sends one gratuitous ARP for `ip` on `device`.
pub fn announce(device: &str, ip: Ipv4Addr) -> Result<(), ActionError> {
    use pnet_datalink::{Channel, Config};
    let iface = pnet_datalink::interfaces()
        .into_iter()
        .find(|i| i.name == device)
        .ok_or_else(|| ActionError::Device {
            device: device.to_string(),
            reason: "no such interface".to_string(),
        })?;
    let mac = iface.mac.ok_or_else(|| ActionError::Device {
        device: device.to_string(),
        reason: "no hardware address".to_string(),
    })?;
    let config = Config {
        promiscuous: false,
        read_buffer_size: 64,
        ..Config::default()
    };
    let (mut tx, _rx) = match pnet_datalink::channel(&iface, config) {
        Ok(Channel::Ethernet(tx, rx)) => (tx, rx),
        Ok(_) => return Err(ActionError::Arp("not an Ethernet interface".to_string())),
        Err(e) => return Err(ActionError::Arp(e.to_string())),
    };
    let f = frame(mac.octets(), ip);
    match tx.send_to(&f, None) {
        Some(Ok(())) => Ok(()),
        Some(Err(e)) => Err(ActionError::Arp(e.to_string())),
        None => Err(ActionError::Arp("the frame was not sent".to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn announcement_layout() {
        let f = frame([2, 0, 0, 0, 0, 1], Ipv4Addr::new(192, 0, 2, 10));
        assert_eq!(&f[0..6], &[0xff; 6]);
        assert_eq!(&f[12..14], &[0x08, 0x06]);
        assert_eq!(&f[20..22], &[0, 1]);
        assert_eq!(&f[28..32], &[192, 0, 2, 10]);
        assert_eq!(&f[32..38], &[0; 6]);
        assert_eq!(&f[38..42], &[192, 0, 2, 10]);
    }
}
