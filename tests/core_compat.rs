//! tandem's Heartbeat compatibility core against a scripted Heartbeat
//! node that says what real Heartbeat 3.0.6 nodes were recorded saying
//! (tests/fixtures/heartbeat/pair-transcript.txt), in virtual time.
//! tandem is beta; Heartbeat is alpha; one group, preferred by alpha.

use tandem::config::authkeys;
use tandem::config::hacf::AutoFailback;
use tandem::core::compat::Compat;
use tandem::core::{
    Action, Command, Event, GroupParams, GroupState, LinkParams, Liveness, Outcome, Params, Which,
};
use tandem::time::{Instant, Time};
use tandem::wire::frame::Drop;
use tandem::wire::heartbeat::{decode, encode_netstring, Message};
use tandem::wire::Authenticator;

const KEYS: &str = "auth 1\n1 sha1 pair-secret\n";

fn auth() -> Authenticator {
    let (keys, d) = authkeys::parse("authkeys", KEYS.as_bytes());
    assert!(!d.has_errors());
    Authenticator::from(&keys.expect("keys"))
}

fn params(auto_failback: AutoFailback) -> Params {
    Params {
        cluster: 0,
        nodes: vec!["alpha".into(), "beta".into()],
        local: 1,
        links: vec![LinkParams {
            name: "ucast eth0 192.0.2.1".into(),
            reaches: vec![0, 1],
        }],
        groups: vec![GroupParams {
            key: "IPaddr::192.0.2.100".into(),
            preferred: 0,
        }],
        keepalive: Time::from_millis(500),
        warntime: Time::from_secs(1),
        deadtime: Time::from_secs(2),
        initdead: Time::from_secs(4),
        auto_failback,
        ping: false,
        fencing: false,
        stop_retries: 10,
        stop_retry_interval: Time::from_secs(1),
        log_badpack: true,
        migration_threshold: 2,
        failure_timeout: tandem::time::Time::from_secs(600),
        on_stop_failure: tandem::config::hacf::StopFailure::Block,
    }
}

/// The scripted Heartbeat node and tandem, with what tandem said.
struct Pair {
    t: Compat,
    now: Instant,
    alpha_seq: u64,
    alpha_gen: u64,
    /// Everything tandem sent, decoded, in order.
    said: Vec<Message>,
    actions: Vec<Action>,
    events: Vec<Event>,
}

impl Pair {
    fn new(auto_failback: AutoFailback) -> Pair {
        let t = Compat::new(
            params(auto_failback),
            auth(),
            *b"tandem-beta-uuid",
            7,
            1_796_000_000,
            Instant::ZERO,
            0,
        )
        .expect("compat");
        let mut p = Pair {
            t,
            now: Instant::ZERO,
            alpha_seq: 0,
            alpha_gen: 0x6b11_0001,
            said: Vec::new(),
            actions: Vec::new(),
            events: Vec::new(),
        };
        p.drain();
        p
    }

    fn drain(&mut self) {
        let a = auth();
        while let Some(out) = self.t.poll_transmit() {
            // Both forms carry the same message.
            let (m, _) = decode(&out.netstring, &a).expect("tandem's netstring decodes");
            let (text, _) = decode(&out.text, &a).expect("tandem's text decodes");
            assert_eq!(m, text);
            self.said.push(m);
        }
        while let Some(a) = self.t.poll_action() {
            self.actions.push(a);
        }
        while let Some((_, e)) = self.t.poll_event() {
            self.events.push(e);
        }
    }

    /// Alpha sends a message with the given leading fields.
    fn alpha(&mut self, fields: &[(&str, &str)]) {
        let mut m = Message::new();
        for (k, v) in fields {
            m.add(k, v);
        }
        self.alpha_seq += 1;
        m.add("src", "alpha")
            .add_binary("srcuuid", b"heartbeat-alpha!")
            .add("seq", format!("{:x}", self.alpha_seq))
            .add("hg", format!("{:x}", self.alpha_gen))
            .add("ts", "6b113070")
            .add("ld", "0.00 0.00 0.00 1/1 1")
            .add("ttl", "3");
        let bytes = encode_netstring(&m, &auth()).expect("encode");
        self.t.handle_frame(self.now, 0, &bytes);
        self.drain();
    }

