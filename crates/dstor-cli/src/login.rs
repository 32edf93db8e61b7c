//! Login credentials for `dstor token --email`: the email from the flag or `DSTOR_EMAIL`,
//! the password from `--password-stdin`, `DSTOR_PASSWORD` or a no-echo prompt on a
//! terminal, never from an argument.

use std::io::{BufRead as _, IsTerminal as _, Read as _};

use dstor_types::secrecy::SecretString;
use dstor_types::{ApiKey, LoginCredentials};

use crate::cli::TokenArgs;
use crate::exit::CliError;
use crate::key;

/// The variable that holds the account's email.
pub(crate) const EMAIL_VAR: &str = dstor_http::ENV_EMAIL;

/// The variable that holds the account's password.
pub(crate) const PASSWORD_VAR: &str = dstor_http::ENV_PASSWORD;

/// The most bytes read from standard input for a password.
const MAX_PASSWORD_INPUT: u64 = 4096;

/// What `dstor token` trades for a token.
pub(crate) enum Credentials {
    /// An API key.
    ApiKey(ApiKey),
    /// An account's email and password.
    Login(LoginCredentials),
}

impl From<ApiKey> for Credentials {
    fn from(key: ApiKey) -> Self {
        Self::ApiKey(key)
    }
}

/// Where the credentials come from, before the password is read: a login names only its
/// email, so that a cached token can be found without asking for the password.
pub(crate) enum Source {
    /// An API key, already loaded.
    ApiKey(ApiKey),
    /// A login with this (trimmed) email; the password is read by [`Source::credentials`].
    Login(String),
}

impl Source {
    /// The source named by `args`, in this order: `--email`, `--api-key-file` or
    /// `--api-key-stdin`, `DSTOR_API_KEY`, `DSTOR_EMAIL`.
    ///
    /// # Errors
    ///
    /// A config-class [`CliError`] when nothing is given or a key cannot be loaded.
    pub(crate) fn of(
        args: &TokenArgs,
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, CliError> {
        let blank = |v: &String| v.trim().is_empty();
        if let Some(email) = &args.email {
            return Ok(Self::Login(email.trim().to_owned()));
        }
        let connection = &args.connection;
        if connection.api_key_file.is_some() || connection.api_key_stdin {
            return key::load(connection).map(Self::ApiKey);
        }
        if get(key::API_KEY_VAR).is_some_and(|v| !blank(&v)) {
            return key::from_env(get).map(Self::ApiKey);
        }
        if let Some(email) = get(EMAIL_VAR).filter(|v| !blank(v)) {
            return Ok(Self::Login(email.trim().to_owned()));
        }
        if args.password_stdin {
            return Err(CliError::config(
                "--password-stdin needs an account: pass --email ADDRESS or set DSTOR_EMAIL",
            ));
        }
        Err(CliError::config(
            "no API key: set DSTOR_API_KEY, or pass --api-key-file PATH or --api-key-stdin, \
             or log in with --email ADDRESS (try `dstor demo` or `dstor serve-fake` to work \
             without an account)",
        ))
    }

    /// The credentials, reading the password of a login: `--password-stdin`, else
    /// `DSTOR_PASSWORD`, else a no-echo prompt when standard input is a terminal.
    ///
    /// # Errors
    ///
    /// A config-class [`CliError`] for a malformed email, an empty or unreadable password,
    /// or no way to ask for one. The message never holds the password.
    pub(crate) fn credentials(
        self,
        args: &TokenArgs,
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Credentials, CliError> {
        let email = match self {
            Self::ApiKey(key) => return Ok(Credentials::ApiKey(key)),
            Self::Login(email) => email,
        };
        let password = if args.password_stdin {
            from_stdin()?
        } else if let Some(password) = get(PASSWORD_VAR) {
            SecretString::from(password)
        } else if std::io::stdin().is_terminal() {
            prompt(&email)?
        } else {
            return Err(CliError::config(
                "no password: standard input is not a terminal, so no prompt can be shown: \
                 pass --password-stdin and pipe the password in, or set DSTOR_PASSWORD",
            ));
        };
        LoginCredentials::new(&email, password)
            .map(Credentials::Login)
            .map_err(|e| CliError::config(format!("cannot log in: {e}")))
    }
}

/// The first line of standard input, without its line ending.
fn from_stdin() -> Result<SecretString, CliError> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .take(MAX_PASSWORD_INPUT)
        .read_line(&mut line)
        .map_err(|e| {
            CliError::config(format!(
                "cannot read the password from standard input: {}",
                key::io_reason(&e)
            ))
        })?;
    let end = line.trim_end_matches(['\r', '\n']).len();
    line.truncate(end);
    Ok(SecretString::from(line))
}

/// Asks for the password on the terminal, without echo.
fn prompt(email: &str) -> Result<SecretString, CliError> {
    rpassword::prompt_password(format!("dStor password for {email}: "))
        .map(SecretString::from)
        .map_err(|e| {
            CliError::config(format!(
                "cannot read the password from the terminal: {}; pass --password-stdin or set DSTOR_PASSWORD",
                key::io_reason(&e)
            ))
        })
}
