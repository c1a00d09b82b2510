//! `snapsim zoo`: the planted bugs — each a small switchable deviation modelled on a real
//! failure class — listed (`--list`), or each swept on the scenario that suits it, with
//! swarm faults, to measure how many seeds it takes to find (docs/bug-zoo.md).
//!
//! Seeds run in chunks of a fixed size, in parallel within a chunk, and the first detection
//! is the lowest failing seed of the first chunk with a failure: the figure does not depend
//! on thread timing. Over several disjoint seed ranges (`--ranges`), the median and the worst
//! number of seeds to the first detection; the first detection shrunk, and the minimal
//! case's size. `--swarm-only` drops the scenarios' scripted faults, `--guided` aims each
//! seed's extra fault at an unhit phase × fault cell: together, the figure of merit the
//! fault generator is tuned by.

use super::{EXIT_FAIL, EXIT_PASS, bad_input};
use crate::coverage::aim::Aim;
use crate::explore::run::RunSpec;
use crate::explore::run_file::RunFile;
use crate::explore::shrink::{ShrinkBudget, ShrinkError, shrink};
use crate::explore::sweep::{SeedRange, SweepPlan, sweep};
use crate::kernel::rng::Seed;
use crate::plant::{ALL_PLANTS, PlantedBug};
use crate::scenario::Scenario;
use clap::Args;

/// Seeds run together before looking for a detection.
const CHUNK: u64 = 16;

/// Arguments of `snapsim zoo`.
#[derive(Debug, Args)]
pub struct ZooArgs {
    /// List the planted bugs (name, the failure each models, its scenario, what it does)
    /// instead of sweeping them.
    #[arg(long)]
    list: bool,
    /// Seeds to try per bug and range before counting it not found there.
    #[arg(long, default_value_t = 400, value_name = "N")]
    budget: u64,
    /// Disjoint seed ranges to measure over (range `r` is `r × budget ..`): the table gives
    /// the median and the worst number of seeds to the first detection.
    #[arg(long, default_value_t = 1, value_name = "K")]
    ranges: u64,
    /// Only these bugs (repeatable); all of them by default.
    #[arg(long = "plant", value_name = "NAME")]
    plants: Vec<String>,
    /// Shrink each bug's first detection with at most this many candidate runs and show
    /// the minimal case's size (faults, source records, events); 0 skips shrinking.
    #[arg(long, default_value_t = 200, value_name = "N")]
    shrink_attempts: u32,
    /// Drop each scenario's scripted faults: the swarm's draw alone must find the bug.
    #[arg(long)]
    swarm_only: bool,
    /// Guided sweeps: each seed's extra fault aimed at a phase x fault cell not yet hit.
    #[arg(long)]
    guided: bool,
    /// The swarm's fault intensity: at most this many drawn faults per seed (default: the
    /// scenario's `[swarm]`, else 6).
    #[arg(long, value_name = "N")]
    faults_max: Option<u32>,
}

/// Lists the zoo, or sweeps it; exit 1 if a bug was not found within the budget.
pub fn zoo(args: &ZooArgs) -> u8 {
    let plants = match super::parse_plants(&args.plants) {
        Ok(plants) if plants.is_empty() => ALL_PLANTS.to_vec(),
        Ok(plants) => plants,
        Err(code) => return code,
    };
    if args.list {
        for plant in &plants {
            println!("{:<44} {}", plant.name(), plant.description());
            println!("{:<44} models: {}; on {}", "", plant.models(), plant.scenario());
        }
        return EXIT_PASS;
    }
    if args.budget == 0 {
        return bad_input("--budget: must be at least 1");
    }
    if args.ranges == 0 {
        return bad_input("--ranges: must be at least 1");
    }
    // Some planted bugs end a run with a panic: a finding, reported in the table.
    crate::explore::guarded::install_quiet_panic_hook();
    println!(
        "{:<44} {:>10} {:>8} {:>7}  {:<24} {:>18}  scenario",
        "planted bug", "found at", "median", "worst", "caught by", "shrunk f/r/events"
    );
    let mut all_found = true;
    for plant in plants {
        let scenario = match Scenario::from_path(std::path::Path::new(plant.scenario())) {
            Ok(scenario) if args.swarm_only => Scenario { faults: Vec::new(), ..scenario },
            Ok(scenario) => scenario,
            Err(error) => {
                let line = error.one_line(plant.scenario());
                return bad_input(&format!("{line} (run `snapsim zoo` from the repository root)"));
            }
        };
        let mut scenario = super::with_swarm(scenario, true);
        if let (Some(swarm), Some(faults_max)) = (scenario.swarm.as_mut(), args.faults_max) {
            swarm.faults_max = faults_max;
        }
        let search = Search { plant, scenario: &scenario, guided: args.guided };
        let detections: Vec<Option<Detection>> =
            (0..args.ranges).map(|range| search.first_detection(range * args.budget, args.budget)).collect();
        all_found &= detections.iter().all(Option::is_some);
        let figures = DetectionFigures::of(&detections, args.budget);
        let shrunk = match &detections[0] {
            Some(found) if args.shrink_attempts > 0 => search.shrunk_size(found, args.shrink_attempts),
            _ => "-".to_string(),
        };
        println!(
            "{:<44} {:>10} {:>8} {:>7}  {:<24} {:>18}  {}",
            plant.name(),
            figures.first,
            figures.median,
            figures.worst,
            figures.caught_by,
            shrunk,
            plant.scenario()
        );
    }
    if all_found { EXIT_PASS } else { EXIT_FAIL }
}

