//! One test per ha.cf directive: a line as a Heartbeat user writes it, and
//! what tandem makes of it.

use std::net::Ipv4Addr;
use tandem::config::diag::Severity;
use tandem::config::hacf::{
    self, AutoFailback, GenerationMethod, HaCf, Handling, Medium, Stonith, WireMode,
};
use tandem::config::value::Source;
use tandem::time::Time;

/// `line` goes between the node list and a link, so that `udpport` and
/// `baud` still come before the media lines.
const NODES: &str = "node alpha beta\n";
const LINK: &str = "bcast eth0\n";

/// Parses BASE plus `line`; returns the result and the findings as text.
fn with(line: &str) -> (Option<HaCf>, Vec<String>) {
    let text = format!("{NODES}{line}\n{LINK}");
    let (hacf, diags) = hacf::parse("ha.cf", text.as_bytes());
    let findings = diags
        .iter()
        .map(|d| format!("{:?}: {d}", d.severity))
        .collect();
    (hacf, findings)
}

fn ok(line: &str) -> HaCf {
    let (hacf, findings) = with(line);
    assert!(
        findings.iter().all(|f| !f.starts_with("Error")),
        "{line}: {findings:?}"
    );
    hacf.unwrap_or_else(|| panic!("{line}: refused"))
}

/// A sample line for every directive in the table.
const SAMPLES: &[(&str, &str)] = &[
    ("node", "node gamma"),
    ("cluster", "cluster web"),
    ("keepalive", "keepalive 500ms"),
    ("deadtime", "deadtime 5"),
    ("warntime", "warntime 10"),
    ("initdead", "initdead 60"),
    ("deadping", "deadping 40"),
    ("hbgenmethod", "hbgenmethod time"),
    ("wire", "wire native"),
    ("udpport", "udpport 694"),
    ("baud", "baud 9600"),
    ("bcast", "bcast eth1 eth2"),
    ("udp", "udp eth1"),
    ("mcast", "mcast eth0 239.255.0.1 694 1 0"),
    ("mcast6", "mcast6 eth0 ff12::1:2 694 1 0"),
    ("ucast", "ucast eth0 192.0.2.2"),
    ("ucast6", "ucast6 eth0 fe80::2%eth0"),
    ("serial", "serial /dev/ttyS0"),
    ("ppp", "ppp /dev/ttyS1 alpha=192.0.2.1 beta=192.0.2.2"),
    ("ping", "ping 192.0.2.254"),
    ("ping6", "ping6 2001:db8::1"),
    ("ping_group", "ping_group routers 192.0.2.253 192.0.2.254"),
    ("hbaping", "hbaping fc-card-name"),
    ("tipc", "tipc 1"),
    ("rds", "rds eth0"),
    ("auto_failback", "auto_failback off"),
    ("nice_failback", "nice_failback on"),
    ("stonith", "stonith baytech /etc/ha.d/conf/stonith.baytech"),
    (
        "stonith_host",
        "stonith_host * baytech 192.0.2.3 mylogin mysecretpassword",
    ),
    ("watchdog", "watchdog /dev/watchdog"),
    ("respawn", "respawn hacluster /usr/lib/heartbeat/ipfail"),
    ("failfast", "failfast hacluster /usr/lib/heartbeat/ccm"),
    ("env", "env FOO=bar"),
    ("max_rexmit_delay", "max_rexmit_delay 500ms"),
    ("resource_timeout", "resource_timeout 30s"),
    ("monitor_interval", "monitor_interval 10s"),
    ("notify", "notify /usr/local/sbin/ha-notify"),
    ("notify_fifo", "notify_fifo /run/tandem/notify.fifo"),
    ("migration_threshold", "migration_threshold 3"),
    ("failure_timeout", "failure_timeout 300"),
    ("on_stop_failure", "on_stop_failure block"),
    ("arp_count", "arp_count 3"),
    ("arp_interval", "arp_interval 500ms"),
    ("arp_form", "arp_form both"),
    ("logfacility", "logfacility local0"),
    ("logfile", "logfile /var/log/ha-log"),
    ("debugfile", "debugfile /var/log/ha-debug"),
    ("debug", "debug 1"),
    ("log_badpack", "log_badpack false"),
    ("realtime", "realtime off"),
    ("rtprio", "rtprio 50"),
    ("crm", "crm off"),
    ("pacemaker", "pacemaker no"),
    ("autojoin", "autojoin none"),
    ("quorum_server", "quorum_server 192.0.2.9"),
    ("hopfudge", "hopfudge 1"),
    ("uuidfrom", "uuidfrom nodename"),
    ("msgfmt", "msgfmt netstring"),
    ("apiauth", "apiauth ipfail gid=haclient uid=hacluster"),
    ("use_logd", "use_logd yes"),
    ("conn_logd_time", "conn_logd_time 60"),
    ("syslogmsgfmt", "syslogmsgfmt false"),
    ("compression", "compression bz2"),
    ("compression_threshold", "compression_threshold 2"),
    ("traditional_compression", "traditional_compression no"),
    ("memreserve", "memreserve 6500"),
    ("coredumps", "coredumps true"),
    ("coreroot", "coreroot /var/lib/heartbeat/cores"),
    ("normalpoll", "normalpoll true"),
    ("use_apphbd", "use_apphbd no"),
    ("crm_daemon_dir", "crm_daemon_dir /usr/lib/pacemaker"),
    ("crmd_spawns_pengine", "crmd_spawns_pengine yes"),
    ("record_config_changes", "record_config_changes on"),
    ("record_pengine_inputs", "record_pengine_inputs on"),
    ("enable_config_writes", "enable_config_writes on"),
];

