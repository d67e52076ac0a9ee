//! What the daemon and the simulator drive: one node of the cluster,
//! speaking tandem's own protocol ([`Node`]) or Heartbeat 3.0.6's
//! ([`Compat`]), over the one group lifecycle both share.
//!
//! `wire auto` is a transition of the engine, not of the shell: the shell
//! hands in every datagram and serial message; the first authentic
//! Heartbeat message from a configured node turns the native machine
//! into that node's Heartbeat partner, with the groups it holds.

use super::bugs::Bugs;
use super::command::Command;
use super::compat::{Compat, Outgoing};
use super::groups::{GroupState, Mask, Outcome};
use super::liveness::Liveness;
use super::node::Node;
use super::outbox::{Action, Counters, Event};
use super::params::{GroupId, LinkId, NodeId, Params};
use crate::time::Instant;
use crate::wire::frame::{Drop, NodeState};
use crate::wire::{heartbeat, sniff, Authenticator};

/// Bytes to send on every link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transmit {
    /// A native frame, the same on every link.
    Native(Vec<u8>),
    /// A Heartbeat message: netstring on UDP, text on serial lines.
    Heartbeat(Outgoing),
}

/// Which protocol a node speaks (ha.cf's `wire`), with what the shell
/// read for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wire {
    /// tandem's own frames.
    Native,
    /// Heartbeat's protocol, as the node with this Heartbeat uuid.
    Heartbeat { uuid: [u8; 16] },
    /// tandem's own until a configured node is heard speaking Heartbeat's:
    /// then its partner, as the node with this uuid (`Ok`). `Err` says why
    /// this configuration cannot be spoken in Heartbeat's protocol: the
    /// node stays native and says so once.
    Auto(Result<[u8; 16], String>),
}

/// What the shell reads once at start.
#[derive(Debug, Clone)]
pub struct Boot {
    pub wire: Wire,
    /// This start's generation (incremented and synced to disk by the
    /// shell at every start).
    pub generation: u32,
    /// The generations last recorded for the other nodes.
    pub known: Vec<Option<u32>>,
    /// Groups found running by the start-up status probe.
    pub running: Mask,
    /// Wall-clock seconds at `Instant::ZERO` (Heartbeat's `ts` field and
    /// its generations, which must outgrow any this host had before).
    pub wall_at_zero: u64,
}

/// What a native node does on hearing a Heartbeat node.
#[derive(Debug, Clone)]
pub enum Auto {
    /// `wire native`: it starts nothing while the node is heard.
    Never,
    /// `wire auto`: it becomes the node's partner (with this uuid).
    Answer([u8; 16]),
    /// `wire auto` that cannot: why, and whether it was said.
    Refused { why: String, said: bool },
}

impl Auto {
    fn of(wire: Wire) -> Auto {
        match wire {
            Wire::Native | Wire::Heartbeat { .. } => Auto::Never,
            Wire::Auto(Ok(uuid)) => Auto::Answer(uuid),
            Wire::Auto(Err(why)) => Auto::Refused { why, said: false },
        }
    }
}

/// One node of the cluster, in the protocol it speaks.
#[derive(Debug)]
pub enum Engine {
    Native {
        node: Box<Node>,
        auto: Auto,
        wall_at_zero: u64,
    },
    Heartbeat(Box<Compat>),
}

/// Calls the same method on whichever machine runs.
macro_rules! either {
    ($self:expr, $m:ident => $body:expr) => {
        match $self {
            Engine::Native { node: $m, .. } => $body,
            Engine::Heartbeat($m) => $body,
        }
    };
}

