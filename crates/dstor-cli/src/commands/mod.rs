//! The subcommands.

pub(crate) mod cid;
pub(crate) mod demo;
pub(crate) mod fetch;
pub(crate) mod get;
pub(crate) mod serve_fake;
pub(crate) mod storage;
pub(crate) mod token;
pub(crate) mod upload;

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
pub(crate) fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Token(args) => token::run(&args),
        Command::Inspect(args) => inspect::run(&args.token),
        Command::Cache { action } => cache(&action),
        Command::Upload(args) => upload::run(&args),
        Command::Get(args) => get::run(&args),
        Command::Cid(args) => cid::run(&args),
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
pub(crate) fn cache_dir() -> Result<std::path::PathBuf, CliError> {
    cache_file::default_dir().ok_or_else(|| {
        CliError::cache("no cache directory: set DSTOR_CACHE_DIR (or HOME or XDG_CACHE_HOME)")
    })
}

/// A Tokio runtime for one command: a single thread, also for `serve-fake`, whose fake
/// service answers many connections at once on it.
///
/// No command builds a multi-thread runtime, and this package does not ask Tokio for one,
/// so the binary as installed (`cargo install`, `cargo build -p dstor-cli`) carries no
/// multi-thread scheduler: its statistics call `pow`, the only symbol that would make every
/// run load `libm.so` (about 0.06 ms of a 0.9 ms `dstor token --cache`; see
/// `benches/cli.rs`).
///
/// # Errors
///
/// An internal error when the runtime cannot start.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::internal(format!("cannot start the async runtime: {e}")))
}
