//! `snapsim draw <run file | scenario --seed N> -o out.svg|out.html`: the space-time diagram
//! of a run (`draw/`), written next to nothing the user has (a taken name gets `-2`).

use super::loaded::RunInput;
use super::{EXIT_PASS, bad_input};
use crate::draw::{DrawOptions, Timeline, Violated, render_html, render_svg};
use crate::explore::run::Verdict;
use crate::files::{SameBytes, write_new_file};
use crate::kernel::ids::TaskId;
use crate::kernel::time::SimTime;
use crate::kernel::trace::Fact;
use crate::report::with_task_names;
use clap::Args;
use std::path::PathBuf;

/// Arguments of `snapsim draw`.
#[derive(Debug, Args)]
pub struct DrawArgs {
    #[command(flatten)]
    run: RunInput,
    /// Where the diagram goes: `.svg`, or `.html` for a page around it.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
    /// Draw from this simulated time on (milliseconds, decimals allowed).
    #[arg(long, value_name = "MS")]
    from: Option<String>,
    /// Draw up to this simulated time (milliseconds).
    #[arg(long, value_name = "MS")]
    to: Option<String>,
    /// Only these tasks (`count[1]`) or vertices (`count`: all its subtasks), comma-separated.
    #[arg(long, value_name = "NAMES")]
    tasks: Option<String>,
    /// The drawing's width in pixels.
    #[arg(long, default_value_t = 1600)]
    width: u32,
}

/// Draws the run; returns the exit code.
pub fn draw(args: &DrawArgs) -> u8 {
    let html = match args.output.extension().and_then(|extension| extension.to_str()) {
        Some("svg") => false,
        Some("html") => true,
        _ => return bad_input(&format!("-o {}: write a .svg or an .html file", args.output.display())),
    };
    let run = match args.run.load() {
        Ok(run) => run,
        Err(code) => return code,
    };
    let options = match options(args, &run.compiled.task_names) {
        Ok(options) => options,
        Err(message) => return bad_input(&message),
    };
    let violation = violated(&run.verdict, &run.compiled.task_names);
    let timeline = Timeline::of(&run.facts, &run.channel_ends(), &run.compiled.task_names, violation, &options);
    let title = run.title();
    let page =
        if html { render_html(&timeline, &title, options.width) } else { render_svg(&timeline, &title, options.width) };
    match write_new_file(&args.output, page.as_bytes(), SameBytes::WriteAnother) {
        Ok(path) => {
            let (lanes, arrows, cuts) = (timeline.lanes.len(), timeline.arrows.len(), timeline.cuts.len());
            println!("{:<13}{} ({lanes} lanes, {arrows} arrows, {cuts} cuts)", "diagram", path.display());
            EXIT_PASS
        }
        Err(error) => bad_input(&format!("-o {}: cannot write: {error}", args.output.display())),
    }
}

/// The window, lanes and width asked for.
fn options(args: &DrawArgs, task_names: &[String]) -> Result<DrawOptions, String> {
    let from = args.from.as_deref().map(|text| millis("--from", text)).transpose()?;
    let to = args.to.as_deref().map(|text| millis("--to", text)).transpose()?;
    if let (Some(from), Some(to)) = (from, to)
        && from >= to
    {
        return Err("--from: must be before --to".to_string());
    }
    let tasks = args.tasks.as_deref().map(|names| tasks_named(names, task_names)).transpose()?;
    if args.width < 400 {
        return Err("--width: at least 400 pixels".to_string());
    }
    Ok(DrawOptions { from, to, tasks, width: args.width })
}

/// `text` milliseconds (`12`, `12.5`) as a time.
fn millis(flag: &str, text: &str) -> Result<SimTime, String> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let bad = || format!("{flag}: `{text}` is not a time in milliseconds (like 12 or 12.5)");
    if fraction.len() > 6 || !fraction.chars().all(|digit| digit.is_ascii_digit()) {
        return Err(bad());
    }
    let whole: u64 = whole.parse().map_err(|_| bad())?;
    let fraction: u64 = if fraction.is_empty() { 0 } else { format!("{fraction:0<6}").parse().map_err(|_| bad())? };
    whole
        .checked_mul(1_000_000)
        .and_then(|nanos| nanos.checked_add(fraction * 1_000))
        .map(SimTime::from_nanos)
        .ok_or_else(bad)
}

/// The tasks `names` name: a task (`count[1]`) or every subtask of a vertex (`count`).
fn tasks_named(names: &str, task_names: &[String]) -> Result<Vec<TaskId>, String> {
    let mut tasks = Vec::new();
    for name in names.split(',').map(str::trim).filter(|name| !name.is_empty()) {
        let matching: Vec<TaskId> = task_names
            .iter()
            .enumerate()
            .filter(|(_, task)| *task == name || task.split('[').next() == Some(name))
            .map(|(index, _)| TaskId::from_index(index))
            .collect();
        if matching.is_empty() {
            return Err(format!("--tasks: the job has no task or vertex `{name}`"));
        }
        tasks.extend(matching.into_iter().filter(|task| !tasks.contains(task)).collect::<Vec<_>>());
    }
    if tasks.is_empty() {
        return Err("--tasks: name at least one task".to_string());
    }
    Ok(tasks)
}

/// Where the run's violation is, for the diagram.
fn violated(verdict: &Verdict, task_names: &[String]) -> Option<Violated> {
    let Verdict::Fail(violation) = verdict else { return None };
    let task = violation.fact.as_ref().and_then(Fact::task);
    let message = format!("{}: {}", violation.invariant, with_task_names(&violation.detail, task_names));
    Some(Violated { time: violation.time, message, task })
}

/// The command that draws what `replay` replays, to `name.svg`.
pub fn draw_command(replay: &str, name: &str) -> Option<String> {
    let rest = replay.strip_prefix("snapsim run ").or_else(|| replay.strip_prefix("snapsim replay "))?;
    Some(format!("snapsim draw {rest} -o {name}.svg"))
}
