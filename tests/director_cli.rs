//! `tandem director` from the command line: a bad configuration never
//! starts (every error on its own line, non-zero exit), a kernel without
//! IPVS is one clear line, and with --checks-only: status, a reload with
//! a bad file that keeps the running configuration, a good reload, stop.
//! No root needed (a real server on loopback, a private control socket).

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const EXE: &str = env!("CARGO_BIN_EXE_tandem");

fn tandem(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(EXE).args(args).output().expect("run tandem");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_bad_configuration_never_starts() {
    let dir = tempfile::tempdir().unwrap();
    let cf = dir.path().join("ldirectord.cf");
    std::fs::write(
        &cf,
        "checkinterval=1\nvirtual=192.0.2.10:80\n\treal=198.51.100.1:80 gate\n\tscheduler=fastest\n\tchecktype=sometimes\n",
    )
    .unwrap();
    let sock = dir.path().join("s.sock");
    let (ok, _, err) = tandem(&[
        "director",
        "-c",
        cf.to_str().unwrap(),
        "--checks-only",
        "--socket",
        sock.to_str().unwrap(),
    ]);
    assert!(!ok);
    let lines: Vec<&str> = err.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("ldirectord.cf:4: scheduler:")),
        "{err}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("ldirectord.cf:5: checktype:")),
        "{err}"
    );
    assert_eq!(
        lines.last(),
        Some(&"tandem: director not started: the configuration has errors")
    );
    assert!(!sock.exists(), "a control socket was left behind");
}

#[test]
fn a_kernel_without_ipvs_is_one_clear_line() {
    if Path::new("/proc/net/ip_vs").exists() {
        eprintln!("SKIPPED a_kernel_without_ipvs_is_one_clear_line: this kernel has IPVS");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cf = dir.path().join("ldirectord.cf");
    std::fs::write(&cf, "virtual=192.0.2.10:80\n\treal=127.0.0.1:80 gate\n").unwrap();
    let sock = dir.path().join("s.sock");
    let (ok, _, err) = tandem(&[
        "director",
        "-c",
        cf.to_str().unwrap(),
        "--socket",
        sock.to_str().unwrap(),
    ]);
    assert!(!ok);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("no IPVS") && err.contains("--checks-only"),
        "{err}"
    );
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(t.elapsed() < Duration::from_secs(10), "{what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn checks_only_status_reload_and_stop() {
    let dir = tempfile::tempdir().unwrap();
    // A real server: a listener on loopback that accepts.
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = server.local_addr().unwrap().port();
    std::thread::spawn(move || for _ in server.incoming() {});
    let cf = dir.path().join("ldirectord.cf");
    let good = format!(
        "checkinterval=1\nvirtual=192.0.2.10:80\n\treal=127.0.0.1:{port} masq\n\tchecktype=connect\n"
    );
    std::fs::write(&cf, &good).unwrap();
    let sock = dir.path().join("s.sock");
    let (c, s) = (cf.to_str().unwrap(), sock.to_str().unwrap());
    let mut child = Command::new(EXE)
        .args(["director", "-c", c, "--checks-only", "--socket", s])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let status = || tandem(&["director", "--socket", s, "status"]);
    wait_for("the server is up", || status().1.contains("up connect"));
    let (_, text, _) = status();
    assert!(
        text.starts_with("checks only: nothing is programmed\n"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "127.0.0.1:{port} masq weight 1 (would be 1) up connect"
        )),
        "{text}"
    );
    let (ok, json, _) = tandem(&["director", "--socket", s, "status", "--json"]);
    assert!(ok);
    let j: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(j["ipvs"], "checks only: nothing is programmed");
    assert_eq!(j["virtuals"][0]["reals"][0]["state"], "up");

    // A reload with a broken file: refused, naming the line; the running
    // configuration stays.
    std::fs::write(
        &cf,
        format!("{good}virtual=192.0.2.10:81\n\treal=nonsense\n"),
    )
    .unwrap();
    let (ok, _, err) = tandem(&["director", "--socket", s, "reload"]);
    assert!(!ok);
    assert!(err.contains("ldirectord.cf:6: real:"), "{err}");
    let (_, text, _) = status();
    assert!(
        text.contains("TCP 192.0.2.10:80") && !text.contains(":81"),
        "{text}"
    );
    // A good one: the new service, the old server's verdict kept.
    std::fs::write(
        &cf,
        format!("{good}virtual=192.0.2.10:81\n\treal=127.0.0.1:{port} masq\n\tchecktype=connect\n"),
    )
    .unwrap();
    let (ok, out, _) = tandem(&["director", "--socket", s, "reload"]);
    assert!(ok, "{out}");
    assert!(out.contains("2 virtual service(s)"), "{out}");
    wait_for("both up", || status().1.matches("up connect").count() == 2);

    let (ok, _, _) = tandem(&["director", "--socket", s, "stop"]);
    assert!(ok);
    wait_for("the director exits", || {
        matches!(child.try_wait(), Ok(Some(_)))
    });
    assert!(child.wait().unwrap().success());
    assert!(!sock.exists(), "the control socket stays after stop");
}

