//! The diagram's content, read off facts: lanes, arrows, marks, spans, cuts.

use crate::kernel::ids::{CheckpointId, TaskId};
use crate::kernel::time::SimTime;
use crate::kernel::trace::{Fact, MessageTag, TimedFact};
use std::collections::BTreeMap;

/// What to draw of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DrawOptions {
    /// Only what happened at or after this time.
    pub from: Option<SimTime>,
    /// Only what happened at or before this time.
    pub to: Option<SimTime>,
    /// Only these tasks' lanes (all when `None`), in this order.
    pub tasks: Option<Vec<TaskId>>,
    /// The drawing's width in pixels.
    pub width: u32,
}

/// One task's lane.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lane {
    /// The task.
    pub task: TaskId,
    /// Its name, `vertex[subtask]`.
    pub name: String,
}

/// What an arrow carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArrowKind {
    /// `count` data messages (records, transfers) sent on one channel within one bucket.
    Data {
        /// How many data messages the arrow stands for.
        count: u64,
    },
    /// The barrier (or marker) of a checkpoint.
    Barrier {
        /// The checkpoint's id.
        checkpoint: CheckpointId,
    },
}

/// A message from one lane to another, from its send to its arrival.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arrow {
    /// The sender.
    pub from: TaskId,
    /// The receiver.
    pub to: TaskId,
    /// When it was sent (the first of a bundle).
    pub sent: SimTime,
    /// When it arrived (the first of a bundle).
    pub arrived: SimTime,
    /// What it carries.
    pub kind: ArrowKind,
}

/// What a mark on a lane stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkKind {
    /// The task captured its state for a checkpoint.
    Snapshot {
        /// The checkpoint's id.
        checkpoint: CheckpointId,
    },
    /// The task crashed.
    Crash,
    /// The task loaded state (a restore), from a checkpoint or from scratch.
    Restore {
        /// The checkpoint restored; `None` for a start from scratch.
        checkpoint: Option<CheckpointId>,
    },
    /// The task finished.
    Finished,
    /// The task heard that a checkpoint completed.
    Notified {
        /// The checkpoint's id.
        checkpoint: CheckpointId,
    },
    /// A sink pre-committed a transaction for a checkpoint.
    PreCommitted {
        /// The checkpoint's id.
        checkpoint: CheckpointId,
        /// The transaction's number among its sink's transactions (`TransactionId::sequence`).
        sequence: u64,
    },
    /// The external system committed a sink's transaction.
    Committed {
        /// The transaction's number among its sink's transactions (`TransactionId::sequence`).
        sequence: u64,
    },
    /// The external system aborted a sink's transaction.
    Aborted {
        /// The transaction's number among its sink's transactions (`TransactionId::sequence`).
        sequence: u64,
    },
}

/// A mark on a lane.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark {
    /// The lane's task.
    pub task: TaskId,
    /// When.
    pub time: SimTime,
    /// What.
    pub kind: MarkKind,
}

/// An interval a task spent with a blocked input (aligning barriers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// The task.
    pub task: TaskId,
    /// From.
    pub start: SimTime,
    /// To.
    pub end: SimTime,
    /// The checkpoint it aligned for.
    pub checkpoint: CheckpointId,
}

/// A completed checkpoint's cut: each task's snapshot of it, joined.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cut {
    /// The checkpoint.
    pub checkpoint: CheckpointId,
    /// When it completed.
    pub completed: SimTime,
    /// Each task's snapshot time, in lane order.
    pub points: Vec<(TaskId, SimTime)>,
}

/// Something that happened to the whole job (a restart, a coordinator crash, a rescale).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobMark {
    /// When.
    pub time: SimTime,
    /// What, in a few words.
    pub label: String,
}

/// The violation a run ended with, where the diagram should point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violated {
    /// When it was detected.
    pub time: SimTime,
    /// The invariant and its detail.
    pub message: String,
    /// The task the detecting fact names, if any.
    pub task: Option<TaskId>,
}

/// Everything a diagram shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Timeline {
    /// The lanes, top to bottom.
    pub lanes: Vec<Lane>,
    /// The time window shown.
    pub start: SimTime,
    /// Its end.
    pub end: SimTime,
    /// Messages.
    pub arrows: Vec<Arrow>,
    /// Marks on lanes.
    pub marks: Vec<Mark>,
    /// Blocked intervals.
    pub spans: Vec<Span>,
    /// Completed checkpoints' cuts.
    pub cuts: Vec<Cut>,
    /// Job-wide events.
    pub job_marks: Vec<JobMark>,
    /// The violation, if the run had one within the window.
    pub violation: Option<Violated>,
}

