//! Scenario unit tests of `[[rescale]]`: a valid entry compiles (with task names that tell
//! the stages' subtasks apart, and faults that may name a subtask only the rescale deploys),
//! and each validation rule refuses with one line naming its entry and field; and the same
//! for `[[savepoint]]` entries and a rescale from a savepoint.

use super::tests::{BASE, Edit, check_error};
use super::*;
use crate::dataflow::graph::TaskRef;
use crate::faults::Fault;
use crate::kernel::ids::VertexId;
use crate::kernel::time::{SimDuration, SimTime};

/// `BASE` with the count → sink edge hash-partitioned, so `count` may change parallelism.
fn hashed() -> String {
    Edit::Replace("partitioning = \"forward\"", "partitioning = \"hash\"").apply(BASE)
}

/// One `[[rescale]]` entry.
fn entry(at_ms: u64, vertex: &str, parallelism: u32) -> String {
    format!("[[rescale]]\nat_ms = {at_ms}\nvertex = \"{vertex}\"\nparallelism = {parallelism}\n")
}

/// `base` with `entries` appended.
fn with(base: &str, entries: &[String]) -> String {
    format!("{base}\n{}", entries.concat())
}

fn compile(text: &str) -> Result<CompiledScenario, ScenarioError> {
    Scenario::from_toml(text)?.compile()
}

#[test]
fn a_valid_rescale_compiles_into_the_world_and_names_each_stages_subtasks_apart() {
    let compiled = compile(&with(&hashed(), &[entry(10, "count", 3)])).expect("compiles");
    let rescales = &compiled.world.rescales;
    assert_eq!(rescales.len(), 1);
    assert_eq!(rescales[0].at, SimTime::ZERO.after(SimDuration::from_millis(10)));
    assert_eq!((rescales[0].vertex, rescales[0].parallelism), (VertexId(1), 3));
    assert_eq!(compiled.world.graph.vertices[1].parallelism, 2, "the graph is the job as first deployed");
    let names =
        ["source[0]", "count[0/2]", "count[1/2]", "sink[0]", "sink[1]", "count[0/3]", "count[1/3]", "count[2/3]"];
    assert_eq!(compiled.task_names, names, "stage 0's tasks, then the subtasks the rescale deploys");
}

#[test]
fn a_scenario_without_rescales_keeps_plain_task_names() {
    let compiled = compile(&hashed()).expect("compiles");
    assert!(compiled.world.rescales.is_empty());
    assert_eq!(compiled.task_names, ["source[0]", "count[0]", "count[1]", "sink[0]", "sink[1]"]);
}

#[test]
fn rescales_in_time_order_compile_each_on_top_of_the_last() {
    let compiled =
        compile(&with(&hashed(), &[entry(10, "count", 3), entry(20, "count", 1)])).expect("two rescales compile");
    let parallelisms: Vec<u32> = compiled.world.rescales.iter().map(|rescale| rescale.parallelism).collect();
    assert_eq!(parallelisms, [3, 1]);
    assert_eq!(compiled.task_names.len(), 5 + 3 + 1);
    assert_eq!(compiled.task_names[8], "count[0/1]");
}

#[test]
fn a_fault_may_name_a_subtask_that_exists_only_after_the_rescale() {
    let crash = "[[faults]]\nkind = \"crash-task\"\ntask = \"count[2]\"\nat_ms = 20\n";
    let compiled = compile(&with(&hashed(), &[entry(10, "count", 3), crash.to_string()])).expect("compiles");
    let third = TaskRef { vertex: VertexId(1), subtask: 2 };
    let crashes: Vec<Fault> = compiled.world.faults.faults.iter().map(|scheduled| scheduled.fault).collect();
    assert!(crashes.contains(&Fault::CrashTask { task: third }), "{crashes:?}");
    let beyond = "[[faults]]\nkind = \"crash-task\"\ntask = \"count[3]\"\nat_ms = 20\n";
    let text = with(&hashed(), &[entry(10, "count", 3), beyond.to_string()]);
    check_error(&text, Some("faults[1].task"), "[3] does not exist").expect("no stage has count[3]");
    let unrescaled = with(&hashed(), &[crash.to_string()]);
    check_error(&unrescaled, Some("faults[1].task"), "[2] does not exist").expect("count[2] needs the rescale");
}

