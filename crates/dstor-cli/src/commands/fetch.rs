//! The one code path that trades the key for a token, shared by `dstor token` and
//! `dstor demo`.

use std::future::Future;
use std::io::IsTerminal as _;
use std::time::Duration;

use dstor_auth::{CacheConfig, TokenLifetime};
use dstor_http::{ConfigError, DstorClient};
use dstor_types::{AccessToken, BaseUrl, Environment};

use crate::cli::EndpointArgs;
use crate::exit::CliError;
use crate::login::Credentials;
use crate::output;

/// How long a fetch may take before a spinner appears (on a terminal only).
const SPINNER_AFTER: Duration = Duration::from_secs(1);

/// The environment named by `--env`/`DSTOR_ENV`, or the custom endpoint of
/// `--endpoint`/`DSTOR_ENDPOINT`, which wins.
///
/// # Errors
///
/// A config-class error for a malformed endpoint. (A plain-http one that is not loopback is
/// refused where the key would be sent: when the client is built.)
pub(crate) fn environment(args: &EndpointArgs) -> Result<Environment, CliError> {
    let Some(endpoint) = args.endpoint.as_deref().filter(|e| !e.trim().is_empty()) else {
        return Ok(args.env.clone());
    };
    let base = BaseUrl::parse(endpoint.trim())
        .map_err(|e| CliError::config(format!("bad --endpoint/DSTOR_ENDPOINT: {e}")))?;
    Ok(Environment::Custom(base))
}

/// A client for `environment` with `credentials` (an API key or a login); `cache` overrides the in-process cache's
/// configuration.
///
/// # Errors
///
/// A config-class error when the client cannot be built.
pub(crate) fn client(
    environment: &Environment,
    credentials: impl Into<Credentials>,
    lifetime: TokenLifetime,
    timeout: Duration,
    cache: Option<CacheConfig>,
) -> Result<DstorClient, CliError> {
    let builder = DstorClient::builder().environment(environment.clone());
    let mut builder = match credentials.into() {
        Credentials::ApiKey(key) => builder.api_key(key),
        Credentials::Login(login) => builder.login(login),
    };
    builder = builder
        .token_lifetime(lifetime)
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)));
    if let Some(cache) = cache {
        builder = builder.cache_config(cache);
    }
    builder.build().map_err(|e| config_error(&e))
}

/// A build failure of the client, as the user sees it.
fn config_error(error: &ConfigError) -> CliError {
    match error {
        ConfigError::Client(..) => {
            CliError::internal(format!("cannot set up the HTTP client: {error}"))
        }
        _ => CliError::config(format!("{error}")),
    }
}

/// A token from `client`, with a spinner on a terminal if it takes over a second.
///
/// # Errors
///
/// The fetch's failure, classified, with hints.
pub(crate) async fn token(client: &DstorClient) -> Result<AccessToken, CliError> {
    with_spinner(client.token())
        .await
        .map_err(|e| CliError::from_auth(&e, client.environment()))
}

/// Awaits `future`; if stderr is a terminal and it takes over [`SPINNER_AFTER`], shows a
/// one-line spinner on stderr until it finishes, then erases it. Off a terminal (a pipe, a
/// file, CI logs), it shows nothing.
pub(crate) async fn with_spinner<F: Future>(future: F) -> F::Output {
    if !std::io::stderr().is_terminal() {
        return future.await;
    }
    spin(future, |text| output::error_text(format_args!("{text}"))).await
}

/// Awaits `future`; once it has taken [`SPINNER_AFTER`], hands `draw` a spinner frame
/// (starting with `\r`) every 120 ms, and the erasing sequence when it finishes.
async fn spin<F: Future>(future: F, mut draw: impl FnMut(&str)) -> F::Output {
    const FRAMES: [char; 4] = ['|', '/', '-', '\\'];
    let started = tokio::time::Instant::now();
    let mut future = std::pin::pin!(future);
    tokio::select! {
        output = &mut future => return output,
        () = tokio::time::sleep(SPINNER_AFTER) => {}
    }
    let mut tick = tokio::time::interval(Duration::from_millis(120));
    let mut frame = 0;
    let output = loop {
        tokio::select! {
            output = &mut future => break output,
            _ = tick.tick() => {
                draw(&format!(
                    "\r{} fetching a token from dStor ({}s)",
                    FRAMES[frame % FRAMES.len()],
                    started.elapsed().as_secs()
                ));
                frame += 1;
            }
        }
    };
    draw("\r\x1b[2K");
    output
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn spun(work: Duration) -> Vec<String> {
        let mut drawn = Vec::new();
        spin(tokio::time::sleep(work), |text| drawn.push(text.to_owned())).await;
        drawn
    }

    #[tokio::test(start_paused = true)]
    async fn a_quick_fetch_shows_no_spinner() {
        assert!(spun(Duration::from_millis(999)).await.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_fetch_shows_a_spinner_after_a_second_then_erases_it() {
        let drawn = spun(Duration::from_millis(1_500)).await;
        // Frames at 1.0 s, 1.12 s, ... 1.48 s, then the erasing sequence.
        assert_eq!(drawn.len(), 6, "{drawn:?}");
        assert_eq!(drawn[0], "\r| fetching a token from dStor (1s)");
        assert_eq!(drawn[1], "\r/ fetching a token from dStor (1s)");
        assert!(drawn.iter().all(|line| !line.contains('\n')), "{drawn:?}");
        assert_eq!(drawn.last().map(String::as_str), Some("\r\x1b[2K"));
    }
}
