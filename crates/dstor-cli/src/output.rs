//! Writing to stdout and stderr without panicking.
//!
//! `println!` and `eprintln!` panic when the stream is gone (`dstor demo | head -1` closes
//! stdout early): every line `dstor` prints, on either stream, goes through here instead,
//! the final error report included.

use std::fmt;
use std::io::Write as _;
use std::process::ExitCode;

use crate::exit::CliError;

/// Prints a line on stdout; `?` it from a command: [`crate::output::line`] with `format!`
/// syntax.
macro_rules! outln {
    () => {
        $crate::output::line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::output::line(format_args!($($arg)*))
    };
}

/// Prints a line on stderr, ignoring a failure (there is nowhere left to report it).
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::output::error_line(format_args!($($arg)*))
    };
}

pub(crate) use {errln, outln};

/// Writes `text` and a newline on stdout, and flushes.
///
/// # Errors
///
/// A [`CliError`] of the internal class when stdout cannot be written (a closed pipe, a
/// full disk): the message says so, and the command stops.
pub(crate) fn line(text: fmt::Arguments<'_>) -> Result<(), CliError> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{text}")
        .and_then(|()| stdout.flush())
        .map_err(|e| CliError::output(&e))
}

/// Writes `text` on stderr without a newline (for the spinner), ignoring a failure.
pub(crate) fn error_text(text: fmt::Arguments<'_>) {
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_fmt(text).and_then(|()| stderr.flush());
}

/// Writes `text` and a newline on stderr, ignoring a failure.
pub(crate) fn error_line(text: fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// Prints `error` on stderr as `dstor: error: ...`, in one line, and returns its exit code.
pub(crate) fn report(error: &CliError) -> ExitCode {
    error_line(format_args!("dstor: error: {error}"));
    ExitCode::from(error.class().code())
}
