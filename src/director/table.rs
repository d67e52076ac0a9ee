//! The IPVS table as the director wants it and as the kernel has it, and
//! the plan between them. Reconcile, never replay: a restart or a reload
//! computes the difference and applies only that, so live connections to
//! unchanged real servers are never flushed.
//!
//! Pure: the netlink layer reads the kernel's table into a [`Table`] and
//! applies [`Op`]s; the health checks decide which servers are up.

use crate::config::ldirectord::{Address, Director, Forward, Protocol, Real, Virtual};
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// A virtual service as the kernel keys it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum ServiceKey {
    /// Protocol (IPPROTO_TCP 6, UDP 17, SCTP 132), address, port.
    Socket {
        protocol: u16,
        ip: IpAddr,
        port: u16,
    },
    /// Firewall mark and address family (AF_INET 2, AF_INET6 10).
    Fwmark { mark: u32, family: u16 },
}

/// The service's settings the kernel keeps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceConf {
    pub scheduler: String,
    /// Persistence timeout in seconds; `None`: not persistent.
    pub persistent: Option<u32>,
    /// Persistence netmask (IPv4 mask as a number, or IPv6 prefix).
    pub netmask: u32,
    pub one_packet: bool,
}

/// A real server as the kernel keys it within a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct DestKey {
    pub ip: IpAddr,
    pub port: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DestConf {
    pub forward: Forward,
    pub weight: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Table {
    pub services: BTreeMap<ServiceKey, (ServiceConf, BTreeMap<DestKey, DestConf>)>,
}

/// One change to the kernel's table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Op {
    AddService(ServiceKey, ServiceConf),
    EditService(ServiceKey, ServiceConf),
    DelService(ServiceKey),
    AddDest(ServiceKey, DestKey, DestConf),
    EditDest(ServiceKey, DestKey, DestConf),
    DelDest(ServiceKey, DestKey),
}

/// The changes that turn `current` into `desired`, in an order the
/// kernel accepts: services before their servers, servers removed before
/// their service is. Services the director does not describe are
/// removed, as ldirectord purges what it does not track.
pub fn plan(current: &Table, desired: &Table) -> Vec<Op> {
    let mut ops = Vec::new();
    for (key, (conf, dests)) in &desired.services {
        let now = current.services.get(key);
        match now {
            None => ops.push(Op::AddService(*key, conf.clone())),
            Some((c, _)) if c != conf => ops.push(Op::EditService(*key, conf.clone())),
            Some(_) => {}
        }
        let empty = BTreeMap::new();
        let now_dests = now.map_or(&empty, |(_, d)| d);
        for (d, dc) in dests {
            match now_dests.get(d) {
                None => ops.push(Op::AddDest(*key, *d, *dc)),
                // The forwarding method is part of a destination the
                // kernel can edit in place, as the weight is.
                Some(c) if c != dc => ops.push(Op::EditDest(*key, *d, *dc)),
                Some(_) => {}
            }
        }
        for d in now_dests.keys().filter(|d| !dests.contains_key(d)) {
            ops.push(Op::DelDest(*key, *d));
        }
    }
    for key in current.services.keys() {
        if !desired.services.contains_key(key) {
            ops.push(Op::DelService(*key));
        }
    }
    ops
}

/// The kernel's key for a configured virtual service.
pub fn service_key(v: &Virtual) -> ServiceKey {
    match v.address {
        Address::Fwmark { mark, ipv6 } => ServiceKey::Fwmark {
            mark,
            family: if ipv6 { 10 } else { 2 },
        },
        Address::Socket { ip, port } => ServiceKey::Socket {
            protocol: match v.protocol {
                Protocol::Udp => 17,
                Protocol::Sctp => 132,
                Protocol::Tcp | Protocol::Fwm => 6,
            },
            ip,
            port,
        },
    }
}

/// The kernel's key for real server `r` of `v`: its address, and its port
/// or the service's.
pub fn dest_key(v: &Virtual, r: &Real) -> DestKey {
    let vport = match v.address {
        Address::Socket { port, .. } => port,
        Address::Fwmark { .. } => 0,
    };
    DestKey {
        ip: r.ip,
        port: r.port.unwrap_or(vport),
    }
}