    /// Alpha's graceful stop begins: it holds nothing, it says why.
    fn alpha_releases_all_to_shut_down(&mut self) {
        self.alpha(&[
            ("t", "resource"),
            ("rsc_hold", "none"),
            ("rtype", "full"),
            ("isstable", "0"),
            ("info", "shutdown"),
        ]);
    }

    /// Alpha's `resource rsc_hold=HOLD rtype=full isstable=STABLE`.
    fn alpha_resources(&mut self, hold: &str, stable: &str) {
        self.alpha(&[
            ("t", "resource"),
            ("rsc_hold", hold),
            ("rtype", "full"),
            ("isstable", stable),
        ]);
    }

    fn status(&mut self, st: &str) {
        self.alpha(&[
            ("t", "status"),
            ("st", st),
            ("dt", "7d0"),
            ("protocol", "1"),
        ]);
    }

    /// Time passes with alpha sending status every 500 ms (or silent).
    fn run(&mut self, ms: u64, alpha_alive: bool) {
        let end = self.now.as_micros() + ms * 1000;
        while self.now.as_micros() < end {
            let step = (self
                .t
                .poll_timeout()
                .as_micros()
                .max(self.now.as_micros() + 1))
            .min(self.now.as_micros() + 500_000)
            .min(end);
            self.now = Instant(step);
            self.t.handle_timeout(self.now);
            self.drain();
            // A deadline already past would spin the daemon's loop.
            assert!(
                self.t.poll_timeout() > self.now,
                "poll_timeout {:?} not after now {:?}",
                self.t.poll_timeout(),
                self.now
            );
            if alpha_alive && step.is_multiple_of(500_000) {
                self.status("active");
            }
        }
    }

    /// Completes every start and stop tandem asked for.
    fn finish_actions(&mut self) {
        let actions = std::mem::take(&mut self.actions);
        for a in actions {
            match a {
                Action::Start(g) | Action::Stop(g) => {
                    self.t.handle_resource(self.now, g, Outcome::Ok);
                    self.drain();
                }
                other => self.actions.push(other),
            }
        }
    }

    /// Alpha gives every group away (`ask_resources all me`, then `done`
    /// without waiting for the answer) and tandem's starts complete.
    fn alpha_hands_over_all(&mut self) {
        self.alpha(&[("t", "ask_resources"), ("rsc_hold", "all"), ("info", "me")]);
        self.alpha(&[
            ("t", "ask_resources"),
            ("rsc_hold", "all"),
            ("info", "done"),
        ]);
        self.finish_actions();
    }

    /// What tandem said of type `t` since message `from`.
    fn said_since(&self, from: usize, t: &str) -> Vec<&Message> {
        self.said[from..]
            .iter()
            .filter(|m| m.str("t") == Some(t))
            .collect()
    }
}

fn field<'a>(m: &'a Message, name: &str) -> &'a str {
    m.str(name).unwrap_or("")
}

/// tandem joins a stable Heartbeat node that runs the group: it takes
/// nothing and says so, as beta did in the recording.
fn joined_to_a_running_alpha() -> Pair {
    joined(AutoFailback::On)
}

fn joined(auto_failback: AutoFailback) -> Pair {
    let mut p = Pair::new(auto_failback);
    p.status("active");
    let starting = p.said_since(0, "starting");
    assert_eq!(starting.len(), 1, "{:?}", p.said);
    p.alpha_resources("all", "1");
    p.run(1000, true);
    assert!(p.actions.is_empty(), "{:?}", p.actions);
    assert_eq!(p.t.group(0), GroupState::Stopped);
    let resources = p.said_since(0, "resource");
    let last = resources.last().expect("a resource message");
    assert_eq!(
        (field(last, "rsc_hold"), field(last, "isstable")),
        ("none", "1")
    );
    p
}

#[test]
fn joining_a_stable_heartbeat_node_takes_nothing_it_holds() {
    let p = joined_to_a_running_alpha();
    assert_eq!(p.t.liveness(0), Liveness::Up);
    assert!(p.t.peer_holds(0));
    // Every status says this node's dead time (2 s = 7d0 hex).
    let statuses = p.said_since(0, "status");
    assert!(statuses.iter().all(|m| field(m, "dt") == "7d0"));
    assert!(statuses.iter().all(|m| field(m, "src") == "beta"));
}

