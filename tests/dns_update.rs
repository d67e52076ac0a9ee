//! Dynamic DNS against a real BIND 9 (Debian's bind9, started here in the
//! foreground on loopback from a temporary configuration): a TSIG-signed
//! UPDATE moves the record, a wrong key is refused and changes nothing,
//! and a failover moves the record to the survivor.

mod common;

use common::wait_for;
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tandem::demo::{Pair, Timings};

const EXE: &str = env!("CARGO_BIN_EXE_tandem");

/// `tandem demo`'s timings: keepalive 100 ms, deadtime 600 ms.
const FAST: Timings = Timings::DEMO;

fn skip(test: &str) -> bool {
    if Path::new("/usr/sbin/named").exists() && Path::new("/usr/bin/dig").exists() {
        return false;
    }
    let why = "needs bind9 and bind9-dnsutils (tests/setup installs them as root)";
    assert!(std::env::var_os("CI").is_none(), "{test}: {why}");
    eprintln!("SKIPPED {test}: {why}");
    true
}

fn secret() -> String {
    use std::io::Read;
    let mut b = [0u8; 32];
    let _ = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b));
    // Base64 by hand would be more code than this test needs: hex is
    // valid base64 alphabet, and any bytes make a key.
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A named serving `tandem.test` on 127.0.0.1:port; killed on drop.
struct Named {
    child: Child,
    port: u16,
    key: PathBuf,
    dir: tempfile::TempDir,
}

impl Drop for Named {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn key_file(path: &Path, secret: &str) {
    std::fs::write(
        path,
        format!("key \"ddns-key\" {{\n\talgorithm hmac-sha256;\n\tsecret \"{secret}\";\n}};\n"),
    )
    .expect("key file");
}

fn named() -> Named {
    let dir = tempfile::Builder::new()
        .prefix("tandem-named-")
        .tempdir()
        .expect("tempdir");
    let d = dir.path();
    let port = UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("free port")
        .port();
    let key = d.join("key.conf");
    key_file(&key, &secret());
    std::fs::write(
        d.join("named.conf"),
        format!(
            "include \"{key}\";\n\
             options {{ directory \"{dir}\"; listen-on port {port} {{ 127.0.0.1; }}; listen-on-v6 {{ none; }};\n\
             pid-file \"{dir}/named.pid\"; recursion no; dnssec-validation no; }};\n\
             zone \"tandem.test\" {{ type primary; file \"{dir}/tandem.test.zone\"; allow-update {{ key \"ddns-key\"; }}; }};\n",
            key = key.display(),
            dir = d.display(),
        ),
    )
    .expect("named.conf");
    std::fs::write(
        d.join("tandem.test.zone"),
        "$TTL 60\n@ IN SOA ns.tandem.test. admin.tandem.test. ( 1 60 60 600 60 )\n\
         @ IN NS ns.tandem.test.\nns IN A 127.0.0.1\nwww IN A 192.0.2.99\n",
    )
    .expect("zone");
    let log = std::fs::File::create(d.join("named.log")).expect("log");
    let child = Command::new("/usr/sbin/named")
        .args(["-g", "-u", "root", "-c"])
        .arg(d.join("named.conf"))
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("start named");
    let n = Named {
        child,
        port,
        key,
        dir,
    };
    let up = wait_for(Duration::from_secs(20), || {
        lookup(&n).as_deref() == Some("192.0.2.99")
    });
    assert!(up, "named did not come up: {}", n.log());
    n
}

impl Named {
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("named.log")).unwrap_or_default()
    }
}

fn lookup(n: &Named) -> Option<String> {
    let out = Command::new("dig")
        .args([
            "@127.0.0.1",
            "-p",
            &n.port.to_string(),
            "www.tandem.test",
            "A",
            "+short",
            "+time=1",
            "+tries=1",
        ])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (!text.is_empty()).then_some(text)
}

#[test]
fn a_signed_update_moves_the_record_and_a_wrong_key_changes_nothing() {
    if skip("a_signed_update_moves_the_record_and_a_wrong_key_changes_nothing") {
        return;
    }
    let n = named();
    let server = format!("127.0.0.1:{}", n.port);
    let out = Command::new(EXE)
        .args(["action", "dns-update", "--server", &server, "--key"])
        .arg(&n.key)
        .args(["www.tandem.test", "192.0.2.10"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        n.log()
    );
    assert_eq!(lookup(&n).as_deref(), Some("192.0.2.10"));
    // Idempotent: the same update again changes nothing and succeeds.
    let again = Command::new(EXE)
        .args(["action", "dns-update", "--server", &server, "--key"])
        .arg(&n.key)
        .args(["www.tandem.test", "192.0.2.10"])
        .output()
        .expect("run");
    assert!(again.status.success());
    assert_eq!(lookup(&n).as_deref(), Some("192.0.2.10"));
    // A wrong key: one clear line, a non-zero exit, the record untouched.
    let wrong = n.dir.path().join("wrong.conf");
    key_file(&wrong, &secret());
    let out = Command::new(EXE)
        .args(["action", "dns-update", "--server", &server, "--key"])
        .arg(&wrong)
        .args(["www.tandem.test", "192.0.2.66"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("BADSIG"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert_eq!(lookup(&n).as_deref(), Some("192.0.2.10"));
}

#[test]
fn a_failover_points_the_name_at_the_survivor() {
    if skip("a_failover_points_the_name_at_the_survivor") {
        return;
    }
    let n = named();
    let tmp = tempfile::Builder::new()
        .prefix("tandem-ddns-")
        .tempdir()
        .expect("tempdir");
    let mut pair = Pair::new(tmp.path(), Path::new(EXE), &FAST, "").expect("pair");
    // Each node names its own address (as the two nodes' files would).
    for (i, ip) in ["192.0.2.1", "192.0.2.2"].iter().enumerate() {
        let path = pair.config_dir(i).join("haresources");
        let text = std::fs::read_to_string(&path).expect("haresources");
        let dyn_dns = format!(
            " DynDNS::www.tandem.test::{ip}::127.0.0.1:{}::{}",
            n.port,
            n.key.display()
        );
        std::fs::write(&path, text.replace('\n', &format!("{dyn_dns}\n"))).expect("write");
    }
    pair.start(0).expect("start alpha");
    pair.start(1).expect("start beta");
    let on_alpha = wait_for(Duration::from_secs(20), || {
        lookup(&n).as_deref() == Some("192.0.2.1")
    });
    assert!(on_alpha, "{}", n.log());
    pair.crash(0);
    let on_beta = wait_for(Duration::from_secs(20), || {
        lookup(&n).as_deref() == Some("192.0.2.2")
    });
    assert!(on_beta, "{}", n.log());
}
