//! Takeover on a (virtual) network, measured: alpha and beta in network
//! namespaces on a bridge, the client in a third, the group
//! `IPaddr2::192.0.2.100/24/eth0`. Each run kills alpha (daemon killed,
//! interface down) and times, from the kill: the first gratuitous ARP
//! from beta seen by the client, and the client's first TCP connect to the
//! address that beta answers. Needs root and iproute2.
//!
//!     cargo bench --bench takeover                 # 20 runs at 100 ms / 500 ms
//!     cargo bench --bench takeover -- --runs 5 --keepalive 10ms --deadtime 50ms

#[path = "../tests/common/mod.rs"]
mod common;

use common::vip::*;
use common::Segment;
use std::time::Duration;

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_string())
}

fn report(what: &str, mut v: Vec<f64>) {
    v.sort_by(|a, b| a.total_cmp(b));
    let p = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    if v.is_empty() {
        println!("{what}: no measurement");
        return;
    }
    println!(
        "{what:<34} runs {:>2}  min {:>7.1} ms  p50 {:>7.1} ms  p95 {:>7.1} ms  max {:>7.1} ms",
        v.len(),
        v[0],
        p(0.5),
        p(0.95),
        v[v.len() - 1]
    );
}

fn main() {
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        return;
    }
    if !common::is_root() {
        println!("takeover benchmark: needs root (network namespaces); not run");
        return;
    }
    let runs: usize = arg("--runs", "20").parse().unwrap_or(20);
    let keepalive = arg("--keepalive", "100ms");
    let deadtime = arg("--deadtime", "500ms");
    let timings =
        format!("keepalive {keepalive}\nwarntime {deadtime}\ndeadtime {deadtime}\ninitdead 2");
    println!("takeover benchmark: {runs} runs, keepalive {keepalive}, deadtime {deadtime}");
    let (mut garp, mut reach) = (Vec::new(), Vec::new());
    for run in 0..runs {
        let tmp = tempfile::Builder::new()
            .prefix("tandem-bench-vip-")
            .tempdir()
            .expect("tempdir");
        let dir = tmp.path();
        configure(dir, &format!("IPaddr2::{VIP}/24/eth0"), &timings);
        let mut seg = Segment::new(&format!("b{run}"), 3);
        let garps = dir.join("garps");
        let garps_arg = garps.display().to_string();
        let _helpers = Helpers(vec![
            in_ns(&seg, 0, &["python3", "-c", SERVER, "alpha"]),
            in_ns(&seg, 1, &["python3", "-c", SERVER, "beta"]),
            in_ns(&seg, CLIENT, &["python3", "-c", CAPTURE, &garps_arg]),
        ]);
        seg.start(0, dir);
        seg.start(1, dir);
        let formed = common::wait_for(Duration::from_secs(20), || {
            has_vip(&seg, 0) && connect(&seg).as_deref() == Some("alpha")
        });
        if !formed {
            println!("run {run}: the pair did not come up");
            continue;
        }
        // Settle: beta has heard alpha for a while.
        std::thread::sleep(Duration::from_millis(500));
        let mac_b = mac(&seg, 1);
        let reached_file = dir.join("reached");
        let reached_arg = reached_file.display().to_string();
        let mut prober = in_ns(
            &seg,
            CLIENT,
            &["python3", "-c", REACH, &reached_arg, "beta"],
        );
        // Let the prober start (it connects to alpha meanwhile).
        std::thread::sleep(Duration::from_millis(300));
        let killed = now();
        seg.kill(0);
        common::ip(&["-n", &seg.ns(0), "link", "set", "eth0", "down"]);
        let reached = common::wait_for(Duration::from_secs(20), || reached_file.exists());
        let _ = prober.kill();
        let _ = prober.wait();
        if reached {
            let at = common::wait_for(Duration::from_secs(1), || {
                std::fs::read_to_string(&reached_file).is_ok_and(|t| t.ends_with('\n'))
            });
            if let Some(t) = at
                .then(|| std::fs::read_to_string(&reached_file).ok())
                .flatten()
                .and_then(|t| t.trim().parse::<f64>().ok())
            {
                reach.push((t - killed) * 1000.0);
            }
        }
        let first = common::vip::garps(&garps)
            .into_iter()
            .filter(|g| g.mac == mac_b && g.time > killed)
            .map(|g| g.time)
            .fold(f64::INFINITY, f64::min);
        if first.is_finite() {
            garp.push((first - killed) * 1000.0);
        }
    }
    report("kill -9 -> first gratuitous ARP", garp);
    report("kill -9 -> TCP connect to the VIP", reach);
}
