//! Failover of the pair moves the director: two QEMU guests (Debian's
//! kernel, with IPVS) joined by a serial cable and an Ethernet link run
//! tandem with Ultra Monkey's haresources line, `alpha IPaddr2::VIP
//! LVSSyncDaemonSwap::master::br0::1::GROUP ldirectord::ldirectord.cf`.
//! Alpha directs a client's HTTP to two real servers (direct routing,
//! persistent) and its master sync daemon fills beta's backup; alpha then
//! crashes (tandem killed -9, link down) and beta must hold the VIP, run
//! the director with the same IPVS table (ipvsadm agreeing with its
//! status), be the sync master, and keep the client on its real server.
//! Needs root (tests/setup installs the rig); about 30 s.

mod common;

#[test]
fn failover_moves_the_director_vip_table_and_sync_role() {
    let Some(vm) =
        common::vm::prepare_or_skip("failover_moves_the_director_vip_table_and_sync_role")
    else {
        return;
    };
    let console = common::vm::run(
        &vm,
        &["pair", "director-alpha.sh", "director-beta.sh"],
        "director-common.sh:director-common.sh",
    );
    let line = |guest: &str, word: &str| -> String {
        console
            .lines()
            .find(|l| l.starts_with(guest) && l.contains(word))
            .unwrap_or_else(|| panic!("{guest} never said {word}:\n{console}"))
            .to_string()
    };
    for word in ["ALPHA-ACTIVE", "ALPHA-DEAD", "ALPHA-OK"] {
        line("[A]", word);
    }
    line("[B]", "BETA-OK");
    let served = |phase: &str| -> Vec<(String, u32)> {
        let l = line("[B]", &format!("HITS {phase} "));
        let rest = l.split_once(&format!("HITS {phase} ")).unwrap().1;
        rest.split_whitespace()
            .filter_map(|w| w.split_once('='))
            .map(|(k, v)| (k.to_string(), v.parse().unwrap()))
            .collect()
    };
    let before = served("before");
    let after = served("after");
    // Persistent: one real server, every request answered.
    assert_eq!(before.len(), 1, "before: {before:?}");
    assert_eq!(before[0].1, 20);
    assert_ne!(before[0].0, "none");
    // The persistence template came over with the sync daemon: the
    // client stays on its server after the takeover.
    assert_eq!(after, before, "after the takeover");
    let synced: u32 = line("[B]", "SYNCED ")
        .rsplit(' ')
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(synced >= 1, "no connections synced");
    let daemons = line("[B]", "DAEMONS ");
    assert!(
        daemons.contains("master sync daemon (mcast=br0, syncid=1")
            && daemons.contains("group=239.255.0.81")
            && !daemons.contains("backup"),
        "{daemons}"
    );
    // The survivor's table, by ipvsadm and by tandem.
    let beta: String = console
        .lines()
        .filter_map(|l| l.strip_prefix("[B] "))
        .collect::<Vec<_>>()
        .join("\n");
    let block = beta
        .split_once("IPVSADM-BEGIN")
        .and_then(|(_, r)| r.split_once("IPVSADM-END"))
        .map(|(b, _)| b)
        .expect("ipvsadm output");
    let oracle = common::vm::ipvsadm_view(block);
    let json = line("[B]", "STATUS-JSON ");
    let json: serde_json::Value =
        serde_json::from_str(json.split_once("STATUS-JSON ").unwrap().1).unwrap();
    assert_eq!(oracle, common::vm::tandem_view(&json));
    assert_eq!(
        oracle.keys().collect::<Vec<_>>(),
        ["TCP 192.0.2.10:80 rr persistent 600"]
    );
    assert_eq!(
        oracle.values().next().unwrap(),
        &["192.0.2.11:80 Route 1", "192.0.2.12:80 Route 1"]
    );
}
