//! The `snapsim` binary: everything happens in `snapsim::cli`.

/// Counts heap bytes only while `snapsim bench` measures a run (`bench::heap_peak`).
#[global_allocator]
static ALLOCATOR: snapsim::bench::heap_peak::PeakHeap = snapsim::bench::heap_peak::PeakHeap;

fn main() -> std::process::ExitCode {
    snapsim::cli::main()
}