/// A data bundle being gathered: (first sent, first arrived, count).
type Bundle = (SimTime, Option<SimTime>, u64);

/// Buckets across the width: data messages of one channel within a bucket are one arrow.
const PIXELS_PER_BUCKET: u64 = 16;

impl Timeline {
    /// The timeline of `facts` for a job whose channel `c` joins `channel_ends[c]` and whose
    /// task `t` is named `task_names[t]`, with `violation` marked, within `options`.
    pub fn of(
        facts: &[TimedFact],
        channel_ends: &[(TaskId, TaskId)],
        task_names: &[String],
        violation: Option<Violated>,
        options: &DrawOptions,
    ) -> Timeline {
        let last = facts.last().map_or(SimTime::ZERO, |fact| fact.time);
        let start = options.from.unwrap_or(SimTime::ZERO);
        let end = options.to.unwrap_or(last).max(start);
        let lanes: Vec<Lane> = match &options.tasks {
            Some(tasks) => tasks.clone(),
            None => (0..task_names.len()).map(TaskId::from_index).collect(),
        }
        .into_iter()
        .map(|task| Lane { task, name: task_names.get(task.index()).cloned().unwrap_or_else(|| task.to_string()) })
        .collect();
        let mut reader = Reader::new(channel_ends, start, end, options.width);
        for timed in facts.iter().filter(|timed| timed.time <= end) {
            reader.read(timed.time, &timed.fact);
        }
        let shown = |task: TaskId| lanes.iter().any(|lane| lane.task == task);
        let mut timeline = reader.finish(start, end);
        timeline.arrows.retain(|arrow| shown(arrow.from) || shown(arrow.to));
        timeline.marks.retain(|mark| shown(mark.task));
        timeline.spans.retain(|span| shown(span.task));
        for cut in &mut timeline.cuts {
            cut.points.retain(|&(task, _)| shown(task));
            cut.points.sort_by_key(|&(task, _)| lanes.iter().position(|lane| lane.task == task));
        }
        timeline.violation = violation.filter(|violated| violated.time >= start && violated.time <= end);
        Timeline { lanes, ..timeline }
    }
}

/// Reads facts in order into the timeline's parts.
struct Reader<'a> {
    channel_ends: &'a [(TaskId, TaskId)],
    start: SimTime,
    bucket_nanos: u64,
    in_flight: BTreeMap<(u32, u64), (SimTime, MessageTag)>,
    bundles: BTreeMap<(u32, u64), Bundle>,
    snapshots: BTreeMap<CheckpointId, Vec<(TaskId, SimTime)>>,
    blocked: BTreeMap<TaskId, (SimTime, CheckpointId)>,
    timeline: Timeline,
}

