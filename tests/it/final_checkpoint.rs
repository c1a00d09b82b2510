//! End of data and the final checkpoint (Flink's FLIP-147): a task whose data ended keeps
//! taking checkpoints and finishes only when it hears that one it took after its data ended
//! completed; the job ends when every task has. Lost notices and crashes after the end of
//! data only postpone the end.

use crate::support::{load, run_keeping_facts};
use snapsim::explore::run::Outcome;
use snapsim::faults::ControlMessage;
use snapsim::kernel::ids::{CheckpointId, TaskId};
use snapsim::kernel::time::SimTime;
use snapsim::kernel::trace::Fact;
use snapsim::scenario::{FaultKindName, FaultSection, Scenario};
use std::collections::BTreeMap;

/// Word count, smaller, with `faults` in place of its crashes.
fn wordcount_with(faults: Vec<FaultSection>) -> Scenario {
    let mut scenario = load("sims/wordcount.toml");
    scenario.workload.records_per_source_subtask = 1_000;
    scenario.faults = faults;
    scenario
}

fn passed(scenario: &Scenario) -> Outcome {
    let outcome = run_keeping_facts(scenario, 1);
    assert!(outcome.passed(), "{:?}", outcome.verdict);
    outcome
}

/// What the facts say about each task's end: when its data ended (the latest time), the
/// first checkpoint it captured after that, and the notice it finished on.
#[derive(Debug, Default)]
struct TaskEnd {
    data_ended: Option<SimTime>,
    final_checkpoint: Option<CheckpointId>,
    notified: Option<CheckpointId>,
    finished: u32,
}

fn task_ends(outcome: &Outcome) -> BTreeMap<TaskId, TaskEnd> {
    let mut ends: BTreeMap<TaskId, TaskEnd> = BTreeMap::new();
    for timed in outcome.facts.as_deref().expect("kept") {
        match timed.fact {
            Fact::DataEnded { task } => {
                let end = ends.entry(task).or_default();
                end.data_ended = Some(timed.time);
                end.final_checkpoint = None;
            }
            Fact::StateCaptured { task, checkpoint, .. } => {
                let end = ends.entry(task).or_default();
                if end.data_ended.is_some() && end.final_checkpoint.is_none() {
                    end.final_checkpoint = Some(checkpoint);
                }
            }
            Fact::CompletionNotified { task, checkpoint } => ends.entry(task).or_default().notified = Some(checkpoint),
            Fact::TaskFinished { task } => {
                let end = ends.entry(task).or_default();
                end.finished += 1;
                let last = end.final_checkpoint.expect("a task finishes only after a checkpoint after its data");
                assert!(end.notified >= Some(last), "{task} finished on {:?}, before its final {last}", end.notified);
            }
            Fact::TaskRestored { task, .. } => {
                ends.insert(task, TaskEnd::default());
            }
            _ => {}
        }
    }
    ends
}

#[test]
fn every_task_finishes_only_after_a_checkpoint_it_took_after_its_data_ended_completes() {
    let outcome = passed(&wordcount_with(Vec::new()));
    let ends = task_ends(&outcome);
    assert_eq!(ends.len(), 8, "two sources, three counts, three sinks");
    for (task, end) in &ends {
        assert_eq!(end.finished, 1, "{task}: {end:?}");
        assert!(end.data_ended.is_some(), "{task} reached the end of its data first");
    }
    let facts = outcome.facts.as_deref().expect("kept");
    let last_data_end = facts.iter().filter(|timed| matches!(timed.fact, Fact::DataEnded { .. })).count();
    assert_eq!(last_data_end, 8, "each task's data ends once in a run without faults");
    let final_fact = &facts.last().expect("facts").fact;
    assert!(matches!(final_fact, Fact::KeyTotal { .. }), "the run ends with the totals: {final_fact:?}");
}

#[test]
fn lost_completion_notices_only_postpone_the_end() {
    let lose = FaultSection {
        message: Some(ControlMessage::CompletionNotice),
        count: Some(30),
        ..FaultSection { kind: FaultKindName::LoseControlMessages, at_ms: 20, ..FaultSection::default() }
    };
    let outcome = passed(&wordcount_with(vec![lose]));
    let facts = outcome.facts.as_deref().expect("kept");
    let lost = facts
        .iter()
        .filter(|timed| {
            matches!(timed.fact, Fact::ControlMessageLost { kind, .. } if kind == ControlMessage::CompletionNotice as u8)
        })
        .count();
    assert_eq!(lost, 30);
    let ends = task_ends(&outcome);
    assert!(ends.values().all(|end| end.finished == 1), "{ends:?}");
    assert!(
        ends.values().any(|end| end.notified > end.final_checkpoint),
        "some task missed its final checkpoint's notice and finished on a later one: {ends:?}"
    );
}

#[test]
fn a_crash_after_the_data_ended_restores_and_takes_a_new_final_checkpoint() {
    let quiet = passed(&wordcount_with(Vec::new()));
    let facts = quiet.facts.as_deref().expect("kept");
    let first_data_end = facts.iter().find(|timed| matches!(timed.fact, Fact::DataEnded { .. })).expect("ends").time;
    let crash_ms = first_data_end.as_nanos().div_ceil(1_000_000);
    let crash = FaultSection {
        task: Some("sink[1]".to_string()),
        ..FaultSection { kind: FaultKindName::CrashTask, at_ms: crash_ms, ..FaultSection::default() }
    };
    let outcome = passed(&wordcount_with(vec![crash]));
    let facts = outcome.facts.as_deref().expect("kept");
    let crashed_at = facts.iter().position(|timed| matches!(timed.fact, Fact::TaskCrashed { .. })).expect("crashed");
    assert!(
        facts[..crashed_at].iter().any(|timed| matches!(timed.fact, Fact::DataEnded { .. })),
        "the crash came after some data ended"
    );
    let ends = task_ends(&outcome);
    assert!(ends.values().all(|end| end.finished == 1), "{ends:?}");
}
