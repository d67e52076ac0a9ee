//! MAC address takeover: the surviving node puts the shared (virtual) MAC
//! on its interface, so that clients' ARP caches need not change at all;
//! switches learn the new port from the gratuitous ARPs that follow. On
//! release the interface gets its own address back.

use super::TakeoverError;
use crate::config::haresources::parse_mac as parse;
use netlink_packet_core::{NLM_F_ACK, NLM_F_REQUEST};
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
use netlink_packet_route::RouteNetlinkMessage;
use std::path::{Path, PathBuf};

/// `02:00:5e:00:01:01`, as ip(8) prints it.
pub fn format(mac: &[u8; 6]) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The interface's current hardware address.
pub fn current(device: &str) -> Result<[u8; 6], TakeoverError> {
    let text =
        std::fs::read_to_string(format!("/sys/class/net/{device}/address")).map_err(|e| {
            TakeoverError::Device {
                device: device.to_string(),
                reason: e.to_string(),
            }
        })?;
    parse(text.trim()).ok_or_else(|| TakeoverError::Device {
        device: device.to_string(),
        reason: format!("`{}` is not an Ethernet address", text.trim()),
    })
}

fn set_link(device: &str, up: Option<bool>, mac: Option<[u8; 6]>) -> Result<(), TakeoverError> {
    let index = nix::net::if_::if_nametoindex(device).map_err(|e| TakeoverError::Device {
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
fn set(device: &str, mac: [u8; 6]) -> Result<[u8; 6], TakeoverError> {
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
/// file under `dir` (the state directory's `mac/`), so that `tandem
/// action` (the shipped script) and a daemon restarted after a crash can
/// give it back. Not under /run: systemd empties a unit's runtime
/// directory at every restart. Keyed by network namespace as well as
/// name: `eth0` in two namespaces is two interfaces.
fn memory(dir: &Path, device: &str) -> Result<PathBuf, TakeoverError> {
    if device.is_empty() || device.contains('/') || device.starts_with('.') {
        return Err(TakeoverError::Device {
            device: device.to_string(),
            reason: "not an interface name".to_string(),
        });
    }
    let index = nix::net::if_::if_nametoindex(device).unwrap_or(0);
    Ok(dir.join(format!("{}-{index}-{device}", netns_id())))
}

/// This network namespace, by the kernel's cookie for it (SO_NETNS_COOKIE,
/// Linux 5.14): unique while the system runs. The namespace file's inode,
/// used before, is reused by a new namespace once an old one is gone, and
/// with it a memory that a killed daemon left behind: the new namespace's
/// interface was then "given back" another machine's address (found by
/// the tests, which kill daemons holding a shared MAC in namespaces they
/// delete). Older kernels: the inode, as before.
#[allow(unsafe_code)]
fn netns_id() -> String {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::os::unix::fs::MetadataExt;
    const SO_NETNS_COOKIE: libc::c_int = 71;
    // SAFETY: a plain socket(2) call; the result is checked.
    let fd = unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd >= 0 {
        // SAFETY: fd is a new descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let mut cookie: u64 = 0;
        let mut len = std::mem::size_of::<u64>() as libc::socklen_t;
        // SAFETY: cookie and len outlive the call and have the sizes given.
        let rc = unsafe {
            libc::getsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                SO_NETNS_COOKIE,
                (&mut cookie as *mut u64).cast(),
                &mut len,
            )
        };
        if rc == 0 && len as usize == std::mem::size_of::<u64>() {
            return format!("c{cookie}");
        }
    }
    let inode = std::fs::metadata("/proc/self/ns/net")
        .map(|m| m.ino())
        .unwrap_or(0);
    format!("i{inode}")
}

/// This boot, as the kernel names it: a memory written before a reboot
/// is not trusted, as the interface came back with its own address.
fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// The own address remembered in `path`, if it was written in this boot.
/// A record from an earlier boot (or without a boot id) is removed.
fn recall(path: &Path) -> Option<[u8; 6]> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut words = text.split_whitespace();
    let own = words.next().and_then(parse);
    let boot = words.next();
    if own.is_some() && boot.is_some_and(|b| b == boot_id()) {
        return own;
    }
    let _ = std::fs::remove_file(path);
    None
}

/// Takes over: puts the shared `mac` on `device`, remembering the
/// address the interface had (under `dir`) unless one is remembered
/// already (a second start must not remember the shared address as the
/// own one). Returns the own address.
pub fn take(dir: &Path, device: &str, mac: [u8; 6]) -> Result<[u8; 6], TakeoverError> {
    let path = memory(dir, device)?;
    let own = match recall(&path) {
        Some(own) => own,
        None => {
            let own = current(device)?;
            if own == mac {
                return Err(TakeoverError::Device {
                    device: device.to_string(),
                    reason: format!(
                        "already has {} and its own address is not known",
                        format(&mac)
                    ),
                });
            }
            let fail = |e: std::io::Error| TakeoverError::Device {
                device: device.to_string(),
                reason: format!("cannot remember its address in {}: {e}", path.display()),
            };
            std::fs::create_dir_all(dir).map_err(fail)?;
            // Written whole, then renamed: a crash leaves the old record
            // or the new one, never half of one.
            let partial = path.with_extension("new");
            std::fs::write(&partial, format!("{} {}\n", format(&own), boot_id())).map_err(fail)?;
            std::fs::rename(&partial, &path).map_err(fail)?;
            own
        }
    };
    set(device, mac)?;
    Ok(own)
}

/// Releases: gives `device` its own address back if it has the shared
/// `mac`. Returns the address given back, or `None` when the interface
/// did not have the shared one.
pub fn release(dir: &Path, device: &str, mac: [u8; 6]) -> Result<Option<[u8; 6]>, TakeoverError> {
    let path = memory(dir, device)?;
    if current(device)? != mac {
        let _ = std::fs::remove_file(&path);
        return Ok(None);
    }
    let own = recall(&path).ok_or_else(|| TakeoverError::Device {
        device: device.to_string(),
        reason: format!(
            "its own address is not known ({} is gone or from an earlier boot); set it with `ip link set {device} address ...`",
            path.display()
        ),
    })?;
    set(device, own)?;
    let _ = std::fs::remove_file(&path);
    Ok(Some(own))
}
