//! `snapsim run <scenario> --seed N`: one run and its report; with `--save FILE`, its run
//! file too (facts kept in memory, or streamed to the file as they are recorded with
//! `--stream-facts`).

use super::{EXIT_FAIL, EXIT_PASS, bad_input};
use crate::coverage::aim::Aim;
use crate::explore::determinism::check_determinism;
use crate::explore::guarded::{GuardedRun, install_quiet_panic_hook, run_guarded};
use crate::explore::run::RunSpec;
use crate::explore::run_file_stream::{FactsHeld, RecordError, Recorded, record_to};
use crate::kernel::rng::Seed;
use crate::plant::PlantedBug;
use crate::report::{ReportContext, describe_divergence, render_panic_report, render_report};
use clap::Args;
use std::path::PathBuf;

/// Arguments of `snapsim run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The scenario file (TOML), e.g. sims/wordcount.toml.
    scenario: PathBuf,
    /// The run's root seed; every random draw derives from it.
    #[arg(long, env = "SNAPSIM_SEED", default_value_t = 1)]
    seed: u64,
    #[command(flatten)]
    choices: super::RunChoices,
    /// Add the fault a guided sweep aimed at this phase × fault cell (`PHASE/STRIKE`, as a
    /// guided sweep's replay command names it).
    #[arg(long, value_name = "PHASE/STRIKE")]
    aim: Option<String>,
    /// Also write the run's run file (with its facts) to FILE, for replay, shrink, draw and
    /// trace; a taken name gets `-2`.
    #[arg(long, value_name = "FILE")]
    save: Option<PathBuf>,
    /// With --save: write each fact to the file as it is recorded instead of holding every
    /// fact in memory until the run ends (same file; for long runs).
    #[arg(long)]
    stream_facts: bool,
}

/// Runs the scenario once and prints the report; returns the exit code.
pub fn run(args: &RunArgs) -> u8 {
    if args.stream_facts && args.save.is_none() {
        return bad_input("--stream-facts: needs --save FILE, the run file to stream the facts to");
    }
    let source = args.scenario.display().to_string();
    let (scenario, compiled, plants) = match super::load_spec(&args.scenario, &args.choices.plants) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let scenario = args.choices.apply(scenario);
    let spec = RunSpec {
        plants: plants.clone(),
        safety_only: args.choices.safety_only,
        ..RunSpec::new(scenario, Seed(args.seed))
    };
    let aim = match args.aim.as_deref().map(str::parse::<Aim>) {
        None => None,
        Some(Ok(aim)) => Some(aim),
        Some(Err(message)) => return bad_input(&format!("--aim: {message}")),
    };
    let spec = match spec.for_seed(spec.seed, aim) {
        Ok(spec) => spec,
        Err(error) => return bad_input(&error.one_line(&source)),
    };
    install_quiet_panic_hook();
    let (mut guarded, saved) = match run_and_save(args, &spec, &source) {
        Ok(done) => done,
        Err(code) => return code,
    };
    if let Some(outcome) = guarded.outcome.as_mut() {
        // A saved run ran its materialised spec, whose configuration is no longer drawn.
        outcome.drawn_config = spec.drawn_config().ok().flatten();
    }
    let replay = replay_command(&source, args.seed, &plants, ReplayExtras::of(&args.choices, aim));
    let context = ReportContext {
        scenario_name: &spec.scenario.name,
        scenario_source: &source,
        task_names: &compiled.task_names,
        draw_command: super::draw::draw_command(&replay, &format!("{}-seed-{}", spec.scenario.name, args.seed)),
        replay_command: replay,
    };
    match &guarded.outcome {
        Some(outcome) => print!("{}", render_report(outcome, &context)),
        None => print!("{}", render_panic_report(spec.seed, &guarded.verdict, &context)),
    }
    if let Some((path, facts)) = saved {
        let how = if args.stream_facts { "streamed as recorded" } else { "kept in memory" };
        println!("{:<13}{} ({facts} facts, {how}): snapsim replay {}", "saved", path.display(), path.display());
    }
    let mut passed = guarded.verdict.failure_class().is_none();
    if args.choices.check_determinism {
        match check_determinism(&spec) {
            Ok(None) => println!("{:<13}the same seed ran twice with the same trace hash", "determinism"),
            Ok(Some(divergence)) => {
                println!(
                    "{:<13}FAIL {}",
                    "determinism",
                    describe_divergence(&divergence, &compiled.task_names, RUN_LABELS)
                );
                passed = false;
            }
            Err(error) => return bad_input(&error.one_line(&source)),
        }
    }
    if passed { EXIT_PASS } else { EXIT_FAIL }
}

/// Runs `spec`, and with `--save` records its run file (exit code in `Err`): the run, and
/// where the file went with how many facts it holds.
fn run_and_save(args: &RunArgs, spec: &RunSpec, source: &str) -> Result<(GuardedRun, Option<(PathBuf, u64)>), u8> {
    let Some(path) = &args.save else {
        let guarded = run_guarded(spec, false).map_err(|error| bad_input(&error.one_line(source)))?;
        return Ok((guarded, None));
    };
    if path.is_dir() {
        return Err(bad_input(&format!("--save {}: is a folder; name the run file to write", path.display())));
    }
    let held = if args.stream_facts { FactsHeld::Streamed } else { FactsHeld::InMemory };
    let note = format!("recorded by snapsim run {source} --seed {}{}", args.seed, drawn_note(spec));
    match record_to(spec, path, &note, held) {
        Ok(Recorded { run, path, facts }) => Ok((run, Some((path, facts)))),
        Err(RecordError::Scenario(error)) => Err(bad_input(&error.one_line(source))),
        Err(RecordError::Io(error)) => {
            Err(bad_input(&format!("--save {}: cannot write the run file: {error}", path.display())))
        }
    }
}

/// How the determinism check names its two runs.
pub const RUN_LABELS: [&str; 2] = ["first run", "second run"];

/// The flags beyond seed and plants that a run needs to be reproduced.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReplayExtras {
    /// `--swarm` was given.
    pub swarm: bool,
    /// A guided sweep's aim.
    pub aim: Option<Aim>,
    /// `--randomize-config` was given.
    pub randomize_config: bool,
    /// `--safety-only` was given.
    pub safety_only: bool,
}

impl ReplayExtras {
    /// The extras of a run made with `choices` (and `aim`).
    pub fn of(choices: &super::RunChoices, aim: Option<Aim>) -> ReplayExtras {
        ReplayExtras {
            swarm: choices.swarm,
            aim,
            randomize_config: choices.randomize_config,
            safety_only: choices.safety_only,
        }
    }
}

/// The one command that reproduces a run exactly.
pub fn replay_command(source: &str, seed: u64, plants: &[PlantedBug], extras: ReplayExtras) -> String {
    let mut command = format!("snapsim run {source} --seed {seed}");
    for plant in plants {
        command.push_str(&format!(" --plant {plant}"));
    }
    if extras.swarm {
        command.push_str(" --swarm");
    }
    if extras.randomize_config {
        command.push_str(" --randomize-config");
    }
    if let Some(aim) = extras.aim {
        command.push_str(&format!(" --aim {aim}"));
    }
    if extras.safety_only {
        command.push_str(" --safety-only");
    }
    command
}

/// `; config drawn: ...` for a run file's note when the seed drew its configuration.
pub fn drawn_note(spec: &RunSpec) -> String {
    match spec.drawn_config() {
        Ok(Some(drawn)) => format!("; config drawn: {drawn}"),
        _ => String::new(),
    }
}
