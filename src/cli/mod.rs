//! The command line: one file per subcommand, each a clap `Args` struct and
//! a `run` function over the library.

pub mod check;
pub mod hint;
pub mod lab_serve;
pub mod list;
pub mod progress;
pub mod reset;
pub mod selftest;
pub mod show;
pub mod sim_advance;
pub mod sim_kubeconfig;
pub mod sim_serve;
pub mod solve;
pub mod start;
pub mod status;
pub mod stop;
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
    /// Start a lab: provision a cluster, inject the fault, print the task.
    Start(start::Args),
    /// Grade the running lab; exit 0 only when the rubric passes.
    Check(check::Args),
    /// Show the next hint (hints cost points).
    Hint(hint::Args),
    /// Apply the scenario's reference solution.
    Solve(solve::Args),
    /// A fresh cluster with the fault injected again.
    Reset(reset::Args),
    /// The labs and whether their clusters run.
    Status(status::Args),
    /// Stop a lab (or all) and remove its state.
    Stop(stop::Args),
    /// For each scenario: fails after setup, passes after the solution,
    /// rejects its shortcuts.
    Selftest(selftest::Args),
    /// Serves a lab's simulated cluster (started by `kdrill start`).
    #[command(name = "lab-serve", hide = true)]
    LabServe(lab_serve::Args),
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
    /// Move a virtual-clock cluster's time forward (`sim serve --clock virtual`).
    Advance(sim_advance::Args),
    /// Print a kubeconfig for a new user of the running simulated cluster.
    Kubeconfig(sim_kubeconfig::Args),
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
        Command::Start(args) => start::run(args),
        Command::Check(args) => check::run(args),
        Command::Hint(args) => hint::run(args),
        Command::Solve(args) => solve::run(args),
        Command::Reset(args) => reset::run(args),
        Command::Status(args) => status::run(args),
        Command::Stop(args) => stop::run(args),
        Command::Selftest(args) => selftest::run(args),
        Command::LabServe(args) => lab_serve::run(args),
        Command::Sim {
            command: SimCommand::Serve(args),
        } => sim_serve::run(args),
        Command::Sim {
            command: SimCommand::Advance(args),
        } => sim_advance::run(args),
        Command::Sim {
            command: SimCommand::Kubeconfig(args),
        } => sim_kubeconfig::run(args),
    }
}
