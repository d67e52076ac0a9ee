//! What is dropped, told to the operator without letting a forger flood
//! the log (ha.cf `log_badpack`): at most one line per (link, reason,
//! claimed node) every [`EVERY`], carrying the count since the last line,
//! and at most [`LINES_PER_SECOND`] such lines in any second. The claimed
//! node is a configured one or none (`unknown`): names a forger makes up
//! cannot multiply the keys.

use super::outbox::{Counters, Event};
use super::params::{LinkId, NodeId, Params};
use crate::time::{Instant, Time};
use crate::wire::frame::Drop;
use std::collections::{BTreeMap, VecDeque};

/// One line per key at most this often.
pub const EVERY: Time = Time::from_secs(10);
/// Lines in any one second, all keys together.
pub const LINES_PER_SECOND: u32 = 5;

type Key = (LinkId, Drop, Option<NodeId>);

#[derive(Debug, Clone, Copy)]
struct Entry {
    /// When the last line for this key was written (None: never).
    said: Option<Instant>,
    /// Drops since that line.
    pending: u64,
}

/// The rate limiter: keys are bounded by links × reasons × (nodes + 1).
#[derive(Debug, Default, Clone)]
pub struct DropLog {
    entries: BTreeMap<Key, Entry>,
    /// When the last [`LINES_PER_SECOND`] lines were written, oldest
    /// first: a new line waits until the oldest is a second old, so no
    /// second, however it is cut, holds more.
    recent: VecDeque<Instant>,
}

impl DropLog {
    /// Counts one drop in `counters` and, under `log_badpack`, gives the
    /// line to log now, if one is due. The claimed node counts only when
    /// it is another configured node; it is returned as counted.
    pub fn count(
        &mut self,
        counters: &mut Counters,
        p: &Params,
        now: Instant,
        link: LinkId,
        reason: Drop,
        claimed: Option<NodeId>,
    ) -> (Option<NodeId>, Option<Event>) {
        counters.drop(reason);
        let claimed = claimed.filter(|&n| usize::from(n) < p.nodes.len() && n != p.local);
        let line = (p.log_badpack && link < p.links.len())
            .then(|| self.note(now, link, reason, claimed))
            .flatten();
        (claimed, line)
    }

    /// Counts one drop; returns the line to log now, if one is due.
    pub fn note(
        &mut self,
        now: Instant,
        link: LinkId,
        reason: Drop,
        node: Option<NodeId>,
    ) -> Option<Event> {
        let e = self.entries.entry((link, reason, node)).or_insert(Entry {
            said: None,
            pending: 0,
        });
        e.pending += 1;
        if e.said.is_some_and(|t| now.since(t) < EVERY) {
            return None;
        }
        while self
            .recent
            .front()
            .is_some_and(|&t| now.since(t) >= Time::from_secs(1))
        {
            self.recent.pop_front();
        }
        if self.recent.len() >= LINES_PER_SECOND as usize {
            return None;
        }
        self.recent.push_back(now);
        let count = e.pending;
        e.pending = 0;
        e.said = Some(now);
        Some(Event::Dropped {
            link,
            reason,
            node,
            count,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> Instant {
        Instant(ms * 1000)
    }

    #[test]
    fn one_line_per_key_per_ten_seconds_with_the_count() {
        let mut log = DropLog::default();
        assert!(log.note(at(0), 0, Drop::BadTag, Some(1)).is_some());
        for ms in 1..1000 {
            assert!(log.note(at(ms), 0, Drop::BadTag, Some(1)).is_none());
        }
        // Another key is its own.
        assert!(log.note(at(5), 1, Drop::BadTag, Some(1)).is_some());
        match log.note(at(10_000), 0, Drop::BadTag, Some(1)) {
            Some(Event::Dropped { count, .. }) => assert_eq!(count, 1000),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn many_keys_cannot_flood_the_log() {
        let mut log = DropLog::default();
        let mut lines = 0;
        for ms in 0..3000u64 {
            let link = (ms % 64) as usize;
            let node = Some((ms % 100) as NodeId);
            if log.note(at(ms), link, Drop::Truncated, node).is_some() {
                lines += 1;
            }
        }
        // Three seconds: at most LINES_PER_SECOND in each.
        assert!(lines <= 3 * LINES_PER_SECOND as usize, "{lines}");
        assert!(lines >= LINES_PER_SECOND as usize, "{lines}");
    }

    #[test]
    fn no_second_holds_more_than_the_cap_however_it_is_cut() {
        let mut log = DropLog::default();
        let mut said = Vec::new();
        for ms in 0..5000u64 {
            let link = (ms % 64) as usize;
            if log.note(at(ms), link, Drop::BadTag, None).is_some() {
                said.push(ms);
            }
        }
        for (i, &t) in said.iter().enumerate() {
            let within = said[i..].iter().take_while(|&&u| u < t + 1000).count();
            assert!(within <= LINES_PER_SECOND as usize, "{said:?}");
        }
    }
}
