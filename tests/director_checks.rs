//! The director's health checks against real servers from Debian
//! packages, each started by the test in the foreground from a temporary
//! configuration on a loopback address of its own: nginx (HTTP, HTTPS with
//! a test certificate), vsftpd (FTP), dovecot (IMAP, IMAPS, POP, POPS),
//! exim4 (SMTP), slapd (LDAP), BIND 9 (DNS over UDP and TCP), plus an
//! external check command. NNTP runs against a scripted peer: Debian's
//! INN (inn2) fails to install on a host whose name does not resolve to
//! an FQDN, which is most test hosts.
//!
//! `tandem director --checks-only` (this kernel has no IPVS) checks them
//! all every second with failurecount 2; each server must be up, go down
//! within checkinterval × failurecount (+ the check timeout) of being
//! stopped or of answering wrongly, and come back when it does.
//! Needs root (servers on privileged ports, installed by tests/setup).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const INTERVAL: u64 = 1;
const FAILURECOUNT: u64 = 2;
const TIMEOUT: u64 = 2;

/// The network namespace everything runs in: its loopback holds the
/// servers' addresses (servers that list interfaces, as named, dovecot
/// and exim do, only listen on configured ones). Removed on drop.
struct Netns(String);

impl Netns {
    fn new() -> Netns {
        let name = format!("tandem-checks-{}", std::process::id());
        run(Command::new("ip").args(["netns", "add", &name]));
        let ns = Netns(name);
        run(Command::new("ip").args(["-n", &ns.0, "link", "set", "lo", "up"]));
        for i in 1..=8 {
            run(Command::new("ip")
                .args(["-n", &ns.0, "addr", "add"])
                .arg(format!("127.0.77.{i}/32"))
                .args(["dev", "lo"]));
        }
        ns
    }

    /// `program` run inside the namespace.
    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.0]).arg(program);
        c
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

/// A server the test runs: how to start it, stopped on drop.
struct Server {
    name: &'static str,
    start: Box<dyn Fn() -> Child>,
    child: Option<Child>,
}