/// Each bad rescale: what it tests, the scenario, the field its error must name, a part of
/// its message.
fn bad_rescales() -> Vec<(&'static str, String, &'static str, &'static str)> {
    let at_most_four = Edit::Replace("kind = \"keyed-count\"", "kind = \"keyed-count\"\nmax_parallelism = 4");
    let broadcast = Edit::Replace("partitioning = \"forward\"", "partitioning = \"broadcast\"").apply(BASE);
    vec![
        ("an unknown vertex", with(&hashed(), &[entry(10, "counter", 3)]), "rescale[0].vertex", "`counter`"),
        ("a source", with(&hashed(), &[entry(10, "source", 2)]), "rescale[0].vertex", "only keyed vertices"),
        ("a sink", with(&hashed(), &[entry(10, "sink", 3)]), "rescale[0].vertex", "only keyed vertices"),
        ("a broadcast edge", with(&broadcast, &[entry(10, "count", 3)]), "rescale[0].vertex", "a broadcast edge"),
        ("parallelism 0", with(&hashed(), &[entry(10, "count", 0)]), "rescale[0].parallelism", "between 1 and"),
        (
            "above the default max parallelism",
            with(&hashed(), &[entry(10, "count", 129)]),
            "rescale[0].parallelism",
            "max parallelism, 128",
        ),
        (
            "above a declared max parallelism",
            with(&at_most_four.apply(&hashed()), &[entry(10, "count", 5)]),
            "rescale[0].parallelism",
            "max parallelism, 4",
        ),
        (
            "a forward edge left with unequal ends",
            with(BASE, &[entry(10, "count", 3)]),
            "rescale[0].parallelism",
            "forward needs equal parallelism, but count has 3 and sink has 2",
        ),
        ("at time 0", with(&hashed(), &[entry(0, "count", 3)]), "rescale[0].at_ms", "must be after 0"),
        (
            "a time too large",
            with(&hashed(), &[entry(1_000_000_000_001, "count", 3)]),
            "rescale[0].at_ms",
            "is too large",
        ),
        (
            "at the same time as the entry before",
            with(&hashed(), &[entry(10, "count", 3), entry(10, "count", 1)]),
            "rescale[1].at_ms",
            "after the entry before",
        ),
        (
            "before the entry before",
            with(&hashed(), &[entry(10, "count", 3), entry(5, "count", 1)]),
            "rescale[1].at_ms",
            "after the entry before",
        ),
        (
            "a bad second entry",
            with(&hashed(), &[entry(10, "count", 3), entry(20, "count", 0)]),
            "rescale[1].parallelism",
            "between 1 and",
        ),
        (
            "an unknown field",
            with(&hashed(), &[entry(10, "count", 3).replace("at_ms", "when_ms")]),
            "rescale[0].when_ms",
            "unknown field `when_ms`",
        ),
    ]
}

#[test]
fn each_rescale_rule_names_its_entry_and_field() {
    let failures: Vec<String> = bad_rescales()
        .iter()
        .filter_map(|(what, text, field, part)| {
            check_error(text, Some(field), part)
                .err()
                .map(|problem| format!("{what}: wanted field {field} and a message with {part:?}; {problem}"))
        })
        .collect();
    assert!(failures.is_empty(), "{} case(s) failed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn rescales_whose_stages_expand_past_the_channel_limit_are_refused() {
    // 40 sources fan out to a keyed count rescaled to 30,000 subtasks: 1,200,040 channels
    // over the two stages, which share one numbering.
    let text = r#"name = "wide"
[workload]
records_per_source_subtask = 10
keys = 8
[[vertices]]
name = "source"
kind = "source"
parallelism = 40
[[vertices]]
name = "count"
kind = "keyed-count"
parallelism = 1
max_parallelism = 32768
[[edges]]
from = "source"
to = "count"
partitioning = "hash"
[[rescale]]
at_ms = 10
vertex = "count"
parallelism = 30000
"#;
    let scenario: Scenario = toml::from_str(text).expect("parses");
    let error = scenario.compile().expect_err("too many channels");
    assert_eq!(error.field.as_deref(), Some("rescale[0].parallelism"), "{error:?}");
    assert!(error.message.contains("channels in all"), "{error:?}");
}

#[test]
fn savepoint_entries_compile_and_each_rule_names_its_field() {
    let text = format!("{BASE}\n[[savepoint]]\nat_ms = 10\n\n[[savepoint]]\nat_ms = 20\nstop = true\n");
    let compiled = Scenario::from_toml(&text).and_then(|scenario| scenario.compile()).expect("valid");
    let stops: Vec<bool> = compiled.world.savepoints.iter().map(|request| request.stop).collect();
    assert_eq!(stops, [false, true]);
    let out_of_order = format!("{BASE}\n[[savepoint]]\nat_ms = 20\n\n[[savepoint]]\nat_ms = 20\n");
    check_error(&out_of_order, Some("savepoint[1].at_ms"), "after the entry before").unwrap();
    let unknown = format!("{BASE}\n[[savepoint]]\nat_ms = 20\ndrain = true\n");
    assert!(Scenario::from_toml(&unknown).is_err(), "an unknown field is refused");
    let from = format!("{BASE}\n[[rescale]]\nat_ms = 10\nvertex = \"count\"\nparallelism = 2\nfrom = \"savepoint\"\n");
    let compiled = Scenario::from_toml(&from).and_then(|scenario| scenario.compile()).expect("valid");
    assert!(compiled.world.rescales[0].from_savepoint);
}

#[test]
fn a_bank_refuses_savepoints() {
    let mut text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/sims/bank.toml")).expect("shipped");
    text.push_str("\n[[savepoint]]\nat_ms = 10\n");
    check_error(&text, Some("savepoint"), "always aligned").unwrap();
}