#[test]
fn heartbeat_standby_hands_the_group_over_in_three_phases() {
    let mut p = joined_to_a_running_alpha();
    let from = p.said.len();
    p.alpha(&[("t", "ask_resources"), ("rsc_hold", "all"), ("info", "me")]);
    let other = p.said_since(from, "ask_resources");
    assert_eq!(field(other[0], "info"), "other");
    assert_eq!(field(other[0], "rsc_hold"), "all");
    assert!(p.actions.is_empty(), "no start before the giver is done");
    p.alpha(&[
        ("t", "resource"),
        ("rsc_hold", "none"),
        ("rtype", "full"),
        ("isstable", "0"),
        ("info", "standby"),
    ]);
    p.alpha(&[
        ("t", "ask_resources"),
        ("rsc_hold", "all"),
        ("info", "done"),
    ]);
    assert_eq!(p.actions, vec![Action::Start(0)]);
    p.finish_actions();
    p.run(100, true);
    assert_eq!(p.t.group(0), GroupState::Running);
    // alpha settles without the group; auto_failback does not send it
    // back after an operator's standby (only after alpha restarts).
    p.alpha_resources("none", "1");
    p.run(2000, true);
    assert_eq!(p.t.group(0), GroupState::Running);
    let done = p.said_since(from, "ask_resources");
    assert_eq!(field(done.last().expect("done"), "info"), "done");
    assert_eq!(done.len(), 2, "other, done; no offer back: {done:?}");
    let resource = p.said_since(from, "resource");
    let last = resource.last().expect("resource");
    // Heartbeat says `all` when it holds every group.
    assert_eq!(
        (field(last, "rsc_hold"), field(last, "isstable")),
        ("all", "1")
    );
}

#[test]
fn tandem_standby_gives_the_group_back_and_waits_for_heartbeats_answer() {
    let mut p = joined_to_a_running_alpha();
    // Alpha dies; beta takes the group after alpha's own dead time.
    p.run(2600, false);
    assert!(p.events.contains(&Event::NodeDead(0)), "{:?}", p.events);
    assert_eq!(p.actions, vec![Action::Start(0)]);
    let stonith = p.said_since(0, "stonith");
    assert_eq!(field(stonith[0], "result"), "n_stnth");
    p.finish_actions();
    // Alpha restarts (a new generation) and settles holding nothing.
    p.alpha_gen += 1;
    p.alpha_seq = 0;
    p.status("active");
    p.alpha(&[("t", "starting")]);
    let from = p.said.len() - 1;
    let reply = p.said_since(from, "resource");
    assert_eq!(field(reply[0], "rsc_hold"), "all");
    assert_eq!(field(reply[0], "isstable"), "1");
    // auto_failback off here would keep it; on, beta offers it back.
    p.alpha_resources("none", "1");
    p.run(100, true);
    let ask = p.said_since(from, "ask_resources");
    assert_eq!(
        (field(ask[0], "info"), field(ask[0], "rsc_hold")),
        ("me", "foreign")
    );
    assert!(p.actions.is_empty(), "no stop before alpha agrees");
    p.alpha(&[
        ("t", "ask_resources"),
        ("rsc_hold", "foreign"),
        ("info", "other"),
    ]);
    assert_eq!(p.actions, vec![Action::Stop(0)]);
    p.finish_actions();
    p.run(100, true);
    let said = p.said_since(from, "ask_resources");
    assert_eq!(field(said.last().expect("done"), "info"), "done");
    assert_eq!(p.t.group(0), GroupState::Stopped);
}

#[test]
fn auto_failback_off_keeps_the_group_on_the_survivor() {
    let mut p = Pair::new(AutoFailback::Off);
    p.status("active");
    p.alpha_resources("none", "1");
    p.run(500, true);
    // Alpha is stable and holds nothing: beta takes the free group.
    assert_eq!(p.actions, vec![Action::Start(0)]);
    p.finish_actions();
    p.run(2000, true);
    assert!(p.said_since(0, "ask_resources").is_empty());
    assert_eq!(p.t.group(0), GroupState::Running);
}

