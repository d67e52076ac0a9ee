//! Who runs which group, by Heartbeat's nice_failback negotiation: the
//! `starting`/`resource` exchange at start, standby and takeover
//! (`ask_resources`), failback, graceful shutdown, and the peer's death
//! or return after a partition.

use super::*;

impl Compat {
    pub(super) fn negotiate(&mut self, now: Instant) {
        let rejoined = match self.negotiation {
            Negotiation::Rejoining(since) => now >= since.plus(REJOIN_DELAY) && self.held() == 0,
            _ => false,
        };
        if rejoined {
            // Everything released: start over as Heartbeat's restart does,
            // with a new generation, so that what either side said before
            // (still on its way) is not taken for what it says now.
            let wall = self.wall_at_zero + now.as_micros() / 1_000_000;
            self.generation = (self.generation + 1).max(wall);
            self.seq = 0;
            self.history.clear();
            self.announced_stable = false;
            // What it said meanwhile was said before it knew of the
            // rejoin (messages still on their way by now have arrived).
            self.peer.holds = 0;
            self.peer.stable = false;
            self.negotiation = Negotiation::Init;
        }
        match self.negotiation {
            Negotiation::Init if self.peer.liveness == Liveness::Up && self.legacy() => {
                // auto_failback legacy: no negotiation; ask the peer for
                // each of our groups (`ip-request`), take each it grants.
                self.become_stable(now);
                self.request_groups(now);
            }
            Negotiation::Init if self.peer.liveness == Liveness::Up => {
                self.negotiation = Negotiation::Starting(now);
                self.peer.told = false;
                let mut m = Message::new();
                m.add("t", "starting");
                self.send(now, m);
                self.send_resources(now, None);
            }
            Negotiation::Starting(at) => {
                if self.peer.stable {
                    // The peer is settled: take what it does not hold.
                    // auto_failback gives the rest back through standby.
                    // Groups found running here at start that it holds
                    // too are left to it: a starting Heartbeat node holds
                    // nothing, and the settled owner keeps what it runs.
                    self.become_stable(now);
                    let theirs = self.held() & self.peer.holds;
                    self.stop(now, theirs);
                    let free = self.all() & !self.peer.holds & !self.groups.failed();
                    self.start(now, free);
                    self.send_resources(now, None);
                } else if now >= at.plus(RQSTDELAY) && self.peer.told {
                    // Both starting: each takes its own, as Heartbeat.
                    self.become_stable(now);
                    let mine =
                        self.local_to(self.p.local) & !self.peer.holds & !self.groups.failed();
                    self.start(now, mine);
                    self.send_resources(now, Some("req_our_resources()"));
                }
            }
            Negotiation::Stable
                if self.legacy()
                    && self.peer.liveness == Liveness::Up
                    && self
                        .legacy_asked
                        .is_some_and(|at| now >= at.plus(RQSTDELAY)) =>
            {
                self.request_groups(now);
            }
            Negotiation::Stable if self.legacy() => {}
            Negotiation::Stable if self.standby == Standby::Idle => self.fail_back(now),
            _ => {}
        }
    }

    /// Legacy: asks the peer for each of this node's own groups not
    /// running here (`ip-request`). A request or its grant may be lost,
    /// and nothing in Heartbeat's exchange says so: asked again every
    /// RQSTDELAY while any is missing.
    pub(super) fn request_groups(&mut self, now: Instant) {
        let missing = self.local_to(self.p.local) & !self.held() & !self.groups.failed();
        self.legacy_asked = (missing != 0).then_some(now);
        for g in 0..self.groups.len() {
            if missing & bit(g) != 0 {
                let key = self.p.groups[g].key.clone();
                let mut m = Message::new();
                m.add("t", "ip-request").add("ipaddr", key);
                self.send(now, m);
            }
        }
    }

    /// `auto_failback legacy`: Heartbeat's old group requests instead of
    /// the nice_failback negotiation.
    pub(super) fn legacy(&self) -> bool {
        self.p.auto_failback == AutoFailback::Legacy
    }

    pub(super) fn become_stable(&mut self, now: Instant) {
        if self.negotiation != Negotiation::Stable {
            self.negotiation = Negotiation::Stable;
            self.out.event(now, Event::Joined);
        }
    }

    /// auto_failback on: groups preferred by a stable peer go back to it.
    pub(super) fn fail_back(&mut self, now: Instant) {
        if self.p.auto_failback != AutoFailback::On
            || self.peer.liveness != Liveness::Up
            || !self.peer.stable
        {
            return;
        }
        if !self.peer.failback_due {
            return;
        }
        self.peer.failback_due = false;
        let theirs = self.local_to(self.peer_id) & self.running();
        if theirs != 0 && theirs & self.peer.holds == 0 {
            self.give(now, theirs, "foreign");
        }
    }