impl Engine {
    /// The engine of a node starting at `now`.
    pub fn new(
        p: Params,
        auth: Authenticator,
        boot: Boot,
        now: Instant,
    ) -> Result<Engine, &'static str> {
        let running = boot.running;
        match boot.wire {
            Wire::Heartbeat { uuid } => {
                let compat = heartbeat_machine(
                    p,
                    auth,
                    uuid,
                    boot.generation,
                    boot.wall_at_zero,
                    now,
                    running,
                )?;
                Ok(Engine::Heartbeat(Box::new(compat)))
            }
            wire => Ok(Engine::Native {
                node: Box::new(Node::new(
                    p,
                    auth,
                    boot.generation,
                    &boot.known,
                    running,
                    now,
                )),
                auto: Auto::of(wire),
                wall_at_zero: boot.wall_at_zero,
            }),
        }
    }

    /// Plants deliberate bugs (the simulator's checker tests).
    #[doc(hidden)]
    pub fn set_bugs(&mut self, bugs: Bugs) {
        either!(self, m => m.bugs = bugs)
    }

    // ---- reads ---------------------------------------------------------

    /// Whether this node speaks Heartbeat's protocol now.
    pub fn speaks_heartbeat(&self) -> bool {
        matches!(self, Engine::Heartbeat(_))
    }

    pub fn params(&self) -> &Params {
        either!(self, m => m.params())
    }

    pub fn state(&self) -> NodeState {
        either!(self, m => m.state())
    }

    pub fn generation(&self) -> u32 {
        either!(self, m => m.generation())
    }

    pub fn liveness(&self, node: NodeId) -> Liveness {
        either!(self, m => m.liveness(node))
    }

    pub fn last_heard(&self, node: NodeId) -> Option<Instant> {
        either!(self, m => m.last_heard(node))
    }

    /// Since when frames naming `node` have failed authentication, if
    /// they have since its last authentic one.
    pub fn unauthentic_since(&self, node: NodeId) -> Option<Instant> {
        either!(self, m => m.unauthentic_since(node))
    }

    /// Whether new keys still accept what every live node signs with: the
    /// node they would cut off, and its key index (u8::MAX: not known).
    pub fn refused_by(&self, auth: &Authenticator) -> Option<(NodeId, u8)> {
        either!(self, m => m.refused_by(auth))
    }

    /// The operator accepts `node`'s older generation (its state was
    /// lost): its next frame counts as a new start.
    pub fn accept_generation(&mut self, now: Instant, node: NodeId) {
        either!(self, m => m.accept_generation(now, node))
    }

    pub fn link_state(&self, node: NodeId, link: LinkId) -> Option<(Instant, bool)> {
        either!(self, m => m.link_state(node, link))
    }

    pub fn group(&self, g: GroupId) -> GroupState {
        either!(self, m => m.group(g))
    }

    pub fn holder(&self, g: GroupId) -> Option<NodeId> {
        either!(self, m => m.holder(g))
    }

    pub fn declines(&self, g: GroupId) -> bool {
        either!(self, m => m.declines(g))
    }

    /// This node's failures of group `g`, and when they expire.
    pub fn failures(&self, g: GroupId) -> (u32, Option<Instant>) {
        either!(self, m => m.failures(g))
    }

    pub fn failed(&self, g: GroupId) -> bool {
        either!(self, m => m.failed(g))
    }

    /// Heartbeat's protocol: an exchange (standby, auto_failback, a start
    /// or stop) is under way. tandem's own claims last, so never there.
    pub fn exchange_pending(&self) -> bool {
        match self {
            Engine::Native { .. } => false,
            Engine::Heartbeat(c) => c.exchange_pending(),
        }
    }

    pub fn counters(&self) -> &Counters {
        either!(self, m => m.counters())
    }

    // ---- outputs -------------------------------------------------------

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        match self {
            Engine::Native { node, .. } => node.poll_transmit().map(Transmit::Native),
            Engine::Heartbeat(c) => c.poll_transmit().map(Transmit::Heartbeat),
        }
    }

    pub fn poll_action(&mut self) -> Option<Action> {
        either!(self, m => m.poll_action())
    }

    pub fn poll_event(&mut self) -> Option<(Instant, Event)> {
        either!(self, m => m.poll_event())
    }

    pub fn poll_timeout(&self) -> Instant {
        either!(self, m => m.poll_timeout())
    }

    // ---- inputs --------------------------------------------------------

    pub fn handle_timeout(&mut self, now: Instant) {
        either!(self, m => m.handle_timeout(now))
    }

    /// A datagram or a deframed serial message on `link`, whatever it is.
    pub fn handle_frame(&mut self, now: Instant, link: LinkId, bytes: &[u8]) {
        let Engine::Native { node, .. } = self else {
            return either!(self, m => m.handle_frame(now, link, bytes));
        };
        if !sniff::looks_like_heartbeat(bytes) {
            return node.handle_frame(now, link, bytes);
        }
        // Decoded once: a stranger's flood of Heartbeat text costs one
        // digest per datagram.
        let decoded = heartbeat::decode(bytes, node.auth());
        if self.answer_heartbeat(now, bytes, decoded.as_ref().ok().map(|(m, _)| m)) {
            return either!(self, m => m.handle_frame(now, link, bytes));
        }
        if let Engine::Native { node, .. } = self {
            // Only an authentic, new message from another configured node
            // says that node speaks Heartbeat's protocol; anything else is
            // a drop, counted and logged, and decides nothing.
            match decoded {
                Ok((msg, _)) => match heartbeat_sender(node.params(), &msg) {
                    Some((id, order)) => node.handle_heartbeat_traffic(now, link, id, order),
                    None => node.handle_dropped(Drop::Heartbeat),
                },
                Err(e) => {
                    let src = sniff::heartbeat_source(bytes).unwrap_or_default();
                    node.handle_unauthentic(now, link, e.drop_reason(), &src);
                }
            }
        }
    }

    pub fn handle_noise(&mut self, link: LinkId) {
        either!(self, m => m.handle_noise(link))
    }

    pub fn handle_command(&mut self, now: Instant, command: Command) {
        either!(self, m => m.handle_command(now, command))
    }

    pub fn handle_resource(&mut self, now: Instant, g: GroupId, outcome: Outcome) {
        either!(self, m => m.handle_resource(now, g, outcome))
    }

    pub fn handle_monitor_failure(&mut self, now: Instant, g: GroupId) {
        either!(self, m => m.handle_monitor_failure(now, g))
    }

    /// Sends nothing more, in either protocol (to be fenced).
    pub fn silence(&mut self) {
        either!(self, m => m.silence())
    }

    pub fn handle_stop_checked(&mut self, now: Instant, g: GroupId, running: bool) {
        either!(self, m => m.handle_stop_checked(now, g, running))
    }

    pub fn handle_fence(&mut self, now: Instant, node: NodeId, ok: bool) {
        either!(self, m => m.handle_fence(now, node, ok))
    }

    pub fn handle_ping(&mut self, now: Instant, reachable: u8) {
        either!(self, m => m.handle_ping(now, reachable))
    }

    /// A reloaded configuration (same nodes, links and groups). A native
    /// node takes the new `wire` for what it does on hearing Heartbeat; a
    /// node that speaks Heartbeat's protocol keeps speaking it.
    pub fn reconfigure(
        &mut self,
        p: Params,
        auth: Authenticator,
        wire: Wire,
    ) -> Result<(), &'static str> {
        match self {
            Engine::Native { node, auto, .. } => {
                node.reconfigure(p, auth)?;
                *auto = Auto::of(wire);
                Ok(())
            }
            Engine::Heartbeat(c) => c.reconfigure(p, auth),
        }
    }

    // ---- wire auto -----------------------------------------------------

    /// `wire auto`: whether Heartbeat message `bytes` turned this native
    /// node into its sender's Heartbeat partner. Only an authentic
    /// message from another configured node does.
    fn answer_heartbeat(
        &mut self,
        now: Instant,
        bytes: &[u8],
        msg: Option<&heartbeat::Message>,
    ) -> bool {
        let Engine::Native {
            node,
            auto,
            wall_at_zero,
        } = self
        else {
            return false;
        };
        let uuid = match auto {
            Auto::Never => return false,
            Auto::Refused { why, said } => {
                if !*said {
                    if let Some(id) = sniff::heartbeat_source(bytes)
                        .and_then(|src| other_node(node.params(), &src))
                    {
                        *said = true;
                        let why = why.clone();
                        node.note(now, Event::HeartbeatRefused { node: id, why });
                    }
                }
                return false;
            }
            Auto::Answer(uuid) => *uuid,
        };
        let Some(msg) = msg else {
            return false;
        };
        let Some((id, order)) = heartbeat_sender(node.params(), msg) else {
            return false;
        };
        // Not while the node speaks tandem's protocol to us: an authentic
        // Heartbeat message from a node authenticated natively within
        // deadtime is a replay, and must not turn the pair's protocol.
        if node.native_within_deadtime(now, id) || !node.heartbeat_is_new(id, order) {
            return false;
        }
        // Whatever is not stopped counts as held: a start or stop under
        // way finishes unseen by the new machine, and claiming a group
        // too long is safer than two owners.
        let p = node.params().clone();
        let running = (0..p.groups.len())
            .filter(|&g| node.group(g) != GroupState::Stopped)
            .fold(0, |m, g| m | super::groups::bit(g));
        let bugs = node.bugs;
        let generation = node.generation();
        let auth = node.auth().clone();
        match heartbeat_machine(p, auth, uuid, generation, *wall_at_zero, now, running) {
            Ok(mut compat) => {
                compat.bugs = bugs;
                compat.carry_counters(node.counters().clone());
                compat.note(now, Event::HeartbeatAnswered(id));
                *self = Engine::Heartbeat(Box::new(compat));
                true
            }
            Err(why) => {
                *auto = Auto::Refused {
                    why: why.to_string(),
                    said: true,
                };
                node.note(
                    now,
                    Event::HeartbeatRefused {
                        node: id,
                        why: why.to_string(),
                    },
                );
                false
            }
        }
    }
}

