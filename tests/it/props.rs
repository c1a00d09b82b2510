//! Property tests: exactly-once state holds for any seed and any crashes (time and task).
//! A failure leaves a run file behind and prints the `snapsim replay` command.

use crate::support::load;
use proptest::prelude::*;
use snapsim::scenario::Scenario;
use snapsim::testing::{assert_exactly_once_with_plan, fault_plans, seeds};

/// The word count scenario, smaller so that many cases run quickly: about 35 ms of
/// simulated time, so crashes within 40 ms land while the job runs.
fn small_wordcount() -> Scenario {
    let mut scenario = load("sims/wordcount.toml");
    scenario.workload.records_per_source_subtask = 1_500;
    scenario
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn exactly_once_survives_any_crashes(
        seed in seeds(),
        plan in fault_plans(&small_wordcount(), 40, 3),
    ) {
        let outcome = assert_exactly_once_with_plan(&small_wordcount(), seed, &plan);
        // A crash after the job has finished never happens.
        prop_assert!(outcome.stats.recoveries <= plan.faults.len() as u64);
    }
}
