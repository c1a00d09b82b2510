//! Checkers: invariants judged from facts alone.
//!
//! Each checker observes the facts the harness records, as they happen, and returns a
//! `Violation` naming the invariant, the simulated time and the fact at which it was
//! detected. Checkers never read protocol or operator fields and never believe a claim
//! (such as "restored from checkpoint 4") without the facts that back it. They import only
//! the kernel, so they can also run offline over a saved trace. The oracle they compare
//! against (`ExpectedTotals`) is computed directly from the source records, not from
//! anything the job did. Every checker has a test that breaks it on purpose
//! (`check/tests.rs`, tests/it/checkers.rs).

pub mod conservation;
pub mod consistent_cut;
pub mod end_to_end;
pub mod exactly_once_state;
pub mod failure_accounting;
pub mod final_aggregate;
pub mod healing;
pub mod key_ownership;
pub mod no_loss_state;
pub mod partition_ownership;
pub mod per_checkpoint;
pub mod restore_equivalence;
pub mod restore_latest;
pub mod shared_state;

#[cfg(test)]
mod failure_accounting_tests;
#[cfg(test)]
mod key_ownership_tests;
#[cfg(test)]
mod partition_ownership_tests;
#[cfg(test)]
mod restore_latest_tests;
#[cfg(test)]
mod shared_state_tests;
#[cfg(test)]
mod tests;

use crate::kernel::Stop;
use crate::kernel::ids::{RecordId, SplitId, TaskId};
use crate::kernel::time::SimTime;
use crate::kernel::trace::Fact;
use crate::protocol::Guarantee;
use conservation::Conservation;
use consistent_cut::ConsistentCut;
use end_to_end::EndToEnd;
use exactly_once_state::ExactlyOnceState;
use failure_accounting::FailureAccounting;
use final_aggregate::FinalAggregate;
use key_ownership::KeyOwnership;
use no_loss_state::NoLossState;
use partition_ownership::PartitionOwnership;
use restore_equivalence::RestoreEquivalence;
use restore_latest::RestoreLatest;
use serde::{Deserialize, Serialize};
use shared_state::SharedState;
use std::collections::BTreeMap;
use std::fmt;

/// A named invariant. New ones go last: run files store the variant's index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Invariant {
    /// Every source record's effect is in the surviving keyed state exactly once.
    ExactlyOnceState,
    /// The totals the keyed operators hold at the end equal the totals computed directly
    /// from the source records.
    FinalAggregate,
    /// At-least-once protocols: every source record's effect is in the surviving keyed state
    /// at least once; duplicates are counted, not failed.
    NoLossState,
    /// Every completed checkpoint is a consistent cut: no orphan messages, and the recorded
    /// channel state is exactly what was in flight across it. (At-least-once snapshots
    /// may hold orphans; only the in-flight part is judged for them.)
    ConsistentCut,
    /// After a restart every task loads exactly what it captured for that checkpoint, and
    /// sources read on from the captured offset.
    RestoreEquivalence,
    /// A finite job finishes within the run's budget.
    Liveness,
    /// The bank: in every completed snapshot, the recorded balances plus the recorded
    /// in-flight transfers equal the money in the bank; at the end, the balances do (and
    /// each equals its expected value when every transfer is replayable).
    Conservation,
    /// The job never fails for good: after every failure the restart strategy allows a
    /// restart. A run whose strategy gives up ends with this verdict, never a pass.
    RestartsExhausted,
    /// What a reader of the external system sees committed equals the fault-free output:
    /// each source record exactly as often as the job routes it to each external sink (at
    /// least as often, under an at-least-once guarantee).
    EndToEndExactlyOnce,
    /// No transaction of the external system commits twice.
    CommitOnce,
    /// A reader of the external system sees exactly what commits have published: nothing
    /// of an open or pre-committed transaction.
    ReadCommitted,
    /// Every partition of the log is owned by one reader at a time, read in order, restored
    /// at the offset its reader checkpointed, and owned by someone at the end.
    PartitionOwnership,
    /// Incremental checkpoints: no retained checkpoint references a deleted shared file,
    /// every restore finds its files, and no unreferenced file is left at the end.
    SharedState,
    /// After a rescale, every key's state lives on exactly the subtask that owns its key
    /// group, holding what it held in the checkpoint restored.
    KeyOwnership,
    /// The job is failed over for checkpoint failures only after more consecutive counted
    /// failures since the last success than `checkpoint.tolerable_failures` (counted as
    /// Flink's failure manager counts them: each checkpoint once, none older than the last
    /// success).
    FailureAccounting,
    /// Every job or region restart loads the latest checkpoint whose metadata is durable
    /// (never an intermediate savepoint; a stopping one, until a checkpoint follows it).
    RestoreLatest,
}

