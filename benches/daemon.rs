//! The daemon measured: failover detection latency, idle footprint, and a
//! false-takeover soak, on a real pair on this machine (a relayed pty
//! cable and UDP on loopback, as `tandem demo`).
//!
//!     cargo bench --bench daemon                      # everything (~15 min)
//!     cargo bench --bench daemon -- --runs 20 --idle 60 --soak 600
//!     cargo bench --bench daemon -- --quick           # 5 runs, 10 s idle, 30 s soak
//!
//! Detection latency: kill -9 of the owner's daemon → the survivor's
//! resource script starting (its first line stamps the wall clock), so it
//! includes the claim, fork and exec. Idle: RSS and CPU time of one daemon
//! with three links (serial, two UDP). Soak: the fastest timings with both
//! cores busy; any "is dead" while nobody was killed is a false takeover.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tandem::demo::{peer_liveness, Pair, Timings};

const EXE: &str = env!("CARGO_BIN_EXE_tandem");

const COMMON: Timings = Timings {
    keepalive: "1",
    warntime: "2",
    deadtime: "3",
    initdead: "6",
};

const FASTEST: Timings = Timings {
    keepalive: "2ms",
    warntime: "6ms",
    deadtime: "10ms",
    initdead: "20ms",
};

struct Opts {
    runs: usize,
    idle: u64,
    soak: u64,
    /// Soak only, at these timings (`--soak-at 5ms/25ms`).
    soak_at: Option<(String, String)>,
}

fn opts() -> Opts {
    let mut o = Opts {
        runs: 20,
        idle: 60,
        soak: 600,
        soak_at: None,
    };
    let args: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < args.len() {
        let val = |i: usize| args.get(i + 1).and_then(|v| v.parse().ok());
        match args[i].as_str() {
            "--quick" => {
                o.runs = 5;
                o.idle = 10;
                o.soak = 30;
            }
            "--runs" => o.runs = val(i).unwrap_or(o.runs as u64) as usize,
            "--idle" => o.idle = val(i).unwrap_or(o.idle),
            "--soak" => o.soak = val(i).unwrap_or(o.soak),
            "--soak-at" => {
                o.soak_at = args
                    .get(i + 1)
                    .and_then(|v| v.split_once('/'))
                    .map(|(k, d)| (k.to_string(), d.to_string()))
            }
            _ => {}
        }
        i += 1;
    }
    o
}

fn wall() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

fn pair(t: &Timings, tag: &str, third_link: bool, extra: &str) -> (tempfile::TempDir, Pair) {
    let tmp = tempfile::Builder::new()
        .prefix(&format!("tandem-bench-{tag}-"))
        .tempdir()
        .expect("tempdir");
    let pair = Pair::new(tmp.path(), Path::new(EXE), t, extra).expect("pair");
    if third_link {
        // A second UDP link straight to the other node's port.
        for i in 0..2 {
            let path = pair.config_dir(i).join("ha.cf");
            let mut text = std::fs::read_to_string(&path).expect("ha.cf");
            text.push_str(&format!("ucast lo 127.0.0.1:{}\n", pair.ports[1 - i]));
            std::fs::write(&path, text).expect("ha.cf");
        }
    }
    (tmp, pair)
}

