//! Who should own each group, and acting on it: the election rule
//! (`rank`, `designate`), the claim check that stops two nodes starting
//! one group, release and split-brain handling, and the gate before any
//! start (`may_start`).

use super::*;

impl Node {
    pub(super) fn which(&self, which: Which) -> Mask {
        let mut mask = 0;
        for (g, group) in self.p.groups.iter().enumerate() {
            let local = group.preferred == self.p.local;
            let named = match which {
                Which::All => true,
                Which::Local => local,
                Which::Foreign | Which::Failback => !local,
            };
            if named {
                mask |= bit(g);
            }
        }
        mask
    }

    pub(super) fn drop_claim(&mut self, mask: Mask) {
        if let Some(c) = &mut self.claim {
            c.groups &= !mask;
            if c.groups == 0 {
                self.claim = None;
            }
        }
    }

    pub(super) fn release_all_pending(&self) -> bool {
        self.release_all && self.groups.held() != 0
    }

    /// A node's rank for group `g` when two intents collide: distance from
    /// the preferred node in node-id order. Static, so all agree.
    pub(super) fn rank(&self, g: GroupId, node: usize) -> usize {
        let n = self.p.node_count();
        (node + n - usize::from(self.p.groups[g].preferred)) % n
    }

    /// The node that should run group `g`, from this node's view. Every
    /// node with the same view computes the same answer:
    ///
    /// 1. among live members that have not failed to start `g`, the
    ///    newest operator claim on `g` wins;
    /// 2. otherwise only the best-connected nodes (ping) are eligible, and
    ///    of those the ones not in standby for `g` (if none, standby ones);
    /// 3. with `auto_failback off`, the one eligible node that runs `g`
    ///    keeps it;
    /// 4. otherwise the preferred node, else the next eligible node after
    ///    it in node-id order (wrapping).
    ///
    /// When two nodes run `g` (a healed split brain), rule 3 does not
    /// apply: rule 4 picks the one that keeps it, and the other stops.
    pub fn designate(&self, g: GroupId) -> Option<NodeId> {
        let n = self.p.node_count();
        let views: Vec<Option<Status>> = (0..n).map(|i| self.view(i)).collect();
        let able = |s: &Status| s.failed & bit(g) == 0;
        let mut best_claim: Option<(u16, std::cmp::Reverse<usize>)> = None;
        let mut claimant = None;
        for (i, v) in views.iter().enumerate() {
            let Some(s) = v else { continue };
            let claim = if i == usize::from(self.p.local) {
                self.claim
            } else {
                self.peers[i].claim
            };
            if let Some(c) = claim {
                let key = (c.epoch, std::cmp::Reverse(i));
                if c.groups & bit(g) != 0 && able(s) && best_claim.is_none_or(|b| key > b) {
                    best_claim = Some(key);
                    claimant = Some(i as NodeId);
                }
            }
        }
        if claimant.is_some() {
            return claimant;
        }
        let best_ping = if self.p.ping {
            views.iter().flatten().map(|s| s.ping).max().unwrap_or(0)
        } else {
            0
        };
        let connected = |s: &Status| !self.p.ping || s.ping == best_ping;
        let strict = |s: &Status| able(s) && connected(s) && s.standby & bit(g) == 0;
        let any_strict = views.iter().flatten().any(strict);
        let eligible = |i: usize| {
            views[i].as_ref().is_some_and(|s| {
                if any_strict {
                    strict(s)
                } else {
                    able(s) && connected(s)
                }
            })
        };
        if self.p.auto_failback == AutoFailback::Off {
            let holders: Vec<usize> = (0..n)
                .filter(|&i| {
                    views[i]
                        .as_ref()
                        .is_some_and(|s| s.held & bit(g) != 0 && s.stopping & bit(g) == 0)
                })
                .collect();
            if let [holder] = holders[..] {
                if eligible(holder) {
                    return Some(holder as NodeId);
                }
            }
        }
        let preferred = usize::from(self.p.groups[g].preferred);
        (0..n)
            .map(|k| (preferred + k) % n)
            .find(|&i| eligible(i))
            .map(|i| i as NodeId)
    }

