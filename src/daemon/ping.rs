//! Ping nodes (`ping`, `ping_group`): addresses whose reachability counts
//! as this node's connectivity, so that a node cut off from the network
//! does not take groups over from one that is not. ICMP echo from a raw
//! socket (ping datagram sockets are closed to root by the default
//! `ping_group_range`), one request per address every keepalive; a ping
//! node is reachable while a reply came within `deadping`.

use crate::config::hacf::PingNode;
use mio::net::UdpSocket;
use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct Pinger {
    /// A raw ICMP socket, wrapped as a datagram socket for mio: it reads
    /// and writes whole datagrams the same way.
    pub socket: UdpSocket,
    nodes: Vec<(PingNode, Option<Instant>)>,
    id: u16,
    seq: u16,
    every: Duration,
    deadping: Duration,
    pub next: Instant,
}

impl Pinger {
    /// `Ok(None)` without ping nodes. Only IPv4 ping nodes for now.
    pub fn new(
        nodes: &[PingNode],
        every: Duration,
        deadping: Duration,
        now: Instant,
    ) -> io::Result<Option<Pinger>> {
        if nodes.is_empty() {
            return Ok(None);
        }
        let s = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::ICMPV4))?;
        s.set_nonblocking(true)?;
        s.set_cloexec(true)?;
        let std: std::net::UdpSocket = std::net::UdpSocket::from(std::os::fd::OwnedFd::from(s));
        Ok(Some(Pinger {
            socket: UdpSocket::from_std(std),
            nodes: nodes.iter().map(|n| (n.clone(), None)).collect(),
            id: (std::process::id() & 0xffff) as u16,
            seq: 0,
            every,
            deadping,
            next: now,
        }))
    }

    /// Sends one echo request to every address, if it is time.
    pub fn tick(&mut self, now: Instant) {
        if now < self.next {
            return;
        }
        self.next = now + self.every;
        self.seq = self.seq.wrapping_add(1);
        let mut msg = [0u8; 16];
        msg[0] = 8; // echo request
        msg[4..6].copy_from_slice(&self.id.to_be_bytes());
        msg[6..8].copy_from_slice(&self.seq.to_be_bytes());
        msg[8..16].copy_from_slice(b"tandem\0\0");
        let sum = crate::takeover::arp::checksum(&[&msg]);
        msg[2..4].copy_from_slice(&sum.to_be_bytes());
        for (node, _) in &self.nodes {
            for addr in &node.addresses {
                if let IpAddr::V4(v4) = addr {
                    let dest = SocketAddr::V4(SocketAddrV4::new(*v4, 0));
                    // Unreachable now is what ping nodes are for: no error.
                    let _ = self.socket.send_to(&msg, dest);
                }
            }
        }
    }

    /// Reads replies (raw IPv4 datagrams: IP header, then ICMP).
    pub fn receive(&mut self, now: Instant) {
        let mut buf = [0u8; 1500];
        while let Ok((n, _)) = self.socket.recv_from(&mut buf) {
            let b = &buf[..n];
            let Some(&vihl) = b.first() else { continue };
            let ihl = usize::from(vihl & 0x0f) * 4;
            if b.len() < ihl + 8 || ihl < 20 {
                continue;
            }
            let icmp = &b[ihl..];
            let id = u16::from_be_bytes([icmp[4], icmp[5]]);
            if icmp[0] != 0 || id != self.id {
                continue;
            }
            let src = Ipv4Addr::new(b[12], b[13], b[14], b[15]);
            for (node, heard) in &mut self.nodes {
                if node.addresses.contains(&IpAddr::V4(src)) {
                    *heard = Some(now);
                }
            }
        }
    }

    /// How many ping nodes answered within deadping.
    pub fn reachable(&self, now: Instant) -> u8 {
        self.nodes
            .iter()
            .filter(|(_, heard)| heard.is_some_and(|t| now.duration_since(t) <= self.deadping))
            .count()
            .min(usize::from(u8::MAX)) as u8
    }
}
