//! Tests of the exports: the Chrome trace follows the trace-event format, JSON lines hold
//! every fact.

use super::{chrome_trace, json_lines};
use crate::kernel::ids::{ChannelId, CheckpointId, RecordId, SplitId, TaskId};
use crate::kernel::time::SimTime;
use crate::kernel::trace::{Fact, MessageTag, ObjectName, TimedFact};
use serde_json::Value;
use std::collections::BTreeMap;

fn at(micros: u64, fact: Fact) -> TimedFact {
    TimedFact { time: SimTime::from_nanos(micros * 1_000), fact }
}

fn facts() -> Vec<TimedFact> {
    let channel = ChannelId::from_index(0);
    let (source, sink, one) = (TaskId::from_index(0), TaskId::from_index(1), CheckpointId(1));
    let record = MessageTag::Record { record: RecordId { split: SplitId(0), offset: 0 }, key: 1 };
    vec![
        at(0, Fact::MessageSent { channel, sequence: 0, message: record }),
        at(5, Fact::MessageArrived { channel, sequence: 0 }),
        at(10, Fact::CheckpointTriggered { checkpoint: one }),
        at(10, Fact::StateCaptured { task: source, checkpoint: one, digest: 0, bytes: 8 }),
        at(10, Fact::MessageSent { channel, sequence: 1, message: MessageTag::Barrier { checkpoint: one } }),
        at(12, Fact::MessageArrived { channel, sequence: 1 }),
        at(12, Fact::InputBlocked { task: sink, channel, checkpoint: one }),
        at(13, Fact::InputsUnblocked { task: sink }),
        at(20, Fact::ObjectDurable { object: ObjectName::TaskState { checkpoint: one, task: source }, bytes: 8 }),
        at(30, Fact::CheckpointCompleted { checkpoint: one }),
        at(40, Fact::TaskCrashed { task: sink }),
    ]
}

/// A flow event's name and category.
type FlowKey = (String, String);

/// Checks `trace` against the trace-event format (JSON Object Format): every event has a
/// known phase, integer pid and tid, a time (but metadata), complete events a duration,
/// and every flow start a finish with the same id, name and category.
pub(crate) fn assert_trace_event_format(trace: &Value) {
    let events = trace["traceEvents"].as_array().expect("traceEvents is an array");
    let mut flows: BTreeMap<u64, (Option<FlowKey>, Option<FlowKey>)> = BTreeMap::new();
    for event in events {
        let phase = event["ph"].as_str().expect("ph is a string");
        assert!(["M", "X", "i", "s", "f"].contains(&phase), "unknown phase {phase}");
        assert!(event["pid"].is_u64() && event["tid"].is_u64(), "{event}");
        assert!(event["name"].is_string(), "{event}");
        if phase == "M" {
            assert!(event["args"].is_object());
            continue;
        }
        assert!(event["ts"].as_f64().is_some_and(|ts| ts >= 0.0), "{event}");
        if phase == "X" {
            assert!(event["dur"].as_f64().is_some_and(|dur| dur >= 0.0), "{event}");
        }
        if phase == "s" || phase == "f" {
            let key = (
                event["name"].as_str().unwrap_or_default().to_string(),
                event["cat"].as_str().unwrap_or_default().to_string(),
            );
            let entry = flows.entry(event["id"].as_u64().expect("a flow id")).or_default();
            if phase == "s" { entry.0 = Some(key) } else { entry.1 = Some(key) }
        }
    }
    for (id, (start, finish)) in flows {
        assert!(start.is_some() && start == finish, "flow {id} is not a matched start and finish");
    }
}

#[test]
fn the_chrome_trace_has_tracks_spans_instants_and_matched_flows() {
    let ends = [(TaskId::from_index(0), TaskId::from_index(1))];
    let names = vec!["source[0]".to_string(), "sink[0]".to_string()];
    let trace = chrome_trace(&facts(), &ends, &names, "two tasks");
    assert_trace_event_format(&trace.json);
    let events = trace.json["traceEvents"].as_array().expect("events");
    let named = |name: &str| events.iter().filter(|event| event["name"] == name).count();
    assert_eq!(named("thread_name"), 3, "two tasks and the coordinator");
    assert_eq!(named("checkpoint 1 completed"), 1);
    assert_eq!(named("aligning checkpoint 1"), 1);
    assert_eq!(named("upload checkpoint 1 (8 bytes)"), 1);
    assert_eq!(named("crash"), 1);
    assert_eq!(events.iter().filter(|event| event["ph"] == "s").count(), 2, "a record and a barrier");
    assert_eq!(trace.data_flows_left_out, 0);
}

#[test]
fn json_lines_hold_every_fact_in_order_with_its_time() {
    let text = json_lines(&facts());
    let lines: Vec<Value> = text.lines().map(|line| serde_json::from_str(line).expect("a JSON line")).collect();
    assert_eq!(lines.len(), facts().len());
    assert_eq!(lines[1]["time_ns"], 5_000);
    assert!(lines[2]["fact"]["CheckpointTriggered"].is_object());
    assert!(text.starts_with("{\"time_ns\":0,"));
}
