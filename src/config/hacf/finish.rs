//! The end of reading ha.cf: Heartbeat's defaults for what the file left
//! out, and the rules that join directives (a link and a node at least,
//! deadtime against keepalive, ping nodes with a ping directive …).

use super::*;

impl Builder {
    /// Applies defaults and Heartbeat's cross-directive rules.
    pub(super) fn finish(mut self, file: &str) -> (Option<HaCf>, Diagnostics) {
        let whole = At::file(file);
        if !self.media_seen {
            self.diags.error(
                &whole,
                "no links: add at least one `bcast`, `mcast`, `mcast6`, `ucast`, `ucast6`, `serial` or `ppp` line",
            );
        }
        if self.nodes.is_empty() {
            self.diags.error(
                &whole,
                "no nodes: list every node with `node NAME` (its `uname -n`)",
            );
        }
        for (line, ends) in std::mem::take(&mut self.ppp_lines) {
            for end in ends {
                if !self.nodes.iter().any(|n| n.value == end) {
                    let msg = format!("`{end}` is not a node listed with `node`");
                    self.diags.error(&At::line(file, line, "ppp"), msg);
                }
            }
        }
        if let Some(Setting {
            value: StopFailure::Fence,
            source: Source::File { file, line },
        }) = &self.on_stop_failure
        {
            if self.stonith.is_empty() {
                let msg = "`fence` needs a STONITH device (`stonith` or `stonith_host`) that the other node can reset this one with; use `reboot` or `block`";
                self.diags
                    .error(&At::line(file, *line, "on_stop_failure"), msg);
            }
        }
        for (line, host) in std::mem::take(&mut self.stonith_host_lines) {
            if !self.nodes.iter().any(|n| n.value == host) {
                let msg = format!("`{host}` is not a node listed with `node`, nor `*`");
                self.diags.error(&At::line(file, line, "stonith_host"), msg);
            }
        }

        let keepalive = self
            .keepalive
            .take()
            .unwrap_or_else(|| Setting::default(Time::from_secs(1), ""));
        let deadtime = self
            .deadtime
            .take()
            .unwrap_or_else(|| Setting::default(Time::from_secs(30), ""));
        let warntime = self
            .warntime
            .take()
            .unwrap_or_else(|| Setting::default(deadtime.value.div(2), "deadtime / 2"));
        let initdead = self.initdead.take().unwrap_or_else(|| {
            // Heartbeat's rule (config.c): deadtime above 10 s is enough
            // start-up time; below 6 s use 12 s; else twice deadtime.
            if deadtime.value > Time::from_secs(10) {
                Setting::default(deadtime.value, "= deadtime")
            } else if deadtime.value < Time::from_secs(6) {
                Setting::default(Time::from_secs(12), "deadtime < 6s")
            } else {
                Setting::default(deadtime.value.saturating_mul(2), "2 × deadtime")
            }
        });
        let deadping = self
            .deadping
            .take()
            .unwrap_or_else(|| Setting::default(deadtime.value, "= deadtime"));

        let at_of = |s: &Source, directive: &'static str| -> (Option<usize>, &'static str) {
            match s {
                Source::File { line, .. } => (Some(*line), directive),
                Source::Default(_) => (None, directive),
            }
        };
        let report = |diags: &mut Diagnostics,
                      (line, d): (Option<usize>, &str),
                      error: bool,
                      msg: String| {
            let at = At {
                file,
                line,
                directive: Some(d),
            };
            if error {
                diags.error(&at, msg)
            } else {
                diags.warning(&at, msg)
            }
        };
        let deadtime_ok = deadtime.value > keepalive.value.saturating_mul(2);
        if !deadtime_ok {
            let msg = format!(
                "{} must be more than 2 × keepalive ({}), or one lost keepalive declares a node dead",
                deadtime.value, keepalive.value
            );
            report(
                &mut self.diags,
                at_of(&deadtime.source, "deadtime"),
                true,
                msg,
            );
        }
        if initdead.value < deadtime.value {
            let msg = format!(
                "{} is less than deadtime ({}); initdead must be at least deadtime",
                initdead.value, deadtime.value
            );
            report(
                &mut self.diags,
                at_of(&initdead.source, "initdead"),
                true,
                msg,
            );
        } else if initdead.value < Time::from_secs(10) {
            let msg = format!(
                "{} may be too short for a network to come up at boot; 10s or more is recommended",
                initdead.value
            );
            report(
                &mut self.diags,
                at_of(&initdead.source, "initdead"),
                false,
                msg,
            );
        }
        // Values derived from a deadtime already refused add nothing.
        let derived_from_bad = |s: &Source| !deadtime_ok && matches!(s, Source::Default(_));
        if deadping.value <= keepalive.value.saturating_mul(2)
            && !derived_from_bad(&deadping.source)
        {
            let msg = format!(
                "{} must be more than 2 × keepalive ({})",
                deadping.value, keepalive.value
            );
            report(
                &mut self.diags,
                at_of(&deadping.source, "deadping"),
                true,
                msg,
            );
        }
        if derived_from_bad(&warntime.source) {
            // Reported through deadtime.
        } else if warntime.value >= deadtime.value {
            let msg = format!(
                "{} is not less than deadtime ({}); no late-keepalive warning can come before a node is declared dead",
                warntime.value, deadtime.value
            );
            report(
                &mut self.diags,
                at_of(&warntime.source, "warntime"),
                false,
                msg,
            );
        } else if warntime.value <= keepalive.value {
            let msg = format!(
                "{} is not more than keepalive ({}); every keepalive would be reported late",
                warntime.value, keepalive.value
            );
            report(
                &mut self.diags,
                at_of(&warntime.source, "warntime"),
                false,
                msg,
            );
        }

