//! This node as the partner of a Heartbeat 3.0.6 node (`wire heartbeat`):
//! membership from Heartbeat's status messages, and resource ownership by
//! Heartbeat's own nice_failback negotiation, so that a mixed pair
//! behaves as a Heartbeat pair does while it is migrated one node at a
//! time.
//!
//! Heartbeat does not run tandem's ownership rules; it runs its resource
//! manager's, message by message. So this is not tandem's [`super::Node`]
//! with another codec but a second state machine, speaking the exchange
//! two real Heartbeat nodes were recorded speaking
//! (tests/fixtures/heartbeat/pair-transcript.txt):
//!
//! - start: both send `starting`; each answers with `resource rsc_hold=…
//!   isstable=0|1`. A node whose peer is stable takes what the peer does
//!   not hold; when both are starting, each takes its own groups after
//!   [`RQSTDELAY`].
//! - standby (`hb_standby`, and auto_failback giving groups back): the
//!   giver asks `ask_resources info=me`, the taker answers `info=other`,
//!   the giver stops them and says `resource … info=standby` and
//!   `ask_resources info=done`, the taker starts them and says `done`.
//! - `hb_takeover`: the asker sends `hb_takeover`; the holder then runs
//!   the standby exchange as giver.
//! - graceful stop: `resource rsc_hold=none info=shutdown`, stop all,
//!   `shutdone st=dead`; the survivor takes everything at once.
//! - death: after the peer's own dead time (its `dt`), take everything.
//!
//! Two nodes only, as Heartbeat's haresources mode. Pure: the shell
//! decodes nothing; it hands in bytes and sends out what it is given.
//!
//! This file is the machine's face (inputs, outputs, timers); `membership`
//! accepts messages and tracks the peer, `negotiation` is the exchange
//! above, and `delivery` is Heartbeat's seq/ack/rexmit underneath it.

mod deadlines;
mod delivery;
mod membership;
mod negotiation;

use super::bugs::Bugs;
use super::command::{Command, Which};
use super::droplog::DropLog;
use super::groups::{bit, GroupState, Groups, Mask, Outcome};
use super::liveness::Liveness;
use super::outbox::{Action, Counters, Event, Outbox};
use super::params::{GroupId, LinkId, NodeId, Params};
use crate::config::hacf::{AutoFailback, StopFailure};
use crate::time::Instant;
use crate::time::Time;
use crate::wire::frame::{Drop, NodeState};
use crate::wire::heartbeat::{self as hb, Message};
use crate::wire::Authenticator;
use std::collections::VecDeque;

/// Heartbeat's RQSTDELAY: when both nodes start together, each waits this
/// long for the other to become stable, then takes its own groups.
pub const RQSTDELAY: Time = Time::from_secs(10);
/// How long a node that rejoins after a healed partition waits, once it
/// has released everything, before it negotiates anew: Heartbeat restarts
/// itself 2 s after "returning after partition", time for what either
/// side said before to arrive and be history.
pub const REJOIN_DELAY: Time = Time::from_secs(2);
/// How long a standby exchange waits for the other side's answer.
pub const STANDBY_REPLY: Time = Time::from_secs(10);
/// Heartbeat acknowledges every tenth message (ACK_MSG_DIV).
const ACK_EVERY: u64 = 10;
/// Sent messages kept for retransmission requests (MAXMSGHIST).
const HISTORY: usize = 500;
/// At most this many resent per request, as Heartbeat.
const RESEND_MAX: u64 = 50;
/// How long a gap in the peer's sequence numbers may stay before its
/// messages are asked for again: long enough for one overtaken on the
/// way to arrive (Heartbeat waits a random 50 ms to max_rexmit_delay).
const REXMIT_DELAY: Time = Time::from_millis(100);
/// How long an unanswered retransmission request waits to be sent again.
const REXMIT_AGAIN: Time = Time::from_secs(1);

/// One message, in both of Heartbeat's forms: netstring for UDP links,
/// text for serial lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub netstring: Vec<u8>,
    pub text: Vec<u8>,
}

/// This node's side of the resource negotiation (Heartbeat's
/// HB_R_* states, folded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Negotiation {
    /// The peer has not been heard, nor initdead passed.
    Init,
    /// `starting` sent at this instant; waiting for the peer's resources.
    Starting(Instant),
    /// Our groups are decided; standby exchanges may run.
    Stable,
    /// The peer came back after this node declared it dead, both holding
    /// what they held: release everything, then negotiate anew
    /// (Heartbeat restarts itself for this, after [`REJOIN_DELAY`]); since
    /// this instant.
    Rejoining(Instant),
    /// Shutting down: releasing everything.
    Leaving,
}

