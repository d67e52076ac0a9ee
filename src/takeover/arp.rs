//! Gratuitous ARP: tells the segment that an IPv4 address now lives at
//! this interface's MAC, so that neighbours' caches follow at once
//! instead of after their entries age out.

use super::TakeoverError;
use std::net::Ipv4Addr;
use std::time::Duration;

pub use crate::config::hacf::ArpForm as Form;

/// How an address is announced: `arp_count`, `arp_interval`, `arp_form`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub count: u32,
    pub interval: Duration,
    pub form: Form,
}

impl Default for Policy {
    /// IPaddr2's: 5 requests, 200 ms apart.
    fn default() -> Policy {
        Policy {
            count: 5,
            interval: Duration::from_millis(200),
            form: Form::Request,
        }
    }
}

/// A gratuitous ARP frame, broadcast. The request form is RFC 5227's
/// announcement (from `ip` for `ip`, target hardware address zero),
/// which every stack accepts to update an entry; the reply form is
/// `arping -A`'s (target hardware address our own).
pub fn frame(mac: [u8; 6], ip: Ipv4Addr, reply: bool) -> [u8; 42] {
    let mut f = [0u8; 42];
    f[0..6].copy_from_slice(&[0xff; 6]);
    f[6..12].copy_from_slice(&mac);
    f[12..14].copy_from_slice(&0x0806u16.to_be_bytes());
    f[14..16].copy_from_slice(&1u16.to_be_bytes()); // Ethernet
    f[16..18].copy_from_slice(&0x0800u16.to_be_bytes()); // IPv4
    f[18] = 6;
    f[19] = 4;
    let op: u16 = if reply { 2 } else { 1 };
    f[20..22].copy_from_slice(&op.to_be_bytes());
    f[22..28].copy_from_slice(&mac);
    f[28..32].copy_from_slice(&ip.octets());
    if reply {
        f[32..38].copy_from_slice(&mac);
    }
    f[38..42].copy_from_slice(&ip.octets());
    f
}

/// An unsolicited neighbour advertisement (RFC 4861 7.2.6): IPv6's
/// gratuitous ARP. To all nodes (ff02::1), from `ip`, override flag set,
/// with this interface's link-layer address as an option.
pub fn advertisement(mac: [u8; 6], ip: std::net::Ipv6Addr) -> [u8; 86] {
    let mut f = [0u8; 86];
    // Ethernet: to 33:33:00:00:00:01 (ff02::1).
    f[0..6].copy_from_slice(&[0x33, 0x33, 0, 0, 0, 1]);
    f[6..12].copy_from_slice(&mac);
    f[12..14].copy_from_slice(&0x86ddu16.to_be_bytes());
    // IPv6: payload 32 bytes, next header ICMPv6 (58), hop limit 255.
    f[14] = 0x60;
    f[18..20].copy_from_slice(&32u16.to_be_bytes());
    f[20] = 58;
    f[21] = 255;
    f[22..38].copy_from_slice(&ip.octets());
    let all_nodes = std::net::Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
    f[38..54].copy_from_slice(&all_nodes.octets());
    // ICMPv6 neighbour advertisement: type 136, override.
    let icmp = 54;
    f[icmp] = 136;
    f[icmp + 4] = 0x20;
    f[icmp + 8..icmp + 24].copy_from_slice(&ip.octets());
    // Option: target link-layer address (type 2, 1 unit of 8 bytes).
    f[icmp + 24] = 2;
    f[icmp + 25] = 1;
    f[icmp + 26..icmp + 32].copy_from_slice(&mac);
    // Checksum over the pseudo-header and the message.
    let check = checksum(&[
        &f[22..54],
        &32u32.to_be_bytes(),
        &[0, 0, 0, 58],
        &f[icmp..icmp + 32],
    ]);
    f[icmp + 2..icmp + 4].copy_from_slice(&check.to_be_bytes());
    f
}