#[test]
fn graceful_stop_releases_then_says_shutdone() {
    let mut p = joined_to_a_running_alpha();
    p.run(2600, false);
    p.finish_actions();
    let from = p.said.len();
    p.t.handle_command(p.now, Command::Shutdown);
    p.drain();
    let first = p.said_since(from, "resource");
    assert_eq!(field(first[0], "info"), "shutdown");
    assert_eq!(field(first[0], "rsc_hold"), "none");
    assert_eq!(p.actions, vec![Action::Stop(0)]);
    assert!(
        p.said_since(from, "shutdone").is_empty(),
        "not before the stop"
    );
    p.finish_actions();
    assert_eq!(p.said_since(from, "shutdone").len(), 1);
    assert!(p.actions.contains(&Action::Exit), "{:?}", p.actions);
    // Gone: nothing more is said, and nothing is due (found by fuzzing:
    // the keepalive deadline stayed in the past).
    let said = p.said.len();
    p.run(1000, false);
    assert_eq!(p.said.len(), said);
}

#[test]
fn heartbeats_shutdone_is_taken_over_at_once() {
    let mut p = joined_to_a_running_alpha();
    p.alpha_releases_all_to_shut_down();
    assert!(p.actions.is_empty());
    p.alpha(&[("t", "shutdone"), ("st", "dead")]);
    assert_eq!(p.actions, vec![Action::Start(0)]);
    assert!(p.events.contains(&Event::NodeLeft(0)), "{:?}", p.events);
    let stonith = p.said_since(0, "stonith");
    assert_eq!(field(stonith[0], "result"), "unneeded");
}

#[test]
fn heartbeats_last_keepalives_after_shutdone_do_not_bring_it_back() {
    // Heartbeat goes on sending its status for a second after `shutdone`
    // (until its final shutdown phase): its last words, not a return.
    let mut p = joined_to_a_running_alpha();
    p.alpha_releases_all_to_shut_down();
    p.alpha(&[("t", "shutdone"), ("st", "dead")]);
    p.finish_actions();
    p.actions.clear();
    let left = p.events.len();
    p.status("active");
    p.run(500, false);
    p.status("active");
    assert!(p.actions.is_empty(), "{:?}", p.actions);
    assert!(
        !p.events[left..].contains(&Event::NodeUp(0)),
        "{:?}",
        p.events
    );
    // Started again (a new generation), it is back.
    p.alpha_gen += 1;
    p.alpha_seq = 0;
    p.status("active");
    assert!(
        p.events[left..].contains(&Event::NodeUp(0)),
        "{:?}",
        p.events
    );
}

#[test]
fn hb_takeover_from_heartbeat_makes_tandem_give() {
    // auto_failback off: only the operator's hb_takeover moves the group.
    let mut p = joined(AutoFailback::Off);
    p.run(2600, false);
    p.finish_actions();
    p.alpha_gen += 1;
    p.alpha_seq = 0;
    p.status("active");
    p.alpha(&[("t", "starting")]);
    p.alpha_resources("none", "1");
    p.run(1000, true);
    assert!(p.said_since(0, "ask_resources").is_empty());
    let from = p.said.len();
    p.alpha(&[("t", "hb_takeover"), ("rsc_hold", "all")]);
    let ask = p.said_since(from, "ask_resources");
    assert_eq!(
        (field(ask[0], "info"), field(ask[0], "rsc_hold")),
        ("me", "all")
    );
}

#[test]
fn tandem_takeover_asks_heartbeat_with_hb_takeover() {
    let mut p = joined_to_a_running_alpha();
    let from = p.said.len();
    p.t.handle_command(p.now, Command::Takeover(Which::All));
    p.drain();
    let asked = p.said_since(from, "hb_takeover");
    assert_eq!(field(asked[0], "rsc_hold"), "all");
}

