//! tandem beside Heartbeat 3.0.6, keepalived, and Pacemaker 2.1 +
//! Corosync 3.1 running tandem's export of the same pair (not in the
//! `--quick` run), measured in one run on this machine, each as a pair in network namespaces it creates on a
//! bridged segment (TEST-NET addresses), holding VIP 192.0.2.100 that a
//! client namespace connects to:
//!
//! - failover: kill -9 of the active daemon (its interface then goes
//!   down: the node is dead) and graceful stop → the first gratuitous ARP
//!   for the VIP from the survivor seen by the client, and → the client's
//!   first TCP connect answered by the survivor; at common timings and at
//!   each daemon's fastest;
//! - footprint of an idle pair at common timings: processes, RSS and PSS,
//!   CPU, packets and bytes per second on the link;
//! - soak: the fastest timings, both cores busy, packets dropped at random
//!   on one link (nftables in the receiving namespaces: this kernel has no
//!   netem): takeovers nobody asked for;
//! - Pacemaker's fastest timing: the shortest Corosync token of a bounded
//!   list that holds a soak alone at the lowest loss level (no owner
//!   change), searched first; its
//!   common timing is Corosync's default token (3000 ms).
//!
//! Commands:
//!
//!     bench/run                         # everything (~50 min), writes target/bench/peers.md
//!     bench/run --quick                 # CI: 2 runs, 5 s idle, 20 s soak
//!     cargo bench --bench peers -- --runs 5 --only tandem,keepalived --skip soak
//!
//! Needs root, iproute2, nftables, Debian's heartbeat and keepalived.

#[path = "../../tests/common/mod.rs"]
mod common;
mod contender;
mod methods;

use common::vip;
use common::NAMES;
use contender::{contender, Contender, Kind, Timing};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Common,
    Fastest,
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Level::Common => "common",
            Level::Fastest => "fastest",
        }
    }
}

/// Corosync 3's default token.
const TOKEN_DEFAULT: u32 = 3000;
/// The tokens tried for Pacemaker's fastest timing, shortest first.
const TOKENS: [u32; 5] = [250, 500, 1000, 2000, TOKEN_DEFAULT];

fn timing(o: &Opts, kind: Kind, level: Level) -> Timing {
    let t = |keepalive, warntime, deadtime, initdead, settle| Timing {
        keepalive,
        warntime,
        deadtime,
        initdead,
        advert: "1",
        vrrp: 2,
        token: TOKEN_DEFAULT,
        settle: Duration::from_millis(settle),
    };
    match (kind, level) {
        (Kind::Pacemaker, Level::Common) => t("1", "2", "3", "6", 3000),
        (Kind::Pacemaker, Level::Fastest) => Timing {
            token: o.token,
            ..t("1", "2", "3", "6", 3000)
        },
        (Kind::Keepalived, Level::Common) => t("", "", "", "", 2000),
        (Kind::Keepalived, Level::Fastest) => Timing {
            advert: "0.01",
            vrrp: 3,
            ..t("", "", "", "", 500)
        },
        (_, Level::Common) => t("1", "2", "3", "6", 2000),
        (Kind::Tandem, Level::Fastest) => t("2ms", "6ms", "10ms", "200ms", 500),
        (Kind::Heartbeat, Level::Fastest) => t("10ms", "30ms", "50ms", "1", 1000),
    }
}

/// What each daemon is told at a level, for the report.
fn describe(kind: Kind, t: &Timing) -> String {
    match kind {
        Kind::Keepalived => format!("advert_int {} (VRRPv{})", t.advert, t.vrrp),
        Kind::Pacemaker if t.token == TOKEN_DEFAULT => format!("token {} ms (default)", t.token),
        Kind::Pacemaker => format!("token {} ms", t.token),
        _ => format!("keepalive {} / deadtime {}", t.keepalive, t.deadtime),
    }
}

struct Opts {
    runs: usize,
    idle: u64,
    soak: u64,
    loss: Vec<u32>,
    kinds: Vec<Kind>,
    skip: Vec<String>,
    out: PathBuf,
    /// Pacemaker's fastest token (set by the search).
    token: u32,
}

