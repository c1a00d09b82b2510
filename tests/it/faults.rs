//! Each fault kind, scripted in a scenario: a fact in the trace shows it really happened,
//! and the run survives it (every invariant holds, including progress after healing). Then
//! swarm plans: a property over seeds for every protocol, and the sweep's `--swarm`.

use crate::support::{load, run_keeping_facts};
use proptest::prelude::*;
use snapsim::explore::run::Outcome;
use snapsim::faults::ControlMessage;
use snapsim::kernel::ids::CheckpointId;
use snapsim::kernel::trace::{AbortReason, Fact, ObjectName};
use snapsim::protocol::ProtocolKind;
use snapsim::scenario::{FaultKindName, FaultSection, PhaseName, Scenario, SwarmSection};
use snapsim::testing::{assert_exactly_once, seeds};

/// Word count, smaller, with `faults` in place of its crashes.
fn wordcount_with(faults: Vec<FaultSection>) -> Scenario {
    let mut scenario = load("sims/wordcount.toml");
    scenario.workload.records_per_source_subtask = 2_000;
    scenario.faults = faults;
    scenario
}

fn fault(kind: FaultKindName, at_ms: u64) -> FaultSection {
    FaultSection { kind, at_ms, ..FaultSection::default() }
}

/// Runs `scenario` (seed 1) keeping facts, and asserts that it passed.
fn survived(scenario: &Scenario) -> Outcome {
    let outcome = run_keeping_facts(scenario, 1);
    assert!(outcome.passed(), "{:?}", outcome.verdict);
    outcome
}

fn facts(outcome: &Outcome) -> impl Iterator<Item = &Fact> {
    outcome.facts.as_deref().expect("kept").iter().map(|timed| &timed.fact)
}

fn completed(outcome: &Outcome) -> Vec<u64> {
    facts(outcome)
        .filter_map(|fact| match fact {
            Fact::CheckpointCompleted { checkpoint } => Some(checkpoint.0),
            _ => None,
        })
        .collect()
}

#[test]
fn a_coordinator_crash_fails_the_job_over_and_never_reuses_a_checkpoint_id() {
    let outcome = survived(&wordcount_with(vec![fault(FaultKindName::CrashCoordinator, 30)]));
    assert_eq!(facts(&outcome).filter(|fact| **fact == Fact::CoordinatorCrashed).count(), 1);
    assert_eq!(outcome.stats.recoveries, 1);
    let triggered: Vec<u64> = facts(&outcome)
        .filter_map(|fact| match fact {
            Fact::CheckpointTriggered { checkpoint } => Some(checkpoint.0),
            _ => None,
        })
        .collect();
    assert!(triggered.windows(2).all(|pair| pair[0] < pair[1]), "ids only rise across the crash: {triggered:?}");
    assert!(completed(&outcome).iter().any(|&id| id > 1), "checkpoints complete again after recovery");
}

#[test]
fn a_coordinator_crash_between_the_last_acknowledgement_and_the_metadata_write_does_not_complete_it() {
    let crash = FaultSection {
        after: Some(PhaseName::MetadataWriteBegun),
        checkpoint: Some(2),
        ..fault(FaultKindName::CrashCoordinator, 0)
    };
    let outcome = survived(&wordcount_with(vec![crash]));
    let all: Vec<&Fact> = facts(&outcome).collect();
    let crash_at = all.iter().position(|fact| **fact == Fact::CoordinatorCrashed).expect("it struck");
    let durable = all.iter().position(|fact| {
        **fact
            == Fact::ObjectDurable { object: ObjectName::Metadata { checkpoint: CheckpointId(2) }, bytes: 16 + 12 * 8 }
    });
    assert!(durable.is_none_or(|at| at > crash_at), "the crash came before the metadata was durable");
    assert!(!completed(&outcome).contains(&2), "checkpoint 2 never completes: {:?}", completed(&outcome));
    let restarted_from = all.iter().find_map(|fact| match fact {
        Fact::JobRestarted { checkpoint, .. } => Some(*checkpoint),
        _ => None,
    });
    assert_eq!(restarted_from, Some(Some(CheckpointId(1))), "recovery uses the last checkpoint in the store");
}