/// A standby exchange in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standby {
    Idle,
    /// We give `groups` away (`word` as the message names them, from our
    /// side); `asked` is when we asked, `stopping` once the other agreed.
    Giving {
        groups: Mask,
        word: &'static str,
        asked: Instant,
        agreed: bool,
    },
    /// We gave groups away and said done; waiting for the taker's done.
    Released {
        since: Instant,
    },
    /// We take `groups` (the giver's `word`), once the giver says done.
    Taking {
        groups: Mask,
        word: &'static str,
        since: Instant,
        released: bool,
    },
}

/// What this node knows of the Heartbeat node.
#[derive(Debug, Clone)]
struct Peer {
    liveness: Liveness,
    last_heard: Instant,
    /// Its dead time as it announces it (`dt`), or ours until it does.
    deadtime: Time,
    generation: Option<u64>,
    newest_seq: u64,
    /// Which of the 64 sequence numbers up to `newest_seq` were seen (bit
    /// n: newest_seq - n). Heartbeat's messages can arrive out of order
    /// (a `done` overtaken by the `resource` sent after it): a late one is
    /// accepted once, a repeat is a replay.
    seen: u64,
    /// Its generation began while this node listened: its messages
    /// before the first one heard are missing (asked for again), not
    /// said before this node was there.
    fresh_generation: bool,
    uuid: Vec<u8>,
    /// Per link: last heard, up.
    links: Vec<(Instant, bool)>,
    /// Groups it holds, from its last `resource` message.
    holds: Mask,
    stable: bool,
    /// Sequenced messages since our last acknowledgement.
    unacked: u64,
    /// Messages naming it failed authentication until this instant, and
    /// it was never authenticated since this node started: it is alive
    /// with another key, and is not taken over.
    unauthentic_until: Option<Instant>,
    /// An authentic message came from it since this node started. From
    /// then on nothing unauthenticated delays its death.
    authenticated: bool,
    /// Messages naming it have failed authentication since its last
    /// authentic one, from this instant (status shows it).
    unauthentic_since: Option<Instant>,
    /// The generation-went-backwards line was written.
    backwards_said: bool,
    /// Its last authentic message, as it came: a reload must still accept
    /// it.
    last_message: Vec<u8>,
    /// It said what it holds (`resource`) since this node's negotiation
    /// began.
    told: bool,
    /// The sequence number of its newest such statement applied.
    statement_seq: u64,
    /// It (re)started: once it is stable, auto_failback gives it its
    /// groups back. Only then, as Heartbeat: after an operator's standby
    /// the groups stay where they were sent.
    failback_due: bool,
    /// It said `shutdone` (or `st=dead`) in its current generation.
    /// Heartbeat keeps sending its status for a second after that, until
    /// its final shutdown phase: those are its last words, and only a new
    /// generation brings it back.
    shut_down: bool,
}

/// This node, speaking Heartbeat's protocol to one Heartbeat node.
#[derive(Debug)]
pub struct Compat {
    p: Params,
    auth: Authenticator,
    peer_id: NodeId,
    uuid: [u8; 16],
    generation: u64,
    /// Wall-clock seconds at `Instant::ZERO`, for the `ts` field.
    wall_at_zero: u64,
    load: String,
    seq: u64,
    history: VecDeque<(u64, Message)>,
    peer: Peer,
    joined_at: Instant,
    next_keepalive: Instant,
    negotiation: Negotiation,
    standby: Standby,
    groups: Groups,
    transmits: VecDeque<Outgoing>,
    out: Outbox,
    counters: Counters,
    drops: DropLog,
    /// `on_stop_failure fence`: a group cannot be stopped; this node
    /// sends nothing more, so that the others fence it.
    silent: bool,
    /// `shutdone` sent: nothing more is said.
    gone: bool,
    /// The last `resource` message said `isstable=1`.
    announced_stable: bool,
    /// Legacy: groups the peer asked for, granted once stopped here.
    pending_grants: Mask,
    /// A gap in the peer's sequence numbers, asked for at this instant
    /// if still open: (when, first, last).
    rexmit: Option<(Instant, u64, u64)>,
    last_tick: Option<Instant>,
    /// Legacy: when this node last asked for its own groups.
    legacy_asked: Option<Instant>,
    #[doc(hidden)]
    pub bugs: Bugs,
}

