//! A token end to end through `DstorClient` against the fake dStor: the request as sent,
//! the cache, and how each answer is classified.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dstor_auth::TransportErrorKind;
use dstor_http::{AuthError, CacheConfig, TokenLifetime, TokenProvider};
use dstor_mock::{FakeDstor, Fault};
use dstor_types::{ApiError, InvalidBody};

use crate::common::{assert_no_secret, builder, chain, client, fast_retries};

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn a_token_end_to_end_with_the_documented_headers() {
    let server = FakeDstor::start().await.unwrap();
    let client = builder(&server)
        .user_agent_suffix("my-app/2.0")
        .build()
        .unwrap();
    let before = now_unix();
    let token = client.token().await.unwrap();
    let after = now_unix();

    let claims = server
        .verify_token(token.expose_secret())
        .expect("signed by the server");
    assert!(claims["exp"].as_u64().is_some());
    assert!(token.is_jwt());

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, http::Method::GET);
    assert_eq!(request.path, "/v1/dev/temp-token");
    assert_eq!(request.query, None);
    let h = &request.headers;
    assert_eq!(h["api-key"], server.api_key());
    let exp: u64 = h["x-expiration"]
        .to_str()
        .unwrap()
        .parse()
        .expect("an integer");
    assert!((before + 3600..=after + 3600).contains(&exp), "{exp}");
    assert_eq!(h["accept"], "application/json");
    assert_eq!(h["cache-control"], "no-store");
    let agent = h["user-agent"].to_str().unwrap();
    assert!(agent.starts_with("dstor-rs/"), "{agent}");
    assert!(agent.ends_with(" my-app/2.0"), "{agent}");
    for absent in ["authorization", "referer", "cookie", "proxy-authorization"] {
        assert!(!h.contains_key(absent), "{absent} was sent");
    }
}

#[tokio::test]
async fn the_second_token_comes_from_the_cache() {
    let server = FakeDstor::start().await.unwrap();
    let client = client(&server);
    let first = client.token().await.unwrap();
    let second = client.clone().token().await.unwrap();
    assert!(first.same_token(&second));
    assert_eq!(server.token_request_count(), 1);
    assert_eq!(client.status().fetches, 1);
    assert_eq!(client.try_cached(), Some(first));
}

#[tokio::test]
async fn the_server_default_lifetime_sends_no_expiration() {
    let server = FakeDstor::start().await.unwrap();
    let client = builder(&server)
        .token_lifetime(TokenLifetime::ServerDefault)
        .build()
        .unwrap();
    client.token().await.unwrap();
    assert!(!server.requests()[0].headers.contains_key("x-expiration"));
}

#[tokio::test]
async fn invalidate_through_the_trait_fetches_a_new_token() {
    let server = FakeDstor::start().await.unwrap();
    let client = builder(&server)
        .cache_config(CacheConfig::default().with_min_intervals(Duration::ZERO, Duration::ZERO))
        .build()
        .unwrap();
    let provider: &dyn TokenProvider = &client;
    let first = provider.token().await.unwrap();
    provider.invalidate(&first);
    assert!(client.try_cached().is_none());
    provider.token().await.unwrap();
    assert_eq!(server.token_request_count(), 2);
}

/// The error of one fresh client's first `token()` after `fault`.
async fn error_after(fault: Fault) -> AuthError {
    let server = FakeDstor::start().await.unwrap();
    server.push_fault(fault);
    let err = client(&server).token().await.unwrap_err();
    assert_no_secret(&chain(&err), &[server.api_key()]);
    err
}

