use clap::Parser;
use std::process::ExitCode;

/// mimalloc rather than glibc's malloc: the simulated cluster holds its
/// objects as many small strings and maps, where glibc spends a 32-byte
/// chunk on a 4-byte key and mimalloc 8 bytes (README, Performance).
/// The benchmarks use it too, so they measure what this binary does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("KDRILL_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let cli = kdrill::cli::Cli::parse();
    ExitCode::from(kdrill::cli::run(cli))
}