#[test]
fn replays_and_wrong_keys_are_counted_not_obeyed() {
    let mut p = joined_to_a_running_alpha();
    // An old generation's message: a replay.
    p.alpha_gen -= 1;
    p.alpha(&[("t", "shutdone"), ("st", "dead")]);
    assert!(p.actions.is_empty());
    assert_eq!(p.t.counters().dropped(Drop::Replay), 1);
    // A forged message.
    let mut m = Message::new();
    m.add("t", "shutdone").add("src", "alpha");
    let (keys, _) = authkeys::parse("authkeys", b"auth 1\n1 sha1 guess\n");
    let bytes = encode_netstring(&m, &Authenticator::from(&keys.expect("keys"))).expect("encode");
    p.t.handle_frame(p.now, 0, &bytes);
    p.drain();
    assert!(p.actions.is_empty());
    assert_eq!(p.t.counters().dropped(Drop::BadTag), 1);
}

#[test]
fn every_tenth_message_is_acknowledged_and_lost_ones_are_resent() {
    let mut p = joined_to_a_running_alpha();
    let from = p.said.len();
    for _ in 0..20 {
        p.status("active");
    }
    let acks = p.said_since(from, "NS_ackmsg");
    assert!(!acks.is_empty(), "{:?}", p.said);
    assert!(acks
        .iter()
        .all(|a| a.get("seq").is_none() && field(a, "dest") == "alpha"));
    let before = p.said.len();
    p.alpha(&[("t", "NS_rexmit"), ("firstseq", "1"), ("lastseq", "3")]);
    let resent: Vec<&str> = p.said[before..].iter().map(|m| field(m, "seq")).collect();
    assert_eq!(resent, vec!["1", "2", "3"]);
}

#[test]
fn a_peer_heard_only_with_another_key_is_not_taken_over() {
    let mut p = Pair::new(AutoFailback::On);
    let (keys, _) = authkeys::parse("authkeys", b"auth 1\n1 sha1 another\n");
    let other = Authenticator::from(&keys.expect("keys"));
    // Alpha is alive, holding the group, but signs with another key.
    for i in 0..20u64 {
        let mut m = Message::new();
        m.add("t", "status")
            .add("st", "active")
            .add("src", "alpha")
            .add("seq", format!("{:x}", i + 1))
            .add("hg", "6b110001");
        let bytes = encode_netstring(&m, &other).expect("encode");
        p.t.handle_frame(p.now, 0, &bytes);
        p.drain();
        p.run(500, false);
    }
    assert!(p.events.contains(&Event::WrongKey(0)), "{:?}", p.events);
    assert!(
        p.actions.is_empty(),
        "took over a live node: {:?}",
        p.actions
    );
    // Once it falls silent for its dead time, it is dead after all.
    p.run(5000, false);
    assert_eq!(p.actions, vec![Action::Start(0)]);
}

#[test]
fn after_giving_tandem_says_it_is_stable_when_the_taker_is_done() {
    let mut p = joined(AutoFailback::Off);
    p.alpha_hands_over_all();
    p.run(100, true);
    assert_eq!(p.t.group(0), GroupState::Running);
    let from = p.said.len();
    p.t.handle_command(p.now, Command::Standby(Which::All));
    p.drain();
    p.alpha(&[
        ("t", "ask_resources"),
        ("rsc_hold", "all"),
        ("info", "other"),
    ]);
    p.finish_actions();
    p.run(100, true);
    p.alpha_resources("all", "1");
    p.alpha(&[
        ("t", "ask_resources"),
        ("rsc_hold", "all"),
        ("info", "done"),
    ]);
    p.run(100, true);
    let said: Vec<String> = p.said[from..]
        .iter()
        .filter(|m| field(m, "t") != "status")
        .map(|m| {
            format!(
                "{} {} {} {}",
                field(m, "t"),
                field(m, "rsc_hold"),
                field(m, "isstable"),
                field(m, "info")
            )
        })
        .collect();
    assert_eq!(
        said.last().map(String::as_str),
        Some("resource none 1 "),
        "{said:#?}"
    );
}

