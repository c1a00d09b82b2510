//! `snapsim sweep --junit FILE`: JUnit XML an XML parser accepts, with counts that agree with
//! its test cases, a failing test case per invariant class carrying its replay command, one
//! passing test case for a clean sweep, `SNAPSIM_JUNIT`, and no file ever overwritten.

use crate::support::{BinaryRun, snapsim_in};
use snapsim::explore::summary::SweepSummary;
use std::collections::BTreeSet;
use std::path::Path;

/// `snapsim <args> --no-progress --jobs 2` from the repository root, with `env` set.
fn snapsim(args: &[&str], env: &[(&str, &str)]) -> BinaryRun {
    let args: Vec<&str> = args.iter().copied().chain(["--no-progress", "--jobs", "2"]).collect();
    snapsim_in(Path::new(env!("CARGO_MANIFEST_DIR")), &args, env)
}

fn text(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|error| panic!("reading {}: {error}", path.display()))
}

/// An attribute parsed as a count.
fn count(node: roxmltree::Node<'_, '_>, name: &str) -> usize {
    let value = node.attribute(name).unwrap_or_else(|| panic!("<{}> lacks `{name}`", node.tag_name().name()));
    value.parse().unwrap_or_else(|error| panic!("`{name}` = {value:?}: {error}"))
}

/// The test cases of a parsed report, checked for structure on the way: a `testsuites` root
/// holding one `testsuite`, both with `tests` and `failures` equal to what they hold.
fn checked_cases<'a, 'input>(document: &'a roxmltree::Document<'input>) -> Vec<roxmltree::Node<'a, 'input>> {
    let root = document.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let suites: Vec<_> = root.children().filter(roxmltree::Node::is_element).collect();
    assert_eq!(suites.len(), 1, "one testsuite");
    let suite = suites[0];
    assert_eq!(suite.tag_name().name(), "testsuite");
    let cases: Vec<_> = suite.children().filter(|node| node.has_tag_name("testcase")).collect();
    let failures = cases.iter().filter(|case| case.children().any(|node| node.has_tag_name("failure"))).count();
    for node in [root, suite] {
        assert_eq!(count(node, "tests"), cases.len(), "tests= of <{}>", node.tag_name().name());
        assert_eq!(count(node, "failures"), failures, "failures= of <{}>", node.tag_name().name());
        assert_eq!(count(node, "errors"), 0);
    }
    cases
}

/// The `failure` element of a test case.
fn failure<'a, 'input>(case: roxmltree::Node<'a, 'input>) -> roxmltree::Node<'a, 'input> {
    case.children().find(|node| node.has_tag_name("failure")).expect("a failing test case has a <failure>")
}

#[test]
fn a_planted_bug_gives_a_failing_test_case_per_class_with_its_replay_command() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let (junit, json, runs) = (dir.path().join("out/junit.xml"), dir.path().join("summary.json"), dir.path().join("f"));
    let paths = [junit.to_str().unwrap(), json.to_str().unwrap(), runs.to_str().unwrap()];
    let args = ["sweep", "sims/wordcount.toml", "--plant", "forget-source-rewind", "--seeds", "0..4"];
    let run = snapsim(&[&args[..], &["--junit", paths[0], "--json", paths[1], "--failures", paths[2]]].concat(), &[]);
    assert_eq!(run.code, 1, "a failing sweep exits 1; stderr: {}", run.stderr);
    assert!(run.stdout.contains(&format!("junit        {}", paths[0])), "stdout names the file: {}", run.stdout);
    let summary = SweepSummary::from_json(&text(&json)).expect("the JSON summary reads");
    assert!(summary.failed > 0, "the planted bug is found");
    let xml = text(&junit);
    let document = roxmltree::Document::parse(&xml).expect("the JUnit file is well-formed XML");
    let cases = checked_cases(&document);
    let names: BTreeSet<&str> = cases.iter().map(|case| case.attribute("name").expect("a test case name")).collect();
    let classes: BTreeSet<&str> = summary.failures_by_class.keys().map(String::as_str).collect();
    assert_eq!(names, classes, "one test case per failing class");
    assert_eq!(cases.len(), classes.len(), "no class twice");
    for case in cases {
        let class = case.attribute("name").unwrap();
        let failed: Vec<_> = summary.failures.iter().filter(|entry| entry.class == class).collect();
        let first = failed.iter().min_by_key(|entry| entry.seed).expect("the class has a seed");
        let body = failure(case).text().expect("the failure has text");
        assert!(body.contains(&format!("replay: {}", first.replay)), "the smallest seed's replay: {body}");
        assert!(body.contains("snapsim replay "), "a run file was written, so replay it: {body}");
        assert!(body.contains(&first.detail), "the detail line: {body}");
        let run_file = first.run_file.as_deref().expect("the first failure has a run file");
        assert!(body.contains(&format!("run file: {run_file}")) && Path::new(run_file).exists(), "{body}");
        let seeds: Vec<String> = failed.iter().map(|entry| entry.seed.to_string()).collect();
        assert!(body.contains(&format!("seeds failed ({}): {}", failed.len(), seeds.join(", "))), "{body}");
    }
}