#[test]
fn every_directive_is_handled_as_its_table_row_says() {
    for row in hacf::DIRECTIVES {
        let Some((_, line)) = SAMPLES.iter().find(|(name, _)| *name == row.name) else {
            panic!("no sample line for directive `{}`", row.name);
        };
        let (hacf, findings) = with(line);
        match row.handling {
            Handling::Implemented => assert!(
                hacf.is_some() && !findings.iter().any(|f| f.contains("ignored")),
                "{line}: {findings:?}"
            ),
            Handling::Ignored(why) => {
                assert!(hacf.is_some(), "{line}: {findings:?}");
                assert_eq!(
                    findings,
                    [format!("Warning: ha.cf:2: {}: ignored: {why}", row.name)]
                );
            }
            Handling::Rejected(why) => {
                assert!(hacf.is_none());
                assert_eq!(
                    findings,
                    [format!(
                        "Error: ha.cf:2: {}: not supported: {why}",
                        row.name
                    )]
                );
            }
        }
    }
    assert_eq!(SAMPLES.len(), hacf::DIRECTIVES.len());
}

#[test]
fn defaults_are_heartbeats() {
    let h = ok("");
    assert_eq!(h.cluster.value, "linux-ha");
    assert_eq!(h.keepalive.value, Time::from_secs(1));
    assert_eq!(h.deadtime.value, Time::from_secs(30));
    assert_eq!(h.warntime.value, Time::from_secs(15));
    assert_eq!(h.initdead.value, Time::from_secs(30));
    assert_eq!(h.deadping.value, Time::from_secs(30));
    assert_eq!(h.udpport.value, 694);
    assert_eq!(h.baud.value, 19200);
    assert_eq!(h.wire.value, WireMode::Auto);
    assert_eq!(h.auto_failback.value, AutoFailback::Legacy);
    assert_eq!(h.generation_method.value, GenerationMethod::File);
    assert!(h.realtime.value);
    assert!(h.logging.log_badpack.value);
    assert_eq!(h.resource_timeout.value, Time::from_secs(120));
    assert_eq!(h.max_rexmit_delay.value, Time::from_millis(250));
    assert_eq!(h.keepalive.source, Source::Default(""));
}

#[test]
fn initdead_default_follows_deadtime() {
    // Heartbeat config.c: > 10 s: = deadtime; < 6 s: 12 s; else 2 × deadtime.
    assert_eq!(ok("deadtime 20").initdead.value, Time::from_secs(20));
    assert_eq!(ok("deadtime 5").initdead.value, Time::from_secs(12));
    assert_eq!(ok("deadtime 8").initdead.value, Time::from_secs(16));
    // and warntime defaults to half of deadtime.
    assert_eq!(ok("deadtime 8").warntime.value, Time::from_secs(4));
}