impl Invariant {
    /// The invariant's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Invariant::ExactlyOnceState => "exactly-once-state",
            Invariant::FinalAggregate => "final-aggregate",
            Invariant::NoLossState => "no-loss-state",
            Invariant::ConsistentCut => "consistent-cut",
            Invariant::RestoreEquivalence => "restore-equivalence",
            Invariant::Liveness => "liveness",
            Invariant::Conservation => "conservation",
            Invariant::RestartsExhausted => "restarts-exhausted",
            Invariant::EndToEndExactlyOnce => "end-to-end-exactly-once",
            Invariant::CommitOnce => "commit-once",
            Invariant::ReadCommitted => "read-committed",
            Invariant::PartitionOwnership => "partition-ownership",
            Invariant::SharedState => "shared-state",
            Invariant::KeyOwnership => "key-ownership",
            Invariant::FailureAccounting => "failure-accounting",
            Invariant::RestoreLatest => "restore-latest",
        }
    }
}

impl fmt::Display for Invariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A broken invariant, with where and when it was detected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// Which invariant.
    pub invariant: Invariant,
    /// When it was detected.
    pub time: SimTime,
    /// The index in the trace of the fact that revealed it; `None` when it was found by the
    /// end-of-run check.
    pub fact_index: Option<u64>,
    /// That fact.
    pub fact: Option<Fact>,
    /// What is wrong, in one or a few sentences.
    pub detail: String,
}

/// What the source records add up to for one key: the oracle.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyExpectation {
    /// How many source records have this key.
    pub count: u64,
    /// The sum of their values.
    pub sum: i64,
    /// The wrapping sum of their record fingerprints.
    pub fingerprint: u64,
}

/// The oracle for a whole run: for each keyed vertex, what each key must add up to.
///
/// Keyed state is judged per vertex ("group"): each key of a vertex must live on one of its
/// subtasks and hold each source record reaching that vertex exactly as often as the graph
/// routes it there. Tasks outside every group hold no keyed state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExpectedTotals {
    /// For each task (by `TaskId`), the group whose keyed state it holds, if any.
    pub task_groups: Vec<Option<usize>>,
    /// For each group, the expectation per key (`0..key_count`).
    pub groups: Vec<Vec<KeyExpectation>>,
    /// Every source split: its id and length. Record `offset` of split `s` is record
    /// number `start(s) + offset` of the run.
    pub source_splits: Vec<(SplitId, u64)>,
    /// Per window vertex's results (a split in `source_splits` whose length is their
    /// count): the offset and value of each result a fault-free run emits, by ascending
    /// offset. A result's number is its split's start plus its rank here.
    pub window_results: BTreeMap<SplitId, Vec<(u64, i64)>>,
    /// For each group, per source split (in `source_splits` order): how many times each
    /// record of that split reaches the group (the number of paths through the graph).
    pub multiplicity: Vec<Vec<u64>>,
    /// A bank's money, when the job is a bank.
    pub bank: Option<BankExpectation>,
    /// For each task (by `TaskId`), the external sink it writes for, if any.
    pub sink_tasks: Vec<Option<usize>>,
    /// Per external sink vertex: what a reader must see committed.
    pub sinks: Vec<SinkExpectation>,
}

/// How an external sink writes, and so what a reader may expect of it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ExternalSinkMode {
    /// In transactions committed on checkpoint completion: each record exactly once.
    #[default]
    Transactional,
    /// Upserts by key: at the end, each key's value is the fault-free run's.
    Upsert,
    /// Appends flushed at every snapshot: each record at least once, duplicates counted.
    AtLeastOnce,
}

/// What a reader of the external system must see committed for one sink vertex.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SinkExpectation {
    /// How the sink writes.
    pub mode: ExternalSinkMode,
    /// Per key (`0..key_count`): the records the sink receives in a fault-free run.
    pub per_key: Vec<KeyExpectation>,
    /// Per source split (in `source_splits` order): how many times each of its records
    /// reaches the sink.
    pub multiplicity: Vec<u64>,
}

