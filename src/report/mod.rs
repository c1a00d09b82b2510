//! Human renderings of an outcome. Decides nothing: pass or fail was settled by the
//! checkers. The text here is what the insta snapshots compare, so it holds only
//! deterministic figures (no wall time).

pub mod compare;
mod facts;
pub mod metrics;
mod text;

pub use facts::{describe_divergence, describe_fact};
pub use text::{ReportContext, render_panic_report, render_report, with_task_names};

#[cfg(test)]
mod metrics_tests;
#[cfg(test)]
mod text_tests;
