//! Determinism: the same seed gives the same trace hash; hashes of the shipped scenarios
//! are pinned, so an unintended change of behaviour shows up in review. `.ci/run` also
//! checks a pinned hash from a release build.

use crate::support::{load, load_path, run, shipped_scenarios};

/// Pinned trace hashes at seed 1. A change here is a change of behaviour: say why in the
/// commit that updates it.
const PINNED_SEED_1: &[(&str, &str)] = &[
    ("sims/bank.toml", "57488d6dde3bdcae"),
    ("sims/diamond.toml", "097c81f555771b34"),
    ("sims/incremental.toml", "d6ec8bb6909eafc0"),
    ("sims/join.toml", "527b78f95762e936"),
    ("sims/kafka-2pc.toml", "ca6cf02f0df2532f"),
    ("sims/pipelines.toml", "7a39f9f230a4a3ef"),
    ("sims/rescale.toml", "a78f8fd7d39be6e5"),
    ("sims/storm.toml", "8a3416d66a9d1362"),
    ("sims/token.toml", "1ec230cc2476e54b"),
    ("sims/two-messages.toml", "edf7e7df4eefccb6"),
    ("sims/upsert.toml", "8f901aedbca8791a"),
    ("sims/wordcount-random.toml", "749ccec8dd1735fe"),
    ("sims/wordcount.toml", "8f14ca6ee79272bf"),
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
