//! The bank: accounts on a complete graph, Chandy-Lamport snapshots initiated by any
//! account, conservation of money — and the 1985 paper's examples replayed event by event:
//! the single token (sims/token.toml, Examples 2.1/3.1) and the two messages
//! (sims/two-messages.toml, Example 2.2), each with its recorded state asserted.

use crate::support::{load, run};
use snapsim::check::Invariant;
use snapsim::explore::run::{RunSpec, Verdict, run_spec};
use snapsim::kernel::ids::{ChannelId, CheckpointId, TaskId};
use snapsim::kernel::rng::Seed;
use snapsim::kernel::trace::{Fact, MessageTag, TimedFact};
use snapsim::scenario::{Scenario, ScriptEventSection, ScriptKindName};
use std::collections::BTreeSet;

fn script_event(at_ms: u64, kind: ScriptKindName) -> ScriptEventSection {
    ScriptEventSection { at_ms, kind, from: None, to: None, amount: None, delay_ms: None, account: None }
}

/// p (account 0) pays q (account 1) the token at `at_ms`.
fn send_token(at_ms: u64) -> ScriptEventSection {
    ScriptEventSection { from: Some(0), to: Some(1), amount: Some(1), ..script_event(at_ms, ScriptKindName::Transfer) }
}

/// `account` initiates a snapshot at `at_ms`.
fn initiate(at_ms: u64, account: u32) -> ScriptEventSection {
    ScriptEventSection { account: Some(account), ..script_event(at_ms, ScriptKindName::Snapshot) }
}

fn facts_of(scenario: &Scenario, seed: u64) -> Vec<TimedFact> {
    let outcome = run_spec(&RunSpec::new(scenario.clone(), Seed(seed)), true).expect("valid scenario");
    assert_eq!(outcome.verdict, Verdict::Pass);
    outcome.facts.expect("kept")
}

/// What one snapshot recorded: each account's balance, and each recorded in-flight
/// transfer as (channel, amount).
type RecordedState = (Vec<(TaskId, i64)>, Vec<(ChannelId, i64)>);

fn recorded_state(facts: &[TimedFact], checkpoint: CheckpointId) -> RecordedState {
    let amount_of = |channel: ChannelId, sequence: u64| {
        facts.iter().find_map(|timed| match timed.fact {
            Fact::MessageSent { channel: sent, sequence: number, message: MessageTag::Transfer { amount, .. } }
                if sent == channel && number == sequence =>
            {
                Some(amount)
            }
            _ => None,
        })
    };
    let balances = facts
        .iter()
        .filter_map(|timed| match timed.fact {
            Fact::BalanceCaptured { task, checkpoint: id, balance } if id == checkpoint => Some((task, balance)),
            _ => None,
        })
        .collect();
    let in_flight = facts
        .iter()
        .filter_map(|timed| match timed.fact {
            Fact::ChannelStateRecorded { checkpoint: id, channel, sequence, .. } if id == checkpoint => {
                Some((channel, amount_of(channel, sequence).expect("a recorded message is a transfer")))
            }
            _ => None,
        })
        .collect();
    (balances, in_flight)
}

#[test]
fn the_two_message_example_records_the_papers_global_state() {
    let scenario = load("sims/two-messages.toml");
    let facts = facts_of(&scenario, 1);
    let completed: Vec<CheckpointId> = facts
        .iter()
        .filter_map(|timed| match timed.fact {
            Fact::CheckpointCompleted { checkpoint } => Some(checkpoint),
            _ => None,
        })
        .collect();
    assert_eq!(completed, [CheckpointId(1)], "one snapshot, initiated by p at 0 ms");
    let (balances, in_flight) = recorded_state(&facts, CheckpointId(1));
    let (p, q) = (TaskId(0), TaskId(1));
    // Channel 0 is c (p to q), channel 1 is c' (q to p).
    assert_eq!(balances, [(p, 10), (q, 6)], "p before sending M, q after sending M'");
    assert_eq!(in_flight, [(ChannelId(1), 4)], "c is empty; c' holds M'");
    // The recorded state is the paper's whatever the seed: every latency is fixed.
    for seed in [2, 99, 12345] {
        assert_eq!(recorded_state(&facts_of(&scenario, seed), CheckpointId(1)), (balances.clone(), in_flight.clone()));
    }
}

