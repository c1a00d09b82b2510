//! The timeline as a self-contained SVG (or an HTML page around it): no scripts, no fonts
//! or files fetched, so it opens in any browser. Integer pixel arithmetic throughout, so
//! the same run always draws the same bytes.

use super::timeline::{ArrowKind, MarkKind, Timeline};
use crate::kernel::ids::CheckpointId;
use crate::kernel::time::SimTime;
use std::fmt::Write;

const LEFT: u64 = 150;
const RIGHT: u64 = 30;
const TOP: u64 = 70;
const BOTTOM: u64 = 110;

/// Colours of checkpoints, by id in turn.
const PALETTE: [&str; 8] = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"];

fn colour(checkpoint: CheckpointId) -> &'static str {
    PALETTE[(checkpoint.0 % PALETTE.len() as u64) as usize]
}

/// Text safe inside SVG and HTML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Where things go on the page.
struct Layout {
    width: u64,
    lane_height: u64,
    start: SimTime,
    span_nanos: u64,
    plot_width: u64,
}

impl Layout {
    fn of(timeline: &Timeline, width: u32) -> Layout {
        let lanes = timeline.lanes.len().max(1) as u64;
        let width = u64::from(width.max(400));
        Layout {
            width,
            lane_height: (720 / lanes).clamp(14, 40),
            start: timeline.start,
            span_nanos: timeline.end.since(timeline.start).as_nanos().max(1),
            plot_width: width - LEFT - RIGHT,
        }
    }

    fn x(&self, time: SimTime) -> u64 {
        let offset = u128::from(time.max(self.start).since(self.start).as_nanos().min(self.span_nanos));
        LEFT + u64::try_from(offset * u128::from(self.plot_width) / u128::from(self.span_nanos)).expect("fits")
    }

    fn y(&self, lane: usize) -> u64 {
        TOP + lane as u64 * self.lane_height + self.lane_height / 2
    }

    fn height(&self, lanes: usize) -> u64 {
        TOP + lanes as u64 * self.lane_height + BOTTOM
    }
}

/// The diagram as SVG, `title` at its top.
pub fn render_svg(timeline: &Timeline, title: &str, width: u32) -> String {
    let layout = Layout::of(timeline, width);
    let lane_of = |task| timeline.lanes.iter().position(|lane| lane.task == task);
    let height = layout.height(timeline.lanes.len());
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{height}\" viewBox=\"0 0 {} {height}\" \
         font-family=\"sans-serif\" font-size=\"11\">",
        layout.width, layout.width
    );
    out += "<defs><marker id=\"head\" viewBox=\"0 0 6 6\" refX=\"6\" refY=\"3\" markerWidth=\"5\" markerHeight=\"5\" \
            orient=\"auto\"><path d=\"M0,0 L6,3 L0,6 z\" fill=\"context-stroke\"/></marker></defs>\n";
    let _ = writeln!(out, "<text class=\"title\" x=\"10\" y=\"18\" font-size=\"14\">{}</text>", escape(title));
    draw_axis(&mut out, timeline, &layout);
    draw_lanes(&mut out, timeline, &layout);
    for span in &timeline.spans {
        let Some(lane) = lane_of(span.task) else { continue };
        let (x, end) = (layout.x(span.start), layout.x(span.end));
        let _ = writeln!(
            out,
            "<rect class=\"blocked\" x=\"{x}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#bbb\" opacity=\"0.45\">\
             <title>aligning for {}</title></rect>",
            layout.y(lane) - layout.lane_height / 3,
            (end - x).max(1),
            (layout.lane_height * 2 / 3).max(2),
            span.checkpoint
        );
    }
    draw_arrows(&mut out, timeline, &layout);
    draw_cuts(&mut out, timeline, &layout);
    draw_marks(&mut out, timeline, &layout);
    draw_job_marks(&mut out, timeline, &layout);
    draw_violation(&mut out, timeline, &layout);
    draw_legend(&mut out, height);
    out += "</svg>\n";
    out
}