fn opts() -> Opts {
    let mut o = Opts {
        runs: 20,
        idle: 60,
        soak: 600,
        loss: vec![5, 20],
        kinds: Kind::ALL.to_vec(),
        skip: Vec::new(),
        out: PathBuf::from("target/bench/peers.md"),
        token: TOKEN_DEFAULT,
    };
    let mut quick = false;
    let mut only = false;
    let args: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < args.len() {
        let val = args.get(i + 1).cloned().unwrap_or_default();
        let num = val.parse::<u64>().ok();
        match args[i].as_str() {
            "--quick" => {
                quick = true;
                o.runs = 2;
                o.idle = 5;
                o.soak = 20;
                o.loss = vec![20];
            }
            "--runs" => o.runs = num.unwrap_or(o.runs as u64) as usize,
            "--idle" => o.idle = num.unwrap_or(o.idle),
            "--soak" => o.soak = num.unwrap_or(o.soak),
            "--loss" => o.loss = val.split(',').filter_map(|v| v.parse().ok()).collect(),
            "--out" => o.out = PathBuf::from(val),
            "--skip" => o.skip = val.split(',').map(str::to_string).collect(),
            "--only" => {
                only = true;
                o.kinds = Kind::ALL
                    .into_iter()
                    .filter(|k| {
                        val.split(',')
                            .any(|v| k.name().to_lowercase().starts_with(v))
                    })
                    .collect()
            }
            _ => {}
        }
        i += 1;
    }
    if quick && !only {
        // CI's run: a Pacemaker cluster forms in half a minute a pair.
        o.kinds.retain(|&k| k != Kind::Pacemaker);
    }
    o
}

/// min / median / p95 / max of a sample, in milliseconds.
#[derive(Clone, Default)]
struct Stats(Vec<f64>);

impl Stats {
    fn q(&self, q: f64) -> Option<f64> {
        let mut v = self.0.clone();
        v.sort_by(|a, b| a.total_cmp(b));
        let last = v.len().checked_sub(1)?;
        Some(v[((last as f64) * q).round() as usize])
    }
    fn median(&self) -> Option<f64> {
        self.q(0.5)
    }
    fn cells(&self) -> String {
        let f = |q| self.q(q).map_or("–".to_string(), ms);
        format!("{} | {} | {} | {}", f(0.0), f(0.5), f(0.95), f(1.0))
    }
}

fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0} ms")
    } else {
        format!("{v:.1} ms")
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Kill,
    Stop,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Kill => "kill -9",
            Mode::Stop => "graceful stop",
        }
    }
}

struct FailoverRow {
    level: Level,
    kind: Kind,
    timing: String,
    mode: Mode,
    garp: Stats,
    reach: Stats,
}

struct Footprint {
    kind: Kind,
    processes: usize,
    rss_kib: u64,
    pss_kib: u64,
    cpu_pct: f64,
    packets_s: f64,
    bytes_s: f64,
}

struct SoakRow {
    kind: Kind,
    links: usize,
    loss: u32,
    dropped: u64,
    takeovers: usize,
    changes: usize,
    both_s: f64,
}

/// Everything measured, and what went wrong.
#[derive(Default)]
struct Report {
    failover: Vec<FailoverRow>,
    footprint: Vec<Footprint>,
    soak: Vec<SoakRow>,
    /// Takeover methods on tandem: (method, runs' TCP connect times).
    methods: Vec<(String, Stats)>,
    /// Pacemaker's token search: (token, its soak).
    tokens: Vec<(u32, SoakRow)>,
    errors: Vec<String>,
}

fn wait(timeout: Duration, cond: impl FnMut() -> bool) -> bool {
    common::wait_for(timeout, cond)
}

/// Starts alpha alone until it holds the VIP, then beta until both hear
/// each other.
fn bring_up(c: &mut dyn Contender, t: &Timing) -> Result<(), String> {
    c.start(0);
    if !wait(Duration::from_secs(60), || c.bed().owners() == [0]) {
        return Err("alpha never took the VIP".into());
    }
    c.start(1);
    if !wait(Duration::from_secs(60), || c.ready(0) && c.ready(1)) {
        return Err("beta never joined".into());
    }
    std::thread::sleep(t.settle);
    Ok(())
}

