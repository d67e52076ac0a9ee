//! A two-node pair of real cores over perfect links in virtual time (the
//! simulator's little sibling, after quinn-proto's `Pair`): each test
//! walks through one behaviour an operator relies on.

use tandem::config::authkeys;
use tandem::config::hacf::AutoFailback;
use tandem::core::{
    Action, Command, Event, GroupParams, GroupState, LinkParams, Liveness, Node, Outcome, Params,
    Which,
};
use tandem::time::{Instant, Time};
use tandem::wire::frame::{cluster_id, Drop, NodeState};
use tandem::wire::Authenticator;

const KEEPALIVE: u64 = 100_000; // 100 ms
const DEADTIME: u64 = 500_000; // 500 ms

fn params(local: u8, failback: AutoFailback) -> Params {
    Params {
        cluster: cluster_id("pair"),
        nodes: vec!["alpha".into(), "beta".into()],
        local,
        links: vec![
            LinkParams {
                name: "serial /dev/ttyS0".into(),
                reaches: vec![0, 1],
            },
            LinkParams {
                name: "bcast eth0".into(),
                reaches: vec![0, 1],
            },
        ],
        groups: vec![
            GroupParams {
                key: "192.0.2.10".into(),
                preferred: 0,
            },
            GroupParams {
                key: "192.0.2.11".into(),
                preferred: 1,
            },
        ],
        keepalive: Time::from_micros(KEEPALIVE),
        warntime: Time::from_micros(DEADTIME / 2),
        deadtime: Time::from_micros(DEADTIME),
        initdead: Time::from_micros(2 * DEADTIME),
        auto_failback: failback,
        ping: false,
        fencing: false,
        stop_retries: 3,
        stop_retry_interval: Time::from_millis(100),
        log_badpack: true,
        migration_threshold: 2,
        failure_timeout: tandem::time::Time::from_secs(600),
        on_stop_failure: tandem::config::hacf::StopFailure::Block,
    }
}

fn auth() -> Authenticator {
    Authenticator::from(&authkeys::parse("k", b"auth 1\n1 sha256 pair\n").0.unwrap())
}

/// Two nodes, links that deliver instantly, scripts that take 10 ms.
struct Pair {
    now: u64,
    nodes: [Option<Node>; 2],
    /// Per node: resource actions in flight (done at, group, outcome).
    pending: Vec<(u64, usize, usize, Outcome)>,
    /// Per node: the link is cut (frames from it are lost).
    mute: [bool; 2],
    events: Vec<(u64, usize, Event)>,
    /// How many of the next starts fail.
    failing_starts: usize,
    generation: [u32; 2],
}

impl Pair {
    fn new(failback: AutoFailback) -> Pair {
        let mut pair = Pair {
            now: 0,
            nodes: [None, None],
            pending: Vec::new(),
            mute: [false; 2],
            events: Vec::new(),
            failing_starts: 0,
            generation: [0; 2],
        };
        pair.boot(0, failback);
        pair.boot(1, failback);
        pair
    }

    /// Only alpha is booted.
    fn alone() -> Pair {
        let mut pair = Pair {
            now: 0,
            nodes: [None, None],
            pending: Vec::new(),
            mute: [false; 2],
            events: Vec::new(),
            failing_starts: 0,
            generation: [0; 2],
        };
        pair.boot(0, AutoFailback::On);
        pair
    }

    fn boot(&mut self, i: usize, failback: AutoFailback) {
        self.generation[i] += 1;
        self.nodes[i] = Some(Node::new(
            params(i as u8, failback),
            auth(),
            self.generation[i],
            &[None, None],
            0,
            Instant(self.now),
        ));
        self.pump();
    }

    fn node(&mut self, i: usize) -> &mut Node {
        self.nodes[i].as_mut().expect("node is up")
    }

