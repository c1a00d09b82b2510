//! `snapsim sweep <scenario> --seeds A..B`: many seeds in parallel, a progress display, a
//! summary, and a run file for every failure (up to a limit), never over an existing file.
#![allow(clippy::disallowed_methods, reason = "the sweep reports its own wall time and seeds per second")]

use super::run::ReplayExtras;
use super::{EXIT_FAIL, EXIT_PASS, bad_input};
use crate::coverage::summary::{CoverageSummary, render_matrix};
use crate::explore::guarded::install_quiet_panic_hook;
use crate::explore::junit::junit_xml;
use crate::explore::run::{RunSpec, Verdict};
use crate::explore::run_file::{RUN_FILE_EXTENSION, RunFile};
use crate::explore::summary::{FailureEntry, SweepIdentity, SweepSummary, SweepTiming};
use crate::explore::sweep::{SeedRange, SeedReport, Shard, SweepPlan, sweep as run_sweep};
use crate::files::{SameBytes, write_new_file};
use crate::kernel::rng::Seed;
use crate::report::describe_divergence;
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

/// Arguments of `snapsim sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// The scenario file (TOML).
    scenario: PathBuf,
    /// The seeds: `A..B` (B excluded) or `A..=B`.
    #[arg(long, env = "SNAPSIM_SEEDS", default_value = "0..1000")]
    seeds: SeedRange,
    /// Worker threads (each seed runs on one); default: every core.
    #[arg(long, env = "SNAPSIM_JOBS")]
    jobs: Option<usize>,
    /// Stop starting new seeds after the first failure.
    #[arg(long, env = "SNAPSIM_STOP_ON_FAILURE")]
    stop_on_failure: bool,
    /// Also write the summary as JSON to this file (which must not exist yet).
    #[arg(long, env = "SNAPSIM_JSON", value_name = "FILE")]
    json: Option<PathBuf>,
    /// Also write JUnit XML to this file (which must not exist yet): a test case per failing
    /// invariant class with its replay command, or one passing test case.
    #[arg(long, env = "SNAPSIM_JUNIT", value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Where failing seeds' run files go.
    #[arg(long, env = "SNAPSIM_FAILURES", value_name = "DIR", default_value = "snapsim-failures")]
    failures: PathBuf,
    /// Write run files for at most this many failing seeds (the rest are listed).
    #[arg(long, env = "SNAPSIM_MAX_RUN_FILES", default_value_t = 20)]
    max_run_files: usize,
    /// Run only shard K of N (1-based, as nextest's --partition); `auto/N` takes K from
    /// JOB_COMPLETION_INDEX, as a Kubernetes Indexed Job sets it.
    #[arg(long, env = "SNAPSIM_SHARD", value_name = "K/N")]
    shard: Option<String>,
    #[command(flatten)]
    choices: super::RunChoices,
    /// Print plain progress lines even on a terminal.
    #[arg(long, env = "SNAPSIM_NO_PROGRESS")]
    no_progress: bool,
    /// Aim each seed's extra fault at a phase × fault cell the earlier seeds left unhit
    /// (seeds run in chunks of 32; each failing seed's replay names its aim).
    #[arg(long, env = "SNAPSIM_GUIDED")]
    guided: bool,
    /// Print the coverage matrix (which fault struck in which protocol phase) and the
    /// cells never hit.
    #[arg(long, env = "SNAPSIM_COVERAGE")]
    coverage: bool,
}

/// What the workers share while the sweep runs.
struct Collector<'a> {
    args: &'a SweepArgs,
    source: String,
    task_names: Vec<String>,
    template: RunSpec,
    display: Display,
    done: AtomicU64,
    failed: AtomicU64,
    run_files_written: AtomicUsize,
    failures: Mutex<Vec<FailureEntry>>,
}

