//! A user's own transactional sink plugs in: written against the public `TransactionalSink`
//! interface, it runs in place of the built-in two-phase-commit sink under every checker,
//! protocol and fault plan, judged by what a reader of the external system sees. A naive one
//! is caught; a correct one passes a property test over seeds and swarm fault plans.

use crate::support::load;
use proptest::prelude::*;
use snapsim::check::Invariant;
use snapsim::dataflow::operator::StateError;
use snapsim::kernel::ids::{CheckpointId, TaskId, TransactionId};
use snapsim::scenario::{Scenario, SwarmSection};
use snapsim::testing::{Record, SinkCommand, SinkFactory, TransactionalSink, Verdict, check_with_sink, seeds};
use std::rc::Rc;

/// Commits each transaction as soon as it is flushed at the snapshot — before anyone knows
/// the checkpoint will complete: what someone might write before reading about two-phase
/// commit.
#[derive(Debug)]
struct CommitAtSnapshot {
    task: TaskId,
    next: u64,
}

impl CommitAtSnapshot {
    fn open(&self) -> TransactionId {
        TransactionId { sink: self.task, sequence: self.next }
    }
}

impl TransactionalSink for CommitAtSnapshot {
    fn start(&mut self, out: &mut Vec<SinkCommand>) {
        out.push(SinkCommand::AbortLingering { from: self.next });
        out.push(SinkCommand::Begin(self.open()));
    }

    fn write(&mut self, record: Record, out: &mut Vec<SinkCommand>) {
        out.push(SinkCommand::Write { txn: self.open(), record });
    }

    fn pre_commit(&mut self, checkpoint: CheckpointId, out: &mut Vec<SinkCommand>) {
        out.push(SinkCommand::Prepare { txn: self.open(), checkpoint });
        out.push(SinkCommand::Commit(self.open()));
        self.next += 1;
        out.push(SinkCommand::Begin(self.open()));
    }

    fn on_checkpoint_complete(&mut self, _checkpoint: CheckpointId, _out: &mut Vec<SinkCommand>) {}

    fn commit_finished(&mut self, _txn: TransactionId, _retry: bool) {}

    fn snapshot(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.next.to_le_bytes());
    }

    fn restore(&mut self, state: &[u8]) -> Result<(), StateError> {
        let bytes: [u8; 8] = state.try_into().map_err(|_| StateError("eight bytes".to_string()))?;
        self.next = u64::from_le_bytes(bytes);
        Ok(())
    }

    fn reset(&mut self) {
        self.next = 0;
    }
}

/// A correct one, written from scratch: transactions pre-committed at the snapshot wait in a
/// map by checkpoint, commit when a checkpoint at or after theirs completes, and are
/// committed again after a restore; everything from the restored number on is aborted.
#[derive(Debug)]
struct MyTwoPhaseSink {
    task: TaskId,
    next: u64,
    waiting: std::collections::BTreeMap<u64, CheckpointId>,
}

impl MyTwoPhaseSink {
    fn txn(&self, sequence: u64) -> TransactionId {
        TransactionId { sink: self.task, sequence }
    }
}

impl TransactionalSink for MyTwoPhaseSink {
    fn start(&mut self, out: &mut Vec<SinkCommand>) {
        out.extend(self.waiting.keys().map(|&sequence| SinkCommand::Commit(self.txn(sequence))));
        out.push(SinkCommand::AbortLingering { from: self.next });
        out.push(SinkCommand::Begin(self.txn(self.next)));
    }

    fn write(&mut self, record: Record, out: &mut Vec<SinkCommand>) {
        out.push(SinkCommand::Write { txn: self.txn(self.next), record });
    }

    fn pre_commit(&mut self, checkpoint: CheckpointId, out: &mut Vec<SinkCommand>) {
        out.push(SinkCommand::Prepare { txn: self.txn(self.next), checkpoint });
        self.waiting.insert(self.next, checkpoint);
        self.next += 1;
        out.push(SinkCommand::Begin(self.txn(self.next)));
    }

    fn on_checkpoint_complete(&mut self, checkpoint: CheckpointId, out: &mut Vec<SinkCommand>) {
        let due = self.waiting.iter().filter(|(_, taken)| **taken <= checkpoint);
        out.extend(due.map(|(&sequence, _)| SinkCommand::Commit(self.txn(sequence))));
    }

    fn commit_finished(&mut self, txn: TransactionId, retry: bool) {
        if !retry {
            self.waiting.remove(&txn.sequence);
        }
    }

    fn snapshot(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.next.to_le_bytes());
        for (&sequence, &checkpoint) in &self.waiting {
            out.extend_from_slice(&sequence.to_le_bytes());
            out.extend_from_slice(&checkpoint.0.to_le_bytes());
        }
    }

    fn restore(&mut self, state: &[u8]) -> Result<(), StateError> {
        let words: Vec<u64> = state
            .chunks(8)
            .map(|chunk| chunk.try_into().map(u64::from_le_bytes).map_err(|_| StateError("whole words".to_string())))
            .collect::<Result<_, _>>()?;
        let (&next, pairs) = words.split_first().ok_or_else(|| StateError("empty".to_string()))?;
        self.next = next;
        self.waiting = pairs.chunks(2).map(|pair| (pair[0], CheckpointId(pair[1]))).collect();
        Ok(())
    }

    fn reset(&mut self) {
        self.next = 0;
        self.waiting.clear();
    }
}

struct Naive;

impl SinkFactory for Naive {
    fn name(&self) -> &str {
        "commit-at-snapshot"
    }

    fn build(&self, task: TaskId) -> Box<dyn TransactionalSink> {
        Box::new(CommitAtSnapshot { task, next: 0 })
    }
}

struct Mine;

impl SinkFactory for Mine {
    fn name(&self) -> &str {
        "my-two-phase-sink"
    }

    fn build(&self, task: TaskId) -> Box<dyn TransactionalSink> {
        Box::new(MyTwoPhaseSink { task, next: 0, waiting: std::collections::BTreeMap::new() })
    }
}

fn kafka() -> Scenario {
    load("sims/kafka-2pc.toml")
}

#[test]
fn a_sink_that_commits_at_its_snapshot_is_caught_showing_a_reader_replayed_records_twice() {
    let outcome = check_with_sink(&kafka(), snapsim::kernel::rng::Seed(1), None, Rc::new(Naive)).expect("valid");
    let Verdict::Fail(violation) = outcome.verdict else { panic!("the naive sink went unnoticed") };
    assert_eq!(violation.invariant, Invariant::EndToEndExactlyOnce);
    assert!(violation.detail.contains("is visible 2 times to a reader"), "{}", violation.detail);
}

#[test]
fn a_correct_sink_of_your_own_passes_the_shipped_scenario() {
    let outcome = check_with_sink(&kafka(), snapsim::kernel::rng::Seed(1), None, Rc::new(Mine)).expect("valid");
    assert!(outcome.passed(), "{:?}", outcome.verdict);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn a_correct_sink_of_your_own_is_exactly_once_end_to_end_under_swarm_faults(seed in seeds()) {
        let mut scenario = kafka();
        scenario.workload.records_per_source_subtask = 1_000;
        scenario.swarm = Some(SwarmSection::default());
        let outcome = check_with_sink(&scenario, seed, None, Rc::new(Mine)).expect("valid");
        prop_assert!(outcome.passed(), "seed {}: {:?}", seed.0, outcome.verdict);
    }
}
