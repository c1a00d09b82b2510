//! A sweep's coverage: the summed matrix, the cells never hit, and how fast the cells
//! filled up (the saturation curve, to compare guided with uniform drawing).

use super::{CoverageCounts, ProtocolPhase, Strike};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a sweep's seeds hit, for the summary and its JSON.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverageSummary {
    /// Cells hit at least once.
    pub cells_hit: u64,
    /// Cells the sweep could reach: a phase that held × a strike that happened.
    pub reachable: u64,
    /// Hits per strike, then per phase (cells with hits only).
    pub matrix: BTreeMap<String, BTreeMap<String, u64>>,
    /// Reachable cells never hit, as `phase/strike`.
    pub never_hit: Vec<String>,
    /// `[seeds run, cells hit]` after 1, 2, 4, 8, … seeds and at the end (seed order).
    pub curve: Vec<[u64; 2]>,
    /// The raw counts (what shard summaries merge).
    pub counts: CoverageCounts,
}

impl CoverageSummary {
    /// The summary of per-seed coverage, in seed order.
    pub fn of<'a>(per_seed: impl IntoIterator<Item = &'a CoverageCounts>) -> CoverageSummary {
        let mut counts = CoverageCounts::default();
        let mut curve = Vec::new();
        let mut seeds = 0u64;
        for seed in per_seed {
            counts.merge(seed);
            seeds += 1;
            if seeds.is_power_of_two() {
                curve.push([seeds, counts.cells_hit() as u64]);
            }
        }
        if curve.last().is_some_and(|&[at, _]| at != seeds) {
            curve.push([seeds, counts.cells_hit() as u64]);
        }
        CoverageSummary { curve, ..CoverageSummary::from_counts(counts) }
    }

    /// The summary of `counts`, with no curve.
    pub fn from_counts(counts: CoverageCounts) -> CoverageSummary {
        let mut matrix: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
        for strike in Strike::ALL {
            for phase in ProtocolPhase::ALL {
                let hits = counts.hits(phase, strike);
                if hits > 0 {
                    matrix.entry(strike.name().to_string()).or_default().insert(phase.name().to_string(), hits);
                }
            }
        }
        let never_hit = counts
            .never_hit()
            .into_iter()
            .map(|(phase, strike)| format!("{}/{}", phase.name(), strike.name()))
            .collect();
        CoverageSummary {
            cells_hit: counts.cells_hit() as u64,
            reachable: counts.reachable().count() as u64,
            matrix,
            never_hit,
            curve: Vec::new(),
            counts,
        }
    }

    /// Adds a shard's coverage in (the curve, which depends on seed order, is dropped).
    pub fn merge(&mut self, other: &CoverageSummary) {
        let mut counts = self.counts.clone();
        counts.merge(&other.counts);
        *self = CoverageSummary::from_counts(counts);
    }

    /// The seeds it took to hit `cells` cells, if the curve shows it (its first point at
    /// or past them).
    pub fn seeds_to_reach(&self, cells: u64) -> Option<u64> {
        self.curve.iter().find(|&&[_, hit]| hit >= cells).map(|&[seeds, _]| seeds)
    }
}

/// The matrix as text: a row per strike that happened, a column per phase that held; `--`
/// marks a reachable cell never hit.
pub fn render_matrix(counts: &CoverageCounts) -> String {
    let phases: Vec<ProtocolPhase> = ProtocolPhase::ALL.into_iter().filter(|&phase| counts.phase_seen(phase)).collect();
    let mut out = format!("{:<24}", "fault \\ phase");
    for phase in &phases {
        out += &format!("{:>6}", phase.short());
    }
    out += "\n";
    for strike in Strike::ALL.into_iter().filter(|&strike| counts.strike_seen(strike)) {
        out += &format!("{:<24}", strike.name());
        for &phase in &phases {
            let hits = counts.hits(phase, strike);
            out += &match (hits, super::impossible(phase, strike)) {
                (0, true) => format!("{:>6}", ""),
                (0, false) => format!("{:>6}", "--"),
                _ => format!("{hits:>6}"),
            };
        }
        out += "\n";
    }
    let legend: Vec<String> = phases.iter().map(|phase| format!("{} {}", phase.short(), phase.name())).collect();
    out += &format!("phases: {}\n", legend.join(", "));
    out += "--: never hit (the phase held and the fault struck, but never together); blank: impossible\n";
    out
}