#[test]
fn a_message_overtaken_on_the_way_is_still_accepted_once() {
    let mut p = joined(AutoFailback::Off);
    // Alpha gives the group; its `done` arrives after the message it sent
    // next, as seen between real nodes.
    p.alpha(&[("t", "ask_resources"), ("rsc_hold", "all"), ("info", "me")]);
    let done_seq = p.alpha_seq + 1;
    p.alpha_seq += 1; // `done` is delayed: its number is taken
    p.alpha(&[
        ("t", "resource"),
        ("rsc_hold", "none"),
        ("rtype", "full"),
        ("isstable", "0"),
        ("info", "standby"),
    ]);
    let mut m = Message::new();
    m.add("t", "ask_resources")
        .add("rsc_hold", "all")
        .add("info", "done")
        .add("src", "alpha")
        .add("seq", format!("{done_seq:x}"))
        .add("hg", format!("{:x}", p.alpha_gen));
    let bytes = encode_netstring(&m, &auth()).expect("encode");
    p.t.handle_frame(p.now, 0, &bytes);
    p.drain();
    assert_eq!(p.actions, vec![Action::Start(0)]);
    // The same message again is a replay.
    p.t.handle_frame(p.now, 0, &bytes);
    p.drain();
    assert_eq!(p.t.counters().dropped(Drop::Replay), 1);
}

#[test]
fn legacy_requests_groups_with_ip_request_instead_of_negotiating() {
    // tandem alone first: it takes the group after initdead.
    let mut p = Pair::new(AutoFailback::Legacy);
    p.run(4500, false);
    assert_eq!(p.actions, vec![Action::Start(0)]);
    p.finish_actions();
    assert!(
        p.said_since(0, "resource").is_empty(),
        "no resource messages in legacy"
    );
    // Heartbeat alpha starts and asks for its group.
    p.status("active");
    let from = p.said.len();
    p.alpha(&[("t", "ip-request"), ("ipaddr", "IPaddr::192.0.2.100")]);
    assert_eq!(p.actions, vec![Action::Stop(0)]);
    assert!(
        p.said_since(from, "ip-request-resp").is_empty(),
        "not before the stop"
    );
    p.finish_actions();
    let resp = p.said_since(from, "ip-request-resp");
    assert_eq!(
        (
            field(resp[0], "dest"),
            field(resp[0], "ipaddr"),
            field(resp[0], "ok")
        ),
        ("alpha", "IPaddr::192.0.2.100", "OK")
    );
    assert!(p.said_since(0, "starting").is_empty());
}

#[test]
fn a_gap_in_heartbeats_numbers_is_asked_for_unless_it_fills_itself() {
    let mut p = joined_to_a_running_alpha();
    // One message overtaken on the way: the gap closes, nothing asked.
    let from = p.said.len();
    p.alpha_seq += 1;
    let late = p.alpha_seq;
    p.status("active");
    let mut m = Message::new();
    m.add("t", "status")
        .add("st", "active")
        .add("src", "alpha")
        .add("seq", format!("{late:x}"))
        .add("hg", format!("{:x}", p.alpha_gen));
    let bytes = encode_netstring(&m, &auth()).expect("encode");
    p.t.handle_frame(p.now, 0, &bytes);
    p.drain();
    p.run(300, true);
    assert!(p.said_since(from, "NS_rexmit").is_empty());
    // Two lost for good: asked for once, in decimal.
    p.alpha_seq += 2;
    let first = p.alpha_seq - 1;
    p.status("active");
    p.run(300, false);
    let asked = p.said_since(from, "NS_rexmit");
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert_eq!(field(asked[0], "firstseq"), first.to_string());
    assert_eq!(field(asked[0], "lastseq"), (first + 1).to_string());
    // A request for our messages older than the history: reported lost.
    let from = p.said.len();
    p.alpha(&[("t", "NS_rexmit"), ("firstseq", "0"), ("lastseq", "0")]);
    assert!(
        p.said_since(from, "NS_nak_rexmit").is_empty(),
        "seq 0 was never sent"
    );
    p.run(300_000, true);
    let from = p.said.len();
    p.alpha(&[("t", "NS_rexmit"), ("firstseq", "1"), ("lastseq", "1")]);
    let nak = p.said_since(from, "NS_nak_rexmit");
    assert_eq!(nak.len(), 1, "{:?}", &p.said[from..]);
    assert_eq!(field(nak[0], "firstseq"), "1");
}

