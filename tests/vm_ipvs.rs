//! The director on a kernel with IPVS (Debian's, in a QEMU guest through
//! tests/vm/rig.sh; this host's kernel has none): tandem programs the
//! table over generic netlink, and real HTTP traffic from a client
//! namespace through the VIP proves it: round robin, weighted round
//! robin, weighted least connections, source hashing and persistence over
//! NAT, direct routing and tunnelling; a failed real server goes to
//! weight 0 and comes back; a restart keeps the table; cleanstop removes
//! only the director's service. After every phase, `ipvsadm -Ln` (the
//! independent oracle) must agree with `tandem director status --json`.
//! Needs root (tests/setup installs the rig); about two minutes.

mod common;

use std::collections::BTreeMap;

/// `HITS phase n1=10 n2=10 …` lines: who answered, per phase.
fn hits(console: &str) -> BTreeMap<String, BTreeMap<String, u32>> {
    console
        .lines()
        .filter_map(|l| l.split_once("HITS ").map(|(_, rest)| rest))
        .map(|rest| {
            let mut words = rest.split_whitespace();
            let phase = words.next().unwrap_or("").to_string();
            let counts = words
                .filter_map(|w| w.split_once('='))
                .map(|(k, v)| (k.to_string(), v.parse().unwrap_or(0)))
                .collect();
            (phase, counts)
        })
        .collect()
}

#[test]
fn ipvs_traffic_through_a_tandem_director() {
    let Some(vm) = common::vm::prepare_or_skip("ipvs_traffic_through_a_tandem_director") else {
        return;
    };
    let console = common::vm::run(&vm, &["one", "ipvs-director.sh"], "");
    assert!(console.contains("GUEST: IPVS-DONE"), "{console}");
    let h = hits(&console);
    let get = |phase: &str| -> Vec<u32> {
        let c = h
            .get(phase)
            .unwrap_or_else(|| panic!("no HITS for {phase}:\n{console}"));
        assert!(!c.contains_key("none"), "{phase}: requests failed: {c:?}");
        let prefix = if phase.starts_with("dr") || phase.starts_with("tun") {
            'd'
        } else {
            'n'
        };
        (1..=3)
            .map(|i| c.get(&format!("{prefix}{i}")).copied().unwrap_or(0))
            .collect()
    };
    // Round robin spreads exactly, over NAT, direct routing and tunnels.
    for phase in ["nat-rr", "dr-rr", "tun-rr", "health-before", "health-back"] {
        assert_eq!(get(phase), [10, 10, 10], "{phase}");
    }
    // Weighted round robin by the weights 1:2:3, exactly over a cycle.
    assert_eq!(get("nat-wrr"), [10, 20, 30]);
    // Weighted least connections: finished connections still count as
    // inactive, so the spread follows the weights, not exactly.
    let wlc = get("nat-wlc");
    assert!(
        wlc[0] > 0 && wlc[0] < wlc[1] && wlc[1] < wlc[2],
        "wlc: {wlc:?}"
    );
    // Source hashing and persistence keep the one client on one server.
    for phase in ["nat-sh", "nat-persistent"] {
        let c = get(phase);
        assert_eq!(c.iter().filter(|n| **n > 0).count(), 1, "{phase}: {c:?}");
        assert_eq!(c.iter().sum::<u32>(), 20, "{phase}");
    }
    // Every other scheduler carries traffic; so does IPv6 (weights 1:1:1).
    for sched in ["lc", "lblc", "lblcr", "dh", "sed", "nq", "fo", "ovf", "mh"] {
        let c = get(&format!("nat-{sched}"));
        assert_eq!(c.iter().sum::<u32>(), 6, "{sched}: {c:?}");
    }
    assert_eq!(get("ipv6"), [2, 2, 2], "IPv6 wrr");
    // The failed server (n2) gets nothing while down.
    assert_eq!(get("health-down"), [15, 0, 15]);
    assert!(console.contains("restart: connections"), "{console}");
    assert!(console.contains("cleanstop ok, untracked service kept"));
    assert!(
        !console.contains("restart changed the table"),
        "a restart applied changes to an unchanged table:\n{console}"
    );

    // ipvsadm agrees with tandem after every change.
    let mut compared = 0;
    for l in console.lines() {
        let Some(rest) = l.split_once("STATUS-JSON ").map(|(_, r)| r) else {
            continue;
        };
        let (phase, json) = rest.split_once(' ').unwrap();
        let json: serde_json::Value = serde_json::from_str(json)
            .unwrap_or_else(|e| panic!("{phase}: status JSON: {e}: {json}"));
        let begin = format!("IPVSADM-BEGIN {phase}");
        let end = format!("IPVSADM-END {phase}");
        let block = console
            .split_once(&begin)
            .and_then(|(_, r)| r.split_once(&end))
            .map(|(b, _)| b)
            .unwrap_or_else(|| panic!("no ipvsadm output for {phase}"));
        let mut oracle = common::vm::ipvsadm_view(block);
        // The other tool's service is not the director's.
        oracle.retain(|k, _| !k.contains("203.0.113.99"));
        assert_eq!(
            oracle,
            common::vm::tandem_view(&json),
            "{phase}: ipvsadm vs tandem"
        );
        compared += 1;
    }
    assert!(compared >= 21, "compared {compared} phases:\n{console}");
}
