//! `dstor`: dStor access tokens, uploads, verified downloads and CIDs from the shell. See
//! `dstor --help`, the manual.

// Every line goes through `output`, which never panics on a closed stream.
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod cache_file;
mod cli;
mod commands;
mod exit;
mod inspect;
mod key;
mod login;
mod output;
mod progress;
mod time;

use std::process::ExitCode;

use clap::Parser as _;

use crate::output::errln;

/// The allocator: see the workspace's `Cargo.toml` for why.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The variables clap reads for flags.
const CLAP_VARS: [&str; 2] = [dstor_http::ENV_ENVIRONMENT, dstor_http::ENV_ENDPOINT];

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return clap_error(&error),
    };
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => output::report(&error),
    }
}

/// Reports clap's error: `--help` and `--version` as clap prints them; a value refused by
/// one of our parsers in one line; any other usage error (exit code 2) as clap renders it,
/// with every long value of the command line or of the variables clap reads taken out.
fn clap_error(error: &clap::Error) -> ExitCode {
    if let Some(message) = cli::refusal(error) {
        return output::report(&exit::CliError::usage(message));
    }
    let code = u8::try_from(error.exit_code()).unwrap_or(2);
    if !error.use_stderr() {
        let _ = error.print();
        return ExitCode::from(code);
    }
    let args = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned());
    let vars = CLAP_VARS
        .iter()
        .filter_map(std::env::var_os)
        .map(|v| v.to_string_lossy().into_owned());
    let text = cli::scrub_clap_error(&error.render().to_string(), args, vars);
    errln!("{}", text.trim_end());
    ExitCode::from(code)
}