    /// Starts and stops groups to follow the designated owners.
    pub(super) fn decide(&mut self, now: Instant) {
        if self.groups.next_retry().is_some_and(|at| now >= at) {
            self.groups.retry_stops(now, &mut self.out);
            self.dirty = true;
        }
        if self.state == NodeState::Leaving {
            return self.decide_leaving(now);
        }
        let me = self.p.local;
        for g in 0..self.groups.len() {
            let designated = self.designate(g);
            let state = self.groups.get(g);
            match state {
                GroupState::Running => {
                    if self.release_all || self.should_release(g, designated) {
                        self.note_split_brain(now, g);
                        self.stop(now, g);
                    } else {
                        self.note_split_brain(now, g);
                    }
                }
                GroupState::Claiming { since } => {
                    let keep = self.state == NodeState::Active && designated == Some(me);
                    match if keep {
                        self.claim_check(g, since)
                    } else {
                        Verdict::Withdraw
                    } {
                        Verdict::Withdraw => {
                            self.groups.withdraw(g);
                            self.dirty = true;
                        }
                        Verdict::Wait => {}
                        Verdict::Go => {
                            self.groups.start(now, g, &mut self.out);
                            self.dirty = true;
                        }
                    }
                }
                GroupState::Stopped
                    if self.state == NodeState::Active
                        && designated == Some(me)
                        && self.may_start(now, g) =>
                {
                    // The next frame (sent at once) carries the intent.
                    let since = self.sequence.wrapping_add(1);
                    self.groups.claim(g, since);
                    self.dirty = true;
                    // With no live node left to acknowledge it (the owner
                    // just died), nothing is gained by waiting for another
                    // input: start now, not one keepalive later.
                    if let Verdict::Go = self.claim_check(g, since) {
                        self.groups.start(now, g, &mut self.out);
                    }
                }
                _ => {}
            }
        }
    }

    /// A node runs `g` but another is designated: it stops, unless the
    /// designated node is still joining and does not run `g` (then it would
    /// leave the group down until that node is ready).
    pub(super) fn should_release(&self, g: GroupId, designated: Option<NodeId>) -> bool {
        match designated {
            Some(d) if d == self.p.local => false,
            Some(d) => self.view(usize::from(d)).is_some_and(|s| {
                s.state == NodeState::Active || (s.held & bit(g) != 0 && s.stopping & bit(g) == 0)
            }),
            None => true,
        }
    }

    /// Whether a claimed group may start: every live node acknowledged the
    /// intent and holds nothing of `g`. Two colliding intents are settled
    /// by rank; anyone else holding `g` makes this node withdraw.
    pub(super) fn claim_check(&self, g: GroupId, since: u32) -> Verdict {
        let me = usize::from(self.p.local);
        let mut verdict = Verdict::Go;
        for (i, peer) in self.peers.iter().enumerate() {
            if i == me {
                continue;
            }
            match peer.liveness {
                Liveness::Dead => continue,
                // Alive with another key, it can acknowledge nothing: the
                // operator's takeover goes ahead without it.
                Liveness::Unknown
                    if peer.wrong_key_until.is_some()
                        && self.claim.is_some_and(|c| c.groups & bit(g) != 0) =>
                {
                    continue
                }
                Liveness::Unknown => return Verdict::Withdraw,
                Liveness::Up => {}
            }
            let Some(s) = peer.status else {
                verdict = Verdict::Wait;
                continue;
            };
            let mut held = s.held;
            if self.bugs.start_before_stop {
                held &= !s.stopping;
            }
            if held & bit(g) != 0 {
                if s.intent & bit(g) == 0 || self.rank(g, i) < self.rank(g, me) {
                    return Verdict::Withdraw;
                }
                verdict = Verdict::Wait;
                continue;
            }
            let acked = peer
                .acked
                .is_some_and(|(generation, seq)| generation == self.generation && seq >= since);
            if !acked {
                verdict = Verdict::Wait;
            }
        }
        verdict
    }

