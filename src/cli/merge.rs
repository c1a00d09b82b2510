//! `snapsim merge <summary.json>...`: join the summaries of sweep shards into one.

use super::{EXIT_FAIL, EXIT_PASS, bad_input};
use crate::explore::summary::{SweepSummary, merge as merge_summaries};
use crate::files::{SameBytes, write_new_file};
use clap::Args;
use std::path::PathBuf;

/// Arguments of `snapsim merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shard summaries (written by `sweep --json`).
    #[arg(required = true)]
    summaries: Vec<PathBuf>,
    /// Also write the merged summary as JSON to this file (which must not exist yet).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

/// Merges the summaries and prints the result; exit 1 if any shard found a failure.
pub fn merge(args: &MergeArgs) -> u8 {
    if let Some(json) = args.json.as_ref().filter(|json| json.exists()) {
        return bad_input(&format!("--json: {} exists; snapsim never overwrites a file", json.display()));
    }
    let mut parts = Vec::new();
    for path in &args.summaries {
        let source = path.display().to_string();
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) => return bad_input(&format!("{source}: cannot read the file: {error}")),
        };
        match SweepSummary::from_json(&text) {
            Ok(summary) => parts.push(summary),
            Err(message) => return bad_input(&format!("{source}: {message}")),
        }
    }
    let merged = match merge_summaries(&parts) {
        Ok(merged) => merged,
        Err(message) => return bad_input(&message),
    };
    println!("{:<13}{} seeds {}, shards {}", "merged", merged.scenario, merged.seeds, merged.shards.join(", "));
    println!("{:<13}{} run, {} passed, {} failed", "seeds", merged.seeds_run, merged.passed, merged.failed);
    for entry in &merged.failures {
        println!("{:<13}seed {}: {}: {}", "failure", entry.seed, entry.class, entry.replay);
    }
    println!(
        "{:<13}{:.1} seeds/s over {:.2} s wall, {} jobs",
        "speed", merged.seeds_per_second, merged.wall_seconds, merged.jobs
    );
    if let Some(json) = &args.json
        && let Err(error) = write_new_file(json, merged.to_json().as_bytes(), SameBytes::WriteAnother)
    {
        return bad_input(&format!("--json: cannot write {}: {error}", json.display()));
    }
    if merged.failed == 0 { EXIT_PASS } else { EXIT_FAIL }
}