/// One measured failover of the active node; the other is then started
/// again and joins as standby. Returns (first GARP, first connect) in ms.
fn failover_once(
    c: &mut dyn Contender,
    t: &Timing,
    mode: Mode,
    run: usize,
) -> Result<(Option<f64>, f64), String> {
    let owners = c.bed().owners();
    let [active] = owners[..] else {
        return Err(format!("VIP held by {owners:?} before the run"));
    };
    let survivor = 1 - active;
    if !wait(Duration::from_secs(10), || c.bed().answers(active)) {
        return Err(format!("the client does not reach {}", NAMES[active]));
    }
    let reached = c
        .bed()
        .path(&format!("reached-{run}-{}", mode.name().len()));
    let mut prober = c.bed().prober(&reached, NAMES[survivor]);
    // Let the prober start (it reaches the active node meanwhile).
    std::thread::sleep(Duration::from_millis(300));
    let t0 = vip::now();
    match mode {
        Mode::Kill => {
            c.kill(active);
            c.bed().down(active);
        }
        Mode::Stop => c.stop(active),
    }
    // A cached DNS record may live for its whole TTL (60 s by default).
    let limit = if c.bed().dns.is_some() { 120 } else { 30 };
    let done = wait(Duration::from_secs(limit), || {
        std::fs::read_to_string(&reached).is_ok_and(|t| t.ends_with('\n'))
    });
    let _ = prober.kill();
    let _ = prober.wait();
    let reach = done
        .then(|| std::fs::read_to_string(&reached).ok())
        .flatten()
        .and_then(|t| t.trim().parse::<f64>().ok())
        .map(|at| (at - t0) * 1000.0);
    let garp = vip::garps(&c.bed().path("garps"))
        .into_iter()
        .filter(|g| g.mac == c.bed().macs[survivor] && g.time > t0)
        .map(|g| (g.time - t0) * 1000.0)
        .reduce(f64::min);
    if mode == Mode::Kill {
        c.bed().revive(active);
    }
    c.start(active);
    let rejoined = wait(Duration::from_secs(60), || {
        c.ready(active) && c.ready(survivor) && c.bed().owners() == [survivor]
    });
    std::thread::sleep(t.settle);
    match (reach, rejoined) {
        (None, _) => Err(format!("{} never answered the client", NAMES[survivor])),
        (_, false) => Err(format!("{} did not rejoin as standby", NAMES[active])),
        (Some(r), true) => Ok((garp, r)),
    }
}

fn failover(o: &Opts, kind: Kind, level: Level, report: &mut Report) {
    let t = timing(o, kind, level);
    let what = format!("{} {} ({})", kind.name(), level.name(), describe(kind, &t));
    println!("failover: {what}");
    let mut c = contender(kind, &format!("pf{}", level.name()), &t, 1);
    if let Err(e) = bring_up(c.as_mut(), &t) {
        report.errors.push(format!("{what}: {e}"));
        return;
    }
    for mode in [Mode::Kill, Mode::Stop] {
        let (mut garp, mut reach) = (Stats::default(), Stats::default());
        for run in 0..o.runs {
            match failover_once(c.as_mut(), &t, mode, run) {
                Ok((g, r)) => {
                    garp.0.extend(g);
                    reach.0.push(r);
                }
                Err(e) => {
                    report
                        .errors
                        .push(format!("{what}, {}, run {run}: {e}", mode.name()));
                    if std::env::var_os("TANDEM_BENCH_LOGS").is_some() {
                        for (i, name) in NAMES[..2].iter().enumerate() {
                            println!("--- {name} ---\n{}", c.log(i));
                        }
                    }
                    break;
                }
            }
        }
        println!(
            "  {:<14} GARP {}   connect {}",
            mode.name(),
            garp.cells(),
            reach.cells()
        );
        report.failover.push(FailoverRow {
            level,
            kind,
            timing: describe(kind, &t),
            mode,
            garp,
            reach,
        });
    }
    if level == Level::Common && o.idle > 0 && !o.skip.iter().any(|s| s == "footprint") {
        match footprint(c.as_ref(), o.idle) {
            Ok(f) => report.footprint.push(f),
            Err(e) => report
                .errors
                .push(format!("{} footprint: {e}", kind.name())),
        }
    }
}

/// CPU time in ns (schedstat), RSS and PSS in KiB of one process.
fn process_stat(pid: u32) -> Option<(u64, u64, u64)> {
    let sched = std::fs::read_to_string(format!("/proc/{pid}/schedstat")).ok()?;
    let ns = sched.split_whitespace().next()?.parse().ok()?;
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let field = |name: &str| -> Option<u64> {
        rollup
            .lines()
            .find(|l| l.starts_with(name))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    };
    Some((ns, field("Rss:")?, field("Pss:")?))
}

