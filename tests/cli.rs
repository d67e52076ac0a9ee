//! The `tandem` binary as an operator runs it.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

fn tandem(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run tandem")
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

/// The README's first command: the shipped examples, for each node.
const EXAMPLES: &[&str] = &[
    "check-config",
    "-c",
    ".",
    "--ha-cf",
    "ha.cf.example",
    "--haresources",
    "haresources.example",
    "--authkeys",
    "authkeys.example",
    "--other-host",
];

#[test]
fn shipped_examples_pass_check_config_on_both_nodes() {
    for node in ["alpha", "beta"] {
        let mut args = EXAMPLES.to_vec();
        args.extend(["--node", node]);
        let out = tandem(&args);
        let stdout = text(&out.stdout);
        assert!(
            out.status.success(),
            "{node}: {stdout}{}",
            text(&out.stderr)
        );
        assert!(stdout.contains("configuration OK"), "{stdout}");
        assert!(
            stdout.contains(&format!("{node:<24} ha.cf.example")),
            "{stdout}"
        );
        // Every timing says where it came from.
        assert!(
            stdout.contains("deadtime   10s        ha.cf.example:"),
            "{stdout}"
        );
        assert!(
            stdout.contains("deadping   10s        default (= deadtime)"),
            "{stdout}"
        );
        assert!(
            stdout.contains("built in (run in tandem's process)"),
            "{stdout}"
        );
        assert!(
            !stdout.contains("3f1c0e1a"),
            "the key must never be printed"
        );
    }
}

#[test]
fn json_report_is_machine_readable() {
    let mut args = EXAMPLES.to_vec();
    args.extend(["--node", "alpha", "--json"]);
    let out = tandem(&args);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(v["ok"], true);
    assert_eq!(v["config"]["local_node"], "alpha");
    assert_eq!(v["config"]["hacf"]["deadtime"]["value"], 10_000);
    assert_eq!(v["config"]["hacf"]["links"][0]["value"]["medium"], "serial");
    assert_eq!(
        v["config"]["groups"][0]["resources"][0]["script"],
        "IPaddr2"
    );
    assert_eq!(v["resolutions"][0][0]["found"], "builtin");
    assert!(
        !text(&out.stdout).contains("3f1c0e1a"),
        "the key must never be printed"
    );
}

#[test]
fn bad_configuration_exits_1_naming_file_line_and_directive() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("ha.cf"),
        "node alpha beta\nkeepalive 2\ndeadtime 3\nbcast eth0\n",
    )
    .unwrap();
    std::fs::write(d.join("haresources"), "").unwrap();
    std::fs::write(d.join("authkeys"), "auth 1\n1 sha256 k\n").unwrap();
    std::fs::set_permissions(d.join("authkeys"), std::fs::Permissions::from_mode(0o600)).unwrap();
    let dir_arg = d.to_str().unwrap();
    let out = tandem(&["check-config", "-c", dir_arg, "--node", "alpha"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    let expected = format!(
        "{}:3: deadtime: 3s must be more than 2 × keepalive (2s), or one lost keepalive declares a node dead",
        Path::new(dir_arg).join("ha.cf").display()
    );
    assert!(stdout.contains(&expected), "{stdout}");
    assert!(stdout.contains("tandem will not start with it"), "{stdout}");
}

#[test]
fn unknown_node_exits_1() {
    let mut args = EXAMPLES.to_vec();
    args.extend(["--node", "gamma"]);
    let out = tandem(&args);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("this node, `gamma`, is not listed"));
}

#[test]
fn version_and_help() {
    let out = tandem(&["--version"]);
    assert!(out.status.success());
    assert_eq!(
        text(&out.stdout).trim(),
        format!("tandem {}", env!("CARGO_PKG_VERSION"))
    );
    let out = tandem(&["help"]);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("check-config"));
    let out = tandem(&["help", "check-config"]);
    assert!(text(&out.stdout).contains("--config-dir"));
}

#[test]
fn usage_errors_exit_2() {
    let out = tandem(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
}

/// `check-config --ldirectord FILE`: an LVS director's configuration,
/// each mistake at its line and a non-zero exit; a good file summarised.
#[test]
fn check_config_reads_an_ldirectord_cf() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("good.cf");
    std::fs::write(
        &good,
        "checkinterval=2\nvirtual=192.0.2.10:80\n\treal=198.51.100.2:80 gate\n\treal=198.51.100.3:80 gate 3\n\tscheduler=rr\n",
    )
    .expect("write");
    let out = tandem(&["check-config", "--ldirectord", &good.display().to_string()]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("virtual 192.0.2.10:80 tcp scheduler rr, 2 real server(s), check negotiate http every 2s"),
        "{}",
        text(&out.stdout)
    );
    let bad = dir.path().join("bad.cf");
    std::fs::write(
        &bad,
        "virtual=192.0.2.10:80\n\treal=198.51.100.2:80 gate\n\tscheduler=fastest\n",
    )
    .expect("write");
    let name = bad.display().to_string();
    let out = tandem(&["check-config", "--ldirectord", &name]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).starts_with(&format!(
            "{name}:3: scheduler: `fastest` is not one of rr, wrr"
        )),
        "{}",
        text(&out.stdout)
    );
    let out = tandem(&[
        "check-config",
        "--json",
        "--ldirectord",
        &good.display().to_string(),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["ok"], true);
    assert_eq!(v["director"]["virtuals"][0]["reals"][1]["weight"], 3);
}
