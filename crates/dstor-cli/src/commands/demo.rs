//! `dstor demo`: the whole flow against an in-process fake service, with no account.

use std::time::{Duration, SystemTime};

use dstor_auth::{CacheConfig, TokenLifetime};
use dstor_mock::FakeDstor;
use dstor_types::{AccessToken, ApiKey, BaseUrl, Environment};

use crate::commands;
use crate::exit::CliError;
use crate::inspect;
use crate::output::outln;

use super::fetch;

/// Runs the demo.
///
/// # Errors
///
/// Any step's failure (none is expected: everything stays on this machine).
pub(crate) fn run() -> Result<(), CliError> {
    commands::runtime()?.block_on(demo())
}

async fn demo() -> Result<(), CliError> {
    let server = FakeDstor::start()
        .await
        .map_err(|e| CliError::internal(format!("cannot start the fake service: {e}")))?;
    let url = server.base_url();
    let base = BaseUrl::parse(&url)
        .map_err(|e| CliError::internal(format!("the fake service's URL is unusable: {e}")))?;
    let environment = Environment::Custom(base);
    let key = ApiKey::new(server.api_key())
        .map_err(|e| CliError::internal(format!("the fake service's key is unusable: {e}")))?;
    outln!("1. Started a fake dStor service at {url}")?;
    outln!("   with a generated API key (a fake key: no account involved).")?;

    // The in-process cache refuses to start two upstream requests within a second of each
    // other: that bounds the forced refresh below, and makes its token's `iat` differ.
    let config = CacheConfig::default().with_min_intervals(Duration::from_secs(1), Duration::ZERO);
    let client = fetch::client(
        &environment,
        key,
        TokenLifetime::default(),
        Duration::from_secs(10),
        Some(config),
    )?;

    let first = fetch::token(&client).await?;
    let requests = server.token_request_count();
    outln!()?;
    outln!(
        "2. Fetched a token (GET /v1/dev/temp-token, as `dstor token` does): requests to the service: {requests}"
    )?;
    show(&first)?;

    let second = fetch::token(&client).await?;
    if !second.same_token(&first) || server.token_request_count() != requests {
        return Err(CliError::internal(
            "the second call was not served from the cache: please report this",
        ));
    }
    outln!()?;
    outln!(
        "3. Asked again: the same token, served from the cache with no request (requests to the service: {}, cache fetches: {}).",
        server.token_request_count(),
        client.tokens().status().fetches
    )?;

    outln!()?;
    outln!("4. Forced a refresh (waits for the cache's one-second minimum between requests)...")?;
    let third = fetch::with_spinner(client.tokens().force_refresh())
        .await
        .map_err(|e| CliError::from_auth(&e, &environment))?;
    outln!(
        "   {} (requests to the service: {}, cache fetches: {}).",
        if third.same_token(&first) {
            "the same token text"
        } else {
            "a new token"
        },
        server.token_request_count(),
        client.tokens().status().fetches
    )?;
    show(&third)?;

    server.shutdown().await;
    outln!()?;
    outln!("Done. Against dStor itself: DSTOR_API_KEY=<your key> dstor token --env testnet")
}

/// Prints a token's claims, indented (never the token).
fn show(token: &AccessToken) -> Result<(), CliError> {
    for line in inspect::describe(token, SystemTime::now()).lines() {
        outln!("   {line}")?;
    }
    Ok(())
}
