//! The checkpoint protocols side by side: each passes every checker on every shipped
//! scenario, over seeds and crash plans, and does what it claims (aligned blocks;
//! Chandy-Lamport records channel state and replays it; at-least-once never blocks and its
//! duplicates are counted). `assert_exactly_once_with_plan` judges each protocol by its own
//! guarantee.

use crate::support::{load, load_path, run_keeping_facts, shipped_scenarios};
use proptest::prelude::*;
use snapsim::explore::run::Outcome;
use snapsim::kernel::trace::Fact;
use snapsim::protocol::ProtocolKind;
use snapsim::scenario::Scenario;
use snapsim::testing::{assert_exactly_once_with_plan, fault_plans, seeds};

const PROTOCOLS: [ProtocolKind; 5] = ProtocolKind::ALL;

/// `scenario` under `protocol`; a `[randomize]` section still draws every other setting.
fn under(mut scenario: Scenario, protocol: ProtocolKind) -> Scenario {
    scenario.checkpoint.protocol = protocol;
    if let Some(randomize) = &mut scenario.randomize {
        randomize.protocols = None;
    }
    scenario
}

fn count(outcome: &Outcome, wanted: impl Fn(&Fact) -> bool) -> usize {
    outcome.facts.as_ref().expect("kept").iter().filter(|timed| wanted(&timed.fact)).count()
}

#[test]
fn every_protocol_passes_every_checker_on_every_shipped_scenario_it_applies_to() {
    for path in shipped_scenarios() {
        for protocol in PROTOCOLS {
            let scenario = under(load_path(&path), protocol);
            if let Err(error) = scenario.compile() {
                // Refused with one line naming the protocol (the bank's cycle takes only
                // Chandy-Lamport): never run, never silently.
                assert_eq!(error.field.as_deref(), Some("checkpoint.protocol"), "{}: {error}", path.display());
                assert!(scenario.bank.is_some() && protocol != ProtocolKind::ChandyLamport, "{}", path.display());
                continue;
            }
            for seed in 1..=3 {
                let outcome = run_keeping_facts(&scenario, seed);
                assert!(
                    outcome.passed(),
                    "{} under {}, seed {seed}: {:?}",
                    path.display(),
                    protocol.name(),
                    outcome.verdict
                );
                assert_eq!(outcome.protocol, protocol);
            }
        }
    }
}

#[test]
fn aligned_barriers_block_and_record_no_channel_state() {
    let outcome = run_keeping_facts(&under(load("sims/diamond.toml"), ProtocolKind::Aligned), 1);
    assert!(count(&outcome, |fact| matches!(fact, Fact::InputBlocked { .. })) > 0);
    assert_eq!(count(&outcome, |fact| matches!(fact, Fact::ChannelStateRecorded { .. })), 0);
}

#[test]
fn chandy_lamport_never_blocks_and_records_channel_state() {
    let outcome = run_keeping_facts(&under(load("sims/diamond.toml"), ProtocolKind::ChandyLamport), 1);
    assert_eq!(count(&outcome, |fact| matches!(fact, Fact::InputBlocked { .. })), 0);
    assert!(count(&outcome, |fact| matches!(fact, Fact::ChannelStateRecorded { .. })) > 0);
    assert!(outcome.stats.recoveries > 0, "the crashes restored channel state and replayed it");
}

#[test]
fn unaligned_barriers_never_block_record_overtaken_records_and_checkpoint_sooner_than_aligned() {
    let unaligned = run_keeping_facts(&under(load("sims/diamond.toml"), ProtocolKind::Unaligned), 1);
    assert!(unaligned.passed(), "{:?}", unaligned.verdict);
    assert_eq!(count(&unaligned, |fact| matches!(fact, Fact::InputBlocked { .. })), 0);
    assert!(count(&unaligned, |fact| matches!(fact, Fact::ChannelStateRecorded { .. })) > 0);
    let aligned = run_keeping_facts(&under(load("sims/diamond.toml"), ProtocolKind::Aligned), 1);
    let mean = |outcome: &Outcome| {
        let metrics = snapsim::report::metrics::protocol_metrics(outcome.facts.as_deref().expect("kept"));
        snapsim::report::metrics::ProtocolMetrics::mean_duration(&metrics.durations)
    };
    assert!(mean(&unaligned) < mean(&aligned), "barriers that overtake buffered data finish checkpoints sooner");
}