        if self.diags.has_errors() {
            return (None, self.diags);
        }
        let hacf = HaCf {
            cluster: self
                .cluster
                .unwrap_or_else(|| Setting::default("linux-ha".to_string(), "")),
            nodes: self.nodes,
            keepalive,
            deadtime,
            warntime,
            initdead,
            deadping,
            udpport: self
                .udpport
                .unwrap_or_else(|| Setting::default(UDPPORT_DEFAULT, "")),
            baud: self
                .baud
                .unwrap_or_else(|| Setting::default(BAUD_DEFAULT, "")),
            links: self.links,
            ping_nodes: self.ping_nodes,
            wire: self
                .wire
                .unwrap_or_else(|| Setting::default(WireMode::Auto, "")),
            auto_failback: self
                .auto_failback
                .unwrap_or_else(|| Setting::default(AutoFailback::Legacy, "as Heartbeat")),
            stonith: self.stonith,
            watchdog: self.watchdog,
            respawn: self.respawn,
            env: self.env,
            logging: Logging {
                facility: self.facility.unwrap_or_else(|| Setting::default(None, "")),
                logfile: self.logfile,
                debugfile: self.debugfile,
                debug: self.debug.unwrap_or_else(|| Setting::default(0, "")),
                log_badpack: self
                    .log_badpack
                    .unwrap_or_else(|| Setting::default(true, "")),
            },
            realtime: self.realtime.unwrap_or_else(|| Setting::default(true, "")),
            rtprio: self.rtprio,
            generation_method: self
                .generation_method
                .unwrap_or_else(|| Setting::default(GenerationMethod::File, "")),
            max_rexmit_delay: self
                .max_rexmit_delay
                .unwrap_or_else(|| Setting::default(Time::from_millis(250), "")),
            resource_timeout: self
                .resource_timeout
                .unwrap_or_else(|| Setting::default(Time::from_secs(120), "")),
            monitor_interval: self.monitor_interval,
            migration_threshold: self
                .migration_threshold
                .unwrap_or_else(|| Setting::default(2, "")),
            failure_timeout: self
                .failure_timeout
                .unwrap_or_else(|| Setting::default(Time::from_secs(600), "")),
            on_stop_failure: self
                .on_stop_failure
                .unwrap_or_else(|| Setting::default(StopFailure::Reboot, "as Heartbeat")),
            notify: self.notify,
            notify_fifo: self.notify_fifo,
            arp_count: self.arp_count.unwrap_or_else(|| Setting::default(5, "")),
            arp_interval: self
                .arp_interval
                .unwrap_or_else(|| Setting::default(Time::from_millis(200), "")),
            arp_form: self
                .arp_form
                .unwrap_or_else(|| Setting::default(ArpForm::Request, "")),
        };
        (Some(hacf), self.diags)
    }
}