#[test]
fn the_token_is_recorded_exactly_once_in_each_of_the_papers_schedules() {
    let (p, q, c) = (TaskId(0), TaskId(1), ChannelId(0));
    // sims/token.toml as shipped: the token is in c when q initiates.
    let in_channel = load("sims/token.toml");
    let (balances, in_flight) = recorded_state(&facts_of(&in_channel, 1), CheckpointId(1));
    assert_eq!((balances, in_flight), (vec![(q, 0), (p, 0)], vec![(c, 1)]), "c = <token>, nobody holds it");
    // (a) p initiates while it holds the token, then sends it behind the marker.
    let mut at_p = in_channel.clone();
    at_p.script = vec![initiate(0, 0), send_token(1)];
    let (balances, in_flight) = recorded_state(&facts_of(&at_p, 1), CheckpointId(1));
    assert_eq!((balances, in_flight), (vec![(p, 1), (q, 0)], vec![]), "the token recorded at p");
    // (b) p sends the token first, then initiates: the marker follows the token on c.
    let mut at_q = in_channel;
    at_q.script = vec![send_token(0), initiate(1, 0)];
    let (balances, in_flight) = recorded_state(&facts_of(&at_q, 1), CheckpointId(1));
    assert_eq!((balances, in_flight), (vec![(p, 0), (q, 1)], vec![]), "the token recorded at q");
}

#[test]
fn a_scripted_delivery_delay_moves_the_arrival_but_not_the_channel_order() {
    // M' delayed to 20 ms would reach p after the marker q sends on c' at 5 ms (drawn
    // latency 5 ms) — but channels are FIFO, so the marker waits behind M' and p still
    // records M' as the state of c'. The recorded state follows channel order, not the clock.
    let mut scenario = load("sims/two-messages.toml");
    scenario.script[2].delay_ms = Some(20);
    let facts = facts_of(&scenario, 1);
    let (balances, in_flight) = recorded_state(&facts, CheckpointId(1));
    assert_eq!(balances, [(TaskId(0), 10), (TaskId(1), 6)]);
    assert_eq!(in_flight, [(ChannelId(1), 4)]);
    let arrival = facts.iter().find_map(|timed| match timed.fact {
        Fact::MessageArrived { channel: ChannelId(1), sequence: 0 } => Some(timed.time),
        _ => None,
    });
    assert_eq!(arrival.map(|time| time.as_nanos()), Some(22_000_000), "sent at 2 ms, delivered 20 ms later");
    let marker_arrival = facts.iter().find_map(|timed| match timed.fact {
        Fact::MessageArrived { channel: ChannelId(1), sequence: 1 } => Some(timed.time.as_nanos()),
        _ => None,
    });
    assert_eq!(marker_arrival, Some(22_000_000), "the marker behind it cannot arrive earlier");
}

#[test]
fn a_transfer_after_the_marker_stays_out_of_the_snapshot() {
    // q pays M' at 6 ms, after recording its state on the marker (5 ms): q records 10, and
    // M' follows q's marker on c', so c' records nothing.
    let mut scenario = load("sims/two-messages.toml");
    scenario.script[2].at_ms = 6;
    let (balances, in_flight) = recorded_state(&facts_of(&scenario, 1), CheckpointId(1));
    assert_eq!(balances, [(TaskId(0), 10), (TaskId(1), 10)]);
    assert_eq!(in_flight, []);
}

#[test]
fn more_scripted_snapshots_from_both_accounts_are_told_apart_and_all_conserve_money() {
    let mut scenario = load("sims/two-messages.toml");
    for (at_ms, account) in [(1, 1), (3, 0), (3, 1)] {
        scenario.script.push(initiate(at_ms, account));
    }
    scenario.checkpoint.max_concurrent = 4;
    let facts = facts_of(&scenario, 1);
    let completed: BTreeSet<u64> = facts
        .iter()
        .filter_map(|timed| match timed.fact {
            Fact::CheckpointCompleted { checkpoint } => Some(checkpoint.0),
            _ => None,
        })
        .collect();
    assert!(!completed.is_empty());
    for id in completed {
        let (balances, in_flight) = recorded_state(&facts, CheckpointId(id));
        let total: i64 = balances.iter().map(|(_, balance)| balance).chain(in_flight.iter().map(|(_, a)| a)).sum();
        assert_eq!(total, 20, "snapshot {id}: {balances:?} {in_flight:?}");
    }
}

#[test]
fn the_bank_passes_every_checker_over_seeds_with_crashes() {
    let scenario = load("sims/bank.toml");
    for seed in 0..40 {
        let outcome = run(&scenario, seed, &[]);
        assert!(outcome.passed(), "seed {seed}: {:?}", outcome.verdict);
        assert!(outcome.stats.checkpoints_completed > 0, "seed {seed}: snapshots complete");
        assert_eq!(outcome.stats.recoveries, 1, "seed {seed}: the scripted crash");
    }
}

#[test]
fn consistent_cut_catches_chandy_lamport_without_fifo_on_the_bank() {
    let scenario = load("sims/bank.toml");
    let outcome = run(&scenario, 1, &[snapsim::plant::PlantedBug::BreakFifo]);
    match outcome.verdict {
        Verdict::Fail(violation) => assert_eq!(violation.invariant, Invariant::ConsistentCut),
        other => panic!("expected consistent-cut, got {other:?}"),
    }
}
