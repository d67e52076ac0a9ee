//! UDP media: `bcast`, `mcast`, `mcast6`, `ucast`, `ucast6` (and the UDP
//! side of `ppp`). One socket per link, bound to its device so that two
//! links on one port never hear each other's traffic.

use super::MediaError;
use crate::config::hacf::Medium;
use mio::net::UdpSocket;
use socket2::{Domain, InterfaceIndexOrAddress, Protocol, SockFilter, Socket, Type};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// IPTOS_LOWDELAY, as Heartbeat sets on its sockets.
const TOS_LOW_DELAY: u32 = 0x10;

/// A UDP link: where it listens and where it sends.
#[derive(Debug)]
pub struct UdpLink {
    pub socket: UdpSocket,
    pub dest: SocketAddr,
    /// Unicast links on one device and port share one socket (two sockets
    /// bound alike would split the datagrams between them at random): the
    /// first link receives for all, and tells them apart by the sender's
    /// address. `None` on the others, which only send.
    pub receives_for: Option<Vec<(IpAddr, usize)>>,
}

impl UdpLink {
    /// A link that sends through `owner`'s socket and receives through it.
    pub fn sharing(owner: &UdpLink, dest: SocketAddr) -> io::Result<UdpLink> {
        let fd = owner.socket_fd()?;
        Ok(UdpLink {
            socket: UdpSocket::from_std(fd),
            dest,
            receives_for: None,
        })
    }

    /// A second handle on this link's socket (the same file description).
    pub fn socket_fd(&self) -> io::Result<std::net::UdpSocket> {
        use std::os::fd::AsFd;
        let owned = self.socket.as_fd().try_clone_to_owned()?;
        Ok(std::net::UdpSocket::from(owned))
    }

    /// The link a datagram from `from` belongs to, among those sharing
    /// this socket (`me` when none names that address).
    pub fn link_of(&self, from: IpAddr, me: usize) -> usize {
        self.receives_for
            .as_ref()
            .and_then(|v| v.iter().find(|(a, _)| *a == from).map(|(_, i)| *i))
            .unwrap_or(me)
    }
}

/// The address of `device` (its first IPv4 address) and its broadcast
/// address, from getifaddrs.
fn ipv4_of(device: &str) -> Option<(Ipv4Addr, Option<Ipv4Addr>)> {
    let addrs = nix::ifaddrs::getifaddrs().ok()?;
    for a in addrs {
        if a.interface_name != device {
            continue;
        }
        let Some(ip) = a.address.as_ref().and_then(|s| s.as_sockaddr_in()) else {
            continue;
        };
        let bcast = a
            .broadcast
            .as_ref()
            .and_then(|s| s.as_sockaddr_in())
            .map(|b| b.ip());
        return Some((ip.ip(), bcast));
    }
    None
}

/// Every address of this host, for `ucast` lines that point at itself.
pub fn local_addresses() -> Vec<IpAddr> {
    let Ok(addrs) = nix::ifaddrs::getifaddrs() else {
        return Vec::new();
    };
    addrs
        .filter_map(|a| {
            let s = a.address?;
            if let Some(v4) = s.as_sockaddr_in() {
                Some(IpAddr::V4(v4.ip()))
            } else {
                s.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip()))
            }
        })
        .collect()
}

fn index_of(device: &str) -> Result<u32, MediaError> {
    nix::net::if_::if_nametoindex(device).map_err(|e| MediaError::Device {
        device: device.to_string(),
        reason: e.desc().to_string(),
    })
}

fn socket(domain: Domain) -> io::Result<Socket> {
    let s = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP))?;
    s.set_reuse_address(true)?;
    s.set_nonblocking(true)?;
    s.set_cloexec(true)?;
    Ok(s)
}

