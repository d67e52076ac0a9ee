//! One node's membership and resource-ownership state machine.
//!
//! Inputs come in through `handle_*` with the caller's `now`; outputs wait
//! in queues drained with `poll_*` (frames to send, actions for the shell,
//! events for the log), and [`Node::poll_timeout`] says when to call
//! [`Node::handle_timeout`] next. No I/O, no clock, no threads: the daemon
//! and the simulator drive the same code.
//!
//! # How ownership is decided
//!
//! Every keepalive carries the sender's status: which groups it holds
//! (running, starting, stopping), which it is stopping, which it declines
//! (operator standby, failed starts), its ping connectivity, and any
//! operator takeover claim. From the latest status of every live node,
//! each node computes the same *designated owner* of each group
//! ([`Node::designate`]). A node stops a group it runs but is not
//! designated for, and starts a group it is designated for only when no
//! live node holds it any more: the old owner's stop completes before the
//! new owner's start begins. A node that falls silent on every link for
//! deadtime is dead; its groups are taken over (after fencing, when a
//! STONITH device is configured).
//!
//! This file is the machine's face (inputs, outputs, timers, the frames it
//! sends); `membership` accepts frames and decides who is alive, and
//! `ownership` holds the election rule and the start gate.

mod membership;
mod ownership;

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
use crate::wire::frame::{Ack, Claim, Drop, Frame, Kind, NodeState, Status, ACKS_MAX, PROBES_MAX};
use crate::wire::Authenticator;
use std::collections::VecDeque;
use std::fmt;

/// How far behind the newest sequence number a frame may be on a link it
/// has not been seen on: bounds cross-link replays of captured frames.
pub const REPLAY_WINDOW: u32 = 64;

/// How many goodbye frames a leaving node sends (each on every link).
const GOODBYES: u32 = 3;

#[derive(Debug, Clone)]
struct Peer {
    liveness: Liveness,
    last_heard: Instant,
    warned: bool,
    generation: Option<u32>,
    newest_seq: u32,
    /// Per link: last heard, newest sequence seen there, up or down.
    links: Vec<(Instant, u32, bool)>,
    /// Latest status and claim (from the newest frame).
    status: Option<Status>,
    claim: Option<Claim>,
    /// The newest acknowledgement of this node's frames it sent:
    /// (our generation, our sequence).
    acked: Option<(u32, u32)>,
    /// A dead node that may hold resources and must be fenced first.
    fence: Fence,
    /// Warnings already given for this death.
    warned_unfenced: bool,
    warned_ping: bool,
    /// Authentic Heartbeat traffic from this node heard until this instant.
    heartbeat_until: Option<Instant>,
    /// An authentic frame came from this node since this one started.
    authenticated: bool,
    /// Frames naming this node fail authentication, and it was never
    /// authenticated: it is alive with another key. Until this instant,
    /// it is not declared dead and nothing starts without an operator.
    wrong_key_until: Option<Instant>,
    /// Frames naming this node have failed authentication since its last
    /// authentic one, from this instant (status shows it).
    unauthentic_since: Option<Instant>,
    /// The generation-went-backwards line was written.
    backwards_said: bool,
    /// The newest authentic Heartbeat message heard from it: (generation,
    /// sequence). Older or equal ones are replays.
    heartbeat_order: Option<(u64, u64)>,
    /// Its last authentic frame, as it came: a reload must still accept
    /// it (new keys that the node does not sign with would split the pair).
    last_frame: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fence {
    NotNeeded,
    Needed,
    Pending,
    Done,
}

/// What to do with a claimed group.
enum Verdict {
    Withdraw,
    Wait,
    Go,
}

/// One node of the cluster.
pub struct Node {
    p: Params,
    auth: Authenticator,
    generation: u32,
    sequence: u32,
    state: NodeState,
    joined_at: Instant,
    last_tick: Option<Instant>,
    next_keepalive: Instant,
    last_sent: Instant,
    dirty: bool,
    /// After a freeze: release everything before rejoining.
    release_all: bool,
    goodbyes_sent: u32,
    peers: Vec<Peer>,
    groups: Groups,
    /// Per group, the nodes already reported running it beside this one.
    split_seen: Vec<u128>,
    standby: Mask,
    claim: Option<Claim>,
    epoch_seen: u16,
    ping: u8,
    transmits: VecDeque<Vec<u8>>,
    out: Outbox,
    counters: Counters,
    drops: DropLog,
    /// `on_stop_failure fence`: a group cannot be stopped; this node
    /// sends nothing more, so that the others fence it.
    silent: bool,
    #[doc(hidden)]
    pub bugs: Bugs,
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Node")
            .field("node", &self.p.name(self.p.local))
            .field("state", &self.state)
            .field("groups", &self.groups)
            .finish()
    }
}

