//! When Heartbeat's machine must look again: every deadline it keeps
//! (keepalive, the peer's dead time, a rejoin, retransmissions, standby
//! replies, stop retries, expiring failures), in one place so that none
//! is forgotten (one that is already past spins the daemon's loop).

use super::*;

impl Compat {
    /// When [`Compat::handle_timeout`] must be called next.
    pub fn poll_timeout(&self) -> Instant {
        if self.gone {
            // Said goodbye: nothing is due (the shell is exiting).
            return Instant(u64::MAX);
        }
        let mut next = self.next_keepalive;
        let mut consider = |t: Instant| next = next.min(t);
        // A death waits while unauthentic messages name the peer.
        let not_before = self.peer.unauthentic_until.unwrap_or(Instant::ZERO);
        match self.peer.liveness {
            Liveness::Unknown => consider(self.joined_at.plus(self.p.initdead).max(not_before)),
            Liveness::Up => consider(
                self.peer
                    .last_heard
                    .plus(self.peer.deadtime)
                    .max(not_before),
            ),
            Liveness::Dead => {}
        }
        for &(heard, up) in &self.peer.links {
            if up {
                consider(heard.plus(self.peer.deadtime));
            }
        }
        // Both starting: each takes its own after RQSTDELAY, once the peer
        // was told; until then the keepalive says `starting` again (found
        // by fuzzing: a past deadline with nothing to do spun the loop).
        if let (Negotiation::Starting(at), true) = (self.negotiation, self.peer.told) {
            consider(at.plus(RQSTDELAY));
        }
        // The rejoin waits for its delay and for this node's stops; while a
        // stop runs, its end (handle_resource) is what wakes the machine,
        // not a deadline already past (found by fuzzing: a busy loop).
        if let (Negotiation::Rejoining(since), 0) = (self.negotiation, self.held()) {
            consider(since.plus(REJOIN_DELAY));
        }
        if let Some(until) = self.peer.unauthentic_until {
            consider(until);
        }
        if let Some((at, _, _)) = self.rexmit {
            consider(at);
        }
        // Legacy requests are asked again only of a live peer, once the
        // negotiation is stable (found by fuzzing: otherwise a deadline
        // already past, with nothing to do, spun the loop).
        if let (Some(at), true, Liveness::Up, Negotiation::Stable) = (
            self.legacy_asked,
            self.legacy(),
            self.peer.liveness,
            self.negotiation,
        ) {
            consider(at.plus(RQSTDELAY));
        }
        match self.standby {
            // Only waiting for the other side times out; our own stops
            // and starts end when the runner says so.
            Standby::Giving {
                asked,
                agreed: false,
                ..
            } => consider(asked.plus(STANDBY_REPLY)),
            Standby::Taking {
                since,
                released: false,
                ..
            }
            | Standby::Released { since } => consider(since.plus(STANDBY_REPLY)),
            _ => {}
        }
        if let Some(at) = self.groups.next_retry() {
            consider(at);
        }
        if let Some(at) = self.groups.next_expiry(&self.p) {
            consider(at);
        }
        next
    }
}
