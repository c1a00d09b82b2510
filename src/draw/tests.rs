//! Tests of the timeline read off facts, and of its drawing.

use super::{ArrowKind, DrawOptions, MarkKind, Timeline, Violated, render_html, render_svg};
use crate::kernel::ids::{ChannelId, CheckpointId, RecordId, SplitId, TaskId};
use crate::kernel::time::SimTime;
use crate::kernel::trace::{Fact, MessageTag, TimedFact};

fn at(micros: u64, fact: Fact) -> TimedFact {
    TimedFact { time: SimTime::from_nanos(micros * 1_000), fact }
}

fn task(index: usize) -> TaskId {
    TaskId::from_index(index)
}

/// Two tasks joined by channel 0: three records, a barrier, both snapshots, a completion,
/// a blocked interval, a crash and a restore.
fn facts() -> Vec<TimedFact> {
    let channel = ChannelId::from_index(0);
    let record = |offset| MessageTag::Record { record: RecordId { split: SplitId(0), offset }, key: 1 };
    let one = CheckpointId(1);
    vec![
        at(0, Fact::MessageSent { channel, sequence: 0, message: record(0) }),
        at(1, Fact::MessageSent { channel, sequence: 1, message: record(1) }),
        at(2, Fact::MessageArrived { channel, sequence: 0 }),
        at(3, Fact::MessageArrived { channel, sequence: 1 }),
        at(400, Fact::StateCaptured { task: task(0), checkpoint: one, digest: 0, bytes: 1 }),
        at(400, Fact::MessageSent { channel, sequence: 2, message: MessageTag::Barrier { checkpoint: one } }),
        at(450, Fact::MessageArrived { channel, sequence: 2 }),
        at(450, Fact::InputBlocked { task: task(1), channel, checkpoint: one }),
        at(460, Fact::InputsUnblocked { task: task(1) }),
        at(460, Fact::StateCaptured { task: task(1), checkpoint: one, digest: 0, bytes: 1 }),
        at(500, Fact::CheckpointCompleted { checkpoint: one }),
        at(700, Fact::TaskCrashed { task: task(1) }),
        at(800, Fact::TaskRestored { task: task(1), checkpoint: Some(one), digest: 0 }),
    ]
}

fn names() -> Vec<String> {
    vec!["source[0]".to_string(), "sink[0]".to_string()]
}

fn options() -> DrawOptions {
    DrawOptions { width: 1000, ..DrawOptions::default() }
}

#[test]
fn the_timeline_holds_bundled_records_a_barrier_a_cut_and_the_recovery() {
    let ends = [(task(0), task(1))];
    let timeline = Timeline::of(&facts(), &ends, &names(), None, &options());
    assert_eq!(timeline.lanes.len(), 2);
    let data: Vec<u64> = timeline
        .arrows
        .iter()
        .filter_map(|arrow| match arrow.kind {
            ArrowKind::Data { count } => Some(count),
            ArrowKind::Barrier { .. } => None,
        })
        .collect();
    assert_eq!(data, vec![2], "two records sent within one bucket are one arrow");
    assert!(timeline.arrows.iter().any(|arrow| arrow.kind == ArrowKind::Barrier { checkpoint: CheckpointId(1) }));
    assert_eq!(timeline.cuts.len(), 1);
    assert_eq!(timeline.cuts[0].points.len(), 2, "both snapshots joined");
    assert_eq!(timeline.spans.len(), 1);
    let kinds: Vec<MarkKind> = timeline.marks.iter().map(|mark| mark.kind).collect();
    assert!(
        kinds.contains(&MarkKind::Crash) && kinds.contains(&MarkKind::Restore { checkpoint: Some(CheckpointId(1)) })
    );
}

#[test]
fn a_window_and_a_task_subset_leave_out_the_rest() {
    let ends = [(task(0), task(1))];
    let window = DrawOptions { from: Some(SimTime::from_nanos(600_000)), tasks: Some(vec![task(1)]), ..options() };
    let timeline = Timeline::of(&facts(), &ends, &names(), None, &window);
    assert_eq!(timeline.lanes.len(), 1);
    assert!(timeline.cuts.is_empty() && timeline.spans.is_empty());
    assert_eq!(timeline.marks.len(), 2, "the crash and the restore");
}

#[test]
fn the_drawing_shows_each_part_and_the_violation_and_is_the_same_bytes_every_time() {
    let ends = [(task(0), task(1))];
    let violation =
        Violated { time: SimTime::from_nanos(700_000), message: "x <y> & z".to_string(), task: Some(task(1)) };
    let timeline = Timeline::of(&facts(), &ends, &names(), Some(violation), &options());
    let svg = render_svg(&timeline, "two tasks", 1000);
    for class in ["lane", "data", "barrier", "snapshot", "cut", "blocked", "crash", "restore", "violation"] {
        assert!(svg.contains(&format!("class=\"{class}\"")), "no {class} in the drawing");
    }
    assert!(svg.contains("x &lt;y&gt; &amp; z"), "text is escaped");
    assert_eq!(svg, render_svg(&timeline, "two tasks", 1000));
    let html = render_html(&timeline, "two tasks", 1000);
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains(&svg));
}

#[test]
fn fifty_lanes_stay_legible() {
    let names: Vec<String> = (0..50).map(|index| format!("task[{index}]")).collect();
    let timeline = Timeline::of(&facts(), &[(task(0), task(1))], &names, None, &options());
    let svg = render_svg(&timeline, "fifty tasks", 1600);
    assert_eq!(svg.matches("class=\"lane\"").count(), 50);
    let ys: Vec<u64> = svg
        .lines()
        .filter(|line| line.starts_with("<line class=\"lane\""))
        .filter_map(|line| line.split("y1=\"").nth(1)?.split('"').next()?.parse().ok())
        .collect();
    assert!(ys.windows(2).all(|pair| pair[1] - pair[0] >= 14), "lanes at least 14 px apart (11 px text)");
}
