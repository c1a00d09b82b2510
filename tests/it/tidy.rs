//! The house rules as tests: no source of nondeterminism in simulation code, every source
//! file opens with a `//!` doc, no ignored tests or leftover debugging, and every invariant
//! has a test that breaks it.

use crate::support::repo_root;
use std::path::{Path, PathBuf};

fn rust_files(under: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![under.to_path_buf()];
    while let Some(directory) = pending.pop() {
        for entry in std::fs::read_dir(&directory).expect("readable directory") {
            let path = entry.expect("readable entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|extension| extension == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn relative(path: &Path) -> String {
    path.strip_prefix(repo_root()).unwrap_or(path).display().to_string()
}

/// Tokens that make a simulation nondeterministic, or hash in a way that may change.
const BANNED_IN_SIMULATION: &[&str] = &[
    "HashMap",
    "HashSet",
    "DefaultHasher",
    "RandomState",
    "Instant::now",
    "SystemTime",
    "thread::spawn",
    "thread_rng",
    "rand::random",
    "rand::rng(",
    "StdRng",
    "SmallRng",
];

/// Whether a line derives `Hash` anywhere in its derive list: std's hashing is not a
/// specified algorithm, so nothing in a run may rely on it.
fn derives_std_hash(code: &str) -> bool {
    code.split("derive(").skip(1).any(|list| {
        let list = list.split(')').next().unwrap_or("");
        list.split(',').any(|name| name.trim() == "Hash")
    })
}

/// `cli/` may read the wall clock (progress, `bench`) and print; nothing else may.
fn may_touch_the_world(path: &Path) -> bool {
    path.components().any(|component| component.as_os_str() == "cli")
}

#[test]
fn simulation_code_uses_no_source_of_nondeterminism() {
    let mut offences = Vec::new();
    for path in rust_files(&repo_root().join("src")) {
        if may_touch_the_world(&path) {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable");
        for (number, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for token in BANNED_IN_SIMULATION.iter().filter(|token| code.contains(*token)) {
                offences.push(format!("{}:{}: {token}", relative(&path), number + 1));
            }
            if derives_std_hash(code) {
                offences.push(format!("{}:{}: derive(Hash)", relative(&path), number + 1));
            }
        }
    }
    assert!(offences.is_empty(), "banned in simulation code:\n{}", offences.join("\n"));
}

#[test]
fn every_source_file_opens_with_a_module_doc() {
    let missing: Vec<String> = rust_files(&repo_root().join("src"))
        .into_iter()
        .chain(rust_files(&repo_root().join("tests")))
        .filter(|path| !std::fs::read_to_string(path).expect("readable").starts_with("//!"))
        .map(|path| relative(&path))
        .collect();
    assert!(missing.is_empty(), "files without a //! doc first:\n{}", missing.join("\n"));
}

#[test]
fn no_ignored_tests_and_no_leftover_debugging() {
    let markers = [concat!("#[", "ignore"), concat!("dbg", "!("), concat!("FIX", "ME"), concat!("todo", "!(")];
    let mut offences = Vec::new();
    for path in rust_files(&repo_root().join("src")).into_iter().chain(rust_files(&repo_root().join("tests"))) {
        let text = std::fs::read_to_string(&path).expect("readable");
        for (number, line) in text.lines().enumerate() {
            for marker in markers.iter().filter(|marker| line.contains(*marker)) {
                offences.push(format!("{}:{}: {marker}", relative(&path), number + 1));
            }
        }
    }
    assert!(offences.is_empty(), "{}", offences.join("\n"));
}

#[test]
fn every_invariant_has_a_test_that_breaks_it() {
    let checks = std::fs::read_to_string(repo_root().join("src/check/mod.rs")).expect("readable");
    let teeth = std::fs::read_to_string(repo_root().join("tests/it/checkers.rs")).expect("readable");
    let section = checks.split("pub enum Invariant {").nth(1).and_then(|rest| rest.split('}').next()).expect("enum");
    let variants: Vec<&str> = section
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("//"))
        .map(|line| line.trim_end_matches(','))
        .collect();
    assert!(variants.len() >= 3, "parsed {variants:?}");
    for variant in variants {
        assert!(teeth.contains(&format!("Invariant::{variant}")), "no test in tests/it/checkers.rs breaks {variant}");
    }
}
