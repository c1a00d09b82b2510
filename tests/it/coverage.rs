//! Coverage of protocol phases by faults: aimed faults land in their cell (and an aim the
//! job cannot take is refused), a run without faults hits none, a guided sweep is the same
//! whatever the thread count, and crashes wait for the steps aims use.

use crate::support::{load, run_keeping_facts};
use snapsim::coverage::aim::Aim;
use snapsim::coverage::{ProtocolPhase, Strike};
use snapsim::explore::run::{RunSpec, run_spec};
use snapsim::explore::sweep::{SeedRange, SeedReport, SweepPlan, sweep};
use snapsim::kernel::ids::CheckpointId;
use snapsim::kernel::rng::Seed;
use snapsim::kernel::trace::Fact;
use snapsim::scenario::{FaultSection, PhaseName};

/// How many of seeds `0..seeds` of `scenario` with `aim`'s fault hit the aimed cell.
fn seeds_hitting(scenario: &str, aim: Aim, seeds: u64) -> u64 {
    let scenario = load(scenario);
    (0..seeds)
        .filter(|&seed| {
            let spec = RunSpec::new(scenario.clone(), Seed(seed)).aimed(aim).expect("a valid aim");
            let outcome = run_spec(&spec, false).expect("a valid scenario");
            assert!(outcome.passed(), "seed {seed} aimed at {aim}: {:?}", outcome.verdict);
            outcome.coverage.hits(aim.phase, aim.strike) > 0
        })
        .count() as u64
}

#[test]
fn faults_aimed_at_a_phase_strike_in_it() {
    let aims = [
        ("sims/wordcount.toml", "aligning/crash-task"),
        ("sims/wordcount.toml", "metadata-write/crash-coordinator"),
        ("sims/wordcount.toml", "uploading-state/write-failed"),
        ("sims/kafka-2pc.toml", "pre-committed/crash-task"),
        ("sims/wordcount.toml", "recovering/crash-task"),
    ];
    for (scenario, aim) in aims {
        let aim: Aim = aim.parse().expect("an aim");
        let hits = seeds_hitting(scenario, aim, 6);
        assert!(hits >= 4, "{aim} on {scenario}: only {hits} of 6 seeds hit the cell");
    }
}

#[test]
fn a_run_without_faults_hits_no_cell_but_sees_the_phases() {
    let mut scenario = load("sims/wordcount.toml");
    scenario.faults.clear();
    let outcome = run_spec(&RunSpec::new(scenario, Seed(1)), false).expect("a valid scenario");
    assert_eq!(outcome.coverage.cells_hit(), 0);
    for phase in [ProtocolPhase::BeforeFirstCheckpoint, ProtocolPhase::Aligning, ProtocolPhase::MetadataWrite] {
        assert!(outcome.coverage.phase_seen(phase), "{} never held", phase.name());
    }
    assert!(!outcome.coverage.strike_seen(Strike::CrashTask));
}

fn guided_sweep(threads: usize) -> Vec<SeedReport> {
    let mut scenario = load("sims/wordcount.toml");
    scenario.workload.records_per_source_subtask = 400;
    let plan = SweepPlan {
        template: RunSpec::new(scenario, Seed(0)),
        seeds: SeedRange { start: 0, end: 40 },
        shard: None,
        stop_on_failure: false,
        check_determinism: false,
        guided: true,
    };
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a pool");
    pool.install(|| sweep(&plan, &|_| {})).expect("a valid plan")
}

#[test]
fn a_guided_sweep_aims_the_same_seeds_alike_on_one_thread_and_two() {
    let (one, two) = (guided_sweep(1), guided_sweep(2));
    assert_eq!(one, two);
    assert!(one.iter().all(|report| report.aim.is_some()), "every seed of the first chunks is aimed");
    assert!(one.iter().all(|report| report.failure_class().is_none()));
}

/// Where in `facts` the first fact matching `wanted` stands.
fn position(facts: &[snapsim::kernel::trace::TimedFact], wanted: impl Fn(&Fact) -> bool) -> usize {
    facts.iter().position(|timed| wanted(&timed.fact)).expect("the fact happens")
}

#[test]
fn crashes_wait_for_the_input_blocked_and_restarted_steps() {
    let mut scenario = load("sims/wordcount.toml");
    scenario.faults.clear();
    let mut after_block = FaultSection::crash_task("sink[2]", 0);
    (after_block.after, after_block.checkpoint, after_block.phase_task) =
        (Some(PhaseName::InputBlocked), Some(1), Some("count[0]".to_string()));
    let mut after_restart = FaultSection::crash_task("count[1]", 0);
    after_restart.after = Some(PhaseName::Restarted);
    scenario.faults = vec![after_block, after_restart];
    let outcome = run_keeping_facts(&scenario, 1);
    assert!(outcome.passed(), "{:?}", outcome.verdict);
    let facts = outcome.facts.expect("kept");
    let blocked = position(&facts, |fact| matches!(fact, Fact::InputBlocked { checkpoint: CheckpointId(1), .. }));
    let restarted = position(&facts, |fact| matches!(fact, Fact::JobRestarted { .. }));
    let crashes: Vec<usize> =
        (0..facts.len()).filter(|&index| matches!(facts[index].fact, Fact::TaskCrashed { .. })).collect();
    assert_eq!(crashes.len(), 2, "one crash each");
    assert!(
        crashes[0] > blocked && facts[crashes[0]].time == facts[blocked].time,
        "the first strikes as the input blocks"
    );
    assert!(crashes[1] > restarted, "the second strikes after the restart the first caused");
}

#[test]
fn an_aim_the_job_cannot_take_is_refused_naming_why() {
    let spec = RunSpec::new(load("tests/data/minimal.toml"), Seed(1));
    for (aim, why) in [
        ("ending/crash-task", "no protocol step opens ending"),
        ("no-checkpoint-pending/trigger-lost", "no run can hit this cell"),
        ("aligning/external-call-failed", "nothing for external-call-failed to strike"),
    ] {
        let error = spec.aimed(aim.parse().expect("an aim")).expect_err(aim);
        assert_eq!(error.field.as_deref(), Some("aim"));
        assert!(error.message.contains(why), "{aim}: {}", error.message);
    }
}