#[test]
fn a_crash_after_a_task_acknowledges_strikes_right_then() {
    let crash = FaultSection {
        task: Some("count[1]".to_string()),
        after: Some(PhaseName::Acknowledged),
        checkpoint: Some(3),
        ..fault(FaultKindName::CrashTask, 0)
    };
    let outcome = survived(&wordcount_with(vec![crash]));
    let all: Vec<&Fact> = facts(&outcome).collect();
    let crashed = all.iter().position(|fact| matches!(fact, Fact::TaskCrashed { .. })).expect("it struck");
    let acknowledged = all
        .iter()
        .rposition(|fact| matches!(fact, Fact::AcknowledgementReceived { checkpoint: CheckpointId(3), .. }))
        .expect("checkpoint 3 was acknowledged");
    assert!(acknowledged < crashed, "the crash follows the acknowledgement");
    let time_of = |index: usize| outcome.facts.as_deref().expect("kept")[index].time;
    assert_eq!(time_of(acknowledged), time_of(crashed), "at the same simulated instant");
}

#[test]
fn storage_unavailable_makes_writes_fail_and_checkpoints_abort_then_heal() {
    let outage = FaultSection { duration_ms: Some(12), ..fault(FaultKindName::StorageUnavailable, 10) };
    let outcome = survived(&wordcount_with(vec![outage]));
    assert!(facts(&outcome).any(|fact| matches!(fact, Fact::WriteFailed { .. })), "a write failed");
    assert!(
        facts(&outcome).any(|fact| matches!(
            fact,
            Fact::CheckpointAborted { reason: AbortReason::Declined | AbortReason::MetadataWriteFailed, .. }
        )),
        "a checkpoint aborted for it"
    );
    let healed = facts(&outcome).position(|fact| *fact == Fact::FaultsLifted).expect("the outage ended");
    let completed_after = facts(&outcome).skip(healed).any(|fact| matches!(fact, Fact::CheckpointCompleted { .. }));
    assert!(completed_after, "and a checkpoint completes after it");
}

#[test]
fn slow_storage_makes_checkpoints_expire() {
    let mut scenario = wordcount_with(vec![FaultSection {
        duration_ms: Some(30),
        factor: Some(50),
        ..fault(FaultKindName::SlowStorage, 10)
    }]);
    scenario.checkpoint.timeout_ms = 40;
    let outcome = survived(&scenario);
    assert!(facts(&outcome).any(|fact| matches!(fact, Fact::FaultInjected { index: 0 })));
    assert!(facts(&outcome).any(|fact| matches!(fact, Fact::CheckpointAborted { reason: AbortReason::Expired, .. })));
}

#[test]
fn lost_control_messages_of_every_kind_are_survived() {
    for kind in ControlMessage::ALL {
        let lose = FaultSection { message: Some(kind), count: Some(2), ..fault(FaultKindName::LoseControlMessages, 5) };
        // A storage outage makes tasks decline and the coordinator abort, so that every kind
        // of control message is sent while some are being lost.
        let outage = FaultSection { duration_ms: Some(8), ..fault(FaultKindName::StorageUnavailable, 19) };
        let mut scenario = wordcount_with(vec![lose, outage]);
        scenario.checkpoint.timeout_ms = 60;
        let outcome = run_keeping_facts(&scenario, 1);
        assert!(outcome.passed(), "{}: {:?}", kind.name(), outcome.verdict);
        let lost = facts(&outcome)
            .filter(|fact| matches!(fact, Fact::ControlMessageLost { kind: lost, .. } if *lost == kind as u8))
            .count();
        assert_eq!(lost, 2, "{}", kind.name());
    }
}

#[test]
fn a_latency_spike_delays_the_link_and_back_pressures() {
    let spike = FaultSection {
        task: Some("source[0]".to_string()),
        to: Some("count[0]".to_string()),
        extra_us: Some(8_000),
        duration_ms: Some(20),
        ..fault(FaultKindName::LatencySpike, 10)
    };
    let outcome = survived(&wordcount_with(vec![spike]));
    assert!(facts(&outcome).any(|fact| matches!(fact, Fact::FaultInjected { index: 0 })));
    let timed = outcome.facts.as_deref().expect("kept");
    // Channel 0 is source[0] to count[0]: some message took over 8 ms.
    let mut sent_at = std::collections::BTreeMap::new();
    let mut slowest = 0;
    for entry in timed {
        match entry.fact {
            Fact::MessageSent { channel, sequence, .. } if channel.0 == 0 => {
                sent_at.insert(sequence, entry.time);
            }
            Fact::MessageArrived { channel, sequence } if channel.0 == 0 => {
                slowest = slowest.max(entry.time.as_nanos() - sent_at[&sequence].as_nanos());
            }
            _ => {}
        }
    }
    assert!(slowest >= 8_000_000, "slowest message on the link took {slowest} ns");
}

