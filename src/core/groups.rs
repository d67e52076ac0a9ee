//! The resource-group lifecycle, one for both machines: which groups run
//! here, starts and stops in flight, failed stops retried and then
//! escalated, and the groups that failed here. tandem's protocol and
//! Heartbeat's decide *when* a group starts or stops; what happens after
//! that is the same whichever protocol is spoken.

use super::outbox::{Action, Event, Outbox};
use super::params::{GroupId, Params};
use crate::time::Instant;
pub use crate::wire::frame::Mask;

/// The bit of group `g` in a [`Mask`].
pub fn bit(g: GroupId) -> Mask {
    1 << g
}

/// A group's state on this node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupState {
    Stopped,
    /// About to start (tandem's protocol): the intent is advertised, and
    /// the start waits until every live node has acknowledged a frame
    /// carrying it (sequence `since` or later) without holding the group.
    Claiming {
        since: u32,
    },
    Starting,
    Running,
    Stopping,
    /// A stop failed; retried at the instant given.
    StopRetry {
        at: Instant,
        attempt: u32,
    },
    /// Stops kept failing: escalated, held until this node is restarted.
    StopFailed,
}

impl GroupState {
    /// Anything but stopped: another node must not start the group.
    pub fn held(self) -> bool {
        self != GroupState::Stopped
    }

    pub fn stopping(self) -> bool {
        matches!(
            self,
            GroupState::Stopping | GroupState::StopRetry { .. } | GroupState::StopFailed
        )
    }
}

/// How a resource action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Failed,
    TimedOut,
}

/// Every group's state on this node.
#[derive(Debug, Clone)]
pub struct Groups {
    states: Vec<GroupState>,
    /// Failed stop attempts so far, per group (a stop that works resets).
    stop_attempts: Vec<u32>,
    /// Groups whose start or monitor failed here: declined until an
    /// operator's takeover clears them.
    failed: Mask,
}

impl Groups {
    /// `count` groups, those in `running` found running at start.
    pub fn new(count: usize, running: Mask) -> Groups {
        let states = (0..count)
            .map(|g| {
                if running & bit(g) != 0 {
                    GroupState::Running
                } else {
                    GroupState::Stopped
                }
            })
            .collect();
        Groups {
            states,
            stop_attempts: vec![0; count],
            failed: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.states.len()
    }

    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }

    pub fn get(&self, g: GroupId) -> GroupState {
        self.states.get(g).copied().unwrap_or(GroupState::Stopped)
    }