#[test]
fn what_heartbeat_said_before_this_node_listened_is_not_taken_as_new() {
    let mut p = Pair::new(AutoFailback::On);
    // tandem starts while alpha is far into its generation.
    p.alpha_seq = 0x45;
    p.status("active");
    let from = p.said.len();
    p.run(500, true);
    assert!(
        p.said_since(from, "NS_rexmit").is_empty(),
        "asked for the past"
    );
    // An old message of that generation, resent or replayed: not news.
    let mut m = Message::new();
    m.add("t", "shutdone")
        .add("st", "dead")
        .add("src", "alpha")
        .add("seq", "30")
        .add("hg", format!("{:x}", p.alpha_gen));
    let bytes = encode_netstring(&m, &auth()).expect("encode");
    p.t.handle_frame(p.now, 0, &bytes);
    p.drain();
    assert!(!p.events.contains(&Event::NodeLeft(0)), "{:?}", p.events);
    assert_eq!(p.t.counters().dropped(Drop::Replay), 1);
}

#[test]
fn a_slow_stop_while_giving_sets_no_deadline_in_the_past() {
    // Found by fuzzing: while our stop ran longer than the standby reply
    // time, the exchange's deadline stayed in the past.
    let mut p = joined(AutoFailback::Off);
    p.alpha_hands_over_all();
    p.t.handle_command(p.now, Command::Standby(Which::All));
    p.drain();
    p.alpha(&[
        ("t", "ask_resources"),
        ("rsc_hold", "all"),
        ("info", "other"),
    ]);
    assert_eq!(p.actions, vec![Action::Stop(0)]);
    // The stop takes 12 s (Pair::run checks every deadline is ahead).
    p.run(12_000, true);
    p.finish_actions();
    p.run(500, true);
    assert_eq!(p.t.group(0), GroupState::Stopped);
}

/// A stop that keeps failing under Heartbeat's protocol is retried every
/// stop_retry_interval and escalated after stop_retries, as under
/// tandem's own: the group lifecycle is the same for both protocols.
#[test]
fn a_stop_that_keeps_failing_escalates_after_stop_retries() {
    let mut p = joined_to_a_running_alpha();
    // alpha hands the group over, then tandem is told to stop.
    p.alpha_hands_over_all();
    assert_eq!(p.t.group(0), GroupState::Running);
    p.events.clear();
    p.t.handle_command(p.now, Command::Shutdown);
    p.drain();
    let mut stops = 0;
    // Far longer than ten retries a second apart: a stop retried for
    // ever would keep asking.
    for _ in 0..40 {
        for a in std::mem::take(&mut p.actions) {
            if a == Action::Stop(0) {
                stops += 1;
                p.t.handle_resource(p.now, 0, Outcome::Failed);
                p.drain();
            } else {
                p.actions.push(a);
            }
        }
        p.run(500, true);
    }
    assert_eq!(stops, 10, "one stop and nine retries: {:?}", p.events);
    assert_eq!(p.t.group(0), GroupState::StopFailed);
    assert!(
        p.actions.contains(&Action::CheckStopped(0)),
        "{:?}",
        p.actions
    );
    let failures: Vec<u32> = p
        .events
        .iter()
        .filter_map(|e| match e {
            Event::StopFailed { attempt, .. } => Some(*attempt),
            _ => None,
        })
        .collect();
    assert_eq!(failures, (1..=10).collect::<Vec<u32>>());
    assert!(p.events.contains(&Event::StopGaveUp(0)), "{:?}", p.events);
}

/// Silent to be fenced, Heartbeat's machine too sends nothing and never
/// asks to be woken at an instant already past.
#[test]
fn a_silent_node_sends_nothing_and_sets_no_deadline_in_the_past() {
    let mut p = joined_to_a_running_alpha();
    p.t.silence();
    while p.t.poll_transmit().is_some() {}
    let mut t = p.t.poll_timeout();
    for _ in 0..200 {
        p.t.handle_timeout(t);
        assert!(
            p.t.poll_transmit().is_none(),
            "a silent node sent a message"
        );
        let next = p.t.poll_timeout();
        assert!(next > t, "woken at {t:?}, asks again for {next:?}");
        t = next;
    }
}
