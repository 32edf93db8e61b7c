//! The subcommands.

pub mod demo;
pub mod fetch;
pub mod serve_fake;
pub mod token;

use crate::cache_file;
use crate::cli::{CacheAction, Cli, Command};
use crate::exit::CliError;
use crate::inspect;
use crate::output::outln;

/// Runs the parsed command line.
///
/// # Errors
///
/// The command's [`CliError`], to be reported by `main`.
pub fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Token(args) => token::run(&args),
        Command::Inspect(args) => inspect::run(&args.token),
        Command::Cache { action } => cache(&action),
        Command::ServeFake(args) => serve_fake::run(&args),
        Command::Demo => demo::run(),
    }
}

/// `dstor cache clear` and `dstor cache path`.
fn cache(action: &CacheAction) -> Result<(), CliError> {
    let dir = cache_dir()?;
    match action {
        CacheAction::Path => outln!("{}", dir.display())?,
        CacheAction::Clear => {
            let removed = cache_file::clear(&dir).map_err(CliError::cache)?;
            let s = if removed == 1 { "" } else { "s" };
            outln!("removed {removed} cached token{s} from {}", dir.display())?;
        }
    }
    Ok(())
}

/// The cache directory, or a cache-class error when the environment names none.
///
/// # Errors
///
/// When none of `DSTOR_CACHE_DIR`, `XDG_CACHE_HOME` and `HOME` is set.
pub fn cache_dir() -> Result<std::path::PathBuf, CliError> {
    cache_file::default_dir().ok_or_else(|| {
        CliError::cache("no cache directory: set DSTOR_CACHE_DIR (or HOME or XDG_CACHE_HOME)")
    })
}

/// A Tokio runtime for one command.
///
/// # Errors
///
/// An internal error when the runtime cannot start.
pub fn runtime(multi_thread: bool) -> Result<tokio::runtime::Runtime, CliError> {
    let mut builder = if multi_thread {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    builder
        .enable_all()
        .build()
        .map_err(|e| CliError::internal(format!("cannot start the async runtime: {e}")))
}