/// A bug's row: its first detection in the first range, and the seeds each range took.
struct DetectionFigures {
    first: String,
    median: String,
    worst: String,
    caught_by: String,
}

impl DetectionFigures {
    /// From each range's first detection (seed, class), counted in seeds from the range's
    /// start (`seeds to detection` = offset + 1); a range without one counts as more than
    /// `budget`.
    fn of(detections: &[Option<Detection>], budget: u64) -> DetectionFigures {
        let first =
            detections[0].as_ref().map_or_else(|| format!("not in {budget}"), |found| format!("seed {}", found.seed));
        let mut seeds: Vec<u64> = detections
            .iter()
            .enumerate()
            .map(|(range, found)| found.as_ref().map_or(u64::MAX, |found| found.seed - range as u64 * budget + 1))
            .collect();
        seeds.sort_unstable();
        let shown = |seeds: u64| if seeds == u64::MAX { format!(">{budget}") } else { seeds.to_string() };
        let caught_by =
            detections.iter().flatten().map(|found| found.class.clone()).next().unwrap_or_else(|| "-".to_string());
        DetectionFigures {
            first,
            median: shown(seeds[(seeds.len() - 1) / 2]),
            worst: shown(*seeds.last().expect("at least one range")),
            caught_by,
        }
    }
}

/// A bug's first detection in a range: the seed, the failure class, and the seed's aim
/// in a guided sweep.
struct Detection {
    seed: u64,
    class: String,
    aim: Option<Aim>,
}

/// One bug searched for on its scenario.
struct Search<'a> {
    plant: PlantedBug,
    scenario: &'a Scenario,
    guided: bool,
}

impl Search<'_> {
    /// The spec every seed runs: the scenario (its `[swarm]` set by `zoo`) and the plant.
    fn template(&self) -> RunSpec {
        RunSpec { plants: vec![self.plant], ..RunSpec::new(self.scenario.clone(), Seed(0)) }
    }

    /// The lowest seed of `first .. first + budget` that fails, and how. Unguided, in
    /// chunks of `CHUNK` seeds; guided, one sweep that stops after the first chunk with a
    /// failure (its chunks run in order, so the aims are the same on any thread count).
    fn first_detection(&self, first: u64, budget: u64) -> Option<Detection> {
        let plan = |start: u64, end: u64| SweepPlan {
            template: self.template(),
            seeds: SeedRange { start, end },
            shard: None,
            stop_on_failure: self.guided,
            // Only the determinism self-check sees hidden state leaking between runs.
            check_determinism: self.plant == PlantedBug::LeakProcessState,
            guided: self.guided,
        };
        let lowest = |plan: &SweepPlan| {
            let reports = sweep(plan, &|_| {}).ok()?;
            reports
                .into_iter()
                .filter_map(|report| {
                    Some(Detection { seed: report.seed.0, class: report.failure_class()?, aim: report.aim })
                })
                .min_by_key(|found| found.seed)
        };
        if self.guided {
            return lowest(&plan(first, first + budget));
        }
        let (mut start, end) = (first, first + budget);
        while start < end {
            let chunk_end = (start + CHUNK).min(end);
            if let Some(found) = lowest(&plan(start, chunk_end)) {
                return Some(found);
            }
            start = chunk_end;
        }
        None
    }

    /// `found` shrunk: `faults/records/events` of the minimal case, or why it could not
    /// be shrunk (a determinism finding has no verdict to keep).
    fn shrunk_size(&self, found: &Detection, attempts: u32) -> String {
        let Ok(spec) = self.template().for_seed(Seed(found.seed), found.aim) else { return "invalid".to_string() };
        let Ok(file) = RunFile::record(&spec, "snapsim zoo") else { return "invalid".to_string() };
        match shrink(&file, ShrinkBudget { attempts }) {
            Ok(result) => {
                let size = &result.after;
                let events = size.events.map_or("?".to_string(), |events| events.to_string());
                format!("{}/{}/{events}", size.faults, size.source_records)
            }
            Err(ShrinkError::Passing) => "no verdict".to_string(),
            Err(_) => "unstable".to_string(),
        }
    }
}
