//! Ping nodes (`ping`, `ping_group`): addresses whose reachability counts
//! as this node's connectivity, so that a node cut off from the network
//! does not take groups over from one that is not. ICMP echo from a raw
//! socket (ping datagram sockets are closed to root by the default
//! `ping_group_range`), one request per address every keepalive; a ping
//! node is reachable while a reply came within `deadping`. IPv4 and IPv6
//! (ICMPv6 echo) addresses mix freely, also within one `ping_group`.

use crate::config::hacf::PingNode;
use crate::wire::icmp::{self, Family};
use mio::net::UdpSocket;
use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct Pinger {
    /// Raw ICMP and ICMPv6 sockets (each only if an address needs it),
    /// wrapped as datagram sockets for mio: they read and write whole
    /// datagrams the same way.
    socket4: Option<UdpSocket>,
    socket6: Option<UdpSocket>,
    nodes: Vec<(PingNode, Option<Instant>)>,
    id: u16,
    seq: u16,
    every: Duration,
    deadping: Duration,
    pub next: Instant,
}

impl Pinger {
    /// `Ok(None)` without ping nodes.
    pub fn new(
        nodes: &[PingNode],
        every: Duration,
        deadping: Duration,
        now: Instant,
    ) -> io::Result<Option<Pinger>> {
        if nodes.is_empty() {
            return Ok(None);
        }
        let wants = |v6: bool| {
            nodes
                .iter()
                .flat_map(|n| &n.addresses)
                .any(|a| a.is_ipv6() == v6)
        };
        let open = |domain: Domain, protocol: Protocol| -> io::Result<UdpSocket> {
            let s = Socket::new(domain, Type::RAW, Some(protocol))?;
            s.set_nonblocking(true)?;
            s.set_cloexec(true)?;
            let std: std::net::UdpSocket = std::net::UdpSocket::from(std::os::fd::OwnedFd::from(s));
            Ok(UdpSocket::from_std(std))
        };
        Ok(Some(Pinger {
            socket4: wants(false)
                .then(|| open(Domain::IPV4, Protocol::ICMPV4))
                .transpose()?,
            socket6: wants(true)
                .then(|| open(Domain::IPV6, Protocol::ICMPV6))
                .transpose()?,
            nodes: nodes.iter().map(|n| (n.clone(), None)).collect(),
            id: (std::process::id() & 0xffff) as u16,
            seq: 0,
            every,
            deadping,
            next: now,
        }))
    }

    /// Registers the sockets for reading, under one token.
    pub fn register(&mut self, registry: &mio::Registry, token: mio::Token) -> io::Result<()> {
        for s in [self.socket4.as_mut(), self.socket6.as_mut()]
            .into_iter()
            .flatten()
        {
            registry.register(s, token, mio::Interest::READABLE)?;
        }
        Ok(())
    }

    /// Sends one echo request to every address, if it is time.
    pub fn tick(&mut self, now: Instant) {
        if now < self.next {
            return;
        }
        self.next = now + self.every;
        self.seq = self.seq.wrapping_add(1);
        let v4 = icmp::echo_request(Family::V4, self.id, self.seq, b"tandem\0\0");
        let v6 = icmp::echo_request(Family::V6, self.id, self.seq, b"tandem\0\0");
        for (node, _) in &self.nodes {
            for addr in &node.addresses {
                // Unreachable now is what ping nodes are for: no error.
                match (addr, &self.socket4, &self.socket6) {
                    (IpAddr::V4(a), Some(s), _) => {
                        let _ = s.send_to(&v4, SocketAddr::V4(SocketAddrV4::new(*a, 0)));
                    }
                    (IpAddr::V6(a), _, Some(s)) => {
                        let _ = s.send_to(&v6, SocketAddr::V6(SocketAddrV6::new(*a, 0, 0, 0)));
                    }
                    _ => {}
                }
            }
        }
    }

    /// Reads replies: raw IPv4 datagrams (IP header, then ICMP) and ICMPv6
    /// messages (the kernel strips the IPv6 header).
    pub fn receive(&mut self, now: Instant) {
        let mut buf = [0u8; 1500];
        let mut heard = Vec::new();
        if let Some(s) = &self.socket4 {
            while let Ok((n, _)) = s.recv_from(&mut buf) {
                let Some((src, message)) = icmp::strip_ipv4(&buf[..n]) else {
                    continue;
                };
                if icmp::answer(Family::V4, message) == (icmp::Answer::Reply { ident: self.id }) {
                    heard.push(IpAddr::V4(Ipv4Addr::from(src)));
                }
            }
        }
        if let Some(s) = &self.socket6 {
            while let Ok((n, from)) = s.recv_from(&mut buf) {
                if icmp::answer(Family::V6, &buf[..n]) == (icmp::Answer::Reply { ident: self.id }) {
                    heard.push(from.ip());
                }
            }
        }
        for src in heard {
            for (node, at) in &mut self.nodes {
                if node.addresses.contains(&src) {
                    *at = Some(now);
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
