//! Heartbeat's reliable delivery, as its peers expect it: every message
//! numbered (`seq`) within a generation, acknowledged every
//! [`ACK_EVERY`](super::ACK_EVERY) messages, kept for retransmission
//! (`HISTORY`), and gaps asked again with `rexmit` requests, bounded by
//! `RESEND_MAX` and paced by `REXMIT_DELAY` and `REXMIT_AGAIN`.

use super::*;

impl Compat {
    /// Adds the fields every message carries and queues it. Sequenced
    /// messages are kept for retransmission requests.
    pub(super) fn send(&mut self, now: Instant, mut m: Message) {
        let control = m.str("t").is_some_and(|t| t.starts_with("NS_"));
        let name = self.p.nodes[usize::from(self.p.local)].clone();
        m.add("src", &name).add_binary("srcuuid", &self.uuid);
        if !control {
            self.seq += 1;
            m.add("seq", format!("{:x}", self.seq));
        }
        let ts = self.wall_at_zero + now.as_micros() / 1_000_000;
        m.add("hg", format!("{:x}", self.generation))
            .add("ts", format!("{ts:x}"));
        if !control {
            m.add("ld", &self.load);
        }
        m.add("ttl", "3");
        if !control {
            self.history.push_back((self.seq, m.clone()));
            if self.history.len() > HISTORY {
                self.history.pop_front();
            }
        }
        self.queue(&m);
    }

    pub(super) fn queue(&mut self, m: &Message) {
        if self.silent {
            return;
        }
        // The signing key was checked to have a Heartbeat form, and our
        // messages hold only strings without newlines and binary fields.
        if let (Ok(netstring), Ok(text)) = (
            hb::encode_netstring(m, &self.auth),
            hb::encode_text(m, &self.auth),
        ) {
            self.transmits.push_back(Outgoing { netstring, text });
            self.counters.sent += 1;
        }
    }

    pub(super) fn acknowledge(&mut self, now: Instant, seq: u64) {
        let peer = self.p.nodes[usize::from(self.peer_id)].clone();
        let uuid = self.peer.uuid.clone();
        let mut m = Message::new();
        m.add("t", "NS_ackmsg")
            .add("dest", &peer)
            .add("ackseq", format!("{seq:x}"))
            .add_binary("destuuid", &uuid);
        self.send(now, m);
    }

    /// The peer missed some of our messages: send them again from the
    /// history (Heartbeat's request numbers are decimal); those no longer
    /// kept are reported lost (`NS_nak_rexmit`).
    pub(super) fn resend(&mut self, now: Instant, m: &Message) {
        let (Some(first), Some(last)) = (m.decimal("firstseq"), m.decimal("lastseq")) else {
            return self.counters.drop(Drop::BadBody);
        };
        let last = last.min(first.saturating_add(RESEND_MAX - 1));
        for seq in first..=last {
            match self.history.iter().find(|(s, _)| *s == seq) {
                Some((_, m)) => {
                    let m = m.clone();
                    self.queue(&m);
                }
                None if (1..=self.seq).contains(&seq) => {
                    let peer = self.p.nodes[usize::from(self.peer_id)].clone();
                    let mut nak = Message::new();
                    nak.add("t", "NS_nak_rexmit")
                        .add("dest", &peer)
                        .add("firstseq", seq.to_string())
                        .add("info", "not in history");
                    self.send(now, nak);
                }
                None => {}
            }
        }
    }

    /// Asks the peer again for its messages still missing after
    /// [`REXMIT_DELAY`] (decimal numbers, as Heartbeat's requests).
    pub(super) fn ask_again(&mut self, now: Instant) {
        let Some((at, first, last)) = self.rexmit else {
            return;
        };
        if now < at {
            return;
        }
        self.rexmit = None;
        let missing: Vec<u64> = (first..=last)
            .filter(|&s| {
                let back = self.peer.newest_seq.saturating_sub(s);
                back < 64 && self.peer.seen & (1 << back) == 0
            })
            .collect();
        if let (Some(&lo), Some(&hi)) = (missing.first(), missing.last()) {
            let peer = self.p.nodes[usize::from(self.peer_id)].clone();
            let mut m = Message::new();
            m.add("t", "NS_rexmit")
                .add("dest", &peer)
                .add("firstseq", lo.to_string())
                .add("lastseq", hi.to_string());
            self.send(now, m);
            // The request or its answer may be lost too: asked again while
            // the gap is still within the window of numbers tracked.
            self.rexmit = Some((now.plus(REXMIT_AGAIN), lo, hi));
        }
    }

    pub(super) fn send_status(&mut self, now: Instant) {
        // While leaving, the node is still active: it stops its groups,
        // and only its `shutdone st=dead` tells the peer to take them.
        let st = match (self.negotiation, self.peer.liveness) {
            (Negotiation::Init, Liveness::Unknown) => "up",
            _ => "active",
        };
        let mut m = Message::new();
        m.add("t", "status")
            .add("st", st)
            .add("dt", format!("{:x}", self.p.deadtime.as_micros() / 1000))
            .add("protocol", "1");
        self.send(now, m);
        self.next_keepalive = now.plus(self.p.keepalive);
    }

    /// `resource rsc_hold=… isstable=…` for what this node holds now.
    pub(super) fn send_resources(&mut self, now: Instant, info: Option<&str>) {
        let stable = self.settled();
        self.send_resources_as(now, info, stable);
    }

    /// Negotiated, and no start or stop under way.
    pub(super) fn settled(&self) -> bool {
        self.negotiation == Negotiation::Stable && self.groups.settled()
    }

    pub(super) fn send_resources_as(&mut self, now: Instant, info: Option<&str>, stable: bool) {
        self.announced_stable = stable;
        if self.legacy() {
            return; // legacy Heartbeat exchanges no resource messages
        }
        let word = self.word_for(self.p.local, self.held());
        let mut m = Message::new();
        m.add("t", "resource")
            .add("rsc_hold", word)
            .add("rtype", "full")
            .add("isstable", if stable { "1" } else { "0" });
        if let Some(info) = info {
            m.add("info", info);
        }
        self.send(now, m);
    }
}