#[test]
fn swarm_plans_differ_per_seed_and_are_stored_in_the_run() {
    let mut scenario = wordcount_with(Vec::new());
    scenario.swarm = Some(SwarmSection::default());
    let plans: Vec<usize> = (0..12)
        .map(|seed| {
            let spec = snapsim::explore::run::RunSpec::new(scenario.clone(), snapsim::kernel::rng::Seed(seed));
            spec.materialised_plan().expect("valid").faults.len()
        })
        .collect();
    assert!(plans.contains(&0) && plans.iter().any(|&count| count > 2), "{plans:?}");
}

fn small_swarm(protocol: ProtocolKind) -> Scenario {
    let mut scenario = wordcount_with(Vec::new());
    scenario.workload.records_per_source_subtask = 1_200;
    scenario.checkpoint.protocol = protocol;
    scenario.checkpoint.timeout_ms = 100;
    scenario.swarm = Some(SwarmSection { fault_phase_ms: 30, ..SwarmSection::default() });
    scenario
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Exactly-once (no loss, for at-least-once) and liveness after healing, for every
    /// protocol, under each seed's swarm plan.
    #[test]
    fn every_protocol_survives_swarm_plans(seed in seeds(), protocol in prop::sample::select(ProtocolKind::ALL.to_vec())) {
        assert_exactly_once(&small_swarm(protocol), seed);
    }
}

#[test]
fn too_many_failed_checkpoints_in_a_row_fail_the_job_over_and_it_recovers() {
    let outage = FaultSection { duration_ms: Some(45), ..fault(FaultKindName::StorageUnavailable, 15) };
    let mut scenario = wordcount_with(vec![outage]);
    scenario.checkpoint.tolerable_failures = Some(1);
    let outcome = survived(&scenario);
    assert!(facts(&outcome).any(|fact| matches!(fact, Fact::CheckpointFailuresExceeded { failures: 2 })));
    assert_eq!(outcome.stats.recoveries, 1, "the failure manager's failover, and no crash");
    // Without a tolerance, the same outage only aborts checkpoints.
    scenario.checkpoint.tolerable_failures = None;
    assert_eq!(survived(&scenario).stats.recoveries, 0);
}

#[test]
fn the_last_k_completed_checkpoints_are_kept_and_the_latest_restored() {
    let mut scenario = wordcount_with(vec![fault(FaultKindName::CrashTask, 32)]);
    scenario.faults[0].task = Some("count[0]".to_string());
    scenario.checkpoint.retained = 3;
    scenario.checkpoint.interval_ms = 5;
    let outcome = survived(&scenario);
    let mut completed_so_far: Vec<u64> = Vec::new();
    for fact in facts(&outcome) {
        match fact {
            Fact::CheckpointCompleted { checkpoint } => completed_so_far.push(checkpoint.0),
            Fact::ObjectDeleted {
                object: ObjectName::TaskState { checkpoint, .. } | ObjectName::Metadata { checkpoint },
            } => {
                let newest_three = &completed_so_far[completed_so_far.len().saturating_sub(3)..];
                assert!(!newest_three.contains(&checkpoint.0), "{checkpoint} deleted while retained");
            }
            Fact::JobRestarted { checkpoint, .. } => {
                assert_eq!(checkpoint.map(|id| id.0), completed_so_far.last().copied(), "the latest is restored");
            }
            _ => {}
        }
    }
    assert!(completed_so_far.len() > 3);
}

