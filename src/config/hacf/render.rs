//! ha.cf written back from typed settings: the normal form `check-config`
//! prints and the property tests read again.

use super::*;

impl HaCf {
    /// Writes this configuration back as ha.cf text that parses to the same
    /// values: the normal form used by `check-config` and the tests.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let mut line = |s: String| {
            out.push_str(&s);
            out.push('\n');
        };
        line(format!("cluster {}", self.cluster.value));
        for n in &self.nodes {
            line(format!("node {}", n.value));
        }
        line(format!("keepalive {}", self.keepalive.value.to_hacf()));
        line(format!("deadtime {}", self.deadtime.value.to_hacf()));
        line(format!("warntime {}", self.warntime.value.to_hacf()));
        line(format!("initdead {}", self.initdead.value.to_hacf()));
        line(format!("deadping {}", self.deadping.value.to_hacf()));
        line(format!(
            "hbgenmethod {}",
            match self.generation_method.value {
                GenerationMethod::File => "file",
                GenerationMethod::Time => "time",
            }
        ));
        line(format!("wire {}", self.wire.value.as_str()));
        line(format!(
            "auto_failback {}",
            self.auto_failback.value.as_str()
        ));
        line(format!("udpport {}", self.udpport.value));
        line(format!("baud {}", self.baud.value));
        for l in &self.links {
            line(l.value.to_string());
        }
        for p in &self.ping_nodes {
            let addrs: Vec<String> = p.value.addresses.iter().map(|a| a.to_string()).collect();
            if p.value.group {
                line(format!("ping_group {} {}", p.value.name, addrs.join(" ")));
            } else if p.value.addresses.first().is_some_and(IpAddr::is_ipv6) {
                line(format!("ping6 {}", addrs.join(" ")));
            } else {
                line(format!("ping {}", addrs.join(" ")));
            }
        }
        for s in &self.stonith {
            match &s.value {
                Stonith::Device { kind, config_file } => {
                    line(format!("stonith {kind} {config_file}"))
                }
                Stonith::Host { host, kind, params } if params.is_empty() => {
                    line(format!("stonith_host {host} {kind}"))
                }
                Stonith::Host { host, kind, params } => {
                    line(format!("stonith_host {host} {kind} {params}"))
                }
            }
        }
        if let Some(w) = &self.watchdog {
            line(format!("watchdog {}", w.value));
        }
        for r in &self.respawn {
            let d = if r.value.failfast {
                "failfast"
            } else {
                "respawn"
            };
            line(format!("{d} {} {}", r.value.user, r.value.command));
        }
        for e in &self.env {
            line(format!("env {}={}", e.value.0, e.value.1));
        }
        line(format!(
            "max_rexmit_delay {}",
            self.max_rexmit_delay.value.to_hacf()
        ));
        line(format!(
            "resource_timeout {}",
            self.resource_timeout.value.to_hacf()
        ));
        line(format!(
            "migration_threshold {}",
            self.migration_threshold.value
        ));
        line(format!(
            "failure_timeout {}",
            self.failure_timeout.value.to_hacf()
        ));
        line(format!(
            "on_stop_failure {}",
            self.on_stop_failure.value.as_str()
        ));
        if let Some(m) = &self.monitor_interval {
            line(format!("monitor_interval {}", m.value.to_hacf()));
        }
        if let Some(n) = &self.notify {
            line(format!("notify {}", n.value));
        }
        if let Some(n) = &self.notify_fifo {
            line(format!("notify_fifo {}", n.value));
        }
        line(format!("arp_count {}", self.arp_count.value));
        line(format!(
            "arp_interval {}",
            self.arp_interval.value.to_hacf()
        ));
        line(format!("arp_form {}", self.arp_form.value.as_str()));
        line(format!(
            "logfacility {}",
            self.logging.facility.value.as_deref().unwrap_or("none")
        ));
        if let Some(f) = &self.logging.logfile {
            line(format!("logfile {}", f.value));
        }
        if let Some(f) = &self.logging.debugfile {
            line(format!("debugfile {}", f.value));
        }
        line(format!("debug {}", self.logging.debug.value));
        line(format!(
            "log_badpack {}",
            on_off(self.logging.log_badpack.value)
        ));
        line(format!("realtime {}", on_off(self.realtime.value)));
        if let Some(p) = &self.rtprio {
            line(format!("rtprio {}", p.value));
        }
        out
    }
}

fn on_off(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}
