//! Logs on simulated time, through `tracing`: every fact the harness records is also a log
//! event — the data path (sent, arrived, consumed, read, applied) at `trace`, everything
//! else at `debug` — stamped with the simulated time and the fact's index in the trace, never
//! the wall clock. Logs are separate from facts: nothing here feeds the trace hash, and with
//! no subscriber installed (the default) each call costs one disabled-callsite check.
//! `snapsim` installs a subscriber when `SNAPSIM_LOG` (or `RUST_LOG`) holds a filter.

use crate::kernel::time::SimTime;
use crate::kernel::trace::Fact;

/// The target every fact's log event carries (`SNAPSIM_LOG=snapsim::facts=debug`).
pub const FACTS_TARGET: &str = "snapsim::facts";

/// Logs `fact`, recorded at `now` as fact number `index` of the trace.
#[inline]
pub(super) fn log_fact(now: SimTime, index: u64, fact: &Fact) {
    if fact.is_data_path() {
        tracing::trace!(target: FACTS_TARGET, sim_time = %now, index, "{fact:?}");
    } else {
        tracing::debug!(target: FACTS_TARGET, sim_time = %now, index, "{fact:?}");
    }
}
