//! Chrome trace-event JSON (the "JSON Object Format": `{"traceEvents": [...]}`): one
//! process for the job, a track (thread) per task and one for the coordinator; checkpoints,
//! alignment and state uploads as complete (`X`) spans; crashes, restores and restarts as
//! instants (`i`); messages as flow events (`s` → `f`) between small send and receive
//! slices, barriers always and records up to `DATA_FLOWS_MAX`. Times in microseconds.

use crate::kernel::ids::{CheckpointId, TaskId};
use crate::kernel::time::SimTime;
use crate::kernel::trace::{Fact, MessageTag, ObjectName, TimedFact};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Records drawn as flows at most (barriers are always drawn): a long run's every record
/// would make a trace no viewer opens.
pub const DATA_FLOWS_MAX: usize = 20_000;

/// The coordinator's track.
const COORDINATOR_TID: u64 = 1_000_000;

/// An export, and what it left out.
#[derive(Clone, Debug, PartialEq)]
pub struct ChromeTrace {
    /// The trace as a JSON value.
    pub json: Value,
    /// Records not drawn as flows (past `DATA_FLOWS_MAX`).
    pub data_flows_left_out: usize,
}

fn micros(time: SimTime) -> f64 {
    time.since(SimTime::ZERO).as_nanos() as f64 / 1_000.0
}

fn tid(task: TaskId) -> u64 {
    task.index() as u64
}

/// Builds the trace events from facts.
struct Builder<'a> {
    channel_ends: &'a [(TaskId, TaskId)],
    events: Vec<Value>,
    in_flight: BTreeMap<(u32, u64), (SimTime, MessageTag)>,
    triggered: BTreeMap<CheckpointId, SimTime>,
    blocked: BTreeMap<TaskId, (SimTime, CheckpointId)>,
    uploading: BTreeMap<(TaskId, CheckpointId), SimTime>,
    flows: u64,
    data_flows: usize,
    data_flows_left_out: usize,
}

/// The Chrome trace of `facts`: task `t` is named `task_names[t]`, channel `c` joins
/// `channel_ends[c]`.
pub fn chrome_trace(
    facts: &[TimedFact],
    channel_ends: &[(TaskId, TaskId)],
    task_names: &[String],
    title: &str,
) -> ChromeTrace {
    let mut builder = Builder {
        channel_ends,
        events: Vec::new(),
        in_flight: BTreeMap::new(),
        triggered: BTreeMap::new(),
        blocked: BTreeMap::new(),
        uploading: BTreeMap::new(),
        flows: 0,
        data_flows: 0,
        data_flows_left_out: 0,
    };
    builder.events.push(json!({"ph": "M", "name": "process_name", "pid": 1, "tid": 0, "args": {"name": title}}));
    for (index, name) in task_names.iter().enumerate() {
        builder.events.push(json!({"ph": "M", "name": "thread_name", "pid": 1, "tid": index, "args": {"name": name}}));
        builder.events.push(
            json!({"ph": "M", "name": "thread_sort_index", "pid": 1, "tid": index, "args": {"sort_index": index}}),
        );
    }
    builder.events.push(
        json!({"ph": "M", "name": "thread_name", "pid": 1, "tid": COORDINATOR_TID, "args": {"name": "coordinator"}}),
    );
    for timed in facts {
        builder.observe(timed.time, &timed.fact);
    }
    let left_out = builder.data_flows_left_out;
    let json = json!({
        "traceEvents": builder.events,
        "displayTimeUnit": "ms",
        "otherData": {"source": "snapsim", "title": title, "record_flows_left_out": left_out},
    });
    ChromeTrace { json, data_flows_left_out: left_out }
}