    pub fn iter(&self) -> impl Iterator<Item = GroupState> + '_ {
        self.states.iter().copied()
    }

    /// The groups whose state satisfies `f`.
    pub fn mask(&self, f: impl Fn(GroupState) -> bool) -> Mask {
        self.iter()
            .enumerate()
            .filter(|&(_, s)| f(s))
            .fold(0, |m, (g, _)| m | bit(g))
    }

    pub fn held(&self) -> Mask {
        self.mask(GroupState::held)
    }

    pub fn running(&self) -> Mask {
        self.mask(|s| s == GroupState::Running)
    }

    pub fn stopping(&self) -> Mask {
        self.mask(GroupState::stopping)
    }

    /// Groups claimed and not started yet (tandem's intent bits).
    pub fn claiming(&self) -> Mask {
        self.mask(|s| matches!(s, GroupState::Claiming { .. }))
    }

    /// Nothing starting or stopping.
    pub fn settled(&self) -> bool {
        self.iter()
            .all(|s| matches!(s, GroupState::Stopped | GroupState::Running))
    }

    pub fn failed(&self) -> Mask {
        self.failed
    }

    pub fn clear_failed(&mut self, mask: Mask) {
        self.failed &= !mask;
    }

    /// A stopped group is claimed: the start waits for acknowledgements.
    pub fn claim(&mut self, g: GroupId, since: u32) {
        if self.get(g) == GroupState::Stopped {
            self.states[g] = GroupState::Claiming { since };
        }
    }

    /// A claim given up before its start began.
    pub fn withdraw(&mut self, g: GroupId) {
        if let Some(s @ GroupState::Claiming { .. }) = self.states.get_mut(g) {
            *s = GroupState::Stopped;
        }
    }

    /// Starts a stopped or claimed group. Whether it started.
    pub fn start(&mut self, now: Instant, g: GroupId, out: &mut Outbox) -> bool {
        match self.states.get_mut(g) {
            Some(s @ (GroupState::Stopped | GroupState::Claiming { .. })) => {
                *s = GroupState::Starting;
                out.event(now, Event::Starting(g));
                out.action(Action::Start(g));
                true
            }
            _ => false,
        }
    }

    /// Stops a running or starting group. Whether a stop began.
    pub fn stop(&mut self, now: Instant, g: GroupId, out: &mut Outbox) -> bool {
        match self.states.get_mut(g) {
            Some(s @ (GroupState::Running | GroupState::Starting)) => {
                *s = GroupState::Stopping;
                out.event(now, Event::Stopping(g));
                out.action(Action::Stop(g));
                true
            }
            _ => false,
        }
    }

    /// The start or stop in flight on group `g` ended. A failed start
    /// marks the group failed here and stops what did start (as
    /// Heartbeat); a failed stop is retried every `stop_retry_interval`
    /// and escalated after `stop_retries` failures: until this node is
    /// fenced or restarted, no other node may start the group.
    pub fn handle_resource(
        &mut self,
        now: Instant,
        g: GroupId,
        outcome: Outcome,
        p: &Params,
        out: &mut Outbox,
    ) {
        let Some(state) = self.states.get(g).copied() else {
            return;
        };
        match (state, outcome) {
            (GroupState::Starting, Outcome::Ok) => {
                out.event(now, Event::Started(g));
                self.states[g] = GroupState::Running;
            }
            (GroupState::Starting, _) => {
                out.event(now, Event::StartFailed(g));
                self.failed |= bit(g);
                self.stop(now, g, out);
            }
            (GroupState::Stopping, Outcome::Ok) => {
                out.event(now, Event::Stopped(g));
                self.stop_attempts[g] = 0;
                self.states[g] = GroupState::Stopped;
            }
            (GroupState::Stopping, _) => {
                self.stop_attempts[g] += 1;
                let attempt = self.stop_attempts[g];
                out.event(now, Event::StopFailed { group: g, attempt });
                self.states[g] = if attempt >= p.stop_retries {
                    out.event(now, Event::StopGaveUp(g));
                    out.action(Action::Escalate(g));
                    GroupState::StopFailed
                } else {
                    GroupState::StopRetry {
                        at: now.plus(p.stop_retry_interval),
                        attempt,
                    }
                };
            }
            // An outcome for no action in flight: nothing to do.
            _ => {}
        }
    }

    /// A resource of running group `g` failed its monitor: as a failed
    /// start, it is stopped here and marked failed. Whether it was running.
    pub fn monitor_failed(&mut self, now: Instant, g: GroupId, out: &mut Outbox) -> bool {
        if self.get(g) != GroupState::Running {
            return false;
        }
        out.event(now, Event::MonitorFailed(g));
        self.failed |= bit(g);
        self.stop(now, g, out)
    }

    /// Stops whose retry is due begin again.
    pub fn retry_stops(&mut self, now: Instant, out: &mut Outbox) {
        for g in 0..self.states.len() {
            if let GroupState::StopRetry { at, .. } = self.states[g] {
                if now >= at {
                    self.states[g] = GroupState::Stopping;
                    out.event(now, Event::Stopping(g));
                    out.action(Action::Stop(g));
                }
            }
        }
    }

    /// The next stop retry due, if any.
    pub fn next_retry(&self) -> Option<Instant> {
        self.iter()
            .filter_map(|s| match s {
                GroupState::StopRetry { at, .. } => Some(at),
                _ => None,
            })
            .min()
    }
}
