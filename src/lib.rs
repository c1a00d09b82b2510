//! snapsim: deterministic simulation testing for streaming checkpoint-and-recovery protocols.
//!
//! See docs/ARCHITECTURE.md for the layers and what each may not touch.

pub mod bench;
pub mod check;
pub mod cli;
pub mod coverage;
pub mod dataflow;
pub mod draw;
pub mod explore;
pub mod export;
pub mod external;
pub mod faults;
pub mod files;
pub mod harness;
pub mod kernel;
pub mod net;
pub mod plant;
pub mod protocol;
pub mod recovery;
pub mod report;
pub mod scenario;
pub mod storage;
pub mod testing;
