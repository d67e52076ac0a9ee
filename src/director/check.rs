//! What checking one real server of one virtual service means, worked out
//! once from the configuration: where to connect and what to say. The
//! event loop ([`super::probe`]) carries it out.

use crate::config::ldirectord::{Address, CheckType, HttpMethod, Protocol, Real, Service, Virtual};
use std::net::{IpAddr, SocketAddr};

#[derive(Debug, Clone)]
pub enum Kind {
    /// `checktype = on` (always up) or `off` (always down).
    Fixed(bool),
    /// A TCP connection is accepted.
    Connect,
    Http {
        tls: bool,
        method: HttpMethod,
        host: String,
        path: String,
        receive: Option<regex::Regex>,
    },
    /// SMTP, FTP, POP(S), IMAP(S), NNTP.
    Dialogue {
        tls: bool,
        service: Service,
        login: Option<(String, String)>,
    },
    Ldap {
        base: Option<String>,
        receive: Option<regex::Regex>,
        login: Option<(String, String)>,
    },
    Dns {
        udp: bool,
        request: String,
        receive: Option<regex::Regex>,
    },
    /// `checkcommand VIP VPORT RIP RPORT`; exit status 0 is up.
    External { command: String, args: Vec<String> },
    /// An ICMP echo answered.
    Ping,
}

#[derive(Debug, Clone)]
pub struct Check {
    pub target: SocketAddr,
    pub kind: Kind,
    /// `checktype = N`: this many connect checks between negotiate checks.
    pub connects_between: Option<u32>,
}

impl Check {
    /// The check for real server `r` of `v`.
    pub fn of(v: &Virtual, r: &Real) -> Check {
        let vport = match v.address {
            Address::Socket { port, .. } => port,
            Address::Fwmark { .. } => 0,
        };
        let port = v
            .checkport
            .or(r.port)
            .filter(|p| *p != 0)
            .unwrap_or(if vport != 0 { vport } else { v.service.port() });
        let target = SocketAddr::new(r.ip, port);
        let regex = |s: Option<&String>| s.and_then(|s| regex::Regex::new(s).ok());
        let receive = regex(r.receive.as_ref().or(v.receive.as_ref()));
        let request = r.request.clone().or_else(|| v.request.clone());
        let login = match (&v.login, &v.passwd) {
            (Some(l), p) => Some((l.clone(), p.clone().unwrap_or_default())),
            _ => None,
        };
        let negotiate = || match v.service {
            Service::Http | Service::Https => Kind::Http {
                tls: v.service == Service::Https,
                method: v.httpmethod,
                host: v.virtualhost.clone().unwrap_or_else(|| match r.ip {
                    IpAddr::V4(ip) => ip.to_string(),
                    IpAddr::V6(ip) => format!("[{ip}]"),
                }),
                path: request.clone().unwrap_or_else(|| "/".into()),
                receive: receive.clone(),
            },
            Service::Ftp
            | Service::Imap
            | Service::Imaps
            | Service::Nntp
            | Service::Pop
            | Service::Pops
            | Service::Smtp
            | Service::Submission => Kind::Dialogue {
                tls: matches!(v.service, Service::Imaps | Service::Pops),
                service: v.service,
                login: login.clone(),
            },
            Service::Ldap => Kind::Ldap {
                base: request.clone(),
                receive: receive.clone(),
                login: login.clone(),
            },
            Service::Dns => Kind::Dns {
                udp: v.protocol == Protocol::Udp,
                request: request.clone().unwrap_or_else(|| "localhost".into()),
                receive: receive.clone(),
            },
            Service::None => Kind::Connect,
        };
        let (kind, connects_between) = match v.checktype {
            CheckType::On => (Kind::Fixed(true), None),
            CheckType::Off => (Kind::Fixed(false), None),
            CheckType::Connect => (Kind::Connect, None),
            CheckType::Ping => (Kind::Ping, None),
            CheckType::Negotiate => (negotiate(), None),
            CheckType::Combined(n) => (negotiate(), Some(n)),
            CheckType::External => {
                let (vip, vport) = match v.address {
                    Address::Socket { ip, port } => (ip.to_string(), port.to_string()),
                    Address::Fwmark { mark, .. } => (mark.to_string(), "0".into()),
                };
                (
                    Kind::External {
                        command: v.checkcommand.clone().unwrap_or_default(),
                        args: vec![vip, vport, r.ip.to_string(), port.to_string()],
                    },
                    None,
                )
            }
        };
        Check {
            target,
            kind,
            connects_between,
        }
    }

