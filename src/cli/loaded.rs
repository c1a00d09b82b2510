//! A run to look at, for `draw`, `trace` and `plot`: a run file as stored, or a scenario
//! run with a seed, re-run with its facts kept.

use super::bad_input;
use crate::coverage::aim::Aim;
use crate::explore::guarded::{install_quiet_panic_hook, run_guarded};
use crate::explore::run::{RunSpec, Verdict};
use crate::kernel::rng::Seed;
use crate::kernel::trace::TimedFact;
use crate::scenario::CompiledScenario;
use clap::Args;
use std::path::PathBuf;

/// Which run: a run file, or a scenario with a seed (and its plants, swarm and aim).
#[derive(Debug, Args)]
pub struct RunInput {
    /// A run file (`.snaprun`, re-run as stored) or a scenario file (run with `--seed`).
    pub input: PathBuf,
    /// For a scenario: the seed.
    #[arg(long, env = "SNAPSIM_SEED", default_value_t = 1)]
    pub seed: u64,
    #[command(flatten)]
    pub choices: super::RunChoices,
    /// For a scenario: a guided seed's aim (`PHASE/STRIKE`).
    #[arg(long, value_name = "PHASE/STRIKE")]
    pub aim: Option<String>,
}

/// A run with its facts.
pub struct LoadedRun {
    /// What ran.
    pub spec: RunSpec,
    /// How the user named it.
    pub source: String,
    /// Its compiled scenario (task names, graph).
    pub compiled: CompiledScenario,
    /// How it ended.
    pub verdict: Verdict,
    /// Every fact, in order.
    pub facts: Vec<TimedFact>,
}

impl RunInput {
    /// Runs the input with facts kept; bad input has been reported when this is `Err`.
    pub fn load(&self) -> Result<LoadedRun, u8> {
        let (spec, source) = self.spec()?;
        let compiled = spec.compile().map_err(|error| bad_input(&error.one_line(&source)))?;
        install_quiet_panic_hook();
        let run = run_guarded(&spec, true).map_err(|error| bad_input(&error.one_line(&source)))?;
        let Some(facts) = run.outcome.as_ref().and_then(|outcome| outcome.facts.clone()) else {
            return Err(bad_input(&format!("{source}: the run panicked, so it has no facts ({:?})", run.verdict)));
        };
        Ok(LoadedRun { spec, source, compiled, verdict: run.verdict, facts })
    }

    fn spec(&self) -> Result<(RunSpec, String), u8> {
        let source = self.input.display().to_string();
        if self.input.extension().is_some_and(|extension| extension == "snaprun") {
            return Ok((super::read_run_file(&self.input)?.spec, source));
        }
        let (scenario, _, plants) = super::load_spec(&self.input, &self.choices.plants)?;
        let scenario = self.choices.apply(scenario);
        let spec = RunSpec { plants, ..RunSpec::new(scenario, Seed(self.seed)) };
        let Some(aim) = &self.aim else { return Ok((spec, source)) };
        let aim: Aim = aim.parse().map_err(|message| bad_input(&format!("--aim: {message}")))?;
        let spec = spec.aimed(aim).map_err(|error| bad_input(&error.one_line(&source)))?;
        Ok((spec, source))
    }
}

impl LoadedRun {
    /// `scenario (source), seed N, protocol: VERDICT`.
    pub fn title(&self) -> String {
        let verdict = self.verdict.failure_class().map_or("PASS".to_string(), |class| format!("FAIL {class}"));
        let protocol = self.compiled.world.protocol.name();
        format!("{} ({}), seed {}, {protocol}: {verdict}", self.spec.scenario.name, self.source, self.spec.seed.0)
    }

    /// Every channel's (sender, receiver), over every stage of the run.
    pub fn channel_ends(&self) -> Vec<(crate::kernel::ids::TaskId, crate::kernel::ids::TaskId)> {
        crate::dataflow::staging::Staging::new(&self.compiled.world.graph, &self.compiled.world.rescales).channel_ends
    }
}
