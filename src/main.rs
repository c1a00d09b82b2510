//! The `snapsim` binary: everything happens in `snapsim::cli`.

fn main() -> std::process::ExitCode {
    snapsim::cli::main()
}