fn draw_axis(out: &mut String, timeline: &Timeline, layout: &Layout) {
    // A step of 1, 2 or 5 times a power of ten nanoseconds: about ten ticks.
    let target = (layout.span_nanos / 10).max(1);
    let mut step = 1u64;
    while step * 5 < target {
        step *= 10;
    }
    let step = [step, step * 2, step * 5].into_iter().find(|&step| step >= target).unwrap_or(step * 10);
    let first = timeline.start.since(SimTime::ZERO).as_nanos().div_ceil(step) * step;
    let bottom = layout.height(timeline.lanes.len()) - BOTTOM + 4;
    let mut tick = first;
    while tick <= timeline.end.since(SimTime::ZERO).as_nanos() {
        let x = layout.x(SimTime::from_nanos(tick));
        let label = format_millis(tick);
        let _ = writeln!(
            out,
            "<line class=\"tick\" x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{bottom}\" stroke=\"#eee\"/>\
             <text x=\"{x}\" y=\"{}\" text-anchor=\"middle\" fill=\"#666\">{label}</text>",
            TOP - 4,
            bottom + 12
        );
        tick += step;
    }
}

fn format_millis(nanos: u64) -> String {
    let micros = nanos / 1_000;
    if micros.is_multiple_of(1_000) {
        format!("{} ms", micros / 1_000)
    } else {
        format!("{}.{:03} ms", micros / 1_000, micros % 1_000)
    }
}

fn draw_lanes(out: &mut String, timeline: &Timeline, layout: &Layout) {
    for (index, lane) in timeline.lanes.iter().enumerate() {
        let y = layout.y(index);
        let _ = writeln!(
            out,
            "<line class=\"lane\" x1=\"{LEFT}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"#444\" stroke-width=\"0.8\"/>\
             <text class=\"lane-name\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            layout.width - RIGHT,
            LEFT - 8,
            y + 4,
            escape(&lane.name)
        );
    }
}

fn draw_arrows(out: &mut String, timeline: &Timeline, layout: &Layout) {
    let lane_of = |task| timeline.lanes.iter().position(|lane| lane.task == task);
    for arrow in &timeline.arrows {
        let (Some(from), Some(to)) = (lane_of(arrow.from), lane_of(arrow.to)) else { continue };
        let (x1, y1, x2, y2) = (layout.x(arrow.sent), layout.y(from), layout.x(arrow.arrived), layout.y(to));
        match arrow.kind {
            ArrowKind::Data { count } => {
                let title = if count == 1 { "1 record".to_string() } else { format!("{count} records") };
                let _ = writeln!(
                    out,
                    "<line class=\"data\" x1=\"{x1}\" y1=\"{y1}\" x2=\"{x2}\" y2=\"{y2}\" stroke=\"#9a9a9a\" \
                     stroke-width=\"0.6\" marker-end=\"url(#head)\"><title>{title}</title></line>"
                );
                if count > 1 {
                    let _ = writeln!(
                        out,
                        "<text class=\"bundle\" x=\"{}\" y=\"{}\" font-size=\"8\" fill=\"#777\">{count}</text>",
                        (x1 + x2) / 2 + 2,
                        (y1 + y2) / 2
                    );
                }
            }
            ArrowKind::Barrier { checkpoint } => {
                let _ = writeln!(
                    out,
                    "<line class=\"barrier\" x1=\"{x1}\" y1=\"{y1}\" x2=\"{x2}\" y2=\"{y2}\" stroke=\"{}\" \
                     stroke-width=\"2.2\" marker-end=\"url(#head)\"><title>barrier of {checkpoint}</title></line>",
                    colour(checkpoint)
                );
            }
        }
    }
}

