//! The director's cost at scale: 1,000 real servers, each an HTTP
//! negotiate check (request, status line, `receive` matched in the body)
//! every second against nginx, measured as CPU (share of one core) and
//! resident memory of `tandem director`. Everything runs in a network
//! namespace made for the run: nginx listens on port 8080 of the whole
//! loopback network, and the real servers are 1,000 loopback addresses
//! (127.1.0.1 …). `--checks-only`: this kernel has no IPVS, and the
//! programming cost is a netlink message per verdict change, not per
//! check.
//!
//!     cargo bench --bench director                 # 60 s measured
//!     cargo bench --bench director -- --seconds 10 --no-ldirectord  # bench/run --quick
//!
//! Goal (issue 7): ≤ 5 % of one core, ≤ 20 MiB. Needs root and nginx.
//! CPU is reported as user and kernel time: on loopback the kernel runs
//! the servers' half of each TCP handshake in the director's context, so
//! the kernel share is more than a director on a real network pays.
//! nginx logs one short line per request, which counts the checks.
//! When Debian's ldirectord is installed, it checks the same farm next
//! (its ipvsadm calls fail on a kernel without IPVS; its checks run).

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SERVERS: u32 = 1000;

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

struct Netns(String);

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        // nginx's master stops its workers on SIGTERM.
        let _ = Command::new("kill").arg(self.0.id().to_string()).status();
        std::thread::sleep(Duration::from_millis(300));
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// (utime, stime, cutime + cstime) of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> (u64, u64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let field = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    (field(11), field(12), field(13) + field(14))
}

