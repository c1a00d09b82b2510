//! The built-in sink: it keeps the latest value it received for every key.
//!
//! Its state is checkpointed like any operator's. End-to-end sinks with transactions against
//! an external system come with the end-to-end issue (#6).

use super::operator::{Operator, StateError};
use super::record::Record;
use super::state_codec::{push_row, rows};
use std::collections::BTreeMap;

/// Records the latest value per key and how many records arrived.
#[derive(Clone, Debug, Default)]
pub struct RecordingSink {
    latest: BTreeMap<u64, i64>,
    received: u64,
}

impl RecordingSink {
    /// An empty sink.
    pub fn new() -> RecordingSink {
        RecordingSink::default()
    }

    /// The latest value received for `key`.
    pub fn latest(&self, key: u64) -> Option<i64> {
        self.latest.get(&key).copied()
    }

    /// Records received since the state was last reset or restored.
    pub fn received(&self) -> u64 {
        self.received
    }
}

impl Operator for RecordingSink {
    fn process(&mut self, record: &Record, _out: &mut Vec<Record>) {
        self.latest.insert(record.key, record.value);
        self.received += 1;
    }

    /// A header row `[received]`, then rows of `[key, value]` in key order.
    fn snapshot(&self, out: &mut Vec<u8>) {
        push_row(out, [self.received, 0]);
        for (&key, &value) in &self.latest {
            push_row(out, [key, value as u64]);
        }
    }

    fn restore(&mut self, state: &[u8]) -> Result<(), StateError> {
        let decoded = rows::<2>(state)?;
        let Some(([received, _], entries)) = decoded.split_first() else {
            return Err(StateError("a sink state starts with a header row".to_string()));
        };
        self.received = *received;
        self.latest = entries.iter().map(|&[key, value]| (key, value as i64)).collect();
        Ok(())
    }

    fn reset(&mut self) {
        self.latest.clear();
        self.received = 0;
    }
}