/// SO_BINDTODEVICE. Unprivileged processes may not use it on older
/// kernels; the link then works on every interface, which is what a
/// two-node test on loopback needs anyway.
fn bind_device(s: &Socket, device: &str, warnings: &mut Vec<String>) -> io::Result<()> {
    match s.bind_device(Some(device.as_bytes())) {
        Ok(()) => Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => {
            warnings.push(format!(
                "cannot bind to device {device} without CAP_NET_RAW; listening on every interface"
            ));
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Where a unicast medium sends.
pub fn destination(medium: &Medium, udpport: u16) -> Result<SocketAddr, MediaError> {
    match medium {
        Medium::Ucast { peer, port, .. } => Ok(SocketAddr::V4(SocketAddrV4::new(
            *peer,
            port.unwrap_or(udpport),
        ))),
        Medium::Ucast6 { peer, scope, .. } => {
            let scope_id = match scope {
                Some(dev) => index_of(dev)?,
                None => 0,
            };
            Ok(SocketAddr::V6(SocketAddrV6::new(
                *peer, udpport, 0, scope_id,
            )))
        }
        _ => Err(MediaError::NotUdp(medium.to_string())),
    }
}

/// Opens the socket of a UDP medium. `udpport` is the configured port;
/// `warnings` collects what is worth a log line but not a refusal.
pub fn open(
    medium: &Medium,
    udpport: u16,
    warnings: &mut Vec<String>,
) -> Result<UdpLink, MediaError> {
    let name = medium.to_string();
    let io = |e: io::Error| MediaError::Io {
        link: name.clone(),
        source: e,
    };
    let any4 = |port| SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port));
    let any6 = |port| SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::UNSPECIFIED, port, 0, 0));
    let (s, dest) = match medium {
        Medium::Ucast { device, .. } => {
            let s = socket(Domain::IPV4).map_err(io)?;
            bind_device(&s, device, warnings).map_err(io)?;
            let _ = s.set_tos_v4(TOS_LOW_DELAY);
            s.bind(&any4(udpport).into()).map_err(io)?;
            (s, destination(medium, udpport)?)
        }
        Medium::Ucast6 { device, .. } => {
            let s = socket(Domain::IPV6).map_err(io)?;
            s.set_only_v6(true).map_err(io)?;
            bind_device(&s, device, warnings).map_err(io)?;
            s.bind(&any6(udpport).into()).map_err(io)?;
            (s, destination(medium, udpport)?)
        }
        Medium::Bcast { device } => {
            let s = socket(Domain::IPV4).map_err(io)?;
            bind_device(&s, device, warnings).map_err(io)?;
            s.set_broadcast(true).map_err(io)?;
            let _ = s.set_tos_v4(TOS_LOW_DELAY);
            s.bind(&any4(udpport).into()).map_err(io)?;
            // The interface's own broadcast address, as Heartbeat sends to.
            let (own, bcast) = match ipv4_of(device) {
                Some((own, Some(b))) => (Some(own), b),
                Some((own, None)) => (Some(own), Ipv4Addr::BROADCAST),
                None => (None, Ipv4Addr::BROADCAST),
            };
            if let Some(own) = own {
                if let Err(e) = ignore_own(&s, own) {
                    warnings.push(format!("{name}: own broadcasts not filtered: {e}"));
                }
            }
            (s, SocketAddr::V4(SocketAddrV4::new(bcast, udpport)))
        }
        Medium::Mcast {
            device,
            group,
            port,
            ttl,
            loopback,
        } => {
            let index = index_of(device)?;
            let s = socket(Domain::IPV4).map_err(io)?;
            bind_device(&s, device, warnings).map_err(io)?;
            // Bound to the group: only this group's datagrams arrive here.
            s.bind(&SocketAddr::V4(SocketAddrV4::new(*group, *port)).into())
                .map_err(io)?;
            s.join_multicast_v4_n(group, &InterfaceIndexOrAddress::Index(index))
                .map_err(io)?;
            if let Some((addr, _)) = ipv4_of(device) {
                s.set_multicast_if_v4(&addr).map_err(io)?;
            }
            s.set_multicast_ttl_v4(u32::from(*ttl)).map_err(io)?;
            s.set_multicast_loop_v4(*loopback).map_err(io)?;
            let _ = s.set_tos_v4(TOS_LOW_DELAY);
            (s, SocketAddr::V4(SocketAddrV4::new(*group, *port)))
        }
        Medium::Mcast6 {
            device,
            group,
            port,
            hops,
            loopback,
        } => {
            let index = index_of(device)?;
            let s = socket(Domain::IPV6).map_err(io)?;
            s.set_only_v6(true).map_err(io)?;
            bind_device(&s, device, warnings).map_err(io)?;
            s.bind(&SocketAddr::V6(SocketAddrV6::new(*group, *port, 0, index)).into())
                .map_err(io)?;
            s.join_multicast_v6(group, index).map_err(io)?;
            s.set_multicast_if_v6(index).map_err(io)?;
            s.set_multicast_hops_v6(u32::from(*hops)).map_err(io)?;
            s.set_multicast_loop_v6(*loopback).map_err(io)?;
            (
                s,
                SocketAddr::V6(SocketAddrV6::new(*group, *port, 0, index)),
            )
        }
        Medium::Serial { .. } | Medium::Ppp { .. } => {
            return Err(MediaError::NotUdp(name));
        }
    };
    let std: std::net::UdpSocket = s.into();
    Ok(UdpLink {
        socket: UdpSocket::from_std(std),
        dest,
        receives_for: Some(Vec::new()),
    })
}

/// Every broadcast we send comes back to our own socket: a wakeup and a
/// frame to drop per keepalive, a third of an idle node's work. A socket
/// filter drops datagrams whose IPv4 source is this interface's address
/// in the kernel. (Should the address change, our frames arrive again and
/// are dropped as our own, as before.)
fn ignore_own(s: &Socket, own: Ipv4Addr) -> io::Result<()> {
    // Classic BPF; on a UDP socket, offsets from SKF_NET_OFF reach the IP
    // header: its source address is at 12.
    const LD_W_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
    const JEQ_K: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
    const RET_K: u16 = 0x06; // BPF_RET | BPF_K
    const SKF_NET_OFF: i32 = -0x10_0000;
    s.attach_filter(&[
        SockFilter::new(LD_W_ABS, 0, 0, (SKF_NET_OFF + 12) as u32),
        SockFilter::new(JEQ_K, 0, 1, u32::from(own)),
        SockFilter::new(RET_K, 0, 0, 0),
        SockFilter::new(RET_K, 0, 0, u32::MAX),
    ])
}

impl UdpLink {
    /// Sends one frame; a full socket buffer drops it (the next keepalive
    /// follows soon, and a stale one is worth nothing).
    pub fn send(&self, frame: &[u8]) -> io::Result<()> {
        match self.socket.send_to(frame, self.dest) {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(()),
            Err(e) => Err(e),
        }
    }
}
