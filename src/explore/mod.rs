//! Exploration: one run (scenario + seed → outcome). Sweeps, run files, replay and
//! shrinking arrive with the exploration issue (#3) and build on `run`.

pub mod determinism;
pub mod guarded;
pub mod guided;
pub mod junit;
pub mod oracle;
pub mod run;
pub mod run_file;
pub mod run_file_stream;
pub mod shrink;
pub mod summary;
pub mod sweep;

#[cfg(test)]
mod tests;
