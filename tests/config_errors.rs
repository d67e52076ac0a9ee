//! Golden tests of configuration error messages.
//!
//! Each case changes one file of a valid configuration; every finding is
//! printed one per line and compared with tests/golden/config_errors.txt.
//! After changing a message on purpose, regenerate the file with
//! `UPDATE_GOLDEN=1 cargo test --test config_errors` and review the diff.

use std::fmt::Write;
use std::os::unix::fs::PermissionsExt;
use tandem::config::{self, Files, Host, LoadOptions, Texts};

const HA_CF: &str = "node alpha beta\nkeepalive 1\ndeadtime 10\nbcast eth0\nauto_failback on\n";
const HARESOURCES: &str = "alpha 192.0.2.10 httpd\n";
const AUTHKEYS: &str = "auth 1\n1 sha256 0123456789abcdef\n";

enum Change {
    HaCf(&'static str),
    Haresources(&'static str),
    Authkeys(&'static [u8]),
    Node(&'static str),
}
use Change::*;

/// (name, change) — one kind of bad input each.
const CASES: &[(&str, Change)] = &[
    ("unknown directive", HaCf("node alpha beta\nkeepalve 2\nbcast eth0\nauto_failback on\n")),
    ("bad time", HaCf("node alpha beta\ndeadtime 3x\nbcast eth0\nauto_failback on\n")),
    ("negative time", HaCf("node alpha beta\nkeepalive -1\nbcast eth0\nauto_failback on\n")),
    ("zero keepalive", HaCf("node alpha beta\nkeepalive 0\nbcast eth0\nauto_failback on\n")),
    ("deadtime too short", HaCf("node alpha beta\nkeepalive 5\ndeadtime 10\nbcast eth0\nauto_failback on\n")),
    ("initdead below deadtime", HaCf("node alpha beta\ndeadtime 20\ninitdead 15\nbcast eth0\nauto_failback on\n")),
    ("warntime not below deadtime", HaCf("node alpha beta\ndeadtime 10\nwarntime 10\nbcast eth0\nauto_failback on\n")),
    ("missing local node", Node("gamma")),
    ("no nodes", HaCf("bcast eth0\nauto_failback on\n")),
    ("no links", HaCf("node alpha beta\nauto_failback on\n")),
    ("duplicate node", HaCf("node alpha beta\nnode Alpha\nbcast eth0\nauto_failback on\n")),
    ("bad node name", HaCf("node alpha beta al/pha\nbcast eth0\nauto_failback on\n")),
    ("bad baud", HaCf("node alpha beta\nbaud 1200\nserial /dev/ttyS0\nauto_failback on\n")),
    ("baud after serial", HaCf("node alpha beta\nserial /dev/ttyS0\nbaud 9600\nauto_failback on\n")),
    ("udpport after bcast", HaCf("node alpha beta\nbcast eth0\nudpport 695\nauto_failback on\n")),
    ("bad udpport", HaCf("node alpha beta\nudpport 0\nbcast eth0\nauto_failback on\n")),
    ("mcast group not multicast", HaCf("node alpha beta\nmcast eth0 192.0.2.1 694 1 0\nauto_failback on\n")),
    ("mcast missing fields", HaCf("node alpha beta\nmcast eth0 239.255.0.1 694\nauto_failback on\n")),
    ("mcast bad ttl and loop", HaCf("node alpha beta\nmcast eth0 239.255.0.1 694 0 2\nauto_failback on\n")),
    ("ucast bad peer", HaCf("node alpha beta\nucast eth0 192.0.2.256\nauto_failback on\n")),
    ("ucast bad port", HaCf("node alpha beta\nucast lo 127.0.0.1:70000\nauto_failback on\n")),
    ("ucast6 bad peer", HaCf("node alpha beta\nucast6 eth0 2001:db8::zz\nauto_failback on\n")),
    ("serial not a path", HaCf("node alpha beta\nserial ttyS0\nauto_failback on\n")),
    ("duplicate link", HaCf("node alpha beta\nbcast eth0\nbcast eth1 eth0\nauto_failback on\n")),
    ("ppp unknown node", HaCf("node alpha beta\nppp /dev/ttyS1 alpha=192.0.2.1 gamma=192.0.2.2\nauto_failback on\n")),
    ("ppp bad end", HaCf("node alpha beta\nppp /dev/ttyS1 alpha:192.0.2.1 beta=192.0.2.2\nauto_failback on\n")),
    ("crm respawn", HaCf("node alpha beta\nbcast eth0\ncrm respawn\nauto_failback on\n")),
    ("autojoin any", HaCf("node alpha beta\nbcast eth0\nautojoin any\nauto_failback on\n")),
    ("quorum_server", HaCf("node alpha beta\nbcast eth0\nquorum_server 192.0.2.9\nauto_failback on\n")),
    ("hbaping", HaCf("node alpha beta\nbcast eth0\nhbaping fc-card-name\nauto_failback on\n")),
    ("bad wire mode", HaCf("node alpha beta\nbcast eth0\nwire classic\nauto_failback on\n")),
    ("bad auto_failback", HaCf("node alpha beta\nbcast eth0\nauto_failback sometimes\n")),
    ("bad boolean", HaCf("node alpha beta\nbcast eth0\nrealtime perhaps\nauto_failback on\n")),
    ("bad rtprio", HaCf("node alpha beta\nbcast eth0\nrtprio 0\nauto_failback on\n")),
    ("bad arp form", HaCf("node alpha beta\nbcast eth0\narp_form unsolicited\nauto_failback on\n")),
    ("zero arp count", HaCf("node alpha beta\nbcast eth0\narp_count 0\nauto_failback on\n")),
    ("bad logfacility", HaCf("node alpha beta\nbcast eth0\nlogfacility local9\nauto_failback on\n")),
    ("watchdog twice", HaCf("node alpha beta\nbcast eth0\nwatchdog /dev/watchdog\nwatchdog /dev/watchdog1\nauto_failback on\n")),
    ("respawn relative", HaCf("node alpha beta\nbcast eth0\nrespawn hacluster ipfail\nauto_failback on\n")),
    ("stonith_host unknown host", HaCf("node alpha beta\nbcast eth0\nstonith_host gamma external/ipmi x\nauto_failback on\n")),
    ("bad env", HaCf("node alpha beta\nbcast eth0\nenv 1X=2\nauto_failback on\n")),
    ("several errors in one pass", HaCf("node alpha beta\nkeepalive soon\nbcast eth0\nbaud 300\nfrobnicate\nauto_failback on\n")),
    ("haresources unknown node", Haresources("gamma 192.0.2.10\n")),
    ("bad IP shorthand", Haresources("alpha IPaddr2::192.0.2.300/24/eth0\n")),
    ("bad prefix", Haresources("alpha IPaddr2::192.0.2.10/40/eth0\n")),
    ("non-contiguous netmask", Haresources("alpha IPaddr::192.0.2.10/255.0.255.0\n")),
    ("label too long", Haresources("alpha IPaddr2::192.0.2.10/24/eth0:averyverylonglabel\n")),
    ("bare address out of range", Haresources("alpha 192.0.2.999 httpd\n")),
    ("duplicate group key", Haresources("alpha 192.0.2.10 httpd\nbeta 192.0.2.10 nginx\n")),
    ("script path traversal", Haresources("alpha 192.0.2.10 ../../bin/sh\n")),
    ("empty script argument", Haresources("alpha 192.0.2.10 Filesystem::::/data\n")),
    ("bad OCF parameter", Haresources("alpha ocf:heartbeat:IPaddr2::ip\n")),
    ("group without resources", Haresources("alpha\n")),
    ("continuation at end of file", Haresources("alpha 192.0.2.10 \\\n")),
    ("missing auth", Authkeys(b"1 sha256 0123456789abcdef\n")),
    ("unknown auth index", Authkeys(b"auth 2\n1 sha256 0123456789abcdef\n")),
    ("crc with key", Authkeys(b"auth 1\n1 crc secret\n")),
    ("sha1 without key", Authkeys(b"auth 1\n1 sha1\n")),
    ("unknown method", Authkeys(b"auth 1\n1 sha512 secret\n")),
    ("index out of range", Authkeys(b"auth 1\n1 sha256 x\n16 sha1 y\n")),
    ("bad auth line", Authkeys(b"auth one\n1 sha256 x\n")),
    ("not UTF-8", Authkeys(b"auth 1\n1 sha256 \xff\xfe\n")),
];

fn run_case(change: &Change) -> String {
    let (mut ha_cf, mut haresources, mut authkeys, mut node) = (
        HA_CF.as_bytes(),
        HARESOURCES.as_bytes(),
        AUTHKEYS.as_bytes(),
        "alpha",
    );
    match change {
        HaCf(t) => ha_cf = t.as_bytes(),
        Haresources(t) => haresources = t.as_bytes(),
        Authkeys(t) => authkeys = t,
        Node(n) => node = n,
    }
    let texts = Texts {
        ha_cf: ("ha.cf", ha_cf),
        haresources: ("haresources", haresources),
        authkeys: ("authkeys", authkeys),
    };
    let (config, diags) = config::parse(&texts, node);
    let mut out = String::new();
    if config.is_some() {
        out.push_str("  (accepted)\n");
    }
    for d in diags.iter() {
        let _ = writeln!(out, "  {:?}: {d}", d.severity);
    }
    out
}

fn golden_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/config_errors.txt")
}

#[test]
fn base_configuration_is_valid() {
    let out = run_case(&Node("alpha"));
    assert_eq!(out, "  (accepted)\n");
}

#[test]
fn error_messages_match_golden_file() {
    assert!(CASES.len() >= 30);
    let mut actual = String::new();
    for (name, change) in CASES {
        let out = run_case(change);
        assert!(
            !out.contains("(accepted)") || name.starts_with("warntime"),
            "{name}: bad input was accepted:\n{out}"
        );
        assert!(
            out.contains("Error") || out.contains("Warning"),
            "{name}: no finding"
        );
        let _ = writeln!(actual, "# {name}\n{out}");
    }
    let path = golden_path();
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &actual).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path).expect("read tests/golden/config_errors.txt");
    if expected != actual {
        for (e, a) in expected.lines().zip(actual.lines()) {
            if e != a {
                panic!(
                    "golden mismatch:\nexpected: {e}\n  actual: {a}\n(UPDATE_GOLDEN=1 to accept)"
                );
            }
        }
        panic!("golden file differs in length (UPDATE_GOLDEN=1 to accept)");
    }
}

/// Writes a valid configuration directory and returns it.
fn config_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("ha.cf"), HA_CF).unwrap();
    std::fs::write(dir.path().join("haresources"), "alpha 192.0.2.10 mysvc\n").unwrap();
    std::fs::write(dir.path().join("authkeys"), AUTHKEYS).unwrap();
    std::fs::set_permissions(
        dir.path().join("authkeys"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    let rd = dir.path().join("resource.d");
    std::fs::create_dir(&rd).unwrap();
    std::fs::write(rd.join("mysvc"), "#!/bin/sh\nexit 0\n").unwrap();
    std::fs::set_permissions(rd.join("mysvc"), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

fn load(dir: &std::path::Path, host: Host) -> config::Loaded {
    let mut opts = LoadOptions::new(Files::in_dir(dir), Some("alpha".into()), host);
    opts.init_d = dir.join("no-init.d");
    config::load(&opts)
}

fn messages(loaded: &config::Loaded, dir: &std::path::Path) -> Vec<String> {
    let prefix = format!("{}/", dir.display());
    loaded
        .diagnostics
        .iter()
        .map(|d| format!("{:?}: {}", d.severity, d.to_string().replace(&prefix, "")))
        .collect()
}

#[test]
fn valid_directory_loads_for_run() {
    let dir = config_dir();
    let loaded = load(dir.path(), Host::This);
    assert!(loaded.config.is_some(), "{:?}", loaded.diagnostics);
    assert!(loaded.diagnostics.is_empty());
}

#[test]
fn readable_authkeys_is_an_error_here_and_a_warning_for_another_host() {
    let dir = config_dir();
    let keys = dir.path().join("authkeys");
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o644)).unwrap();
    // The directory prefix is cut from messages: the path is the full one.
    let expected = "mode 0644 lets group or other read the keys; run `chmod 600 authkeys`";
    let run = load(dir.path(), Host::This);
    assert!(run.config.is_none());
    assert_eq!(
        messages(&run, dir.path()),
        [format!("Error: authkeys: {expected}")]
    );
    let check = load(dir.path(), Host::Another);
    assert!(check.config.is_some());
    assert_eq!(
        messages(&check, dir.path()),
        [format!("Warning: authkeys: {expected}")]
    );
}

#[test]
fn missing_script_is_an_error_here_and_a_warning_for_another_host() {
    let dir = config_dir();
    std::fs::remove_file(dir.path().join("resource.d/mysvc")).unwrap();
    let expected = "haresources:1: mysvc: no executable `mysvc` on this host (searched resource.d/mysvc, no-init.d/mysvc)";
    let run = load(dir.path(), Host::This);
    assert!(run.config.is_none());
    assert_eq!(messages(&run, dir.path()), [format!("Error: {expected}")]);
    let check = load(dir.path(), Host::Another);
    assert!(check.config.is_some());
    assert_eq!(
        messages(&check, dir.path()),
        [format!("Warning: {expected}")]
    );
}

#[test]
fn missing_file_is_named() {
    let dir = config_dir();
    std::fs::remove_file(dir.path().join("haresources")).unwrap();
    let loaded = load(dir.path(), Host::Another);
    assert!(loaded.config.is_none());
    assert_eq!(
        messages(&loaded, dir.path()),
        ["Error: haresources: cannot read: No such file or directory (os error 2) (create an empty file if this cluster manages no resources)"]
    );
}

#[test]
fn nodeinfo_names_the_local_node() {
    let dir = config_dir();
    std::fs::write(dir.path().join("nodeinfo"), "BETA\n").unwrap();
    let opts = LoadOptions::new(Files::in_dir(dir.path()), None, Host::Another);
    let loaded = config::load(&opts);
    assert_eq!(loaded.config.map(|c| c.local_node).as_deref(), Some("beta"));
}
