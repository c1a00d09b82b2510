//! `snapsim zoo`: the planted bugs — each a small switchable deviation modelled on a real
//! failure class — listed (`--list`), or each swept on the scenario that suits it, with
//! swarm faults, to measure how many seeds it takes to find (docs/bug-zoo.md).
//!
//! Seeds run in chunks of a fixed size, in parallel within a chunk, and the first detection
//! is the lowest failing seed of the first chunk with a failure: the figure does not depend
//! on thread timing. Over several disjoint seed ranges (`--ranges`), the median and the worst
//! number of seeds to the first detection.

use super::{EXIT_FAIL, EXIT_PASS, bad_input};
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
            Ok(scenario) => scenario,
            Err(error) => {
                let line = error.one_line(plant.scenario());
                return bad_input(&format!("{line} (run `snapsim zoo` from the repository root)"));
            }
        };
        let detections: Vec<Option<(u64, String)>> =
            (0..args.ranges).map(|range| first_detection(plant, &scenario, range * args.budget, args.budget)).collect();
        all_found &= detections.iter().all(Option::is_some);
        let figures = DetectionFigures::of(&detections, args.budget);
        let shrunk = match &detections[0] {
            Some((seed, _)) if args.shrink_attempts > 0 => shrunk_size(plant, &scenario, *seed, args.shrink_attempts),
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

/// The first detection of `plant` (at `seed`) shrunk: `faults/records/events` of the
/// minimal case, or why it could not be shrunk (a determinism finding has no verdict to
/// keep).
fn shrunk_size(plant: PlantedBug, scenario: &Scenario, seed: u64, attempts: u32) -> String {
    let scenario = super::with_swarm(scenario.clone(), true);
    let spec = RunSpec { plants: vec![plant], ..RunSpec::new(scenario, Seed(seed)) };
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
    fn of(detections: &[Option<(u64, String)>], budget: u64) -> DetectionFigures {
        let first =
            detections[0].as_ref().map_or_else(|| format!("not in {budget}"), |(seed, _)| format!("seed {seed}"));
        let mut seeds: Vec<u64> = detections
            .iter()
            .enumerate()
            .map(|(range, found)| found.as_ref().map_or(u64::MAX, |(seed, _)| seed - range as u64 * budget + 1))
            .collect();
        seeds.sort_unstable();
        let shown = |seeds: u64| if seeds == u64::MAX { format!(">{budget}") } else { seeds.to_string() };
        let caught_by =
            detections.iter().flatten().map(|(_, class)| class.clone()).next().unwrap_or_else(|| "-".to_string());
        DetectionFigures {
            first,
            median: shown(seeds[(seeds.len() - 1) / 2]),
            worst: shown(*seeds.last().expect("at least one range")),
            caught_by,
        }
    }
}

/// The lowest seed of `start .. start + budget` whose swarm run of `scenario` with `plant`
/// fails, and how.
fn first_detection(plant: PlantedBug, scenario: &Scenario, first: u64, budget: u64) -> Option<(u64, String)> {
    let scenario = super::with_swarm(scenario.clone(), true);
    let template = RunSpec { plants: vec![plant], ..RunSpec::new(scenario, Seed(0)) };
    let (mut start, budget) = (first, first + budget);
    while start < budget {
        let end = (start + CHUNK).min(budget);
        let plan = SweepPlan {
            template: template.clone(),
            seeds: SeedRange { start, end },
            shard: None,
            stop_on_failure: false,
            // Only the determinism self-check sees hidden state leaking between runs.
            check_determinism: plant == PlantedBug::LeakProcessState,
            guided: false,
        };
        let reports = sweep(&plan, &|_| {}).ok()?;
        let found = reports
            .iter()
            .filter_map(|report| Some((report.seed.0, report.failure_class()?)))
            .min_by_key(|&(seed, _)| seed);
        if found.is_some() {
            return found;
        }
        start = end;
    }
    None
}