/// What a bank's accounts must add up to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BankExpectation {
    /// The money in the bank: every opening balance together. Transfers move it, never
    /// make or destroy it.
    pub total: i64,
    /// Each account's balance at the end (by `TaskId`), when known in advance: every
    /// transfer paid exactly once. `None` when the script pays one-shot transfers.
    pub final_balances: Option<Vec<i64>>,
}

impl ExpectedTotals {
    /// The value the fault-free run gives window result `record`, if it is one that run has.
    pub fn window_result_value(&self, record: RecordId) -> Option<i64> {
        let results = self.window_results.get(&record.split)?;
        let rank = results.binary_search_by_key(&record.offset, |&(offset, _)| offset).ok()?;
        Some(results[rank].1)
    }

    /// One group, `per_key`, held by tasks `0..task_count`: the shape of hand-built tests.
    pub fn single_group(per_key: Vec<KeyExpectation>, task_count: usize) -> ExpectedTotals {
        ExpectedTotals {
            task_groups: vec![Some(0); task_count],
            groups: vec![per_key],
            source_splits: Vec::new(),
            window_results: BTreeMap::new(),
            multiplicity: vec![Vec::new()],
            bank: None,
            sink_tasks: Vec::new(),
            sinks: Vec::new(),
        }
    }

    /// The external sink `task` writes for, if any.
    pub fn sink_of(&self, task: TaskId) -> Option<usize> {
        self.sink_tasks.get(task.index()).copied().flatten()
    }

    /// The group `task` belongs to, if it holds keyed state.
    pub fn group_of(&self, task: TaskId) -> Option<usize> {
        self.task_groups.get(task.index()).copied().flatten()
    }

    /// The expectation for `key` in `group` (zero for a key no record has).
    pub fn of(&self, group: usize, key: u64) -> KeyExpectation {
        let per_key = self.groups.get(group).map(Vec::as_slice).unwrap_or_default();
        usize::try_from(key).ok().and_then(|index| per_key.get(index)).copied().unwrap_or_default()
    }
}

/// Every source record numbered `0..count` across the splits (in `source_splits` order),
/// for ledgers kept per record; a window's results are numbered by rank.
#[derive(Clone, Debug, Default)]
pub struct RecordNumbering {
    /// Per split: its position in `source_splits` and where it starts in the numbering.
    splits: BTreeMap<SplitId, (usize, u64)>,
    /// Per window-results split: its results' offsets, ascending.
    window_results: BTreeMap<SplitId, Vec<u64>>,
    count: u64,
}

impl RecordNumbering {
    /// The numbering of `expected`'s splits.
    pub fn of(expected: &ExpectedTotals) -> RecordNumbering {
        let mut splits = BTreeMap::new();
        let mut next = 0u64;
        for (position, &(split, length)) in expected.source_splits.iter().enumerate() {
            splits.insert(split, (position, next));
            next += length;
        }
        let window_results = expected
            .window_results
            .iter()
            .map(|(&split, results)| (split, results.iter().map(|&(offset, _)| offset).collect()))
            .collect();
        RecordNumbering { splits, window_results, count: next }
    }

    /// How many records there are.
    pub fn count(&self) -> usize {
        usize::try_from(self.count).expect("record count fits usize")
    }

    /// The position of `split` in `source_splits`, if it is one.
    pub fn position(&self, split: SplitId) -> Option<usize> {
        self.splits.get(&split).map(|&(position, _)| position)
    }

    /// The number of `record`; `None` for a record no fault-free run has (a window result
    /// for a window and key that hold nothing, or a split the job does not read).
    pub fn index(&self, record: RecordId) -> Option<usize> {
        let &(_, start) = self.splits.get(&record.split)?;
        let rank = match self.window_results.get(&record.split) {
            Some(offsets) => offsets.binary_search(&record.offset).ok()? as u64,
            None => record.offset,
        };
        usize::try_from(start + rank).ok()
    }

    /// The records of split `position` of `expected`, in order.
    pub fn records_of<'a>(
        &'a self,
        expected: &'a ExpectedTotals,
        position: usize,
    ) -> impl Iterator<Item = RecordId> + 'a {
        let (split, length) = expected.source_splits[position];
        let offsets = self.window_results.get(&split);
        (0..length).map(move |rank| RecordId { split, offset: offsets.map_or(rank, |offsets| offsets[rank as usize]) })
    }
}

