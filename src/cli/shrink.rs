//! `snapsim shrink <run file>`: minimise a failing case while the same invariant still
//! fails, write the minimal run file next to the input (never over anything), and print the
//! sizes before and after and the command that replays it.

use super::{EXIT_FAIL, bad_input};
use crate::explore::guarded::install_quiet_panic_hook;
use crate::explore::run_file::RUN_FILE_EXTENSION;
use crate::explore::shrink::{DEFAULT_SHRINK_ATTEMPTS, ShrinkBudget, ShrinkResult, shrink as shrink_case};
use crate::files::{SameBytes, write_new_file};
use clap::Args;
use std::path::{Path, PathBuf};

/// Arguments of `snapsim shrink`.
#[derive(Debug, Args)]
pub struct ShrinkArgs {
    /// The failing run file to minimise (as `snapsim sweep` writes them).
    run_file: PathBuf,
    /// Candidate runs to try at most.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_SHRINK_ATTEMPTS,
          value_parser = clap::value_parser!(u32).range(1..))]
    budget: u32,
    /// Where to write the minimal run file [default: next to the input, <stem>.shrunk.snaprun].
    /// An existing file is never overwritten: a free `-2`, `-3`, … name is used instead.
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    output: Option<PathBuf>,
    /// A one-line postmortem stored in the file (for a regression corpus).
    #[arg(long, value_name = "TEXT")]
    note: Option<String>,
    /// Leave the facts out of the written file (small enough to check in; replay then
    /// cannot name a first diverging fact).
    #[arg(long)]
    no_facts: bool,
}

/// Shrinks the run file and writes the result; returns the exit code (1: the minimal case
/// still fails, as intended; 2: bad input).
pub fn shrink(args: &ShrinkArgs) -> u8 {
    let source = args.run_file.display().to_string();
    let file = match super::read_run_file(&args.run_file) {
        Ok(file) => file,
        Err(code) => return code,
    };
    // Candidates that panic are findings to weigh, not noise for the terminal.
    install_quiet_panic_hook();
    let result = match shrink_case(&file, ShrinkBudget { attempts: args.budget }) {
        Ok(result) => result,
        Err(error) => return bad_input(&format!("{source}: {error}")),
    };
    let mut result = result;
    if let Some(note) = &args.note {
        result.file.note = note.clone();
    }
    if args.no_facts {
        result.file.facts = None;
    }
    let target = args.output.clone().unwrap_or_else(|| default_output(&args.run_file));
    let written = match write_new_file(&target, &result.file.encode(), SameBytes::WriteAnother) {
        Ok(written) => written,
        Err(error) => return bad_input(&format!("{}: cannot write the file: {error}", target.display())),
    };
    print!("{}", render(&source, &result, &written));
    EXIT_FAIL
}

/// `<dir>/<stem>.shrunk.snaprun`, beside the input.
fn default_output(input: &Path) -> PathBuf {
    let stem = input.file_stem().map_or_else(|| "run".into(), |stem| stem.to_string_lossy());
    input.with_file_name(format!("{stem}.shrunk.{RUN_FILE_EXTENSION}"))
}

/// The report: the class kept, a before/after table, the budget spent, where the file went
/// and how to replay it.
fn render(source: &str, result: &ShrinkResult, written: &Path) -> String {
    let class = result.file.verdict.failure_class().unwrap_or_default();
    let shown = |value: Option<u64>| value.map_or("-".to_string(), |value| value.to_string());
    let before = result.before.rows();
    let after = result.after.rows();
    let width = before
        .iter()
        .chain(&after)
        .map(|(_, value)| shown(*value).len())
        .chain(["before".len(), "after".len()])
        .max()
        .unwrap_or(0);
    let mut text = format!("{:<13}{source}\n", "run file");
    text.push_str(&format!("{:<13}FAIL {class}\n", "verdict"));
    text.push_str(&format!("{:<13}{:>width$}  {:>width$}\n", "", "before", "after"));
    for ((label, old), (_, new)) in before.iter().zip(&after) {
        text.push_str(&format!("{label:<13}{:>width$}  {:>width$}\n", shown(*old), shown(*new)));
    }
    text.push_str(&format!("{:<13}{} ({} kept)\n", "attempts", result.attempts, result.accepted));
    let path = written.display().to_string();
    text.push_str(&format!("{:<13}{path}\n", "written"));
    text.push_str(&format!("{:<13}snapsim replay {}\n", "replay", shell_word(&path)));
    text
}

/// `word` as one shell word: unchanged when it is plain, else single-quoted.
fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+:,=@%".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}
