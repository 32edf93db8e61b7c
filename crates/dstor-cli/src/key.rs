//! Loading the API key: from `DSTOR_API_KEY`, a file or standard input, never from an
//! argument.

use std::io::Read as _;
use std::path::Path;

use dstor_types::ApiKey;
use dstor_types::secrecy::SecretString;

use crate::cli::ConnectionArgs;
use crate::exit::CliError;
use crate::output::errln;

/// The environment variable that holds the key.
pub(crate) const API_KEY_VAR: &str = dstor_http::ENV_API_KEY;

/// The most bytes read from a key file or standard input: far more than a key, far less
/// than a mistake (a binary or a log file) could hold.
const MAX_KEY_INPUT: u64 = 4096;

/// Loads the key named by `args`: `--api-key-file`, `--api-key-stdin`, else `DSTOR_API_KEY`.
///
/// # Errors
///
/// [`CliError`] of class config when no key is given, it cannot be read, or it is
/// malformed. The message never holds the key.
pub(crate) fn load(args: &ConnectionArgs) -> Result<ApiKey, CliError> {
    if let Some(path) = &args.api_key_file {
        from_file(path)
    } else if args.api_key_stdin {
        from_stdin()
    } else {
        from_env(|var| std::env::var(var).ok())
    }
}

/// The key from `DSTOR_API_KEY`, read through `get`.
///
/// # Errors
///
/// As [`load`].
pub(crate) fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<ApiKey, CliError> {
    match get(API_KEY_VAR) {
        Some(value) if !value.trim().is_empty() => validate(value, API_KEY_VAR),
        _ => Err(CliError::config(
            "no API key: set DSTOR_API_KEY, or pass --api-key-file PATH or --api-key-stdin \
             (try `dstor demo` or `dstor serve-fake` to work without an account)",
        )),
    }
}

/// The key in the file at `path`, with a warning on stderr when others may read the file.
///
/// # Errors
///
/// As [`load`].
pub(crate) fn from_file(path: &Path) -> Result<ApiKey, CliError> {
    let file = std::fs::File::open(path).map_err(|e| {
        CliError::config(format!(
            "cannot read the API key file {}: {}: check the path passed to --api-key-file",
            path.display(),
            io_reason(&e)
        ))
    })?;
    warn_if_readable_by_others(&file, path);
    let text = read_limited(file).map_err(|e| {
        CliError::config(format!(
            "cannot read the API key file {}: {}",
            path.display(),
            io_reason(&e)
        ))
    })?;
    validate(text, &format!("the file {}", path.display()))
}

/// The key on standard input.
///
/// # Errors
///
/// As [`load`].
pub(crate) fn from_stdin() -> Result<ApiKey, CliError> {
    let text = read_limited(std::io::stdin().lock()).map_err(|e| {
        CliError::config(format!(
            "cannot read the API key from standard input: {}",
            io_reason(&e)
        ))
    })?;
    validate(text, "standard input")
}

/// Reads at most [`MAX_KEY_INPUT`] bytes of UTF-8 text.
fn read_limited(reader: impl std::io::Read) -> std::io::Result<String> {
    let mut text = String::new();
    reader.take(MAX_KEY_INPUT).read_to_string(&mut text)?;
    Ok(text)
}

/// Validates a key read from `source`.
fn validate(text: String, source: &str) -> Result<ApiKey, CliError> {
    ApiKey::from_secret(SecretString::from(text))
        .map_err(|e| CliError::config(format!("malformed API key in {source}: {e}")))
}

/// Warns on stderr, in one line, when the key file's mode lets group or others read it.
#[cfg(unix)]
fn warn_if_readable_by_others(file: &std::fs::File, path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    if let Ok(meta) = file.metadata() {
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            errln!(
                "dstor: warning: the API key file {} is readable by other users (mode {mode:04o}): run `chmod 600 {}`",
                path.display(),
                path.display()
            );
        }
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_file: &std::fs::File, _path: &Path) {}

/// An I/O error's reason, without the OS's error number noise.
pub(crate) fn io_reason(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        std::io::ErrorKind::InvalidData => "not UTF-8 text".to_owned(),
        _ => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variable_is_read_and_validated() {
        let key = "a".repeat(64);
        let ok = from_env(|_| Some(format!("{key}\n"))).unwrap();
        assert_eq!(ok.expose_secret(), key);
        let missing = from_env(|_| None).unwrap_err();
        assert!(missing.to_string().contains("DSTOR_API_KEY"));
        let bad = from_env(|_| Some("short-secret".into())).unwrap_err();
        assert!(bad.to_string().contains("malformed"), "{bad}");
        assert!(!bad.to_string().contains("short-secret"));
    }
}