    /// Leaving: stop everything; once nothing is held, say goodbye.
    pub(super) fn decide_leaving(&mut self, now: Instant) {
        for g in 0..self.groups.len() {
            match self.groups.get(g) {
                GroupState::Running => self.stop(now, g),
                GroupState::Claiming { .. } => {
                    self.groups.withdraw(g);
                    self.dirty = true;
                }
                _ => {}
            }
        }
        if self.groups.held() == 0 && self.goodbyes_sent < GOODBYES {
            while self.goodbyes_sent < GOODBYES {
                self.send(now, Kind::Goodbye);
                self.goodbyes_sent += 1;
            }
            self.out.action(Action::Exit);
            // Keep the next keepalive from following the goodbyes.
            self.next_keepalive = Instant(u64::MAX);
        }
    }

    pub(super) fn stop(&mut self, now: Instant, g: GroupId) {
        self.groups.stop(now, g, &mut self.out);
        self.dirty = true;
    }

    pub(super) fn note_split_brain(&mut self, now: Instant, g: GroupId) {
        for i in 0..self.peers.len() {
            if i == usize::from(self.p.local) {
                continue;
            }
            let runs = self
                .view(i)
                .is_some_and(|s| s.held & bit(g) != 0 && s.stopping & bit(g) == 0);
            let seen = self.split_seen[g] & (1u128 << i) != 0;
            if runs && !seen {
                self.split_seen[g] |= 1u128 << i;
                self.out.event(
                    now,
                    Event::SplitBrain {
                        group: g,
                        other: i as NodeId,
                    },
                );
            } else if !runs && seen {
                self.split_seen[g] &= !(1u128 << i);
            }
        }
    }

    /// Whether this node may start `g` now: nobody live holds it, dead
    /// nodes that might are fenced (or fencing is not configured), and no
    /// configured node is heard speaking Heartbeat.
    pub(super) fn may_start(&mut self, now: Instant, g: GroupId) -> bool {
        let local = usize::from(self.p.local);
        let mut ok = true;
        for i in 0..self.peers.len() {
            if i == local {
                continue;
            }
            let node = i as NodeId;
            let ping = self.ping;
            let fencing = self.p.fencing;
            let ping_configured = self.p.ping;
            let bugs = self.bugs;
            let claimed = self.claim.is_some_and(|c| c.groups & bit(g) != 0);
            let peer = &mut self.peers[i];
            if peer.heartbeat_until.is_some() {
                ok = false;
                continue;
            }
            match peer.liveness {
                // Alive with another key: only the operator's takeover
                // starts anything.
                Liveness::Unknown if peer.wrong_key_until.is_some() && claimed => {}
                Liveness::Unknown => ok = false,
                Liveness::Up => {
                    let s = peer.status.unwrap_or(Status {
                        state: NodeState::Joining,
                        ping: 0,
                        held: Mask::MAX,
                        stopping: 0,
                        standby: 0,
                        failed: 0,
                        intent: 0,
                    });
                    let mut held = s.held;
                    if bugs.start_before_stop {
                        held &= !s.stopping;
                    }
                    if held & bit(g) != 0 {
                        ok = false;
                    }
                }
                Liveness::Dead => {
                    let may_hold = peer.status.map(|s| s.held & bit(g) != 0).unwrap_or(true);
                    if !may_hold {
                        continue;
                    }
                    let their_ping = peer.status.map(|s| s.ping).unwrap_or(0);
                    if ping_configured && ping < their_ping {
                        if !peer.warned_ping {
                            peer.warned_ping = true;
                            self.out.event(
                                now,
                                Event::NoConnectivity {
                                    group: g,
                                    from: node,
                                },
                            );
                        }
                        ok = false;
                        continue;
                    }
                    match peer.fence {
                        Fence::Done | Fence::NotNeeded if !fencing => {
                            if !peer.warned_unfenced {
                                peer.warned_unfenced = true;
                                self.out.event(
                                    now,
                                    Event::TakeoverUnfenced {
                                        group: g,
                                        from: node,
                                    },
                                );
                            }
                        }
                        Fence::Done | Fence::NotNeeded => {}
                        Fence::Needed => {
                            peer.fence = Fence::Pending;
                            self.out.action(Action::Fence(node));
                            ok = false;
                        }
                        Fence::Pending => ok = false,
                    }
                }
            }
        }
        ok
    }
}