/// Packets and bytes node `i` sent on eth0 so far.
fn sent(seg: &common::Segment, i: usize) -> Option<(u64, u64)> {
    let out = std::process::Command::new("ip")
        .args(["-n", &seg.ns(i), "-j", "-s", "link", "show", "eth0"])
        .output()
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    let tx = &v[0]["stats64"]["tx"];
    Some((tx["packets"].as_u64()?, tx["bytes"].as_u64()?))
}

/// The active node's processes, memory and CPU, and the link's traffic
/// (both nodes), over `secs` of an idle pair.
fn footprint(c: &dyn Contender, secs: u64) -> Result<Footprint, String> {
    let owners = c.bed().owners();
    let [active] = owners[..] else {
        return Err(format!("VIP held by {owners:?}"));
    };
    let pids = c.processes(active);
    let cpu = |pids: &[u32]| -> u64 {
        pids.iter()
            .filter_map(|&p| process_stat(p))
            .map(|s| s.0)
            .sum()
    };
    let link = || -> Option<(u64, u64)> {
        let (a, b) = (sent(&c.bed().seg, 0)?, sent(&c.bed().seg, 1)?);
        Some((a.0 + b.0, a.1 + b.1))
    };
    let (cpu0, link0, start) = (cpu(&pids), link(), Instant::now());
    std::thread::sleep(Duration::from_secs(secs));
    let (cpu1, link1, elapsed) = (cpu(&pids), link(), start.elapsed().as_secs_f64());
    let stats: Vec<_> = pids.iter().filter_map(|&p| process_stat(p)).collect();
    let (Some(l0), Some(l1)) = (link0, link1) else {
        return Err("no interface counters".into());
    };
    if stats.is_empty() {
        return Err("no processes".into());
    }
    let f = Footprint {
        kind: c.kind(),
        processes: stats.len(),
        rss_kib: stats.iter().map(|s| s.1).sum(),
        pss_kib: stats.iter().map(|s| s.2).sum(),
        cpu_pct: cpu1.saturating_sub(cpu0) as f64 / 1e9 / elapsed * 100.0,
        packets_s: (l1.0 - l0.0) as f64 / elapsed,
        bytes_s: (l1.1 - l0.1) as f64 / elapsed,
    };
    println!(
        "  idle {secs} s: {} processes, RSS {:.1} MiB, PSS {:.1} MiB, CPU {:.4} %, link {:.1} packets/s {:.0} B/s",
        f.processes,
        f.rss_kib as f64 / 1024.0,
        f.pss_kib as f64 / 1024.0,
        f.cpu_pct,
        f.packets_s,
        f.bytes_s
    );
    Ok(f)
}

/// Drops `loss` % of what node `i` receives on `dev`, at random.
fn lossy(seg: &common::Segment, i: usize, dev: &str, loss: u32) -> Result<(), String> {
    let rules = format!(
        "table inet tandem_loss {{\n chain input {{\n  type filter hook input priority 0; policy accept;\n  \
         iifname \"{dev}\" numgen random mod 100 < {loss} counter drop\n }}\n}}\n"
    );
    let mut child = std::process::Command::new("ip")
        .args(["netns", "exec", &seg.ns(i), "nft", "-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("nft: {e}"))?;
    use std::io::Write;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(rules.as_bytes());
    }
    let out = child.wait_with_output().map_err(|e| format!("nft: {e}"))?;
    out.status
        .success()
        .then_some(())
        .ok_or_else(|| format!("nft: {}", String::from_utf8_lossy(&out.stderr).trim()))
}

/// Packets the loss rule of node `i` dropped.
fn dropped(seg: &common::Segment, i: usize) -> u64 {
    let out = std::process::Command::new("ip")
        .args([
            "netns",
            "exec",
            &seg.ns(i),
            "nft",
            "list",
            "table",
            "inet",
            "tandem_loss",
        ])
        .output();
    let text = out
        .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
        .unwrap_or_default();
    text.split_whitespace()
        .skip_while(|w| *w != "packets")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Both cores busy at normal priority until `stop`.
fn hogs(stop: &Arc<AtomicBool>) -> Vec<std::thread::JoinHandle<u64>> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    (0..cores)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut x = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                }
                x
            })
        })
        .collect()
}

