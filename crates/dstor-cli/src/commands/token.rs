//! `dstor token`: prints an access token.
//!
//! With `--cache` and a fresh cached token, this path reads one small file and prints: no
//! async runtime and no HTTP client are built.

use std::io::Write as _;
use std::time::{Duration, SystemTime};

use dstor_auth::TokenLifetime;
use dstor_types::{AccessToken, Environment};

use crate::cache_file::CacheSlot;
use crate::cli::TokenArgs;
use crate::exit::CliError;
use crate::inspect::{rfc3339, unix};
use crate::{commands, key};

use super::fetch;

/// Runs `dstor token`.
///
/// # Errors
///
/// A classified [`CliError`].
pub fn run(args: &TokenArgs) -> Result<(), CliError> {
    let environment = fetch::environment(&args.connection)?;
    let lifetime = lifetime(args, SystemTime::now())?;
    let key = key::load(&args.connection)?;
    let slot = if args.cache {
        let dir = commands::cache_dir()?;
        Some(CacheSlot::new(
            &dir,
            environment.name(),
            &environment.base_url(),
            &key,
        ))
    } else {
        None
    };
    if let Some(token) = slot.as_ref().and_then(|s| s.load(SystemTime::now())) {
        return print(&token, &environment, args.json);
    }
    let runtime = commands::runtime(false)?;
    let token = runtime.block_on(async {
        let client = fetch::client(&environment, key, lifetime, args.connection.timeout, None)?;
        fetch::token(&client).await
    })?;
    if let Some(Err(e)) = slot.as_ref().map(|slot| slot.store(&token)) {
        eprintln!("dstor: warning: {e}; the token was printed but not cached");
    }
    print(&token, &environment, args.json)
}

/// The lifetime asked for by `--expires-in` or `--expires-at` (default: one hour).
fn lifetime(args: &TokenArgs, now: SystemTime) -> Result<TokenLifetime, CliError> {
    if let Some(at) = args.expires_at {
        let remaining = at.saturating_sub(unix(now));
        if remaining < 1 {
            return Err(CliError::config(format!(
                "--expires-at {} is not in the future: pass a later time",
                rfc3339(at)
            )));
        }
        return Ok(TokenLifetime::After(Duration::from_secs(
            remaining.unsigned_abs(),
        )));
    }
    match args.expires_in {
        Some(d) if d < Duration::from_secs(1) => {
            Err(CliError::config("--expires-in must be at least one second"))
        }
        Some(d) => Ok(TokenLifetime::After(d)),
        None => Ok(TokenLifetime::default()),
    }
}

/// Prints the token alone, or the JSON document of `--json`.
fn print(token: &AccessToken, environment: &Environment, json: bool) -> Result<(), CliError> {
    let text = if json {
        let now = unix(SystemTime::now());
        let exp = token.claims().exp.or_else(|| token.expires_at().map(unix));
        let document = serde_json::json!({
            "access_token": token.expose_secret(),
            "expires_at": exp.map(rfc3339),
            "expires_in": exp.map(|exp| (exp - now).max(0)),
            "subject": token.subject(),
            "environment": environment.name(),
            "endpoint": environment.base_url().as_str(),
        });
        serde_json::to_string_pretty(&document)
            .map_err(|e| CliError::internal(format!("cannot write JSON: {e}")))?
    } else {
        token.expose_secret().to_owned()
    };
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{text}")
        .and_then(|()| stdout.flush())
        .map_err(|e| CliError::internal(format!("cannot write to standard output: {e}")))
}
