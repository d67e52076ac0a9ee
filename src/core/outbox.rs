//! What a machine hands the shell: actions to carry out, events to log,
//! and the counters `tandem status` shows. Both machines (tandem's own
//! protocol and Heartbeat's) fill the same queues.

use super::params::{GroupId, LinkId, NodeId};
use crate::config::hacf::StopFailure;
use crate::time::Instant;
use crate::time::Time;
use crate::wire::frame::Drop;
use std::collections::VecDeque;

/// What the shell must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Start a group's resources, left to right.
    Start(GroupId),
    /// Stop a group's resources, right to left.
    Stop(GroupId),
    /// Fence (STONITH) a dead node that may hold resources; report with
    /// `handle_fence`.
    Fence(NodeId),
    /// Restart in place the group's resource that failed its monitor and
    /// those after it (stopped right to left, started left to right);
    /// report with `handle_resource`.
    Restart(GroupId),
    /// A group's stops kept failing: ask its resources' status and report
    /// with `handle_stop_checked`. Until then no other node starts it.
    CheckStopped(GroupId),
    /// `on_stop_failure reboot`: reboot this node now (reboot(2)), so
    /// that another takes over when it goes silent.
    Reboot,
    /// `on_stop_failure fence`: ask the other nodes to fence this one (a
    /// group could not be stopped); they take over once it is reset.
    AskFencing(GroupId),
    /// Record a node's generation, so that a replayed capture of its
    /// frames is refused after this node restarts.
    PersistGeneration(NodeId, u32),
    /// A graceful shutdown is complete: exit.
    Exit,
}

/// What happened, for the log and the status output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Joined,
    NodeUp(NodeId),
    NodeLate {
        node: NodeId,
        silent: Time,
    },
    NodeDead(NodeId),
    NodeLeft(NodeId),
    NodeRestarted {
        node: NodeId,
        generation: u32,
    },
    LinkUp {
        node: NodeId,
        link: LinkId,
    },
    LinkDown {
        node: NodeId,
        link: LinkId,
    },
    Starting(GroupId),
    Started(GroupId),
    StartFailed(GroupId),
    Stopping(GroupId),
    Stopped(GroupId),
    StopFailed {
        group: GroupId,
        attempt: u32,
    },
    StopGaveUp(GroupId),
    /// The stops gave up but the status says stopped: Heartbeat's warning.
    StopNotLsb(GroupId),
    /// The stops gave up and the status says it runs: `policy` follows.
    StopBlocked {
        group: GroupId,
        policy: StopFailure,
    },
    /// A monitor failure below `migration_threshold`: restarting in place.
    Restarting {
        group: GroupId,
        failures: u32,
    },
    Restarted(GroupId),
    RestartFailed(GroupId),
    /// This node's failures of the group expired (`failure_timeout`).
    FailureExpired(GroupId),
    /// `tandem cleanup`: the group's failures here forgotten.
    CleanedUp(GroupId),
    SplitBrain {
        group: GroupId,
        other: NodeId,
    },
    TakeoverUnfenced {
        group: GroupId,
        from: NodeId,
    },
    FenceFailed(NodeId),
    NoConnectivity {
        group: GroupId,
        from: NodeId,
    },
    HeartbeatPeer(NodeId),
    /// Heartbeat's protocol: the node, declared dead, is heard again
    /// (a partition healed); every group is released and negotiated anew.
    PartitionHealed(NodeId),
    /// `wire auto`: this node now speaks Heartbeat's protocol to the node.
    HeartbeatAnswered(NodeId),
    /// `wire auto` cannot answer the node in Heartbeat's protocol: why.
    HeartbeatRefused {
        node: NodeId,
        why: String,
    },
    /// Messages naming this node come with another key: it is alive but
    /// configured differently, so nothing is taken over from it.
    WrongKey(NodeId),
    Frozen {
        gap: Time,
    },
    CommandRefused(&'static str),
    /// A running group's resource stopped answering its monitor.
    MonitorFailed(GroupId),
    /// `count` frames dropped on `link` for `reason` since the last such
    /// line, claiming to come from `node` (None: no configured node).
    Dropped {
        link: LinkId,
        reason: Drop,
        node: Option<NodeId>,
        count: u64,
    },
    /// A node's generation went backwards (its state was lost): its frames
    /// are refused as replays until an operator accepts the new one.
    GenerationBackwards {
        node: NodeId,
        known: u32,
        heard: u32,
    },
}

/// Counters for the status output.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    pub sent: u64,
    pub received: u64,
    pub dropped: [u64; Drop::ALL.len()],
}

impl Counters {
    pub fn drop(&mut self, reason: Drop) {
        if let Some(i) = Drop::ALL.iter().position(|&d| d == reason) {
            self.dropped[i] += 1;
        }
    }

    pub fn dropped(&self, reason: Drop) -> u64 {
        Drop::ALL
            .iter()
            .position(|&d| d == reason)
            .map(|i| self.dropped[i])
            .unwrap_or(0)
    }
}

/// The action and event queues, drained by the shell with `poll_*`.
#[derive(Debug, Default)]
pub struct Outbox {
    actions: VecDeque<Action>,
    events: VecDeque<(Instant, Event)>,
}

impl Outbox {
    pub fn action(&mut self, action: Action) {
        self.actions.push_back(action);
    }

    pub fn event(&mut self, now: Instant, event: Event) {
        self.events.push_back((now, event));
    }

    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<(Instant, Event)> {
        self.events.pop_front()
    }
}
