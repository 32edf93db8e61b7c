//! The ready-made reqwest client (`dstor-http`) against the fake dStor on 127.0.0.1.

use std::sync::Arc;
use std::time::Duration;

use dstor_auth::TokenProvider;
use dstor_http::{ApiKey, DstorClient};
use dstor_mock::FakeDstor;

fn client_for(server: &FakeDstor) -> DstorClient {
    DstorClient::builder()
        .endpoint(server.base_url())
        .api_key(ApiKey::new(server.api_key()).unwrap())
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_cold_callers_cause_one_request_and_share_one_token() {
    let server = FakeDstor::builder()
        .delay(Duration::from_millis(20))
        .start()
        .await
        .unwrap();
    let client = client_for(&server);
    let start = Arc::new(tokio::sync::Barrier::new(1000));
    let callers: Vec<_> = (0..1000)
        .map(|_| {
            let client = client.clone();
            let start = Arc::clone(&start);
            tokio::spawn(async move {
                start.wait().await;
                client.token().await
            })
        })
        .collect();
    let mut tokens = Vec::with_capacity(callers.len());
    for caller in callers {
        tokens.push(caller.await.unwrap().unwrap());
    }
    assert_eq!(server.request_count(), 1, "{:?}", server.requests());
    assert_eq!(server.token_request_count(), 1);
    assert!(tokens.iter().all(|t| t.same_token(&tokens[0])));
    assert!(server.verify_token(tokens[0].expose_secret()).is_some());
    assert_eq!(client.tokens().status().fetches, 1);
    server.shutdown().await;
}

#[tokio::test]
async fn the_authorization_header_is_sensitive() {
    let server = FakeDstor::start().await.unwrap();
    let client = client_for(&server);
    let token = client.token().await.unwrap();
    let header = token.authorization_header();
    assert!(header.is_sensitive());
    assert_eq!(header, format!("Bearer {}", token.expose_secret()).as_str());
    let mut headers = http::HeaderMap::new();
    headers.insert(http::header::AUTHORIZATION, header);
    assert!(!format!("{headers:?}").contains(token.expose_secret()));

    // What the key went out as.
    let seen = &server.requests()[0];
    assert_eq!(seen.headers["api-key"], server.api_key());
    assert!(seen.headers.get("authorization").is_none());
    server.shutdown().await;
}

#[tokio::test]
async fn a_rejected_token_is_replaced_once_and_clones_share_the_cache() {
    let server = FakeDstor::start().await.unwrap();
    let client = client_for(&server);
    let clone = client.clone();
    let first = client.token().await.unwrap();
    assert!(clone.token().await.unwrap().same_token(&first));
    assert_eq!(server.token_request_count(), 1);

    // The API answered 401 with `first`: every holder of the client sees a new token.
    TokenProvider::invalidate(&clone, &first);
    let second = client.token().await.unwrap();
    assert!(!second.same_token(&first));
    assert!(clone.token().await.unwrap().same_token(&second));
    assert_eq!(server.token_request_count(), 2);
    server.shutdown().await;
}

#[tokio::test]
async fn a_wrong_key_is_reported_as_rejected_without_retrying() {
    let server = FakeDstor::start().await.unwrap();
    let client = DstorClient::builder()
        .endpoint(server.base_url())
        .api_key(ApiKey::new("w".repeat(64)).unwrap())
        .build()
        .unwrap();
    let err = client.token().await.unwrap_err();
    assert!(err.is_key_rejected(), "{err:?}");
    assert_eq!(server.token_request_count(), 1);
    server.shutdown().await;
}

/// The token is read against the server's clock (its `Date` header), and the cache trusts
/// it for the hour it was asked for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_is_timed_by_the_servers_clock() {
    let server = FakeDstor::start().await.unwrap();
    let client = client_for(&server);
    let token = client.token().await.unwrap();
    assert_eq!(token.server_clock_offset(), Some(0));
    let left = client.tokens().status().expires_in.unwrap();
    assert!(
        left > Duration::from_secs(3590) && left <= Duration::from_secs(3600),
        "{left:?}"
    );
}