impl Builder<'_> {
    fn span(&mut self, tid: u64, name: String, category: &str, start: SimTime, end: SimTime) {
        let duration = end.since(start).as_nanos() as f64 / 1_000.0;
        self.events.push(json!({"ph": "X", "name": name, "cat": category, "pid": 1, "tid": tid, "ts": micros(start), "dur": duration}));
    }

    fn instant(&mut self, tid: u64, name: String, category: &str, time: SimTime) {
        self.events.push(
            json!({"ph": "i", "s": "t", "name": name, "cat": category, "pid": 1, "tid": tid, "ts": micros(time)}),
        );
    }

    fn observe(&mut self, time: SimTime, fact: &Fact) {
        match *fact {
            Fact::MessageSent { channel, sequence, message } => {
                self.in_flight.insert((channel.0, sequence), (time, message));
            }
            Fact::MessageArrived { channel, sequence } => self.arrived(channel.0, sequence, time),
            Fact::CheckpointTriggered { checkpoint } => {
                self.triggered.insert(checkpoint, time);
            }
            Fact::CheckpointCompleted { checkpoint } => self.checkpoint_over(checkpoint, time, "completed"),
            Fact::CheckpointAborted { checkpoint, reason } => {
                self.checkpoint_over(checkpoint, time, &format!("aborted: {reason:?}"))
            }
            Fact::InputBlocked { task, checkpoint, .. } => {
                self.blocked.entry(task).or_insert((time, checkpoint));
            }
            Fact::InputsUnblocked { task } => {
                if let Some((start, checkpoint)) = self.blocked.remove(&task) {
                    self.span(tid(task), format!("aligning {checkpoint}"), "alignment", start, time);
                }
            }
            Fact::StateCaptured { task, checkpoint, bytes, .. } => {
                self.uploading.insert((task, checkpoint), time);
                self.instant(tid(task), format!("snapshot {checkpoint} ({bytes} bytes)"), "snapshot", time);
            }
            Fact::ObjectDurable { object: ObjectName::TaskState { checkpoint, task }, bytes } => {
                if let Some(start) = self.uploading.remove(&(task, checkpoint)) {
                    self.span(tid(task), format!("upload {checkpoint} ({bytes} bytes)"), "storage", start, time);
                }
            }
            Fact::TaskCrashed { task } => {
                self.blocked.remove(&task);
                self.instant(tid(task), "crash".to_string(), "failure", time);
            }
            Fact::TaskRestored { task, checkpoint, .. } => {
                let from = checkpoint.map_or("scratch".to_string(), |checkpoint| checkpoint.to_string());
                self.instant(tid(task), format!("restored from {from}"), "recovery", time);
            }
            Fact::JobRestarted { attempt, .. } => {
                self.instant(COORDINATOR_TID, format!("job restart {}", attempt.0), "recovery", time)
            }
            Fact::CoordinatorCrashed => self.instant(COORDINATOR_TID, "coordinator crash".to_string(), "failure", time),
            _ => {}
        }
    }

    fn checkpoint_over(&mut self, checkpoint: CheckpointId, time: SimTime, how: &str) {
        if let Some(start) = self.triggered.remove(&checkpoint) {
            self.span(COORDINATOR_TID, format!("{checkpoint} {how}"), "checkpoint", start, time);
        }
    }

    fn arrived(&mut self, channel: u32, sequence: u64, time: SimTime) {
        let Some((sent, message)) = self.in_flight.remove(&(channel, sequence)) else { return };
        let Some(&(from, to)) = self.channel_ends.get(channel as usize) else { return };
        let (name, category) = match message {
            MessageTag::Barrier { checkpoint } => (format!("barrier {checkpoint}"), "barrier"),
            message if message.is_data() => {
                if self.data_flows >= DATA_FLOWS_MAX {
                    self.data_flows_left_out += 1;
                    return;
                }
                self.data_flows += 1;
                ("record".to_string(), "record")
            }
            _ => return,
        };
        self.flows += 1;
        let id = self.flows;
        // A flow binds to slices: a one-microsecond send slice and receive slice hold it.
        self.events.push(json!({"ph": "X", "name": format!("send {name}"), "cat": category, "pid": 1, "tid": tid(from), "ts": micros(sent), "dur": 1.0}));
        self.events.push(
            json!({"ph": "s", "id": id, "name": name, "cat": category, "pid": 1, "tid": tid(from), "ts": micros(sent)}),
        );
        self.events.push(json!({"ph": "X", "name": format!("receive {name}"), "cat": category, "pid": 1, "tid": tid(to), "ts": micros(time), "dur": 1.0}));
        self.events.push(json!({"ph": "f", "bp": "e", "id": id, "name": name, "cat": category, "pid": 1, "tid": tid(to), "ts": micros(time)}));
    }
}