    /// What round `round` (counting from 0) of a `checktype = N` check
    /// does: N connects, then a negotiate.
    pub fn connect_only(&self, round: u64) -> bool {
        match self.connects_between {
            Some(n) => round % (u64::from(n) + 1) != u64::from(n),
            None => false,
        }
    }

    /// The check's name for status and logs.
    pub fn describe(&self) -> String {
        match &self.kind {
            Kind::Fixed(true) => "on".into(),
            Kind::Fixed(false) => "off".into(),
            Kind::Connect => "connect".into(),
            Kind::Http { tls: false, .. } => "negotiate http".into(),
            Kind::Http { tls: true, .. } => "negotiate https".into(),
            Kind::Dialogue { service, .. } => format!("negotiate {}", service.name()),
            Kind::Ldap { .. } => "negotiate ldap".into(),
            Kind::Dns { .. } => "negotiate dns".into(),
            Kind::External { .. } => "external".into(),
            Kind::Ping => "ping".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ldirectord::parse;

    fn checks(text: &str) -> Vec<Check> {
        let (d, diags) = parse("ldirectord.cf", text.as_bytes());
        let d = d.unwrap_or_else(|| panic!("{diags:?}"));
        d.virtuals
            .iter()
            .flat_map(|v| v.reals.iter().map(move |r| Check::of(v, r)))
            .collect()
    }

    #[test]
    fn ports_requests_and_hosts_come_from_the_virtual_and_the_real() {
        let c = checks(
            "virtual=192.0.2.10:80\n\treal=198.51.100.1:8080 masq\n\treal=198.51.100.2 gate 1 \"/alive\" \"up\"\n\tchecktype=negotiate\n\tservice=http\n\trequest=\"/health\"\n\treceive=\"ok\"\n\tvirtualhost=www.example.org\n",
        );
        assert_eq!(c[0].target, "198.51.100.1:8080".parse().unwrap());
        assert_eq!(c[1].target, "198.51.100.2:80".parse().unwrap());
        let Kind::Http {
            host,
            path,
            receive,
            ..
        } = &c[1].kind
        else {
            panic!("{:?}", c[1].kind)
        };
        assert_eq!(
            (host.as_str(), path.as_str()),
            ("www.example.org", "/alive")
        );
        assert_eq!(receive.as_ref().map(|r| r.as_str()), Some("up"));
        let Kind::Http { path, .. } = &c[0].kind else {
            panic!()
        };
        assert_eq!(path, "/health");
    }

    #[test]
    fn checkport_external_and_combined() {
        let c = checks(
            "virtual=192.0.2.10:443\n\treal=198.51.100.1:443 gate\n\tchecktype=3\n\tservice=https\n\tcheckport=8443\nvirtual=192.0.2.10:25\n\treal=198.51.100.1 gate\n\tchecktype=external\n\tcheckcommand=/usr/local/bin/check-smtp\n",
        );
        assert_eq!(c[0].target.port(), 8443);
        assert!(matches!(c[0].kind, Kind::Http { tls: true, .. }));
        let rounds: Vec<bool> = (0..8).map(|r| c[0].connect_only(r)).collect();
        assert_eq!(rounds, [true, true, true, false, true, true, true, false]);
        let Kind::External { command, args } = &c[1].kind else {
            panic!()
        };
        assert_eq!(command, "/usr/local/bin/check-smtp");
        assert_eq!(args, &["192.0.2.10", "25", "198.51.100.1", "25"]);
    }
}
