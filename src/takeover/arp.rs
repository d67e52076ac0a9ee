//! Gratuitous ARP: tells the segment that an IPv4 address now lives at
//! this interface's MAC, so that neighbours' caches follow at once
//! instead of after their entries age out.

use super::TakeoverError;
use crate::wire::arp::{advertisement, frame};
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
                send_frame(device, |mac| frame(mac, v4.octets(), false).to_vec())?;
            }
            if form != Form::Request {
                send_frame(device, |mac| frame(mac, v4.octets(), true).to_vec())?;
            }
            Ok(())
        }
        std::net::IpAddr::V6(v6) => {
            send_frame(device, |mac| advertisement(mac, v6.octets()).to_vec())
        }
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