#[test]
fn node_names_are_lowercased_and_several_per_line() {
    let h = ok("node Gamma,DELTA");
    let names: Vec<_> = h.nodes.iter().map(|n| n.value.as_str()).collect();
    assert_eq!(names, ["alpha", "beta", "gamma", "delta"]);
    assert_eq!(h.nodes[2].source.to_string(), "ha.cf:2");
}

#[test]
fn times_in_every_form() {
    assert_eq!(ok("keepalive 2").keepalive.value, Time::from_secs(2));
    assert_eq!(ok("keepalive 1.5").keepalive.value, Time::from_millis(1500));
    assert_eq!(
        ok("keepalive 200ms").keepalive.value,
        Time::from_millis(200)
    );
    let h = ok("keepalive 500us\ndeadtime 2ms\ninitdead 10");
    assert_eq!(h.keepalive.value, Time::from_micros(500));
    assert_eq!(h.deadtime.value, Time::from_millis(2));
}

#[test]
fn repeated_setting_keeps_the_later_value_and_says_so() {
    let (h, findings) = with("keepalive 2\nkeepalive 3");
    assert_eq!(h.unwrap().keepalive.value, Time::from_secs(3));
    assert_eq!(
        findings,
        ["Warning: ha.cf:3: keepalive: also given at line 2; this later value is used"]
    );
}

#[test]
fn media_lines() {
    let h = ok("bcast eth1 eth2");
    assert_eq!(h.links.len(), 3);
    assert_eq!(
        h.links[1].value,
        Medium::Bcast {
            device: "eth2".into()
        }
    );
    let h = ok("mcast eth0 239.255.0.1 694 1 0");
    assert_eq!(
        h.links[0].value,
        Medium::Mcast {
            device: "eth0".into(),
            group: Ipv4Addr::new(239, 255, 0, 1),
            port: 694,
            ttl: 1,
            loopback: false
        }
    );
    let h = ok("ucast eth0 192.0.2.1 192.0.2.2");
    assert_eq!(h.links.len(), 3, "one link per peer");
    let h = ok("ucast6 eth0 fe80::2%eth0");
    assert_eq!(h.links[0].value.to_string(), "ucast6 eth0 fe80::2%eth0");
    let h = ok("serial /dev/ttyS0 /dev/ttyS1");
    assert_eq!(h.links.len(), 3);
    let h = ok("ppp /dev/ttyS1 alpha=192.0.2.1 beta=192.0.2.2");
    assert!(h.links[0].value.reaches("alpha") && !h.links[0].value.reaches("gamma"));
}

#[test]
fn udpport_and_baud_before_media() {
    let text = "udpport 1694\nbaud 9600\nnode alpha beta\nbcast eth0\nserial /dev/ttyS0\n";
    let (h, d) = hacf::parse("ha.cf", text.as_bytes());
    assert!(d.is_empty(), "{d:?}");
    let h = h.unwrap();
    assert_eq!((h.udpport.value, h.baud.value), (1694, 9600));
}

#[test]
fn udp_is_bcast_with_a_warning() {
    let (h, findings) = with("udp eth1");
    assert_eq!(
        h.unwrap().links[0].value,
        Medium::Bcast {
            device: "eth1".into()
        }
    );
    assert_eq!(
        findings,
        ["Warning: ha.cf:2: udp: `udp` is Heartbeat's old name for `bcast`; read as bcast"]
    );
}

#[test]
fn nice_failback_maps_as_heartbeat_does() {
    assert_eq!(
        ok("nice_failback on").auto_failback.value,
        AutoFailback::Off
    );
    assert_eq!(
        ok("nice_failback off").auto_failback.value,
        AutoFailback::Legacy
    );
    assert_eq!(
        ok("auto_failback yes").auto_failback.value,
        AutoFailback::On
    );
    assert_eq!(
        ok("auto_failback LEGACY").auto_failback.value,
        AutoFailback::Legacy
    );
}

