//! The shrinking passes: each proposes smaller candidates of the current failing case and
//! keeps those that still fail the same way; `Shrinker` holds the state of one shrink and
//! runs rounds of passes within the budget.

use super::super::guarded::{GuardedRun, run_guarded};
use super::super::run::RunSpec;
use crate::dataflow::graph::Partitioning;
use crate::faults::{FaultPlan, ScheduledFault};
use crate::kernel::ids::VertexId;
use crate::kernel::time::{NANOS_PER_MICRO, SimTime};
use crate::scenario::KeyDistributionName;

mod bank;

/// One pass: proposes candidates through `Shrinker::attempt`; true if it kept any.
type Pass = fn(&mut Shrinker) -> bool;

/// The passes of a round, in the order they run: the cheap, big cuts first.
const PASSES: [Pass; 12] = [
    Shrinker::drop_faults,
    Shrinker::drop_script_events,
    Shrinker::move_faults_earlier,
    Shrinker::fewer_transfers,
    Shrinker::fewer_accounts,
    Shrinker::fewer_records,
    Shrinker::fewer_keys,
    Shrinker::drop_leaf_vertices,
    Shrinker::lower_parallelism,
    Shrinker::fewer_checkpoints,
    Shrinker::simpler_settings,
    // Last: only once the other passes are stuck, so it does not lead them astray.
    Shrinker::checkpoint_by_record_count,
];

/// The state of one shrink: the smallest failing case so far and the budget spent.
pub(super) struct Shrinker {
    pub(super) target: String,
    pub(super) current: RunSpec,
    /// Checkpoints the current case's run completed (`None`: it panicked).
    pub(super) checkpoints: Option<u64>,
    pub(super) budget: u32,
    pub(super) attempts: u32,
    pub(super) accepted: u32,
    /// Candidates run that did not fail the same way. A run is a function of its spec, so
    /// proposing one again (a later round often does) would only waste budget.
    pub(super) rejected: Vec<RunSpec>,
}

impl Shrinker {
    pub(super) fn run_rounds(&mut self) {
        loop {
            let mut progress = false;
            for pass in PASSES {
                progress |= pass(self);
            }
            if !progress || self.attempts >= self.budget {
                return;
            }
        }
    }

    /// Runs `candidate` if the budget allows and it is new and valid; keeps it (and returns
    /// true) if it fails with the target class.
    fn attempt(&mut self, candidate: RunSpec) -> bool {
        self.attempt_if(candidate, |_| true)
    }

    /// `attempt`, keeping the candidate only if its run also satisfies `smaller`.
    fn attempt_if(&mut self, candidate: RunSpec, smaller: impl Fn(&GuardedRun) -> bool) -> bool {
        if self.attempts >= self.budget || candidate == self.current || self.rejected.contains(&candidate) {
            return false;
        }
        // Invalid candidates are not runs: they are skipped and cost no budget.
        if candidate.compile().is_err() {
            return false;
        }
        self.attempts += 1;
        let Ok(run) = run_guarded(&candidate, false) else { return false };
        if run.verdict.failure_class().as_deref() == Some(self.target.as_str()) && smaller(&run) {
            self.checkpoints = run.outcome.as_ref().map(|outcome| outcome.stats.checkpoints_completed);
            self.current = candidate;
            self.accepted += 1;
            true
        } else {
            self.rejected.push(candidate);
            false
        }
    }

    /// Tries each candidate in order and keeps the first that still fails.
    fn attempt_first(&mut self, candidates: Vec<RunSpec>) -> bool {
        candidates.into_iter().any(|candidate| self.attempt(candidate))
    }

    fn faults(&self) -> &[ScheduledFault] {
        self.current.fault_plan.as_ref().map_or(&[], |plan| plan.faults.as_slice())
    }

    fn with_faults(&self, faults: Vec<ScheduledFault>) -> RunSpec {
        RunSpec { fault_plan: Some(FaultPlan::new(faults)), ..self.current.clone() }
    }