#[test]
fn without_run_files_the_replay_command_reruns_the_seed() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let junit = dir.path().join("junit.xml");
    let args = ["sweep", "sims/wordcount.toml", "--plant", "forget-source-rewind", "--seeds", "2..4"];
    let run = snapsim(&[&args[..], &["--max-run-files", "0", "--junit", junit.to_str().unwrap()]].concat(), &[]);
    assert_eq!(run.code, 1, "stderr: {}", run.stderr);
    let xml = text(&junit);
    let document = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let cases = checked_cases(&document);
    assert!(!cases.is_empty(), "the planted bug is found");
    for case in cases {
        let body = failure(case).text().expect("the failure has text");
        let replay = body.lines().find_map(|line| line.strip_prefix("replay: ")).expect("a replay line");
        assert!(replay.starts_with("snapsim run sims/wordcount.toml --seed "), "{body}");
        assert!(replay.contains("--plant forget-source-rewind"), "the replay plants the bug: {body}");
        assert!(!body.contains("run file:"), "no run file was written: {body}");
    }
}

#[test]
fn a_passing_sweep_writes_one_passing_test_case_and_exits_0() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let junit = dir.path().join("junit.xml");
    let runs = dir.path().join("f");
    let args = ["sweep", "sims/wordcount.toml", "--seeds", "0..2", "--junit", junit.to_str().unwrap()];
    let run = snapsim(&[&args[..], &["--failures", runs.to_str().unwrap()]].concat(), &[]);
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    let xml = text(&junit);
    let document = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let cases = checked_cases(&document);
    assert_eq!(cases.len(), 1, "one passing test case: {xml}");
    assert!(cases[0].children().all(|node| !node.is_element()), "no failure, skip or error: {xml}");
    assert!(cases[0].attribute("name").unwrap().contains("0..2"), "the case names the seeds: {xml}");
}

#[test]
fn snapsim_junit_in_the_environment_names_the_file() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let junit = dir.path().join("from-env.xml");
    let runs = dir.path().join("f");
    let args = ["sweep", "sims/wordcount.toml", "--seeds", "0..1", "--failures", runs.to_str().unwrap()];
    let run = snapsim(&args, &[("SNAPSIM_JUNIT", junit.to_str().unwrap())]);
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    let xml = text(&junit);
    let document = roxmltree::Document::parse(&xml).expect("well-formed XML");
    assert_eq!(checked_cases(&document).len(), 1);
}

#[test]
fn an_existing_file_is_never_overwritten() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let junit = dir.path().join("mine.xml");
    std::fs::write(&junit, "the user's own file").expect("writing the file");
    let shown = junit.to_str().unwrap();
    let run = snapsim(&["sweep", "sims/wordcount.toml", "--seeds", "0..1", "--junit", shown], &[]);
    assert_eq!(run.code, 2, "stderr: {}", run.stderr);
    assert_eq!(run.stdout, "", "refused before any seed ran");
    assert_eq!(run.stderr.lines().count(), 1, "one line: {}", run.stderr);
    assert!(run.stderr.starts_with("snapsim: --junit: ") && run.stderr.contains(shown), "{}", run.stderr);
    assert_eq!(text(&junit), "the user's own file", "the content is intact");
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|entry| entry.unwrap().file_name()).collect();
    assert_eq!(names.len(), 1, "no numbered copy written beside it: {names:?}");
}

#[test]
fn the_same_file_for_json_and_junit_is_refused() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let both = dir.path().join("out");
    let shown = both.to_str().unwrap();
    let run = snapsim(&["sweep", "sims/wordcount.toml", "--seeds", "0..1", "--json", shown, "--junit", shown], &[]);
    assert_eq!(run.code, 2, "stderr: {}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "one line: {}", run.stderr);
    assert!(run.stderr.contains("--junit") && run.stderr.contains(shown), "{}", run.stderr);
    assert!(!both.exists(), "nothing written");
}

#[test]
fn an_unwritable_path_is_one_line_naming_the_flag_and_file_and_exit_2() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, "not a folder").expect("writing the file");
    let junit = blocker.join("junit.xml");
    let shown = junit.to_str().unwrap();
    let runs = dir.path().join("f");
    let args = ["sweep", "sims/wordcount.toml", "--seeds", "0..1", "--failures", runs.to_str().unwrap()];
    let run = snapsim(&[&args[..], &["--junit", shown]].concat(), &[]);
    assert_eq!(run.code, 2, "stderr: {}", run.stderr);
    let errors: Vec<_> = run.stderr.lines().filter(|line| line.starts_with("snapsim: ")).collect();
    assert_eq!(errors.len(), 1, "one error line: {}", run.stderr);
    assert!(errors[0].starts_with("snapsim: --junit: cannot write ") && errors[0].contains(shown), "{}", errors[0]);
    assert!(!run.stderr.contains("panicked"), "no panic: {}", run.stderr);
}