fn tight_timeout(mut scenario: Scenario, timeout_ms: u64) -> Scenario {
    scenario.checkpoint.protocol = ProtocolKind::AlignedTimeout;
    scenario.checkpoint.aligned_timeout_ms = timeout_ms;
    scenario
}

#[test]
fn aligned_timeout_aligns_and_switches_to_unaligned_when_alignment_drags() {
    let generous = run_keeping_facts(&tight_timeout(load("sims/diamond.toml"), 1_000), 1);
    assert!(generous.passed());
    assert_eq!(count(&generous, |fact| matches!(fact, Fact::ChannelStateRecorded { .. })), 0, "never switched");
    let tight = run_keeping_facts(&tight_timeout(load("sims/diamond.toml"), 1), 1);
    assert!(tight.passed(), "{:?}", tight.verdict);
    assert!(count(&tight, |fact| matches!(fact, Fact::InputBlocked { .. })) > 0, "starts aligned");
    assert!(
        count(&tight, |fact| matches!(fact, Fact::ChannelStateRecorded { .. })) > 0,
        "switched and kept channel state"
    );
}

#[test]
fn at_least_once_never_blocks_and_its_duplicates_are_counted_not_failed() {
    let outcome = run_keeping_facts(&under(load("sims/diamond.toml"), ProtocolKind::AtLeastOnce), 1);
    assert!(outcome.passed(), "{:?}", outcome.verdict);
    assert_eq!(count(&outcome, |fact| matches!(fact, Fact::InputBlocked { .. })), 0);
    assert!(outcome.stats.duplicates.is_some_and(|duplicates| duplicates > 0), "{:?}", outcome.stats);
    let exact = run_keeping_facts(&under(load("sims/diamond.toml"), ProtocolKind::Aligned), 1);
    assert_eq!(exact.stats.duplicates, None, "exactly-once protocols are judged exactly");
}

fn small_diamond(protocol: ProtocolKind) -> Scenario {
    let mut scenario = under(load("sims/diamond.toml"), protocol);
    scenario.workload.records_per_source_subtask = 800;
    scenario
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn chandy_lamport_keeps_exactly_once_through_any_crashes(
        seed in seeds(),
        plan in fault_plans(&small_diamond(ProtocolKind::ChandyLamport), 45, 3),
    ) {
        assert_exactly_once_with_plan(&small_diamond(ProtocolKind::ChandyLamport), seed, &plan);
    }

    #[test]
    fn unaligned_barriers_keep_exactly_once_through_any_crashes(
        seed in seeds(),
        plan in fault_plans(&small_diamond(ProtocolKind::Unaligned), 45, 3),
    ) {
        assert_exactly_once_with_plan(&small_diamond(ProtocolKind::Unaligned), seed, &plan);
    }

    /// A 1 ms alignment timeout switches often: the setting whose sweep found the bug kept
    /// in tests/regressions/aligned-timeout-double-channel-state.snaprun.
    #[test]
    fn aligned_timeout_keeps_exactly_once_through_any_crashes(
        seed in seeds(),
        plan in fault_plans(&small_diamond(ProtocolKind::AlignedTimeout), 45, 3),
    ) {
        assert_exactly_once_with_plan(&tight_timeout(small_diamond(ProtocolKind::AlignedTimeout), 1), seed, &plan);
    }

    #[test]
    fn at_least_once_loses_nothing_through_any_crashes(
        seed in seeds(),
        plan in fault_plans(&small_diamond(ProtocolKind::AtLeastOnce), 45, 3),
    ) {
        assert_exactly_once_with_plan(&small_diamond(ProtocolKind::AtLeastOnce), seed, &plan);
    }

    #[test]
    fn aligned_barriers_keep_exactly_once_through_any_crashes_on_the_diamond(
        seed in seeds(),
        plan in fault_plans(&small_diamond(ProtocolKind::Aligned), 45, 3),
    ) {
        assert_exactly_once_with_plan(&small_diamond(ProtocolKind::Aligned), seed, &plan);
    }
}