impl<'a> Reader<'a> {
    fn new(channel_ends: &'a [(TaskId, TaskId)], start: SimTime, end: SimTime, width: u32) -> Reader<'a> {
        let buckets = (u64::from(width.max(100)) / PIXELS_PER_BUCKET).max(1);
        let bucket_nanos = (end.since(start).as_nanos() / buckets).max(1);
        Reader {
            channel_ends,
            start,
            bucket_nanos,
            in_flight: BTreeMap::new(),
            bundles: BTreeMap::new(),
            snapshots: BTreeMap::new(),
            blocked: BTreeMap::new(),
            timeline: Timeline::default(),
        }
    }

    fn read(&mut self, time: SimTime, fact: &Fact) {
        let visible = time >= self.start;
        match *fact {
            Fact::MessageSent { channel, sequence, message } => {
                self.in_flight.insert((channel.0, sequence), (time, message));
            }
            Fact::MessageArrived { channel, sequence } => self.arrived(channel.0, sequence, time),
            Fact::StateCaptured { task, checkpoint, .. } => {
                self.snapshots.entry(checkpoint).or_default().push((task, time));
                self.mark(visible, task, time, MarkKind::Snapshot { checkpoint });
            }
            Fact::InputBlocked { task, checkpoint, .. } => {
                self.blocked.entry(task).or_insert((time, checkpoint));
            }
            Fact::InputsUnblocked { task } => self.unblocked(task, time),
            Fact::TaskCrashed { task } => {
                self.unblocked(task, time);
                self.mark(visible, task, time, MarkKind::Crash);
            }
            Fact::TaskRestored { task, checkpoint, .. } => {
                self.mark(visible, task, time, MarkKind::Restore { checkpoint })
            }
            Fact::TaskFinished { task } => self.mark(visible, task, time, MarkKind::Finished),
            Fact::CompletionNotified { task, checkpoint } => {
                self.mark(visible, task, time, MarkKind::Notified { checkpoint })
            }
            Fact::TransactionPrepared { txn, checkpoint } => {
                self.mark(visible, txn.sink, time, MarkKind::PreCommitted { checkpoint, sequence: txn.sequence });
            }
            Fact::TransactionCommitted { txn, .. } => {
                self.mark(visible, txn.sink, time, MarkKind::Committed { sequence: txn.sequence });
            }
            Fact::TransactionAborted { txn, .. } => {
                self.mark(visible, txn.sink, time, MarkKind::Aborted { sequence: txn.sequence })
            }
            Fact::CheckpointCompleted { checkpoint } if visible => {
                let points = self.snapshots.get(&checkpoint).cloned().unwrap_or_default();
                self.timeline.cuts.push(Cut { checkpoint, completed: time, points });
            }
            _ => self.job_event(visible, time, fact),
        }
    }

    fn job_event(&mut self, visible: bool, time: SimTime, fact: &Fact) {
        let label = match *fact {
            Fact::JobRestarted { attempt, checkpoint } => match checkpoint {
                Some(checkpoint) => format!("restart {} from {checkpoint}", attempt.0),
                None => format!("restart {} from scratch", attempt.0),
            },
            Fact::RegionRestarted { region, checkpoint, .. } => match checkpoint {
                Some(checkpoint) => format!("region {region} restarts from {checkpoint}"),
                None => format!("region {region} restarts from scratch"),
            },
            Fact::CoordinatorCrashed => "coordinator crash".to_string(),
            Fact::JobRescaled { stage } => format!("rescale to stage {stage}"),
            Fact::WorkerCrashed { worker } => format!("worker {worker} crash"),
            _ => return,
        };
        if visible {
            self.timeline.job_marks.push(JobMark { time, label });
        }
    }

    fn mark(&mut self, visible: bool, task: TaskId, time: SimTime, kind: MarkKind) {
        if visible {
            self.timeline.marks.push(Mark { task, time, kind });
        }
    }

    fn unblocked(&mut self, task: TaskId, time: SimTime) {
        if let Some((start, checkpoint)) = self.blocked.remove(&task)
            && time >= self.start
        {
            self.timeline.spans.push(Span { task, start: start.max(self.start), end: time, checkpoint });
        }
    }

    fn arrived(&mut self, channel: u32, sequence: u64, time: SimTime) {
        let Some((sent, message)) = self.in_flight.remove(&(channel, sequence)) else { return };
        let Some(&(from, to)) = self.channel_ends.get(channel as usize) else { return };
        if time < self.start {
            return;
        }
        match message {
            MessageTag::Barrier { checkpoint } => {
                self.timeline.arrows.push(Arrow {
                    from,
                    to,
                    sent,
                    arrived: time,
                    kind: ArrowKind::Barrier { checkpoint },
                });
            }
            message if message.is_data() => {
                let bucket = sent.since(SimTime::ZERO).as_nanos() / self.bucket_nanos;
                let bundle = self.bundles.entry((channel, bucket)).or_insert((sent, None, 0));
                bundle.1 = Some(bundle.1.unwrap_or(time));
                bundle.2 += 1;
            }
            _ => {}
        }
    }

    fn finish(mut self, start: SimTime, end: SimTime) -> Timeline {
        for (task, (since, checkpoint)) in std::mem::take(&mut self.blocked) {
            self.timeline.spans.push(Span { task, start: since.max(start), end, checkpoint });
        }
        for ((channel, _), (sent, arrived, count)) in self.bundles {
            let (from, to) = self.channel_ends[channel as usize];
            let arrived = arrived.unwrap_or(sent);
            self.timeline.arrows.push(Arrow { from, to, sent, arrived, kind: ArrowKind::Data { count } });
        }
        Timeline { start, end, ..self.timeline }
    }
}
