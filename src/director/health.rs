//! One real server's health, as a pure state machine in virtual time: when
//! its next check is due, how long a check may take, and when enough
//! results in a row change its verdict. The checks themselves (connect,
//! negotiate, external) run in the director's event loop and report here.
//!
//! ldirectord's rules: `failurecount` failures in a row take a server
//! down; tandem adds `rise` (successes in a row to bring it back, default
//! 1, as ldirectord). The first result after start decides at once: a
//! server is neither up nor down until it has been checked.

use crate::time::Instant;
use crate::time::Time;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Not checked yet.
    Unknown,
    Up,
    Down,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    pub verdict: Verdict,
    interval: Time,
    timeout: Time,
    fall: u32,
    rise: u32,
    /// Results in a row that disagree with the verdict.
    streak: u32,
    next: Instant,
    /// The running check's deadline.
    running: Option<Instant>,
    pub last_error: Option<String>,
}

/// What the director should do now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Due {
    /// Start a check; it must report by this deadline.
    Start { deadline: Instant },
    /// A running check ran out of time: it failed.
    TimedOut,
}

impl Health {
    /// A server first checked at `start` (spread the servers' first
    /// checks over the interval so they do not all run at once).
    pub fn new(interval: Time, timeout: Time, fall: u32, rise: u32, start: Instant) -> Health {
        Health {
            verdict: Verdict::Unknown,
            interval,
            timeout,
            fall: fall.max(1),
            rise: rise.max(1),
            streak: 0,
            next: start,
            running: None,
            last_error: None,
        }
    }

    /// When the director must call [`Health::poll`] next.
    pub fn wake_at(&self) -> Instant {
        self.running.unwrap_or(self.next)
    }

    pub fn poll(&mut self, now: Instant) -> Option<Due> {
        match self.running {
            Some(deadline) if now >= deadline => Some(Due::TimedOut),
            Some(_) => None,
            None if now >= self.next => {
                let deadline = now.plus(self.timeout);
                self.running = Some(deadline);
                // The next round counts from this start, as ldirectord's
                // checkinterval does, whatever the check takes.
                self.next = now.plus(self.interval);
                Some(Due::Start { deadline })
            }
            None => None,
        }
    }

    /// A check's result. Returns the new verdict when it changed.
    pub fn result(&mut self, ok: bool, error: Option<String>) -> Option<Verdict> {
        self.running = None;
        if !ok {
            self.last_error = error;
        }
        let seen = if ok { Verdict::Up } else { Verdict::Down };
        if self.verdict == Verdict::Unknown {
            self.verdict = seen;
            self.streak = 0;
            return Some(seen);
        }
        if seen == self.verdict {
            self.streak = 0;
            return None;
        }
        self.streak += 1;
        let needed = if ok { self.rise } else { self.fall };
        if self.streak >= needed {
            self.verdict = seen;
            self.streak = 0;
            Some(seen)
        } else {
            None
        }
    }

    /// Takes over an earlier `Health`'s verdict (the same server across
    /// a reload); the next check is due at once.
    pub fn adopt(&mut self, old: &Health) {
        self.verdict = old.verdict;
        self.streak = old.streak;
        self.last_error = old.last_error.clone();
    }

    /// Forgets a running check (its probe was closed).
    pub fn abandon(&mut self) {
        self.running = None;
    }

    pub fn timeout(&self) -> Time {
        self.timeout
    }

    pub fn is_up(&self) -> bool {
        self.verdict == Verdict::Up
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> Instant {
        Instant(ms * 1000)
    }

    fn run(h: &mut Health, now: Instant, ok: bool) -> Option<Verdict> {
        assert!(
            matches!(h.poll(now), Some(Due::Start { .. })),
            "not due at {now:?}"
        );
        h.result(ok, (!ok).then(|| "refused".to_string()))
    }

    #[test]
    fn failurecount_failures_in_a_row_take_a_server_down() {
        let mut h = Health::new(Time::from_secs(2), Time::from_secs(1), 3, 1, at(0));
        assert_eq!(run(&mut h, at(0), true), Some(Verdict::Up));
        assert_eq!(run(&mut h, at(2000), false), None);
        assert_eq!(
            run(&mut h, at(4000), true),
            None,
            "a success resets the count"
        );
        assert_eq!(run(&mut h, at(6000), false), None);
        assert_eq!(run(&mut h, at(8000), false), None);
        assert_eq!(run(&mut h, at(10000), false), Some(Verdict::Down));
        assert_eq!(h.last_error.as_deref(), Some("refused"));
        assert_eq!(run(&mut h, at(12000), true), Some(Verdict::Up));
    }

    #[test]
    fn rise_needs_successes_in_a_row() {
        let mut h = Health::new(Time::from_secs(1), Time::from_millis(500), 1, 2, at(0));
        assert_eq!(run(&mut h, at(0), false), Some(Verdict::Down));
        assert_eq!(run(&mut h, at(1000), true), None);
        assert_eq!(run(&mut h, at(2000), false), None);
        assert_eq!(run(&mut h, at(3000), true), None);
        assert_eq!(run(&mut h, at(4000), true), Some(Verdict::Up));
    }

    #[test]
    fn a_check_that_runs_out_of_time_is_a_failure_and_rounds_keep_their_pace() {
        let mut h = Health::new(Time::from_secs(1), Time::from_millis(300), 1, 1, at(0));
        assert_eq!(run(&mut h, at(0), true), Some(Verdict::Up));
        assert_eq!(h.wake_at(), at(1000));
        assert!(h.poll(at(999)).is_none());
        assert!(matches!(h.poll(at(1000)), Some(Due::Start { deadline }) if deadline == at(1300)));
        assert_eq!(h.wake_at(), at(1300));
        assert!(h.poll(at(1299)).is_none());
        assert_eq!(h.poll(at(1300)), Some(Due::TimedOut));
        assert_eq!(
            h.result(false, Some("timed out".into())),
            Some(Verdict::Down)
        );
        // The next round is due a full interval after the last started.
        assert_eq!(h.wake_at(), at(2000));
    }
}
