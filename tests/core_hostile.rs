//! Nothing unauthenticated changes a decision, at the engine: two engines
//! on instant links, a stranger who can send anything but has no key, and
//! a clock the test moves. Each test is one of the ways hostile or
//! misconfigured input held a takeover back or changed the protocol.

use tandem::config::authkeys;
use tandem::config::hacf::AutoFailback;
use tandem::core::{
    Action, Boot, Engine, Event, GroupParams, GroupState, LinkParams, Liveness, Outcome, Params,
    Transmit, Wire,
};
use tandem::time::{Instant, Time};
use tandem::wire::frame::{cluster_id, Drop};
use tandem::wire::heartbeat::{encode_netstring, Message};
use tandem::wire::Authenticator;

const KEEPALIVE: u64 = 100_000;
const DEADTIME: u64 = 500_000;
const UUID: [u8; 16] = [7; 16];

fn params(local: u8) -> Params {
    Params {
        cluster: cluster_id("pair"),
        nodes: vec!["alpha".into(), "beta".into()],
        local,
        links: vec![
            LinkParams {
                name: "ucast eth0".into(),
                reaches: vec![0, 1],
            },
            // A second link, on which nothing the nodes send arrives (cut):
            // a stranger can still inject there.
            LinkParams {
                name: "ucast eth1".into(),
                reaches: vec![0, 1],
            },
        ],
        groups: vec![GroupParams {
            key: "192.0.2.10".into(),
            preferred: 0,
        }],
        keepalive: Time::from_micros(KEEPALIVE),
        warntime: Time::from_micros(DEADTIME / 2),
        deadtime: Time::from_micros(DEADTIME),
        initdead: Time::from_micros(2 * DEADTIME),
        auto_failback: AutoFailback::Off,
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

fn auth(key: &str) -> Authenticator {
    let text = format!("auth 1\n1 sha1 {key}\n");
    Authenticator::from(&authkeys::parse("k", text.as_bytes()).0.expect("keys"))
}

/// Two engines; `keys` per node; whatever one sends reaches the other.
struct Pair {
    engines: [Option<Engine>; 2],
    now: u64,
    events: Vec<(u64, usize, Event)>,
    /// Frames each node sent, for a stranger to replay.
    sent: [Vec<Vec<u8>>; 2],
}

impl Pair {
    fn new(wire: Wire, keys: [&str; 2]) -> Pair {
        let mut engines = [None, None];
        for (i, e) in engines.iter_mut().enumerate() {
            let boot = Boot {
                wire: wire.clone(),
                generation: 1,
                known: vec![None, None],
                running: 0,
                wall_at_zero: 1_800_000_000,
            };
            *e = Some(
                Engine::new(params(i as u8), auth(keys[i]), boot, Instant::ZERO).expect("engine"),
            );
        }
        let mut p = Pair {
            engines,
            now: 0,
            events: Vec::new(),
            sent: [Vec::new(), Vec::new()],
        };
        p.pump();
        p
    }

    fn engine(&mut self, i: usize) -> &mut Engine {
        self.engines[i].as_mut().expect("up")
    }

    fn pump(&mut self) {
        let now = Instant(self.now);
        loop {
            let mut busy = false;
            for i in 0..2 {
                let Some(e) = self.engines[i].as_mut() else {
                    continue;
                };
                let mut out = Vec::new();
                while let Some(t) = e.poll_transmit() {
                    out.push(match t {
                        Transmit::Native(b) => b,
                        Transmit::Heartbeat(o) => o.netstring,
                    });
                }
                while let Some(a) = e.poll_action() {
                    match a {
                        Action::Start(g) | Action::Stop(g) => {
                            e.handle_resource(now, g, Outcome::Ok)
                        }
                        _ => {}
                    }
                    busy = true;
                }
                while let Some((_, ev)) = e.poll_event() {
                    self.events.push((self.now, i, ev));
                }
                for bytes in out {
                    busy = true;
                    self.sent[i].push(bytes.clone());
                    if let Some(peer) = self.engines[1 - i].as_mut() {
                        peer.handle_frame(now, 0, &bytes);
                    }
                }
            }
            if !busy {
                return;
            }
        }
    }

    /// Runs the clock to `until`, timers and all; `each` is called at
    /// every step of 10 ms (for a stranger's traffic).
    fn run_until(&mut self, until: u64, mut each: impl FnMut(&mut Pair)) {
        while self.now < until {
            self.now = (self.now + 10_000).min(until);
            let now = Instant(self.now);
            for e in self.engines.iter_mut().flatten() {
                if e.poll_timeout() <= now {
                    e.handle_timeout(now);
                }
            }
            each(self);
            self.pump();
        }
    }

    fn runs(&mut self, i: usize) -> bool {
        self.engines[i]
            .as_ref()
            .is_some_and(|e| e.group(0) == GroupState::Running)
    }

    fn crash(&mut self, i: usize) {
        self.engines[i] = None;
    }

    /// Bytes from a stranger, on `to`'s first link.
    fn inject(&mut self, to: usize, bytes: &[u8]) {
        self.inject_on(to, 0, bytes);
    }

    fn inject_on(&mut self, to: usize, link: usize, bytes: &[u8]) {
        let now = Instant(self.now);
        if let Some(e) = self.engines[to].as_mut() {
            e.handle_frame(now, link, bytes);
        }
    }

    fn saw(&self, i: usize, want: impl Fn(&Event) -> bool) -> bool {
        self.events.iter().any(|(_, n, e)| *n == i && want(e))
    }
}

/// A Heartbeat status message from `src`, as a stranger forges it: in the
/// right form, with a digest that cannot verify.
fn forged_heartbeat(src: &str, seq: u64) -> Vec<u8> {
    let mut m = Message::new();
    m.add("t", "status")
        .add("st", "active")
        .add("src", src)
        .add("hg", "69000000")
        .add("seq", format!("{seq:x}"));
    // Signed with a key the pair does not have.
    encode_netstring(&m, &auth("stranger")).expect("encode")
}

/// Long enough for the pair to settle: Heartbeat's nodes, started
/// together, each wait RQSTDELAY (10 s) before taking their own groups.
fn settled(wire: &Wire) -> u64 {
    match wire {
        Wire::Heartbeat { .. } => 12_000_000,
        _ => 3 * DEADTIME,
    }
}

fn forged_text(src: &str) -> Vec<u8> {
    format!(">>>\nt=status\nst=active\nsrc={src}\nhg=69000000\nseq=1\n<<<\n").into_bytes()
}

#[test]
fn forged_heartbeat_traffic_does_not_hold_a_takeover_back() {
    for wire in [
        Wire::Native,
        Wire::Auto(Ok(UUID)),
        Wire::Heartbeat { uuid: UUID },
    ] {
        let mut p = Pair::new(wire.clone(), ["pair", "pair"]);
        p.run_until(settled(&wire), |_| {});
        assert!(p.runs(0), "alpha runs its group ({wire:?})");
        p.crash(0);
        let killed = p.now;
        // A stranger names alpha every 20 ms, in every form.
        let mut seq = 0;
        p.run_until(killed + 4 * DEADTIME, |p| {
            seq += 1;
            p.inject(1, &forged_heartbeat("alpha", seq));
            p.inject(1, &forged_text("alpha"));
            p.inject(1, b"###\n(0)src=alpha,");
        });
        assert!(
            p.runs(1),
            "beta took over from the dead alpha under forged traffic ({wire:?})"
        );
        let took = p
            .events
            .iter()
            .find(|(t, n, e)| *t > killed && *n == 1 && *e == Event::NodeDead(0))
            .map(|(t, _, _)| t - killed)
            .expect("alpha declared dead");
        assert!(
            took <= DEADTIME + KEEPALIVE,
            "declared dead after {took} us"
        );
        assert!(!p.saw(1, |e| matches!(e, Event::HeartbeatPeer(_))));
        assert!(!p.saw(1, |e| matches!(e, Event::HeartbeatAnswered(_))));
        assert!(!p.saw(1, |e| matches!(e, Event::WrongKey(_))));
        // Counted and logged, rate-limited.
        let e = p.engines[1].as_ref().expect("beta");
        assert!(e.counters().dropped(Drop::BadTag) > 100);
        let lines = p
            .events
            .iter()
            .filter(|(_, n, e)| *n == 1 && matches!(e, Event::Dropped { .. }))
            .count();
        assert!((1..=6).contains(&lines), "{lines} drop lines in 2 s");
    }
}

#[test]
fn a_replayed_heartbeat_message_does_not_turn_a_native_pair() {
    // alpha and beta in wire auto speak tandem's protocol to each other; a
    // Heartbeat message alpha really signed (captured from an earlier
    // Heartbeat run with the same key) is replayed at beta.
    let mut p = Pair::new(Wire::Auto(Ok(UUID)), ["pair", "pair"]);
    p.run_until(3 * DEADTIME, |_| {});
    let mut m = Message::new();
    m.add("t", "status")
        .add("st", "active")
        .add("src", "alpha")
        .add("hg", "69000000")
        .add("seq", "1");
    let authentic = encode_netstring(&m, &auth("pair")).expect("encode");
    p.inject(1, &authentic);
    p.pump();
    assert!(
        matches!(p.engines[1].as_ref(), Some(Engine::Native { .. })),
        "beta still speaks tandem's protocol"
    );
    assert!(!p.saw(1, |e| matches!(e, Event::HeartbeatAnswered(_))));
}

#[test]
fn replayed_heartbeat_messages_do_not_hold_back_the_death_of_a_native_node() {
    // Authentic Heartbeat messages of alpha's (captured from an earlier
    // Heartbeat run with the same key), replayed in order while alpha
    // speaks tandem's protocol and after it dies: none of them says alpha
    // speaks Heartbeat while it was heard natively within deadtime, so
    // beta takes over as fast as without them.
    for wire in [Wire::Native, Wire::Auto(Ok(UUID))] {
        let mut p = Pair::new(wire.clone(), ["pair", "pair"]);
        p.run_until(3 * DEADTIME, |_| {});
        assert!(p.runs(0), "alpha runs its group ({wire:?})");
        let mut seq = 0u64;
        let mut replay = |p: &mut Pair| {
            seq += 1;
            let mut m = Message::new();
            m.add("t", "status")
                .add("st", "active")
                .add("src", "alpha")
                .add("hg", "69000000")
                .add("seq", format!("{seq:x}"));
            let captured = encode_netstring(&m, &auth("pair")).expect("encode");
            p.inject(1, &captured);
        };
        p.run_until(5 * DEADTIME, &mut replay);
        assert!(
            !p.saw(1, |e| matches!(e, Event::HeartbeatPeer(_))),
            "replays said alpha speaks Heartbeat ({wire:?})"
        );
        p.crash(0);
        let killed = p.now;
        p.run_until(killed + DEADTIME + KEEPALIVE, &mut replay);
        assert!(p.runs(1), "beta took over ({wire:?}): {:?}", p.events);
        let e = p.engines[1].as_ref().expect("beta");
        assert!(e.counters().dropped(Drop::Replay) > 100, "{wire:?}");
        // Replays after the death change nothing either.
        p.run_until(killed + 10 * DEADTIME, &mut replay);
        assert!(p.runs(1), "beta keeps the group ({wire:?}): {:?}", p.events);
    }
}

#[test]
fn a_node_restarted_with_another_key_does_not_take_over_a_live_one() {
    // alpha runs the group; beta restarts with a key alpha does not
    // accept. beta must not declare alpha dead nor start anything, and
    // both say so.
    for wire in [Wire::Native, Wire::Auto(Ok(UUID))] {
        let mut p = Pair::new(wire.clone(), ["pair", "pair"]);
        p.run_until(3 * DEADTIME, |_| {});
        assert!(p.runs(0), "alpha runs its group");
        let boot = Boot {
            wire: wire.clone(),
            generation: 2,
            known: vec![None, None],
            running: 0,
            wall_at_zero: 1_800_000_000,
        };
        p.engines[1] =
            Some(Engine::new(params(1), auth("other"), boot, Instant(p.now)).expect("beta"));
        let restarted = p.now;
        p.run_until(restarted + 6 * DEADTIME, |_| {});
        assert!(p.runs(0), "alpha still runs ({wire:?})");
        assert!(
            !p.runs(1),
            "beta takes nothing from a live alpha ({wire:?})"
        );
        assert!(p.saw(1, |e| *e == Event::WrongKey(0)), "beta says why");
        assert!(
            !p.events
                .iter()
                .any(|(t, n, e)| *t > restarted && *n == 1 && *e == Event::NodeDead(0)),
            "beta does not declare alpha dead"
        );
        let e = p.engines[1].as_ref().expect("beta");
        assert!(e.unauthentic_since(0).is_some(), "beta's status shows it");
        // alpha logs beta's failing frames (rate-limited).
        assert!(p.saw(0, |e| matches!(
            e,
            Event::Dropped {
                reason: Drop::BadTag,
                node: Some(1),
                ..
            }
        )));
    }
}

#[test]
fn a_pair_started_with_two_keys_runs_nothing_until_an_operator_takes_over() {
    for wire in [Wire::Native, Wire::Auto(Ok(UUID))] {
        let mut p = Pair::new(wire.clone(), ["pair", "other"]);
        p.run_until(6 * DEADTIME, |_| {});
        assert!(!p.runs(0) && !p.runs(1), "no split brain ({wire:?})");
        assert!(p.saw(0, |e| *e == Event::WrongKey(1)));
        assert!(p.saw(1, |e| *e == Event::WrongKey(0)));
        let e = p.engines[1].as_ref().expect("beta");
        assert_eq!(e.liveness(0), Liveness::Unknown, "not declared dead");
        let now = Instant(p.now);
        p.engine(1).handle_command(
            now,
            tandem::core::Command::Takeover(tandem::core::Which::All),
        );
        p.run_until(p.now + DEADTIME, |_| {});
        assert!(p.runs(1), "tandem takeover overrides ({wire:?})");
    }
}

#[test]
fn once_authenticated_nothing_unauthenticated_delays_a_death() {
    for wire in [Wire::Native, Wire::Heartbeat { uuid: UUID }] {
        let mut p = Pair::new(wire.clone(), ["pair", "pair"]);
        p.run_until(settled(&wire), |_| {});
        // alpha's real frames, replayed and bit-flipped by a stranger after
        // alpha dies.
        // Everything alpha said (numbered messages and Heartbeat's control
        // messages, acknowledgements and retransmission requests, alike).
        let captured: Vec<Vec<u8>> = p.sent[0].iter().rev().take(200).cloned().collect();
        p.crash(0);
        let killed = p.now;
        p.run_until(killed + 3 * DEADTIME, |p| {
            for f in &captured {
                p.inject(1, f);
                let mut flipped = f.clone();
                let last = flipped.len() - 1;
                flipped[last] ^= 1;
                p.inject(1, &flipped);
                p.inject(1, &f[..f.len() / 2]);
            }
        });
        assert!(p.runs(1), "beta took over");
        let dead_at = p
            .events
            .iter()
            .find(|(_, n, e)| *n == 1 && *e == Event::NodeDead(0))
            .map(|(t, _, _)| t - killed)
            .expect("declared dead");
        assert!(dead_at <= DEADTIME + KEEPALIVE, "{dead_at}");
        let e = p.engines[1].as_ref().expect("beta");
        let c = e.counters();
        assert!(c.dropped(Drop::Replay) > 0, "{wire:?}");
        assert!(
            c.dropped(Drop::BadTag) + c.dropped(Drop::Truncated) > 0,
            "{wire:?}"
        );
    }
}

#[test]
fn frames_replayed_on_another_link_do_not_keep_a_dead_node_alive() {
    // alpha's last frames went out on link 0; a stranger who captured
    // them plays them back on link 1, where beta has not seen them, one
    // every half deadtime after alpha died. They are authentic and new on
    // that link, but nothing newer than what beta already has: they must
    // not make alpha look alive.
    let mut p = Pair::new(Wire::Native, ["pair", "pair"]);
    p.run_until(3 * DEADTIME, |_| {});
    let mut captured: Vec<Vec<u8>> = p.sent[0].iter().rev().take(40).cloned().collect();
    captured.reverse();
    p.crash(0);
    let killed = p.now;
    let mut next = 0;
    p.run_until(killed + 4 * DEADTIME, |p| {
        if (p.now - killed) % (DEADTIME / 2) < 10_000 && next < captured.len() {
            let f = captured[next].clone();
            next += 1;
            p.inject_on(1, 1, &f);
        }
    });
    let dead_at = p
        .events
        .iter()
        .find(|(_, n, e)| *n == 1 && *e == Event::NodeDead(0))
        .map(|(t, _, _)| t - killed)
        .expect("alpha declared dead");
    assert!(
        dead_at <= DEADTIME + KEEPALIVE,
        "declared dead after {dead_at} us"
    );
    assert!(p.runs(1), "beta took over");
}

#[test]
fn a_generation_that_went_backwards_is_said_and_can_be_accepted() {
    let mut p = Pair::new(Wire::Native, ["pair", "pair"]);
    p.run_until(3 * DEADTIME, |_| {});
    // alpha restarts with its state lost: generation 1 again, below the
    // one beta knows (2 after this restart would be normal).
    let mut alpha_new = {
        let boot = Boot {
            wire: Wire::Native,
            generation: 0,
            known: vec![None, None],
            running: 0,
            wall_at_zero: 1_800_000_000,
        };
        Engine::new(params(0), auth("pair"), boot, Instant(p.now)).expect("engine")
    };
    p.engines[0] = None;
    let now = Instant(p.now);
    alpha_new.handle_timeout(now);
    p.engines[0] = Some(alpha_new);
    p.run_until(p.now + DEADTIME, |_| {});
    assert!(
        p.saw(1, |e| matches!(
            e,
            Event::GenerationBackwards { node: 0, .. }
        )),
        "beta says alpha's generation went backwards"
    );
    let lines = p
        .events
        .iter()
        .filter(|(_, n, e)| *n == 1 && matches!(e, Event::GenerationBackwards { .. }))
        .count();
    assert_eq!(lines, 1, "once");
    let now = Instant(p.now);
    p.engine(1).accept_generation(now, 0);
    p.run_until(p.now + DEADTIME, |_| {});
    let e = p.engines[1].as_ref().expect("beta");
    assert_eq!(e.liveness(0), Liveness::Up, "accepted: alpha is up again");
}
