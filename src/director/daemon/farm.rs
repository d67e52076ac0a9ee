//! The farm the director watches: every real server of every virtual
//! service with its check and health, built from ldirectord.cf and, on a
//! reload, carrying over what it knew of servers that stay.

use super::*;

/// One real server of one virtual service, as the director checks it.
pub(super) struct Server {
    pub(super) virtual_index: usize,
    pub(super) real_index: usize,
    pub(super) check: Check,
    pub(super) health: Health,
    pub(super) rounds: u64,
    pub(super) probe: Option<usize>,
    /// When the verdict last changed (wall clock, for status).
    pub(super) since: Option<std::time::SystemTime>,
    /// When the last mail about this server went (emailalertfreq).
    pub(super) alerted: Option<Instant>,
}

impl Server {
    /// `real server 198.51.100.1:80 of TCP 192.0.2.10:80 (negotiate http)`,
    /// for logs and mail.
    pub(super) fn describe(&self, d: &Director) -> String {
        format!(
            "real server {} of {} ({})",
            self.check.target,
            service_name(&d.virtuals[self.virtual_index]),
            self.check.describe()
        )
    }

    /// What identifies a server across a reload: its service, address,
    /// port and check.
    pub(super) fn identity(&self, d: &Director) -> String {
        let v = &d.virtuals[self.virtual_index];
        format!(
            "{:?} {} {}",
            table::service_key(v),
            self.check.target,
            self.check.describe()
        )
    }
}

pub(super) struct Farm {
    pub(super) config: Director,
    pub(super) servers: Vec<Server>,
}

/// The servers of `config`; those of `old` that are the same server with
/// the same check keep their verdicts.
pub(super) fn build(config: Director, now: Instant, old: Option<(&Director, Vec<Server>)>) -> Farm {
    let mut kept: HashMap<String, Server> = HashMap::new();
    if let Some((old_config, servers)) = old {
        for s in servers {
            kept.insert(s.identity(old_config), s);
        }
    }
    let mut servers = Vec::new();
    for (vi, v) in config.virtuals.iter().enumerate() {
        for (ri, r) in v.reals.iter().enumerate() {
            let check = Check::of(v, r);
            let timeout = v
                .settings
                .checktimeout
                .unwrap_or(v.settings.negotiatetimeout);
            let mut s = Server {
                virtual_index: vi,
                real_index: ri,
                check,
                health: Health::new(
                    v.settings.checkinterval,
                    timeout,
                    v.settings.failurecount,
                    1,
                    now,
                ),
                rounds: 0,
                probe: None,
                since: None,
                alerted: None,
            };
            if let Some(old) = kept.remove(&s.identity(&config)) {
                // Same server, same check: keep its verdict and its round.
                s.health.adopt(&old.health);
                s.rounds = old.rounds;
                s.since = old.since;
                s.alerted = old.alerted;
            }
            servers.push(s);
        }
    }
    Farm { config, servers }
}