fn api(err: AuthError) -> ApiError {
    match err {
        AuthError::Api(e) => e,
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn each_status_maps_to_its_error() {
    assert!(matches!(
        api(error_after(Fault::Status(400)).await),
        ApiError::BadRequest { .. }
    ));
    for status in [401, 403] {
        let err = error_after(Fault::Status(status)).await;
        assert!(err.is_key_rejected() && err.is_permanent() && !err.is_retryable());
        assert_eq!(api(err).status(), Some(status));
    }
    assert!(matches!(
        api(error_after(Fault::Status(404)).await),
        ApiError::NotFound { .. }
    ));
    let throttled = error_after(Fault::StatusRetryAfter(429, "7".into())).await;
    assert!(throttled.is_retryable());
    assert_eq!(throttled.retry_after(), Some(Duration::from_secs(7)));
    assert!(matches!(
        api(throttled),
        ApiError::Throttled { status: 429, .. }
    ));
    let unavailable = error_after(Fault::Status(503)).await;
    assert!(unavailable.is_retryable());
    assert!(matches!(
        api(unavailable),
        ApiError::Server { status: 503, .. }
    ));
}

#[tokio::test]
async fn a_redirect_is_an_error() {
    let err = error_after(Fault::Redirect {
        status: 302,
        location: "http://127.0.0.1:9/v1/dev/temp-token".into(),
    })
    .await;
    assert!(err.is_permanent());
    assert_eq!(api(err), ApiError::Redirect { status: 302 });
}

fn body(status: u16, body: &str) -> Fault {
    Fault::Body {
        status,
        content_type: "application/json".into(),
        body: body.into(),
    }
}

#[tokio::test]
async fn unusable_bodies_map_to_invalid_body() {
    let reason = |err: AuthError| match api(err) {
        ApiError::InvalidBody { reason } => reason,
        other => panic!("expected an invalid body, got {other:?}"),
    };
    assert_eq!(
        reason(error_after(body(200, "{\"access_token\":")).await),
        InvalidBody::NotJson
    );
    assert_eq!(
        reason(error_after(body(200, "{\"token\":\"x\"}")).await),
        InvalidBody::MissingToken
    );
    assert!(matches!(
        reason(error_after(body(200, "{\"access_token\":\"\"}")).await),
        InvalidBody::BadToken(_)
    ));
}

#[tokio::test]
async fn a_token_that_is_not_a_jwt_lives_as_long_as_requested() {
    let server = FakeDstor::start().await.unwrap();
    server.push_fault(body(200, "{\"access_token\":\"opaque-token\"}"));
    let client = client(&server);
    let token = client.token().await.unwrap();
    assert_eq!(token.expose_secret(), "opaque-token");
    assert!(!token.is_jwt());
    let requested: u64 = server.requests()[0].headers["x-expiration"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let expires = token
        .expires_at()
        .unwrap()
        .duration_since(UNIX_EPOCH)
        .unwrap();
    assert_eq!(expires.as_secs(), requested);
    let left = client.status().expires_in.unwrap();
    assert!(left > Duration::from_secs(3500), "{left:?}");
}

#[tokio::test]
async fn a_dropped_connection_is_a_retryable_transport_error() {
    let server = FakeDstor::start().await.unwrap();
    server.push_fault(Fault::DropConnection);
    let err = client(&server).token().await.unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    match &err {
        AuthError::Transport(e) => assert_eq!(e.kind(), TransportErrorKind::Connection),
        other => panic!("expected a transport error, got {other:?}"),
    }
    // One attempt: the HTTP client retries nothing behind the policy's back.
    assert_eq!(server.token_request_count(), 1);
    assert_no_secret(&chain(&err), &[server.api_key()]);
}

#[tokio::test]
async fn transient_failures_are_retried() {
    let server = FakeDstor::start().await.unwrap();
    server.push_faults([Fault::Status(503), Fault::Status(503)]);
    let client = builder(&server)
        .retry_policy(fast_retries())
        .build()
        .unwrap();
    client.token().await.unwrap();
    assert_eq!(server.token_request_count(), 3);
    assert_eq!(client.status().fetches, 1);

    let server = FakeDstor::start().await.unwrap();
    server.push_fault(Fault::DropConnection);
    let client = builder(&server)
        .retry_policy(fast_retries())
        .build()
        .unwrap();
    client.token().await.unwrap();
    assert_eq!(server.token_request_count(), 2);
}

#[tokio::test]
async fn a_rejected_key_is_not_retried() {
    let server = FakeDstor::start().await.unwrap();
    let client = dstor_http::DstorClient::builder()
        .endpoint(server.base_url())
        .api_key(dstor_http::ApiKey::new("x".repeat(64)).unwrap())
        .retry_policy(fast_retries())
        .build()
        .unwrap();
    let err = client.token().await.unwrap_err();
    assert!(err.is_key_rejected(), "{err:?}");
    assert_eq!(server.token_request_count(), 1);
}