    /// Starts a standby exchange giving `groups` to the peer; `word` is
    /// how the request names them (Heartbeat names what was asked for:
    /// `all` for hb_standby, `foreign` for auto_failback).
    pub(super) fn give(&mut self, now: Instant, groups: Mask, word: &'static str) {
        // The taker takes every group the word names: give all of those
        // held here (one still starting too), not only those asked for.
        let named = self.mask_of(self.p.local, word).unwrap_or(groups);
        let groups = (groups | named) & self.held();
        let mut m = Message::new();
        m.add("t", "ask_resources")
            .add("rsc_hold", word)
            .add("info", "me");
        self.send(now, m);
        self.standby = Standby::Giving {
            groups,
            word,
            asked: now,
            agreed: false,
        };
    }

    pub(super) fn progress_standby(&mut self, now: Instant) {
        match self.standby {
            Standby::Giving {
                groups,
                word,
                asked,
                agreed,
            } => {
                if !agreed {
                    if now >= asked.plus(STANDBY_REPLY) {
                        self.standby = Standby::Idle;
                    }
                    return;
                }
                if self.held() & groups == 0 {
                    self.standby = Standby::Released { since: now };
                    self.send_resources_as(now, Some("standby"), false);
                    let mut m = Message::new();
                    m.add("t", "ask_resources")
                        .add("rsc_hold", word)
                        .add("info", "done");
                    self.send(now, m);
                }
            }
            Standby::Taking {
                groups,
                word,
                since,
                released,
            } => {
                if !released {
                    if now >= since.plus(STANDBY_REPLY) {
                        self.standby = Standby::Idle;
                    }
                    return;
                }
                let pending = self.groups.mask(|s| s == GroupState::Starting) & groups != 0;
                if !pending {
                    self.standby = Standby::Idle;
                    self.send_resources(now, None);
                    let mut m = Message::new();
                    m.add("t", "ask_resources")
                        .add("rsc_hold", word)
                        .add("info", "done");
                    self.send(now, m);
                }
            }
            Standby::Released { since } => {
                if now >= since.plus(STANDBY_REPLY) {
                    self.standby = Standby::Idle;
                }
            }
            Standby::Idle => {}
        }
    }

    pub(super) fn shut_down(&mut self, now: Instant) {
        if self.negotiation == Negotiation::Leaving {
            return;
        }
        self.negotiation = Negotiation::Leaving;
        self.standby = Standby::Idle;
        if !self.legacy() {
            let mut m = Message::new();
            m.add("t", "resource")
                .add("rsc_hold", "none")
                .add("rtype", "full")
                .add("isstable", "0")
                .add("info", "shutdown");
            self.send(now, m);
        }
        let all = self.all();
        self.stop(now, all);
    }

    pub(super) fn finish_shutdown(&mut self, now: Instant) {
        if self.negotiation == Negotiation::Leaving && self.held() == 0 {
            let mut m = Message::new();
            m.add("t", "shutdone").add("st", "dead");
            self.send(now, m);
            self.gone = true;
            self.out.action(Action::Exit);
        }
    }

    /// The peer returns, same generation, after this node declared it
    /// dead: each side may run what the other ran meanwhile. As Heartbeat
    /// ("returning after partition": it restarts itself), release every
    /// group, then negotiate from the start.
    pub(super) fn rejoin(&mut self, now: Instant) {
        self.out.event(now, Event::PartitionHealed(self.peer_id));
        self.negotiation = Negotiation::Rejoining(now);
        // What it said before may be about to change (it may be rejoining
        // too): the negotiation waits for what it says next.
        self.peer.holds = 0;
        self.peer.stable = false;
        self.standby = Standby::Idle;
        self.pending_grants = 0;
        let all = self.all();
        self.stop(now, all);
    }

    /// The peer is dead or has left: everything is ours to run.
    pub(super) fn peer_gone(&mut self, now: Instant, event: Event, stonith: &str) {
        let before = self.peer.liveness;
        if before == Liveness::Dead {
            return;
        }
        let was_up = before == Liveness::Up;
        self.peer.liveness = Liveness::Dead;
        self.peer.holds = 0;
        self.peer.stable = false;
        self.standby = Standby::Idle;
        self.pending_grants = 0;
        self.out.event(now, event);
        if self.negotiation == Negotiation::Leaving {
            return;
        }
        let node = self.p.nodes[usize::from(self.peer_id)].clone();
        if was_up {
            let mut m = Message::new();
            m.add("t", "stonith")
                .add("node", &node)
                .add("result", stonith);
            self.send(now, m);
        }
        self.become_stable(now);
        let all = self.all() & !self.groups.failed();
        self.start(now, all);
        self.send_resources(now, Some("req_our_resources()"));
        if was_up && !self.legacy() {
            let mut m = Message::new();
            m.add("t", "resource")
                .add("rsc_hold", "foreign")
                .add("info", "mach_down");
            self.send(now, m);
        }
    }