/// Runs the sweep; returns the exit code.
pub fn sweep(args: &SweepArgs) -> u8 {
    let source = args.scenario.display().to_string();
    let (scenario, compiled, plants) = match super::load_spec(&args.scenario, &args.choices.plants) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let shard = match args
        .shard
        .as_deref()
        .map(|text| Shard::parse(text, std::env::var("JOB_COMPLETION_INDEX").ok().as_deref()))
    {
        None => None,
        Some(Ok(shard)) => Some(shard),
        Some(Err(message)) => return bad_input(&format!("--shard: {message}")),
    };
    if let Err(code) = check_outputs(args) {
        return code;
    }
    let jobs = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    if jobs == 0 {
        return bad_input("--jobs: must be at least 1");
    }
    let scenario = args.choices.apply(scenario);
    let template = RunSpec { plants, safety_only: args.choices.safety_only, ..RunSpec::new(scenario, Seed(0)) };
    let plan = SweepPlan {
        template: template.clone(),
        seeds: args.seeds,
        shard,
        stop_on_failure: args.stop_on_failure,
        check_determinism: args.choices.check_determinism,
        guided: args.guided,
    };
    let total = plan.seeds_in_shard().count() as u64;
    let collector = Collector {
        args,
        source,
        task_names: compiled.task_names,
        template,
        display: Display::new(total, !args.no_progress && std::io::stderr().is_terminal()),
        done: AtomicU64::new(0),
        failed: AtomicU64::new(0),
        run_files_written: AtomicUsize::new(0),
        failures: Mutex::new(Vec::new()),
    };
    install_quiet_panic_hook();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(jobs).build().expect("a thread pool");
    let started = Instant::now();
    let reports = pool.install(|| run_sweep(&plan, &|report| collector.on_done(report)));
    let wall_seconds = started.elapsed().as_secs_f64();
    collector.display.finish();
    match reports {
        Ok(reports) => finish(&collector, &plan, &reports, SweepTiming { jobs: jobs as u32, wall_seconds }),
        Err(error) => bad_input(&error.one_line(&collector.source)),
    }
}

fn finish(collector: &Collector<'_>, plan: &SweepPlan, reports: &[SeedReport], timing: SweepTiming) -> u8 {
    let mut failures = std::mem::take(&mut *collector.failures.lock().expect("no worker panicked holding it"));
    failures.sort_by_key(|entry| entry.seed);
    let identity = SweepIdentity {
        scenario: plan.template.scenario.name.clone(),
        seeds: plan.seeds,
        shard: plan.shard,
        plants: plan.template.plants.iter().map(|plant| plant.name().to_string()).collect(),
        check_determinism: plan.check_determinism,
        guided: plan.guided,
    };
    let summary = SweepSummary::new(&identity, reports, failures, timing);
    print!("{}", render_summary(&summary, &collector.source));
    if plan.template.safety_only {
        println!("{:<13}not judged (--safety-only): a seed that does not finish is not a failure", "liveness");
    }
    if collector.args.coverage {
        print!("{}", render_coverage(&summary.coverage));
    }
    let outputs = [
        ("--json", "summary", &collector.args.json, summary.to_json()),
        ("--junit", "junit", &collector.args.junit, junit_xml(&summary, &collector.source)),
    ];
    for (flag, label, path, text) in outputs {
        let Some(path) = path else { continue };
        match write_new_file(path, text.as_bytes(), SameBytes::WriteAnother) {
            Ok(written) => println!("{label:<13}{}", written.display()),
            Err(error) => return bad_input(&format!("{flag}: cannot write {}: {error}", path.display())),
        }
    }
    if summary.failed == 0 { EXIT_PASS } else { EXIT_FAIL }
}

/// Refuses, before any seed runs, an output file that exists (snapsim never overwrites a
/// file) or one named by both `--json` and `--junit`.
fn check_outputs(args: &SweepArgs) -> Result<(), u8> {
    for (flag, path) in [("--json", &args.json), ("--junit", &args.junit)] {
        if let Some(path) = path.as_ref().filter(|path| path.exists()) {
            return Err(bad_input(&format!("{flag}: {} exists; snapsim never overwrites a file", path.display())));
        }
    }
    if let (Some(json), Some(junit)) = (&args.json, &args.junit)
        && json == junit
    {
        return Err(bad_input(&format!("--junit: {} is also the --json file", junit.display())));
    }
    Ok(())
}

fn render_summary(summary: &SweepSummary, source: &str) -> String {
    let shards =
        if summary.shards.is_empty() { String::new() } else { format!(", shard {}", summary.shards.join(", ")) };
    let classes: Vec<String> =
        summary.failures_by_class.iter().map(|(class, count)| format!("{class} {count}")).collect();
    let mut out = format!("{:<13}{} ({source}), seeds {}{shards}\n", "sweep", summary.scenario, summary.seeds);
    out += &format!("{:<13}{} run, {} passed, {} failed\n", "seeds", summary.seeds_run, summary.passed, summary.failed);
    if !classes.is_empty() {
        out += &format!("{:<13}{}\n", "failures", classes.join(", "));
    }
    if summary.stopped_early {
        out += &format!("{:<13}stopped at the first failure (--stop-on-failure)\n", "note");
    }
    let coverage = &summary.coverage;
    let guided = if summary.guided { ", guided" } else { "" };
    out += &format!(
        "{:<13}{} of {} reachable phase x fault cells hit{guided}\n",
        "coverage", coverage.cells_hit, coverage.reachable
    );
    out += &format!(
        "{:<13}{:.1} seeds/s, {:.2} M events/s, {:.2} s wall, {} jobs\n",
        "speed",
        summary.seeds_per_second,
        summary.events_per_second / 1e6,
        summary.wall_seconds,
        summary.jobs
    );
    out
}