    /// Carries out every output until nothing is left to do now.
    fn pump(&mut self) {
        loop {
            let mut busy = false;
            let mut exited = Vec::new();
            for i in 0..2 {
                let Some(node) = self.nodes[i].as_mut() else {
                    continue;
                };
                let mut frames = Vec::new();
                while let Some(f) = node.poll_transmit() {
                    frames.push(f);
                }
                let mut actions = Vec::new();
                while let Some(a) = node.poll_action() {
                    actions.push(a);
                }
                while let Some((_, e)) = node.poll_event() {
                    self.events.push((self.now, i, e));
                }
                for a in actions {
                    busy = true;
                    match a {
                        Action::Start(g) => {
                            let outcome = if self.failing_starts > 0 {
                                self.failing_starts -= 1;
                                Outcome::Failed
                            } else {
                                Outcome::Ok
                            };
                            self.pending.push((self.now + 10_000, i, g, outcome))
                        }
                        Action::Exit => exited.push(i),
                        Action::Stop(g) | Action::Restart(g) => {
                            self.pending.push((self.now + 10_000, i, g, Outcome::Ok))
                        }
                        _ => {}
                    }
                }
                if self.mute[i] {
                    continue;
                }
                let other = 1 - i;
                for f in frames {
                    busy = true;
                    if let Some(peer) = self.nodes[other].as_mut() {
                        // Every frame goes on both links.
                        peer.handle_frame(Instant(self.now), 0, &f);
                        peer.handle_frame(Instant(self.now), 1, &f);
                    }
                }
            }
            for i in exited {
                self.nodes[i] = None;
            }
            if !busy {
                return;
            }
        }
    }

    /// Advances virtual time to `until`, stepping through timers and
    /// resource completions in order.
    fn run_until(&mut self, until: u64) {
        loop {
            let timers = self
                .nodes
                .iter()
                .flatten()
                .map(|n| n.poll_timeout().0)
                .min()
                .unwrap_or(u64::MAX);
            let done = self.pending.iter().map(|p| p.0).min().unwrap_or(u64::MAX);
            let next = timers.min(done).max(self.now);
            if next > until {
                self.now = until;
                return;
            }
            self.now = next;
            if let Some(k) = self.pending.iter().position(|p| p.0 == next) {
                let (_, i, g, outcome) = self.pending.remove(k);
                if let Some(node) = self.nodes[i].as_mut() {
                    node.handle_resource(Instant(next), g, outcome);
                }
            } else {
                for node in self.nodes.iter_mut().flatten() {
                    if node.poll_timeout().0 <= next {
                        node.handle_timeout(Instant(next));
                    }
                }
            }
            self.pump();
        }
    }

    fn run_for(&mut self, us: u64) {
        self.run_until(self.now + us);
    }

    fn command(&mut self, i: usize, c: Command) {
        let now = Instant(self.now);
        self.node(i).handle_command(now, c);
        self.pump();
    }

    fn frame(&mut self, i: usize, link: usize, bytes: &[u8]) {
        let now = Instant(self.now);
        self.node(i).handle_frame(now, link, bytes);
    }

    /// An authentic Heartbeat message from `src` (the engine verified it),
    /// numbered by the clock so that each is newer than the last.
    fn heartbeat(&mut self, i: usize, src: u8) {
        let now = Instant(self.now);
        let seq = self.now + 1;
        self.node(i).handle_heartbeat_traffic(now, 0, src, (1, seq));
    }

