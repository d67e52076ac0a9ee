//! `tandem status`: what this node knows, as text for people and JSON for
//! programs (the same words: node, link, group, generation), and
//! cl_status-style one-word answers for Heartbeat users' scripts.

use crate::config::hacf::StopFailure;
use crate::config::Config;
use crate::core::{Engine, GroupState, Liveness};
use crate::time::Instant;
use crate::wire::frame::Drop;
use serde_json::{json, Value};
use std::fmt::Write;

fn age_ms(now: Instant, then: Instant) -> u64 {
    now.since(then).as_micros() / 1000
}

fn state_name(core: &Engine) -> &'static str {
    match core.state() {
        crate::wire::frame::NodeState::Joining => "joining",
        crate::wire::frame::NodeState::Active => "active",
        crate::wire::frame::NodeState::Leaving => "leaving",
    }
}

/// The status as JSON.
pub fn json(core: &Engine, config: &Config, now: Instant) -> String {
    let p = core.params();
    let nodes: Vec<Value> = (0..p.nodes.len())
        .map(|n| {
            let id = n as u8;
            let local = id == p.local;
            let links: Vec<Value> = p
                .links
                .iter()
                .enumerate()
                .filter(|(_, l)| l.reaches.contains(&id) && !local)
                .map(|(i, l)| {
                    let (heard, up) = core.link_state(id, i).unwrap_or((Instant::ZERO, false));
                    json!({
                        "link": l.name,
                        "up": up,
                        "last_heard_ms_ago": if up || heard > Instant::ZERO { Some(age_ms(now, heard)) } else { None },
                    })
                })
                .collect();
            let liveness = if local { "up" } else { core.liveness(id).name() };
            json!({
                "node": p.nodes[n],
                "local": local,
                "liveness": liveness,
                "last_heard_ms_ago": if local { None } else { core.last_heard(id).map(|t| age_ms(now, t)) },
                // Frames naming it have failed authentication since its
                // last authentic one, for this long.
                "unauthenticated_since_ms_ago": if local { None } else { core.unauthentic_since(id).map(|t| age_ms(now, t)) },
                "links": links,
            })
        })
        .collect();
    let groups: Vec<Value> = p
        .groups
        .iter()
        .enumerate()
        .map(|(g, gp)| {
            json!({
                "group": gp.key,
                "preferred": p.name(gp.preferred),
                "state": core.group(g).name(),
                "holder": core.holder(g).map(|n| p.name(n).to_string()),
                "standby": core.declines(g) && !core.failed(g),
                "failed": core.failed(g),
                // This node's failures of the group, and in how long they
                // expire (failure_timeout).
                "failures": core.failures(g).0,
                "failures_expire_in_ms": core.failures(g).1.map(|t| t.since(now).as_micros() / 1000),
                "blocked": core.group(g) == GroupState::StopFailed,
            })
        })
        .collect();
    let c = core.counters();
    let dropped: serde_json::Map<String, Value> = Drop::ALL
        .iter()
        .map(|&d| (d.name().to_string(), json!(c.dropped(d))))
        .collect();
    let v = json!({
        "node": config.local_node,
        "state": state_name(core),
        "generation": core.generation(),
        "keepalive_ms": p.keepalive.as_micros() / 1000,
        "deadtime_ms": p.deadtime.as_micros() / 1000,
        "nodes": nodes,
        "groups": groups,
        "frames": { "sent": c.sent, "received": c.received, "dropped": dropped },
    });
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}

