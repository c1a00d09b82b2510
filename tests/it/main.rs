//! The one integration-test binary (one link step, one place to look). Each module tests
//! one feature through the public API or the real binary.

/// The library API for property tests: builder, strategies, assertions, seed variables.
mod api;
/// The bank: conservation under Chandy-Lamport, and the 1985 paper's examples.
mod bank;
/// Every invariant caught when a planted bug breaks it.
mod checkers;
/// Checkpoint settings end to end: record-count triggers, timeouts, concurrency.
mod checkpointing;
/// The CLI: reports, exit codes, bad input named by file and field, nothing overwritten.
mod cli;
/// Coverage of protocol phases by faults; aimed faults and guided sweeps.
mod coverage;
/// A user's own protocol, plugged in through the public interface.
mod custom_protocol;
/// A user's own transactional sink, plugged in through the public interface.
mod custom_sink;
/// Same seed, same trace hash; pinned hashes of the shipped scenarios.
mod determinism;
/// `snapsim draw` and `trace`: diagrams checked by structure and rendered to PNG; exports.
mod draw;
/// End to end: a two-phase-commit sink judged by what readers see committed.
mod end_to_end;
/// Sweeps, run files, replay, merged shards.
mod exploration;
/// Every fault kind happens (a fact) and is survived; swarm plans over seeds.
mod faults;
/// End of data and the final checkpoint: tasks finish on a completed checkpoint's notice.
mod final_checkpoint;
/// Incremental checkpoints: shared files and their registry.
mod incremental;
/// `snapsim sweep --junit`: JUnit XML for CI, one test case per failing invariant class.
mod junit;
/// The partitioned log: enumerator, readers, windows, end to end.
mod partitioned_log;
/// Property tests: exactly-once holds over seeds and crash times.
mod props;
/// The protocols side by side: aligned barriers and Chandy-Lamport.
mod protocols;
/// `[randomize]`: per-seed checkpoint configurations, drawn, stored, replayed, reported.
mod randomize;
/// Region failover: only the failed pipelined region restarts.
mod region_failover;
/// Failures sweeps once found, shrunk and checked in: each must pass now.
mod regression;
/// Rescaling from a checkpoint: key groups, readers' partitions and in-flight records move.
mod rescale;
/// Savepoints: intermediate, stop-with-savepoint, and a rescale from one.
mod savepoint;
/// Shrinking failing cases: smaller, same invariant, deterministic, `snapsim shrink`.
mod shrink;
/// insta snapshots of rendered reports.
mod snapshots;
/// Facts streamed to a run file as recorded: same trace and file as facts kept; `run --save`.
mod streaming;
/// Shared helpers: loading the shipped scenarios.
mod support;
/// The house rules as tests: banned tokens, module docs, no ignored tests.
mod tidy;
/// Other graph shapes: keyed chains, fan-outs, no keyed state.
mod topologies;
