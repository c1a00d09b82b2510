//! Scenario unit tests of the partitioned log and event-time windows: a valid log job, and
//! each validation rule naming its field.

use super::tests::{BASE, Edit, check_error};
use super::*;
use crate::dataflow::graph::VertexKind;

/// A small valid log job: log-source(2) -hash-> window(2) -forward-> two-phase-commit sink(2).
const LOG_BASE: &str = r#"name = "log"
[workload]
keys = 8
[log]
partitions = 3
records_per_partition = 50
[[log.new_partitions]]
at_ms = 4
count = 1
[[vertices]]
name = "source"
kind = "log-source"
parallelism = 2
[[vertices]]
name = "window"
kind = "tumbling-window"
parallelism = 2
window_ms = 5
[[vertices]]
name = "sink"
kind = "two-phase-commit-sink"
parallelism = 2
[[edges]]
from = "source"
to = "window"
partitioning = "hash"
[[edges]]
from = "window"
to = "sink"
partitioning = "forward"
"#;

fn edited(from: &str, to: &str) -> String {
    assert_eq!(LOG_BASE.matches(from).count(), 1, "test bug: `{from}` must occur once");
    LOG_BASE.replacen(from, to, 1)
}

#[test]
fn a_log_job_compiles_to_its_log_and_window() {
    let compiled = Scenario::from_toml(LOG_BASE).and_then(|scenario| scenario.compile()).expect("compiles");
    let log = compiled.world.log.as_ref().expect("a log");
    assert_eq!((log.initial_partitions, log.partition_count(), log.records_per_partition), (3, 4, 50));
    assert_eq!(log.watermark_interval_us, 10_000, "the default watermark interval is 10 ms");
    let window = &compiled.world.graph.vertices[1];
    assert_eq!((window.kind, window.window_us), (VertexKind::TumblingWindow, 5_000));
}

#[test]
fn each_log_and_window_rule_names_its_field() {
    let cases: Vec<(&str, String, Option<&str>, &str)> = vec![
        (
            "a log nobody reads",
            edited("kind = \"log-source\"", "kind = \"source\"")
                .replacen("keys = 8", "records_per_source_subtask = 10\nkeys = 8", 1),
            Some("log"),
            "no log-source",
        ),
        (
            "a log-source without a log",
            edited("[log]\npartitions = 3\nrecords_per_partition = 50\n[[log.new_partitions]]\nat_ms = 4\ncount = 1\n", ""),
            Some("log"),
            "needs a [log] section",
        ),
        ("no partitions", edited("partitions = 3", "partitions = 0"), Some("log.partitions"), "at least 1"),
        (
            "empty partitions",
            edited("records_per_partition = 50", "records_per_partition = 0"),
            Some("log.records_per_partition"),
            "must lie in",
        ),
        (
            "no discovery interval",
            edited("records_per_partition = 50", "records_per_partition = 50\ndiscovery_interval_ms = 0"),
            Some("log.discovery_interval_ms"),
            "at least 1",
        ),
        ("an empty growth", edited("count = 1", "count = 0"), Some("log.new_partitions[0].count"), "at least 1"),
        (
            "growth out of order",
            edited("count = 1\n", "count = 1\n[[log.new_partitions]]\nat_ms = 3\ncount = 1\n"),
            Some("log.new_partitions[1].at_ms"),
            "after the entry before",
        ),
        ("a window without a size", edited("window_ms = 5\n", ""), Some("vertices[1].window_ms"), "needs its size"),
        ("a zero window", edited("window_ms = 5", "window_ms = 0"), Some("vertices[1].window_ms"), "at least 1"),
        (
            "windows a result id cannot number",
            edited("records_per_partition = 50", "records_per_partition = 3000000"),
            Some("vertices[1].window_ms"),
            "at most 1048576",
        ),
        (
            "a size on a sink",
            edited("kind = \"two-phase-commit-sink\"", "kind = \"two-phase-commit-sink\"\nwindow_ms = 5"),
            Some("vertices[2].window_ms"),
            "only a tumbling-window",
        ),
        (
            "two log-sources",
            edited(
                "[[vertices]]\nname = \"window\"",
                "[[vertices]]\nname = \"other\"\nkind = \"log-source\"\nparallelism = 1\n[[vertices]]\nname = \"window\"",
            )
            .replacen("to = \"sink\"\npartitioning = \"forward\"", "to = \"sink\"\npartitioning = \"forward\"\n[[edges]]\nfrom = \"other\"\nto = \"window\"\npartitioning = \"hash\"", 1),
            Some("vertices"),
            "at most one log-source",
        ),
    ];
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(what, text, field, part)| {
            check_error(text, *field, part).err().map(|problem| format!("{what}: {problem}"))
        })
        .collect();
    assert!(failures.is_empty(), "{} case(s) failed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn a_window_must_read_straight_from_sources() {
    let fed_by_a_count = "[[vertices]]\nname = \"window\"\nkind = \"tumbling-window\"\nparallelism = 1\nwindow_ms = 5\n\
                          [[edges]]\nfrom = \"count\"\nto = \"window\"\npartitioning = \"hash\"";
    let text = Edit::Append(fed_by_a_count).apply(BASE);
    check_error(&text, Some("vertices[3]"), "reads straight from sources").expect("refused");
}
