//! `dstor`: dStor access tokens from the shell. See `dstor --help`, the manual.

mod cache_file;
mod cli;
mod commands;
mod exit;
mod inspect;
mod key;
mod output;

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    // Usage errors exit with 2 (and --help/--version with 0) inside clap.
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => error.report(),
    }
}
