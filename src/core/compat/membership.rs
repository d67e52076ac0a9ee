//! Who is there: each Heartbeat message verified and accepted (its
//! generation and sequence, the links it came on), a peer's liveness from
//! its dead time, and what unauthenticated bytes may and may not do.

use super::*;

impl Compat {
    /// An authentic message.
    pub(super) fn accept(&mut self, now: Instant, link: LinkId, m: &Message, bytes: &[u8]) {
        let Some(src) = m.str("src") else {
            return self.counters.drop(Drop::BadBody);
        };
        let local = &self.p.nodes[usize::from(self.p.local)];
        if src.eq_ignore_ascii_case(local) {
            return; // our own, looped back on a broadcast or serial ring
        }
        if !src.eq_ignore_ascii_case(&self.p.nodes[usize::from(self.peer_id)]) {
            return self.counters.drop(Drop::UnknownNode);
        }
        if let Some(dest) = m.str("dest") {
            if !dest.eq_ignore_ascii_case(local) {
                return;
            }
        }
        let t = m.str("t").unwrap_or("");
        let control = t.starts_with("NS_");
        let Some(generation) = m.hex("hg") else {
            return self.counters.drop(Drop::BadBody);
        };
        let mut restarted = false;
        match self.peer.generation {
            Some(known) if generation < known => {
                if !self.peer.backwards_said {
                    self.peer.backwards_said = true;
                    self.out.event(
                        now,
                        Event::GenerationBackwards {
                            node: self.peer_id,
                            known: known as u32,
                            heard: generation as u32,
                        },
                    );
                }
                return self.dropped(now, link, Drop::Replay, Some(self.peer_id));
            }
            Some(known) if generation == known => {}
            previous => {
                restarted = true;
                // A new generation: the Heartbeat node (re)started.
                self.peer.generation = Some(generation);
                self.peer.newest_seq = 0;
                self.peer.seen = 0;
                self.peer.fresh_generation = previous.is_some();
                self.peer.statement_seq = 0;
                self.peer.shut_down = false;
                // A restarted peer forgot any exchange it was in with us.
                self.standby = Standby::Idle;
                self.pending_grants = 0;
                self.peer.holds = 0;
                self.peer.stable = false;
                if previous.is_some() {
                    self.out.event(
                        now,
                        Event::NodeRestarted {
                            node: self.peer_id,
                            generation: generation as u32,
                        },
                    );
                }
            }
        }
        // Whether the message is newer than any heard: only such a one
        // says the peer lives now (a retransmission filling a gap, or a
        // capture of one played back, is history).
        let mut newer = false;
        if !control {
            let Some(seq) = m.hex("seq") else {
                return self.counters.drop(Drop::BadBody);
            };
            let had = self.peer.newest_seq;
            newer = seq > had;
            if !self.peer.first_sight(seq) {
                return self.dropped(now, link, Drop::Replay, Some(self.peer_id));
            }
            // A gap after messages already heard (or, in a generation
            // that began while we listened, before the first): ask for
            // it, later.
            let tracked = had > 0 || self.peer.fresh_generation;
            if tracked && seq > had + 1 {
                let first = (had + 1).max(seq.saturating_sub(RESEND_MAX));
                // A second gap while one waits joins it: the request asks
                // only for what is still missing then.
                self.rexmit = Some(match self.rexmit {
                    None => (now.plus(REXMIT_DELAY), first, seq - 1),
                    Some((at, lo, _)) => (at, lo.max(seq.saturating_sub(RESEND_MAX)), seq - 1),
                });
            }
            self.peer.unacked += 1;
            if self.peer.unacked >= ACK_EVERY {
                self.peer.unacked = 0;
                self.acknowledge(now, seq);
            }
        }
        if let Some(uuid) = m.binary("srcuuid") {
            if uuid.len() <= 16 {
                self.peer.uuid = uuid.to_vec();
            }
        }
        let dying = t == "shutdone" || (t == "status" && m.str("st") == Some("dead"));
        if (dying || self.peer.shut_down) && self.peer.liveness == Liveness::Dead {
            return; // its last words, after it left
        }
        self.peer.shut_down |= dying;
        // Only a numbered message newer than any proves the peer lives
        // now: control messages (acknowledgements, retransmission
        // requests) carry no sequence, and a captured one played back, or
        // a late gap filler, must not keep a dead peer alive.
        if newer {
            let returning = self.peer.liveness == Liveness::Dead && !restarted;
            self.heard(now, link);
            self.peer.last_message.clear();
            self.peer.last_message.extend_from_slice(bytes);
            if returning && self.negotiation == Negotiation::Stable {
                self.rejoin(now);
            }
        }
        // What it holds is said in full each time (`starting`, `resource`
        // rtype=full): one that arrives after a newer one (resent, or
        // overtaken on the way) is history, not news.
        if matches!(t, "starting" | "resource") && m.str("info") != Some("mach_down") {
            let seq = m.hex("seq").unwrap_or(0);
            if seq < self.peer.statement_seq {
                return;
            }
            self.peer.statement_seq = seq;
        }
        match t {
            "status" => {
                if let Some(dt) = m.hex("dt").filter(|&d| d > 0) {
                    // Heartbeat uses the sender's dead time for it.
                    self.peer.deadtime = Time::from_millis(dt.min(3_600_000));
                }
                if m.str("st") == Some("dead") {
                    self.peer_gone(now, Event::NodeLeft(self.peer_id), "unneeded");
                }
            }
            "starting" => {
                // It starts: tell it what we do. What it holds (groups
                // found running at its start) its `resource` says, and
                // only that lets "both starting" go on; a new generation
                // already forgot what it held before, and a `starting`
                // said again must not.
                self.peer.stable = false;
                self.peer.failback_due = true;
                self.send_resources(now, None);
            }
            "resource" => self.peer_resources(now, m),
            "ask_resources" => self.peer_standby(now, m),
            "hb_takeover" => {
                let word = static_word(m.str("rsc_hold").unwrap_or(""));
                let wanted = self.mask_of(self.peer_id, word).unwrap_or(0);
                let give = wanted & self.running();
                if give != 0 && self.standby == Standby::Idle {
                    // Its `local` is our `foreign` and the other way round.
                    let ours = match word {
                        "local" => "foreign",
                        "foreign" => "local",
                        w => w,
                    };
                    self.give(now, give, ours);
                }
            }
            "shutdone" => self.peer_gone(now, Event::NodeLeft(self.peer_id), "unneeded"),
            "reqnodes" => {
                let nodes: String = self.p.nodes.iter().map(|n| format!("{n} ")).collect();
                let peer = self.p.nodes[usize::from(self.peer_id)].clone();
                let mut r = Message::new();
                r.add("dest", &peer)
                    .add("t", "repnodes")
                    .add("nodelist", nodes)
                    .add("delnodelist", " ");
                self.send(now, r);
            }
            "NS_rexmit" => self.resend(now, m),
            "ip-request" => self.peer_requests(now, m),
            "ip-request-resp" => {
                let granted = m.str("ok") == Some("OK");
                let stable = self.negotiation == Negotiation::Stable;
                if let (true, true, Some(g)) = (granted, stable, self.group_of(m.str("ipaddr"))) {
                    self.peer.holds &= !bit(g);
                    self.start(now, bit(g) & !self.groups.failed());
                }
            }
            _ => {}
        }
    }

