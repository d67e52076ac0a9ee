//! What the director says about itself on its control socket: `status`
//! for people, `status-json` for tools, and the other requests.

use super::*;

impl Daemon {
    pub(super) fn answer(&mut self, line: &str) -> Result<String, String> {
        match line {
            "ping" => Ok("pong\n".into()),
            "status" => Ok(self.status_text()),
            "status-json" => Ok(self.status_json().to_string() + "\n"),
            "reload" => self.reload().map(|m| m + "\n"),
            "stop" => {
                self.stop = true;
                Ok("stopping\n".into())
            }
            other => Err(format!(
                "`{other}`: expected status, status-json, reload or stop"
            )),
        }
    }

    pub(super) fn status_json(&self) -> serde_json::Value {
        let now = self.now();
        let wanted = self.desired();
        let d = &self.farm.config;
        let virtuals: Vec<_> = d
            .virtuals
            .iter()
            .enumerate()
            .map(|(vi, v)| {
                let key = table::service_key(v);
                let kernel = self.kernel.services.get(&key);
                let wanted = wanted.services.get(&key);
                let reals: Vec<_> = self
                    .farm
                    .servers
                    .iter()
                    .filter(|s| s.virtual_index == vi)
                    .map(|s| {
                        let r = &v.reals[s.real_index];
                        let dest = table::dest_key(v, r);
                        let programmed = kernel.and_then(|(_, dests)| dests.get(&dest));
                        let wanted = wanted.and_then(|(_, dests)| dests.get(&dest));
                        serde_json::json!({
                            "address": r.ip,
                            "port": dest.port,
                            "forward": r.forward,
                            "weight": r.weight,
                            "programmed_weight": programmed.map(|p| p.weight),
                            "wanted_weight": wanted.map(|p| p.weight),
                            "check": s.check.describe(),
                            "check_target": s.check.target.to_string(),
                            "state": s.health.verdict,
                            "last_error": s.health.last_error,
                            "since": s.since.and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map(|d| d.as_secs()),
                            "next_check_in_ms": s.health.wake_at().0.saturating_sub(now.0) / 1000,
                            "checks": s.rounds,
                        })
                    })
                    .collect();
                let fallback = v.settings.fallback.as_ref().map(|f| {
                    // What the director wants: the kernel follows on the
                    // next reconcile (and with --checks-only, never).
                    let active = wanted
                        .is_some_and(|(_, dests)| dests.contains_key(&table::dest_key(v, f)));
                    serde_json::json!({ "address": f.ip, "port": f.port, "active": active })
                });
                serde_json::json!({
                    "service": service_name(v),
                    "scheduler": v.scheduler,
                    "persistent": v.persistent,
                    "programmed": kernel.is_some(),
                    "reals": reals,
                    "fallback": fallback,
                })
            })
            .collect();
        serde_json::json!({
            "config": self.opts.config.display().to_string(),
            "ipvs": if self.ipvs.is_some() { "programmed" } else { "checks only: nothing is programmed" },
            "ipvs_error": self.ipvs_error,
            "checks": self.farm.servers.iter().map(|s| s.rounds).sum::<u64>(),
            "virtuals": virtuals,
        })
    }

    pub(super) fn status_text(&self) -> String {
        let j = self.status_json();
        let mut out = String::new();
        if self.ipvs.is_none() {
            out.push_str("checks only: nothing is programmed\n");
        }
        if let Some(e) = &self.ipvs_error {
            out.push_str(&format!("IPVS error: {e}\n"));
        }
        let empty = Vec::new();
        for v in j["virtuals"].as_array().unwrap_or(&empty) {
            out.push_str(&format!(
                "{} {}{}{}\n",
                v["service"].as_str().unwrap_or(""),
                v["scheduler"].as_str().unwrap_or(""),
                match v["persistent"].as_u64() {
                    Some(p) => format!(" persistent {p}"),
                    None => String::new(),
                },
                if v["programmed"].as_bool() == Some(true) || self.ipvs.is_none() {
                    ""
                } else {
                    " (not in the kernel)"
                }
            ));
            for r in v["reals"].as_array().unwrap_or(&empty) {
                let ip = r["address"].as_str().unwrap_or("");
                let addr = if ip.contains(':') {
                    format!("[{ip}]:{}", r["port"])
                } else {
                    format!("{ip}:{}", r["port"])
                };
                out.push_str(&format!(
                    "  -> {addr} {} weight {} ({}) {} {}{}\n",
                    r["forward"].as_str().unwrap_or(""),
                    r["weight"],
                    match (r["programmed_weight"].as_u64(), r["wanted_weight"].as_u64()) {
                        (_, w) if self.ipvs.is_none() => match w {
                            Some(w) => format!("would be {w}"),
                            None => "would be absent".into(),
                        },
                        (Some(k), Some(w)) if k == w => format!("in the kernel {k}"),
                        (Some(k), _) => format!("in the kernel {k}, not yet reconciled"),
                        (None, _) => "not in the kernel".into(),
                    },
                    r["state"].as_str().unwrap_or(""),
                    r["check"].as_str().unwrap_or(""),
                    match r["last_error"].as_str() {
                        Some(e) if r["state"] == "down" => format!(": {e}"),
                        _ => String::new(),
                    }
                ));
            }
            if let Some(f) = v["fallback"].as_object() {
                out.push_str(&format!(
                    "  fallback {}{}\n",
                    f["address"].as_str().unwrap_or(""),
                    if f["active"].as_bool() == Some(true) {
                        " (in use)"
                    } else {
                        ""
                    }
                ));
            }
        }
        out
    }
}

/// `TCP 192.0.2.10:80`, `UDP [2001:db8::1]:53`, `FWM 1`.
pub(super) fn service_name(v: &Virtual) -> String {
    let proto = match v.protocol {
        ldirectord::Protocol::Tcp => "TCP",
        ldirectord::Protocol::Udp => "UDP",
        ldirectord::Protocol::Sctp => "SCTP",
        ldirectord::Protocol::Fwm => "FWM",
    };
    match v.address {
        Address::Socket { ip, port } if ip.is_ipv6() => format!("{proto} [{ip}]:{port}"),
        Address::Socket { ip, port } => format!("{proto} {ip}:{port}"),
        Address::Fwmark { mark, ipv6 } => {
            format!("FWM {mark}{}", if ipv6 { " IPv6" } else { "" })
        }
    }
}