fn draw_cuts(out: &mut String, timeline: &Timeline, layout: &Layout) {
    let lane_of = |task| timeline.lanes.iter().position(|lane| lane.task == task);
    for cut in &timeline.cuts {
        let points: Vec<String> = cut
            .points
            .iter()
            .filter_map(|&(task, time)| Some(format!("{},{}", layout.x(time), layout.y(lane_of(task)?))))
            .collect();
        if points.is_empty() {
            continue;
        }
        let label_x = layout.x(cut.completed);
        let _ = writeln!(
            out,
            "<polyline class=\"cut\" points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\" \
             stroke-dasharray=\"5 3\"><title>cut of {} (completed at {})</title></polyline>\
             <text class=\"cut-label\" x=\"{label_x}\" y=\"{}\" fill=\"{colour}\" text-anchor=\"middle\">{}</text>",
            points.join(" "),
            cut.checkpoint,
            format_millis(cut.completed.since(SimTime::ZERO).as_nanos()),
            TOP - 18,
            cut.checkpoint,
            colour = colour(cut.checkpoint)
        );
    }
}

fn draw_marks(out: &mut String, timeline: &Timeline, layout: &Layout) {
    let lane_of = |task| timeline.lanes.iter().position(|lane| lane.task == task);
    for mark in &timeline.marks {
        let Some(lane) = lane_of(mark.task) else { continue };
        let (x, y) = (layout.x(mark.time), layout.y(lane));
        let element = match mark.kind {
            MarkKind::Snapshot { checkpoint } => format!(
                "<circle class=\"snapshot\" cx=\"{x}\" cy=\"{y}\" r=\"4\" fill=\"{}\" stroke=\"#000\" \
                 stroke-width=\"0.5\"><title>snapshot for {checkpoint}</title></circle>",
                colour(checkpoint)
            ),
            MarkKind::Crash => format!(
                "<path class=\"crash\" d=\"M{},{} l10,10 m0,-10 l-10,10\" stroke=\"#d00\" stroke-width=\"2.5\">\
                 <title>crash</title></path>",
                x - 5,
                y - 5
            ),
            MarkKind::Restore { checkpoint } => {
                let from = checkpoint.map_or("scratch".to_string(), |checkpoint| checkpoint.to_string());
                format!(
                    "<rect class=\"restore\" x=\"{}\" y=\"{}\" width=\"8\" height=\"8\" fill=\"#2a2\">\
                     <title>restored from {from}</title></rect>",
                    x - 4,
                    y - 4
                )
            }
            MarkKind::Notified { checkpoint } => format!(
                "<path class=\"notified\" d=\"M{x},{} l0,-7\" stroke=\"{}\" stroke-width=\"2\">\
                 <title>heard that {checkpoint} completed</title></path>",
                y - 5,
                colour(checkpoint)
            ),
            MarkKind::PreCommitted { checkpoint, sequence } => transaction_mark(
                x,
                y,
                "pre-committed",
                "P",
                &format!("transaction #{sequence} pre-committed for {checkpoint}"),
            ),
            MarkKind::Committed { sequence } => {
                transaction_mark(x, y, "committed", "C", &format!("transaction #{sequence} committed"))
            }
            MarkKind::Aborted { sequence } => {
                transaction_mark(x, y, "aborted", "A", &format!("transaction #{sequence} aborted"))
            }
            MarkKind::Finished => format!(
                "<rect class=\"finished\" x=\"{x}\" y=\"{}\" width=\"3\" height=\"12\" fill=\"#000\">\
                 <title>finished</title></rect>",
                y - 6
            ),
        };
        out.push_str(&element);
        out.push('\n');
    }
}

/// A transaction's step: a letter under the lane.
fn transaction_mark(x: u64, y: u64, class: &str, letter: &str, title: &str) -> String {
    let colour = if class == "aborted" { "#d00" } else { "#063" };
    format!(
        "<text class=\"{class}\" x=\"{x}\" y=\"{}\" font-size=\"9\" font-weight=\"bold\" fill=\"{colour}\" \
         text-anchor=\"middle\">{letter}<title>{title}</title></text>",
        y + 14
    )
}