    /// A message that failed authentication names the peer as its source
    /// (unverified): the peer may be alive with another key. Until such
    /// messages stop for its dead time, it is not declared dead.
    /// A message on `link` that was dropped for `reason` before it was
    /// authenticated. Counted and logged (rate-limited). If it names the
    /// peer and fails authentication while the peer was never
    /// authenticated since this node started, the peer is alive with
    /// another key: not declared dead while such messages keep coming.
    pub(super) fn unauthentic(&mut self, now: Instant, link: LinkId, reason: Drop, bytes: &[u8]) {
        let claimed = crate::wire::sniff::heartbeat_source(bytes).and_then(|src| {
            self.p
                .nodes
                .iter()
                .position(|n| n.eq_ignore_ascii_case(&src))
                .map(|i| i as NodeId)
        });
        self.dropped(now, link, reason, claimed);
        if claimed != Some(self.peer_id) || !matches!(reason, Drop::BadTag | Drop::UnknownKey) {
            return;
        }
        self.peer.unauthentic_since.get_or_insert(now);
        if self.peer.authenticated {
            return;
        }
        if self.peer.unauthentic_until.is_none() {
            self.out.event(now, Event::WrongKey(self.peer_id));
        }
        self.peer.unauthentic_until = Some(now.plus(self.peer.deadtime));
    }

    /// Counts a drop and logs it under `log_badpack`, rate-limited.
    pub(super) fn dropped(
        &mut self,
        now: Instant,
        link: LinkId,
        reason: Drop,
        claimed: Option<NodeId>,
    ) {
        let (_, line) = self
            .drops
            .count(&mut self.counters, &self.p, now, link, reason, claimed);
        if let Some(e) = line {
            self.out.event(now, e);
        }
    }

    /// Liveness from any authentic message.
    pub(super) fn heard(&mut self, now: Instant, link: LinkId) {
        let node = self.peer_id;
        if let Some(l) = self.peer.links.get_mut(link) {
            if !l.1 {
                self.out.event(now, Event::LinkUp { node, link });
            }
            *l = (now, true);
        }
        self.peer.last_heard = now;
        self.peer.authenticated = true;
        self.peer.unauthentic_until = None;
        self.peer.unauthentic_since = None;
        if self.peer.liveness != Liveness::Up {
            self.peer.liveness = Liveness::Up;
            self.out.event(now, Event::NodeUp(node));
            if self.negotiation == Negotiation::Stable {
                // Back after a death or partition: it negotiates anew, and
                // learns what this node holds now (two nodes that each
                // took over from the other find out so, and rejoin).
                self.peer.holds = 0;
                self.peer.stable = false;
                self.send_resources(now, None);
            }
        }
    }

    pub(super) fn update_liveness(&mut self, now: Instant) {
        let node = self.peer_id;
        for (l, link) in self.peer.links.iter_mut().enumerate() {
            if link.1 && now.since(link.0) >= self.peer.deadtime {
                link.1 = false;
                self.out.event(now, Event::LinkDown { node, link: l });
            }
        }
        if self
            .peer
            .unauthentic_until
            .is_some_and(|until| now >= until)
        {
            self.peer.unauthentic_until = None;
        }
        let dead = match self.peer.liveness {
            Liveness::Unknown => now.since(self.joined_at) >= self.p.initdead,
            Liveness::Up => now.since(self.peer.last_heard) >= self.peer.deadtime,
            Liveness::Dead => false,
        } && self.peer.unauthentic_until.is_none();
        if dead {
            self.peer_gone(now, Event::NodeDead(node), "n_stnth");
        }
    }
}