/// The static shape of the job the checkers need: facts name channels and tasks by id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JobShape {
    /// Every task of the run (of every stage) is `0..task_count`.
    pub task_count: usize,
    /// Per channel (by `ChannelId`): its sending and receiving task.
    pub channel_ends: Vec<(TaskId, TaskId)>,
    /// Per stage of the job (one more per rescale; `JobRescaled` names the one entered).
    pub stages: Vec<StageShape>,
    /// Per task (by `TaskId`), for tasks holding keyed state judged by key: the key groups
    /// it owns (fixed for its life: a rescale deploys new tasks).
    pub key_groups: Vec<Option<OwnedKeyGroups>>,
}

impl JobShape {
    /// A job that is never rescaled: every task in one stage with these `regions`.
    pub fn single_stage(task_count: usize, channel_ends: Vec<(TaskId, TaskId)>, regions: Vec<Vec<TaskId>>) -> JobShape {
        let tasks = (0..task_count).map(TaskId::from_index).collect();
        JobShape { task_count, channel_ends, stages: vec![StageShape { tasks, regions }], key_groups: Vec::new() }
    }

    /// The tasks running in `stage` (none for a stage the shape does not know).
    pub fn running(&self, stage: usize) -> &[TaskId] {
        self.stages.get(stage).map_or(&[], |stage| stage.tasks.as_slice())
    }

    /// The members of pipelined `region` of `stage`, if it has one by that number.
    pub fn region(&self, stage: usize, region: u32) -> Option<&[TaskId]> {
        Some(self.stages.get(stage)?.regions.get(region as usize)?.as_slice())
    }

    /// The key groups `task` owns, if it holds keyed state judged by key.
    pub fn key_groups_of(&self, task: TaskId) -> Option<&OwnedKeyGroups> {
        self.key_groups.get(task.index()).and_then(Option::as_ref)
    }
}

/// One stage of the job: the tasks that run in it and its pipelined regions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StageShape {
    /// The running tasks, in id order.
    pub tasks: Vec<TaskId>,
    /// Per pipelined region (by number, as `RegionRestarted` names it): its tasks.
    pub regions: Vec<Vec<TaskId>>,
}

/// The key groups a keyed task owns, and how its state keys map to key groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OwnedKeyGroups {
    /// The groups it owns.
    pub range: crate::dataflow::keyed_state::KeyGroupRange,
    /// Its vertex's key-group count.
    pub max_parallelism: u32,
    /// State keys per record key (a join keeps one per side: `2 × key + side`).
    pub state_keys_per_key: u64,
}

impl OwnedKeyGroups {
    /// The key group of state key `key`.
    pub fn group_of(&self, key: u64) -> u32 {
        crate::dataflow::keyed::key_group_of(key / self.state_keys_per_key, self.max_parallelism)
    }
}

/// How the run loop ended, as the end-of-run checks need it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunEnd {
    /// Why it stopped.
    pub stop: Stop,
    /// The simulated time it stopped at.
    pub time: SimTime,
}

/// Every checker of a run, fed each fact in order; keeps the first violation.
pub struct Checks {
    guarantee: Guarantee,
    no_loss_state: NoLossState,
    exactly_once_state: ExactlyOnceState,
    final_aggregate: FinalAggregate,
    consistent_cut: ConsistentCut,
    restore_equivalence: RestoreEquivalence,
    restore_latest: RestoreLatest,
    end_to_end: EndToEnd,
    partition_ownership: PartitionOwnership,
    shared_state: SharedState,
    key_ownership: KeyOwnership,
    failure_accounting: FailureAccounting,
    conservation: Option<Conservation>,
    healing: Option<healing::HealedProgress>,
    disabled: Vec<Invariant>,
    /// Whether data-path facts go only to the checkers that read them (`observe_routed`).
    routed: bool,
    first_violation: Option<Violation>,
}

