//! Exporting a run's facts for other tools: Chrome trace-event JSON (`chrome.rs`), which
//! Perfetto and chrome://tracing open, and JSON lines, one fact per line, for scripts.

mod chrome;

#[cfg(test)]
mod tests;

pub use chrome::{ChromeTrace, DATA_FLOWS_MAX, chrome_trace};

use crate::kernel::trace::TimedFact;

/// The facts as JSON lines: `{"time_ns": …, "fact": {"Kind": {fields}}}`, one per line, in
/// the order they were recorded.
pub fn json_lines(facts: &[TimedFact]) -> String {
    let mut out = String::new();
    for timed in facts {
        let nanos = timed.time.since(crate::kernel::time::SimTime::ZERO).as_nanos();
        let fact = serde_json::to_string(&timed.fact).expect("a fact is plain data");
        out += &format!("{{\"time_ns\":{nanos},\"fact\":{fact}}}\n");
    }
    out
}
