//! Instants and spans, in microseconds. The core never reads a clock: the
//! caller hands it an [`Instant`] on its own monotonic clock, so the
//! simulator can run it in virtual time and the daemons in real time.
//! [`Time`] is a span as ha.cf and ldirectord.cf write them.

use serde::{Serialize, Serializer};
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

/// A span of time as Heartbeat's ha.cf writes it, kept in microseconds so
/// that `500us` survives (Heartbeat itself rounds to milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Time {
    micros: u64,
}

impl Time {
    pub const ZERO: Time = Time { micros: 0 };

    pub const fn is_zero(self) -> bool {
        self.micros == 0
    }

    pub const fn from_micros(micros: u64) -> Time {
        Time { micros }
    }

    pub const fn from_millis(millis: u64) -> Time {
        Time {
            micros: millis * 1_000,
        }
    }

    pub const fn from_secs(secs: u64) -> Time {
        Time {
            micros: secs * 1_000_000,
        }
    }

    pub const fn as_micros(self) -> u64 {
        self.micros
    }

    /// Whole milliseconds, rounded down (Heartbeat's unit on the wire).
    pub const fn as_millis(self) -> u64 {
        self.micros / 1_000
    }

    pub const fn saturating_mul(self, n: u64) -> Time {
        Time {
            micros: self.micros.saturating_mul(n),
        }
    }

    pub const fn div(self, n: u64) -> Time {
        Time {
            micros: self.micros / n,
        }
    }

    /// The form ha.cf accepts back: `2` (seconds), `1500ms` or `500us`.
    pub fn to_hacf(self) -> String {
        if self.micros.is_multiple_of(1_000_000) {
            format!("{}", self.micros / 1_000_000)
        } else if self.micros.is_multiple_of(1_000) {
            format!("{}ms", self.micros / 1_000)
        } else {
            format!("{}us", self.micros)
        }
    }
}

impl fmt::Display for Time {
    /// Human form: `30s`, `1.5s`, `500ms`, `250us`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = self.micros;
        if us >= 1_000_000 {
            let secs = us / 1_000_000;
            let frac = us % 1_000_000;
            if frac == 0 {
                write!(f, "{secs}s")
            } else {
                let digits = format!("{frac:06}");
                write!(f, "{secs}.{}s", digits.trim_end_matches('0'))
            }
        } else if us >= 1_000 && us.is_multiple_of(1_000) {
            write!(f, "{}ms", us / 1_000)
        } else if us >= 1_000 {
            let digits = format!("{:03}", us % 1_000);
            write!(f, "{}.{}ms", us / 1_000, digits.trim_end_matches('0'))
        } else {
            write!(f, "{us}us")
        }
    }
}

impl Serialize for Time {
    /// Machines get milliseconds (fractional where needed), the unit
    /// Heartbeat's tools and the status JSON use.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.micros.is_multiple_of(1_000) {
            s.serialize_u64(self.micros / 1_000)
        } else {
            s.serialize_f64(self.micros as f64 / 1_000.0)
        }
    }
}
