//! `snapsim replay <run file>`: re-run a stored run, verify its trace hash, and show the
//! facts around the violation (or those a filter selects).

use super::{EXIT_FAIL, EXIT_PASS, bad_input};
use crate::explore::determinism::first_divergence;
use crate::explore::guarded::{install_quiet_panic_hook, run_guarded};
use crate::explore::run::Verdict;
use crate::explore::run_file::RunFile;
use crate::kernel::time::{SimDuration, SimTime};
use crate::kernel::trace::{Fact, ObjectName, TimedFact};
use crate::report::{ReportContext, describe_divergence, describe_fact, render_panic_report, render_report};
use crate::scenario::CompiledScenario;
use clap::Args;
use std::path::PathBuf;

/// Arguments of `snapsim replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The run file (written by sweep, shrink or a failing property test).
    run_file: PathBuf,
    /// Show only facts about this task, e.g. `count[1]` (repeatable).
    #[arg(long = "task", value_name = "NAME")]
    tasks: Vec<String>,
    /// Show only facts about this checkpoint id.
    #[arg(long)]
    checkpoint: Option<u64>,
    /// Show only facts at or after this simulated millisecond.
    #[arg(long, value_name = "MS")]
    from_ms: Option<u64>,
    /// Show only facts before this simulated millisecond.
    #[arg(long, value_name = "MS")]
    to_ms: Option<u64>,
    /// Without filters: how many facts to show on each side of the violation.
    #[arg(long, default_value_t = 8)]
    around: u64,
    /// At most this many facts are printed.
    #[arg(long, default_value_t = 200)]
    limit: usize,
}

/// Replays the run file; returns the exit code: 0 if the replay passes, 1 if it fails.
pub fn replay(args: &ReplayArgs) -> u8 {
    let source = args.run_file.display().to_string();
    let file = match super::read_run_file(&args.run_file) {
        Ok(file) => file,
        Err(code) => return code,
    };
    let compiled = match file.spec.compile() {
        Ok(compiled) => compiled,
        Err(error) => return bad_input(&error.one_line(&format!("{source} (its scenario)"))),
    };
    install_quiet_panic_hook();
    let replayed = match run_guarded(&file.spec, true) {
        Ok(replayed) => replayed,
        Err(error) => return bad_input(&error.one_line(&source)),
    };
    let context = ReportContext {
        scenario_name: &file.spec.scenario.name,
        scenario_source: &format!("from {source}"),
        task_names: &compiled.task_names,
        replay_command: format!("snapsim replay {source}"),
        draw_command: super::draw::draw_command(
            &format!("snapsim replay {source}"),
            &args.run_file.with_extension("").display().to_string(),
        ),
    };
    let facts = replayed.outcome.as_ref().and_then(|outcome| outcome.facts.clone()).unwrap_or_default();
    match &replayed.outcome {
        Some(outcome) => print!("{}", render_report(outcome, &context)),
        None => print!("{}", render_panic_report(file.spec.seed, &replayed.verdict, &context)),
    }
    let new_hash = replayed.outcome.as_ref().map(|outcome| outcome.trace_hash);
    println!("{:<13}{}", "recorded", recorded_comparison(&file, &replayed.verdict, new_hash, &facts, &compiled));
    print_facts(args, &facts, &replayed.verdict, &compiled);
    if replayed.verdict.failure_class().is_none() { EXIT_PASS } else { EXIT_FAIL }
}

/// How the replay compares with what the file recorded.
fn recorded_comparison(
    file: &RunFile,
    verdict: &Verdict,
    new_hash: Option<crate::kernel::trace::TraceHash>,
    facts: &[TimedFact],
    compiled: &CompiledScenario,
) -> String {
    let recorded_class = file.verdict.failure_class().unwrap_or_else(|| "PASS".to_string());
    let same_hash = new_hash == file.trace_hash && file.verdict == *verdict;
    if same_hash {
        return format!("{recorded_class}, trace hash {}: reproduced exactly", hash_text(file.trace_hash));
    }
    let fixed = if file.verdict.failure_class().is_some() && verdict.failure_class().is_none() {
        " The recorded failure no longer happens."
    } else {
        ""
    };
    let divergence = match &file.facts {
        Some(stored) => first_divergence(stored, facts)
            .map(|divergence| describe_divergence(&divergence, &compiled.task_names, ["recorded", "now"]))
            .unwrap_or_else(|| "the facts agree but the hash does not".to_string()),
        None => "the file keeps no facts, so the first difference cannot be named".to_string(),
    };
    format!(
        "{recorded_class}, trace hash {}: DIVERGED (the code changed since snapsim {} wrote it): {divergence}.{fixed}",
        hash_text(file.trace_hash),
        file.snapsim_version
    )
}