    /// (a) All faults at once, then each one, from the last to the first (a late fault is
    /// the likelier bystander).
    fn drop_faults(&mut self) -> bool {
        if self.faults().is_empty() {
            return false;
        }
        if self.attempt(self.with_faults(Vec::new())) {
            return true;
        }
        let mut progress = false;
        for index in (0..self.faults().len()).rev() {
            let mut faults = self.faults().to_vec();
            if index < faults.len() {
                faults.remove(index);
                progress |= self.attempt(self.with_faults(faults));
            }
        }
        progress
    }

    /// (b) Each fault earlier: to the start, to half its time, then smaller steps.
    fn move_faults_earlier(&mut self) -> bool {
        let mut progress = false;
        for index in 0..self.faults().len() {
            let at = self.faults()[index].at.as_nanos();
            let candidates = [0, at / 2, at - at / 4, at - at / 8]
                .into_iter()
                // Whole microseconds: a shorter, readable time; never later than before.
                .map(|nanos| nanos / NANOS_PER_MICRO * NANOS_PER_MICRO)
                .filter(|&nanos| nanos < at)
                .map(|nanos| {
                    let mut faults = self.faults().to_vec();
                    faults[index].at = SimTime::from_nanos(nanos);
                    self.with_faults(faults)
                })
                .collect();
            progress |= self.attempt_first(candidates);
        }
        progress
    }

    /// (c) Fewer records per source subtask, and per partition of the log.
    fn fewer_records(&mut self) -> bool {
        let mut progress = false;
        let records = self.current.scenario.workload.records_per_source_subtask;
        if records > 0 {
            progress |= self
                .bisect(records, 1, |candidate, value| candidate.scenario.workload.records_per_source_subtask = value);
        }
        if let Some(log) = &self.current.scenario.log {
            progress |= self.bisect(log.records_per_partition, 1, |candidate, value| {
                candidate.scenario.log.as_mut().expect("the log stays").records_per_partition = value;
            });
        }
        progress
    }

    /// (c') A checkpoint triggered by a record count instead of the clock. Where
    /// `fewer_records` stops because the bug needs a checkpoint while data still flows, the
    /// clock's first trigger sets how many records that takes; a trigger every N source
    /// records (then N bisected) lets the records shrink on, to a checkpoint after a few.
    fn checkpoint_by_record_count(&mut self) -> bool {
        let scenario = &self.current.scenario;
        let records = match &scenario.log {
            Some(log) => log.records_per_partition,
            None => scenario.workload.records_per_source_subtask,
        };
        if scenario.bank.is_some() || records < 2 || self.checkpoints == Some(0) {
            return false;
        }
        let mut progress = false;
        if scenario.checkpoint.every_source_records == 0 {
            let mut candidate = self.current.clone();
            candidate.scenario.checkpoint.every_source_records = (records / 2).max(1);
            match candidate.scenario.log.as_mut() {
                Some(log) => log.records_per_partition = records / 2,
                None => candidate.scenario.workload.records_per_source_subtask = records / 2,
            }
            if !self.attempt(candidate) {
                return false;
            }
            progress = true;
        }
        let every = self.current.scenario.checkpoint.every_source_records;
        progress | self.bisect(every, 1, |candidate, value| candidate.scenario.checkpoint.every_source_records = value)
    }

    /// (d) Fewer keys; a hot distribution keeps at most as many hot keys as keys.
    fn fewer_keys(&mut self) -> bool {
        self.bisect(self.current.scenario.workload.keys, 1, |candidate, value| {
            let workload = &mut candidate.scenario.workload;
            workload.keys = value;
            if workload.key_distribution == KeyDistributionName::Hot {
                workload.hot_keys = workload.hot_keys.map(|hot| hot.min(value));
            }
        })
    }

