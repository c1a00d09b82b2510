//! The keyed event-time tumbling window: per key, the records whose event time falls in
//! `[n × size, (n + 1) × size)` are counted and summed in window `n`, and an event-time
//! timer at the window's last instant emits the result once the watermark reaches it.
//!
//! Window contents and timers are its checkpointed state; its watermark is not (as in
//! Flink, it starts again from the bottom after a restore and rises as the inputs' do). A
//! result's id names the window vertex, the window and the key, so a reader can tell a
//! result emitted twice from two results. A record arriving for a window already fired is
//! late and dropped, as Flink drops it; the log's event times are built so none is.

use super::keyed::{KeyTotals, key_group_of};
use super::keyed_state::KeyGroupedBytes;
use super::operator::{Operator, StateError};
use super::record::Record;
use super::state_codec::{push_row, rows};
use crate::kernel::ids::{RecordId, SplitId, VertexId, WINDOW_KEY_BITS};
use std::collections::{BTreeMap, BTreeSet};

/// Row tags of the snapshot: one row per window content and per timer.
const CONTENT_ROW: u64 = 0;
const TIMER_ROW: u64 = 1;

/// The id of the result of `window` for `key` emitted by window vertex `vertex`.
pub fn window_result_id(vertex: VertexId, window: u64, key: u64) -> RecordId {
    RecordId { split: SplitId::window_results(vertex), offset: (window << WINDOW_KEY_BITS) | key }
}

/// A keyed tumbling window of one vertex's subtask.
#[derive(Clone, Debug)]
pub struct TumblingWindow {
    vertex: VertexId,
    /// The window size, µs of event time.
    size: u64,
    /// Key groups of the vertex: its snapshot holds a section per key group.
    max_parallelism: u32,
    /// Per (window, key): what has arrived.
    contents: BTreeMap<(u64, u64), KeyTotals>,
    /// Event-time timers: (fires at, key, window).
    timers: BTreeSet<(u64, u64, u64)>,
    /// The watermark reached so far in this attempt.
    watermark: Option<u64>,
    /// Records that came after their window had fired.
    late: u64,
}

impl TumblingWindow {
    /// An empty window of vertex `vertex` (with `max_parallelism` key groups), `size` µs of
    /// event time wide.
    pub fn new(vertex: VertexId, size: u64, max_parallelism: u32) -> TumblingWindow {
        assert!(size > 0, "a window has a size");
        TumblingWindow {
            vertex,
            size,
            max_parallelism,
            contents: BTreeMap::new(),
            timers: BTreeSet::new(),
            watermark: None,
            late: 0,
        }
    }

    /// Records dropped as late so far.
    pub fn late_records(&self) -> u64 {
        self.late
    }

    /// The watermark advanced to `watermark`: fires every timer at or below it, appending
    /// each window's result to `out` in timer order.
    pub fn advance_watermark(&mut self, watermark: u64, out: &mut Vec<Record>) {
        if self.watermark.is_some_and(|current| current >= watermark) {
            return;
        }
        self.watermark = Some(watermark);
        while let Some(&(fires_at, key, window)) = self.timers.first() {
            if fires_at > watermark {
                break;
            }
            self.timers.pop_first();
            let Some(totals) = self.contents.remove(&(window, key)) else { continue };
            let id = window_result_id(self.vertex, window, key);
            out.push(Record { id, key, value: totals.sum, event_time: fires_at });
        }
    }

    fn end_of(&self, window: u64) -> u64 {
        (window + 1) * self.size - 1
    }
}

impl Operator for TumblingWindow {
    fn process(&mut self, record: &Record, _out: &mut Vec<Record>) {
        let window = record.event_time / self.size;
        let fires_at = self.end_of(window);
        if self.watermark.is_some_and(|watermark| watermark >= fires_at) {
            self.late += 1;
            return;
        }
        let totals = self.contents.entry((window, record.key)).or_default();
        *totals = totals.with(record);
        self.timers.insert((fires_at, record.key, window));
    }

    /// Per key group, rows of six words: `[0, window, key, count, sum, fingerprint]` per
    /// window content, then `[1, fires at, key, window, 0, 0]` per timer.
    fn snapshot(&self, out: &mut Vec<u8>) {
        let mut grouped = KeyGroupedBytes::new();
        for (&(window, key), totals) in &self.contents {
            let row = [CONTENT_ROW, window, key, totals.count, totals.sum as u64, totals.fingerprint];
            push_row(grouped.section_mut(key_group_of(key, self.max_parallelism)), row);
        }
        for &(fires_at, key, window) in &self.timers {
            let row = [TIMER_ROW, fires_at, key, window, 0, 0];
            push_row(grouped.section_mut(key_group_of(key, self.max_parallelism)), row);
        }
        grouped.encode(out);
    }

    fn restore(&mut self, state: &[u8]) -> Result<(), StateError> {
        self.reset();
        for (group, section) in KeyGroupedBytes::decode(state)?.sections() {
            for row in rows::<6>(section)? {
                let key = row[2];
                if key_group_of(key, self.max_parallelism) != group {
                    return Err(StateError(format!("key {key} is in key group {group}'s section")));
                }
                match row {
                    [CONTENT_ROW, window, key, count, sum, fingerprint] => {
                        self.contents.insert((window, key), KeyTotals { count, sum: sum as i64, fingerprint });
                    }
                    [TIMER_ROW, fires_at, key, window, _, _] => {
                        self.timers.insert((fires_at, key, window));
                    }
                    [tag, ..] => return Err(StateError(format!("a window row has tag 0 or 1, not {tag}"))),
                }
            }
        }
        Ok(())
    }

    fn reset(&mut self) {
        self.contents.clear();
        self.timers.clear();
        self.watermark = None;
        self.late = 0;
    }
}
