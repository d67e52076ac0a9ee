//! Ping nodes (`ping`, `ping_group`): addresses whose reachability counts
//! as this node's connectivity, so that a node cut off from the network
//! does not take groups over from one that is not. ICMP echo from a raw
//! socket (ping datagram sockets are closed to root by the default
//! `ping_group_range`), one request per address every keepalive; a ping
//! node is reachable while a reply came within `deadping`.

use crate::config::hacf::PingNode;
use crate::wire::icmp::{self, Family};
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
        let msg = icmp::echo_request(Family::V4, self.id, self.seq, b"tandem\0\0");
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
            let Some((src, message)) = icmp::strip_ipv4(&buf[..n]) else {
                continue;
            };
            if icmp::answer(Family::V4, message) != (icmp::Answer::Reply { ident: self.id }) {
                continue;
            }
            let src = Ipv4Addr::from(src);
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