impl Node {
    /// A node starting at `now` with generation `generation` (incremented
    /// and synced to disk by the caller at every start), the generations
    /// it last recorded for other nodes, and the groups found already
    /// running by the start-up status probe.
    pub fn new(
        p: Params,
        auth: Authenticator,
        generation: u32,
        known: &[Option<u32>],
        running: Mask,
        now: Instant,
    ) -> Node {
        let n = p.node_count();
        let peer = Peer {
            liveness: Liveness::Unknown,
            last_heard: now,
            warned: false,
            generation: None,
            newest_seq: 0,
            links: vec![(now, 0, false); p.links.len()],
            status: None,
            claim: None,
            acked: None,
            fence: Fence::NotNeeded,
            warned_unfenced: false,
            warned_ping: false,
            heartbeat_until: None,
            authenticated: false,
            wrong_key_until: None,
            unauthentic_since: None,
            backwards_said: false,
            heartbeat_order: None,
            last_frame: Vec::new(),
        };
        let mut peers = vec![peer; n];
        for (i, g) in known.iter().enumerate().take(n) {
            peers[i].generation = *g;
        }
        let groups = Groups::new(p.groups.len(), running);
        let count = p.groups.len();
        let mut node = Node {
            p,
            auth,
            generation,
            sequence: 0,
            state: NodeState::Joining,
            joined_at: now,
            last_tick: None,
            next_keepalive: now,
            last_sent: now,
            dirty: true,
            release_all: false,
            goodbyes_sent: 0,
            peers,
            groups,
            split_seen: vec![0; count],
            standby: 0,
            claim: None,
            epoch_seen: 0,
            ping: 0,
            transmits: VecDeque::new(),
            out: Outbox::default(),
            counters: Counters::default(),
            drops: DropLog::default(),
            silent: false,
            bugs: Bugs::default(),
        };
        node.handle_timeout(now);
        node
    }

    // ---- getters -------------------------------------------------------

    pub fn params(&self) -> &Params {
        &self.p
    }

    pub fn id(&self) -> NodeId {
        self.p.local
    }

    pub fn state(&self) -> NodeState {
        self.state
    }

    pub fn group(&self, g: GroupId) -> GroupState {
        self.groups.get(g)
    }

    pub fn liveness(&self, node: NodeId) -> Liveness {
        self.peers
            .get(usize::from(node))
            .map(|p| p.liveness)
            .unwrap_or(Liveness::Unknown)
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    pub fn generation(&self) -> u32 {
        self.generation
    }

    /// When `node` was last heard (on any link), if ever since joining.
    pub fn last_heard(&self, node: NodeId) -> Option<Instant> {
        let peer = self.peers.get(usize::from(node))?;
        (peer.liveness != Liveness::Unknown).then_some(peer.last_heard)
    }

    /// Link `link` towards `node`: when last heard on it, and whether up.
    pub fn link_state(&self, node: NodeId, link: LinkId) -> Option<(Instant, bool)> {
        let peer = self.peers.get(usize::from(node))?;
        let &(heard, _, up) = peer.links.get(link)?;
        Some((heard, up))
    }

    /// Which node this one believes runs group `g` (itself included).
    pub fn holder(&self, g: GroupId) -> Option<NodeId> {
        if self.group(g).held() {
            return Some(self.p.local);
        }
        self.peers.iter().enumerate().find_map(|(i, peer)| {
            let held = peer.liveness == Liveness::Up
                && peer.status.as_ref().is_some_and(|s| s.held & bit(g) != 0);
            held.then_some(i as NodeId)
        })
    }

    /// Applies a reloaded configuration's timings, failback policy and
    /// keys. Nodes, links and groups must be the same: changing those
    /// would drop state the cluster relies on (restart for that).
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
        if p.cluster != self.p.cluster {
            return Err("the cluster name changed; restart tandem to change it");
        }
        self.p = p;
        self.auth = auth;
        self.dirty = true;
        Ok(())
    }

