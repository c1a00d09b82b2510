//! Region failover (`sims/pipelines.toml`: four pipelined regions — clicks 0, orders 1,
//! audit[0] 2, audit[1] 3): a failure restarts only its region from the latest checkpoint
//! while the others run on; `failover = "full"` restarts every task; FLINK-10712's planted
//! bug (a region redeployed with empty state) is caught; swarm plans are survived under
//! every protocol.

use crate::support::{load, run, run_keeping_facts};
use proptest::prelude::*;
use snapsim::check::Invariant;
use snapsim::explore::run::{Outcome, Verdict};
use snapsim::kernel::trace::Fact;
use snapsim::plant::PlantedBug;
use snapsim::protocol::ProtocolKind;
use snapsim::scenario::{FailoverName, FaultKindName, FaultSection, Scenario, SwarmSection};
use snapsim::testing::{assert_exactly_once, seeds};

/// Tasks of the clicks region (clicks, clicks_count, clicks_sink).
const CLICKS: std::ops::RangeInclusive<u32> = 0..=5;
/// orders_count's two subtasks.
const ORDERS_COUNT: [u32; 2] = [8, 9];

fn pipelines_with(faults: Vec<FaultSection>) -> Scenario {
    let mut scenario = load("sims/pipelines.toml");
    scenario.faults = faults;
    scenario
}

fn facts(outcome: &Outcome) -> Vec<(u64, Fact)> {
    let kept = outcome.facts.as_deref().expect("kept");
    kept.iter().map(|timed| (timed.time.as_nanos(), timed.fact.clone())).collect()
}

fn survived(scenario: &Scenario) -> Vec<(u64, Fact)> {
    let outcome = run_keeping_facts(scenario, 1);
    assert!(outcome.passed(), "{:?}", outcome.verdict);
    facts(&outcome)
}

fn regions_failed(facts: &[(u64, Fact)]) -> Vec<u32> {
    facts
        .iter()
        .filter_map(|(_, fact)| match fact {
            Fact::RegionFailedOver { region, .. } => Some(*region),
            _ => None,
        })
        .collect()
}

fn restored_tasks(facts: &[(u64, Fact)]) -> Vec<u32> {
    facts
        .iter()
        .filter_map(|(_, fact)| match fact {
            Fact::TaskRestored { task, .. } => Some(task.0),
            _ => None,
        })
        .collect()
}

fn position(facts: &[(u64, Fact)], wanted: impl Fn(&Fact) -> bool) -> usize {
    facts.iter().position(|(_, fact)| wanted(fact)).expect("the fact is in the trace")
}

#[test]
fn a_task_crash_restarts_only_its_region_while_the_others_run_on() {
    let facts = survived(&pipelines_with(vec![FaultSection::crash_task("clicks_count[1]", 25)]));
    assert_eq!(regions_failed(&facts), vec![0]);
    assert!(!facts.iter().any(|(_, fact)| matches!(fact, Fact::JobRestarted { .. })));
    let restored = restored_tasks(&facts);
    assert_eq!(restored, CLICKS.collect::<Vec<_>>(), "exactly the clicks region is restored");
    let crash = position(&facts, |fact| matches!(fact, Fact::TaskCrashed { .. }));
    let restart = position(&facts, |fact| matches!(fact, Fact::RegionRestarted { region: 0, .. }));
    let orders_counted_meanwhile = facts[crash..restart]
        .iter()
        .filter(|(_, fact)| matches!(fact, Fact::RecordApplied { task, .. } if ORDERS_COUNT.contains(&task.0)))
        .count();
    assert!(orders_counted_meanwhile > 50, "orders kept counting while clicks restarted: {orders_counted_meanwhile}");
    // Outside the failed region nothing is read twice.
    for source in [6, 7, 11, 12] {
        let offsets: Vec<u64> = facts
            .iter()
            .filter_map(|(_, fact)| match fact {
                Fact::SourceRead { task, offset } if task.0 == source => Some(*offset),
                _ => None,
            })
            .collect();
        assert!(offsets.windows(2).all(|pair| pair[1] == pair[0] + 1), "task#{source} never rewound");
    }
}

#[test]
fn under_full_failover_the_same_crash_restarts_every_task() {
    let mut scenario = pipelines_with(vec![FaultSection::crash_task("clicks_count[1]", 25)]);
    scenario.recovery.failover = FailoverName::Full;
    let facts = survived(&scenario);
    assert!(regions_failed(&facts).is_empty());
    assert_eq!(facts.iter().filter(|(_, fact)| matches!(fact, Fact::JobRestarted { .. })).count(), 1);
    assert_eq!(restored_tasks(&facts), (0..15).collect::<Vec<_>>());
}

