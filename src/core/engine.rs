//! What the daemon drives: tandem's own protocol ([`Node`]) or
//! Heartbeat's ([`Compat`]), behind one interface, so that the event loop,
//! the control socket and the status output are the same for both.

use super::compat::{Compat, Outgoing};
use super::groups::{GroupState, Outcome};
use super::node::{Command, Liveness, Node};
use super::outbox::{Action, Counters, Event};
use super::params::{GroupId, LinkId, NodeId, Params};
use super::time::Instant;
use crate::wire::frame::NodeState;

/// Bytes to send on every link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transmit {
    /// A native frame, the same on every link.
    Native(Vec<u8>),
    /// A Heartbeat message: netstring on UDP, text on serial lines.
    Heartbeat(Outgoing),
}

pub trait Engine: std::fmt::Debug {
    fn params(&self) -> &Params;
    fn state(&self) -> NodeState;
    fn generation(&self) -> u32;
    fn liveness(&self, node: NodeId) -> Liveness;
    fn last_heard(&self, node: NodeId) -> Option<Instant>;
    fn link_state(&self, node: NodeId, link: LinkId) -> Option<(Instant, bool)>;
    fn group(&self, g: GroupId) -> GroupState;
    fn holder(&self, g: GroupId) -> Option<NodeId>;
    fn declines(&self, g: GroupId) -> bool;
    fn failed(&self, g: GroupId) -> bool;
    fn counters(&self) -> &Counters;

    fn poll_transmit(&mut self) -> Option<Transmit>;
    fn poll_action(&mut self) -> Option<Action>;
    fn poll_event(&mut self) -> Option<(Instant, Event)>;
    fn poll_timeout(&self) -> Instant;

    fn handle_timeout(&mut self, now: Instant);
    /// A datagram or a deframed serial message on `link`.
    fn handle_frame(&mut self, now: Instant, link: LinkId, bytes: &[u8]);
    fn handle_noise(&mut self, link: LinkId);
    /// Heartbeat traffic seen by a node that does not speak it.
    fn handle_heartbeat_traffic(&mut self, now: Instant, src: &str);
    fn handle_command(&mut self, now: Instant, command: Command);
    fn handle_resource(&mut self, now: Instant, g: GroupId, outcome: Outcome);
    fn handle_monitor_failure(&mut self, now: Instant, g: GroupId);
    fn handle_fence(&mut self, now: Instant, node: NodeId, ok: bool);
    fn handle_ping(&mut self, now: Instant, reachable: u8);
    /// A reloaded configuration (same nodes, links and groups).
    fn reconfigure(
        &mut self,
        p: Params,
        auth: crate::wire::Authenticator,
    ) -> Result<(), &'static str>;
    /// Whether this engine speaks Heartbeat's protocol.
    fn speaks_heartbeat(&self) -> bool;
}

macro_rules! delegate_reads {
    () => {
        fn params(&self) -> &Params {
            Self::params(self)
        }
        fn state(&self) -> NodeState {
            Self::state(self)
        }
        fn generation(&self) -> u32 {
            Self::generation(self)
        }
        fn liveness(&self, node: NodeId) -> Liveness {
            Self::liveness(self, node)
        }
        fn last_heard(&self, node: NodeId) -> Option<Instant> {
            Self::last_heard(self, node)
        }
        fn link_state(&self, node: NodeId, link: LinkId) -> Option<(Instant, bool)> {
            Self::link_state(self, node, link)
        }
        fn group(&self, g: GroupId) -> GroupState {
            Self::group(self, g)
        }
        fn holder(&self, g: GroupId) -> Option<NodeId> {
            Self::holder(self, g)
        }
        fn declines(&self, g: GroupId) -> bool {
            Self::declines(self, g)
        }
        fn failed(&self, g: GroupId) -> bool {
            Self::failed(self, g)
        }
        fn counters(&self) -> &Counters {
            Self::counters(self)
        }
        fn poll_action(&mut self) -> Option<Action> {
            Self::poll_action(self)
        }
        fn poll_event(&mut self) -> Option<(Instant, Event)> {
            Self::poll_event(self)
        }
        fn poll_timeout(&self) -> Instant {
            Self::poll_timeout(self)
        }
        fn handle_timeout(&mut self, now: Instant) {
            Self::handle_timeout(self, now)
        }
        fn handle_frame(&mut self, now: Instant, link: LinkId, bytes: &[u8]) {
            Self::handle_frame(self, now, link, bytes)
        }
        fn handle_noise(&mut self, link: LinkId) {
            Self::handle_noise(self, link)
        }
        fn handle_command(&mut self, now: Instant, command: Command) {
            Self::handle_command(self, now, command)
        }
        fn handle_resource(&mut self, now: Instant, g: GroupId, outcome: Outcome) {
            Self::handle_resource(self, now, g, outcome)
        }
        fn handle_monitor_failure(&mut self, now: Instant, g: GroupId) {
            Self::handle_monitor_failure(self, now, g)
        }
        fn handle_fence(&mut self, now: Instant, node: NodeId, ok: bool) {
            Self::handle_fence(self, now, node, ok)
        }
        fn handle_ping(&mut self, now: Instant, reachable: u8) {
            Self::handle_ping(self, now, reachable)
        }
        fn reconfigure(
            &mut self,
            p: Params,
            auth: crate::wire::Authenticator,
        ) -> Result<(), &'static str> {
            Self::reconfigure(self, p, auth)
        }
    };
}

impl Engine for Node {
    delegate_reads!();
    fn poll_transmit(&mut self) -> Option<Transmit> {
        Node::poll_transmit(self).map(Transmit::Native)
    }
    fn handle_heartbeat_traffic(&mut self, now: Instant, src: &str) {
        Node::handle_heartbeat_traffic(self, now, src)
    }
    fn speaks_heartbeat(&self) -> bool {
        false
    }
}

impl Engine for Compat {
    delegate_reads!();
    fn poll_transmit(&mut self) -> Option<Transmit> {
        Compat::poll_transmit(self).map(Transmit::Heartbeat)
    }
    fn handle_heartbeat_traffic(&mut self, _now: Instant, _src: &str) {}
    fn speaks_heartbeat(&self) -> bool {
        true
    }
}