    fn dump(&self) -> String {
        self.events
            .iter()
            .map(|(t, n, e)| format!("{t} n{n} {e:?}"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn runs(&self, i: usize, g: usize) -> bool {
        self.nodes[i]
            .as_ref()
            .is_some_and(|n| n.group(g) == GroupState::Running)
    }

    fn saw(&self, i: usize, want: &Event) -> Option<u64> {
        self.events
            .iter()
            .find(|(_, n, e)| *n == i && e == want)
            .map(|(t, ..)| *t)
    }
}

#[test]
fn each_node_runs_its_preferred_group() {
    let mut p = Pair::new(AutoFailback::On);
    p.run_for(200_000);
    assert!(p.runs(0, 0) && p.runs(1, 1));
    assert!(!p.runs(0, 1) && !p.runs(1, 0));
    assert_eq!(p.node(0).state(), NodeState::Active);
}

#[test]
fn crash_is_taken_over_within_deadtime_plus_start() {
    let mut p = Pair::new(AutoFailback::On);
    p.run_for(200_000);
    let crashed_at = p.now;
    p.nodes[1] = None;
    p.run_for(DEADTIME + KEEPALIVE + 20_000);
    assert!(p.runs(0, 1), "alpha took over beta's group");
    let dead = p.saw(0, &Event::NodeDead(1)).unwrap();
    assert!(
        dead - crashed_at <= DEADTIME,
        "declared dead after {}",
        dead - crashed_at
    );
    assert!(p
        .saw(
            0,
            &Event::NodeLate {
                node: 1,
                silent: Time::from_micros(DEADTIME / 2)
            }
        )
        .is_some());
}

#[test]
fn failback_on_moves_the_group_home_after_the_stop() {
    let mut p = Pair::new(AutoFailback::On);
    p.run_for(200_000);
    p.nodes[0] = None;
    p.run_for(DEADTIME + 100_000);
    assert!(p.runs(1, 0));
    p.boot(0, AutoFailback::On);
    p.run_for(200_000);
    assert!(p.runs(0, 0) && !p.runs(1, 0), "group 0 went home");
    // beta's stop finished before alpha's start began.
    let stopped = p.saw(1, &Event::Stopped(0)).unwrap();
    let starting = p
        .events
        .iter()
        .rfind(|(_, n, e)| *n == 0 && *e == Event::Starting(0))
        .unwrap()
        .0;
    assert!(stopped <= starting);
}

#[test]
fn failback_off_leaves_the_group_where_it_is() {
    let mut p = Pair::new(AutoFailback::Off);
    p.run_for(200_000);
    p.nodes[0] = None;
    p.run_for(DEADTIME + 100_000);
    p.boot(0, AutoFailback::Off);
    p.run_for(400_000);
    assert!(p.runs(1, 0) && !p.runs(0, 0));
}

#[test]
fn graceful_shutdown_hands_over_without_waiting_for_deadtime() {
    let mut p = Pair::new(AutoFailback::On);
    p.run_for(200_000);
    let asked = p.now;
    p.command(1, Command::Shutdown);
    p.run_for(100_000);
    assert!(p.runs(0, 1), "alpha took over at once");
    let left = p.saw(0, &Event::NodeLeft(1)).unwrap();
    assert!(left - asked < DEADTIME / 2, "after {} us", left - asked);
    assert_eq!(p.node(0).liveness(1), Liveness::Dead);
    assert!(p.nodes[1].is_none(), "beta exited");
}

#[test]
fn standby_and_takeover_converge() {
    let mut p = Pair::new(AutoFailback::On);
    p.run_for(200_000);
    p.command(0, Command::Standby(Which::All));
    p.run_for(200_000);
    assert!(p.runs(1, 0) && p.runs(1, 1), "beta runs both");
    p.command(0, Command::Takeover(Which::All));
    p.run_for(200_000);
    assert!(p.runs(0, 0) && p.runs(0, 1), "alpha runs both");
    p.command(1, Command::Takeover(Which::Local));
    p.run_for(200_000);
    assert!(p.runs(0, 0) && p.runs(1, 1), "the newest claim wins");
}

#[test]
fn failed_start_hands_the_group_to_the_peer() {
    let mut p = Pair::alone();
    p.failing_starts = 2;
    p.boot(1, AutoFailback::On);
    p.run_for(300_000);
    // Both first starts failed; each node declines what failed on it and
    // the other runs it.
    assert!(p.runs(1, 0) && p.runs(0, 1), "{}", p.dump());
    assert!(p.saw(0, &Event::StartFailed(0)).is_some());
}

#[test]
fn split_brain_heals_to_one_owner() {
    let mut p = Pair::new(AutoFailback::Off);
    p.run_for(200_000);
    p.mute = [true, true];
    p.run_for(DEADTIME + 200_000);
    assert!(p.runs(0, 1) && p.runs(1, 0), "both took everything");
    p.mute = [false, false];
    p.run_for(300_000);
    for g in 0..2 {
        assert!(p.runs(0, g) != p.runs(1, g), "group {g} has one owner");
    }
    assert!(p
        .saw(0, &Event::SplitBrain { group: 1, other: 1 })
        .is_some());
    // The rule: the preferred node keeps it.
    assert!(p.runs(0, 0) && p.runs(1, 1));
}

#[test]
fn a_frozen_node_releases_at_once_when_it_thaws() {
    let mut p = Pair::new(AutoFailback::On);
    p.run_for(200_000);
    let frozen = p.nodes[1].take();
    p.run_for(DEADTIME + 100_000);
    assert!(p.runs(0, 1));
    p.nodes[1] = frozen;
    let now = Instant(p.now);
    p.node(1).handle_timeout(now);
    p.pump();
    assert!(p
        .events
        .iter()
        .any(|(_, n, e)| *n == 1 && matches!(e, Event::Frozen { .. })));
    assert_eq!(p.node(1).group(1), GroupState::Stopping);
    p.run_for(300_000);
    assert!(!p.runs(0, 1) || !p.runs(1, 1));
    assert!(p.runs(1, 1), "back home after rejoining (auto_failback on)");
}

#[test]
fn heartbeat_traffic_blocks_starts() {
    let mut p = Pair::alone();
    p.heartbeat(0, 1);
    p.pump();
    // Keep hearing Heartbeat from beta past initdead.
    for k in 1..=30 {
        p.run_until(k * 100_000);
        p.heartbeat(0, 1);
    }
    assert!(
        !p.runs(0, 0) && !p.runs(0, 1),
        "nothing starts while beta speaks Heartbeat\n{}",
        p.dump()
    );
    assert!(p.saw(0, &Event::HeartbeatPeer(1)).is_some());
    assert_eq!(p.node(0).counters().dropped(Drop::Heartbeat), 31);
    p.run_for(DEADTIME + 200_000);
    assert!(
        p.runs(0, 0) && p.runs(0, 1),
        "after it stops, alpha takes over"
    );
}

#[test]
fn replayed_and_forged_frames_are_dropped_and_counted() {
    let mut p = Pair::new(AutoFailback::On);
    p.run_for(200_000);
    // Capture a frame from beta, then replay it later.
    let frame = p.node(1).poll_transmit();
    assert!(frame.is_none(), "pump sent everything");
    let later = Instant(p.now + KEEPALIVE);
    p.node(1).handle_timeout(later);
    let captured = p.node(1).poll_transmit().expect("a keepalive");
    p.frame(0, 0, &captured);
    p.frame(0, 0, &captured);
    assert_eq!(p.node(0).counters().dropped(Drop::Replay), 1);
    let mut forged = captured.clone();
    forged[20] ^= 0x40;
    p.frame(0, 1, &forged);
    assert_eq!(p.node(0).counters().dropped(Drop::BadTag), 1);
    // After beta dies, a replayed capture does not bring it back.
    p.nodes[1] = None;
    p.run_for(DEADTIME + 100_000);
    p.frame(0, 1, &captured);
    assert_eq!(p.node(0).liveness(1), Liveness::Dead);
}

/// A resource of group 0 fails its monitor on node `i` now.
fn monitor_fails(p: &mut Pair, i: usize) {
    let now = Instant(p.now);
    p.node(i).handle_monitor_failure(now, 0);
    p.pump();
    p.run_for(300_000);
}

#[test]
fn monitor_failures_restart_in_place_then_move_and_expire_or_are_cleaned_up() {
    let mut p = Pair::new(AutoFailback::On);
    p.run_for(4 * DEADTIME);
    assert!(p.runs(0, 0), "{}", p.dump());
    // The first failure (of migration_threshold 2): restarted in place.
    monitor_fails(&mut p, 0);
    assert!(p.runs(0, 0) && !p.runs(1, 0), "{}", p.dump());
    assert!(p.saw(0, &Event::Restarted(0)).is_some(), "{}", p.dump());
    assert_eq!(p.node(0).failures(0).0, 1);
    // The second within failure_timeout: the group moves.
    monitor_fails(&mut p, 0);
    assert!(p.runs(1, 0) && !p.runs(0, 0), "{}", p.dump());
    assert!(p.node(0).failed(0));
    // Two failures on beta as well: it runs nowhere.
    monitor_fails(&mut p, 1);
    assert!(p.runs(1, 0), "restarted in place on beta: {}", p.dump());
    monitor_fails(&mut p, 1);
    assert!(!p.runs(0, 0) && !p.runs(1, 0), "{}", p.dump());
    p.run_for(60_000_000);
    assert!(!p.runs(0, 0) && !p.runs(1, 0), "{}", p.dump());
    // An operator's cleanup on beta: beta may run it again, and does.
    p.command(1, Command::Cleanup(1));
    p.run_for(300_000);
    assert!(p.runs(1, 0), "{}", p.dump());
    assert!(p.saw(1, &Event::CleanedUp(0)).is_some());
    // failure_timeout (600 s) after alpha's last failure, its mark expires:
    // alpha is the preferred node again (auto_failback on).
    p.run_for(600_000_000);
    assert!(
        p.saw(0, &Event::FailureExpired(0)).is_some(),
        "{}",
        p.dump()
    );
    assert!(p.runs(0, 0) && !p.runs(1, 0), "{}", p.dump());
}

/// A node gone silent to be fenced (a failfast client died, or a stop
/// failed, under `on_stop_failure fence`) sends nothing more, and never
/// asks to be woken at an instant already past: that would spin the
/// daemon's loop until the fence comes.
#[test]
fn a_silent_node_sends_nothing_and_sets_no_deadline_in_the_past() {
    let mut p = Pair::new(AutoFailback::On);
    p.run_for(5_000_000);
    let node = p.node(0);
    node.silence();
    let mut t = node.poll_timeout();
    for _ in 0..200 {
        node.handle_timeout(t);
        assert!(node.poll_transmit().is_none(), "a silent node sent a frame");
        let next = node.poll_timeout();
        assert!(next > t, "woken at {t:?}, asks again for {next:?}");
        t = next;
    }
}