impl Server {
    /// Starts the server; again if it exits at once (a restarted
    /// dovecot finds its old login processes still holding the ports for
    /// a moment).
    fn up(&mut self) {
        for _ in 0..20 {
            let mut c = (self.start)();
            std::thread::sleep(Duration::from_millis(300));
            if let Ok(None) = c.try_wait() {
                self.child = Some(c);
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("{} does not start", self.name);
    }

    /// SIGTERM, as an operator stops a server (a master process killed
    /// outright would leave its workers holding the sockets), then
    /// SIGKILL if it lingers.
    fn down(&mut self) {
        let Some(mut c) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill").arg(c.id().to_string()).status();
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = c.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = c.kill();
        let _ = c.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.down();
    }
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Starts a server, its output appended to `log` (shown when it fails).
fn quiet(cmd: &mut Command, log: &Path) -> Child {
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap_or_else(|e| panic!("{}: {e}", log.display()));
    let err = out.try_clone().unwrap();
    cmd.stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"))
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// service name → (state, last error) for every real server.
fn states(socket: &Path) -> BTreeMap<String, (String, String)> {
    let mut out = BTreeMap::new();
    if let Some(j) = common::director_status(socket) {
        for v in j["virtuals"].as_array().into_iter().flatten() {
            for r in v["reals"].as_array().into_iter().flatten() {
                out.insert(
                    v["service"].as_str().unwrap_or("").to_string(),
                    (
                        r["state"].as_str().unwrap_or("").to_string(),
                        r["last_error"].as_str().unwrap_or("").to_string(),
                    ),
                );
            }
        }
    }
    out
}

fn wait_state(socket: &Path, service: &str, want: &str, within: Duration) -> Duration {
    let t = Instant::now();
    loop {
        let s = states(socket);
        if s.get(service).map(|(st, _)| st.as_str()) == Some(want) {
            return t.elapsed();
        }
        assert!(
            t.elapsed() < within,
            "{service} not {want} within {within:?}: {:?}",
            s.get(service)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn missing() -> Option<String> {
    for (path, package) in [
        ("/usr/sbin/nginx", "nginx-light"),
        ("/usr/sbin/vsftpd", "vsftpd"),
        ("/usr/sbin/dovecot", "dovecot-imapd, dovecot-pop3d"),
        ("/usr/lib/dovecot/pop3", "dovecot-pop3d"),
        ("/usr/sbin/exim4", "exim4-daemon-light"),
        ("/usr/sbin/slapd", "slapd"),
        ("/usr/sbin/slapadd", "slapd"),
        ("/usr/sbin/named", "bind9"),
        ("/usr/bin/openssl", "openssl"),
    ] {
        if !Path::new(path).exists() {
            return Some(format!("needs {package} (tests/setup installs it as root)"));
        }
    }
    None
}

/// A self-signed certificate and key for the TLS servers.
fn certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    run(Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "2", "-subj", "/CN=tandem-test"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert));
    (cert, key)
}

fn nginx(ns: &Arc<Netns>, dir: &Path, cert: &Path, key: &Path) -> Server {
    let ns = ns.clone();
    let d = dir.join("nginx");
    std::fs::create_dir_all(d.join("www")).unwrap();
    write(&d.join("www/index.html"), "tandem test page: healthy\n");
    let conf = d.join("nginx.conf");
    write(
        &conf,
        &format!(
            "user root; daemon off; pid {p}/nginx.pid; error_log {p}/error.log;\n\
             events {{ worker_connections 64; }}\n\
             http {{ access_log off;\n\
               client_body_temp_path {p}/b; proxy_temp_path {p}/p; fastcgi_temp_path {p}/f;\n\
               uwsgi_temp_path {p}/u; scgi_temp_path {p}/s;\n\
               server {{ listen 127.0.77.1:80; listen 127.0.77.1:443 ssl;\n\
                 ssl_certificate {c}; ssl_certificate_key {k}; root {p}/www; }} }}\n",
            p = d.display(),
            c = cert.display(),
            k = key.display()
        ),
    );
    let log = dir.join("server.log");
    Server {
        name: "nginx",
        start: Box::new(move || {
            quiet(
                ns.command("/usr/sbin/nginx")
                    .arg("-c")
                    .arg(&conf)
                    .arg("-p")
                    .arg(&d),
                &log,
            )
        }),
        child: None,
    }
}

fn vsftpd(ns: &Arc<Netns>, dir: &Path) -> Server {
    let ns = ns.clone();
    let d = dir.join("vsftpd");
    std::fs::create_dir_all(d.join("empty")).unwrap();
    std::fs::create_dir_all(d.join("ftp")).unwrap();
    let conf = d.join("vsftpd.conf");
    write(
        &conf,
        &format!(
            "listen=YES\nlisten_ipv6=NO\nlisten_address=127.0.77.2\nlisten_port=21\n\
             background=NO\nanonymous_enable=YES\nlocal_enable=NO\nwrite_enable=NO\n\
             anon_root={p}/ftp\nsecure_chroot_dir={p}/empty\nxferlog_enable=NO\n\
             seccomp_sandbox=NO\nvsftpd_log_file={p}/log\n",
            p = d.display()
        ),
    );
    let log = dir.join("server.log");
    Server {
        name: "vsftpd",
        start: Box::new(move || quiet(ns.command("/usr/sbin/vsftpd").arg(&conf), &log)),
        child: None,
    }
}

fn dovecot(ns: &Arc<Netns>, dir: &Path, cert: &Path, key: &Path) -> Server {
    let ns = ns.clone();
    let d = dir.join("dovecot");
    std::fs::create_dir_all(d.join("run")).unwrap();
    std::fs::create_dir_all(d.join("mail")).unwrap();
    // The mail user (nobody) makes its maildir there when POP logs in.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(d.join("mail"), std::fs::Permissions::from_mode(0o1777)).unwrap();
    let conf = d.join("dovecot.conf");
    write(
        &conf,
        &format!(
            "base_dir = {p}/run\nstate_dir = {p}/state\nlog_path = {p}/log\n\
             protocols = imap pop3\nlisten = 127.0.77.3\n\
             ssl = yes\nssl_cert = <{c}\nssl_key = <{k}\n\
             mail_location = maildir:{p}/mail/%u\n\
             passdb {{\n  driver = static\n  args = password=tandem-secret\n}}\n\
             userdb {{\n  driver = static\n  args = uid=nobody gid=nogroup home={p}/mail/%u\n}}\n\
             service imap-login {{\n  inet_listener imap {{\n    port = 143\n  }}\n  inet_listener imaps {{\n    port = 993\n    ssl = yes\n  }}\n}}\n\
             service pop3-login {{\n  inet_listener pop3 {{\n    port = 110\n  }}\n  inet_listener pop3s {{\n    port = 995\n    ssl = yes\n  }}\n}}\n",
            p = d.display(),
            c = cert.display(),
            k = key.display()
        ),
    );
    let log = dir.join("server.log");
    Server {
        name: "dovecot",
        start: Box::new(move || {
            quiet(
                ns.command("/usr/sbin/dovecot")
                    .arg("-F")
                    .arg("-c")
                    .arg(&conf),
                &log,
            )
        }),
        child: None,
    }
}

fn exim(ns: &Arc<Netns>, dir: &Path) -> Server {
    let ns = ns.clone();
    let d = dir.join("exim");
    std::fs::create_dir_all(&d).unwrap();
    let pid = d.join("exim.pid");
    let log = dir.join("server.log");
    Server {
        name: "exim4",
        start: Box::new(move || {
            quiet(
                ns.command("/usr/sbin/exim4")
                    .args(["-bdf", "-oX", "127.0.77.4.25"])
                    .arg("-oP")
                    .arg(&pid),
                &log,
            )
        }),
        child: None,
    }
}

fn slapd(ns: &Arc<Netns>, dir: &Path) -> Server {
    let ns = ns.clone();
    let d = dir.join("slapd");
    std::fs::create_dir_all(d.join("db")).unwrap();
    let conf = d.join("slapd.conf");
    write(
        &conf,
        &format!(
            "include /etc/ldap/schema/core.schema\npidfile {p}/slapd.pid\n\
             modulepath /usr/lib/ldap\nmoduleload back_mdb\n\
             database mdb\nsuffix \"dc=example,dc=org\"\n\
             rootdn \"cn=admin,dc=example,dc=org\"\nrootpw tandem-secret\ndirectory {p}/db\n",
            p = d.display()
        ),
    );
    let ldif = d.join("base.ldif");
    write(
        &ldif,
        "dn: dc=example,dc=org\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Tandem Test\n",
    );
    run(Command::new("/usr/sbin/slapadd")
        .arg("-f")
        .arg(&conf)
        .arg("-l")
        .arg(&ldif));
    let log = dir.join("server.log");
    Server {
        name: "slapd",
        start: Box::new(move || {
            quiet(
                ns.command("/usr/sbin/slapd")
                    .args(["-d", "0", "-h", "ldap://127.0.77.5:389/"])
                    .arg("-f")
                    .arg(&conf),
                &log,
            )
        }),
        child: None,
    }
}

fn named(ns: &Arc<Netns>, dir: &Path) -> Server {
    let ns = ns.clone();
    let d = dir.join("named");
    std::fs::create_dir_all(&d).unwrap();
    write(
        &d.join("example.org.zone"),
        "$TTL 60\n@ IN SOA ns.example.org. admin.example.org. 1 60 60 600 60\n\
         @ IN NS ns.example.org.\nns IN A 192.0.2.53\nwww IN A 192.0.2.5\n",
    );
    let conf = d.join("named.conf");
    write(
        &conf,
        &format!(
            "options {{ directory \"{p}\"; listen-on port 53 {{ 127.0.77.6; }}; listen-on-v6 {{ none; }};\n\
             pid-file \"{p}/named.pid\"; recursion no; dnssec-validation no; }};\n\
             zone \"example.org\" {{ type primary; file \"{p}/example.org.zone\"; }};\n",
            p = d.display()
        ),
    );
    let log = dir.join("server.log");
    Server {
        name: "named",
        start: Box::new(move || {
            quiet(
                ns.command("/usr/sbin/named")
                    .args(["-g", "-4"])
                    .arg("-c")
                    .arg(&conf),
                &log,
            )
        }),
        child: None,
    }
}

/// An NNTP server's opening and closing, scripted (see the module note).
fn nntp(ns: &Arc<Netns>, dir: &Path) -> Server {
    let ns = ns.clone();
    let script = dir.join("nntp.py");
    write(
        &script,
        "import socket\n\
         s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
         s.bind(('127.0.77.7', 119)); s.listen(16)\n\
         while True:\n\
         \x20   c, _ = s.accept()\n\
         \x20   c.sendall(b'200 tandem-test news server ready, posting allowed\\r\\n')\n\
         \x20   f = c.makefile('rb')\n\
         \x20   for line in f:\n\
         \x20       if line.strip().upper() == b'QUIT':\n\
         \x20           c.sendall(b'205 closing connection\\r\\n'); break\n\
         \x20       c.sendall(b'500 unknown command\\r\\n')\n\
         \x20   f.close(); c.close()\n",
    );
    let log = dir.join("server.log");
    Server {
        name: "nntp peer",
        start: Box::new(move || quiet(ns.command("python3").arg(&script), &log)),
        child: None,
    }
}

/// One virtual service per check, each with the one real server.
fn config(dir: &Path) -> String {
    let flag = dir.join("external-up");
    let check = dir.join("check.sh");
    write(
        &check,
        &format!(
            "#!/bin/sh\necho \"$@\" > {d}/external-args\n[ -e {f} ]\n",
            d = dir.display(),
            f = flag.display()
        ),
    );
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&check, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut c = format!(
        "checkinterval={INTERVAL}\nchecktimeout={TIMEOUT}\nfailurecount={FAILURECOUNT}\nquiescent=yes\n"
    );
    let mut virtual_ = |port: u16, real: &str, lines: &[&str]| {
        c.push_str(&format!("virtual=192.0.2.10:{port}\n\treal={real} gate\n"));
        for l in lines {
            c.push_str(&format!("\t{l}\n"));
        }
    };
    virtual_(
        80,
        "127.0.77.1:80",
        &[
            "service=http",
            "checktype=negotiate",
            "request=\"/index.html\"",
            "receive=\"healthy\"",
        ],
    );
    virtual_(
        443,
        "127.0.77.1:443",
        &[
            "service=https",
            "checktype=negotiate",
            "request=\"/index.html\"",
            "receive=\"healthy\"",
            "virtualhost=www.example.org",
        ],
    );
    virtual_(21, "127.0.77.2:21", &["service=ftp", "checktype=negotiate"]);
    virtual_(
        143,
        "127.0.77.3:143",
        &[
            "service=imap",
            "checktype=negotiate",
            "login=\"tester\"",
            "passwd=\"tandem-secret\"",
        ],
    );
    virtual_(
        993,
        "127.0.77.3:993",
        &["service=imaps", "checktype=negotiate"],
    );
    virtual_(
        110,
        "127.0.77.3:110",
        &[
            "service=pop",
            "checktype=negotiate",
            "login=\"tester\"",
            "passwd=\"tandem-secret\"",
        ],
    );
    virtual_(
        995,
        "127.0.77.3:995",
        &["service=pops", "checktype=negotiate"],
    );
    virtual_(
        25,
        "127.0.77.4:25",
        &["service=smtp", "checktype=negotiate"],
    );
    virtual_(
        389,
        "127.0.77.5:389",
        &[
            "service=ldap",
            "checktype=negotiate",
            "request=\"dc=example,dc=org\"",
            "receive=\"o: Tandem Test\"",
        ],
    );
    virtual_(
        53,
        "127.0.77.6:53",
        &[
            "service=dns",
            "checktype=negotiate",
            "request=\"www.example.org\"",
            "receive=\"^192\\.0\\.2\\.5$\"",
        ],
    );
    c.push_str("virtual=192.0.2.10:53\n\treal=127.0.77.6:53 gate\n\tprotocol=udp\n\tservice=dns\n\tchecktype=negotiate\n\trequest=\"www.example.org\"\n\treceive=\"^192\\.0\\.2\\.5$\"\n");
    c.push_str("virtual=192.0.2.10:119\n\treal=127.0.77.7:119 gate\n\tservice=nntp\n\tchecktype=negotiate\n");
    c.push_str(&format!(
        "virtual=192.0.2.10:8080\n\treal=127.0.77.8:8080 gate\n\tchecktype=external\n\tcheckcommand=\"{}\"\n",
        check.display()
    ));
    c.push_str("virtual=192.0.2.10:8081\n\treal=127.0.77.1:8081 gate\n\tchecktype=connect\n\tcheckport=80\n");
    c
}

#[test]
fn every_check_against_real_servers() {
    let test = "every_check_against_real_servers";
    if !common::is_root() {
        common::skip(test, "needs root (servers on privileged ports)");
        return;
    }
    if let Some(why) = missing() {
        common::skip(test, &why);
        return;
    }
    let tmp = tempfile::Builder::new()
        .disable_cleanup(std::env::var_os("TANDEM_KEEP").is_some())
        .prefix("tandem-checks-")
        .tempdir()
        .unwrap();
    let dir = tmp.path();
    // Servers that drop privileges must reach their files.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (cert, key) = certificate(dir);
    let ns = Arc::new(Netns::new());
    let mut servers = vec![
        nginx(&ns, dir, &cert, &key),
        vsftpd(&ns, dir),
        dovecot(&ns, dir, &cert, &key),
        exim(&ns, dir),
        slapd(&ns, dir),
        named(&ns, dir),
        nntp(&ns, dir),
    ];
    for s in &mut servers {
        s.up();
    }
    write(&dir.join("external-up"), "");
    let cf = dir.join("ldirectord.cf");
    write(&cf, &config(dir));
    let socket = dir.join("director.sock");
    let log = std::fs::File::create(dir.join("director.log")).unwrap();
    let mut director = ns
        .command(common::EXE)
        .arg("director")
        .arg("-c")
        .arg(&cf)
        .arg("--checks-only")
        .arg("--socket")
        .arg(&socket)
        .stderr(log)
        .spawn()
        .unwrap();
    struct Kill<'a>(&'a mut Child);
    impl Drop for Kill<'_> {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let director = Kill(&mut director);
    let log = || std::fs::read_to_string(dir.join("director.log")).unwrap_or_default();

    // Everything up (servers take a moment to listen).
    let t = Instant::now();
    loop {
        let s = states(&socket);
        if s.len() == 14 && s.values().all(|(st, _)| st == "up") {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(30) && matches!(director.0.try_wait(), Ok(None)),
            "not all up: {s:#?}\n{}\nservers:\n{}",
            log(),
            std::fs::read_to_string(dir.join("server.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let args = std::fs::read_to_string(dir.join("external-args")).unwrap();
    assert_eq!(args.trim(), "192.0.2.10 8080 127.0.77.8 8080");

    // Down within checkinterval × failurecount (+ one check's timeout and
    // the start of the round), back within one interval.
    let down_within = Duration::from_secs(INTERVAL * FAILURECOUNT + TIMEOUT + 1);
    let up_within = Duration::from_secs(INTERVAL + TIMEOUT + 3);
    let mut report = Vec::new();
    let by_server: [(&str, &[&str]); 7] = [
        (
            "nginx",
            &[
                "TCP 192.0.2.10:80",
                "TCP 192.0.2.10:443",
                "TCP 192.0.2.10:8081",
            ],
        ),
        ("vsftpd", &["TCP 192.0.2.10:21"]),
        (
            "dovecot",
            &[
                "TCP 192.0.2.10:143",
                "TCP 192.0.2.10:993",
                "TCP 192.0.2.10:110",
                "TCP 192.0.2.10:995",
            ],
        ),
        ("exim4", &["TCP 192.0.2.10:25"]),
        ("slapd", &["TCP 192.0.2.10:389"]),
        ("named", &["TCP 192.0.2.10:53", "UDP 192.0.2.10:53"]),
        ("nntp peer", &["TCP 192.0.2.10:119"]),
    ];
    for (name, services) in by_server {
        let s = servers.iter_mut().find(|s| s.name == name).unwrap();
        s.down();
        for svc in services {
            let took = wait_state(&socket, svc, "down", down_within);
            report.push(format!(
                "{svc} ({name}) down after {took:?}: {}",
                states(&socket)[*svc].1
            ));
        }
        s.up();
        for svc in services {
            let took = wait_state(&socket, svc, "up", up_within);
            report.push(format!("{svc} ({name}) up again after {took:?}"));
        }
    }
    // Answering wrongly: the page loses the text `receive` asks for.
    let page = dir.join("nginx/www/index.html");
    write(&page, "tandem test page: broken\n");
    let took = wait_state(&socket, "TCP 192.0.2.10:80", "down", down_within);
    let error = states(&socket)["TCP 192.0.2.10:80"].1.clone();
    assert!(error.contains("healthy"), "{error}");
    report.push(format!("HTTP wrong answer: down after {took:?}: {error}"));
    write(&page, "tandem test page: healthy\n");
    wait_state(&socket, "TCP 192.0.2.10:80", "up", up_within);
    // The external command says down.
    std::fs::remove_file(dir.join("external-up")).unwrap();
    let took = wait_state(&socket, "TCP 192.0.2.10:8080", "down", down_within);
    report.push(format!("external: down after {took:?}"));
    write(&dir.join("external-up"), "");
    wait_state(&socket, "TCP 192.0.2.10:8080", "up", up_within);
    // Every verdict change was logged with its reason.
    let l = log();
    assert!(
        l.contains("real server 127.0.77.5:389 of TCP 192.0.2.10:389 (negotiate ldap) is down: "),
        "{l}"
    );
    assert!(l.contains("checks only: nothing is programmed"), "{l}");
    eprintln!("{}", report.join("\n"));
}