impl Compat {
    /// `uuid` must stay the same across restarts (Heartbeat remembers
    /// nodes by it); `generation` must grow with every start, past any
    /// Heartbeat generation this node had (the partner may remember it).
    /// `running`: groups found running here at start.
    pub fn new(
        p: Params,
        auth: Authenticator,
        uuid: [u8; 16],
        generation: u64,
        wall_at_zero: u64,
        now: Instant,
        running: u64,
    ) -> Result<Compat, &'static str> {
        if p.nodes.len() != 2 {
            return Err("Heartbeat's haresources mode pairs exactly two nodes");
        }
        if !auth.has_heartbeat_key(auth.signing_index()) {
            return Err("the signing key must be crc, md5 or sha1: Heartbeat has no sha256");
        }
        let peer_id = if p.local == 0 { 1 } else { 0 };
        let peer = Peer {
            liveness: Liveness::Unknown,
            last_heard: now,
            deadtime: p.deadtime,
            generation: None,
            newest_seq: 0,
            seen: 0,
            fresh_generation: false,
            uuid: Vec::new(),
            links: vec![(now, false); p.links.len()],
            holds: 0,
            stable: false,
            unacked: 0,
            unauthentic_until: None,
            authenticated: false,
            unauthentic_since: None,
            backwards_said: false,
            last_message: Vec::new(),
            told: false,
            statement_seq: 0,
            failback_due: false,
            shut_down: false,
        };
        let groups = Groups::new(p.groups.len(), running);
        let mut c = Compat {
            p,
            auth,
            peer_id,
            uuid,
            generation,
            wall_at_zero,
            load: "0.00 0.00 0.00 1/1 1".to_string(),
            seq: 0,
            history: VecDeque::new(),
            peer,
            joined_at: now,
            next_keepalive: now,
            negotiation: Negotiation::Init,
            standby: Standby::Idle,
            groups,
            transmits: VecDeque::new(),
            out: Outbox::default(),
            counters: Counters::default(),
            drops: DropLog::default(),
            silent: false,
            gone: false,
            announced_stable: false,
            pending_grants: 0,
            rexmit: None,
            last_tick: None,
            legacy_asked: None,
            bugs: Bugs::default(),
        };
        c.leave(now);
        Ok(c)
    }

    pub fn params(&self) -> &Params {
        &self.p
    }

    /// A reloaded configuration's timings and keys; nodes, links and
    /// groups must stay.
    pub fn reconfigure(&mut self, p: Params, auth: Authenticator) -> Result<(), &'static str> {
        if p.nodes != self.p.nodes || p.local != self.p.local {
            return Err("the node list changed; restart tandem to change nodes");
        }
        if p.links != self.p.links {
            return Err("the links changed; restart tandem to change links");
        }
        if p.groups != self.p.groups {
            return Err("the resource groups changed; restart tandem to change haresources");
        }
        if !auth.has_heartbeat_key(auth.signing_index()) {
            return Err("the signing key must be crc, md5 or sha1: Heartbeat has no sha256");
        }
        self.p = p;
        self.auth = auth;
        Ok(())
    }

    /// Since when messages naming `node` have failed authentication
    /// (none since its last authentic one: None).
    pub fn unauthentic_since(&self, node: NodeId) -> Option<Instant> {
        (node == self.peer_id)
            .then_some(self.peer.unauthentic_since)
            .flatten()
    }

    /// The operator's `accept-generation`: the peer restarted with an
    /// older generation; its next message starts a new one.
    pub fn accept_generation(&mut self, now: Instant, node: NodeId) {
        let now = self.enter(now);
        if node == self.peer_id {
            self.peer.generation = None;
            self.peer.backwards_said = false;
        }
        self.leave(now);
    }

    /// Whether keys `auth` still accept the live peer's last authentic
    /// message: the peer if they do not (its key index is not known here).
    pub fn refused_by(&self, auth: &Authenticator) -> Option<(NodeId, u8)> {
        let live = self.peer.liveness == Liveness::Up && !self.peer.last_message.is_empty();
        let refused = live && hb::decode(&self.peer.last_message, auth).is_err();
        refused.then_some((self.peer_id, u8::MAX))
    }

    /// The counters so far, carried over when `wire auto` turns a native
    /// machine into this one: the status goes on counting.
    pub(crate) fn carry_counters(&mut self, counters: Counters) {
        self.counters = counters;
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    pub fn group(&self, g: GroupId) -> GroupState {
        self.groups.get(g)
    }

    pub fn liveness(&self, node: NodeId) -> Liveness {
        if node == self.peer_id {
            self.peer.liveness
        } else {
            Liveness::Up
        }
    }

    pub fn state(&self) -> NodeState {
        match self.negotiation {
            Negotiation::Init | Negotiation::Starting(_) | Negotiation::Rejoining(_) => {
                NodeState::Joining
            }
            Negotiation::Stable => NodeState::Active,
            Negotiation::Leaving => NodeState::Leaving,
        }
    }

    /// The generation, as the status output shows it (Heartbeat's may be
    /// wider; tandem's start at 1 and fit).
    pub fn generation(&self) -> u32 {
        self.generation as u32
    }

    pub fn last_heard(&self, node: NodeId) -> Option<Instant> {
        (node == self.peer_id && self.peer.liveness != Liveness::Unknown)
            .then_some(self.peer.last_heard)
    }

    pub fn link_state(&self, node: NodeId, link: LinkId) -> Option<(Instant, bool)> {
        if node == self.peer_id {
            self.peer.links.get(link).copied()
        } else {
            None
        }
    }

    /// Who runs group `g`: this node, or the Heartbeat node by its word.
    pub fn holder(&self, g: GroupId) -> Option<NodeId> {
        if self.group(g) != GroupState::Stopped {
            Some(self.p.local)
        } else if self.peer.liveness == Liveness::Up && self.peer.holds & bit(g) != 0 {
            Some(self.peer_id)
        } else {
            None
        }
    }

    pub fn declines(&self, g: GroupId) -> bool {
        self.failed(g)
    }

    /// This node's failures of group `g`, and when they expire.
    pub fn failures(&self, g: GroupId) -> (u32, Option<Instant>) {
        self.groups.failures(g, &self.p)
    }

    pub fn failed(&self, g: GroupId) -> bool {
        self.groups.failed() & bit(g) != 0
    }

    /// An event from outside the machine (the engine's), logged in order.
    pub(super) fn note(&mut self, now: Instant, event: Event) {
        self.out.event(now, event);
    }

    pub fn handle_noise(&mut self, _link: LinkId) {
        self.counters.drop(Drop::Noise);
    }

    /// Heartbeat v1 watches no resources; `monitor_interval` is refused
    /// with `wire heartbeat`, so this is never called.
    pub fn handle_monitor_failure(&mut self, _now: Instant, _g: GroupId) {}

    /// This node sends nothing more: the others declare it dead and fence
    /// it (a failfast client died under `on_stop_failure fence`).
    pub fn silence(&mut self) {
        self.silent = true;
    }

    /// The answer to [`Action::CheckStopped`] for group `g`. Under
    /// `on_stop_failure fence` this node goes silent: Heartbeat's peer
    /// declares it dead and fences it before taking over.
    pub fn handle_stop_checked(&mut self, now: Instant, g: GroupId, running: bool) {
        let now = self.enter(now);
        let stopped = self
            .groups
            .handle_stop_checked(now, g, running, &self.p, &mut self.out);
        self.silent |= !stopped && self.p.on_stop_failure == StopFailure::Fence;
        self.leave(now);
    }

    /// Fencing is refused with `wire heartbeat` (Heartbeat's STONITH
    /// exchange is not spoken); never called.
    pub fn handle_fence(&mut self, _now: Instant, _node: NodeId, _ok: bool) {}

    /// Ping nodes are refused with `wire heartbeat`; never called.
    pub fn handle_ping(&mut self, _now: Instant, _reachable: u8) {}

    /// Whether a standby exchange, a start or stop, or an auto_failback
    /// still to give (after the peer restarted) is under way: a command
    /// now may be undone by it.
    pub fn exchange_pending(&self) -> bool {
        let failback = self.p.auto_failback == AutoFailback::On && self.peer.failback_due;
        self.standby != Standby::Idle || failback || !self.settled()
    }

    /// The groups the Heartbeat node says it holds.
    pub fn peer_holds(&self, g: GroupId) -> bool {
        self.peer.holds & bit(g) != 0
    }

    /// The load average text sent in `ld` (the shell reads /proc/loadavg).
    pub fn set_load(&mut self, load: &str) {
        self.load = load.chars().filter(|c| !c.is_control()).take(64).collect();
    }

    pub fn poll_transmit(&mut self) -> Option<Outgoing> {
        self.transmits.pop_front()
    }

    pub fn poll_action(&mut self) -> Option<Action> {
        self.out.poll_action()
    }

    pub fn poll_event(&mut self) -> Option<(Instant, Event)> {
        self.out.poll_event()
    }

    // ---- inputs --------------------------------------------------------

    pub fn handle_timeout(&mut self, now: Instant) {
        let now = self.enter(now);
        self.leave(now);
    }

    /// A datagram or deframed serial message arrived on `link`.
    pub fn handle_frame(&mut self, now: Instant, link: LinkId, bytes: &[u8]) {
        let now = self.enter(now);
        self.counters.received += 1;
        match hb::decode(bytes, &self.auth) {
            Ok((msg, _)) => {
                self.accept(now, link, &msg, bytes);
                self.leave(now);
            }
            // Unlike tandem's own machine, Heartbeat's runs its whole pass
            // after a drop too: its exchanges were built on a pass per
            // message, and skipping it made a mixed pair's handover slower
            // now and then (tests/heartbeat_mixed.rs).
            Err(e) => {
                self.unauthentic(now, link, e.drop_reason(), bytes);
                self.leave(now);
            }
        }
    }

    pub fn handle_command(&mut self, now: Instant, command: Command) {
        let now = self.enter(now);
        match command {
            Command::Shutdown => self.shut_down(now),
            Command::Cleanup(mask) => {
                self.groups.cleanup(now, mask, &mut self.out);
            }
            _ if self.negotiation != Negotiation::Stable || self.standby != Standby::Idle => {
                self.out.event(
                    now,
                    Event::CommandRefused(
                        "the resources are not stable yet (Heartbeat's rule); try again shortly",
                    ),
                );
            }
            Command::Standby(_) | Command::Takeover(_) if self.legacy() => {
                self.out.event(now, Event::CommandRefused(
                        "Heartbeat's standby protocol needs auto_failback on or off (nice_failback), not legacy",
                    ),
                );
            }
            Command::Standby(which) => {
                let groups = self.which(which) & self.held();
                if groups != 0 && self.peer.liveness == Liveness::Up {
                    self.give(now, groups, which_word(which));
                }
            }
            Command::Takeover(which) => {
                let wanted = self.which(which);
                let failed_here = wanted & self.groups.failed();
                self.groups.clear_failed(wanted);
                let up = self.peer.liveness == Liveness::Up;
                if wanted & self.peer.holds != 0 && up {
                    let mut m = Message::new();
                    m.add("t", "hb_takeover").add("rsc_hold", which_word(which));
                    self.send(now, m);
                }
                // A group whose start failed here runs nowhere unless the
                // settled peer says it holds it (Heartbeat hands a failed
                // group to nobody): the operator's takeover starts it here.
                if !up || self.peer.stable {
                    let free = failed_here & !self.held() & !self.peer.holds;
                    self.start(now, free);
                    if free != 0 {
                        self.send_resources(now, None);
                    }
                }
            }
        }
        self.leave(now);
    }

    /// The last action on group `g` ended.
    pub fn handle_resource(&mut self, now: Instant, g: GroupId, outcome: Outcome) {
        let now = self.enter(now);
        self.groups
            .handle_resource(now, g, outcome, &self.p, &mut self.out);
        self.leave(now);
    }

    // ---- the machine ---------------------------------------------------

    fn enter(&mut self, now: Instant) -> Instant {
        let now = match self.last_tick {
            Some(last) if now < last => last,
            _ => now,
        };
        self.last_tick = Some(now);
        now
    }

    fn leave(&mut self, now: Instant) {
        if self.gone {
            return;
        }
        self.update_liveness(now);
        self.negotiate(now);
        self.progress_standby(now);
        self.groups.retry_stops(now, &mut self.out);
        self.groups.expire(now, &self.p, &mut self.out);
        self.finish_shutdown(now);
        if self.pending_grants != 0 {
            self.grant(now);
        }
        self.ask_again(now);
        if self.settled() && !self.announced_stable && self.standby == Standby::Idle {
            // Starts and stops are over: say so, as Heartbeat does.
            self.send_resources(now, None);
        }
        if now >= self.next_keepalive && !self.gone {
            if matches!(self.negotiation, Negotiation::Starting(_)) && !self.peer.told {
                // Our `starting` or its answer was lost (a node's first
                // messages are never asked for again): say it again,
                // rather than take groups it may hold after RQSTDELAY.
                let mut m = Message::new();
                m.add("t", "starting");
                self.send(now, m);
            }
            self.send_status(now);
        }
    }

    fn held(&self) -> Mask {
        self.groups.held()
    }

    fn running(&self) -> Mask {
        self.groups.running()
    }

    fn all(&self) -> Mask {
        (0..self.p.groups.len()).fold(0, |m, g| m | bit(g))
    }

    /// The groups whose haresources node is `node`.
    fn local_to(&self, node: NodeId) -> Mask {
        self.p
            .groups
            .iter()
            .enumerate()
            .filter(|(_, g)| g.preferred == node)
            .fold(0, |m, (g, _)| m | bit(g))
    }

    fn which(&self, which: Which) -> Mask {
        match which {
            Which::All => self.all(),
            Which::Local => self.local_to(self.p.local),
            Which::Foreign | Which::Failback => self.all() & !self.local_to(self.p.local),
        }
    }

    /// Heartbeat's `rsc_hold` word for `mask`, from `node`'s side.
    fn word_for(&self, node: NodeId, mask: Mask) -> &'static str {
        let local = self.local_to(node);
        let foreign = self.all() & !local;
        if mask == 0 {
            "none"
        } else if mask == self.all() {
            "all"
        } else if mask & !local == 0 {
            "local"
        } else if mask & !foreign == 0 {
            "foreign"
        } else {
            "all"
        }
    }

    /// The groups a `rsc_hold` word from `node` names.
    fn mask_of(&self, node: NodeId, word: &str) -> Option<Mask> {
        let local = self.local_to(node);
        match word {
            "none" => Some(0),
            "local" => Some(local),
            "foreign" => Some(self.all() & !local),
            "all" => Some(self.all()),
            _ => None,
        }
    }

    fn start(&mut self, now: Instant, groups: Mask) {
        for g in 0..self.groups.len() {
            if groups & bit(g) != 0 && self.groups.get(g) == GroupState::Stopped {
                self.groups.start(now, g, &mut self.out);
            }
        }
    }

    fn stop(&mut self, now: Instant, groups: Mask) {
        for g in 0..self.groups.len() {
            if groups & bit(g) != 0 {
                self.groups.stop(now, g, &mut self.out);
            }
        }
    }

    /// The group whose key (its first resource, as haresources writes it)
    /// a legacy message names.
    fn group_of(&self, key: Option<&str>) -> Option<GroupId> {
        let key = key?;
        self.p.groups.iter().position(|g| g.key == key)
    }
}

