//! End to end: what a reader of the external system sees. A transactional sink's records
//! become visible when the transaction holding them commits (read-committed); an
//! at-least-once sink's when appended; an upsert sink's table holds each key's last value.
//! The committed output of every transactional sink must equal the fault-free output —
//! each source record exactly as often as the graph routes it to that sink — an
//! at-least-once sink's must hold every record at least that often (duplicates counted),
//! and an upsert table must end as the fault-free run leaves it. No transaction may commit
//! twice, and a polling reader must see exactly what commits published.
//!
//! Judged from the external system's facts (`TransactionBegun`, `TransactionWrite`,
//! `TransactionPrepared`, `TransactionCommitted`, `TransactionAborted`, `ExternalAppend`,
//! `ExternalUpsert`, `ReaderSaw`) and the restarts, never from the sinks' state. A violation
//! names the record, the transaction and its epoch, the checkpoint that pre-committed it
//! and the restart or abort that explains it. A duplicate is caught at the commit that makes
//! it visible; a loss at the end of the run.

use super::{ExpectedTotals, ExternalSinkMode, Invariant, KeyExpectation, RecordNumbering};
use crate::kernel::ids::{CheckpointId, RecordId, TaskId, TransactionId};
use crate::kernel::time::SimTime;
use crate::kernel::trace::{Fact, TransactionAbort};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

/// One record as a sink wrote it.
#[derive(Clone, Copy, Debug)]
struct Written {
    record: RecordId,
    key: u64,
    value: i64,
}

/// One incarnation of a transaction id: an id opened again is a new transaction.
type Incarnation = (TransactionId, u32);

/// What made a record visible: a transaction's commit, or an append.
#[derive(Clone, Copy, Debug)]
enum Shown {
    /// Incarnation `epoch` of `txn` committed; `checkpoint` pre-committed it, if any.
    Committed { txn: TransactionId, epoch: u32, checkpoint: Option<CheckpointId>, time: SimTime },
    /// An at-least-once sink appended it.
    Appended { task: TaskId, time: SimTime },
}

impl Shown {
    fn time(&self) -> SimTime {
        match *self {
            Shown::Committed { time, .. } | Shown::Appended { time, .. } => time,
        }
    }

    fn describe(&self) -> String {
        match *self {
            Shown::Committed { txn, epoch, checkpoint, time } => {
                let prepared = match checkpoint {
                    Some(checkpoint) => format!("pre-committed for {checkpoint}"),
                    None => "never pre-committed".to_string(),
                };
                format!("committed in {txn} (epoch {epoch}, {prepared}) at {time}")
            }
            Shown::Appended { task, time } => format!("appended by {task} at {time}"),
        }
    }
}

/// The last value a reader sees for a key of an upsert table, and what set it.
#[derive(Clone, Copy, Debug)]
struct Upserted {
    value: i64,
    record: RecordId,
    time: SimTime,
}

/// The end-to-end checker.
pub struct EndToEnd {
    expected: Rc<ExpectedTotals>,
    duplicates_allowed: bool,
    numbering: RecordNumbering,
    /// Per external sink: how many times each record is visible (saturating).
    visible: Vec<Vec<u8>>,
    /// Per external sink, per key: what is visible.
    totals: Vec<BTreeMap<u64, KeyExpectation>>,
    /// Per external sink, per record: what first made it visible.
    first_shown: Vec<Vec<Option<Shown>>>,
    /// Per external sink: its upsert table, as a reader sees it.
    tables: Vec<BTreeMap<u64, Upserted>>,
    /// Per record: the transaction that last held it.
    last_txn: Vec<Option<Incarnation>>,
    /// The writes of each transaction's live incarnation.
    writes: BTreeMap<TransactionId, Vec<Written>>,
    /// The live incarnation (epoch) of each transaction id.
    epochs: BTreeMap<TransactionId, u32>,
    prepared_for: BTreeMap<Incarnation, CheckpointId>,
    aborted: BTreeMap<Incarnation, TransactionAbort>,
    /// Committed transactions, by incarnation: a reused id is a new transaction.
    committed: BTreeSet<(TransactionId, u32)>,
    /// Every restart so far: when, and what it restarted from (in words).
    restarts: Vec<(SimTime, String)>,
    duplicates: u64,
    /// What commits have published: how many records, and their fingerprints' sum.
    published: (u64, u64),
}

