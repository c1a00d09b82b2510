//! Scenario unit tests: parsing, defaults, and each validation rule naming its field.

use super::*;
use crate::dataflow::graph::{Partitioning, VertexKind};
use crate::dataflow::source::KeyDistribution;
use crate::faults::Fault;
use crate::kernel::ids::TaskId;
use crate::kernel::time::{SimDuration, SimTime};
use crate::recovery::restart::RestartStrategy;

/// The shipped word-count scenario.
const WORDCOUNT: &str = include_str!("../../sims/wordcount.toml");

/// A small valid scenario that the error cases edit: source(1) -hash-> count(2)
/// -forward-> sink(2), one crash. Every `Replace` target below occurs in it exactly once,
/// and it has no `[checkpoint]`-style sections, so a case may append one.
pub(super) const BASE: &str = r#"name = "base"

[workload]
records_per_source_subtask = 100
keys = 8

[[vertices]]
name = "source"
kind = "source"
parallelism = 1

[[vertices]]
name = "count"
kind = "keyed-count"
parallelism = 2

[[vertices]]
name = "sink"
kind = "sink"
parallelism = 2

[[edges]]
from = "source"
to = "count"
partitioning = "hash"

[[edges]]
from = "count"
to = "sink"
partitioning = "forward"

[[faults]]
kind = "crash-task"
task = "count[1]"
at_ms = 5
"#;

/// A scenario with every optional section and field left out.
const MINIMAL: &str = include_str!("../../tests/data/minimal.toml");

