use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("KDRILL_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let cli = kdrill::cli::Cli::parse();
    ExitCode::from(kdrill::cli::run(cli))
}