#[test]
fn no_checkpoint_is_triggered_within_the_min_pause() {
    let mut scenario = wordcount_with(Vec::new());
    scenario.checkpoint.interval_ms = 2;
    scenario.checkpoint.min_pause_ms = 25;
    let outcome = survived(&scenario);
    let timed = outcome.facts.as_deref().expect("kept");
    let mut last_completed = None;
    for entry in timed {
        match entry.fact {
            Fact::CheckpointCompleted { .. } => last_completed = Some(entry.time),
            Fact::CheckpointTriggered { .. } => {
                if let Some(completed) = last_completed {
                    assert!(entry.time.as_nanos() - completed.as_nanos() >= 25_000_000, "triggered at {}", entry.time);
                }
            }
            _ => {}
        }
    }
    assert!(outcome.stats.checkpoints_completed >= 2);
}

fn restart_times(outcome: &Outcome) -> Vec<(u64, u64)> {
    // (failure time, restart time) in milliseconds, pairing each restart with the failure
    // before it.
    let mut pairs = Vec::new();
    let mut failed_at = None;
    for entry in outcome.facts.as_deref().expect("kept") {
        match entry.fact {
            Fact::TaskCrashed { .. } | Fact::CoordinatorCrashed => failed_at = Some(entry.time.as_nanos() / 1_000_000),
            Fact::JobRestarted { .. } => {
                pairs.push((failed_at.expect("a restart follows a failure"), entry.time.as_nanos() / 1_000_000));
            }
            _ => {}
        }
    }
    pairs
}

fn crashes(at_ms: &[u64]) -> Vec<FaultSection> {
    at_ms
        .iter()
        .map(|&at| FaultSection { task: Some("count[1]".to_string()), ..fault(FaultKindName::CrashTask, at) })
        .collect()
}

#[test]
fn exponential_delay_backs_off_between_restarts() {
    let mut scenario = wordcount_with(crashes(&[5, 30, 80]));
    scenario.recovery.strategy = snapsim::scenario::RestartStrategyName::ExponentialDelay;
    scenario.recovery.restart_delay_ms = 4;
    scenario.recovery.backoff_multiplier_percent = 300;
    scenario.recovery.jitter_percent = 0;
    let outcome = survived(&scenario);
    let delays: Vec<u64> = restart_times(&outcome).iter().map(|(failed, restarted)| restarted - failed).collect();
    assert_eq!(delays, [4, 12, 36]);
}

#[test]
fn failure_rate_gives_up_when_failures_come_too_often() {
    let mut scenario = wordcount_with(crashes(&[5, 20, 35]));
    scenario.recovery.strategy = snapsim::scenario::RestartStrategyName::FailureRate;
    scenario.recovery.restart_delay_ms = 2;
    scenario.recovery.max_failures_per_interval = 2;
    scenario.recovery.failure_rate_interval_ms = 100;
    let outcome = run_keeping_facts(&scenario, 1);
    let snapsim::explore::run::Verdict::Fail(found) = &outcome.verdict else { panic!("{:?}", outcome.verdict) };
    assert_eq!(found.invariant, snapsim::check::Invariant::RestartsExhausted);
    scenario.recovery.failure_rate_interval_ms = 20;
    survived(&scenario);
}

#[test]
fn a_coordinator_crash_is_recovered_at_once_whatever_the_restart_strategy() {
    let mut scenario = wordcount_with(vec![fault(FaultKindName::CrashCoordinator, 25)]);
    scenario.recovery.strategy = snapsim::scenario::RestartStrategyName::None;
    let outcome = survived(&scenario);
    assert_eq!(restart_times(&outcome), [(25, 25)], "a new coordinator redeploys the job at once");
}

