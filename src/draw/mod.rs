//! Drawing a run: the space-time diagram of its facts, in the protocol's own vocabulary.
//!
//! `Timeline::of` reads a run's facts (kept in a run file, or from a run made with facts
//! kept) into what a diagram shows: a lane per task; data messages as thin arrows from send
//! to arrival, bundled per channel and time bucket with their count when they are dense;
//! barriers as bold arrows coloured by checkpoint; each task's snapshot as a mark on its
//! lane and each completed checkpoint's cut as a line joining its marks; blocked (aligning)
//! intervals; crashes, restores and restarts; the violation, if any. `svg.rs` renders it
//! as a self-contained SVG, or an HTML page around it; `chart.rs` draws the bar charts of
//! `snapsim plot`. Nothing here runs a simulation.

pub mod chart;
mod svg;
mod timeline;

#[cfg(test)]
mod tests;

pub use svg::{render_html, render_svg};
pub use timeline::{Arrow, ArrowKind, Cut, DrawOptions, JobMark, Lane, Mark, MarkKind, Span, Timeline, Violated};
