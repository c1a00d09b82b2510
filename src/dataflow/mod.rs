//! The job as data: the graph, records, and operators as pure state machines.
//!
//! An operator processes one record and appends outputs, snapshots its state to bytes and
//! restores from bytes. It never sees the kernel loop, the network, storage, faults or the
//! checkers; the harness drives it. Unit tests in `dataflow/tests.rs`.

pub mod account;
pub mod direct_sinks;
pub mod enumerator;
pub mod graph;
pub mod join;
pub mod keyed;
pub mod keyed_state;
pub mod operator;
pub mod record;
pub mod regions;
pub mod sink;
pub mod source;
pub mod split_reader;
pub mod staging;
pub mod state_codec;
pub mod two_phase_sink;
pub mod window;

#[cfg(test)]
mod direct_sinks_tests;
#[cfg(test)]
mod keyed_state_tests;
#[cfg(test)]
mod log_tests;
#[cfg(test)]
mod staging_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod two_phase_sink_tests;
