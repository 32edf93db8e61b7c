//! `dstor token`: prints an access token.
//!
//! With `--cache` and a fresh cached token, this path reads one small file and prints: no
//! async runtime and no HTTP client are built.

use std::time::{Duration, SystemTime};

use dstor_auth::TokenLifetime;
use dstor_types::{AccessToken, Environment, Expiration, ExpirationError};

use crate::cache_file::CacheSlot;
use crate::cli::TokenArgs;
use crate::commands;
use crate::exit::CliError;
use crate::login::Source;
use crate::output::{errln, outln};
use crate::time::{rfc3339, unix};

use super::fetch;

/// The lifetime asked for without `--expires-in` or `--expires-at`: the client's default.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);

/// Runs `dstor token`.
///
/// # Errors
///
/// A classified [`CliError`].
pub(crate) fn run(args: &TokenArgs) -> Result<(), CliError> {
    let environment = fetch::environment(&args.connection.target)?;
    let (lifetime, asked) = lifetime(args, SystemTime::now())?;
    let env_var = |name: &str| std::env::var(name).ok();
    let source = Source::of(args, env_var)?;
    let slot = if args.cache {
        let dir = commands::cache_dir()?;
        let (name, base) = (environment.name(), environment.base_url());
        Some(match &source {
            Source::ApiKey(key) => CacheSlot::new(&dir, name, &base, key, &asked),
            Source::Login(email) => CacheSlot::for_login(&dir, name, &base, email, &asked),
        })
    } else {
        None
    };
    if let Some(token) = slot.as_ref().and_then(|s| s.load(SystemTime::now())) {
        return print(&token, &environment, args.json);
    }
    // The password is asked for only when no cached token will do.
    let credentials = source.credentials(args, env_var)?;
    let runtime = commands::runtime()?;
    // Before the request: the cached token's reuse window is counted from here.
    let fetched_at = SystemTime::now();
    let token = runtime.block_on(async {
        let client = fetch::client(
            &environment,
            credentials,
            lifetime,
            args.connection.timeout,
            None,
        )?;
        fetch::token(&client).await
    })?;
    if let Some(Err(e)) = slot.as_ref().map(|slot| slot.store(&token, fetched_at)) {
        errln!("dstor: warning: {e}; the token was printed but not cached");
    }
    print(&token, &environment, args.json)
}

/// The lifetime asked for by `--expires-in` or `--expires-at` (default: one hour), checked
/// as dStor's client checks it, and the text that names it in the token cache.
fn lifetime(args: &TokenArgs, now: SystemTime) -> Result<(TokenLifetime, String), CliError> {
    if let Some(at) = args.expires_at {
        let remaining = at.saturating_sub(unix(now));
        if remaining < 1 {
            return Err(CliError::config(format!(
                "--expires-at {} is not in the future: pass a later time",
                rfc3339(at)
            )));
        }
        let lifetime = Duration::from_secs(remaining.unsigned_abs());
        check(lifetime, now, "--expires-at")?;
        // The time itself, not a lifetime from now: the request asks for exactly it.
        let until = Expiration::at_relative_to(now + lifetime, now)
            .map_err(|e| CliError::config(format!("--expires-at: {e}")))?;
        return Ok((TokenLifetime::Until(until), format!("at:{at}")));
    }
    let lifetime = args.expires_in.unwrap_or(DEFAULT_LIFETIME);
    if lifetime < Duration::from_secs(1) {
        return Err(CliError::config(
            "--expires-in must be at least one second: pass 1s or more",
        ));
    }
    check(lifetime, now, "--expires-in")?;
    Ok((
        TokenLifetime::After(lifetime),
        format!("in:{}", lifetime.as_secs()),
    ))
}

/// Refuses a lifetime that ends past what an expiration can hold (the year 9999).
fn check(lifetime: Duration, now: SystemTime, flag: &str) -> Result<(), CliError> {
    match Expiration::after_relative_to(lifetime, now) {
        Ok(_) => Ok(()),
        Err(ExpirationError::OutOfRange) => Err(CliError::config(format!(
            "{flag} is too far in the future (after the year 9999): ask for a shorter lifetime, such as 1h or 30d"
        ))),
        Err(e) => Err(CliError::config(format!("{flag}: {e}"))),
    }
}

/// Prints the token alone, or the JSON document of `--json`.
fn print(token: &AccessToken, environment: &Environment, json: bool) -> Result<(), CliError> {
    let text = if json {
        let exp = token.claims().exp.or_else(|| token.expires_at().map(unix));
        // Measured by the server's clock when the token came with its `Date`.
        let expires_in = token
            .remaining_at(SystemTime::now())
            .map(|left| left.as_secs());
        let document = serde_json::json!({
            "access_token": token.expose_secret(),
            "expires_at": exp.map(rfc3339),
            "expires_in": expires_in,
            "subject": token.subject(),
            "environment": environment.name(),
            "endpoint": environment.base_url().as_str(),
        });
        serde_json::to_string_pretty(&document)
            .map_err(|e| CliError::internal(format!("cannot write JSON: {e}")))?
    } else {
        token.expose_secret().to_owned()
    };
    outln!("{text}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use clap::Parser as _;

    fn lifetime_of(args: &[&str]) -> Result<(TokenLifetime, String), CliError> {
        let cli = Cli::try_parse_from([&["dstor", "token"], args].concat()).unwrap();
        let crate::cli::Command::Token(args) = cli.command else {
            unreachable!("parsed as token")
        };
        lifetime(
            &args,
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000),
        )
    }

    #[test]
    fn the_default_lifetime_is_the_clients() {
        assert_eq!(
            TokenLifetime::After(DEFAULT_LIFETIME),
            TokenLifetime::default()
        );
        let (lifetime, asked) = lifetime_of(&[]).unwrap();
        assert_eq!(lifetime, TokenLifetime::default());
        assert_eq!(asked, lifetime_of(&["--expires-in", "60m"]).unwrap().1);
    }

    #[test]
    fn lifetimes_are_checked_and_named() {
        let (lifetime, asked) = lifetime_of(&["--expires-at", "1000090"]).unwrap();
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_090);
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let until = Expiration::at_relative_to(at, now).unwrap();
        assert_eq!(lifetime, TokenLifetime::Until(until));
        assert_eq!(until.unix_seconds(), 1_000_090);
        assert_eq!(asked, "at:1000090");
        let past = lifetime_of(&["--expires-at", "999999"]).unwrap_err();
        assert!(past.to_string().contains("not in the future"), "{past}");
        let zero = lifetime_of(&["--expires-in", "0s"]).unwrap_err();
        assert!(zero.to_string().contains("at least one second"), "{zero}");
        for args in [
            ["--expires-in", "99999999999d"],
            ["--expires-at", "99999999999999"],
        ] {
            let long = lifetime_of(&args).unwrap_err();
            assert!(long.to_string().contains("year 9999"), "{long}");
            assert!(long.to_string().contains(args[0]), "{long}");
        }
    }
}
