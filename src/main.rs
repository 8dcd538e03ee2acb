use clap::Parser;
use std::process::ExitCode;

/// mimalloc (`kdrill::allocator`). The benchmarks use it too, so they
/// measure what this binary does.
#[global_allocator]
static ALLOCATOR: kdrill::allocator::Allocator = kdrill::allocator::Allocator;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("KDRILL_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let cli = kdrill::cli::Cli::parse();
    ExitCode::from(kdrill::cli::run(cli))
}
