//! report.txt: every line of ha.cf and haresources, by file:line, with
//! what it became in Corosync's or Pacemaker's configuration, or why it
//! has no counterpart and what to do instead.

use super::plan::{duration, Inputs, Plan, Row};
use crate::config::hacf::{Handling, DIRECTIVES};
use crate::config::lines;
use std::fmt::Write;

/// What one ha.cf directive became.
fn hacf_row(directive: &str, plan: &Plan, inputs: &Inputs<'_>) -> String {
    let h = &inputs.config.hacf;
    let knet = |device: Option<&str>| {
        let n = device
            .and_then(|d| plan.links.iter().position(|l| l.device == d))
            .map(|i| format!("knet link {i}"))
            .unwrap_or_else(|| "a knet link".into());
        format!("corosync.conf: {n} (totem interface linknumber; ring addresses in the nodelist)")
    };
    match directive {
        "node" => "corosync.conf nodelist (name, nodeid, one ring address per link) and cib.xml <nodes>".into(),
        "cluster" => format!("corosync.conf totem cluster_name and the cluster-name property: {}", plan.cluster),
        "keepalive" => "no counterpart: Corosync's token circulates instead of keepalives (token retransmits at about token/4)".into(),
        "deadtime" => format!("corosync.conf totem token: {} ms (a node is lost after token, then consensus = 1.2 × token)", plan.token_ms),
        "warntime" => "no counterpart: Corosync logs token retransmits and lost tokens".into(),
        "initdead" => "no counterpart: with two nodes, votequorum's wait_for_all (two_node) waits for both at the first start; Pacemaker's dc-deadtime (20 s) bounds the election".into(),
        "deadping" => format!("the ping resources' dampen: {}", duration(h.deadping.value)),
        "udpport" => "no counterpart: knet uses UDP port 5405 (totem interface knet_port to change it)".into(),
        "bcast" | "udp" | "mcast" | "mcast6" | "ucast" | "ucast6" => knet(None),
        "serial" | "ppp" | "baud" => "no counterpart: Corosync runs on IP networks only; keep a second IP network as a second knet link instead".into(),
        "ping" | "ping6" | "ping_group" => "an ocf:pacemaker:ping clone (ping_N-clone, attribute ping_N) and, for each group, a location rule adding 1000 to a node that reaches one of its addresses (more than the preference: connectivity decides first)".into(),
        "auto_failback" | "nice_failback" => {
            let v = plan
                .rsc_defaults
                .iter()
                .find(|(k, _)| k == "resource-stickiness")
                .map(|(_, v)| v.as_str())
                .unwrap_or("0");
            format!("rsc_defaults resource-stickiness={v} (each group prefers its haresources node with score 100: below it the group moves back, above it the group stays)")
        }
        "stonith" | "stonith_host" => "not translated: Heartbeat's STONITH plugins take positional parameters that no fence agent's named ones follow from; stonith-enabled=false until a fence device is configured (see the warning above)".into(),
        "watchdog" => "no counterpart in cib.xml: Pacemaker's watchdog is sbd (install sbd, set SBD_WATCHDOG_DEV, and stonith-watchdog-timeout)".into(),
        "respawn" | "failfast" => "not exported (a tandem client): run the program as a systemd service, or as an ocf:heartbeat:anything resource in a group".into(),
        "env" => "not exported: set what the agents need as their parameters".into(),
        "resource_timeout" => format!("op_defaults timeout={} and each operation's timeout", duration(h.resource_timeout.value)),
        "monitor_interval" => "op monitor on every primitive".into(),
        "migration_threshold" => format!("rsc_defaults migration-threshold={}", h.migration_threshold.value),
        "failure_timeout" => {
            if h.failure_timeout.value.is_zero() {
                "no failure-timeout: failures never expire (Pacemaker's default)".into()
            } else {
                format!("rsc_defaults failure-timeout={}", duration(h.failure_timeout.value))
            }
        }
        "on_stop_failure" => "op stop on-fail on every primitive (reboot and fence: fence; block: block)".into(),
        "notify" | "notify_fifo" => "no counterpart in cib.xml: Pacemaker's alerts run a program on each event (pcs alert create path=PROGRAM)".into(),
        "arp_count" | "arp_interval" => "IPaddr2's parameter of the same name on every IPv4 address".into(),
        "arp_form" => "no counterpart: IPaddr2 sends requests (send_arp) or replies (arp_sender=ipoibarping); not chosen per cluster".into(),
        "logfacility" | "logfile" | "debugfile" | "debug" | "use_logd" => "corosync.conf logging { } and PCMK_logfile / PCMK_logfacility in /etc/default/pacemaker".into(),
        "wire" | "realtime" | "rtprio" | "hbgenmethod" | "max_rexmit_delay" | "log_badpack" | "crm" | "pacemaker" | "autojoin" => "tandem's (or Heartbeat's) own: no counterpart; Corosync and Pacemaker decide this themselves".into(),
        other => match DIRECTIVES.iter().find(|d| d.name == other).map(|d| &d.handling) {
            Some(Handling::Ignored(why)) => format!("no counterpart (tandem ignores it too: {why})"),
            Some(Handling::Rejected(why)) => format!("no counterpart ({why})"),
            _ => "no counterpart".into(),
        },
    }
}

