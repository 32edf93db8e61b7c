//! The README's quickstart, compiled with the tests so that it stays true.
//!
//! `DSTOR_API_KEY=… cargo run -p dstor-http --example quickstart` (it talks to dStor itself;
//! `cargo run -p dstor-cli -- demo` runs the same flow against the built-in fake).

#![allow(clippy::print_stdout, reason = "an example shows its results")]

use dstor_http::DstorClient;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // DSTOR_API_KEY (required), DSTOR_ENV = testnet | production, DSTOR_ENDPOINT = a base URL.
    let client = DstorClient::from_env()?;
    let token = client.token().await?; // fetched once, then served from the cache
    let request = http::Request::get("https://api.dstor.cloud/v1/upload/get-status/")
        .header(http::header::AUTHORIZATION, token.authorization_header()) // marked sensitive
        .body(())?;
    println!(
        "token for {:?}, expires {:?}; {} {}",
        token.subject(),
        token.expires_at(),
        request.method(),
        request.uri()
    );
    Ok(())
}
