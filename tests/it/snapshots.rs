//! insta snapshots of rendered reports: the text a user reads, pinned for review.

use crate::support::{compile, load, run};
use snapsim::plant::PlantedBug;
use snapsim::report::{ReportContext, render_report};

fn report(seed: u64, plants: &[PlantedBug], replay_command: &str) -> String {
    let scenario = load("sims/wordcount.toml");
    let compiled = compile(&scenario);
    let outcome = run(&scenario, seed, plants);
    let context = ReportContext {
        draw_command: None,
        scenario_name: &scenario.name,
        scenario_source: "sims/wordcount.toml",
        task_names: &compiled.task_names,
        replay_command: replay_command.to_string(),
    };
    render_report(&outcome, &context)
}

#[test]
fn wordcount_seed_1_report() {
    insta::assert_snapshot!(report(1, &[], "snapsim run sims/wordcount.toml --seed 1"));
}

#[test]
fn wordcount_seed_1_report_with_a_planted_bug() {
    let replay = "snapsim run sims/wordcount.toml --seed 1 --plant forget-source-rewind";
    insta::assert_snapshot!(report(1, &[PlantedBug::ForgetSourceRewind], replay));
}

#[test]
fn compare_of_the_diamond_at_seed_1() {
    let output = assert_cmd::Command::cargo_bin("snapsim")
        .expect("built")
        .current_dir(crate::support::repo_root())
        .args(["compare", "sims/diamond.toml", "--seed", "1"])
        .output()
        .expect("ran");
    assert_eq!(output.status.code(), Some(0));
    insta::assert_snapshot!(String::from_utf8(output.stdout).expect("utf-8"));
}