#[test]
fn check_config_reads_the_director_named_in_haresources() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("resource.d")).unwrap();
    std::fs::write(
        d.join("ha.cf"),
        "keepalive 1\ndeadtime 3\nbcast lo\nnode alpha\nnode beta\nauto_failback off\n",
    )
    .unwrap();
    std::fs::write(d.join("authkeys"), "auth 1\n1 sha1 director-test\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(d.join("authkeys"), std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::write(
        d.join("haresources"),
        "alpha IPaddr2::192.0.2.10/24/eth0 LVSSyncDaemonSwap::master::eth0::300 ldirectord::www.cf\n",
    )
    .unwrap();
    std::fs::write(
        d.join("www.cf"),
        "virtual=192.0.2.10:80\n\treal=198.51.100.1:80 gate\n\tscheduler=bogus\n",
    )
    .unwrap();
    let check = || tandem(&["check-config", "-c", d.to_str().unwrap(), "--node", "alpha"]);
    let (ok, out, _) = check();
    assert!(!ok, "{out}");
    assert!(
        out.contains("haresources:1: ldirectord::www.cf: ") && out.contains("www.cf:3: scheduler:"),
        "{out}"
    );
    assert!(
        out.contains("LVSSyncDaemonSwap::master::eth0::300: `300`: a sync id is 0 to 255"),
        "{out}"
    );
    std::fs::write(
        d.join("www.cf"),
        "virtual=192.0.2.10:80\n\treal=198.51.100.1:80 gate\n",
    )
    .unwrap();
    std::fs::write(
        d.join("haresources"),
        "alpha IPaddr2::192.0.2.10/24/eth0 LVSSyncDaemonSwap::master::eth0 ldirectord::www.cf\n",
    )
    .unwrap();
    let (ok, out, _) = check();
    assert!(ok, "{out}");
    assert!(
        out.contains("built in (tandem runs it as a child process)"),
        "{out}"
    );
}

#[test]
fn a_file_in_maintenancedir_takes_a_server_out() {
    let dir = tempfile::tempdir().unwrap();
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = server.local_addr().unwrap().port();
    std::thread::spawn(move || for _ in server.incoming() {});
    let maint = dir.path().join("maintenance");
    std::fs::create_dir(&maint).unwrap();
    let cf = dir.path().join("ldirectord.cf");
    std::fs::write(
        &cf,
        format!(
            "checkinterval=1\nmaintenancedir={}\nvirtual=192.0.2.10:80\n\treal=127.0.0.1:{port} masq\n\tchecktype=connect\n",
            maint.display()
        ),
    )
    .unwrap();
    let sock = dir.path().join("s.sock");
    let s = sock.to_str().unwrap();
    let mut child = Command::new(EXE)
        .args([
            "director",
            "-c",
            cf.to_str().unwrap(),
            "--checks-only",
            "--socket",
            s,
        ])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let status = || tandem(&["director", "--socket", s, "status"]).1;
    wait_for("up", || status().contains(" up connect"));
    let file = maint.join(format!("127.0.0.1:{port}"));
    std::fs::write(&file, "").unwrap();
    wait_for("down for maintenance", || {
        status().contains("down connect: in maintenance")
    });
    std::fs::remove_file(&file).unwrap();
    wait_for("back up", || status().contains(" up connect"));
    let _ = child.kill();
    let _ = child.wait();
}