/// The status as text.
pub fn text(core: &Engine, config: &Config, now: Instant) -> String {
    let p = core.params();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "node {} ({}), generation {}, keepalive {}, deadtime {}",
        config.local_node,
        state_name(core),
        core.generation(),
        p.keepalive,
        p.deadtime
    );
    let crc = config.authkeys.signing().method == crate::wire::auth::AuthMethod::Crc;
    let udp = config.hacf.links.iter().any(|l| {
        !matches!(
            l.value,
            crate::config::hacf::Medium::Serial { .. } | crate::config::hacf::Medium::Ppp { .. }
        )
    });
    if crc && udp {
        let _ = writeln!(
            out,
            "warning: authkeys signs with crc, which authenticates nothing, and UDP links carry keepalives: anyone on the network can forge them"
        );
    }
    let _ = writeln!(out, "\nNodes");
    for n in 0..p.nodes.len() {
        let id = n as u8;
        if id == p.local {
            let _ = writeln!(out, "  {:<16} up (this node)", p.nodes[n]);
            continue;
        }
        let heard = core
            .last_heard(id)
            .map(|t| format!(", heard {} ms ago", age_ms(now, t)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {:<16} {}{heard}",
            p.nodes[n],
            core.liveness(id).name()
        );
        if let Some(t) = core.unauthentic_since(id) {
            let _ = writeln!(
                out,
                "    heard but not authenticated since {} ms ago (check authkeys on both nodes; `tandem status --json` counts the drops)",
                age_ms(now, t)
            );
        }
        for (i, l) in p.links.iter().enumerate() {
            if !l.reaches.contains(&id) {
                continue;
            }
            let (t, up) = core.link_state(id, i).unwrap_or((Instant::ZERO, false));
            let age = if up {
                format!(" ({} ms ago)", age_ms(now, t))
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "    link {:<28} {}{age}",
                l.name,
                if up { "up" } else { "down" }
            );
        }
    }
    let _ = writeln!(out, "\nResource groups");
    for (g, gp) in p.groups.iter().enumerate() {
        let holder = core
            .holder(g)
            .map(|n| p.name(n).to_string())
            .unwrap_or_else(|| "nobody".to_string());
        let mut notes = String::new();
        if core.failed(g) {
            notes.push_str(", failed here");
        } else if core.declines(g) {
            notes.push_str(", standby here");
        }
        let _ = writeln!(
            out,
            "  {:<28} here: {:<10} held by {holder} (preferred {}{notes})",
            gp.key,
            core.group(g).name(),
            p.name(gp.preferred)
        );
        if core.group(g) == GroupState::StopFailed {
            let why = match p.on_stop_failure {
                StopFailure::Reboot => "this node is to reboot (on_stop_failure reboot)",
                StopFailure::Fence => {
                    "this node went silent for the other to fence it (on_stop_failure fence)"
                }
                StopFailure::Block => "blocked (on_stop_failure block)",
            };
            let _ = writeln!(
                out,
                "    its stop failed and its status says it still runs: no node will start it; {why}. Stop it by hand, then run `tandem cleanup {}`",
                gp.key
            );
        }
        let (failures, expires) = core.failures(g);
        if failures > 0 {
            let when = expires.map_or_else(
                || "they do not expire (failure_timeout 0)".to_string(),
                |t| {
                    format!(
                        "they expire in {}s",
                        t.since(now).as_micros().div_ceil(1_000_000)
                    )
                },
            );
            let _ = writeln!(
                out,
                "    failed here {failures} time{} (migration_threshold {}); {when}; `tandem cleanup {}` forgets them",
                if failures == 1 { "" } else { "s" },
                p.migration_threshold,
                gp.key
            );
        }
    }
    let c = core.counters();
    let drops: Vec<String> = Drop::ALL
        .iter()
        .filter(|&&d| c.dropped(d) > 0)
        .map(|&d| format!("{} {}", d.name(), c.dropped(d)))
        .collect();
    let _ = writeln!(
        out,
        "\nFrames: sent {}, received {}, dropped {}",
        c.sent,
        c.received,
        if drops.is_empty() {
            "none".to_string()
        } else {
            drops.join(", ")
        }
    );
    out
}

/// cl_status's answers (the subset a script checks most).
pub fn cl_status(core: &Engine, words: &[&str], now: Instant) -> Result<String, String> {
    let p = core.params();
    let node = |name: &str| -> Result<u8, String> {
        p.nodes
            .iter()
            .position(|n| n == name)
            .map(|i| i as u8)
            .ok_or_else(|| format!("unknown node `{name}`"))
    };
    match words {
        ["hbstatus"] => Ok("Heartbeat is running on this machine.".to_string()),
        ["listnodes"] => Ok(p.nodes.join("\n")),
        ["nodestatus", name] => {
            let id = node(name)?;
            Ok(if id == p.local {
                "active".to_string()
            } else {
                match core.liveness(id) {
                    Liveness::Up => "active",
                    Liveness::Dead => "dead",
                    Liveness::Unknown => "init",
                }
                .to_string()
            })
        }
        ["listhblinks", name] => {
            let id = node(name)?;
            Ok(p.links
                .iter()
                .filter(|l| l.reaches.contains(&id))
                .map(|l| l.name.clone())
                .collect::<Vec<_>>()
                .join("\n"))
        }
        ["hblinkstatus", name, link] => {
            let id = node(name)?;
            let i = p
                .links
                .iter()
                .position(|l| l.name == *link || l.name.split_whitespace().nth(1) == Some(link))
                .ok_or_else(|| format!("unknown link `{link}`"))?;
            let (_, up) = core.link_state(id, i).unwrap_or((now, false));
            Ok(if up { "up" } else { "dead" }.to_string())
        }
        ["rscstatus"] => {
            let mut local = false;
            let mut foreign = false;
            let mut transition = false;
            for (g, gp) in p.groups.iter().enumerate() {
                match core.group(g) {
                    GroupState::Running if gp.preferred == p.local => local = true,
                    GroupState::Running => foreign = true,
                    GroupState::Stopped => {}
                    _ => transition = true,
                }
            }
            Ok(match (transition, local, foreign) {
                (true, _, _) => "transition",
                (false, true, true) => "all",
                (false, true, false) => "local",
                (false, false, true) => "foreign",
                (false, false, false) => "none",
            }
            .to_string())
        }
        _ => Err("unknown cl_status request".to_string()),
    }
}
