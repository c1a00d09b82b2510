//! `snapsim trace <run file | scenario --seed N> --format chrome|jsonl -o FILE`: a run's
//! facts for other tools — Chrome trace-event JSON for Perfetto and chrome://tracing, or
//! one fact per line for scripts.

use super::loaded::RunInput;
use super::{EXIT_PASS, bad_input};
use crate::export::{chrome_trace, json_lines};
use crate::files::{SameBytes, write_new_file};
use clap::{Args, ValueEnum};
use std::path::PathBuf;

/// The formats `snapsim trace` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TraceFormat {
    /// Chrome trace-event JSON: tasks as tracks, checkpoint phases as spans, messages as
    /// flows (opens in Perfetto and chrome://tracing).
    Chrome,
    /// JSON lines: `{"time_ns": …, "fact": …}` per fact.
    Jsonl,
}

/// Arguments of `snapsim trace`.
#[derive(Debug, Args)]
pub struct TraceArgs {
    #[command(flatten)]
    run: RunInput,
    /// The format.
    #[arg(long, value_enum, default_value = "chrome")]
    format: TraceFormat,
    /// Where it goes (a taken name gets `-2`).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
}

/// Writes the trace; returns the exit code.
pub fn trace(args: &TraceArgs) -> u8 {
    let run = match args.run.load() {
        Ok(run) => run,
        Err(code) => return code,
    };
    let (bytes, what) = match args.format {
        TraceFormat::Chrome => {
            let trace = chrome_trace(&run.facts, &run.channel_ends(), &run.compiled.task_names, &run.title());
            let left_out = match trace.data_flows_left_out {
                0 => String::new(),
                count => {
                    format!("; {count} records past the first {} not drawn as flows", crate::export::DATA_FLOWS_MAX)
                }
            };
            (trace.json.to_string(), format!("Chrome trace events (open in https://ui.perfetto.dev){left_out}"))
        }
        TraceFormat::Jsonl => (json_lines(&run.facts), format!("{} facts, one per line", run.facts.len())),
    };
    match write_new_file(&args.output, bytes.as_bytes(), SameBytes::WriteAnother) {
        Ok(path) => {
            println!("{:<13}{}: {what}", "trace", path.display());
            EXIT_PASS
        }
        Err(error) => bad_input(&format!("-o {}: cannot write: {error}", args.output.display())),
    }
}