fn print_facts(args: &ReplayArgs, facts: &[TimedFact], verdict: &Verdict, compiled: &CompiledScenario) {
    let filtered =
        !args.tasks.is_empty() || args.checkpoint.is_some() || args.from_ms.is_some() || args.to_ms.is_some();
    let focus = match verdict {
        Verdict::Fail(violation) => violation.fact_index,
        _ if filtered => None,
        _ => return,
    };
    let tasks: Vec<usize> =
        args.tasks.iter().filter_map(|name| compiled.task_names.iter().position(|known| known == name)).collect();
    let channel_ends: Vec<[usize; 2]> = compiled
        .world
        .graph
        .expand()
        .channels
        .iter()
        .map(|channel| [channel.sender.index(), channel.receiver.index()])
        .collect();
    let from = args.from_ms.map(|ms| SimTime::ZERO.after(SimDuration::from_millis(ms)));
    let to = args.to_ms.map(|ms| SimTime::ZERO.after(SimDuration::from_millis(ms)));
    let chosen: Vec<(usize, &TimedFact)> = facts
        .iter()
        .enumerate()
        .filter(|(index, timed)| match (filtered, focus) {
            (false, Some(focus)) => (*index as u64).abs_diff(focus) <= args.around,
            // Found by the end-of-run check: the run's story explains it best.
            (false, None) => is_milestone(&timed.fact),
            (true, _) => {
                from.is_none_or(|from| timed.time >= from)
                    && to.is_none_or(|to| timed.time < to)
                    && (tasks.is_empty() || mentions_task(&timed.fact, &tasks, &channel_ends))
                    && args.checkpoint.is_none_or(|id| mentions_checkpoint(&timed.fact, id))
            }
        })
        .take(args.limit)
        .collect();
    let what = match (filtered, focus) {
        (true, _) => "selected by the filters",
        (false, Some(_)) => "around the violation",
        (false, None) => "checkpoints, crashes and restarts",
    };
    println!("{:<13}{} of {} facts, {what}", "facts", chosen.len(), facts.len());
    for (index, timed) in chosen {
        let marker = if Some(index as u64) == focus { ">" } else { " " };
        let time = timed.time.to_string();
        println!("{marker} #{index:<8} {time:>16}  {}", describe_fact(&timed.fact, &compiled.task_names));
    }
}

fn is_milestone(fact: &Fact) -> bool {
    matches!(
        fact,
        Fact::CheckpointCompleted { .. }
            | Fact::CheckpointAborted { .. }
            | Fact::TaskCrashed { .. }
            | Fact::JobRestarted { .. }
            | Fact::RegionFailedOver { .. }
            | Fact::RegionRestarted { .. }
            | Fact::TaskRestored { .. }
            | Fact::JobRescaled { .. }
            | Fact::KeyGroupsRestored { .. }
            | Fact::SplitsRedistributed { .. }
            | Fact::SavepointTriggered { .. }
    )
}

fn mentions_task(fact: &Fact, tasks: &[usize], channel_ends: &[[usize; 2]]) -> bool {
    let involved: Vec<usize> = match *fact {
        Fact::MessageSent { channel, .. }
        | Fact::MessageArrived { channel, .. }
        | Fact::MessageConsumed { channel, .. } => channel_ends[channel.index()].to_vec(),
        _ => fact.task().map(|task| vec![task.index()]).unwrap_or_default(),
    };
    involved.iter().any(|task| tasks.contains(task))
}

fn mentions_checkpoint(fact: &Fact, id: u64) -> bool {
    use crate::kernel::trace::MessageTag;
    let checkpoint = match *fact {
        Fact::CheckpointTriggered { checkpoint }
        | Fact::InputBlocked { checkpoint, .. }
        | Fact::StateCaptured { checkpoint, .. }
        | Fact::AcknowledgementReceived { checkpoint, .. }
        | Fact::CompletionNotified { checkpoint, .. }
        | Fact::TransactionPrepared { checkpoint, .. }
        | Fact::CheckpointCompleted { checkpoint }
        | Fact::CheckpointAborted { checkpoint, .. }
        | Fact::ChannelStateRecorded { checkpoint, .. } => Some(checkpoint),
        Fact::MessageSent { message: MessageTag::Barrier { checkpoint }, .. } => Some(checkpoint),
        Fact::ObjectDurable { object, .. } | Fact::ObjectDeleted { object } => match object {
            ObjectName::TaskState { checkpoint, .. }
            | ObjectName::Metadata { checkpoint }
            | ObjectName::SharedFile { checkpoint, .. } => Some(checkpoint),
        },
        Fact::StateFileReferenced { checkpoint, .. }
        | Fact::KeyGroupsRestored { checkpoint, .. }
        | Fact::SplitsRedistributed { checkpoint, .. }
        | Fact::SavepointTriggered { checkpoint, .. } => Some(checkpoint),
        Fact::JobRestarted { checkpoint, .. }
        | Fact::RegionRestarted { checkpoint, .. }
        | Fact::TaskRestored { checkpoint, .. } => checkpoint,
        _ => None,
    };
    checkpoint.is_some_and(|checkpoint| checkpoint.0 == id)
}

fn hash_text(hash: Option<crate::kernel::trace::TraceHash>) -> String {
    hash.map_or_else(|| "none (the run panicked)".to_string(), |hash| hash.to_string())
}
