//! Media: the links that carry keepalives, each "frames in, frames out on
//! one file descriptor" for the daemon's event loop.

pub mod ppp;
pub mod serial;
pub mod udp;

use crate::config::hacf::Medium;
use crate::config::Config;
use std::io;
use std::net::IpAddr;

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("{link}")]
    Io {
        link: String,
        #[source]
        source: io::Error,
    },
    #[error("no network interface `{device}`: {reason}")]
    Device { device: String, reason: String },
    #[error("{0}: not a UDP medium")]
    NotUdp(String),
    #[error("{0}: pppd is not installed (/usr/sbin/pppd); install the `ppp` package")]
    NoPppd(String),
}

/// One open link.
#[derive(Debug)]
pub enum Link {
    Udp(udp::UdpLink),
    Serial(serial::SerialLink),
    Ppp(ppp::PppLink),
}

/// Drops the `ucast`/`ucast6` lines that point at this node itself, as
/// Heartbeat does, so that one ha.cf serves every node. A line points at
/// this node when its address is one of this host's and its port is the
/// one this node listens on (several nodes may share a host on loopback,
/// each on its own port). Returns the dropped lines.
pub fn drop_self_links(config: &mut Config, local: &[IpAddr]) -> Vec<String> {
    let udpport = config.hacf.udpport.value;
    let mut dropped = Vec::new();
    config.hacf.links.retain(|l| {
        let to_self = match &l.value {
            Medium::Ucast { peer, port, .. } => {
                local.contains(&IpAddr::V4(*peer)) && port.unwrap_or(udpport) == udpport
            }
            Medium::Ucast6 { peer, .. } => local.contains(&IpAddr::V6(*peer)),
            _ => false,
        };
        if to_self {
            dropped.push(l.value.to_string());
        }
        !to_self
    });
    dropped
}

/// Opens every link of this node, in the core's link order. Serial devices
/// that cannot be opened yet are returned closed (the loop retries them);
/// a UDP socket that cannot be set up is an error, since that is a
/// configuration problem (no such interface, port in use). pppd's output
/// goes to a file in `run_dir`.
pub fn open_all(
    config: &Config,
    run_dir: &std::path::Path,
    warnings: &mut Vec<String>,
) -> Result<Vec<Link>, MediaError> {
    let h = &config.hacf;
    let mut links: Vec<Link> = Vec::new();
    // Unicast links by (device, IPv6?): the link that owns their socket.
    let mut unicast: Vec<((String, bool), usize)> = Vec::new();
    for l in h
        .links
        .iter()
        .filter(|l| l.value.reaches(&config.local_node))
    {
        let shared = match &l.value {
            Medium::Ucast { device, peer, .. } => {
                Some(((device.clone(), false), IpAddr::V4(*peer)))
            }
            Medium::Ucast6 { device, peer, .. } => {
                Some(((device.clone(), true), IpAddr::V6(*peer)))
            }
            _ => None,
        };
        if let Some((key, peer)) = shared {
            let me = links.len();
            let owner = unicast.iter().find(|(k, _)| *k == key).map(|&(_, o)| o);
            if let Some(Link::Udp(o)) = owner.and_then(|o| links.get_mut(o)) {
                let dest = udp::destination(&l.value, h.udpport.value)?;
                let link = udp::UdpLink::sharing(o, dest).map_err(|e| MediaError::Io {
                    link: l.value.to_string(),
                    source: e,
                })?;
                if let Some(v) = o.receives_for.as_mut() {
                    v.push((peer, me));
                }
                links.push(Link::Udp(link));
                continue;
            }
            let mut link = udp::open(&l.value, h.udpport.value, warnings)?;
            if let Some(v) = link.receives_for.as_mut() {
                v.push((peer, me));
            }
            unicast.push((key, me));
            links.push(Link::Udp(link));
            continue;
        }
        let link = match &l.value {
            Medium::Serial { device } => {
                Link::Serial(serial::SerialLink::new(device, h.baud.value))
            }
            Medium::Ppp { device, ends } => {
                let name = l.value.to_string();
                let (mine, theirs) = if ends[0].0 == config.local_node {
                    (ends[0].1, ends[1].1)
                } else {
                    (ends[1].1, ends[0].1)
                };
                let file = device.trim_start_matches('/').replace('/', "-");
                let log = run_dir.join(format!("pppd-{file}.log"));
                Link::Ppp(ppp::PppLink::open(
                    &name,
                    device,
                    h.baud.value,
                    (mine, theirs),
                    h.udpport.value,
                    &log,
                )?)
            }
            m => Link::Udp(udp::open(m, h.udpport.value, warnings)?),
        };
        links.push(link);
    }
    Ok(links)
}
