//! A custom transport in a few lines: `cargo run -p dstor-auth --example custom_transport`.
//!
//! `dstor-auth` builds the request and reads the response; a transport only sends one
//! `http::Request<Vec<u8>>` and hands back the `http::Response<Vec<u8>>`. Here the
//! "network" is a hand-written stand-in for dStor that answers in memory, so the example
//! runs anywhere, with no account and no connection. A hyper or ureq transport has the same
//! shape: send the request as it is, do not follow redirects, cap the body it reads, and map
//! its failures to a `TransportError` (without the URL).

#![allow(clippy::print_stdout, reason = "an example shows its results")]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dstor_auth::{
    ApiKeyProvider, CachedTokenProvider, HttpTransport, TokenLifetime, TokenProvider,
    TransportError, transport_fn,
};
use dstor_types::{ApiKey, Environment};
use http::{Request, Response, StatusCode};

/// A transport that answers `GET /v1/dev/temp-token` itself, as dStor would.
#[derive(Debug)]
struct InMemoryDstor {
    accepted_key: String,
}

#[async_trait]
impl HttpTransport for InMemoryDstor {
    async fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok());
        if header("api-key") != Some(self.accepted_key.as_str()) {
            return Ok(answer(
                StatusCode::UNAUTHORIZED,
                r#"{"message":"invalid api key"}"#,
            ));
        }
        let now = unix_now();
        // dStor's default lifetime is one year; a client asks for less with x-expiration.
        let exp = header("x-expiration")
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(now + 365 * 24 * 3600);
        let claims = format!(
            r#"{{"iat":{now},"exp":{exp},"aud":"dstor.cloud","iss":"dstor.cloud","sub":"example-account"}}"#
        );
        let jwt = format!(
            "{}.{}.unsigned",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(claims)
        );
        Ok(answer(
            StatusCode::OK,
            &format!(r#"{{"access_token":"{jwt}"}}"#),
        ))
    }
}

fn answer(status: StatusCode, body: &str) -> Response<Vec<u8>> {
    let mut response = Response::new(body.as_bytes().to_vec());
    *response.status_mut() = status;
    response
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let key = "k".repeat(64);
    let dstor = Arc::new(InMemoryDstor {
        accepted_key: key.clone(),
    });

    // A closure is a transport too: this one counts requests and passes them on.
    let sent = Arc::new(AtomicUsize::new(0));
    let transport = {
        let (dstor, sent) = (Arc::clone(&dstor), Arc::clone(&sent));
        transport_fn(move |request: Request<Vec<u8>>| {
            let (dstor, sent) = (Arc::clone(&dstor), Arc::clone(&sent));
            async move {
                sent.fetch_add(1, Ordering::SeqCst);
                dstor.send(request).await
            }
        })
    };

    let exchange = ApiKeyProvider::new(transport, &Environment::Testnet, ApiKey::new(key)?)?
        .with_lifetime(TokenLifetime::default())?
        .with_user_agent_suffix("custom-transport-example/1.0")?;
    let tokens = CachedTokenProvider::new(exchange);

    let token = tokens.token().await?;
    let claims = token.claims();
    println!("token for {:?}", token.subject());
    println!("  issued at  {:?} (unix)", claims.iat);
    println!("  expires at {:?} (unix)", claims.exp);
    println!("  debug      {token:?}");
    tokens.token().await?; // served from the cache
    println!(
        "requests sent for two tokens: {}",
        sent.load(Ordering::SeqCst)
    );

    // A key the service does not know: a typed, permanent error that names the fix.
    let wrong = ApiKeyProvider::new(dstor, &Environment::Testnet, ApiKey::new("w".repeat(64))?)?;
    let err = wrong.token().await.unwrap_err();
    assert!(err.is_key_rejected() && !err.is_retryable());
    println!("with a wrong key: {err}");
    Ok(())
}
