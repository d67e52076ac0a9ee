//! Who is alive: each authentic frame accepted (replay window, generation,
//! links heard), liveness from deadtime and warntime, and the views of the
//! other nodes that the election reads.

use super::*;

impl Node {
    /// A frame dropped on `link` for `reason`, claiming to come from
    /// `claimed` (unauthenticated: a claim, nothing more). Counted, and
    /// logged rate-limited under `log_badpack`. One thing only follows
    /// from it: a node never authenticated since this one started, named
    /// by frames that fail authentication, is alive with another key, so
    /// it is not declared dead while they keep coming (the operator's
    /// `takeover` still works). Once a node has been authenticated,
    /// nothing unauthenticated delays its death.
    pub(super) fn dropped(
        &mut self,
        now: Instant,
        link: LinkId,
        reason: Drop,
        claimed: Option<NodeId>,
    ) {
        let (claimed, line) =
            self.drops
                .count(&mut self.counters, &self.p, now, link, reason, claimed);
        if let Some(e) = line {
            self.out.event(now, e);
        }
        if let (Some(n), Drop::BadTag | Drop::UnknownKey) = (claimed, reason) {
            let deadtime = self.p.deadtime;
            let peer = &mut self.peers[usize::from(n)];
            peer.unauthentic_since.get_or_insert(now);
            if !peer.authenticated {
                if peer.wrong_key_until.is_none() {
                    self.out.event(now, Event::WrongKey(n));
                }
                peer.wrong_key_until = Some(now.plus(deadtime));
            }
        }
    }

    /// An authentic frame: replay checks, then liveness and status.
    pub(super) fn accept(&mut self, now: Instant, link: LinkId, frame: Frame, bytes: &[u8]) {
        let source = usize::from(frame.source);
        if source >= self.peers.len() {
            return self.counters.drop(Drop::UnknownNode);
        }
        if source == usize::from(self.p.local) || link >= self.p.links.len() {
            // Our own broadcast, or a link we do not have: no news.
            return;
        }
        let peer = &mut self.peers[source];
        match peer.generation {
            Some(known) if frame.generation < known => {
                if !peer.backwards_said {
                    peer.backwards_said = true;
                    self.out.event(
                        now,
                        Event::GenerationBackwards {
                            node: frame.source,
                            known,
                            heard: frame.generation,
                        },
                    );
                }
                return self.dropped(now, link, Drop::Replay, Some(frame.source));
            }
            Some(known) if frame.generation == known => {
                let (_, link_seq, _) = peer.links[link];
                let stale = frame.sequence.saturating_add(REPLAY_WINDOW) < peer.newest_seq;
                if frame.sequence <= link_seq || stale {
                    return self.dropped(now, link, Drop::Replay, Some(frame.source));
                }
            }
            _ => {
                // First frame of this generation: the node (re)started.
                let restarted = peer.generation.is_some();
                peer.generation = Some(frame.generation);
                peer.newest_seq = 0;
                for l in &mut peer.links {
                    l.1 = 0;
                }
                peer.status = None;
                peer.claim = None;
                peer.acked = None;
                self.out
                    .action(Action::PersistGeneration(frame.source, frame.generation));
                if restarted {
                    self.out.event(
                        now,
                        Event::NodeRestarted {
                            node: frame.source,
                            generation: frame.generation,
                        },
                    );
                }
            }
        }
        let peer = &mut self.peers[source];
        if peer.liveness == Liveness::Dead && frame.sequence <= peer.newest_seq {
            // A dead node comes back only with a frame newer than any seen:
            // its last frames replayed on another link do not revive it.
            return self.dropped(now, link, Drop::Replay, Some(frame.source));
        }
        let was_up = peer.links[link].2;
        peer.links[link] = (now, frame.sequence, true);
        if !was_up {
            self.out.event(
                now,
                Event::LinkUp {
                    node: frame.source,
                    link,
                },
            );
        }
        let peer = &mut self.peers[source];
        if frame.sequence <= peer.newest_seq {
            // New on this link, but not newer than one already taken on
            // another: a redundant copy, or a capture played back there.
            // The link works; it says nothing about whether the node lives.
            return;
        }
        // Authentic and newer than any: the only input that says this
        // node lives.
        peer.authenticated = true;
        peer.wrong_key_until = None;
        peer.unauthentic_since = None;
        peer.last_frame.clear();
        peer.last_frame.extend_from_slice(bytes);
        peer.last_heard = now;
        peer.warned = false;
        let local = self.p.local;
        peer.newest_seq = frame.sequence;
        let new_intent = frame.status.intent & !peer.status.map(|s| s.intent).unwrap_or(0);
        peer.status = Some(frame.status);
        peer.claim = frame.claim;
        if let Some(a) = frame.acks.iter().find(|a| a.node == local) {
            peer.acked = Some((a.generation, a.sequence));
        }
        if new_intent != 0 || frame.probes.contains(&local) {
            // Someone waits for our acknowledgement, or has not heard us
            // for a while: answer at once.
            self.dirty = true;
        }
        let peer = &mut self.peers[source];
        if frame.kind == Kind::Goodbye {
            if peer.liveness != Liveness::Dead {
                peer.liveness = Liveness::Dead;
                // It released everything before saying goodbye.
                peer.fence = Fence::NotNeeded;
                self.out.event(now, Event::NodeLeft(frame.source));
            }
            return;
        }
        if peer.liveness != Liveness::Up {
            peer.liveness = Liveness::Up;
            peer.fence = Fence::NotNeeded;
            peer.warned_unfenced = false;
            peer.warned_ping = false;
            self.out.event(now, Event::NodeUp(frame.source));
            // Tell a (re)appearing node where we stand at once.
            self.dirty = true;
        }
        if let Some(c) = frame.claim {
            self.epoch_seen = self.epoch_seen.max(c.epoch);
            // A newer claim on groups we claim wins: ours gives way.
            if let Some(mine) = self.claim {
                let newer = (c.epoch, std::cmp::Reverse(frame.source))
                    > (mine.epoch, std::cmp::Reverse(self.p.local));
                if newer && mine.groups & c.groups != 0 {
                    self.drop_claim(c.groups);
                    self.dirty = true;
                }
            }
        }
    }

