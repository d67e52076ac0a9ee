//! corosync.conf for Corosync 3: knet, one link per UDP device of ha.cf,
//! the nodelist, votequorum, and encryption with the `authkey` written
//! beside it.

use super::Plan;
use std::fmt::Write;

pub fn render(plan: &Plan) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Written by tandem export-pacemaker; see report.txt.");
    let _ = writeln!(s, "totem {{");
    let _ = writeln!(s, "    version: 2");
    let _ = writeln!(s, "    cluster_name: {}", plan.cluster);
    let _ = writeln!(s, "    transport: knet");
    let _ = writeln!(s, "    # ha.cf's deadtime (Corosync 3's default: 3000 ms)");
    let _ = writeln!(s, "    token: {}", plan.token_ms);
    let _ = writeln!(s, "    crypto_cipher: aes256");
    let _ = writeln!(s, "    crypto_hash: sha256");
    let _ = writeln!(s, "    keyfile: /etc/corosync/authkey");
    for (i, l) in plan.links.iter().enumerate() {
        let _ = writeln!(s, "    interface {{");
        let _ = writeln!(s, "        # {} ({})", l.device, l.sources.join(", "));
        let _ = writeln!(s, "        linknumber: {i}");
        let _ = writeln!(s, "    }}");
    }
    let _ = writeln!(s, "}}\n");
    let _ = writeln!(s, "nodelist {{");
    for n in &plan.nodes {
        let _ = writeln!(s, "    node {{");
        let _ = writeln!(s, "        name: {}", n.name);
        let _ = writeln!(s, "        nodeid: {}", n.id);
        for (i, a) in n.addresses.iter().enumerate() {
            let _ = writeln!(s, "        ring{i}_addr: {a}");
        }
        let _ = writeln!(s, "    }}");
    }
    let _ = writeln!(s, "}}\n");
    let _ = writeln!(s, "quorum {{");
    let _ = writeln!(s, "    provider: corosync_votequorum");
    if plan.nodes.len() == 2 {
        let _ = writeln!(
            s,
            "    # Two nodes: quorum with one (and wait_for_all: both at the first start)"
        );
        let _ = writeln!(s, "    two_node: 1");
    }
    let _ = writeln!(s, "}}\n");
    let _ = writeln!(s, "logging {{");
    let _ = writeln!(s, "    to_syslog: yes");
    let _ = writeln!(s, "    to_logfile: yes");
    let _ = writeln!(s, "    logfile: /var/log/corosync/corosync.log");
    let _ = writeln!(s, "    timestamp: on");
    let _ = writeln!(s, "}}");
    s
}
