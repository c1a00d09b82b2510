//! `snapsim compare <scenario> --seed N`: the scenario under every protocol, with the same
//! workload and the same fault plan, side by side.

use super::{EXIT_FAIL, EXIT_PASS, bad_input, load_scenario};
use crate::explore::guarded::{GuardedRun, install_quiet_panic_hook, run_guarded};
use crate::explore::run::RunSpec;
use crate::faults::FaultPlan;
use crate::kernel::rng::Seed;
use crate::protocol::ProtocolKind;
use crate::report::compare::{ComparedRun, render_comparison};
use crate::report::metrics::protocol_metrics;
use crate::scenario::ScenarioError;
use clap::Args;
use std::path::PathBuf;

/// Arguments of `snapsim compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The scenario file (TOML); its own protocol setting is overridden.
    scenario: PathBuf,
    /// The seed every protocol runs with.
    #[arg(long, env = "SNAPSIM_SEED", default_value_t = 1)]
    seed: u64,
}

/// Runs every protocol and prints the table; exit 1 if any protocol failed an invariant.
pub fn compare(args: &CompareArgs) -> u8 {
    let source = args.scenario.display().to_string();
    let (scenario, _) = match load_scenario(&args.scenario) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    install_quiet_panic_hook();
    let spec = RunSpec::new(scenario, Seed(args.seed));
    let plan = match spec.materialised_plan() {
        Ok(plan) => plan,
        Err(error) => return bad_input(&error.one_line(&source)),
    };
    let (runs, not_applicable) = match runs_per_protocol(&spec, &plan) {
        Ok(runs) => runs,
        Err(error) => return bad_input(&error.one_line(&source)),
    };
    let compared: Vec<ComparedRun<'_>> = runs
        .iter()
        .map(|(protocol, run)| ComparedRun {
            protocol: *protocol,
            verdict: &run.verdict,
            outcome: run.outcome.as_ref(),
            metrics: protocol_metrics(run.outcome.as_ref().and_then(|outcome| outcome.facts.as_deref()).unwrap_or(&[])),
        })
        .collect();
    let header = format!(
        "compare      {} ({source}), seed {}: every protocol, the same workload and {} faults",
        spec.scenario.name,
        args.seed,
        plan.faults.len()
    );
    print!("{}", render_comparison(&header, &compared));
    for line in not_applicable {
        println!("{line}");
    }
    let failed = runs.iter().any(|(_, run)| run.verdict.failure_class().is_some());
    if failed { EXIT_FAIL } else { EXIT_PASS }
}

/// Runs with their facts, one per protocol the scenario allows.
pub(super) type ProtocolRuns = Vec<(ProtocolKind, GuardedRun)>;

/// `spec` under every protocol with the fault plan `plan`, facts kept; and a line for each
/// protocol the scenario's graph rules out (the bank's cycle), saying why. A seed's drawn
/// configuration stays drawn; only its protocol changes.
pub(super) fn runs_per_protocol(
    spec: &RunSpec,
    plan: &FaultPlan,
) -> Result<(ProtocolRuns, Vec<String>), ScenarioError> {
    let mut runs = Vec::new();
    let mut not_applicable = Vec::new();
    // The seed's drawn configuration (`[randomize]`), with only the protocol varied.
    let (scenario, _) = spec.scenario.with_drawn_config(spec.seed)?;
    for protocol in ProtocolKind::ALL {
        let mut spec = RunSpec { scenario: scenario.clone(), fault_plan: Some(plan.clone()), ..spec.clone() };
        spec.scenario.checkpoint.protocol = protocol;
        match run_guarded(&spec, true) {
            Ok(run) => runs.push((protocol, run)),
            Err(error) if error.field.as_deref() == Some("checkpoint.protocol") => {
                not_applicable.push(format!("{:<13}{}", "not run", error.message));
            }
            Err(error) => return Err(error),
        }
    }
    Ok((runs, not_applicable))
}
