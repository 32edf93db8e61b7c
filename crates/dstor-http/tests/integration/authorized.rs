//! `DstorClient::send` and `send_streaming` against the fake: the token on each request,
//! one re-authorization after a 401, nothing to another origin.

use dstor_http::{Body, TransportErrorKind, http};
use dstor_mock::FakeDstor;

use crate::common::client;

#[tokio::test]
async fn any_request_carries_a_token_the_fake_issued_and_no_api_key() {
    let server = FakeDstor::start().await.unwrap();
    let client = client(&server);
    let url = format!("{}/v1/unwrapped/endpoint", server.base_url());
    let request = http::Request::get(&url).body(Vec::new()).unwrap();
    // The fake knows no such path: its 404 comes back as it is.
    assert_eq!(client.send(request).await.unwrap().status(), 404);
    let request = http::Request::post(&url)
        .body(Body::from("streamed"))
        .unwrap();
    let response = client.send_streaming(request).await.unwrap();
    assert_eq!(response.status(), 404);

    let requests = server.requests();
    let authorized: Vec<_> = requests
        .iter()
        .filter(|r| r.path == "/v1/unwrapped/endpoint")
        .collect();
    assert_eq!(authorized.len(), 2);
    for seen in authorized {
        let header = seen.headers["authorization"].to_str().unwrap();
        let token = header.strip_prefix("Bearer ").unwrap();
        assert!(
            server.verify_token(token).is_some(),
            "a token the fake signed"
        );
        assert!(
            !seen.headers.contains_key("api-key"),
            "the key goes only to temp-token"
        );
    }
    assert_eq!(server.token_request_count(), 1);
}

/// The fake answers 401 to any request on its token path without an API key, so a request
/// there authorized only with the token is rejected, the fresh token too.
#[tokio::test]
async fn a_401_re_authorizes_once_and_a_second_is_an_error() {
    let server = FakeDstor::start().await.unwrap();
    let client = client(&server);
    let first = client.token().await.unwrap();
    let url = format!("{}/v1/dev/temp-token", server.base_url());
    let request = http::Request::get(&url).body(Vec::new()).unwrap();
    let err = client.send(request).await.unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::TokenRejected);
    let tokens: Vec<String> = server
        .requests()
        .iter()
        .filter_map(|r| r.headers.get("authorization"))
        .map(|h| h.to_str().unwrap().to_owned())
        .collect();
    assert_eq!(tokens.len(), 2, "sent once more after the 401, and no more");
    assert_eq!(tokens[0], format!("Bearer {}", first.expose_secret()));
    assert_ne!(tokens[0], tokens[1], "the second time with a fresh token");
    let fresh = client.tokens().try_cached().unwrap();
    assert_eq!(tokens[1], format!("Bearer {}", fresh.expose_secret()));
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(first.expose_secret()) && !shown.contains(fresh.expose_secret()));
}

#[tokio::test]
async fn no_token_goes_to_another_origin() {
    let server = FakeDstor::start().await.unwrap();
    let other = FakeDstor::start().await.unwrap();
    let client = client(&server);
    let url = format!("{}/v1/anything", other.base_url());
    let request = http::Request::get(&url).body(Vec::new()).unwrap();
    let err = client.send(request).await.unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::ForeignOrigin);
    let request = http::Request::get(&url).body(Body::empty()).unwrap();
    let err = client.send_streaming(request).await.unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::ForeignOrigin);
    assert_eq!(other.request_count(), 0);
    assert_eq!(server.request_count(), 0, "not even a token was fetched");
}