/// Every pair at its fastest timings, all at once, with `loss` % dropped
/// on one link: on the second of two links where the daemon has two
/// (tandem, Heartbeat), and on the only link (all three).
fn soak(o: &Opts, loss: u32, report: &mut Report) {
    let mut beds: Vec<(Box<dyn Contender>, usize)> = Vec::new();
    for &kind in &o.kinds {
        let links: &[usize] = if matches!(kind, Kind::Keepalived | Kind::Pacemaker) {
            &[1]
        } else {
            &[2, 1]
        };
        for &n in links {
            let t = timing(o, kind, Level::Fastest);
            let mut c = contender(kind, &format!("s{loss}{n}{}", kind.name().len()), &t, n);
            let dev = if n == 2 { "eth1" } else { "eth0" };
            let setup = bring_up(c.as_mut(), &t)
                .and_then(|()| (0..2).try_for_each(|i| lossy(&c.bed().seg, i, dev, loss)));
            match setup {
                Ok(()) => beds.push((c, n)),
                Err(e) => report.errors.push(format!(
                    "soak {}, {n} link(s), {loss}% loss: {e}",
                    kind.name()
                )),
            }
        }
    }
    println!(
        "soak: {} pairs at once, {loss}% loss, both cores busy, {} s",
        beds.len(),
        o.soak
    );
    let rows = soak_beds(o.soak, loss, &beds);
    report.soak.extend(rows);
}

