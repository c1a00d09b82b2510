//! The partitioned log end to end (docs/end-to-end.md): the split enumerator hands every
//! partition — those present at the start and those discovered later — to exactly one
//! reader, every record is read, the event-time window emits every result of the
//! fault-free run, and a reader sees each committed exactly once, under every protocol
//! and swarm faults. (The planted enumerator and reader bugs are in checkers.rs.)

use crate::support::{assert_swarm_passes, load, run_keeping_facts};
use snapsim::kernel::ids::SplitKind;
use snapsim::kernel::time::SimTime;
use snapsim::kernel::trace::Fact;
use snapsim::protocol::ProtocolKind;
use snapsim::scenario::Scenario;
use std::collections::{BTreeMap, BTreeSet};

fn kafka() -> Scenario {
    load("sims/kafka-2pc.toml")
}

#[test]
fn every_partition_discovered_ones_included_is_assigned_and_read_to_its_end() {
    let outcome = run_keeping_facts(&kafka(), 1);
    assert!(outcome.passed(), "{:?}", outcome.verdict);
    let facts = outcome.facts.expect("kept");
    let mut assigned_at: BTreeMap<u32, SimTime> = BTreeMap::new();
    let mut read: BTreeMap<u32, BTreeSet<u64>> = BTreeMap::new();
    for timed in &facts {
        match timed.fact {
            Fact::PartitionAssigned { partition, .. } => {
                assigned_at.entry(partition).or_insert(timed.time);
            }
            Fact::PartitionRead { partition, offset, .. } => {
                read.entry(partition).or_default().insert(offset);
            }
            _ => {}
        }
    }
    assert_eq!(assigned_at.keys().copied().collect::<Vec<_>>(), (0..8).collect::<Vec<_>>());
    let discovered = SimTime::ZERO.after(snapsim::kernel::time::SimDuration::from_millis(25));
    assert!(assigned_at[&6] >= discovered && assigned_at[&7] >= discovered, "{assigned_at:?}");
    for (partition, offsets) in &read {
        assert_eq!(offsets.len(), 1000, "partition {partition} is read to its end");
    }
}

#[test]
fn the_window_results_readers_see_are_the_fault_free_runs_under_every_exactly_once_protocol() {
    for protocol in [ProtocolKind::Aligned, ProtocolKind::Unaligned, ProtocolKind::AlignedTimeout] {
        let mut scenario = kafka();
        scenario.checkpoint.protocol = protocol;
        let outcome = run_keeping_facts(&scenario, 1);
        assert!(outcome.passed(), "{protocol:?}: {:?}", outcome.verdict);
        assert!(outcome.stats.recoveries >= 2, "{protocol:?}: both crashes struck");
        let written: BTreeSet<u64> = outcome
            .facts
            .expect("kept")
            .iter()
            .filter_map(|timed| match timed.fact {
                Fact::TransactionWrite { record, .. } => match record.split.kind() {
                    SplitKind::WindowResults(_) => Some(record.offset),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        // 8 partitions × 1 s of event time in 50 ms windows, 32 keys: most windows hold
        // most keys.
        assert!(written.len() > 500, "{protocol:?}: {} window results", written.len());
    }
}

#[test]
fn swarm_faults_keep_the_log_job_exactly_once_end_to_end_and_at_least_once_under_at_least_once() {
    let protocols = [ProtocolKind::Aligned, ProtocolKind::Unaligned, ProtocolKind::AtLeastOnce];
    assert_swarm_passes(&kafka(), &protocols, 0..12);
}

#[test]
fn region_failover_of_one_reader_gives_its_partitions_back() {
    let scenario = load("tests/data/log-regions.toml");
    let outcome = run_keeping_facts(&scenario, 1);
    assert!(outcome.passed(), "{:?}", outcome.verdict);
    let facts = outcome.facts.expect("kept");
    let region_restart = facts
        .iter()
        .position(|timed| matches!(timed.fact, Fact::RegionRestarted { checkpoint: None, .. }))
        .expect("the crash restarts source[0]'s region from scratch");
    let given_back: Vec<u32> = facts[region_restart..]
        .iter()
        .filter_map(|timed| match timed.fact {
            Fact::PartitionAssigned { partition, .. } => Some(partition),
            _ => None,
        })
        .collect();
    assert!(given_back.contains(&0) && given_back.contains(&2), "source[0]'s partitions again: {given_back:?}");
}
