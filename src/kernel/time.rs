//! Virtual time: integer nanoseconds, never the wall clock.
//!
//! `SimTime` is an instant since the start of a run, `SimDuration` a span. Arithmetic is
//! checked: an overflow is a bug in the model and panics the same way in debug and release.
//! Tested in `kernel/tests.rs`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Nanoseconds in one microsecond.
pub const NANOS_PER_MICRO: u64 = 1_000;
/// Nanoseconds in one millisecond.
pub const NANOS_PER_MILLI: u64 = 1_000_000;
/// Nanoseconds in one second.
pub const NANOS_PER_SECOND: u64 = 1_000_000_000;

/// An instant of simulated time, in nanoseconds since the run started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SimTime(u64);

/// A span of simulated time, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SimDuration(u64);

impl SimTime {
    /// The start of every run.
    pub const ZERO: SimTime = SimTime(0);

    /// An instant from raw nanoseconds.
    pub const fn from_nanos(nanos: u64) -> SimTime {
        SimTime(nanos)
    }

    /// Raw nanoseconds since the start of the run.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// This instant moved later by `duration`; panics on overflow (a model bug).
    pub fn after(self, duration: SimDuration) -> SimTime {
        SimTime(self.0.checked_add(duration.0).expect("simulated time overflowed u64 nanoseconds"))
    }

    /// The span from `earlier` to `self`; panics if `earlier` is later.
    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.checked_sub(earlier.0).expect("time went backwards"))
    }
}

impl SimDuration {
    /// No time at all.
    pub const ZERO: SimDuration = SimDuration(0);

    /// A span from raw nanoseconds.
    pub const fn from_nanos(nanos: u64) -> SimDuration {
        SimDuration(nanos)
    }

    /// A span of whole microseconds; panics on overflow.
    pub const fn from_micros(micros: u64) -> SimDuration {
        SimDuration(checked_scale(micros, NANOS_PER_MICRO))
    }

    /// A span of whole milliseconds; panics on overflow.
    pub const fn from_millis(millis: u64) -> SimDuration {
        SimDuration(checked_scale(millis, NANOS_PER_MILLI))
    }

    /// Raw nanoseconds.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// Whole milliseconds, rounded down.
    pub const fn as_millis(self) -> u64 {
        self.0 / NANOS_PER_MILLI
    }

    /// The sum of two spans; panics on overflow.
    pub fn plus(self, other: SimDuration) -> SimDuration {
        SimDuration(self.0.checked_add(other.0).expect("duration overflowed u64 nanoseconds"))
    }
}

const fn checked_scale(value: u64, unit: u64) -> u64 {
    match value.checked_mul(unit) {
        Some(nanos) => nanos,
        None => panic!("duration overflowed u64 nanoseconds"),
    }
}

/// Seconds with nine decimals: exact, and the same on every machine.
impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = self.0 / NANOS_PER_SECOND;
        let nanos = self.0 % NANOS_PER_SECOND;
        write!(f, "{seconds}.{nanos:09}s")
    }
}

impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        SimTime(self.0).fmt(f)
    }
}