/// The rows of the report, in file order.
pub fn rows(plan: &Plan, inputs: &Inputs<'_>) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut ignore = crate::config::diag::Diagnostics::new();
    let (name, text) = &inputs.hacf;
    for l in lines::split(name, text.as_bytes(), &mut ignore) {
        let t = lines::strip_comment(l.text).trim();
        let Some(directive) = t.split_whitespace().next() else {
            continue;
        };
        let mut became = hacf_row(directive, plan, inputs);
        if directive == "respawn"
            && t.split_whitespace()
                .nth(2)
                .is_some_and(|p| p.ends_with("/ipfail") || p == "ipfail")
        {
            became = "not exported: ipfail's job (moving groups to the node that reaches more ping nodes) is done by the ping clones and their location rules".into();
        }
        if matches!(
            directive,
            "bcast" | "udp" | "mcast" | "mcast6" | "ucast" | "ucast6"
        ) {
            let at = format!("{name}:{}", l.number);
            if let Some(i) = plan.links.iter().position(|k| k.sources.contains(&at)) {
                became = format!(
                    "corosync.conf: knet link {i} on {} (totem interface linknumber {i}; ring{i}_addr of each node in the nodelist)",
                    plan.links[i].device
                );
            }
        }
        rows.push(Row {
            at: format!("{name}:{}", l.number),
            text: t.to_string(),
            became,
        });
    }
    let (name, text) = &inputs.haresources;
    for l in lines::split(name, text.as_bytes(), &mut ignore) {
        let t = lines::strip_comment(l.text).trim();
        if t.is_empty() {
            continue;
        }
        let at = format!("{name}:{}", l.number);
        let became = match plan.groups.iter().find(|g| g.source == at) {
            Some(g) => {
                let prims: Vec<String> = g
                    .primitives
                    .iter()
                    .map(|p| format!("{} ({})", p.id, p.agent_spec()))
                    .collect();
                format!(
                    "group {} of {}, in this order; location: prefers {} (score 100)",
                    g.id,
                    prims.join(", "),
                    g.node
                )
            }
            None => "continues the line above".into(),
        };
        rows.push(Row {
            at,
            text: t.to_string(),
            became,
        });
    }
    rows
}

pub fn render(plan: &Plan) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "tandem export-pacemaker: what each line became\n");
    if !plan.warnings.is_empty() {
        let _ = writeln!(s, "Warnings:");
        for w in &plan.warnings {
            let _ = writeln!(s, "  {w}");
        }
        s.push('\n');
    }
    if !plan.notes.is_empty() {
        let _ = writeln!(s, "Notes:");
        for n in &plan.notes {
            let _ = writeln!(s, "  {n}");
        }
        s.push('\n');
    }
    let _ = writeln!(
        s,
        "Corosync: {} node(s), {} knet link(s), token {} ms. Corosync 3's defaults, kept: consensus 1.2 × token, join 50 ms, token_retransmits_before_loss_const 4, and token_coefficient 650 ms per node beyond two (with three nodes the token is {} ms).\n",
        plan.nodes.len(),
        plan.links.len(),
        plan.token_ms,
        plan.token_ms + 650
    );
    for r in &plan.rows {
        let _ = writeln!(s, "{}: {}\n    -> {}", r.at, r.text, r.became);
    }
    s
}
