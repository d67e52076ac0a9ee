//! The deterministic simulator: thousands of seeded scenarios of each
//! protocol mix (tandem's own, Heartbeat's, and a pair with one node of
//! each), each at least 20 deadtimes of virtual time with faults, every
//! invariant checked at every step. A failure prints the seed, the
//! scenario and the trace; `tandem sim --wire MODE --seed N --trace`
//! replays it.
//!
//! TANDEM_SIM_SEEDS sets how many seeds of each mix run (default 2,000),
//! and TANDEM_SIM_FIRST the first one (default 0); a long run is
//! documented in the README.

use tandem::core::Bugs;
use tandem::sim::{self, Mix};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn assert_holds(mix: Mix, first: u64, count: u64) {
    if let Err(report) = sim::run_many(first, count, mix, Bugs::default()) {
        panic!("\n{}", sim::explain(&report));
    }
}

fn seeded(mix: Mix) {
    let count = env("TANDEM_SIM_SEEDS", 2000);
    let first = env("TANDEM_SIM_FIRST", 0);
    assert!(count >= 1);
    assert_holds(mix, first, count);
}

#[test]
fn seeded_scenarios_hold_every_invariant() {
    seeded(Mix::Native);
}

#[test]
fn seeded_heartbeat_pairs_hold_every_invariant() {
    seeded(Mix::Heartbeat);
}

#[test]
fn seeded_mixed_pairs_hold_every_invariant() {
    seeded(Mix::Mixed);
}

/// A planted bug must be caught as a safety violation within 1,000 seeds.
fn caught(mix: Mix, bugs: Bugs, what: &str) {
    match sim::run_many(0, 1000, mix, bugs) {
        Ok(_) => panic!("{what} went unnoticed in 1,000 seeds"),
        Err(report) => {
            let v = report.violation.as_ref().expect("a violation");
            assert_eq!(v.kind, "safety", "{}", sim::explain(&report));
            println!(
                "planted bug caught at {} seed {}: {}",
                mix.as_str(),
                report.seed,
                v.message
            );
        }
    }
}

#[test]
fn the_checker_catches_a_planted_bug() {
    // Start a group while another node is still stopping it.
    let bugs = Bugs {
        start_before_stop: true,
        ..Bugs::default()
    };
    caught(Mix::Native, bugs, "a start before the old owner's stop");
}

#[test]
fn the_checker_catches_a_planted_bug_in_heartbeats_protocol() {
    // The taker of a standby exchange starts as soon as it is asked,
    // before the giver has stopped.
    let bugs = Bugs {
        take_before_release: true,
        ..Bugs::default()
    };
    caught(Mix::Heartbeat, bugs, "a take before the giver's release");
}

#[test]
fn a_seed_replays_identically() {
    for mix in Mix::ALL {
        let a = sim::run(4242, mix, Bugs::default(), true);
        let b = sim::run(4242, mix, Bugs::default(), true);
        assert_eq!(a.trace, b.trace, "{}", mix.as_str());
        assert!(
            a.trace.len() > 30,
            "{}: {} lines",
            mix.as_str(),
            a.trace.len()
        );
        assert!(a.stats.virtual_us > 0 && a.stats.faults > 0);
    }
}

// Bugs the simulator found, each kept as a named seed.

/// Two nodes joined at once, each saw the other as joining and both
/// started the groups. Fixed by counting joining members in the
/// designation and by the intent/acknowledge step before a start.
#[test]
fn regression_seed_0_simultaneous_join() {
    assert_holds(Mix::Native, 0, 1);
}

/// A node told to shut down while it was about to start a group kept the
/// intent forever and never left; nobody else could take the group.
#[test]
fn regression_seed_372_shutdown_while_claiming() {
    assert_holds(Mix::Native, 372, 1);
}

/// A takeover issued on a node still joining carried an old claim epoch
/// and lost to an older claim. Commands now wait until the node joined.
#[test]
fn regression_seed_982_takeover_while_joining() {
    assert_holds(Mix::Native, 982, 1);
}

/// Five nodes on two LANs with up to 20 % loss: a node went unheard for
/// deadtime by chance. Fixed by probing a late node, which answers at once.
#[test]
fn regression_seed_32196_false_death_on_lossy_links() {
    assert_holds(Mix::Native, 32196, 1);
}

/// Seeds that exposed bugs in the simulator itself (a disconnected
/// topology, scripts outliving a crash, checks too strict about standby,
/// hung starts, frozen survivors, concurrent commands, late duplicates,
/// the healing phase); kept so that the checker stays right.
#[test]
fn regression_simulator_seeds() {
    for seed in [21, 224, 620, 1440, 2327, 6784, 7152, 23779, 27776] {
        assert_holds(Mix::Native, seed, 1);
    }
}

/// Heartbeat's protocol, the first time the simulator ran it (the seeds
/// below 2000 were drawn before legacy left the Heartbeat mixes, so their
/// scenarios have changed since; kept as named seeds all the same):
/// - 0: a daemon restarted within one second kept its Heartbeat
///   generation, so its peer dropped every new message as a replay;
/// - 11, 39: a healed partition left both nodes running every group
///   (Heartbeat restarts itself on "returning after partition");
/// - 35: one bit flipped in a `>>>` line left a serial link deaf to
///   Heartbeat's text for good;
/// - 51: a lost `starting` made a restarted node take its groups from a
///   live holder after RQSTDELAY;
/// - 89: what was said before a rejoin, still on its way, was taken for
///   what is said after it (a rejoin is a new generation now);
/// - 97: the first message of a peer's new generation, overtaken by the
///   second, was dropped as a replay;
/// - 104: a node leaving said `st=dead` before its groups were stopped;
/// - 177: a second gap in the peer's sequence numbers while a
///   retransmission request waited was never asked for;
/// - 178: a lost legacy `ip-request` left the group down for good;
/// - 2434: a `starting` said again made its receiver forget the groups
///   the sender had found running, and take them after RQSTDELAY.
#[test]
fn regression_heartbeat_protocol_seeds() {
    for seed in [0, 11, 35, 39, 51, 89, 97, 104, 177, 178, 2434] {
        assert_holds(Mix::Heartbeat, seed, 1);
    }
}