    pub(super) fn update_liveness(&mut self, now: Instant) {
        let local = usize::from(self.p.local);
        for i in 0..self.peers.len() {
            if i == local {
                continue;
            }
            let node = i as NodeId;
            let peer = &mut self.peers[i];
            for (l, link) in peer.links.iter_mut().enumerate() {
                if link.2 && now.since(link.0) >= self.p.deadtime {
                    link.2 = false;
                    self.out.event(now, Event::LinkDown { node, link: l });
                }
            }
            if let Some(until) = peer.heartbeat_until {
                if now >= until {
                    peer.heartbeat_until = None;
                }
            }
            if peer.wrong_key_until.is_some_and(|until| now >= until) {
                peer.wrong_key_until = None;
            }
            let dead = match peer.liveness {
                // Not while it is heard with another key: it is alive.
                Liveness::Unknown => {
                    now.since(self.joined_at) >= self.p.initdead && peer.wrong_key_until.is_none()
                }
                Liveness::Up => {
                    let silent = now.since(peer.last_heard);
                    if !peer.warned && silent >= self.p.warntime && silent < self.p.deadtime {
                        peer.warned = true;
                        self.out.event(now, Event::NodeLate { node, silent });
                    }
                    silent >= self.p.deadtime
                }
                Liveness::Dead => false,
            };
            if dead {
                peer.liveness = Liveness::Dead;
                self.out.event(now, Event::NodeDead(node));
                // Unknown state counts as "may hold resources".
                let may_hold = peer.status.map(|s| s.held != 0).unwrap_or(true);
                peer.fence = if self.p.fencing && may_hold {
                    Fence::Needed
                } else {
                    Fence::NotNeeded
                };
            }
        }
        if self.state == NodeState::Joining
            && !self.release_all_pending()
            && self.peers.iter().enumerate().all(|(i, p)| {
                // A node heard only with another key does not keep
                // this one from joining past initdead: the operator
                // can then take over.
                i == local
                    || p.liveness != Liveness::Unknown
                    || (p.wrong_key_until.is_some() && now.since(self.joined_at) >= self.p.initdead)
            })
        {
            self.state = NodeState::Active;
            self.release_all = false;
            self.dirty = true;
            self.out.event(now, Event::Joined);
        }
    }

    pub(super) fn late_peers(&self) -> Vec<NodeId> {
        self.peers
            .iter()
            .enumerate()
            .filter(|(_, p)| p.liveness == Liveness::Up && p.warned)
            .map(|(i, _)| i as NodeId)
            .take(PROBES_MAX)
            .collect()
    }

    /// While a node is late, frames go out four times per keepalive, each
    /// asking it to answer at once: a lossy link gets more chances before
    /// deadtime runs out, at a cost only while something is wrong.
    pub(super) fn next_probe(&self) -> Instant {
        if self.late_peers().is_empty() {
            Instant(u64::MAX)
        } else {
            self.last_sent.plus(self.p.keepalive.div(4))
        }
    }

    /// What a live member (joining or active, not leaving) is known to
    /// hold and decline. Joining nodes count: every node must compute the
    /// same designated owners whatever stage the others are at.
    pub(super) fn view(&self, id: usize) -> Option<Status> {
        if id == usize::from(self.p.local) {
            return (self.state != NodeState::Leaving).then(|| self.status());
        }
        let peer = &self.peers[id];
        match (peer.liveness, peer.status) {
            (Liveness::Up, Some(s)) if s.state != NodeState::Leaving => Some(s),
            _ => None,
        }
    }
}
