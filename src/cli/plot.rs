//! `snapsim plot <run file | scenario | sweep summary.json> -o out.svg`: a run's checkpoint
//! figures per completed checkpoint — duration, alignment time, persisted bytes, channel
//! state — or, with `--compare`, every protocol's side by side on the same workload and
//! faults; a sweep summary's coverage saturation and failures by class.

use super::loaded::RunInput;
use super::{EXIT_PASS, bad_input};
use crate::draw::chart::{Panel, Series, render_panels};
use crate::explore::summary::SweepSummary;
use crate::files::{SameBytes, write_new_file};
use crate::report::metrics::{ProtocolMetrics, protocol_metrics};
use clap::Args;
use std::path::PathBuf;

/// Arguments of `snapsim plot`.
#[derive(Debug, Args)]
pub struct PlotArgs {
    #[command(flatten)]
    run: RunInput,
    /// Where the SVG goes (a taken name gets `-2`).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
    /// For a scenario: every protocol side by side, same workload and fault plan.
    #[arg(long)]
    compare: bool,
}

/// Plots; returns the exit code.
pub fn plot(args: &PlotArgs) -> u8 {
    if args.output.extension().is_none_or(|extension| extension != "svg") {
        return bad_input(&format!("-o {}: plots are .svg files", args.output.display()));
    }
    let is_summary = args.run.input.extension().is_some_and(|extension| extension == "json");
    let drawn = if is_summary {
        summary_plot(args)
    } else if args.compare {
        comparison_plot(args)
    } else {
        run_plot(args)
    };
    let (title, panels) = match drawn {
        Ok(drawn) => drawn,
        Err(code) => return code,
    };
    match write_new_file(&args.output, render_panels(&title, &panels).as_bytes(), SameBytes::WriteAnother) {
        Ok(path) => {
            println!("{:<13}{} ({} panels)", "plot", path.display(), panels.len());
            EXIT_PASS
        }
        Err(error) => bad_input(&format!("-o {}: cannot write: {error}", args.output.display())),
    }
}

type Drawn = Result<(String, Vec<Panel>), u8>;

fn run_plot(args: &PlotArgs) -> Drawn {
    let run = args.run.load()?;
    let metrics = protocol_metrics(&run.facts);
    Ok((run.title(), checkpoint_panels(&[(run.compiled.world.protocol.name().to_string(), metrics)])))
}

fn comparison_plot(args: &PlotArgs) -> Drawn {
    let run = args.run.load()?;
    let plan = run.spec.materialised_plan().map_err(|error| bad_input(&error.one_line(&run.source)))?;
    let (runs, _) =
        super::compare::runs_per_protocol(&run.spec, &plan).map_err(|error| bad_input(&error.one_line(&run.source)))?;
    let per_protocol: Vec<(String, ProtocolMetrics)> = runs
        .iter()
        .map(|(protocol, run)| {
            let facts = run.outcome.as_ref().and_then(|outcome| outcome.facts.as_deref()).unwrap_or(&[]);
            (protocol.name().to_string(), protocol_metrics(facts))
        })
        .collect();
    let title = format!(
        "{} ({}), seed {}: every protocol, same workload and faults",
        run.spec.scenario.name, run.source, run.spec.seed.0
    );
    Ok((title, checkpoint_panels(&per_protocol)))
}

/// Per completed checkpoint (in order), one panel per figure, one series per run.
fn checkpoint_panels(runs: &[(String, ProtocolMetrics)]) -> Vec<Panel> {
    let most = runs.iter().map(|(_, metrics)| metrics.durations.len()).max().unwrap_or(0);
    let x_labels: Vec<String> = (1..=most).map(|ordinal| ordinal.to_string()).collect();
    let panel = |title: &str, unit: &str, values: &dyn Fn(&ProtocolMetrics) -> Vec<u64>| Panel {
        title: title.to_string(),
        unit: unit.to_string(),
        x_labels: x_labels.clone(),
        series: runs
            .iter()
            .map(|(name, metrics)| {
                let values = values(metrics);
                Series { name: name.clone(), values: (0..most).map(|index| values.get(index).copied()).collect() }
            })
            .collect(),
    };
    let micros = |durations: &[crate::kernel::time::SimDuration]| {
        durations.iter().map(|duration| duration.as_nanos() / 1_000).collect()
    };
    vec![
        panel("checkpoint duration, trigger to completion, per completed checkpoint", "µs", &|metrics| {
            micros(&metrics.durations)
        }),
        panel("alignment time, summed over tasks", "µs", &|metrics| micros(&metrics.blocked)),
        panel("persisted operator state", "bytes", &|metrics| metrics.state_bytes.clone()),
        panel("in-flight records persisted as channel state", "records", &|metrics| metrics.channel_records.clone()),
    ]
}

fn summary_plot(args: &PlotArgs) -> Drawn {
    let source = args.run.input.display().to_string();
    let text = std::fs::read_to_string(&args.run.input)
        .map_err(|error| bad_input(&format!("{source}: cannot read the file: {error}")))?;
    let summary = SweepSummary::from_json(&text).map_err(|message| bad_input(&format!("{source}: {message}")))?;
    let curve = &summary.coverage.curve;
    let coverage = Panel {
        title: format!(
            "phase x fault cells hit, of {} reachable{}",
            summary.coverage.reachable,
            if summary.guided { " (guided)" } else { "" }
        ),
        unit: "cells".to_string(),
        x_labels: curve.iter().map(|[seeds, _]| format!("{seeds}")).collect(),
        series: vec![Series {
            name: "cells hit after N seeds".to_string(),
            values: curve.iter().map(|&[_, hit]| Some(hit)).collect(),
        }],
    };
    let failures = Panel {
        title: format!("failing seeds by class, of {} run", summary.seeds_run),
        unit: "seeds".to_string(),
        x_labels: summary.failures_by_class.keys().cloned().collect(),
        series: vec![Series {
            name: "failing seeds".to_string(),
            values: summary.failures_by_class.values().map(|&count| Some(count)).collect(),
        }],
    };
    Ok((format!("sweep of {} ({source}), seeds {}", summary.scenario, summary.seeds), vec![coverage, failures]))
}