#[test]
fn a_worker_crash_takes_every_task_placed_on_it() {
    // Round robin over 3 workers: worker 1 runs tasks 1, 4 and 7.
    let mut scenario = wordcount_with(vec![FaultSection { worker: Some(1), ..fault(FaultKindName::CrashWorker, 20) }]);
    scenario.cluster.workers = 3;
    let outcome = survived(&scenario);
    let all: Vec<&Fact> = facts(&outcome).collect();
    let at = all.iter().position(|fact| matches!(fact, Fact::WorkerCrashed { worker: 1 })).expect("it struck");
    let crashed: Vec<u32> = all[at + 1..at + 4]
        .iter()
        .map(|fact| match fact {
            Fact::TaskCrashed { task } => task.0,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(crashed, [1, 4, 7]);
    assert_eq!(outcome.stats.recoveries, 1, "one failover for the whole worker");
}

#[test]
fn a_partition_breaks_the_channels_across_it_and_every_restart_fails_until_it_heals() {
    let cut = FaultSection {
        worker: Some(0),
        to_worker: Some(1),
        duration_ms: Some(35),
        ..fault(FaultKindName::Partition, 10)
    };
    let mut scenario = wordcount_with(vec![cut.clone()]);
    scenario.recovery.restart_delay_ms = 10;
    let outcome = survived(&scenario);
    let broken = facts(&outcome).filter(|fact| matches!(fact, Fact::ChannelBroken { .. })).count();
    assert!(broken >= 3, "at the cut, then at each restart within it: {broken}");
    assert_eq!(outcome.stats.recoveries as usize, broken);
    // A one-way cut from worker 0 to worker 1 still breaks channels that way round.
    let mut one_way = wordcount_with(vec![FaultSection { one_way: Some(true), ..cut }]);
    one_way.recovery.restart_delay_ms = 10;
    assert!(facts(&survived(&one_way)).any(|fact| matches!(fact, Fact::ChannelBroken { .. })));
}

#[test]
fn delayed_control_messages_arrive_late_and_are_survived() {
    for kind in [ControlMessage::Trigger, ControlMessage::Acknowledgement] {
        let delay = FaultSection {
            message: Some(kind),
            count: Some(3),
            extra_us: Some(15_000),
            ..fault(FaultKindName::DelayControlMessages, 5)
        };
        let outcome = survived(&wordcount_with(vec![delay]));
        let delayed = facts(&outcome).filter(|fact| matches!(fact, Fact::ControlMessageDelayed { .. })).count();
        assert_eq!(delayed, 3, "{}", kind.name());
    }
}

#[test]
fn two_delay_faults_of_one_kind_delay_as_many_messages_as_both_promise() {
    let delay = |count, at_ms| FaultSection {
        message: Some(ControlMessage::Acknowledgement),
        count: Some(count),
        extra_us: Some(2_000),
        ..fault(FaultKindName::DelayControlMessages, at_ms)
    };
    let outcome = survived(&wordcount_with(vec![delay(2, 5), delay(3, 6)]));
    let delayed = facts(&outcome).filter(|fact| matches!(fact, Fact::ControlMessageDelayed { .. })).count();
    assert_eq!(delayed, 5, "the second fault adds its count to the first's");
    assert!(facts(&outcome).any(|fact| *fact == Fact::FaultsLifted), "both faults are over");
}

#[test]
fn a_crash_mid_write_leaves_a_torn_object_that_is_never_restored() {
    // The coordinator crashes while the metadata of checkpoint 2 is being written, and
    // count[1] while its state for checkpoint 3 is.
    let coordinator = FaultSection {
        after: Some(PhaseName::MetadataWriteBegun),
        checkpoint: Some(2),
        ..fault(FaultKindName::CrashCoordinator, 0)
    };
    let task = FaultSection {
        task: Some("count[1]".to_string()),
        after: Some(PhaseName::StateCaptured),
        checkpoint: Some(3),
        ..fault(FaultKindName::CrashTask, 0)
    };
    let outcome = survived(&wordcount_with(vec![coordinator, task]));
    let torn: Vec<ObjectName> = facts(&outcome)
        .filter_map(|fact| match fact {
            Fact::ObjectTorn { object } => Some(*object),
            _ => None,
        })
        .collect();
    assert!(torn.contains(&ObjectName::Metadata { checkpoint: CheckpointId(2) }), "{torn:?}");
    assert!(torn.iter().any(|object| matches!(object, ObjectName::TaskState { checkpoint: CheckpointId(3), .. })));
    for fact in facts(&outcome) {
        if let Fact::TaskRestored { checkpoint: Some(checkpoint), .. } = fact {
            assert!(![2, 3].contains(&checkpoint.0), "restored from a torn checkpoint {checkpoint}");
        }
        if let Fact::ObjectDurable { object, .. } = fact {
            assert!(!torn.contains(object), "{object:?} was torn, yet became durable");
        }
    }
}
