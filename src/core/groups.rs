//! The resource-group lifecycle, one for both machines: which groups run
//! here, starts, stops and restarts in flight, failed stops retried and
//! then settled by `on_stop_failure`, and this node's failures of each
//! group (counted against `migration_threshold`, expired after
//! `failure_timeout`, cleared by `tandem cleanup`). tandem's protocol and
//! Heartbeat's decide *when* a group starts or stops; what happens after
//! that is the same whichever protocol is spoken.

use super::outbox::{Action, Event, Outbox};
use super::params::{GroupId, Params};
use crate::config::hacf::StopFailure;
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
    /// A resource failed its monitor: it and those after it in the group
    /// are being restarted in place.
    Restarting,
    Stopping,
    /// A stop failed; retried at the instant given.
    StopRetry {
        at: Instant,
        attempt: u32,
    },
    /// Stops kept failing and the resource's status says it runs: held
    /// here (no other node may start it) until this node reboots, is
    /// fenced, or an operator runs `tandem cleanup`.
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
    /// Groups whose start or monitor failed here: declined until the
    /// failures expire or an operator clears them.
    failed: Mask,
    /// This node's failures per group: how many, and when the last was.
    failures: Vec<(u32, Instant)>,
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
            failures: vec![(0, Instant::ZERO); count],
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

    /// Forgets this node's failures of the groups in `mask` (an
    /// operator's takeover or cleanup).
    pub fn clear_failed(&mut self, mask: Mask) {
        self.failed &= !mask;
        for (g, f) in self.failures.iter_mut().enumerate() {
            if mask & bit(g) != 0 {
                f.0 = 0;
            }
        }
    }

    /// `tandem cleanup`: the failures of the groups in `mask` forgotten,
    /// and a group blocked by a failed stop taken as stopped (the operator
    /// stopped it by hand). Whether anything changed.
    pub fn cleanup(&mut self, now: Instant, mask: Mask, out: &mut Outbox) -> bool {
        let mut changed = false;
        for g in 0..self.states.len() {
            if mask & bit(g) == 0 {
                continue;
            }
            let blocked = self.states[g] == GroupState::StopFailed;
            if blocked {
                self.states[g] = GroupState::Stopped;
                self.stop_attempts[g] = 0;
            }
            if blocked || self.failed & bit(g) != 0 || self.failures[g].0 > 0 {
                out.event(now, Event::CleanedUp(g));
                changed = true;
            }
        }
        self.clear_failed(mask);
        changed
    }

    /// Failures older than `failure_timeout` are forgotten; a group marked
    /// failed here may run here again. Whether a mark expired.
    pub fn expire(&mut self, now: Instant, p: &Params, out: &mut Outbox) -> bool {
        if p.failure_timeout.is_zero() {
            return false;
        }
        let mut changed = false;
        for g in 0..self.failures.len() {
            let (count, last) = self.failures[g];
            if count > 0 && now >= last.plus(p.failure_timeout) {
                self.failures[g].0 = 0;
                if self.failed & bit(g) != 0 {
                    self.failed &= !bit(g);
                    out.event(now, Event::FailureExpired(g));
                    changed = true;
                }
            }
        }
        changed
    }

    /// When the next failure mark expires, if any.
    pub fn next_expiry(&self, p: &Params) -> Option<Instant> {
        if p.failure_timeout.is_zero() {
            return None;
        }
        self.failures
            .iter()
            .enumerate()
            .filter(|&(g, &(count, _))| count > 0 && self.failed & bit(g) != 0)
            .map(|(_, &(_, last))| last.plus(p.failure_timeout))
            .min()
    }

    /// This node's failures of group `g` so far, and when they expire
    /// (none: they do not, or there are none).
    pub fn failures(&self, g: GroupId, p: &Params) -> (u32, Option<Instant>) {
        let (count, last) = self.failures.get(g).copied().unwrap_or((0, Instant::ZERO));
        let expires =
            (count > 0 && !p.failure_timeout.is_zero()).then(|| last.plus(p.failure_timeout));
        (count, expires)
    }

    /// Counts a failure of group `g` here; marks it failed (declined here)
    /// once `migration_threshold` is reached or `fatal`. The count so far.
    fn count_failure(&mut self, now: Instant, g: GroupId, p: &Params, fatal: bool) -> u32 {
        let (count, _) = self.failures[g];
        let count = if fatal {
            p.migration_threshold.max(count + 1)
        } else {
            count + 1
        };
        self.failures[g] = (count, now);
        if count >= p.migration_threshold {
            self.failed |= bit(g);
        }
        count
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

    /// Stops a running, starting or restarting group. Whether a stop
    /// began.
    pub fn stop(&mut self, now: Instant, g: GroupId, out: &mut Outbox) -> bool {
        match self.states.get_mut(g) {
            Some(s @ (GroupState::Running | GroupState::Starting | GroupState::Restarting)) => {
                *s = GroupState::Stopping;
                out.event(now, Event::Stopping(g));
                out.action(Action::Stop(g));
                true
            }
            _ => false,
        }
    }

    /// The start, stop or restart in flight on group `g` ended. A failed
    /// start marks the group failed here and stops what did start (as
    /// Heartbeat); a failed stop is retried every `stop_retry_interval`,
    /// and after `stop_retries` failures the group's status is asked
    /// ([`Action::CheckStopped`]): until that answers, no other node may
    /// start the group.
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
                self.count_failure(now, g, p, true);
                self.stop(now, g, out);
            }
            (GroupState::Restarting, Outcome::Ok) => {
                out.event(now, Event::Restarted(g));
                self.states[g] = GroupState::Running;
            }
            (GroupState::Restarting, _) => {
                out.event(now, Event::RestartFailed(g));
                self.count_failure(now, g, p, true);
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
                    out.action(Action::CheckStopped(g));
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

    /// The answer to [`Action::CheckStopped`]: whether group `g`'s
    /// resources still run after its stops gave up. Stopped: Heartbeat's
    /// warning (the script is probably not LSB-compliant), and on. Still
    /// running: `on_stop_failure` decides. Whether the group is stopped.
    pub fn handle_stop_checked(
        &mut self,
        now: Instant,
        g: GroupId,
        running: bool,
        p: &Params,
        out: &mut Outbox,
    ) -> bool {
        if self.get(g) != GroupState::StopFailed {
            return false;
        }
        if !running {
            out.event(now, Event::StopNotLsb(g));
            self.states[g] = GroupState::Stopped;
            self.stop_attempts[g] = 0;
            return true;
        }
        out.event(
            now,
            Event::StopBlocked {
                group: g,
                policy: p.on_stop_failure,
            },
        );
        match p.on_stop_failure {
            StopFailure::Reboot => out.action(Action::Reboot),
            StopFailure::Fence => out.action(Action::AskFencing(g)),
            StopFailure::Block => {}
        }
        false
    }

    /// A resource of running group `g` failed its monitor. Below
    /// `migration_threshold` failures here (within `failure_timeout`), the
    /// failed resource and those after it restart in place; at the
    /// threshold, the group is stopped here and marked failed, and another
    /// node takes it. Whether anything began.
    pub fn monitor_failed(
        &mut self,
        now: Instant,
        g: GroupId,
        p: &Params,
        out: &mut Outbox,
    ) -> bool {
        if self.get(g) != GroupState::Running {
            return false;
        }
        self.expire(now, p, out);
        let count = self.count_failure(now, g, p, false);
        if count < p.migration_threshold {
            out.event(
                now,
                Event::Restarting {
                    group: g,
                    failures: count,
                },
            );
            self.states[g] = GroupState::Restarting;
            out.action(Action::Restart(g));
            return true;
        }
        out.event(now, Event::MonitorFailed(g));
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
