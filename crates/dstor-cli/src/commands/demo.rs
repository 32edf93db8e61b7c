//! `dstor demo`: the whole flow against an in-process fake service, with no account.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use dstor_auth::{CacheConfig, TokenLifetime};
use dstor_http::DstorClient;
use dstor_mock::FakeDstor;
use dstor_storage::{Progress, Upload};
use dstor_types::{AccessToken, ApiKey, BaseUrl, Cid, Environment};

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

    let requests = server.token_request_count();
    storage(&client, &server).await?;
    outln!()?;
    outln!(
        "8. The token was reused from the cache for all of it: requests to the token service: {}.",
        server.token_request_count()
    )?;
    if server.token_request_count() != requests {
        return Err(CliError::internal(
            "the upload fetched a new token instead of reusing the cached one: please report this",
        ));
    }

    server.shutdown().await;
    outln!()?;
    outln!(
        "Done. Against dStor itself: DSTOR_API_KEY=<your key> dstor upload --env testnet FILE, \
         then dstor get --env testnet CID -o FILE"
    )
}

/// Uploads a generated file with its phases, checks its CID, and reads it back verified.
async fn storage(client: &DstorClient, server: &FakeDstor) -> Result<(), CliError> {
    let data: Vec<u8> = (0..DEMO_BYTES).map(|i| b"dStor demo\n"[i % 11]).collect();
    let local = Cid::of_bytes(&data);
    let phases = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&phases);
    let upload = Upload::new()
        .bytes("demo.txt", data)
        .on_progress(move |event| {
            if let Progress::Status { phase } = event
                && let Ok(mut seen) = seen.lock()
            {
                seen.push(phase.clone());
            }
        });
    let storage =
        super::storage::authorized(client, Duration::from_secs(10), Duration::from_secs(60))?;
    let environment = client.environment();
    let report = storage
        .upload(upload)
        .await
        .map_err(|e| super::storage::error(&e, environment))?;
    let phases = phases.lock().map(|p| p.join(" -> ")).unwrap_or_default();
    outln!()?;
    outln!(
        "5. Uploaded a generated file, demo.txt ({DEMO_BYTES} bytes): an upload token, one chunk \
         (POST /v1/upload/), then the status polled: {phases}"
    )?;
    let Some(stored) = report.files.first().and_then(|f| f.stored_cid) else {
        return Err(CliError::internal(
            "dStor listed no stored file: please report this",
        ));
    };
    outln!()?;
    outln!("6. dStor stored it as {stored}")?;
    if stored != local || !report.all_verified() {
        return Err(CliError::internal(format!(
            "the CID computed here is {local}: they differ, please report this"
        )));
    }
    outln!("   and the CID computed here from the same bytes is the same: verified.")?;
    let mut back = Vec::new();
    let read = storage
        .download_to_writer(&stored, &mut back)
        .await
        .map_err(|e| super::storage::error(&e, environment))?;
    outln!()?;
    outln!(
        "7. Read it back through the gateway (GET /ipfs/{stored}, {} redirect(s) to the storage node at {}, no credential sent): {} bytes, CID verified.",
        read.redirects,
        server.node_url(),
        read.bytes
    )?;
    Ok(())
}

/// The size of the demo's generated file.
const DEMO_BYTES: usize = 64 * 1024;

/// Prints a token's claims, indented (never the token).
fn show(token: &AccessToken) -> Result<(), CliError> {
    for line in inspect::describe(token, SystemTime::now()).lines() {
        outln!("   {line}")?;
    }
    Ok(())
}
