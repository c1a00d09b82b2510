//! Unit tests of coverage: the phase read off facts, the strike counted in it, aims.

use super::aim::{Aim, AimTiming, aimed_faults, choose_aims};
use super::summary::CoverageSummary;
use super::{CoverageCounts, CoverageTracker, ProtocolPhase, Strike};
use crate::dataflow::graph::TaskRef;
use crate::faults::swarm::SwarmTargets;
use crate::kernel::ids::{ChannelId, CheckpointId, TaskId, VertexId};
use crate::kernel::rng::Seed;
use crate::kernel::time::SimDuration;
use crate::kernel::trace::{AbortReason, Fact};
use std::collections::BTreeMap;

fn task(index: usize) -> TaskId {
    TaskId::from_index(index)
}

/// A tracker for a job of `tasks` tasks, with no planned faults.
fn tracker(tasks: usize) -> CoverageTracker {
    CoverageTracker::new(&[], vec![tasks])
}

fn feed(tracker: &mut CoverageTracker, facts: &[Fact]) {
    for fact in facts {
        tracker.observe(fact);
    }
}

#[test]
fn a_crash_while_a_task_aligns_is_counted_in_the_aligning_cell() {
    let mut tracker = tracker(3);
    let one = CheckpointId(1);
    feed(
        &mut tracker,
        &[
            Fact::CheckpointTriggered { checkpoint: one },
            Fact::InputBlocked { task: task(2), channel: ChannelId::from_index(0), checkpoint: one },
            Fact::TaskCrashed { task: task(1) },
        ],
    );
    let counts = tracker.counts();
    assert_eq!(counts.hits(ProtocolPhase::Aligning, Strike::CrashTask), 1);
    assert_eq!(counts.hits(ProtocolPhase::BarriersInFlight, Strike::CrashTask), 1);
    assert_eq!(counts.hits(ProtocolPhase::BeforeFirstCheckpoint, Strike::CrashTask), 1);
    assert_eq!(counts.hits(ProtocolPhase::NoCheckpointPending, Strike::CrashTask), 0);
    assert_eq!(counts.hits(ProtocolPhase::MetadataWrite, Strike::CrashTask), 0);
}

#[test]
fn the_phase_follows_a_checkpoint_from_capture_to_metadata_and_notices() {
    let mut tracker = tracker(2);
    let one = CheckpointId(1);
    let captured = |index| Fact::StateCaptured { task: task(index), checkpoint: one, digest: 0, bytes: 1 };
    let acknowledged = |index| Fact::AcknowledgementReceived { task: task(index), checkpoint: one };
    feed(&mut tracker, &[Fact::CheckpointTriggered { checkpoint: one }, captured(0)]);
    feed(&mut tracker, &[Fact::WriteFailed { object: crate::kernel::trace::ObjectName::Metadata { checkpoint: one } }]);
    assert_eq!(tracker.counts().hits(ProtocolPhase::UploadingState, Strike::WriteFailed), 1);
    feed(&mut tracker, &[captured(1), acknowledged(0), acknowledged(1), Fact::CoordinatorCrashed]);
    assert_eq!(tracker.counts().hits(ProtocolPhase::MetadataWrite, Strike::CrashCoordinator), 1);
    assert_eq!(tracker.counts().hits(ProtocolPhase::BarriersInFlight, Strike::CrashCoordinator), 0);
    let two = CheckpointId(2);
    feed(&mut tracker, &[Fact::CheckpointTriggered { checkpoint: two }, Fact::CheckpointCompleted { checkpoint: two }]);
    feed(&mut tracker, &[Fact::ControlMessageLost { kind: 4, task: task(0), checkpoint: two }]);
    let counts = tracker.counts();
    assert_eq!(counts.hits(ProtocolPhase::NotifyingCompletion, Strike::CompletionNoticeLost), 1);
    assert_eq!(counts.hits(ProtocolPhase::BeforeFirstCheckpoint, Strike::CompletionNoticeLost), 0);
    assert!(counts.phase_seen(ProtocolPhase::NoCheckpointPending));
}

#[test]
fn a_worker_crash_is_one_strike_not_one_per_task() {
    let mut tracker = tracker(4);
    feed(
        &mut tracker,
        &[
            Fact::WorkerCrashed { worker: 0 },
            Fact::TaskCrashed { task: task(0) },
            Fact::TaskCrashed { task: task(2) },
            Fact::CheckpointAborted { checkpoint: CheckpointId(1), reason: AbortReason::Expired },
        ],
    );
    let counts = tracker.counts();
    assert_eq!(counts.hits(ProtocolPhase::NoCheckpointPending, Strike::CrashWorker), 1);
    assert_eq!(counts.hits(ProtocolPhase::NoCheckpointPending, Strike::CrashTask), 0);
    assert_eq!(counts.hits(ProtocolPhase::NoCheckpointPending, Strike::CheckpointExpired), 1);
}