fn status_kib(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn up_count(j: &serde_json::Value) -> usize {
    j["virtuals"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|v| v["reals"].as_array().into_iter().flatten())
        .filter(|r| r["state"] == "up")
        .count()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seconds: u64 = args
        .iter()
        .position(|a| a == "--seconds")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    if !nix_is_root() {
        eprintln!("director bench: needs root (a network namespace, nginx); skipped");
        return;
    }
    if !Path::new("/usr/sbin/nginx").exists() {
        eprintln!("director bench: needs nginx (tests/setup installs nginx-light); skipped");
        return;
    }
    let tmp = tempfile::Builder::new()
        .prefix("tandem-director-bench-")
        .tempdir()
        .unwrap();
    let dir = tmp.path();
    let ns = Netns(format!("tandem-dbench-{}", std::process::id()));
    run(Command::new("ip").args(["netns", "add", &ns.0]));
    run(Command::new("ip").args(["-n", &ns.0, "link", "set", "lo", "up"]));
    std::fs::create_dir_all(dir.join("www")).unwrap();
    std::fs::write(
        dir.join("www/health.html"),
        "<html><body>server healthy</body></html>\n",
    )
    .unwrap();
    let p = dir.display();
    std::fs::write(
        dir.join("nginx.conf"),
        format!(
            "user root; daemon off; worker_processes 1; pid {p}/nginx.pid; error_log {p}/error.log;\n\
             events {{ worker_connections 4096; }}\n\
             http {{ log_format one \"c\"; access_log {p}/access.log one;\n\
               client_body_temp_path {p}/b; proxy_temp_path {p}/p;\n\
               fastcgi_temp_path {p}/f; uwsgi_temp_path {p}/u; scgi_temp_path {p}/s;\n\
               server {{ listen 8080 backlog=4096; root {p}/www; }} }}\n"
        ),
    )
    .unwrap();
    let _nginx = Kill(
        Command::new("ip")
            .args(["netns", "exec", &ns.0, "/usr/sbin/nginx", "-c"])
            .arg(dir.join("nginx.conf"))
            .arg("-p")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let farm = |extra: &str| -> String {
        let mut cf = format!(
            "checkinterval=1\nchecktimeout=1\nfailurecount=3\nquiescent=yes\n{extra}virtual=192.0.2.10:80\n"
        );
        for i in 0..SERVERS {
            cf.push_str(&format!(
                "\treal=127.1.{}.{}:8080 masq\n",
                i / 250,
                i % 250 + 1
            ));
        }
        cf.push_str(
            "\tservice=http\n\tchecktype=negotiate\n\trequest=\"/health.html\"\n\treceive=\"healthy\"\n",
        );
        cf
    };
    std::fs::write(dir.join("ldirectord.cf"), farm("")).unwrap();
    let socket = dir.join("director.sock");
    let exe = env!("CARGO_BIN_EXE_tandem");
    let director = Kill(
        Command::new("ip")
            .args([
                "netns",
                "exec",
                &ns.0,
                exe,
                "director",
                "--checks-only",
                "-c",
            ])
            .arg(dir.join("ldirectord.cf"))
            .arg("--socket")
            .arg(&socket)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let pid = director.0.id();
    // Every server up before measuring.
    let t = Instant::now();
    loop {
        if common::director_status(&socket).map(|j| up_count(&j)) == Some(SERVERS as usize) {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "not all {SERVERS} servers came up: {:?}",
            common::director_status(&socket).map(|j| up_count(&j))
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(3));
    let m = measure(pid, seconds, &dir.join("access.log"));
    let up = common::director_status(&socket)
        .as_ref()
        .map(up_count)
        .unwrap_or(0);
    println!(
        "director: {SERVERS} real servers, HTTP negotiate checks every 1 s, {seconds} s measured"
    );
    println!("tandem director:");
    m.print();
    println!("  servers up at the end: {up}");
    println!("  goals: <= 5 % of one core, <= 20 MiB");
    println!("  (on loopback the kernel time includes the real servers' side of every TCP");
    println!("  handshake and close, run in the checker's softirq context)");
    assert_eq!(up, SERVERS as usize, "servers went down during the run");
    drop(director);

    // ldirectord (Debian's) on the same farm, when installed. This kernel
    // has no IPVS: its ipvsadm calls fail at once, and it checks on.
    if args.iter().any(|a| a == "--no-ldirectord") {
        println!("ldirectord: left out (--no-ldirectord)");
    } else if Path::new("/usr/sbin/ldirectord").exists() {
        let cf = dir.join("ldirectord-perl.cf");
        let log = dir.join("ldirectord.log");
        std::fs::write(
            &cf,
            farm(&format!("supervised=yes\nlogfile=\"{}\"\n", log.display())),
        )
        .unwrap();
        let ld = Kill(
            Command::new("ip")
                .args(["netns", "exec", &ns.0, "/usr/sbin/ldirectord"])
                .arg(&cf)
                .arg("start")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        // It first adds every server with one ipvsadm process each; its
        // checks start after that. Measure once nginx sees them steadily.
        let access = dir.join("access.log");
        let len = || std::fs::metadata(&access).map(|m| m.len()).unwrap_or(0);
        let started = Instant::now();
        let mut steady = 0;
        let mut last = len();
        while steady < 5 && started.elapsed() < Duration::from_secs(240) {
            std::thread::sleep(Duration::from_secs(1));
            let now = len();
            steady = if now > last { steady + 1 } else { 0 };
            last = now;
        }
        println!("ldirectord (Debian's, Perl; its ipvsadm calls fail on this kernel):");
        if steady < 5 {
            println!("  never checked steadily within 240 s");
        } else {
            println!("  checking after {:.0} s", started.elapsed().as_secs_f64());
            measure(ld.0.id(), seconds, &access).print();
        }
    } else {
        println!("ldirectord: not installed (apt install ldirectord to compare)");
    }
}

struct Measured {
    user: f64,
    system: f64,
    children: f64,
    rss: f64,
    hwm: f64,
    requests: f64,
}

impl Measured {
    fn print(&self) {
        let total = self.user + self.system + self.children;
        println!(
            "  HTTP checks per second (nginx's access log): {:.0}",
            self.requests
        );
        println!(
            "  CPU: {total:.2} % of one core: user {:.2} %, kernel {:.2} %, child processes {:.2} %",
            self.user, self.system, self.children
        );
        if self.requests > 0.0 {
            println!(
                "  CPU per check: {:.0} us",
                total / 100.0 / self.requests * 1e6
            );
        }
        println!("  RSS: {:.1} MiB, peak {:.1} MiB", self.rss, self.hwm);
    }
}

/// CPU of `pid` (and its reaped children), its memory, and the requests
/// nginx logged, over `seconds`.
fn measure(pid: u32, seconds: u64, access_log: &Path) -> Measured {
    let len = || std::fs::metadata(access_log).map(|m| m.len()).unwrap_or(0);
    let c0 = cpu_ticks(pid);
    let l0 = len();
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs(seconds));
    let c1 = cpu_ticks(pid);
    let l1 = len();
    let elapsed = t0.elapsed().as_secs_f64();
    let share = |ticks: u64| ticks as f64 / 100.0 / elapsed * 100.0; // USER_HZ
    Measured {
        user: share(c1.0 - c0.0),
        system: share(c1.1 - c0.1),
        children: share(c1.2 - c0.2),
        rss: status_kib(pid, "VmRSS:") as f64 / 1024.0,
        hwm: status_kib(pid, "VmHWM:") as f64 / 1024.0,
        // One line per request: "c\n".
        requests: (l1 - l0) as f64 / 2.0 / elapsed,
    }
}

fn nix_is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    #[allow(unsafe_code)]
    unsafe {
        libc::geteuid() == 0
    }
}
