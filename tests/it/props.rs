//! Property tests: exactly-once state holds for any seed and any crashes (time and task).
//! The smaller word count here runs about 35 ms of simulated time, so crashes land within it.

use crate::support::{load, run};
use proptest::prelude::*;
use snapsim::scenario::{FaultSection, Scenario};

const TASKS: [&str; 8] =
    ["source[0]", "source[1]", "count[0]", "count[1]", "count[2]", "sink[0]", "sink[1]", "sink[2]"];

/// The word count scenario, smaller so that many cases run quickly, with the given crashes.
fn wordcount_with_crashes(crashes: &[(usize, u64)]) -> Scenario {
    let mut scenario = load("sims/wordcount.toml");
    scenario.workload.records_per_source_subtask = 1_500;
    scenario.faults = crashes.iter().map(|&(task, at_ms)| FaultSection::crash_task(TASKS[task], at_ms)).collect();
    scenario
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn exactly_once_survives_any_crashes(
        seed in any::<u64>(),
        crashes in prop::collection::vec((0..TASKS.len(), 0u64..40), 0..4),
    ) {
        let outcome = run(&wordcount_with_crashes(&crashes), seed, &[]);
        prop_assert!(
            outcome.passed(),
            "seed {seed}, crashes {crashes:?}: {:?}\nreplay: put these crashes in a copy of sims/wordcount.toml \
             and run `snapsim run <copy> --seed {seed}`",
            outcome.verdict
        );
        // A crash after the job has finished never happens.
        prop_assert!(outcome.stats.recoveries <= crashes.len() as u64);
    }
}
