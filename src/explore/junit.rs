//! A sweep summary as JUnit XML, for CI: one test case per failing invariant class, each
//! failure carrying the replay command of the class's smallest failing seed, the seeds that
//! failed in it, the invariant's detail line and the run file; a sweep with no failure is
//! one passing test case, so CI sees the sweep ran. Built from the summary alone (no
//! clock, no files: the command line writes the text).

use super::summary::{FailureEntry, SweepSummary};
use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};
use std::collections::BTreeMap;
use std::time::Duration;

/// The JUnit XML of `summary`; `source` is the scenario file as the user named it.
pub fn junit_xml(summary: &SweepSummary, source: &str) -> String {
    let suite_name = format!("snapsim sweep {}", summary.scenario);
    let mut suite = TestSuite::new(suite_name.as_str());
    suite.add_properties([
        Property::new("scenario-file", source),
        Property::new("seeds", summary.seeds.as_str()),
        Property::new("seeds-run", summary.seeds_run.to_string()),
        Property::new("seeds-failed", summary.failed.to_string()),
        Property::new("plants", summary.plants.join(",")),
        Property::new("shards", summary.shards.join(",")),
        Property::new("snapsim-version", summary.snapsim_version.as_str()),
    ]);
    if let Ok(time) = Duration::try_from_secs_f64(summary.wall_seconds) {
        suite.set_time(time);
    }
    let classname = format!("snapsim.{}", summary.scenario);
    let by_class = failures_by_class(&summary.failures);
    if by_class.is_empty() {
        let name = format!("seeds {}: every invariant held on {} seeds", summary.seeds, summary.seeds_run);
        let mut case = TestCase::new(name, TestCaseStatus::success());
        case.set_classname(classname.as_str());
        suite.add_test_case(case);
    }
    for (class, entries) in &by_class {
        let mut case = TestCase::new(*class, failure_status(class, entries));
        case.set_classname(classname.as_str());
        suite.add_test_case(case);
    }
    let mut report = Report::new(suite_name);
    report.add_test_suite(suite);
    report.to_string().expect("a report of plain strings serializes")
}

/// The failed seeds of each class, in seed order (the first is the smallest).
fn failures_by_class(failures: &[FailureEntry]) -> BTreeMap<&str, Vec<&FailureEntry>> {
    let mut by_class: BTreeMap<&str, Vec<&FailureEntry>> = BTreeMap::new();
    for entry in failures {
        by_class.entry(entry.class.as_str()).or_default().push(entry);
    }
    for entries in by_class.values_mut() {
        entries.sort_by_key(|entry| entry.seed);
    }
    by_class
}

/// The failure of one class: the message names the class, the seed count and the first
/// seed's detail; the text adds its replay command, its run file and every failed seed.
fn failure_status(class: &str, entries: &[&FailureEntry]) -> TestCaseStatus {
    let first = entries[0];
    let seeds: Vec<String> = entries.iter().map(|entry| entry.seed.to_string()).collect();
    let plural = if entries.len() == 1 { "" } else { "s" };
    let mut text = format!("first failing seed: {}\nreplay: {}\n", first.seed, first.replay);
    if let Some(run_file) = &first.run_file {
        text += &format!("run file: {run_file}\n");
    }
    text += &format!("detail: {}\n", first.detail);
    text += &format!("seeds failed ({}): {}\n", entries.len(), seeds.join(", "));
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
    status
        .set_type(class)
        .set_message(format!("{} seed{plural} failed {class}; seed {}: {}", entries.len(), first.seed, first.detail))
        .set_description(text);
    status
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explore::summary::{SweepIdentity, SweepTiming};
    use crate::explore::sweep::SeedRange;

    fn summary(failures: Vec<FailureEntry>) -> SweepSummary {
        let identity = SweepIdentity {
            scenario: "wordcount".to_string(),
            seeds: SeedRange { start: 0, end: 4 },
            shard: None,
            plants: vec![],
            check_determinism: false,
            guided: false,
        };
        let mut summary = SweepSummary::new(&identity, &[], vec![], SweepTiming { jobs: 1, wall_seconds: 0.5 });
        summary.failed = failures.len() as u64;
        summary.failures = failures;
        summary
    }

    fn entry(seed: u64, class: &str) -> FailureEntry {
        FailureEntry {
            seed,
            class: class.to_string(),
            detail: format!("detail of {seed} <&>"),
            run_file: (seed == 3).then(|| "dir/wordcount-seed-3.snaprun".to_string()),
            replay: format!("snapsim run x.toml --seed {seed}"),
        }
    }

    #[test]
    fn a_class_is_one_failing_case_led_by_its_smallest_seed() {
        let xml = junit_xml(&summary(vec![entry(3, "b"), entry(1, "a"), entry(2, "b")]), "x.toml");
        assert_eq!(xml.matches("<testcase ").count(), 2, "{xml}");
        assert_eq!(xml.matches("<failure ").count(), 2, "{xml}");
        assert!(xml.contains("seeds failed (2): 2, 3"), "{xml}");
        assert!(xml.contains("replay: snapsim run x.toml --seed 2"), "{xml}");
        assert!(!xml.contains("run file: dir/wordcount-seed-3"), "seed 3 is not class b's first: {xml}");
        assert!(xml.contains("detail of 1 &lt;&amp;&gt;"), "escaped: {xml}");
        assert!(xml.contains("tests=\"2\"") && xml.contains("failures=\"2\""), "{xml}");
    }

    #[test]
    fn no_failure_is_one_passing_case() {
        let xml = junit_xml(&summary(vec![]), "x.toml");
        assert_eq!(xml.matches("<testcase ").count(), 1, "{xml}");
        assert!(!xml.contains("<failure"), "{xml}");
        assert!(xml.contains("tests=\"1\"") && xml.contains("failures=\"0\""), "{xml}");
    }
}