    /// Lowers one number of the case (now `value`, at least `floor`; `set` writes it into
    /// a candidate): the floor first, then bisection between the largest value that did
    /// not fail the same way and the smallest that did. Its first steps are half, −25 %,
    /// −12.5 %, …, and it needs about log2(value) runs where fixed steps crawl.
    fn bisect(&mut self, value: u64, floor: u64, set: impl Fn(&mut RunSpec, u64)) -> bool {
        let candidate = |current: &RunSpec, value: u64| {
            let mut candidate = current.clone();
            set(&mut candidate, value);
            candidate
        };
        if value <= floor {
            return false;
        }
        if self.attempt(candidate(&self.current, floor)) {
            return true;
        }
        let (mut other, mut same) = (floor, value);
        let mut progress = false;
        while same - other > 1 {
            let middle = other + (same - other) / 2;
            if self.attempt(candidate(&self.current, middle)) {
                same = middle;
                progress = true;
            } else {
                other = middle;
            }
        }
        progress
    }

    /// (e) Each vertex nothing reads from, dropped with its input edges (from the last
    /// declared to the first); faults on its subtasks go with it.
    fn drop_leaf_vertices(&mut self) -> bool {
        let mut progress = false;
        for index in (0..self.current.scenario.vertices.len()).rev() {
            let scenario = &self.current.scenario;
            let Some(vertex) = scenario.vertices.get(index) else { continue };
            if scenario.vertices.len() == 1 || scenario.edges.iter().any(|edge| edge.from == vertex.name) {
                continue;
            }
            let name = vertex.name.clone();
            let mut candidate = self.current.clone();
            candidate.scenario.vertices.remove(index);
            candidate.scenario.edges.retain(|edge| edge.to != name);
            let faults = self
                .faults()
                .iter()
                .filter_map(|scheduled| {
                    let mut scheduled = *scheduled;
                    // Vertices are named by index in a fault: those after the dropped one
                    // move down by one; a fault naming the dropped one goes.
                    for task in scheduled.tasks_mut() {
                        match task.vertex.index() {
                            dropped if dropped == index => return None,
                            later if later > index => task.vertex = VertexId::from_index(later - 1),
                            _ => {}
                        }
                    }
                    Some(scheduled)
                })
                .collect();
            candidate.fault_plan = Some(FaultPlan::new(faults));
            progress |= self.attempt(candidate);
        }
        progress
    }

    /// (e) Fewer subtasks: for each group of vertices joined by forward edges (which need
    /// equal parallelism, so they move together), one subtask, half, then one fewer. A fault
    /// on a subtask that no longer exists is dropped or, failing that, moved to the group's
    /// last remaining subtask (a crash of any task fails the whole job over, so which one
    /// often does not matter).
    fn lower_parallelism(&mut self) -> bool {
        let mut progress = false;
        for group in forward_groups(&self.current) {
            let parallelism = group.iter().map(|&vertex| self.current.scenario.vertices[vertex].parallelism).max();
            let Some(parallelism) = parallelism else { continue };
            let mut candidates = Vec::new();
            for value in ladder(u64::from(parallelism), 1) {
                let value = u32::try_from(value).expect("below a u32 parallelism");
                for retarget in [false, true] {
                    candidates.push(self.with_parallelism(&group, value, retarget));
                }
            }
            progress |= self.attempt_first(candidates);
        }
        progress
    }

    /// The current case with every vertex of `group` at `parallelism`; faults on subtasks
    /// beyond it are moved to the last one (`retarget`) or dropped.
    fn with_parallelism(&self, group: &[usize], parallelism: u32, retarget: bool) -> RunSpec {
        let mut candidate = self.current.clone();
        for &vertex in group {
            candidate.scenario.vertices[vertex].parallelism = parallelism;
        }
        let faults = self.faults().iter().filter_map(|scheduled| {
            let mut scheduled = *scheduled;
            for task in scheduled.tasks_mut() {
                if group.contains(&task.vertex.index()) && task.subtask >= parallelism {
                    if !retarget {
                        return None;
                    }
                    task.subtask = parallelism - 1;
                }
            }
            Some(scheduled)
        });
        candidate.fault_plan = Some(FaultPlan::new(faults.collect()));
        candidate
    }