#[test]
fn reachable_cells_never_hit_are_flagged_and_merges_add_up() {
    let mut one = CoverageCounts::default();
    one.count(Strike::CrashTask, 1 << ProtocolPhase::Aligning as u16);
    one.phases_seen = (1 << ProtocolPhase::Aligning as u16) | (1 << ProtocolPhase::Recovering as u16);
    assert_eq!(one.never_hit(), vec![(ProtocolPhase::Recovering, Strike::CrashTask)]);
    let mut two = one.clone();
    two.count(Strike::CrashTask, 1 << ProtocolPhase::Recovering as u16);
    let summary = CoverageSummary::of([&one, &two, &one]);
    assert_eq!((summary.cells_hit, summary.reachable), (2, 2));
    assert!(summary.never_hit.is_empty());
    assert_eq!(summary.curve, vec![[1, 1], [2, 2], [3, 2]]);
    assert_eq!(summary.matrix["crash-task"]["aligning"], 3);
    assert_eq!(summary.seeds_to_reach(2), Some(2));
}

#[test]
fn an_aim_reads_and_prints_as_phase_slash_strike_and_bad_ones_say_why() {
    let aim: Aim = "aligning/crash-task".parse().expect("an aim");
    assert_eq!(aim, Aim { phase: ProtocolPhase::Aligning, strike: Strike::CrashTask });
    assert_eq!(aim.to_string(), "aligning/crash-task");
    assert!("aligning".parse::<Aim>().unwrap_err().contains("PHASE/STRIKE"));
    assert!("sleeping/crash-task".parse::<Aim>().unwrap_err().contains("not a phase"));
    assert!("aligning/explode".parse::<Aim>().unwrap_err().contains("not a strike"));
}

fn targets() -> SwarmTargets {
    let tasks: Vec<TaskRef> = (0..3).map(|subtask| TaskRef { vertex: VertexId::from_index(0), subtask }).collect();
    SwarmTargets { links: vec![(tasks[0], tasks[1])], tasks, workers: 2, external_sinks: false }
}

const TIMING: AimTiming = AimTiming {
    interval: SimDuration::from_millis(20),
    timeout: SimDuration::from_millis(100),
    fault_phase: SimDuration::from_millis(60),
};

#[test]
fn aimed_faults_wait_for_the_step_that_opens_their_phase_and_their_draws_are_pinned() {
    let aim = Aim { phase: ProtocolPhase::Aligning, strike: Strike::CrashTask };
    let faults = aimed_faults(Seed(1), aim, &targets(), TIMING);
    // Pinned: the aim sub-stream's first draws for seed 1 (rand may change them).
    insta::assert_debug_snapshot!("aimed_faults_seed_1_aligning_crash_task", faults);
    assert!(matches!(faults[0].after, Some(crate::faults::Phase::InputBlocked { .. })));
    let recovering = Aim { phase: ProtocolPhase::Recovering, strike: Strike::WriteFailed };
    let faults = aimed_faults(Seed(1), recovering, &targets(), TIMING);
    assert_eq!(faults.len(), 2, "a crash, then the strike after the restart");
    assert_eq!(faults[1].after, Some(crate::faults::Phase::Restarted));
}

#[test]
fn aims_go_to_unhit_cells_in_turn_and_give_up_on_cells_never_hit() {
    let cells = [
        Aim { phase: ProtocolPhase::Aligning, strike: Strike::CrashTask },
        Aim { phase: ProtocolPhase::Recovering, strike: Strike::CrashTask },
        Aim { phase: ProtocolPhase::MetadataWrite, strike: Strike::CrashTask },
    ];
    let hit = |aim: Aim| aim.phase == ProtocolPhase::Recovering;
    let mut tries = BTreeMap::new();
    let aims = choose_aims(&cells, &hit, &mut tries, 2, 3);
    assert_eq!(aims, vec![Some(cells[0]), Some(cells[2]), Some(cells[0])]);
    let aims = choose_aims(&cells, &hit, &mut tries, 2, 2);
    assert_eq!(aims, vec![Some(cells[2]), Some(cells[2])], "cells[0] was tried twice");
    assert_eq!(choose_aims(&cells, &hit, &mut tries, 2, 1), vec![None]);
}

#[test]
fn cells_no_run_can_hit_are_neither_reachable_nor_aimed_at() {
    let mut counts = CoverageCounts::default();
    counts.count(Strike::TriggerLost, 1 << ProtocolPhase::BarriersInFlight as u16);
    counts.phases_seen =
        (1 << ProtocolPhase::BarriersInFlight as u16) | (1 << ProtocolPhase::NoCheckpointPending as u16);
    assert!(counts.never_hit().is_empty(), "a trigger is lost only while its checkpoint is pending");
    assert!(super::impossible(ProtocolPhase::BeforeFirstCheckpoint, Strike::CompletionNoticeLost));
    assert!(!super::impossible(ProtocolPhase::Aligning, Strike::CrashTask));
}