#[test]
fn safety_directives_are_kept() {
    let h = ok("stonith_host beta external/ipmi beta 192.0.2.3 admin pw lan\nwatchdog /dev/watchdog\nrespawn hacluster /usr/lib/heartbeat/ipfail -x\nping 192.0.2.254\nping_group routers 192.0.2.253 192.0.2.254");
    assert_eq!(
        h.stonith[0].value,
        Stonith::Host {
            host: "beta".into(),
            kind: "external/ipmi".into(),
            params: "beta 192.0.2.3 admin pw lan".into()
        }
    );
    assert_eq!(h.watchdog.unwrap().value, "/dev/watchdog");
    assert_eq!(h.respawn[0].value.command, "/usr/lib/heartbeat/ipfail -x");
    assert!(!h.respawn[0].value.failfast);
    assert_eq!(h.ping_nodes.len(), 2);
    assert!(h.ping_nodes[1].value.group);
}

#[test]
fn comments_anywhere_as_heartbeat() {
    let h = ok("keepalive 2 # seconds\n   # indented comment\n\t\ndeadtime 10#ten");
    assert_eq!(h.deadtime.value, Time::from_secs(10));
}

#[test]
fn warnings_for_questionable_timing() {
    let (_, f) = with("keepalive 2\nwarntime 2\ndeadtime 10");
    assert_eq!(
        f,
        ["Warning: ha.cf:3: warntime: 2s is not more than keepalive (2s); every keepalive would be reported late"]
    );
    let (_, f) = with("keepalive 100ms\ndeadtime 1\ninitdead 2");
    assert_eq!(
        f,
        ["Warning: ha.cf:4: initdead: 2s may be too short for a network to come up at boot; 10s or more is recommended"]
    );
}

#[test]
fn severities_are_ordered() {
    assert!(Severity::Error > Severity::Warning);
}

#[test]
fn failure_directives_default_as_pacemaker_and_heartbeat_and_refuse_bad_values() {
    use tandem::config::hacf::StopFailure;
    let h = ok("");
    assert_eq!(h.migration_threshold.value, 2);
    assert_eq!(h.failure_timeout.value, tandem::time::Time::from_secs(600));
    assert_eq!(h.on_stop_failure.value, StopFailure::Reboot);
    let h = ok("migration_threshold 1\nfailure_timeout 0\non_stop_failure block");
    assert_eq!(h.migration_threshold.value, 1);
    assert!(h.failure_timeout.value.is_zero());
    assert_eq!(h.on_stop_failure.value, StopFailure::Block);
    for (line, want) in [
        ("migration_threshold 0", "ha.cf:2: migration_threshold:"),
        ("migration_threshold many", "ha.cf:2: migration_threshold:"),
        ("failure_timeout soon", "ha.cf:2: failure_timeout:"),
        (
            "on_stop_failure panic",
            "ha.cf:2: on_stop_failure: `panic` is not a policy",
        ),
        (
            "on_stop_failure fence",
            "ha.cf:2: on_stop_failure: `fence` needs a STONITH device",
        ),
    ] {
        let (_, findings) = with(line);
        assert!(
            findings
                .iter()
                .any(|f| f.starts_with("Error") && f.contains(want)),
            "{line}: {findings:?}"
        );
    }
    // With a STONITH device, fence is accepted.
    let h = ok("on_stop_failure fence\nstonith_host * null alpha beta");
    assert_eq!(h.on_stop_failure.value, StopFailure::Fence);
}

#[test]
fn respawn_of_ipfail_is_warned_about_and_kept() {
    let (hacf, findings) = with("respawn hacluster /usr/lib/heartbeat/ipfail");
    let hacf = hacf.expect("accepted");
    assert!(hacf.respawn[0].value.is_ipfail());
    assert!(
        findings
            .iter()
            .any(|f| f.starts_with("Warning") && f.contains("ipfail is not run")),
        "{findings:?}"
    );
    let (_, findings) = with("respawn hacluster ipfail");
    assert!(
        findings.iter().any(|f| f.contains("not a full path")),
        "{findings:?}"
    );
}