/// The table the configuration asks for, given which real servers pass
/// their checks (`up(virtual index, real index)`): a server that is down
/// stays with weight 0 when the service is quiescent, else it goes; when
/// none is up, the fallback server (if any) takes the traffic.
pub fn desired(d: &Director, up: &dyn Fn(usize, usize) -> bool) -> Table {
    let mut t = Table::default();
    for (vi, v) in d.virtuals.iter().enumerate() {
        let key = service_key(v);
        let full = match v.address {
            Address::Socket { ip, .. } if ip.is_ipv6() => 128,
            Address::Fwmark { ipv6: true, .. } => 128,
            _ => u32::MAX,
        };
        let conf = ServiceConf {
            scheduler: v.scheduler.clone(),
            persistent: v.persistent,
            netmask: v.netmask.unwrap_or(full),
            one_packet: v.ops,
        };
        let mut dests = BTreeMap::new();
        let mut any_up = false;
        for (ri, r) in v.reals.iter().enumerate() {
            let is_up = up(vi, ri);
            any_up |= is_up && r.weight > 0;
            if is_up || v.settings.quiescent {
                let weight = if is_up { r.weight } else { 0 };
                dests.insert(
                    dest_key(v, r),
                    DestConf {
                        forward: r.forward,
                        weight,
                    },
                );
            }
        }
        if !any_up {
            if let Some(f) = &v.settings.fallback {
                dests.insert(
                    dest_key(v, f),
                    DestConf {
                        forward: f.forward,
                        weight: f.weight.max(1),
                    },
                );
            }
        }
        t.services.insert(key, (conf, dests));
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ldirectord::parse;

    const FARM: &str = "virtual=192.0.2.10:80\n\
        \treal=198.51.100.2:80 gate\n\
        \treal=198.51.100.3:80 gate 3\n\
        \tfallback=127.0.0.1:80 gate\n\
        \tscheduler=wlc\n\
        virtual=192.0.2.10:443\n\
        \treal=198.51.100.2:8443 masq\n\
        \tquiescent=no\n";

    fn director() -> Director {
        let (d, diags) = parse("t.cf", FARM.as_bytes());
        d.unwrap_or_else(|| panic!("{:?}", diags.into_vec()))
    }

    #[test]
    fn an_empty_kernel_gets_everything_services_first() {
        let d = director();
        let want = desired(&d, &|_, _| true);
        let ops = plan(&Table::default(), &want);
        assert_eq!(ops.len(), 5, "{ops:#?}");
        assert!(matches!(ops[0], Op::AddService(..)));
        assert!(matches!(ops[1], Op::AddDest(..)));
        // Applying the plan leaves nothing to do.
        assert!(plan(&want, &want).is_empty());
    }

    #[test]
    fn a_failed_server_goes_to_weight_zero_or_away() {
        let d = director();
        let all = desired(&d, &|_, _| true);
        // The second server of the first service (quiescent) and the one
        // server of the second (not quiescent) fail.
        let some = desired(&d, &|v, r| !(v == 0 && r == 1 || v == 1));
        let ops = plan(&all, &some);
        let web = service_key(&d.virtuals[0]);
        let tls = service_key(&d.virtuals[1]);
        let s3 = DestKey {
            ip: "198.51.100.3".parse().unwrap(),
            port: 80,
        };
        let s2 = DestKey {
            ip: "198.51.100.2".parse().unwrap(),
            port: 8443,
        };
        assert_eq!(
            ops,
            [
                Op::EditDest(
                    web,
                    s3,
                    DestConf {
                        forward: Forward::Gate,
                        weight: 0
                    }
                ),
                Op::DelDest(tls, s2),
            ]
        );
    }

    #[test]
    fn all_down_brings_the_fallback_and_back_up_removes_it() {
        let d = director();
        let up = desired(&d, &|_, _| true);
        let down = desired(&d, &|v, _| v != 0);
        let web = service_key(&d.virtuals[0]);
        let fallback = DestKey {
            ip: "127.0.0.1".parse().unwrap(),
            port: 80,
        };
        let ops = plan(&up, &down);
        assert!(ops.contains(&Op::AddDest(
            web,
            fallback,
            DestConf {
                forward: Forward::Gate,
                weight: 1
            }
        )));
        assert!(plan(&down, &up).contains(&Op::DelDest(web, fallback)));
    }

    #[test]
    fn a_changed_scheduler_edits_and_a_dropped_service_goes() {
        let d = director();
        let before = desired(&d, &|_, _| true);
        let mut d2 = d.clone();
        d2.virtuals[0].scheduler = "sh".into();
        d2.virtuals.pop();
        let after = desired(&d2, &|_, _| true);
        let ops = plan(&before, &after);
        let web = service_key(&d.virtuals[0]);
        let tls = service_key(&d.virtuals[1]);
        assert_eq!(ops.len(), 2, "{ops:#?}");
        assert!(matches!(&ops[0], Op::EditService(k, c) if *k == web && c.scheduler == "sh"));
        assert_eq!(ops[1], Op::DelService(tls));
    }
}