impl Collector<'_> {
    fn on_done(&self, report: &SeedReport) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(class) = report.failure_class() {
            let failed = self.failed.fetch_add(1, Ordering::Relaxed) + 1;
            let entry = self.failure_entry(report, class);
            // Past the run-file limit, failures are only counted here (the summary and the
            // JSON list them all), so thousands of them do not drown the display.
            if let Some(path) = &entry.run_file {
                let seed = entry.seed;
                let config = match self.template.for_seed(report.seed, None).map(|spec| spec.drawn_config()) {
                    Ok(Ok(Some(drawn))) => format!(" (config drawn: {drawn})"),
                    _ => String::new(),
                };
                self.display.line(&format!("seed {seed}: FAIL {}: {}{config} -> {path}", entry.class, entry.detail));
            }
            self.failures.lock().expect("no worker panicked holding it").push(entry);
            self.display.progress(done, failed);
        } else {
            self.display.progress(done, self.failed.load(Ordering::Relaxed));
        }
    }

    fn failure_entry(&self, report: &SeedReport, class: String) -> FailureEntry {
        let detail = match (&report.nondeterminism, &report.verdict) {
            (Some(divergence), _) => describe_divergence(divergence, &self.task_names, super::run::RUN_LABELS),
            (None, Verdict::Fail(violation)) => violation.detail.clone(),
            (None, Verdict::Panicked { message }) => message.clone(),
            (None, Verdict::Pass) => unreachable!("a failure has a cause"),
        };
        let run_file = self.write_run_file(report);
        let replay = match &run_file {
            Some(path) => format!("snapsim replay {path}"),
            None => {
                let extra = ReplayExtras::of(&self.args.choices, report.aim);
                super::run::replay_command(&self.source, report.seed.0, &self.template.plants, extra)
            }
        };
        let detail = single_line(&crate::report::with_task_names(&detail, &self.task_names));
        FailureEntry { seed: report.seed.0, class, detail, run_file, replay }
    }

    /// Captures the failing seed (again, with facts) as a run file, within the limit.
    fn write_run_file(&self, report: &SeedReport) -> Option<String> {
        if self.run_files_written.fetch_add(1, Ordering::Relaxed) >= self.args.max_run_files {
            return None;
        }
        let spec = self.template.for_seed(report.seed, report.aim).ok()?;
        let aim = report.aim.map(|aim| format!(" (guided, aimed at {aim})")).unwrap_or_default();
        let drawn = super::run::drawn_note(&spec);
        let note = format!("found by snapsim sweep {} --seeds {}{aim}{drawn}", self.source, self.args.seeds);
        let file = match RunFile::record(&spec, &note) {
            Ok(file) => file,
            Err(error) => {
                self.display.line(&format!("cannot record seed {} as a run file: {error}", report.seed.0));
                return None;
            }
        };
        let name = format!("{}-seed-{}.{RUN_FILE_EXTENSION}", self.template.scenario.name, report.seed.0);
        match write_new_file(&self.args.failures.join(name), &file.encode(), SameBytes::WriteAnother) {
            Ok(path) => Some(path.display().to_string()),
            Err(error) => {
                self.display.line(&format!("cannot write a run file in {}: {error}", self.args.failures.display()));
                None
            }
        }
    }
}

/// The matrix and the cells never hit.
fn render_coverage(coverage: &CoverageSummary) -> String {
    let mut out = render_matrix(&coverage.counts);
    if !coverage.never_hit.is_empty() {
        out += &format!("{:<13}{}\n", "never hit", coverage.never_hit.join(", "));
    }
    out
}

fn single_line(text: &str) -> String {
    text.lines().collect::<Vec<_>>().join(" ")
}

/// Progress on a terminal (a bar) or plain lines (about every tenth of the sweep).
enum Display {
    Bar(ProgressBar),
    Plain { total: u64, step: u64 },
}

impl Display {
    fn new(total: u64, terminal: bool) -> Display {
        if !terminal {
            return Display::Plain { total, step: (total / 10).max(1) };
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} seeds  {msg}  eta {eta}")
            .expect("a valid template")
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_message("failed: 0");
        Display::Bar(bar)
    }

    fn progress(&self, done: u64, failed: u64) {
        match self {
            Display::Bar(bar) => {
                bar.set_position(done);
                bar.set_message(format!("{:.0} seeds/s  failed: {failed}", bar.per_sec()));
            }
            Display::Plain { total, step } => {
                if done.is_multiple_of(*step) || done == *total {
                    eprintln!("progress: {done}/{total} seeds, {failed} failed");
                }
            }
        }
    }

    fn line(&self, text: &str) {
        match self {
            Display::Bar(bar) => bar.println(text),
            Display::Plain { .. } => println!("{text}"),
        }
    }

    fn finish(&self) {
        if let Display::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}