/// The one place the Heartbeat machine is built. Heartbeat's partner drops
/// a generation lower than one it knows, and takes an equal one for the
/// same run (a restarted node's messages would be replays): the wall
/// clock keeps ahead of the generation this host's Heartbeat had, and
/// adding tandem's own generation (one more at every start) makes two
/// starts within one second differ.
fn heartbeat_machine(
    p: Params,
    auth: Authenticator,
    uuid: [u8; 16],
    generation: u32,
    wall_at_zero: u64,
    now: Instant,
    running: Mask,
) -> Result<Compat, &'static str> {
    let wall = wall_at_zero + now.as_micros() / 1_000_000;
    let hg = wall + u64::from(generation);
    Compat::new(p, auth, uuid, hg, wall_at_zero, now, running)
}

/// The configured node (other than this one) an authentic Heartbeat
/// message comes from, and its order: (generation, sequence), the
/// sequence 0 for control messages that carry none.
fn heartbeat_sender(p: &Params, msg: &heartbeat::Message) -> Option<(NodeId, (u64, u64))> {
    let id = msg.str("src").and_then(|src| other_node(p, src))?;
    let generation = msg.hex("hg")?;
    Some((id, (generation, msg.hex("seq").unwrap_or(0))))
}

/// The id of the configured node named `src`, other than this one.
fn other_node(p: &Params, src: &str) -> Option<NodeId> {
    p.nodes
        .iter()
        .position(|n| n.eq_ignore_ascii_case(src))
        .filter(|&i| i != usize::from(p.local))
        .map(|i| i as NodeId)
}
