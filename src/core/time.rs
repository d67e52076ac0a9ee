//! The core's clock: a monotonic count of microseconds handed in by the
//! caller. The core never reads a clock, so the simulator can run it in
//! virtual time and the daemon in real time.

use crate::config::value::Time;
use std::fmt;

/// A point on the caller's monotonic clock, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(pub u64);

impl Instant {
    pub const ZERO: Instant = Instant(0);

    pub fn as_micros(self) -> u64 {
        self.0
    }

    /// `self + d`, saturating.
    pub fn plus(self, d: Time) -> Instant {
        Instant(self.0.saturating_add(d.as_micros()))
    }

    /// The time from `earlier` to `self` (zero if `earlier` is later).
    pub fn since(self, earlier: Instant) -> Time {
        Time::from_micros(self.0.saturating_sub(earlier.0))
    }
}

impl fmt::Display for Instant {
    /// `t=12.345678s`, as simulator traces print it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t={}.{:06}s", self.0 / 1_000_000, self.0 % 1_000_000)
    }
}