/// How Heartbeat names the groups of a command, from the commanding
/// node's side.
fn which_word(which: Which) -> &'static str {
    match which {
        Which::All => "all",
        Which::Local => "local",
        Which::Foreign | Which::Failback => "foreign",
    }
}

fn static_word(word: &str) -> &'static str {
    match word {
        "local" => "local",
        "foreign" => "foreign",
        "all" => "all",
        _ => "none",
    }
}

impl Peer {
    /// Records sequence number `seq`; false if it was seen before or is
    /// too old to tell.
    fn first_sight(&mut self, seq: u64) -> bool {
        if self.newest_seq == 0 {
            // The first message of this generation heard: what came
            // before it was said before this node listened, unless the
            // generation began while it did (then it is still to come).
            self.newest_seq = seq;
            self.seen = if self.fresh_generation { 1 } else { u64::MAX };
            return true;
        }
        if seq > self.newest_seq {
            let shift = seq - self.newest_seq;
            self.seen = if shift >= 64 { 0 } else { self.seen << shift };
            self.seen |= 1;
            self.newest_seq = seq;
            return true;
        }
        let back = self.newest_seq - seq;
        if back >= 64 || self.seen & (1 << back) != 0 {
            return false;
        }
        self.seen |= 1 << back;
        true
    }

    /// What a giver may give: what it holds, or what it names when it has
    /// not said (a giver that asked holds them).
    fn holds_or(&self, named: Mask) -> Mask {
        if self.holds & named != 0 {
            self.holds
        } else {
            named
        }
    }
}
