//! `snapsim zoo`: the planted bugs — each a small switchable deviation modelled on a real
//! failure class — listed (`--list`), or each swept on the scenario that suits it, with
//! swarm faults, to measure how many seeds it takes to find (docs/bug-zoo.md).
//!
//! Seeds run in chunks of a fixed size, in parallel within a chunk, and the first detection
//! is the lowest failing seed of the first chunk with a failure: the figure does not depend
//! on thread timing.

use super::{EXIT_FAIL, EXIT_PASS, bad_input};
use crate::explore::run::RunSpec;
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
    /// Seeds to try per bug, from 0, before counting it not found.
    #[arg(long, default_value_t = 400, value_name = "N")]
    budget: u64,
    /// Only these bugs (repeatable); all of them by default.
    #[arg(long = "plant", value_name = "NAME")]
    plants: Vec<String>,
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
    // Some planted bugs end a run with a panic: a finding, reported in the table.
    crate::explore::guarded::install_quiet_panic_hook();
    println!("{:<44} {:>10}  {:<26} scenario", "planted bug", "found at", "caught by");
    let mut all_found = true;
    for plant in plants {
        let scenario = match Scenario::from_path(std::path::Path::new(plant.scenario())) {
            Ok(scenario) => scenario,
            Err(error) => {
                let line = error.one_line(plant.scenario());
                return bad_input(&format!("{line} (run `snapsim zoo` from the repository root)"));
            }
        };
        let found = first_detection(plant, scenario, args.budget);
        let (seed, caught_by) = match &found {
            Some((seed, class)) => (format!("seed {seed}"), class.clone()),
            None => (format!("not in {}", args.budget), "-".to_string()),
        };
        all_found &= found.is_some();
        println!("{:<44} {seed:>10}  {caught_by:<26} {}", plant.name(), plant.scenario());
    }
    if all_found { EXIT_PASS } else { EXIT_FAIL }
}

/// The lowest seed below `budget` whose swarm run of `scenario` with `plant` fails, and how.
fn first_detection(plant: PlantedBug, scenario: Scenario, budget: u64) -> Option<(u64, String)> {
    let scenario = super::with_swarm(scenario, true);
    let template = RunSpec { plants: vec![plant], ..RunSpec::new(scenario, Seed(0)) };
    let mut start = 0;
    while start < budget {
        let end = (start + CHUNK).min(budget);
        let plan = SweepPlan {
            template: template.clone(),
            seeds: SeedRange { start, end },
            shard: None,
            stop_on_failure: false,
            // Only the determinism self-check sees hidden state leaking between runs.
            check_determinism: plant == PlantedBug::LeakProcessState,
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