#[test]
fn a_worker_crash_fails_over_each_region_it_hosted() {
    let crash =
        FaultSection { worker: Some(0), ..FaultSection { kind: FaultKindName::CrashWorker, ..Default::default() } };
    let facts = survived(&pipelines_with(vec![FaultSection { at_ms: 55, ..crash }]));
    // Worker 0 hosts clicks, clicks_count and audit[1] (with its sink): regions 0 and 3.
    assert_eq!(regions_failed(&facts), vec![0, 3]);
    let mut restored = restored_tasks(&facts);
    restored.sort_unstable();
    assert_eq!(restored, vec![0, 1, 2, 3, 4, 5, 12, 14]);
}

#[test]
fn a_partition_fails_over_only_the_region_whose_channel_it_cuts() {
    let partition = FaultSection {
        kind: FaultKindName::Partition,
        worker: Some(0),
        to_worker: Some(2),
        at_ms: 40,
        duration_ms: Some(5),
        ..FaultSection::default()
    };
    let facts = survived(&pipelines_with(vec![partition]));
    // Only clicks_count (worker 0) → clicks_sink (worker 2) crosses the cut.
    assert!(regions_failed(&facts).iter().all(|&region| region == 0), "{:?}", regions_failed(&facts));
    assert!(!regions_failed(&facts).is_empty());
    assert!(facts.iter().any(|(_, fact)| matches!(fact, Fact::ChannelBroken { .. })));
}

#[test]
fn a_second_failure_while_a_region_restarts_postpones_only_that_region() {
    let faults = vec![
        FaultSection::crash_task("clicks_count[1]", 25),
        FaultSection::crash_task("clicks[0]", 30),
        FaultSection::crash_task("orders[1]", 32),
    ];
    let facts = survived(&pipelines_with(faults));
    assert_eq!(regions_failed(&facts), vec![0, 0, 1]);
    let restarts: Vec<(u64, u32, u32)> = facts
        .iter()
        .filter_map(|(time, fact)| match fact {
            Fact::RegionRestarted { region, attempt, .. } => Some((*time, *region, attempt.0)),
            _ => None,
        })
        .collect();
    // The clicks region restarts once, as the attempt of its second failure, 10 ms after it;
    // orders restarts on its own schedule.
    let ms = 1_000_000;
    assert_eq!(restarts, vec![(40 * ms, 0, 2), (42 * ms, 1, 3)]);
}

#[test]
fn flink_10712_a_region_redeployed_with_empty_state_is_caught() {
    let scenario = pipelines_with(vec![FaultSection::crash_task("clicks_count[1]", 25)]);
    let outcome = run(&scenario, 1, &[PlantedBug::RegionRestartWithoutState]);
    let Verdict::Fail(violation) = &outcome.verdict else { panic!("not caught: {:?}", outcome.verdict) };
    assert_eq!(violation.invariant, Invariant::RestoreEquivalence, "{}", violation.detail);
    assert!(violation.detail.contains("while it restarted from"), "{}", violation.detail);
    // Under full failover the buggy region path is never taken.
    let mut full = scenario;
    full.recovery.failover = FailoverName::Full;
    assert!(run(&full, 1, &[PlantedBug::RegionRestartWithoutState]).passed());
}

#[test]
fn the_shipped_pipelines_fail_over_region_by_region() {
    let outcome = run_keeping_facts(&load("sims/pipelines.toml"), 1);
    assert!(outcome.passed(), "{:?}", outcome.verdict);
    assert_eq!(outcome.stats.recoveries, 3);
    let facts = facts(&outcome);
    assert_eq!(regions_failed(&facts), vec![0, 0, 3, 0]);
    assert!(restored_tasks(&facts).iter().all(|&task| CLICKS.contains(&task) || [12, 14].contains(&task)));
}

fn small_swarm(protocol: ProtocolKind) -> Scenario {
    let mut scenario = pipelines_with(Vec::new());
    scenario.workload.records_per_source_subtask = 1_000;
    scenario.checkpoint.protocol = protocol;
    scenario.checkpoint.timeout_ms = 100;
    scenario.swarm = Some(SwarmSection { fault_phase_ms: 30, ..SwarmSection::default() });
    scenario
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// Exactly-once (no loss, for at-least-once) and liveness after healing, under region
    /// failover of a four-region job, for every protocol and each seed's swarm plan.
    #[test]
    fn every_protocol_survives_swarm_plans_under_region_failover(
        seed in seeds(),
        protocol in prop::sample::select(ProtocolKind::ALL.to_vec()),
    ) {
        assert_exactly_once(&small_swarm(protocol), seed);
    }
}