/// The pairs of `beds`, at once, for `secs` with both cores busy (their
/// loss rules already set): each pair's takeovers nobody asked for.
fn soak_beds(secs: u64, loss: u32, beds: &[(Box<dyn Contender>, usize)]) -> Vec<SoakRow> {
    let active: Vec<usize> = beds
        .iter()
        .map(|(c, _)| c.bed().owners().first().copied().unwrap_or(0))
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let t0 = vip::now();
    let hogs = hogs(&stop);
    // Samples of "VIP on both nodes", every 250 ms, per pair.
    let namespaces: Vec<[String; 2]> = beds
        .iter()
        .map(|(c, _)| [c.bed().seg.ns(0), c.bed().seg.ns(1)])
        .collect();
    let poll_stop = stop.clone();
    let poller = std::thread::spawn(move || {
        let mut both = vec![0usize; namespaces.len()];
        while !poll_stop.load(Ordering::Relaxed) {
            for (k, ns) in namespaces.iter().enumerate() {
                if ns.iter().all(|n| vip::has_vip_in(n)) {
                    both[k] += 1;
                }
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        both
    });
    std::thread::sleep(Duration::from_secs(secs));
    stop.store(true, Ordering::Relaxed);
    for h in hogs {
        let _ = h.join();
    }
    let both = poller.join().unwrap_or_default();
    let mut rows = Vec::new();
    for (k, (c, links)) in beds.iter().enumerate() {
        let bed = c.bed();
        let standby = &bed.macs[1 - active[k]];
        let mut owner = bed.macs[active[k]].clone();
        let (mut takeovers, mut changes) = (0, 0);
        for g in vip::garps(&bed.path("garps"))
            .into_iter()
            .filter(|g| g.time > t0)
        {
            if g.mac != owner {
                changes += 1;
                takeovers += usize::from(&g.mac == standby);
                owner = g.mac;
            }
        }
        let row = SoakRow {
            kind: c.kind(),
            links: *links,
            loss,
            dropped: (0..2).map(|i| dropped(&bed.seg, i)).sum(),
            takeovers,
            changes,
            both_s: both.get(k).copied().unwrap_or(0) as f64 * 0.25,
        };
        println!(
            "  {:<16} {} link(s): {} dropped, {} false takeover(s), {} owner change(s), VIP on both ~{:.2} s",
            row.kind.name(),
            row.links,
            row.dropped,
            row.takeovers,
            row.changes,
            row.both_s
        );
        rows.push(row);
    }
    rows
}

/// Pacemaker's fastest timing: the shortest token of TOKENS whose pair,
/// alone, at the lowest loss level and with both cores busy, has no
/// owner change for a soak's length.
fn search_token(o: &mut Opts, report: &mut Report) {
    let loss = o.loss.iter().copied().min().unwrap_or(5);
    for token in TOKENS {
        let t = Timing {
            token,
            ..timing(o, Kind::Pacemaker, Level::Common)
        };
        println!(
            "Pacemaker token search: token {token} ms, {loss}% loss, {} s",
            o.soak
        );
        let mut c = contender(Kind::Pacemaker, &format!("tk{token}"), &t, 1);
        let setup = bring_up(c.as_mut(), &t)
            .and_then(|()| (0..2).try_for_each(|i| lossy(&c.bed().seg, i, "eth0", loss)));
        if let Err(e) = setup {
            report
                .errors
                .push(format!("Pacemaker, token {token} ms: {e}"));
            continue;
        }
        let beds = vec![(c, 1)];
        let Some(row) = soak_beds(o.soak, loss, &beds).pop() else {
            continue;
        };
        let held = row.changes == 0;
        report.tokens.push((token, row));
        if held {
            o.token = token;
            return;
        }
    }
    report.errors.push(
        "Pacemaker: no token of the list held the soak; its fastest row uses the default".into(),
    );
}

/// A table's caption, header row and rule.
fn table(s: &mut String, caption: &str, columns: &[&str]) {
    let gap = if s.is_empty() { "" } else { "\n" };
    let _ = writeln!(s, "{gap}{caption}\n");
    let _ = writeln!(s, "| {} |", columns.join(" | "));
    let _ = writeln!(s, "|{}", "---|".repeat(columns.len()));
}

fn markdown(o: &Opts, r: &Report) -> String {
    let mut s = String::new();
    table(
        &mut s,
        &format!("Runs per cell: {}. Times from the kill (or the stop) to the client's first sight; min | median | p95 | max.", o.runs),
        &["level", "daemon", "timings", "event", "first GARP: min", "median", "p95", "max", "first TCP connect: min", "median", "p95", "max"],
    );
    for f in &r.failover {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} |",
            f.level.name(),
            f.kind.name(),
            f.timing,
            f.mode.name(),
            f.garp.cells(),
            f.reach.cells()
        );
    }
    table(
        &mut s,
        "Median TCP connect, peer ÷ tandem (above 1: tandem is faster):",
        &["level", "event", "peer", "ratio"],
    );
    for t in r.failover.iter().filter(|f| f.kind == Kind::Tandem) {
        for p in r
            .failover
            .iter()
            .filter(|p| p.kind != Kind::Tandem && p.level == t.level && p.mode == t.mode)
        {
            if let (Some(a), Some(b)) = (t.reach.median(), p.reach.median()) {
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {:.1}× |",
                    t.level.name(),
                    t.mode.name(),
                    p.kind.name(),
                    b / a
                );
            }
        }
    }
    if !r.methods.is_empty() {
        table(
            &mut s,
            "Takeover methods, kill -9 of the owner → the client's first TCP connect to the service answered by the survivor (tandem at its fastest timings; IP takeover rows from the failover table):",
            &["daemon", "method", "runs", "min", "median", "p95", "max"],
        );
        let ip = r
            .failover
            .iter()
            .filter(|f| f.level == Level::Fastest && f.mode == Mode::Kill);
        let mut rows: Vec<(&str, String, &Stats)> = r
            .methods
            .iter()
            .map(|(m, st)| (Kind::Tandem.name(), m.clone(), st))
            .collect();
        rows.extend(ip.map(|f| {
            let how = match f.kind {
                Kind::Keepalived => "IP takeover + gratuitous ARP (VRRP)",
                _ => "IP takeover + gratuitous ARP (IPaddr2)",
            };
            (f.kind.name(), how.to_string(), &f.reach)
        }));
        rows.sort_by(|a, b| {
            let m = |s: &Stats| s.median().unwrap_or(f64::INFINITY);
            m(a.2).total_cmp(&m(b.2))
        });
        for (who, how, st) in rows {
            let _ = writeln!(s, "| {who} | {how} | {} | {} |", st.0.len(), st.cells());
        }
    }
    if !r.footprint.is_empty() {
        table(
            &mut s,
            &format!("Idle pair at common timings, {} s; the active node's daemon (all its processes); the link's traffic from both nodes:", o.idle),
            &["daemon", "processes", "RSS", "PSS", "CPU", "packets/s", "bytes/s", "bytes/packet"],
        );
        for f in &r.footprint {
            let _ = writeln!(
                s,
                "| {} | {} | {:.1} MiB | {:.1} MiB | {:.4} % | {:.1} | {:.0} | {:.0} |",
                f.kind.name(),
                f.processes,
                f.rss_kib as f64 / 1024.0,
                f.pss_kib as f64 / 1024.0,
                f.cpu_pct,
                f.packets_s,
                f.bytes_s,
                f.bytes_s / f.packets_s.max(f64::MIN_POSITIVE)
            );
        }
    }
    if !r.soak.is_empty() {
        table(
            &mut s,
            &format!("Soak, {} s per loss level, fastest timings, every pair at once, all cores busy; loss dropped by nftables on the receiving side of one link:", o.soak),
            &["daemon", "links", "loss on one link", "packets dropped", "false takeovers", "owner changes", "VIP on both (≈ s)"],
        );
        for w in &r.soak {
            let _ = writeln!(
                s,
                "| {} | {} | {} % | {} | {} | {} | {:.2} |",
                w.kind.name(),
                w.links,
                w.loss,
                w.dropped,
                w.takeovers,
                w.changes,
                w.both_s
            );
        }
    }
    if !r.tokens.is_empty() {
        table(
            &mut s,
            &format!("Pacemaker's fastest token: each tried alone, shortest first, {} s at the lowest loss level with all cores busy, until one has no owner change (its pair is the Pacemaker row of the fastest level):", o.soak),
            &["token", "loss on the link", "packets dropped", "false takeovers", "owner changes", "VIP on both (≈ s)", "held"],
        );
        for (token, w) in &r.tokens {
            let _ = writeln!(
                s,
                "| {token} ms | {} % | {} | {} | {} | {:.2} | {} |",
                w.loss,
                w.dropped,
                w.takeovers,
                w.changes,
                w.both_s,
                if w.changes == 0 { "yes" } else { "no" }
            );
        }
    }
    if !r.errors.is_empty() {
        let _ = writeln!(s, "\nNot measured:\n");
        for e in &r.errors {
            let _ = writeln!(s, "- {e}");
        }
    }
    s
}

