//! The command line: one file per subcommand, each a clap `Args` struct and
//! a `run` function over the library.

pub mod list;
pub mod show;
pub mod sim_serve;
pub mod validate;

use clap::{Parser, Subcommand};

/// Kubernetes break-fix drills on an embedded simulated cluster.
#[derive(Debug, Parser)]
#[command(name = "kdrill", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the scenarios, with difficulty and tags.
    List(list::Args),
    /// Show one scenario: its task and what is graded.
    Show(show::Args),
    /// Lint scenario folders.
    Validate(validate::Args),
    /// The simulated cluster on its own.
    Sim {
        #[command(subcommand)]
        command: SimCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Serve a fresh simulated cluster in the foreground until Ctrl-C.
    Serve(sim_serve::Args),
}

/// Exit codes (DESIGN.md): 0 ok, 1 checks failed, 2 usage or invalid
/// input, 3 backend unavailable, 4 scenario script error.
pub mod exit {
    pub const OK: u8 = 0;
    pub const CHECKS_FAILED: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const BACKEND: u8 = 3;
    pub const SCRIPT: u8 = 4;
}

/// Runs the parsed command; returns the process exit code.
pub fn run(cli: Cli) -> u8 {
    match cli.command {
        Command::List(args) => list::run(args),
        Command::Show(args) => show::run(args),
        Command::Validate(args) => validate::run(args),
        Command::Sim {
            command: SimCommand::Serve(args),
        } => sim_serve::run(args),
    }
}