impl Checks {
    /// The checkers of a run of a job of `shape` whose sources add up to `expected`;
    /// `disabled` invariants are not judged (tests use it to show each checker's own power).
    pub fn new(expected: ExpectedTotals, shape: JobShape, guarantee: Guarantee, disabled: Vec<Invariant>) -> Checks {
        let expected = std::rc::Rc::new(expected);
        let shape = std::rc::Rc::new(shape);
        Checks {
            guarantee,
            no_loss_state: NoLossState::new(expected.clone(), shape.clone()),
            exactly_once_state: ExactlyOnceState::new(expected.clone(), shape.clone()),
            key_ownership: KeyOwnership::new(expected.clone(), shape.clone()),
            final_aggregate: FinalAggregate::new(expected.clone()),
            consistent_cut: ConsistentCut::new(shape.clone(), guarantee == Guarantee::AtLeastOnce),
            partition_ownership: PartitionOwnership::new(&expected, shape.clone()),
            shared_state: SharedState::new(),
            restore_equivalence: RestoreEquivalence::new(shape),
            restore_latest: RestoreLatest::new(),
            end_to_end: EndToEnd::new(expected.clone(), guarantee == Guarantee::AtLeastOnce),
            failure_accounting: FailureAccounting::new(None),
            conservation: expected.bank.clone().map(Conservation::new),
            healing: None,
            disabled,
            routed: true,
            first_violation: None,
        }
    }

    /// Also demands progress after healing: a checkpoint within `within` of the
    /// `FaultsLifted` fact, or a finishing job.
    pub fn with_healing(mut self, within: crate::kernel::time::SimDuration) -> Checks {
        self.healing = Some(healing::HealedProgress::new(within));
        self
    }

    /// Judges failovers for checkpoint failures against the job's tolerance (`None`: any
    /// number is tolerated, and no such failover is due).
    pub fn with_tolerable_failures(mut self, tolerable: Option<u32>) -> Checks {
        self.failure_accounting = FailureAccounting::new(tolerable);
        self
    }

    /// Shows one fact to every checker that reads it. After the first violation the rest
    /// are ignored.
    #[inline]
    pub fn observe(&mut self, time: SimTime, index: u64, fact: &Fact) {
        if self.first_violation.is_some() {
            return;
        }
        let found = if self.routed { self.observe_routed(time, fact) } else { self.observe_everywhere(time, fact) };
        if let Some((invariant, detail)) = found {
            let fact = Some(fact.clone());
            self.first_violation = Some(Violation { invariant, time, fact_index: Some(index), fact, detail });
        }
    }

    /// Every checker sees every fact, as `observe` did before facts were routed: for the
    /// test that routing changes no verdict (tests/it/checkers.rs).
    #[doc(hidden)]
    pub fn without_routing(mut self) -> Checks {
        self.routed = false;
        self
    }

    /// The data path — sent, arrived, consumed, read and applied records, about nine in ten
    /// of a run's facts — goes only to the checkers that read those facts; every other
    /// checker's `observe` ignores them, so routing changes no verdict and spares a dozen
    /// matches per fact. A checker that starts reading a data-path fact is added here.
    #[inline]
    fn observe_routed(&mut self, time: SimTime, fact: &Fact) -> Option<(Invariant, String)> {
        let overdue = |checks: &Checks| checks.healing.as_ref().and_then(|healing| healing.observe_time(time));
        match *fact {
            Fact::MessageArrived { .. } => overdue(self),
            Fact::MessageConsumed { .. } => {
                let cut = self.consistent_cut.observe(fact);
                first_judged(&self.disabled, [cut, overdue(self)])
            }
            Fact::SourceRead { .. } => {
                let restored = self.restore_equivalence.observe(fact);
                first_judged(&self.disabled, [restored, overdue(self)])
            }
            Fact::MessageSent { .. } => {
                let (restored, cut) = (self.restore_equivalence.observe(fact), self.consistent_cut.observe(fact));
                let money = self.conservation.as_mut().and_then(|conservation| conservation.observe(fact));
                let late = overdue(self);
                first_judged(&self.disabled, [restored, cut, money, late])
            }
            Fact::RecordApplied { .. } => {
                let state = match self.guarantee {
                    Guarantee::ExactlyOnce => self.exactly_once_state.observe(fact),
                    Guarantee::AtLeastOnce => self.no_loss_state.observe(fact),
                };
                let (restored, owned) = (self.restore_equivalence.observe(fact), self.key_ownership.observe(fact));
                let late = overdue(self);
                first_judged(&self.disabled, [restored, owned, state, late])
            }
            _ => self.observe_everywhere(time, fact),
        }
    }