/// The Internet checksum (RFC 1071) over `parts` laid end to end (each
/// of even length but the last): ICMP's and ICMPv6's.
pub fn checksum(parts: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    for part in parts {
        for pair in part.chunks(2) {
            sum += u32::from(pair[0]) << 8 | pair.get(1).map_or(0, |&b| u32::from(b));
        }
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Sends `policy.count` announcements for `ip` on `device`,
/// `policy.interval` apart, blocking: for `tandem action` (the daemon
/// spaces them with its timers).
pub fn announce_burst(
    device: &str,
    ip: std::net::IpAddr,
    policy: Policy,
) -> Result<(), TakeoverError> {
    for i in 0..policy.count {
        if i > 0 {
            std::thread::sleep(policy.interval);
        }
        announce(device, ip, policy.form)?;
    }
    Ok(())
}

/// Sends one announcement for `ip` on `device`: gratuitous ARP in the
/// given form (both: a request, then a reply) for IPv4, an unsolicited
/// neighbour advertisement for IPv6 (which has one form).
pub fn announce(device: &str, ip: std::net::IpAddr, form: Form) -> Result<(), TakeoverError> {
    match ip {
        std::net::IpAddr::V4(v4) => {
            if form != Form::Reply {
                send_frame(device, |mac| frame(mac, v4, false).to_vec())?;
            }
            if form != Form::Request {
                send_frame(device, |mac| frame(mac, v4, true).to_vec())?;
            }
            Ok(())
        }
        std::net::IpAddr::V6(v6) => send_frame(device, |mac| advertisement(mac, v6).to_vec()),
    }
}

fn send_frame(device: &str, build: impl Fn([u8; 6]) -> Vec<u8>) -> Result<(), TakeoverError> {
    // The interface from its index and sysfs address, not from a scan of
    // every interface: this is the takeover's fast path.
    let index = nix::net::if_::if_nametoindex(device).map_err(|e| TakeoverError::Device {
        device: device.to_string(),
        reason: e.desc().to_string(),
    })?;
    let mac = super::mac::current(device)?;
    let frame = build(mac);
    let mut dst = [0u8; 6];
    dst.copy_from_slice(&frame[0..6]);
    send_raw(index, &frame, dst).map_err(|e| TakeoverError::Arp(format!("{device}: {e}")))
}

/// Sends one Ethernet frame on interface `index` from a packet socket
/// bound to no protocol, kept open for the process (per network
/// namespace). Closing a packet socket waits for an RCU grace period
/// (`synchronize_net` in the kernel's packet_release), 10-20 ms measured
/// here: a socket per announcement stalled the event loop that long,
/// longer than a 10 ms deadtime. (pnet_datalink's channels cost the same
/// on close and also receive every frame while open.)
#[allow(unsafe_code)]
fn send_raw(index: u32, frame: &[u8], dst: [u8; 6]) -> std::io::Result<()> {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::os::unix::fs::MetadataExt;
    static SOCKET: std::sync::Mutex<Option<(u64, OwnedFd)>> = std::sync::Mutex::new(None);
    let netns = std::fs::metadata("/proc/thread-self/ns/net")?.ino();
    let mut slot = SOCKET
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if slot.as_ref().is_none_or(|(ns, _)| *ns != netns) {
        // SAFETY: a plain socket(2) call; the result is checked.
        let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: fd is a new descriptor that nothing else owns.
        *slot = Some((netns, unsafe { OwnedFd::from_raw_fd(fd) }));
    }
    let Some((_, fd)) = slot.as_ref() else {
        return Err(std::io::Error::other("no packet socket"));
    };
    // SAFETY: sockaddr_ll is plain old data; all zeroes is a valid value.
    let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    addr.sll_family = libc::AF_PACKET as u16;
    addr.sll_ifindex = i32::try_from(index).unwrap_or(0);
    addr.sll_halen = 6;
    addr.sll_addr[..6].copy_from_slice(&dst);
    // SAFETY: frame and addr outlive the call; the lengths are theirs.
    let sent = unsafe {
        libc::sendto(
            fd.as_raw_fd(),
            frame.as_ptr().cast(),
            frame.len(),
            0,
            (&addr as *const libc::sockaddr_ll).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    if sent < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advertisement_checksum_verifies() {
        let ip: std::net::Ipv6Addr = "2001:db8::10".parse().expect("ip");
        let f = advertisement([2, 0, 0, 0, 0, 1], ip);
        // Summed again with the checksum in place, the message checks out.
        let again = checksum(&[&f[22..54], &32u32.to_be_bytes(), &[0, 0, 0, 58], &f[54..86]]);
        assert_eq!(again, 0);
        assert_eq!(f[54], 136);
    }

    #[test]
    fn announcement_layout() {
        let mac = [2, 0, 0, 0, 0, 1];
        let f = frame(mac, Ipv4Addr::new(192, 0, 2, 10), false);
        assert_eq!(&f[0..6], &[0xff; 6]);
        assert_eq!(&f[12..14], &[0x08, 0x06]);
        assert_eq!(&f[20..22], &[0, 1]);
        assert_eq!(&f[28..32], &[192, 0, 2, 10]);
        assert_eq!(&f[32..38], &[0; 6]);
        assert_eq!(&f[38..42], &[192, 0, 2, 10]);
        let r = frame(mac, Ipv4Addr::new(192, 0, 2, 10), true);
        assert_eq!(&r[0..6], &[0xff; 6]);
        assert_eq!(&r[20..22], &[0, 2]);
        assert_eq!(&r[22..28], &mac);
        assert_eq!(&r[32..38], &mac);
        assert_eq!(&r[38..42], &[192, 0, 2, 10]);
    }
}
