//! Determinism: the same seed gives the same trace hash; hashes of the shipped scenarios
//! are pinned, so an unintended change of behaviour shows up in review. `.ci/run` also
//! checks a pinned hash from a release build.

use crate::support::{load, load_path, run, shipped_scenarios};

/// Pinned trace hashes at seed 1. A change here is a change of behaviour: say why in the
/// commit that updates it.
const PINNED_SEED_1: &[(&str, &str)] = &[
    ("sims/bank.toml", "b38c2465abb8731f"),
    ("sims/diamond.toml", "47d0d6393fbf2b0e"),
    ("sims/join.toml", "7313553eb264d542"),
    ("sims/token.toml", "5b1f72c921ae6f2f"),
    ("sims/two-messages.toml", "ae900139140285b2"),
    ("sims/wordcount.toml", "e48d958ca8956dd4"),
];

#[test]
fn the_same_seed_gives_the_same_hash_for_every_shipped_scenario() {
    for path in shipped_scenarios() {
        let scenario = load_path(&path);
        for seed in [1, 2, 3] {
            let first = run(&scenario, seed, &[]);
            let second = run(&scenario, seed, &[]);
            assert_eq!(first, second, "{} seed {seed} ran differently twice", path.display());
        }
    }
}

#[test]
fn different_seeds_give_different_hashes() {
    let scenario = load("sims/wordcount.toml");
    let mut hashes: Vec<u64> = (1..=8).map(|seed| run(&scenario, seed, &[]).trace_hash.0).collect();
    hashes.sort_unstable();
    hashes.dedup();
    assert_eq!(hashes.len(), 8);
}

#[test]
fn every_shipped_scenario_has_a_pinned_hash_and_matches_it() {
    for path in shipped_scenarios() {
        let relative = format!("sims/{}", path.file_name().and_then(|name| name.to_str()).expect("utf-8 name"));
        let pinned = PINNED_SEED_1.iter().find(|(name, _)| *name == relative);
        let (_, hash) = pinned.unwrap_or_else(|| panic!("{relative} has no pinned hash in PINNED_SEED_1"));
        let outcome = run(&load(&relative), 1, &[]);
        assert_eq!(outcome.trace_hash.to_string(), *hash, "{relative} at seed 1 changed behaviour");
        assert!(outcome.passed(), "{relative} at seed 1: {:?}", outcome.verdict);
    }
}