    /// `fact` shown to every checker, in the order their verdicts take precedence.
    fn observe_everywhere(&mut self, time: SimTime, fact: &Fact) -> Option<(Invariant, String)> {
        // At-least-once allows duplicates: the exact checks give way to the no-loss one.
        let (state, aggregate) = match self.guarantee {
            Guarantee::ExactlyOnce => (self.exactly_once_state.observe(fact), self.final_aggregate.observe(fact)),
            Guarantee::AtLeastOnce => (self.no_loss_state.observe(fact), None),
        };
        let money = self.conservation.as_mut().and_then(|conservation| conservation.observe(fact));
        let healed = self.healing.as_mut().and_then(|healing| healing.observe(time, fact));
        let gave_up = match *fact {
            Fact::JobFailed { failures } => Some((
                Invariant::RestartsExhausted,
                format!("the restart strategy gave up after {failures} failovers: the job failed for good"),
            )),
            _ => None,
        };
        // Every checker observes the fact (its state must follow) before the first judged
        // verdict is chosen.
        let [restored, partitions, shared, owned, cut, end_to_end, accounted, latest] = [
            self.restore_equivalence.observe(fact),
            self.partition_ownership.observe(time, fact),
            self.shared_state.observe(time, fact),
            self.key_ownership.observe(fact),
            self.consistent_cut.observe(fact),
            self.end_to_end.observe(time, fact),
            self.failure_accounting.observe(fact),
            self.restore_latest.observe(fact),
        ];
        let verdicts = [
            restored, partitions, shared, owned, cut, end_to_end, accounted, latest, state, aggregate, money, healed,
            gave_up,
        ];
        first_judged(&self.disabled, verdicts)
    }

    /// Runs the end-of-run checks (unless a violation was already found).
    pub fn finish(&mut self, end: RunEnd) {
        if self.first_violation.is_some() {
            return;
        }
        let found = if end.stop == Stop::Finished {
            let (state, aggregate) = match self.guarantee {
                Guarantee::ExactlyOnce => (self.exactly_once_state.finish(), self.final_aggregate.finish()),
                Guarantee::AtLeastOnce => (self.no_loss_state.finish(), None),
            };
            let money = self.conservation.as_ref().and_then(Conservation::finish);
            let (ownership, shared) = (self.partition_ownership.finish(), self.shared_state.finish());
            [self.restore_equivalence.finish(), ownership, shared, state, aggregate, self.end_to_end.finish(), money]
                .into_iter()
                .flatten()
                .find(|(invariant, _)| !self.disabled.contains(invariant))
        } else {
            Some((Invariant::Liveness, liveness_detail(end.stop)))
                .filter(|_| !self.disabled.contains(&Invariant::Liveness))
        };
        if let Some((invariant, detail)) = found {
            self.first_violation = Some(Violation { invariant, time: end.time, fact_index: None, fact: None, detail });
        }
    }

    /// With an at-least-once guarantee, how many record applications beyond the expected
    /// ones the surviving state holds (known after `finish`).
    pub fn duplicates(&self) -> Option<u64> {
        (self.guarantee == Guarantee::AtLeastOnce).then(|| self.no_loss_state.duplicates())
    }

    /// With an external sink, how many records a reader saw beyond the expected ones.
    pub fn external_duplicates(&self) -> Option<u64> {
        self.end_to_end.has_sinks().then(|| self.end_to_end.duplicates())
    }

    /// The first violation, if any.
    pub fn violation(&self) -> Option<&Violation> {
        self.first_violation.as_ref()
    }

    /// Takes the first violation out.
    pub fn take_violation(&mut self) -> Option<Violation> {
        self.first_violation.take()
    }
}

/// The first of `verdicts` whose invariant is judged. Almost every fact yields none: that
/// case is tested first, without iterating.
#[inline]
fn first_judged<const N: usize>(
    disabled: &[Invariant],
    verdicts: [Option<(Invariant, String)>; N],
) -> Option<(Invariant, String)> {
    if verdicts.iter().all(Option::is_none) {
        return None;
    }
    verdicts.into_iter().flatten().find(|(invariant, _)| !disabled.contains(invariant))
}

fn liveness_detail(stop: Stop) -> String {
    match stop {
        Stop::Finished => unreachable!("a finished job is live"),
        Stop::Quiescent => "the job did not finish, and nothing was left to happen (a stall)".to_string(),
        Stop::EventBudget => "the job did not finish within the event budget (budget.events_max)".to_string(),
        Stop::TimeBudget => "the job did not finish within the time budget (budget.time_ms_max)".to_string(),
    }
}
#[cfg(test)]
mod cut_and_restore_tests;