fn draw_job_marks(out: &mut String, timeline: &Timeline, layout: &Layout) {
    let bottom = layout.height(timeline.lanes.len()) - BOTTOM;
    for (index, mark) in timeline.job_marks.iter().enumerate() {
        let x = layout.x(mark.time);
        let _ = writeln!(
            out,
            "<line class=\"job-mark\" x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{bottom}\" stroke=\"#a0a\" \
             stroke-dasharray=\"2 3\"/><text class=\"job-label\" x=\"{}\" y=\"{}\" fill=\"#a0a\">{}</text>",
            TOP - 30,
            x + 3,
            TOP - 30 - (index as u64 % 2) * 11,
            escape(&mark.label)
        );
        if x + 160 > layout.width {
            // Near the right edge: the label reads leftwards from its line.
            let (from, to) = (format!("x=\"{}\"", x + 3), format!("x=\"{}\" text-anchor=\"end\"", x - 3));
            if let Some(at) = out.rfind(&from) {
                out.replace_range(at..at + from.len(), &to);
            }
        }
    }
}

fn draw_violation(out: &mut String, timeline: &Timeline, layout: &Layout) {
    let Some(violated) = &timeline.violation else { return };
    let x = layout.x(violated.time);
    let bottom = layout.height(timeline.lanes.len()) - BOTTOM;
    if let Some(lane) = violated.task.and_then(|task| timeline.lanes.iter().position(|lane| lane.task == task)) {
        let _ = writeln!(
            out,
            "<rect class=\"violation-lane\" x=\"{LEFT}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#f00\" \
             opacity=\"0.08\"/>",
            layout.y(lane) - layout.lane_height / 2,
            layout.plot_width,
            layout.lane_height
        );
    }
    let _ = writeln!(
        out,
        "<line class=\"violation\" x1=\"{x}\" y1=\"{TOP}\" x2=\"{x}\" y2=\"{bottom}\" stroke=\"#e00\" \
         stroke-width=\"2\"><title>{}</title></line>",
        escape(&violated.message)
    );
    // The message, wrapped to the width, three lines at most (all of it in the line's title).
    let per_line = (layout.width / 7).max(40) as usize;
    let text =
        format!("VIOLATION at {}: {}", format_millis(violated.time.since(SimTime::ZERO).as_nanos()), violated.message);
    let chars: Vec<char> = text.chars().collect();
    for (index, line) in chars.chunks(per_line).take(3).enumerate() {
        let line: String = line.iter().collect();
        let _ = writeln!(
            out,
            "<text class=\"violation-text\" x=\"10\" y=\"{}\" fill=\"#e00\" font-size=\"12\">{}</text>",
            bottom + 34 + index as u64 * 14,
            escape(&line)
        );
    }
}

fn draw_legend(out: &mut String, height: u64) {
    let lines = [
        "lanes: tasks; thin grey arrows: records (a number: how many in the bundle); bold arrows: barriers, \
         coloured by checkpoint; dots: snapshots; dashed lines: completed checkpoints' cuts; grey bands: aligning",
        "red X: crash; green squares: restores; purple lines: job restarts; P, C, A: a transaction \
         pre-committed, committed, aborted; short ticks: a completion heard",
    ];
    for (index, line) in lines.iter().enumerate() {
        let _ = writeln!(
            out,
            "<text class=\"legend\" x=\"10\" y=\"{}\" fill=\"#555\">{line}</text>",
            height - 22 + index as u64 * 13
        );
    }
}

/// The diagram inside a standalone HTML page.
pub fn render_html(timeline: &Timeline, title: &str, width: u32) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <style>body{{font-family:sans-serif;margin:16px}} svg{{border:1px solid #ddd}}</style></head>\n\
         <body>\n{}</body></html>\n",
        escape(title),
        render_svg(timeline, title, width)
    )
}
