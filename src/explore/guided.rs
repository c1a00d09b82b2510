//! Guided sweeps: each seed's swarm plan gets one extra fault aimed at a coverage cell the
//! earlier seeds left unhit, so the sweep fills the phase × fault matrix sooner than
//! uniform drawing does (figures in docs/bug-zoo.md).
//!
//! Seeds run in chunks of `GUIDED_CHUNK`, each chunk in parallel; the aims of a chunk are
//! chosen from the coverage of the chunks before it, in seed order, so a guided sweep is
//! the same whatever the thread count. A cell aimed at `GIVE_UP_AFTER` times without a hit
//! is left (the job may never reach it: no alignment under unaligned checkpoints). Each
//! aimed seed records its aim; its run file stores the whole plan.

use super::sweep::{SeedReport, SweepPlan, run_seed};
use crate::coverage::CoverageCounts;
use crate::coverage::aim::{Aim, choose_aims};
use crate::faults::swarm::SwarmTargets;
use crate::kernel::rng::Seed;
use crate::scenario::CompiledScenario;
use rayon::prelude::*;
use std::collections::BTreeMap;

/// Seeds per chunk: aims are chosen afresh before each.
pub const GUIDED_CHUNK: usize = 32;

/// Aims at a cell this many times without a hit, then leaves it.
pub const GIVE_UP_AFTER: u32 = 3;

/// Runs `plan` guided (see the module comment); reports in seed order.
pub fn sweep_guided(
    plan: &SweepPlan,
    compiled: &CompiledScenario,
    on_done: &(dyn Fn(&SeedReport) + Sync),
) -> Vec<SeedReport> {
    let candidates = aim_candidates(compiled);
    let seeds: Vec<u64> = plan.seeds_in_shard().collect();
    let mut coverage = CoverageCounts::default();
    let mut tries: BTreeMap<Aim, u32> = BTreeMap::new();
    let mut reports: Vec<SeedReport> = Vec::with_capacity(seeds.len());
    for chunk in seeds.chunks(GUIDED_CHUNK) {
        if plan.stop_on_failure && reports.iter().any(|report| report.failure_class().is_some()) {
            break;
        }
        let hit = |aim: Aim| coverage.hits(aim.phase, aim.strike) > 0;
        let aims = choose_aims(&candidates, &hit, &mut tries, GIVE_UP_AFTER, chunk.len());
        let chunk_reports: Vec<SeedReport> = chunk
            .par_iter()
            .zip(aims.into_par_iter())
            .map(|(&seed, aim)| {
                let report = run_seed(plan, Seed(seed), aim);
                on_done(&report);
                report
            })
            .collect();
        for counts in chunk_reports.iter().filter_map(|report| report.coverage.as_ref()) {
            coverage.merge(counts);
        }
        reports.extend(chunk_reports);
    }
    reports
}

/// The cells a guided sweep may aim at: the swarm's kinds (every kind when
/// the scenario has no swarm) on the job's targets.
fn aim_candidates(compiled: &CompiledScenario) -> Vec<Aim> {
    let world = &compiled.world;
    let config = world.swarm.clone().unwrap_or_default();
    Aim::candidates(&config, &SwarmTargets::of(&world.graph, world.workers))
}