    /// Whether keys `auth` still accept what every live node signs with:
    /// the node whose last authentic frame they refuse, and its key index.
    pub fn refused_by(&self, auth: &Authenticator) -> Option<(NodeId, u8)> {
        self.peers.iter().enumerate().find_map(|(i, peer)| {
            let live = peer.liveness == Liveness::Up && !peer.last_frame.is_empty();
            let refused = live && Frame::decode(&peer.last_frame, self.p.cluster, auth).is_err();
            refused.then(|| (i as NodeId, peer.last_frame.get(3).map_or(0, |b| b & 0x0f)))
        })
    }

    /// Whether this node gives group `g` away (standby) or failed it.
    pub fn declines(&self, g: GroupId) -> bool {
        (self.standby | self.groups.failed()) & bit(g) != 0
    }

    /// This node's failures of group `g`, and when they expire.
    pub fn failures(&self, g: GroupId) -> (u32, Option<Instant>) {
        self.groups.failures(g, &self.p)
    }

    /// Whether group `g` failed to start here (until a takeover command).
    pub fn failed(&self, g: GroupId) -> bool {
        self.groups.failed() & bit(g) != 0
    }

    // ---- outputs -------------------------------------------------------

    /// A frame to send on every link.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmits.pop_front()
    }

    pub fn poll_action(&mut self) -> Option<Action> {
        self.out.poll_action()
    }

    pub fn poll_event(&mut self) -> Option<(Instant, Event)> {
        self.out.poll_event()
    }

    /// When [`Node::handle_timeout`] must be called next.
    pub fn poll_timeout(&self) -> Instant {
        let mut next = self.next_keepalive.min(self.next_probe());
        let mut consider = |t: Instant| next = next.min(t);
        for (i, peer) in self.peers.iter().enumerate() {
            if i == usize::from(self.p.local) {
                continue;
            }
            match peer.liveness {
                // A death waits while frames naming the peer fail
                // authentication (another key): look again when that ends.
                Liveness::Unknown => consider(
                    self.joined_at
                        .plus(self.p.initdead)
                        .max(peer.wrong_key_until.unwrap_or(Instant::ZERO)),
                ),
                Liveness::Up => {
                    if !peer.warned {
                        consider(peer.last_heard.plus(self.p.warntime));
                    }
                    consider(peer.last_heard.plus(self.p.deadtime));
                }
                Liveness::Dead => {}
            }
            for &(heard, _, up) in &peer.links {
                if up {
                    consider(heard.plus(self.p.deadtime));
                }
            }
            if let Some(until) = peer.heartbeat_until {
                consider(until);
            }
        }
        if let Some(at) = self.groups.next_retry() {
            consider(at);
        }
        if let Some(at) = self.groups.next_expiry(&self.p) {
            consider(at);
        }
        next
    }

    // ---- inputs --------------------------------------------------------

    pub fn handle_timeout(&mut self, now: Instant) {
        let now = self.enter(now);
        self.leave(now);
    }

    /// A datagram or deframed serial frame arrived on `link`.
    pub fn handle_frame(&mut self, now: Instant, link: LinkId, bytes: &[u8]) {
        let now = self.enter(now);
        self.counters.received += 1;
        match Frame::decode(bytes, self.p.cluster, &self.auth) {
            Ok(frame) => {
                self.accept(now, link, frame, bytes);
                self.leave(now);
            }
            Err(reason) => {
                let claimed = Frame::claimed_source(bytes);
                self.dropped(now, link, reason, claimed);
                self.leave_after_drop(now);
            }
        }
    }

    /// After a drop: nothing the machine decides changed, so nothing is
    /// decided now (what falls due is done at the next timeout, as if the
    /// datagram had never come); a flood of forgeries costs no more than
    /// counting them. Only a thaw noticed on the way in is acted on.
    fn leave_after_drop(&mut self, now: Instant) {
        if self.release_all {
            self.leave(now);
        }
    }

    /// A datagram the engine read and dropped before it reached the
    /// machine: received and dropped, as every datagram is counted once.
    pub fn handle_dropped(&mut self, reason: Drop) {
        self.counters.received += 1;
        self.counters.drop(reason);
    }

    /// An event from outside the machine (the engine's), logged in order.
    pub(super) fn note(&mut self, now: Instant, event: Event) {
        self.out.event(now, event);
    }

    pub(super) fn auth(&self) -> &Authenticator {
        &self.auth
    }

    /// Something that was no frame arrived on `link` (serial noise).
    pub fn handle_noise(&mut self, _link: LinkId) {
        self.counters.drop(Drop::Noise);
    }

    /// Heartbeat 3.0.6 traffic from the node named `src` arrived. While a
    /// configured node speaks Heartbeat, this node starts nothing: the
    /// other node may run the service under Heartbeat's own rules.
    /// An authentic Heartbeat 3.0.6 message from node `src` (the engine
    /// verified it): that node speaks Heartbeat's protocol, so nothing
    /// starts while it is heard. Unauthentic Heartbeat text goes to
    /// [`Node::handle_unauthentic`] instead and holds nothing back.
    pub fn handle_heartbeat_traffic(
        &mut self,
        now: Instant,
        link: LinkId,
        node: NodeId,
        order: (u64, u64),
    ) {
        let now = self.enter(now);
        self.counters.received += 1;
        let id = usize::from(node);
        if id >= self.peers.len() || node == self.p.local {
            self.leave(now);
            return;
        }
        // A replayed capture says nothing about now; nor does Heartbeat
        // text naming a node that this node authenticated natively within
        // deadtime (a tandem node does not speak both at once).
        if !self.heartbeat_is_new(node, order) || self.native_within_deadtime(now, node) {
            self.dropped(now, link, Drop::Replay, Some(node));
            return self.leave_after_drop(now);
        }
        self.counters.drop(Drop::Heartbeat);
        let peer = &mut self.peers[id];
        peer.heartbeat_order = Some(order);
        if peer.heartbeat_until.is_none() {
            self.out.event(now, Event::HeartbeatPeer(node));
        }
        peer.heartbeat_until = Some(now.plus(self.p.deadtime));
        self.leave(now);
    }

    /// Whether `node` was authenticated in tandem's own protocol within
    /// the last deadtime.
    pub fn native_within_deadtime(&self, now: Instant, node: NodeId) -> bool {
        self.liveness(node) == Liveness::Up
            && self
                .last_heard(node)
                .is_some_and(|t| now.since(t) < self.p.deadtime)
    }

    /// Whether an authentic Heartbeat message of this (generation,
    /// sequence) from `node` is newer than any heard since this start.
    pub fn heartbeat_is_new(&self, node: NodeId, order: (u64, u64)) -> bool {
        self.peers
            .get(usize::from(node))
            .is_some_and(|p| p.heartbeat_order.is_none_or(|seen| order > seen))
    }

    /// Heartbeat text on `link` that failed Heartbeat's authentication
    /// (`reason`), claiming to come from `src`.
    pub fn handle_unauthentic(&mut self, now: Instant, link: LinkId, reason: Drop, src: &str) {
        let now = self.enter(now);
        self.counters.received += 1;
        let claimed = self
            .p
            .nodes
            .iter()
            .position(|n| n.eq_ignore_ascii_case(src))
            .map(|i| i as NodeId);
        self.dropped(now, link, reason, claimed);
        self.leave_after_drop(now);
    }

    /// Makes the operator's `accept-generation`: `node` restarted with an
    /// older generation (its state was lost); its next frame is taken as
    /// the first of a new start.
    pub fn accept_generation(&mut self, now: Instant, node: NodeId) {
        let now = self.enter(now);
        if let Some(peer) = self.peers.get_mut(usize::from(node)) {
            peer.generation = None;
            peer.backwards_said = false;
        }
        self.leave(now);
    }

    /// Since when frames naming `node` have failed authentication (none
    /// since its last authentic frame: None).
    pub fn unauthentic_since(&self, node: NodeId) -> Option<Instant> {
        self.peers.get(usize::from(node))?.unauthentic_since
    }

    pub fn handle_command(&mut self, now: Instant, command: Command) {
        let now = self.enter(now);
        if let Command::Cleanup(mask) = command {
            // The operator's word on this node's own groups: no need to
            // have joined.
            if self.groups.cleanup(now, mask, &mut self.out) {
                self.dirty = true;
            }
            return self.leave(now);
        }
        if self.state != NodeState::Active && command != Command::Shutdown {
            // Until it has heard the cluster, this node cannot know which
            // claims are newer than its own (Heartbeat likewise refuses
            // standby before the resources are stable).
            self.out.event(
                now,
                Event::CommandRefused(
                    "this node has not joined the cluster yet; try again shortly",
                ),
            );
            return self.leave(now);
        }
        match command {
            Command::Standby(which) => {
                let mask = self.which(which);
                self.standby |= mask;
                self.drop_claim(mask);
            }
            Command::Takeover(which) => {
                let mask = self.which(which);
                self.standby &= !mask;
                self.groups.clear_failed(mask);
                self.epoch_seen = self.epoch_seen.wrapping_add(1);
                let groups = self.claim.map(|c| c.groups).unwrap_or(0) | mask;
                self.claim = Some(Claim {
                    epoch: self.epoch_seen,
                    groups,
                });
            }
            Command::Shutdown => self.state = NodeState::Leaving,
            Command::Cleanup(_) => {}
        }
        self.dirty = true;
        self.leave(now);
    }

    /// The last action on group `g` ended.
    pub fn handle_resource(&mut self, now: Instant, g: GroupId, outcome: Outcome) {
        let now = self.enter(now);
        self.groups
            .handle_resource(now, g, outcome, &self.p, &mut self.out);
        self.dirty = true;
        self.leave(now);
    }

    /// A resource of running group `g` failed its monitor (the service
    /// died under it): restarted in place below `migration_threshold`,
    /// else stopped here and left to another node.
    pub fn handle_monitor_failure(&mut self, now: Instant, g: GroupId) {
        let now = self.enter(now);
        if self.groups.monitor_failed(now, g, &self.p, &mut self.out) {
            self.dirty = true;
        }
        self.leave(now);
    }

    /// This node sends nothing more: the others declare it dead and fence
    /// it (a failfast client died under `on_stop_failure fence`).
    pub fn silence(&mut self) {
        self.silent = true;
    }

    /// The answer to [`Action::CheckStopped`] for group `g`.
    pub fn handle_stop_checked(&mut self, now: Instant, g: GroupId, running: bool) {
        let now = self.enter(now);
        let stopped = self
            .groups
            .handle_stop_checked(now, g, running, &self.p, &mut self.out);
        // on_stop_failure fence: silent, so that the others declare this
        // node dead and fence it before they take its groups over.
        self.silent |= !stopped && self.p.on_stop_failure == StopFailure::Fence;
        self.dirty = true;
        self.leave(now);
    }

    /// The fencing of `node` requested with [`Action::Fence`] ended.
    pub fn handle_fence(&mut self, now: Instant, node: NodeId, ok: bool) {
        let now = self.enter(now);
        if let Some(peer) = self.peers.get_mut(usize::from(node)) {
            if peer.fence == Fence::Pending {
                if ok {
                    // A fenced node holds nothing.
                    peer.fence = Fence::Done;
                    if let Some(s) = &mut peer.status {
                        s.held = 0;
                        s.stopping = 0;
                    }
                } else {
                    peer.fence = Fence::Needed;
                    self.out.event(now, Event::FenceFailed(node));
                }
            }
        }
        self.leave(now);
    }

    /// How many ping nodes this node reaches now.
    pub fn handle_ping(&mut self, now: Instant, reachable: u8) {
        let now = self.enter(now);
        if self.ping != reachable.min(15) {
            self.ping = reachable.min(15);
            self.dirty = true;
        }
        self.leave(now);
    }

    // ---- the machine ---------------------------------------------------

    /// Every input starts here: time never runs backwards, and a gap
    /// longer than deadtime means this node was frozen.
    fn enter(&mut self, now: Instant) -> Instant {
        let now = match self.last_tick {
            Some(last) if now < last => last,
            _ => now,
        };
        if let Some(last) = self.last_tick {
            let gap = now.since(last);
            if gap >= self.p.deadtime {
                self.thaw(now, gap);
            }
        }
        self.last_tick = Some(now);
        now
    }

    /// This node was frozen (stopped, starved) longer than deadtime: the
    /// others have declared it dead and taken over. Release everything at
    /// once and rejoin, rather than run groups beside the new owner.
    fn thaw(&mut self, now: Instant, gap: Time) {
        self.out.event(now, Event::Frozen { gap });
        self.release_all = true;
        if self.state == NodeState::Active {
            self.state = NodeState::Joining;
        }
        self.joined_at = now;
        for (i, peer) in self.peers.iter_mut().enumerate() {
            if i != usize::from(self.p.local) {
                peer.liveness = Liveness::Unknown;
                for link in &mut peer.links {
                    link.2 = false;
                }
            }
        }
        self.dirty = true;
    }

    fn leave(&mut self, now: Instant) {
        if self.goodbyes_sent >= GOODBYES {
            // Gone: the shell exits; nothing more is said or done.
            return;
        }
        self.update_liveness(now);
        if self.groups.expire(now, &self.p, &mut self.out) {
            self.dirty = true;
        }
        self.decide(now);
        if self.dirty || now >= self.next_keepalive || now >= self.next_probe() {
            self.send(now, Kind::Keepalive);
        }
    }

    fn status(&self) -> Status {
        Status {
            state: self.state,
            ping: self.ping,
            held: self.groups.held(),
            stopping: self.groups.stopping(),
            standby: self.standby,
            failed: self.groups.failed(),
            intent: self.groups.claiming(),
        }
    }

    fn send(&mut self, now: Instant, kind: Kind) {
        if self.silent {
            // Nothing goes out, but the schedule moves on: a keepalive
            // left due would wake the loop at once, for ever.
            self.next_keepalive = now.plus(self.p.keepalive);
            self.last_sent = now;
            self.dirty = false;
            return;
        }
        self.sequence = self.sequence.wrapping_add(1);
        let frame = Frame {
            kind,
            cluster: self.p.cluster,
            source: self.p.local,
            generation: self.generation,
            sequence: self.sequence,
            status: self.status(),
            claim: self.claim,
            acks: self.acks(),
            probes: self.late_peers(),
        };
        let mut out = Vec::with_capacity(48);
        frame.encode(self.p.groups.len(), &self.auth, &mut out);
        self.transmits.push_back(out);
        self.counters.sent += 1;
        self.next_keepalive = now.plus(self.p.keepalive);
        self.last_sent = now;
        self.dirty = false;
    }

    /// Acknowledgements for the nodes that wait for them (intent to start).
    fn acks(&self) -> Vec<Ack> {
        let mut acks = Vec::new();
        for (i, peer) in self.peers.iter().enumerate() {
            let waiting = peer.status.is_some_and(|s| s.intent != 0);
            if let (true, Some(generation)) =
                (waiting && peer.liveness == Liveness::Up, peer.generation)
            {
                if acks.len() < ACKS_MAX {
                    acks.push(Ack {
                        node: i as NodeId,
                        generation,
                        sequence: peer.newest_seq,
                    });
                }
            }
        }
        acks
    }
}