    pub(super) fn peer_resources(&mut self, now: Instant, m: &Message) {
        let Some(holds) = m
            .str("rsc_hold")
            .and_then(|w| self.mask_of(self.peer_id, w))
        else {
            return self.counters.drop(Drop::BadBody);
        };
        if m.str("info") == Some("mach_down") {
            // It took over our groups after our death: an announcement,
            // not a statement of all it holds.
            self.peer.holds |= holds;
            return;
        }
        self.peer.told = true;
        let before = (self.peer.holds, self.peer.stable);
        self.peer.holds = holds;
        self.peer.stable = m.str("isstable") == Some("1");
        if m.str("info") == Some("shutdown") {
            self.peer.stable = false;
        }
        if before != (self.peer.holds, self.peer.stable)
            && self.settled()
            && self.standby == Standby::Idle
        {
            // Heartbeat looks for the other side's stability after each
            // transition of its own (it waits, then times out, otherwise:
            // a shutdown right after a standby was delayed 10 s).
            self.send_resources(now, None);
        }
        // Two owners must never run a group: if the peer holds what we
        // run, and we are not in an exchange that explains it, log it.
        // Both settled with it (each took over from the other, dead to it
        // for a while): release everything and negotiate anew, as after a
        // healed partition. The peer sees the same and does the same.
        let both = holds & self.running();
        if both != 0 && self.standby == Standby::Idle {
            for g in 0..self.groups.len() {
                if both & bit(g) != 0 {
                    self.out.event(
                        now,
                        Event::SplitBrain {
                            group: g,
                            other: self.peer_id,
                        },
                    );
                }
            }
            if self.negotiation == Negotiation::Stable && self.peer.stable {
                self.rejoin(now);
            }
        }
    }

    pub(super) fn peer_standby(&mut self, now: Instant, m: &Message) {
        let word = m.str("rsc_hold").unwrap_or("");
        let Some(groups) = self.mask_of(self.peer_id, word) else {
            return self.counters.drop(Drop::BadBody);
        };
        let word = static_word(word);
        match (m.str("info"), self.standby) {
            (Some("me"), Standby::Idle) if self.negotiation == Negotiation::Stable => {
                // The peer gives `groups` away: agree, take them when done.
                let mut r = Message::new();
                r.add("t", "ask_resources")
                    .add("rsc_hold", word)
                    .add("info", "other");
                self.send(now, r);
                let groups = groups & self.peer.holds_or(groups);
                self.standby = Standby::Taking {
                    groups,
                    word,
                    since: now,
                    released: false,
                };
                if self.bugs.take_before_release {
                    self.start(now, groups & !self.groups.failed());
                }
            }
            (Some("other"), Standby::Giving { groups, word, .. }) => {
                self.standby = Standby::Giving {
                    groups,
                    word,
                    asked: now,
                    agreed: true,
                };
                self.stop(now, groups);
            }
            (Some("done"), Standby::Released { .. }) => {
                // The taker has what we gave: we are settled again.
                self.standby = Standby::Idle;
                self.send_resources(now, None);
            }
            (Some("done"), Standby::Taking { groups, word, .. }) => {
                self.standby = Standby::Taking {
                    groups,
                    word,
                    since: now,
                    released: true,
                };
                self.peer.holds &= !groups;
                self.start(now, groups & !self.groups.failed());
            }
            _ => {}
        }
    }

    /// Legacy: the peer asks for its group back. Give it (stop it here),
    /// then grant; a group not held here is granted at once.
    pub(super) fn peer_requests(&mut self, now: Instant, m: &Message) {
        let Some(g) = self.group_of(m.str("ipaddr")) else {
            return self.counters.drop(Drop::BadBody);
        };
        self.stop(now, bit(g));
        self.pending_grants |= bit(g);
        self.grant(now);
    }

    /// Sends `ip-request-resp` for requested groups no longer held here.
    pub(super) fn grant(&mut self, now: Instant) {
        for g in 0..self.groups.len() {
            if self.pending_grants & bit(g) != 0 && self.groups.get(g) == GroupState::Stopped {
                self.pending_grants &= !bit(g);
                self.peer.holds |= bit(g);
                let peer = self.p.nodes[usize::from(self.peer_id)].clone();
                let key = self.p.groups[g].key.clone();
                let mut r = Message::new();
                r.add("t", "ip-request-resp")
                    .add("dest", &peer)
                    .add("ipaddr", key)
                    .add("weown", "yes")
                    .add("ok", "OK");
                self.send(now, r);
            }
        }
    }
}