fn main() {
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        return;
    }
    if !common::is_root() {
        println!("peers benchmark: needs root (network namespaces); not run");
        std::process::exit(1);
    }
    let o = opts();
    let mut report = Report::default();
    for &kind in &o.kinds {
        if let Some(why) = kind.missing() {
            report.errors.push(format!("{}: {why}", kind.name()));
        }
    }
    let kinds: Vec<Kind> = o
        .kinds
        .iter()
        .copied()
        .filter(|k| k.missing().is_none())
        .collect();
    let mut o = Opts { kinds, ..o };
    if o.kinds.contains(&Kind::Pacemaker) && !o.skip.iter().any(|s| s == "soak") {
        search_token(&mut o, &mut report);
    }
    if !o.skip.iter().any(|s| s == "failover") {
        for level in [Level::Common, Level::Fastest] {
            for &kind in &o.kinds {
                failover(&o, kind, level, &mut report);
            }
        }
    }
    if !o.skip.iter().any(|s| s == "methods") && o.kinds.contains(&Kind::Tandem) {
        let t = timing(&o, Kind::Tandem, Level::Fastest);
        for method in [
            methods::Method::Mac,
            methods::Method::Dns { ttl: Some(1) },
            methods::Method::Dns { ttl: None },
        ] {
            // The default TTL costs half a minute a run on average.
            let runs = match method {
                methods::Method::Dns { ttl: None } => o.runs.div_ceil(4),
                _ => o.runs,
            };
            println!("takeover method: {} ({runs} runs)", method.name());
            match methods::measure(method, &t, runs) {
                Ok(reach) => {
                    println!("  kill -9 -> connect {}", reach.cells());
                    report.methods.push((method.name(), reach));
                }
                Err(e) => report.errors.push(format!("method {}: {e}", method.name())),
            }
        }
    }
    if !o.skip.iter().any(|s| s == "soak") {
        for &loss in &o.loss {
            soak(&o, loss, &mut report);
        }
    }
    let text = markdown(&o, &report);
    if let Some(dir) = o.out.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    match std::fs::write(&o.out, &text) {
        Ok(()) => println!("\nwrote {}", o.out.display()),
        Err(e) => println!("\ncannot write {}: {e}", o.out.display()),
    }
    for e in &report.errors {
        println!("not measured: {e}");
    }
    if !report.errors.is_empty() {
        std::process::exit(1);
    }
}