fn up(pair: &Pair) -> bool {
    pair.wait_for(Duration::from_secs(30), |p| {
        p.service_on() == ["alpha"]
            && p.status(1)
                .is_some_and(|s| peer_liveness(&s, "alpha") == Some("up"))
    })
    .is_some()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p / 100.0 * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// kill -9 of alpha → beta's script starts; `runs` times.
fn failover(t: &Timings, tag: &str, runs: usize) -> Vec<f64> {
    let (_tmp, mut pair) = pair(t, tag, false, "");
    pair.start(0).expect("start");
    pair.start(1).expect("start");
    let mut out = Vec::new();
    for run in 0..runs {
        if !up(&pair) {
            eprintln!("{tag}: run {run}: pair not up; see {}", pair.dir.display());
            break;
        }
        // Let the pair settle a few keepalives.
        std::thread::sleep(Duration::from_millis(300));
        let killed = wall();
        pair.crash(0);
        let file = pair.dir.join("service").join("running-on-beta");
        let took = pair.wait_for(Duration::from_secs(30), |_| file.exists());
        if took.is_none() {
            eprintln!("{tag}: run {run}: no takeover");
            break;
        }
        // The script wrote `date +%s.%N` as it started.
        let started = pair
            .wait_for(Duration::from_secs(1), |_| {
                std::fs::read_to_string(&file).is_ok_and(|s| s.trim().parse::<f64>().is_ok())
            })
            .and_then(|_| std::fs::read_to_string(&file).ok())
            .and_then(|s| s.trim().parse::<f64>().ok());
        if let Some(s) = started {
            out.push((s - killed) * 1000.0);
        }
        pair.start(0).expect("restart alpha");
    }
    out
}

/// CPU time in nanoseconds (schedstat: exact, unlike clock ticks) and
/// RSS in KiB of process `pid`.
fn proc_stat(pid: u32) -> Option<(u64, u64)> {
    let sched = std::fs::read_to_string(format!("/proc/{pid}/schedstat")).ok()?;
    let ns = sched.split_whitespace().next()?.parse::<u64>().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some((ns, rss))
}

/// CPU % and RSS (KiB) of alpha's daemon over `secs`, three links.
fn idle(t: &Timings, tag: &str, secs: u64) -> Option<(f64, u64)> {
    let (_tmp, mut pair) = pair(t, tag, true, "");
    pair.start(0).ok()?;
    pair.start(1).ok()?;
    if !up(&pair) {
        return None;
    }
    let pid = pair.children[0].as_ref()?.id();
    let (t0, _) = proc_stat(pid)?;
    let start = Instant::now();
    std::thread::sleep(Duration::from_secs(secs));
    let (t1, rss) = proc_stat(pid)?;
    let cpu = (t1 - t0) as f64 / 1e9 / start.elapsed().as_secs_f64() * 100.0;
    Some((cpu, rss))
}

/// Timings from text, for `--soak-at` (leaked: a handful per run).
fn timings(keepalive: &str, deadtime: &str) -> Timings {
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let (k, unit) = keepalive.split_at(
        keepalive
            .find(|c: char| c.is_alphabetic())
            .unwrap_or(keepalive.len()),
    );
    let k: f64 = k.parse().unwrap_or(1.0);
    Timings {
        keepalive: leak(keepalive.to_string()),
        warntime: leak(format!("{}{unit}", k * 3.0)),
        deadtime: leak(deadtime.to_string()),
        initdead: leak(format!("{}{unit}", k * 10.0)),
    }
}

/// Timings `t` with both cores busy (two spinning threads at normal
/// priority): false deaths counted.
fn soak(t: &Timings, secs: u64) -> Option<(usize, u64)> {
    // As deployed: realtime on (SCHED_FIFO, locked memory), Heartbeat's
    // default, which is what keeps fast keepalives on time on busy cores.
    let (_tmp, mut pair) = pair(t, "soak", false, "realtime on");
    pair.start(0).ok()?;
    pair.start(1).ok()?;
    if !up(&pair) {
        return None;
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let hogs: Vec<_> = (0..2)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut x = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                }
                x
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(secs));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for h in hogs {
        let _ = h.join();
    }
    let logs: String = (0..2)
        .map(|i| std::fs::read_to_string(pair.log_path(i)).unwrap_or_default())
        .collect();
    let deaths = logs.lines().filter(|l| l.contains(" is dead")).count();
    let late = logs
        .lines()
        .filter(|l| l.contains("late keepalive"))
        .count() as u64;
    Some((deaths, late))
}

fn report(name: &str, mut v: Vec<f64>) {
    v.sort_by(|a, b| a.total_cmp(b));
    println!(
        "failover {name:<22} runs {:>2}  min {:>8.1} ms  p50 {:>8.1} ms  p99 {:>8.1} ms  max {:>8.1} ms",
        v.len(),
        v.first().copied().unwrap_or(f64::NAN),
        percentile(&v, 50.0),
        percentile(&v, 99.0),
        v.last().copied().unwrap_or(f64::NAN)
    );
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` runs us too,
    // with no time to spare: do nothing then.
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        return;
    }
    let o = opts();
    if let Some((k, d)) = &o.soak_at {
        let t = timings(k, d);
        match soak(&t, o.soak) {
            Some((deaths, late)) => println!(
                "soak {k}/{d}, both cores busy, {} s: {deaths} false death(s), {late} late-keepalive warning(s)",
                o.soak
            ),
            None => println!("soak: the pair did not come up"),
        }
        return;
    }
    println!(
        "tandem daemon benchmark: {} runs, {} s idle, {} s soak",
        o.runs, o.idle, o.soak
    );
    report("1s/3s", failover(&COMMON, "common", o.runs));
    report("2ms/10ms", failover(&FASTEST, "fastest", o.runs));
    for (name, t) in [
        ("keepalive 1s", &COMMON),
        (
            "keepalive 10ms",
            &Timings {
                keepalive: "10ms",
                warntime: "30ms",
                deadtime: "50ms",
                initdead: "100ms",
            },
        ),
    ] {
        match idle(t, "idle", o.idle) {
            Some((cpu, rss)) => println!(
                "idle {name:<16} 3 links: CPU {cpu:.4} %  RSS {:.2} MiB",
                rss as f64 / 1024.0
            ),
            None => println!("idle {name}: the pair did not come up"),
        }
    }
    match soak(&FASTEST, o.soak) {
        Some((deaths, late)) => println!(
            "soak 2ms/10ms, both cores busy, {} s: {deaths} false death(s), {late} late-keepalive warning(s)",
            o.soak
        ),
        None => println!("soak: the pair did not come up"),
    }
}