/// How a case changes `BASE`.
#[derive(Clone, Copy, Debug)]
pub(super) enum Edit {
    /// Replace the one occurrence of the first text with the second.
    Replace(&'static str, &'static str),
    /// Add text at the end (new sections, more `[[edges]]` or `[[faults]]`).
    Append(&'static str),
    /// Add text at the start (top-level keys).
    Prepend(&'static str),
}

impl Edit {
    pub(super) fn apply(self, base: &str) -> String {
        match self {
            Edit::Replace(from, to) => {
                assert_eq!(base.matches(from).count(), 1, "test bug: `{from}` must occur exactly once in the base");
                base.replacen(from, to, 1)
            }
            Edit::Append(text) => format!("{base}\n{text}\n"),
            Edit::Prepend(text) => format!("{text}\n{base}"),
        }
    }
}

/// One bad scenario: what it tests, the edit of `BASE`, the field the error must name, and
/// a part of its message.
pub(super) type Case = (&'static str, Edit, Option<&'static str>, &'static str);

fn ms(millis: u64) -> SimDuration {
    SimDuration::from_millis(millis)
}

fn us(micros: u64) -> SimDuration {
    SimDuration::from_micros(micros)
}

fn compile(text: &str) -> Result<CompiledScenario, ScenarioError> {
    Scenario::from_toml(text)?.compile()
}

/// Checks that `toml` is refused (by parsing or compiling, without a panic) with an error
/// naming `field` whose one-line message contains `message_part`; describes any mismatch.
pub(super) fn check_error(toml: &str, field: Option<&str>, message_part: &str) -> Result<(), String> {
    match std::panic::catch_unwind(|| compile(toml).map(|_| ())) {
        Err(_) => Err("panicked instead of returning an error".to_string()),
        Ok(Ok(())) => Err("was accepted".to_string()),
        Ok(Err(error)) => {
            let wanted = error.field.as_deref() == field && error.message.contains(message_part);
            if wanted && !error.message.contains('\n') {
                Ok(())
            } else {
                Err(format!("got field {:?}, message {:?}", error.field, error.message))
            }
        }
    }
}

/// Runs every case, then fails once listing every case that went wrong.
fn check_cases(cases: &[Case]) {
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|&(what, edit, field, message_part)| {
            check_error(&edit.apply(BASE), field, message_part)
                .err()
                .map(|problem| format!("{what}: wanted field {field:?} and a message with {message_part:?}; {problem}"))
        })
        .collect();
    assert!(failures.is_empty(), "{} case(s) failed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn the_edit_base_and_the_minimal_scenario_are_valid() {
    compile(BASE).expect("BASE compiles");
    compile(MINIMAL).expect("MINIMAL compiles");
}

#[test]
fn wordcount_parses_with_every_section_read() {
    let scenario = Scenario::from_toml(WORDCOUNT).expect("wordcount parses");
    assert_eq!(scenario.name, "wordcount");
    assert_eq!(scenario.description, "sources -> keyed count -> sink, parallelism > 1, with crashes");
    assert_eq!(scenario.workload.key_distribution, KeyDistributionName::Hot);
    assert_eq!((scenario.workload.hot_keys, scenario.workload.hot_percent), (Some(4), Some(30)));
    let names: Vec<&str> = scenario.vertices.iter().map(|vertex| vertex.name.as_str()).collect();
    assert_eq!(names, ["source", "count", "sink"]);
    assert_eq!(scenario.edges.len(), 2);
    assert_eq!(scenario.checkpoint.interval_ms, 20);
    assert_eq!(scenario.budget.events_max, 10_000_000);
    assert_eq!(scenario.faults, [FaultSection::crash_task("count[1]", 37), FaultSection::crash_task("source[0]", 81),]);
}

#[test]
fn wordcount_compiles_to_named_tasks_and_a_resolved_fault_plan() {
    let compiled = compile(WORDCOUNT).expect("wordcount compiles");
    let expected_names =
        ["source[0]", "source[1]", "count[0]", "count[1]", "count[2]", "sink[0]", "sink[1]", "sink[2]"];
    assert_eq!(compiled.task_names, expected_names);
    // count[1]: after the two source subtasks and count[0], so task 3.
    assert_eq!(compiled.task_names[3], "count[1]");
    let crash = |millis, task: TaskId| (SimTime::ZERO.after(ms(millis)), task);
    assert_eq!(resolved(&compiled), [crash(37, TaskId(3)), crash(81, TaskId(0))]);

    let world = &compiled.world;
    let kinds: Vec<(VertexKind, u32)> = world.graph.vertices.iter().map(|v| (v.kind, v.parallelism)).collect();
    assert_eq!(kinds, [(VertexKind::Source, 2), (VertexKind::KeyedCount, 3), (VertexKind::Sink, 3)]);
    let partitionings: Vec<Partitioning> = world.graph.edges.iter().map(|edge| edge.partitioning).collect();
    assert_eq!(partitionings, [Partitioning::Hash, Partitioning::Forward]);
    assert_eq!(world.graph.vertices[1].processing, us(15));
    assert_eq!(world.workload.key_distribution, KeyDistribution::Hot { hot_keys: 4, hot_percent: 30 });
    assert_eq!((world.workload.records_per_source_subtask, world.workload.key_count), (5000, 64));
    assert_eq!((world.checkpoint.interval, world.checkpoint.timeout), (ms(20), ms(500)));
    assert_eq!(
        (world.network.latency_min, world.network.latency_max, world.network.buffer_capacity),
        (us(50), us(800), 16)
    );
    assert_eq!((world.storage.write_latency_min, world.storage.write_latency_max), (us(500), us(4000)));
    assert_eq!(world.recovery.strategy, RestartStrategy::FixedDelay { delay: ms(10), max_attempts: None });
    assert_eq!(compiled.budget.events_max, 10_000_000);
    assert_eq!(compiled.budget.time_max, SimTime::ZERO.after(ms(60_000)));
}

#[test]
fn wordcount_survives_a_round_trip_through_toml() {
    let scenario = Scenario::from_toml(WORDCOUNT).expect("wordcount parses");
    let text = toml::to_string(&scenario).expect("a scenario serialises");
    assert_eq!(Scenario::from_toml(&text), Ok(scenario));
}

#[test]
fn defaults_apply_when_optional_sections_are_absent() {
    let scenario = Scenario::from_toml(MINIMAL).expect("the minimal scenario parses");
    assert_eq!(scenario.description, "");
    assert_eq!(scenario.checkpoint, CheckpointSection::default());
    assert_eq!(scenario.network, NetworkSection::default());
    assert_eq!(scenario.storage, StorageSection::default());
    assert_eq!(scenario.recovery, RecoverySection::default());
    assert_eq!(scenario.budget, BudgetSection::default());
    assert!(scenario.faults.is_empty());
    assert_eq!(scenario.workload.key_distribution, KeyDistributionName::Uniform);
    assert_eq!(
        (scenario.workload.hot_keys, scenario.workload.hot_percent, scenario.workload.value_max),
        (None, None, 100)
    );
    assert_eq!((scenario.vertices[0].max_parallelism, scenario.vertices[0].processing_us), (None, 10));

    let compiled = scenario.compile().expect("the minimal scenario compiles");
    let world = &compiled.world;
    assert_eq!(world.checkpoint.interval, ms(100));
    assert_eq!(world.checkpoint.every_source_records, None);
    assert_eq!(world.checkpoint.timeout, ms(10_000));
    assert_eq!(world.checkpoint.max_concurrent, 1);
    assert_eq!(
        (world.network.latency_min, world.network.latency_max, world.network.buffer_capacity),
        (us(100), us(1_000), 32)
    );
    assert_eq!((world.storage.write_latency_min, world.storage.write_latency_max), (ms(1), ms(10)));
    assert_eq!(world.recovery.strategy, RestartStrategy::FixedDelay { delay: ms(100), max_attempts: None });
    assert_eq!(compiled.budget.events_max, 100_000_000);
    assert_eq!(compiled.budget.time_max, SimTime::ZERO.after(ms(3_600_000)));
    assert!(world.faults.faults.is_empty());
    assert_eq!(world.workload.key_distribution, KeyDistribution::Uniform);
    assert_eq!(world.workload.value_max, 100);
    // Flink's rule: the next power of two of 1.5 × parallelism, at least 128.
    assert_eq!((world.graph.vertices[0].max_parallelism, world.graph.vertices[0].processing), (128, us(10)));
    assert_eq!(compiled.task_names, ["source[0]", "sink[0]"]);
}

#[test]
fn hot_distribution_defaults_to_one_key_at_half_the_records() {
    let text = Edit::Replace("keys = 8", "keys = 8\nkey_distribution = \"hot\"").apply(BASE);
    let compiled = compile(&text).expect("hot without its parameters compiles");
    assert_eq!(compiled.world.workload.key_distribution, KeyDistribution::Hot { hot_keys: 1, hot_percent: 50 });
}

#[test]
fn every_source_records_zero_means_never_and_otherwise_is_kept() {
    let never = compile(&Edit::Append("[checkpoint]\nevery_source_records = 0").apply(BASE)).expect("compiles");
    assert_eq!(never.world.checkpoint.every_source_records, None);
    let every = compile(&Edit::Append("[checkpoint]\nevery_source_records = 250").apply(BASE)).expect("compiles");
    assert_eq!(every.world.checkpoint.every_source_records, Some(250));
}

#[test]
fn faults_resolve_bare_names_and_are_sorted_by_time() {
    let text = Edit::Append("[[faults]]\nkind = \"crash-task\"\ntask = \"source\"\nat_ms = 2").apply(BASE);
    let compiled = compile(&text).expect("compiles");
    let crash = |millis, task: TaskId| (SimTime::ZERO.after(ms(millis)), task);
    // source has parallelism 1, so the bare name is source[0]; count[1] is task 2.
    assert_eq!(resolved(&compiled), [crash(2, TaskId(0)), crash(5, TaskId(2))]);
}

#[test]
fn values_at_the_limits_are_accepted() {
    let edits = [
        Edit::Replace("records_per_source_subtask = 100", "records_per_source_subtask = 100000000"),
        Edit::Replace("keys = 8", "keys = 8\nkey_distribution = \"hot\"\nhot_keys = 8\nhot_percent = 100"),
        Edit::Replace("keys = 8", "keys = 8\nkey_distribution = \"hot\"\nhot_keys = 1\nhot_percent = 0"),
        Edit::Replace("keys = 8", "keys = 1\nvalue_max = 65535"),
        Edit::Replace("parallelism = 1", "parallelism = 1\nmax_parallelism = 32768"),
        Edit::Replace(
            "kind = \"keyed-count\"\nparallelism = 2",
            "kind = \"keyed-count\"\nparallelism = 2\nmax_parallelism = 2",
        ),
        Edit::Append("[network]\nlatency_us_min = 7\nlatency_us_max = 7\nbuffer_capacity = 1"),
        Edit::Append("[storage]\nwrite_latency_us_min = 0\nwrite_latency_us_max = 0"),
        Edit::Append("[checkpoint]\ninterval_ms = 1000000000000\ntimeout_ms = 1\nmax_concurrent = 1"),
        Edit::Append("[budget]\nevents_max = 1\ntime_ms_max = 1000000000000"),
        Edit::Append("[recovery]\nrestart_delay_ms = 0"),
        Edit::Replace("at_ms = 5", "at_ms = 1000000000000"),
        Edit::Replace("count[1]", "count[0]"),
    ];
    for edit in edits {
        if let Err(error) = compile(&edit.apply(BASE)) {
            panic!("{edit:?} was refused: {error}");
        }
    }
}

#[rustfmt::skip]
const SCHEMA_CASES: &[Case] = &[
    ("unknown top-level field", Edit::Prepend("colour = \"blue\""), Some("colour"), "unknown field `colour`"),
    ("unknown field in [checkpoint]", Edit::Append("[checkpoint]\nintervl_ms = 5"), Some("checkpoint.intervl_ms"), "unknown field `intervl_ms`"),
    ("unknown field in a vertex", Edit::Replace("parallelism = 1", "parallelism = 1\nparalelism = 1"), Some("vertices[0].paralelism"), "unknown field `paralelism`"),
    ("unknown section", Edit::Append("[checkpoints]\ninterval_ms = 5"), Some("checkpoints"), "unknown field `checkpoints`"),
    ("wrong type", Edit::Replace("parallelism = 1", "parallelism = \"one\""), Some("vertices[0].parallelism"), "invalid type: string \"one\", expected u32"),
    ("float for an integer", Edit::Replace("keys = 8", "keys = 8.5"), Some("workload.keys"), "invalid type: floating point"),
    ("negative count", Edit::Replace("keys = 8", "keys = -1"), Some("workload.keys"), "expected u64"),
    ("parallelism beyond u32", Edit::Replace("parallelism = 1", "parallelism = 4294967296"), Some("vertices[0].parallelism"), "expected u32"),
    ("unknown vertex kind", Edit::Replace("kind = \"sink\"", "kind = \"snk\""), Some("vertices[2].kind"), "unknown variant `snk`"),
    ("unknown partitioning", Edit::Replace("partitioning = \"hash\"", "partitioning = \"hashed\""), Some("edges[0].partitioning"), "unknown variant `hashed`"),
    ("unknown key distribution", Edit::Replace("keys = 8", "keys = 8\nkey_distribution = \"zipf\""), Some("workload.key_distribution"), "unknown variant `zipf`"),
    ("missing required field", Edit::Replace("keys = 8\n", ""), Some("workload"), "missing field `keys`"),
    ("missing required section", Edit::Replace("[workload]\nrecords_per_source_subtask = 100\nkeys = 8\n", ""), Some("workload"), "a job needs a [workload] section"),
    ("TOML syntax error", Edit::Replace("keys = 8", "keys = = 8"), None, "line 5: "),
    ("duplicate key", Edit::Replace("keys = 8", "keys = 8\nkeys = 9"), None, "line 6: "),
    ("unterminated string", Edit::Replace("name = \"sink\"", "name = \"sink"), None, "line 18: "),
    ("unknown fault kind", Edit::Replace("kind = \"crash-task\"", "kind = \"crash-tusk\""), Some("faults[0].kind"), "unknown variant `crash-tusk`"),
    ("unknown field in a fault", Edit::Replace("at_ms = 5", "at_ms = 5\nwhen_ms = 3"), Some("faults[0].when_ms"), "unknown field `when_ms`"),
    ("wrong type in a fault", Edit::Replace("at_ms = 5", "at_ms = -5"), Some("faults[0].at_ms"), "expected u64"),
];

#[test]
fn schema_errors_name_their_field() {
    check_cases(SCHEMA_CASES);
}

#[rustfmt::skip]
const GRAPH_CASES: &[Case] = &[
    ("zero parallelism", Edit::Replace("kind = \"keyed-count\"\nparallelism = 2", "kind = \"keyed-count\"\nparallelism = 0"), Some("vertices[1].parallelism"), "must lie in 1..=32768"),
    ("duplicate vertex name", Edit::Replace("name = \"sink\"", "name = \"count\""), Some("vertices[2].name"), "`count` is empty or not unique"),
    ("empty vertex name", Edit::Replace("name = \"sink\"", "name = \"\""), Some("vertices[2].name"), "empty"),
    ("max_parallelism below parallelism", Edit::Replace( "kind = \"keyed-count\"\nparallelism = 2", "kind = \"keyed-count\"\nparallelism = 2\nmax_parallelism = 1", ), Some("vertices[1].max_parallelism"), "between parallelism and 32768"),
    ("max_parallelism above 32768", Edit::Replace("parallelism = 1", "parallelism = 1\nmax_parallelism = 32769"), Some("vertices[0].max_parallelism"), "between parallelism and 32768"),
    ("parallelism above 32768", Edit::Replace("parallelism = 1", "parallelism = 40000"), Some("vertices[0].parallelism"), "32768"),
    ("parallelism near u32::MAX", Edit::Replace("parallelism = 1", "parallelism = 4294967295"), Some("vertices[0].parallelism"), "32768"),
    ("processing_us too large", Edit::Replace("parallelism = 1", "parallelism = 1\nprocessing_us = 1000000000001"), Some("vertices[0].processing_us"), "too large"),
    ("edge to a vertex that does not exist", Edit::Replace("to = \"sink\"", "to = \"snk\""), Some("edges[1].to"), "no vertex named `snk` (vertices: source, count, sink)"),
    ("edge from a vertex that does not exist", Edit::Replace("from = \"source\"", "from = \"src\""), Some("edges[0].from"), "no vertex named `src`"),
    ("a cycle", Edit::Append("[[edges]]\nfrom = \"sink\"\nto = \"count\"\npartitioning = \"hash\""), Some("edges[2]"), "closes a cycle"),
    ("a self-loop", Edit::Append("[[edges]]\nfrom = \"sink\"\nto = \"sink\"\npartitioning = \"forward\""), Some("edges[2]"), "sink is connected to itself; only bank accounts may be"),
    ("a cycle", Edit::Append("[[edges]]\nfrom = \"sink\"\nto = \"count\"\npartitioning = \"hash\""), Some("edges[2]"), "closes a cycle"),
    ("an account vertex", Edit::Replace("kind = \"sink\"", "kind = \"account\""), Some("vertices[2].kind"), "accounts come from a [bank] section"),
    ("direct partitioning", Edit::Replace("partitioning = \"forward\"", "partitioning = \"direct\""), Some("edges[1].partitioning"), "direct connects the accounts of a [bank]"),
    ("a script without a bank", Edit::Append("[[script]]\nat_ms = 1\nkind = \"snapshot\"\naccount = 0"), Some("script"), "scripted events drive a [bank]"),
    ("a source with an input", Edit::Append("[[edges]]\nfrom = \"sink\"\nto = \"source\"\npartitioning = \"rebalance\""), Some("vertices[0]"), "a source cannot have input edges"),
    ("an operator without an input", Edit::Replace("to = \"sink\"", "to = \"count\""), Some("vertices[2]"), "has no input edge"),
    ("forward with unequal parallelism", Edit::Replace("kind = \"sink\"\nparallelism = 2", "kind = \"sink\"\nparallelism = 3"), Some("edges[1]"), "forward needs equal parallelism, but count has 2 and sink has 3"),
    ("keyed-count fed by a non-hash edge", Edit::Replace("partitioning = \"hash\"", "partitioning = \"rebalance\""), Some("edges[0]"), "count is keyed, so its input edges must be hash-partitioned"),
    ("an upsert sink fed by a source", Edit::Append("[[vertices]]\nname = \"table\"\nkind = \"upsert-sink\"\nparallelism = 1\n\n[[edges]]\nfrom = \"source\"\nto = \"table\"\npartitioning = \"forward\""), Some("vertices[3]"), "an upsert sink's inputs must come from keyed counts"),
    ("a zero transaction timeout", Edit::Append("[external]\ntransaction_timeout_ms = 0"), Some("external.transaction_timeout_ms"), "must be at least 1"),
    ("an external fault without an external sink", Edit::Append("[[faults]]\nkind = \"external-unavailable\"\nat_ms = 1\nduration_ms = 2"), Some("faults[1].kind"), "external-unavailable needs a job with an external sink"),
];

#[test]
fn graph_errors_name_their_field() {
    check_cases(GRAPH_CASES);
    let empty = "name = \"empty\"\nvertices = []\nedges = []\n\n[workload]\nrecords_per_source_subtask = 1\nkeys = 1\n";
    assert_eq!(check_error(empty, Some("vertices"), "at least one vertex"), Ok(()));
}

#[rustfmt::skip]
const FAULT_CASES: &[Case] = &[
    ("a fault naming a vertex that does not exist", Edit::Replace("count[1]", "counter[1]"), Some("faults[0].task"), "no vertex named `counter` (vertices: source, count, sink)"),
    ("a fault with an out-of-range subtask", Edit::Replace("count[1]", "count[2]"), Some("faults[0].task"), "`count` has 2 subtasks, so [2] does not exist"),
    ("a malformed task reference", Edit::Replace("count[1]", "count[x]"), Some("faults[0].task"), "`count[x]` is not of the form name[subtask]"),
    ("an unclosed task reference", Edit::Replace("count[1]", "count[1"), Some("faults[0].task"), "not of the form name[subtask]"),
    ("an empty subtask", Edit::Replace("count[1]", "count[]"), Some("faults[0].task"), "not of the form name[subtask]"),
    ("a negative subtask", Edit::Replace("count[1]", "count[-1]"), Some("faults[0].task"), "not of the form name[subtask]"),
    ("an empty task reference", Edit::Replace("count[1]", ""), Some("faults[0].task"), "no vertex named ``"),
    ("a bare name for a vertex of parallelism 2", Edit::Replace("count[1]", "count"), Some("faults[0].task"), "`count`"),
    ("at_ms too large", Edit::Replace("at_ms = 5", "at_ms = 1000000000001"), Some("faults[0].at_ms"), "too large"),
    ("the second fault is named by its index", Edit::Append("[[faults]]\nkind = \"crash-task\"\ntask = \"sink[9]\"\nat_ms = 1"), Some("faults[1].task"), "[9] does not exist"),
];

#[test]
fn fault_errors_name_their_field() {
    check_cases(FAULT_CASES);
}

#[rustfmt::skip]
const RANGE_CASES: &[Case] = &[
    ("records 0", Edit::Replace("records_per_source_subtask = 100", "records_per_source_subtask = 0"), Some("workload.records_per_source_subtask"), "must lie in 1..=100000000"),
    ("records past the limit", Edit::Replace("records_per_source_subtask = 100", "records_per_source_subtask = 100000001"), Some("workload.records_per_source_subtask"), "must lie in 1..=100000000"),
    ("too many channels once expanded", Edit::Append("[[vertices]]\nname = \"wide\"\nkind = \"sink\"\nparallelism = 32768\n\n[[vertices]]\nname = \"wider\"\nkind = \"sink\"\nparallelism = 32768\n\n[[edges]]\nfrom = \"count\"\nto = \"wide\"\npartitioning = \"rebalance\"\n\n[[edges]]\nfrom = \"wide\"\nto = \"wider\"\npartitioning = \"rebalance\""), Some("edges"), "channels; at most 1000000"),
    ("keys past the limit", Edit::Replace("keys = 8", "keys = 1000000000000000"), Some("workload.keys"), "must be at most 16777216"),
    ("keys 0", Edit::Replace("keys = 8", "keys = 0"), Some("workload.keys"), "must be at least 1"),
    ("value_max too large", Edit::Replace("keys = 8", "keys = 8\nvalue_max = 65536"), Some("workload.value_max"), "at most 65535"),
    ("hot_percent > 100", Edit::Replace("keys = 8", "keys = 8\nkey_distribution = \"hot\"\nhot_percent = 101"), Some("workload.hot_percent"), "must be at most 100"),
    ("hot_keys 0", Edit::Replace("keys = 8", "keys = 8\nkey_distribution = \"hot\"\nhot_keys = 0"), Some("workload.hot_keys"), "must lie in 1..=keys"),
    ("hot_keys > keys", Edit::Replace("keys = 8", "keys = 8\nkey_distribution = \"hot\"\nhot_keys = 9"), Some("workload.hot_keys"), "must lie in 1..=keys"),
    ("hot_keys with uniform distribution", Edit::Replace("keys = 8", "keys = 8\nhot_keys = 2"), Some("workload.hot_keys"), "apply only with key_distribution = \"hot\""),
    ("hot_percent with uniform distribution", Edit::Replace("keys = 8", "keys = 8\nhot_percent = 20"), Some("workload.hot_percent"), "apply only with key_distribution = \"hot\""),
    ("interval 0", Edit::Append("[checkpoint]\ninterval_ms = 0"), Some("checkpoint.interval_ms"), "must be at least 1"),
    ("timeout 0", Edit::Append("[checkpoint]\ntimeout_ms = 0"), Some("checkpoint.timeout_ms"), "must be at least 1"),
    ("max_concurrent 0", Edit::Append("[checkpoint]\nmax_concurrent = 0"), Some("checkpoint.max_concurrent"), "must be at least 1"),
    ("a duration of u64::MAX", Edit::Append("[checkpoint]\ninterval_ms = 18446744073709551615"), Some("checkpoint.interval_ms"), "18446744073709551615 is too large (at most 1000000000000)"),
    ("a duration one past the limit", Edit::Append("[checkpoint]\ntimeout_ms = 1000000000001"), Some("checkpoint.timeout_ms"), "too large"),
    ("latency min > max", Edit::Append("[network]\nlatency_us_min = 10\nlatency_us_max = 5"), Some("network.latency_us_min"), "must not exceed network.latency_us_max"),
    ("latency min above the default max", Edit::Append("[network]\nlatency_us_min = 5000"), Some("network.latency_us_min"), "must not exceed network.latency_us_max"),
    ("latency too large", Edit::Append("[network]\nlatency_us_max = 1000000000001"), Some("network.latency_us_max"), "too large"),
    ("buffer_capacity 0", Edit::Append("[network]\nbuffer_capacity = 0"), Some("network.buffer_capacity"), "must be at least 1"),
    ("write latency min > max", Edit::Append("[storage]\nwrite_latency_us_min = 10\nwrite_latency_us_max = 5"), Some("storage.write_latency_us_min"), "must not exceed storage.write_latency_us_max"),
    ("restart delay too large", Edit::Append("[recovery]\nrestart_delay_ms = 1000000000001"), Some("recovery.restart_delay_ms"), "too large"),
    ("a multiplier below 1x", Edit::Append("[recovery]\nstrategy = \"exponential-delay\"\nbackoff_multiplier_percent = 50"), Some("recovery.backoff_multiplier_percent"), "must lie in 100..=10000"),
    ("jitter above 100%", Edit::Append("[recovery]\nstrategy = \"exponential-delay\"\njitter_percent = 101"), Some("recovery.jitter_percent"), "at most 100"),
    ("a max backoff below the first", Edit::Append("[recovery]\nstrategy = \"exponential-delay\"\nrestart_delay_ms = 50\nmax_backoff_ms = 10"), Some("recovery.max_backoff_ms"), "at least restart_delay_ms"),
    ("an unknown strategy", Edit::Append("[recovery]\nstrategy = \"linear\""), Some("recovery.strategy"), "unknown variant `linear`"),
    ("no checkpoint retained", Edit::Append("[checkpoint]\nretained = 0"), Some("checkpoint.retained"), "must lie in 1..=1000"),
    ("a placement of the wrong length", Edit::Append("[cluster]\nworkers = 2\nplacement = [0, 1]"), Some("cluster.placement"), "places 2 tasks, but the job has 5"),
    ("a placement on no worker", Edit::Append("[cluster]\nworkers = 2\nplacement = [0, 1, 0, 1, 2]"), Some("cluster.placement[4]"), "no worker 2"),
    ("no workers", Edit::Append("[cluster]\nworkers = 0"), Some("cluster.workers"), "must lie in 1..=10000"),
    ("a crash of no worker", Edit::Append("[[faults]]\nkind = \"crash-worker\"\nworker = 7\nat_ms = 1"), Some("faults[1].worker"), "no worker 7: the cluster has 2"),
    ("a partition within one worker", Edit::Append("[[faults]]\nkind = \"partition\"\nworker = 1\nto_worker = 1\nduration_ms = 5\nat_ms = 1"), Some("faults[1].to_worker"), "two different workers"),
    ("a stray field for a kind", Edit::Append("[[faults]]\nkind = \"crash-coordinator\"\nduration_ms = 5\nat_ms = 1"), Some("faults[1].duration_ms"), "does not apply to a crash-coordinator fault"),
    ("a phase on a window fault", Edit::Append("[[faults]]\nkind = \"slow-storage\"\nfactor = 3\nduration_ms = 5\nafter = \"completed\"\ncheckpoint = 1\nat_ms = 1"), Some("faults[1].after"), "only crashes wait"),
    ("a swarm with no fault phase", Edit::Append("[swarm]\nfault_phase_ms = 0"), Some("swarm.fault_phase_ms"), "must be at least 1"),
    ("events_max 0", Edit::Append("[budget]\nevents_max = 0"), Some("budget.events_max"), "must be at least 1"),
    ("time_ms_max too large", Edit::Append("[budget]\ntime_ms_max = 1000000000001"), Some("budget.time_ms_max"), "too large"),
];

#[test]
fn range_errors_name_their_field() {
    check_cases(RANGE_CASES);
}

#[test]
fn errors_render_as_one_line_naming_source_and_field() {
    let error = compile(&Edit::Replace("to = \"sink\"", "to = \"snk\"").apply(BASE)).expect_err("refused");
    assert_eq!(
        error.one_line("sims/x.toml"),
        "sims/x.toml: edges[1].to: no vertex named `snk` (vertices: source, count, sink)"
    );
    assert_eq!(error.to_string(), "scenario: edges[1].to: no vertex named `snk` (vertices: source, count, sink)");
    let whole = ScenarioError { field: None, message: "line 3: oops".to_string() };
    assert_eq!(whole.one_line("a.toml"), "a.toml: line 3: oops");
}

#[test]
fn from_path_reads_a_file_and_reports_a_missing_one() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sims/wordcount.toml");
    assert_eq!(Scenario::from_path(&path), Scenario::from_toml(WORDCOUNT));
    let dir = tempfile::tempdir().expect("a temp dir");
    let error = Scenario::from_path(&dir.path().join("absent.toml")).expect_err("no such file");
    assert_eq!(error.field, None);
    assert!(error.message.starts_with("cannot read the file: "), "{}", error.message);
    assert!(!error.message.contains('\n'));
}

/// The fault plan as (time, crashed task id) pairs.
fn resolved(compiled: &CompiledScenario) -> Vec<(SimTime, TaskId)> {
    compiled
        .world
        .faults
        .faults
        .iter()
        .map(|scheduled| match scheduled.fault {
            Fault::CrashTask { task } => (scheduled.at, compiled.world.graph.task_id(task).expect("a valid task")),
            other => panic!("only crashes in this scenario: {other:?}"),
        })
        .collect()
}

#[test]
fn sources_holding_too_many_records_in_all_are_refused() {
    let text = BASE.replacen("records_per_source_subtask = 100", "records_per_source_subtask = 100000000", 1).replacen(
        "kind = \"source\"\nparallelism = 1",
        "kind = \"source\"\nparallelism = 11",
        1,
    );
    let checked = check_error(&text, Some("workload.records_per_source_subtask"), "at most 1000000000");
    assert_eq!(checked, Ok(()));
}