    /// (f) Fewer checkpoints: no record-count trigger, then a doubled interval. A longer
    /// interval is kept only if fewer checkpoints complete: otherwise it only makes the job
    /// need more records to reach its first checkpoint, and would fight `fewer_records`
    /// round after round. A panicked run has no count, so its interval stays.
    fn fewer_checkpoints(&mut self) -> bool {
        let mut progress = false;
        if self.current.scenario.checkpoint.every_source_records > 0 {
            let mut candidate = self.current.clone();
            candidate.scenario.checkpoint.every_source_records = 0;
            progress |= self.attempt(candidate);
        }
        let Some(completed) = self.checkpoints.filter(|&completed| completed > 0) else { return progress };
        let mut candidate = self.current.clone();
        candidate.scenario.checkpoint.interval_ms = candidate.scenario.checkpoint.interval_ms.saturating_mul(2);
        let fewer = |run: &GuardedRun| {
            run.outcome.as_ref().is_some_and(|outcome| outcome.stats.checkpoints_completed < completed)
        };
        progress | self.attempt_if(candidate, fewer)
    }

    /// (g) Settings that make a case simpler to read without changing what it exercises:
    /// one checkpoint at a time, uniform keys, smaller values.
    fn simpler_settings(&mut self) -> bool {
        let mut progress = false;
        if self.current.scenario.checkpoint.max_concurrent > 1 {
            let mut candidate = self.current.clone();
            candidate.scenario.checkpoint.max_concurrent = 1;
            progress |= self.attempt(candidate);
        }
        if self.current.scenario.workload.key_distribution == KeyDistributionName::Hot {
            let mut candidate = self.current.clone();
            let workload = &mut candidate.scenario.workload;
            workload.key_distribution = KeyDistributionName::Uniform;
            workload.hot_keys = None;
            workload.hot_percent = None;
            progress |= self.attempt(candidate);
        }
        let value_max = self.current.scenario.workload.value_max;
        progress | self.bisect(value_max, 0, |candidate, value| candidate.scenario.workload.value_max = value)
    }
}

/// Smaller values to try for a small number (a parallelism), biggest cut first: the floor,
/// half, −25 %, −10 %, −1. Each lies in `floor..value`; none repeats.
fn ladder(value: u64, floor: u64) -> Vec<u64> {
    let mut steps: Vec<u64> = Vec::with_capacity(5);
    for step in [floor, value / 2, value - value / 4, value - value / 10, value.saturating_sub(1)] {
        if (floor..value).contains(&step) && !steps.contains(&step) {
            steps.push(step);
        }
    }
    steps
}

/// The vertices (by index) in groups joined by forward edges, each group sorted, groups in
/// order of their first vertex. A vertex without forward edges is a group of its own.
fn forward_groups(spec: &RunSpec) -> Vec<Vec<usize>> {
    let vertices = &spec.scenario.vertices;
    let position = |name: &str| vertices.iter().position(|vertex| vertex.name == name);
    // Each vertex's group label; merging relabels the whole later group, which is plenty
    // fast for the handful of vertices a job has.
    let mut label: Vec<usize> = (0..vertices.len()).collect();
    for edge in spec.scenario.edges.iter().filter(|edge| edge.partitioning == Partitioning::Forward) {
        let (Some(from), Some(to)) = (position(&edge.from), position(&edge.to)) else { continue };
        let (keep, replace) = (label[from].min(label[to]), label[from].max(label[to]));
        for entry in &mut label {
            if *entry == replace {
                *entry = keep;
            }
        }
    }
    (0..vertices.len())
        .filter(|&vertex| label[vertex] == vertex)
        .map(|first| (0..vertices.len()).filter(|&vertex| label[vertex] == first).collect())
        .collect()
}