impl EndToEnd {
    /// A checker against `expected`; `duplicates_allowed` under an at-least-once guarantee.
    pub fn new(expected: Rc<ExpectedTotals>, duplicates_allowed: bool) -> EndToEnd {
        let numbering = RecordNumbering::of(&expected);
        let record_count = numbering.count();
        let sinks = expected.sinks.len();
        let tracked = if sinks == 0 { 0 } else { record_count };
        EndToEnd {
            visible: vec![vec![0; tracked]; sinks],
            totals: vec![BTreeMap::new(); sinks],
            first_shown: vec![vec![None; tracked]; sinks],
            tables: vec![BTreeMap::new(); sinks],
            last_txn: vec![None; tracked],
            expected,
            duplicates_allowed,
            numbering,
            writes: BTreeMap::new(),
            epochs: BTreeMap::new(),
            prepared_for: BTreeMap::new(),
            aborted: BTreeMap::new(),
            committed: BTreeSet::new(),
            restarts: Vec::new(),
            duplicates: 0,
            published: (0, 0),
        }
    }

    /// Whether the job has an external sink to judge.
    pub fn has_sinks(&self) -> bool {
        !self.expected.sinks.is_empty()
    }

    /// Records visible beyond the expected ones, allowed or not (counted as they show).
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }

    /// Observes one fact at `time`; returns a violation it reveals.
    #[inline]
    pub fn observe(&mut self, time: SimTime, fact: &Fact) -> Option<(Invariant, String)> {
        if self.expected.sinks.is_empty() {
            return None;
        }
        match *fact {
            Fact::TransactionBegun { txn, epoch } => {
                self.writes.insert(txn, Vec::new());
                self.epochs.insert(txn, epoch);
            }
            Fact::TransactionWrite { txn, record, key, value } => {
                if let Some(index) = self.numbering.index(record) {
                    self.last_txn[index] = Some((txn, self.epoch_of(txn)));
                }
                self.writes.entry(txn).or_default().push(Written { record, key, value });
            }
            Fact::TransactionPrepared { txn, checkpoint } => {
                self.prepared_for.insert((txn, self.epoch_of(txn)), checkpoint);
            }
            Fact::TransactionAborted { txn, epoch, cause } => {
                if self.epochs.get(&txn) == Some(&epoch) {
                    self.writes.remove(&txn);
                }
                self.aborted.insert((txn, epoch), cause);
            }
            Fact::TransactionCommitted { txn, epoch, .. } => return self.on_commit(time, txn, epoch),
            Fact::ExternalAppend { task, record, key, value } => {
                let sink = self.expected.sink_of(task)?;
                return self.show(sink, Written { record, key, value }, Shown::Appended { task, time });
            }
            Fact::ExternalUpsert { task, record, key, value } => {
                let sink = self.expected.sink_of(task)?;
                self.tables[sink].insert(key, Upserted { value, record, time });
            }
            Fact::ReaderSaw { records, fingerprint } if (records, fingerprint) != self.published => {
                return Some((Invariant::ReadCommitted, self.uncommitted_seen(records)));
            }
            Fact::JobRestarted { checkpoint, .. } => {
                self.restarts.push((time, format!("the job restarted from {}", from(checkpoint))));
            }
            Fact::RegionRestarted { region, checkpoint, .. } => {
                self.restarts.push((time, format!("region {region} restarted from {}", from(checkpoint))));
            }
            _ => {}
        }
        None
    }

    fn on_commit(&mut self, time: SimTime, txn: TransactionId, epoch: u32) -> Option<(Invariant, String)> {
        let twice = (!self.committed.insert((txn, epoch))).then(|| {
            let detail = format!(
                "{txn} (epoch {epoch}) was committed twice: a reader sees its records published again{}",
                self.restart_since(None)
            );
            (Invariant::CommitOnce, detail)
        });
        // The records count even so, so that with commit-once not judged the end-of-run
        // totals still show what a reader saw.
        let duplicate = self.make_visible(time, txn, epoch);
        twice.or(duplicate)
    }

    /// Makes the records of `txn` visible; a duplicate beyond what is allowed is reported.
    fn make_visible(&mut self, time: SimTime, txn: TransactionId, epoch: u32) -> Option<(Invariant, String)> {
        let sink = self.expected.sink_of(txn.sink)?;
        let checkpoint = self.prepared_for.get(&(txn, epoch)).copied();
        let now = Shown::Committed { txn, epoch, checkpoint, time };
        // Kept, not taken: a planted republishing commit shows them again.
        let written = self.writes.get(&txn).cloned().unwrap_or_default();
        for record in &written {
            self.published = (self.published.0 + 1, self.published.1.wrapping_add(record.record.fingerprint()));
        }
        written.into_iter().find_map(|written| self.show(sink, written, now))
    }

    /// A reader saw `records` of the transactional records where commits had published
    /// fewer (or other) ones: name a transaction not committed that holds writes.
    fn uncommitted_seen(&self, records: u64) -> String {
        let open = self.writes.iter().find(|(txn, writes)| {
            let incarnation = (**txn, self.epoch_of(**txn));
            !writes.is_empty() && !self.committed.contains(&incarnation) && !self.aborted.contains_key(&incarnation)
        });
        let example = match open {
            Some((txn, writes)) => {
                let state = match self.prepared_for.get(&(*txn, self.epoch_of(*txn))) {
                    Some(checkpoint) => format!("pre-committed for {checkpoint}"),
                    None => "open".to_string(),
                };
                format!(": it sees uncommitted writes, such as the {} records of {txn} ({state})", writes.len())
            }
            None => String::new(),
        };
        format!(
            "a reader of the external system saw {records} records in its transactions, but commits had published {}{example}",
            self.published.0
        )
    }

    /// Makes one record visible in `sink`; a duplicate beyond what is allowed is reported.
    fn show(&mut self, sink: usize, written: Written, now: Shown) -> Option<(Invariant, String)> {
        let Some(index) = self.numbering.index(written.record) else {
            let detail = format!(
                "{} (key {}, value {}) is visible to a reader of the external system ({}), but the fault-free \
                 output has no such record{}",
                written.record,
                written.key,
                written.value,
                now.describe(),
                self.restart_since(None)
            );
            return Some((Invariant::EndToEndExactlyOnce, detail));
        };
        // Under an at-least-once guarantee a window may fire again after a restore with only
        // the records replayed since (a partial duplicate, counted as one), or count a
        // replayed record twice; it still must show its whole result once. Otherwise a
        // result must be exact.
        if let Some(wanted) = self.expected.window_result_value(written.record)
            && written.value != wanted
        {
            if !self.duplicates_allowed {
                return Some((Invariant::EndToEndExactlyOnce, self.wrong_window_value(written, wanted, now)));
            }
            if written.value < wanted {
                self.duplicates += 1;
                return None;
            }
        }
        let visible = &mut self.visible[sink][index];
        *visible = visible.saturating_add(1);
        let total = self.totals[sink].entry(written.key).or_default();
        *total = total.with(written.value, written.record);
        let wanted = self.wanted(sink, written.record);
        let first = *self.first_shown[sink][index].get_or_insert(now);
        if u64::from(self.visible[sink][index]) <= wanted {
            return None;
        }
        self.duplicates += 1;
        if self.duplicates_allowed || self.expected.sinks[sink].mode == ExternalSinkMode::AtLeastOnce {
            return None;
        }
        let detail = format!(
            "{} is visible {} times to a reader of the external system, but the job routes it there {wanted} time(s): \
             {}, and again {}{}",
            written.record,
            self.visible[sink][index],
            first.describe(),
            now.describe(),
            self.restart_since(Some(first.time())),
        );
        Some((Invariant::EndToEndExactlyOnce, detail))
    }

    /// A window result visible with another value than the fault-free run's, in words.
    fn wrong_window_value(&self, written: Written, wanted: i64, now: Shown) -> String {
        format!(
            "{} is visible with value {} to a reader of the external system ({}), but the fault-free run's is \
             {wanted}: the window fired with other records than it holds in a fault-free run{}",
            written.record,
            written.value,
            now.describe(),
            self.restart_since(None)
        )
    }

    /// How many times the graph routes `record` to external sink `sink`.
    fn wanted(&self, sink: usize, record: RecordId) -> u64 {
        let split = self.numbering.position(record.split);
        split.map_or(0, |split| self.expected.sinks[sink].multiplicity[split])
    }

    /// The restarts after `since` (all of them for `None`), in words.
    fn restart_since(&self, since: Option<SimTime>) -> String {
        let after: Vec<String> = self
            .restarts
            .iter()
            .filter(|(time, _)| since.is_none_or(|since| *time > since))
            .map(|(time, what)| format!("{what} at {time}"))
            .collect();
        if after.is_empty() { String::new() } else { format!(", after {}", after.join(", then ")) }
    }

    /// Every record must be visible in every external sink as often as the graph routes it
    /// there, and each key's visible values must add up as the fault-free run's do.
    pub fn finish(&self) -> Option<(Invariant, String)> {
        for (sink, expectation) in self.expected.sinks.iter().enumerate() {
            if expectation.mode == ExternalSinkMode::Upsert {
                if let Some(found) = self.final_table(sink) {
                    return Some(found);
                }
                continue;
            }
            for position in 0..self.expected.source_splits.len() {
                let wanted = expectation.multiplicity[position];
                for record in self.numbering.records_of(&self.expected, position).filter(|_| wanted > 0) {
                    let index = self.numbering.index(record).expect("an expected record is numbered");
                    let visible = u64::from(self.visible[sink][index]);
                    if visible < wanted {
                        return Some((Invariant::EndToEndExactlyOnce, self.loss(record, visible, wanted)));
                    }
                }
            }
            for (key, expected) in expectation.per_key.iter().enumerate().filter(|(_, expected)| expected.count > 0) {
                let key = key as u64;
                let seen = self.totals[sink].get(&key).copied().unwrap_or_default();
                let exact = !self.duplicates_allowed && expectation.mode == ExternalSinkMode::Transactional;
                if exact && seen != *expected {
                    let detail = format!(
                        "key {key}: readers see {} records with values summing to {}, but the fault-free output has {} \
                         summing to {}",
                        seen.count, seen.sum, expected.count, expected.sum
                    );
                    return Some((Invariant::EndToEndExactlyOnce, detail));
                }
            }
        }
        None
    }

    /// An upsert table at the end: each key's value is its count in the fault-free run (at
    /// least that, under an at-least-once guarantee, whose state may count twice).
    fn final_table(&self, sink: usize) -> Option<(Invariant, String)> {
        let expectation = &self.expected.sinks[sink];
        for (key, expected) in expectation.per_key.iter().enumerate().filter(|(_, expected)| expected.count > 0) {
            let key = key as u64;
            let wanted = i64::try_from(expected.count).expect("count fits i64");
            let detail = match self.tables[sink].get(&key) {
                None => format!("key {key} is missing from the upsert table; the fault-free run ends it at {wanted}"),
                Some(seen) if seen.value == wanted || (self.duplicates_allowed && seen.value > wanted) => continue,
                Some(seen) => format!(
                    "key {key} ends at {} in the upsert table (last set from {} at {}), but the fault-free run ends it \
                     at {wanted}{}",
                    seen.value,
                    seen.record,
                    seen.time,
                    self.restart_since(None)
                ),
            };
            return Some((Invariant::EndToEndExactlyOnce, detail));
        }
        None
    }

    /// Why `record` is visible only `visible` of `wanted` times, from the transaction that
    /// last held it.
    fn loss(&self, record: RecordId, visible: u64, wanted: u64) -> String {
        let head =
            format!("{record} is visible {visible} of the {wanted} time(s) the job routes it to the external sink");
        let index = self.numbering.index(record).expect("a lost record is an expected one");
        let Some(incarnation) = self.last_txn[index] else {
            let hint = "; an at-least-once sink must flush its buffer at every snapshot, and fail if the flush \
                        fails, or a checkpoint completes with records only in its memory";
            let buffered = self.expected.sinks.iter().any(|sink| sink.mode == ExternalSinkMode::AtLeastOnce);
            let hint = if buffered { hint } else { "" };
            return format!("{head}: no sink ever wrote it{hint}{}", self.restart_since(None));
        };
        let fate = match (self.aborted.get(&incarnation), self.prepared_for.get(&incarnation)) {
            (Some(TransactionAbort::TimedOut), Some(checkpoint)) => format!(
                "it was pre-committed for {checkpoint}, and the external system aborted it at the transaction timeout \
                 before its commit: the commit came too late, and a restore cannot bring it back"
            ),
            (Some(cause), _) => format!(
                "the external system aborted it ({}), and no later transaction wrote the record again",
                abort_cause(*cause)
            ),
            (None, Some(checkpoint)) => format!(
                "it was pre-committed for {checkpoint} but never committed: whoever took over after that checkpoint \
                 completed did not commit it"
            ),
            (None, None) => "it was still open when the run ended".to_string(),
        };
        let (txn, epoch) = incarnation;
        format!("{head}: last written in {txn} (epoch {epoch}); {fate}{}", self.restart_since(None))
    }

    fn epoch_of(&self, txn: TransactionId) -> u32 {
        self.epochs.get(&txn).copied().unwrap_or_default()
    }
}

fn from(checkpoint: Option<CheckpointId>) -> String {
    checkpoint.map_or_else(|| "scratch".to_string(), |checkpoint| checkpoint.to_string())
}

fn abort_cause(cause: TransactionAbort) -> &'static str {
    match cause {
        TransactionAbort::Lingering => "a leftover its restarted sink aborted",
        TransactionAbort::Fenced => "fenced: its id was opened again",
        TransactionAbort::TimedOut => "the transaction timeout",
        TransactionAbort::Injected => "a fault",
    }
}

impl KeyExpectation {
    /// These totals with one more record of `value` visible.
    fn with(self, value: i64, record: RecordId) -> KeyExpectation {
        KeyExpectation {
            count: self.count + 1,
            sum: self.sum.wrapping_add(value),
            fingerprint: self.fingerprint.wrapping_add(record.fingerprint()),
        }
    }
}
