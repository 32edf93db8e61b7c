//! The normal behaviour of the token endpoint.

use std::time::Duration;

use crate::common::{claims, now, request, token};
use dstor_mock::FakeDstor;

#[tokio::test]
async fn valid_key_gets_a_verifiable_token_with_the_requested_expiry() {
    let server = FakeDstor::start().await.unwrap();
    let key = server.api_key().to_owned();
    assert_eq!(key.len(), 64);
    assert!(key.bytes().all(|b| b.is_ascii_alphanumeric()));
    let exp = now() + 3600;
    let reply = token(
        server.addr(),
        &[("api-key", &key), ("x-expiration", &exp.to_string())],
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let body = reply.json();
    let jwt = body["access_token"].as_str().unwrap();
    let verified = server.verify_token(jwt).expect("signed by the server");
    assert_eq!(verified, claims(jwt));
    assert_eq!(verified["exp"], exp);
    assert!((verified["iat"].as_i64().unwrap() - now()).abs() <= 2);
    assert_eq!(verified["aud"], "dstor.cloud");
    assert_eq!(verified["iss"], "dstor.cloud");
    assert_eq!(verified["d"], false);
    assert_eq!(verified["t"], serde_json::Value::Null);
    assert_eq!(verified["sub"].as_str().unwrap().len(), 36);
    assert_eq!(server.token_request_count(), 1);

    // Another server does not accept it; a tampered token is refused.
    let other = FakeDstor::start().await.unwrap();
    assert!(other.verify_token(jwt).is_none());
    let mut tampered = jwt.to_owned();
    tampered.pop();
    tampered.push(if jwt.ends_with('A') { 'B' } else { 'A' });
    assert!(server.verify_token(&tampered).is_none());
}

#[tokio::test]
async fn fractional_expiration_is_accepted_and_truncated() {
    let server = FakeDstor::start().await.unwrap();
    let exp = now() + 3600;
    let reply = token(
        server.addr(),
        &[
            ("api-key", server.api_key()),
            ("x-expiration", &format!("{exp}.734")),
        ],
    )
    .await;
    assert_eq!(reply.status, 200);
    let jwt = reply.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(server.verify_token(&jwt).unwrap()["exp"], exp);
}

#[tokio::test]
async fn past_or_malformed_expiration_is_a_400() {
    let server = FakeDstor::start().await.unwrap();
    for value in [
        (now() - 10).to_string(),
        "yesterday".to_owned(),
        "NaN".to_owned(),
    ] {
        let reply = token(
            server.addr(),
            &[("api-key", server.api_key()), ("x-expiration", &value)],
        )
        .await;
        assert_eq!(reply.status, 400, "{value}");
        assert!(reply.json()["message"].is_string());
    }
}

#[tokio::test]
async fn unknown_or_missing_key_is_a_401_that_does_not_echo_it() {
    let server = FakeDstor::start().await.unwrap();
    let wrong = "W".repeat(64);
    let reply = token(server.addr(), &[("api-key", &wrong)]).await;
    assert_eq!(reply.status, 401);
    assert_eq!(
        reply.json(),
        serde_json::json!({"message": "invalid api key"})
    );
    assert!(!reply.text().contains(&wrong));
    assert!(!reply.headers.iter().any(|(_, v)| v.contains(&wrong)));

    let reply = token(server.addr(), &[]).await;
    assert_eq!(reply.status, 401);
    assert_eq!(
        reply.json(),
        serde_json::json!({"message": "invalid api key"})
    );
    assert_eq!(server.token_request_count(), 2);
}

#[tokio::test]
async fn absent_expiration_means_about_one_year() {
    let server = FakeDstor::start().await.unwrap();
    let reply = token(server.addr(), &[("api-key", server.api_key())]).await;
    assert_eq!(reply.status, 200);
    let claims = claims(reply.json()["access_token"].as_str().unwrap());
    let year = 365 * 24 * 3600;
    let exp = claims["exp"].as_i64().unwrap();
    assert_eq!(exp - claims["iat"].as_i64().unwrap(), year);
    assert!((exp - (now() + year)).abs() <= 2);
}

#[tokio::test]
async fn token_lifetime_overrides_the_requested_expiry() {
    let server = FakeDstor::builder()
        .token_lifetime(Duration::from_secs(5))
        .start()
        .await
        .unwrap();
    let reply = token(
        server.addr(),
        &[
            ("api-key", server.api_key()),
            ("x-expiration", &(now() + 3600).to_string()),
        ],
    )
    .await;
    let claims = claims(reply.json()["access_token"].as_str().unwrap());
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        5
    );
}

#[tokio::test]
async fn several_keys_each_get_their_own_subject() {
    let server = FakeDstor::builder()
        .key("a".repeat(64))
        .keys(["b".repeat(64)])
        .start()
        .await
        .unwrap();
    assert_eq!(server.api_key(), "a".repeat(64));
    let mut subjects = Vec::new();
    for key in ["a".repeat(64), "b".repeat(64)] {
        let reply = token(server.addr(), &[("api-key", &key)]).await;
        assert_eq!(reply.status, 200);
        subjects.push(claims(reply.json()["access_token"].as_str().unwrap())["sub"].clone());
    }
    assert_ne!(subjects[0], subjects[1]);
}

#[tokio::test]
async fn trailing_slash_other_paths_and_methods() {
    let server = FakeDstor::start().await.unwrap();
    let key = [("api-key", server.api_key())];
    let reply = request(server.addr(), "GET", "/v1/dev/temp-token/", &key).await;
    assert_eq!(reply.status, 200);
    let reply = request(server.addr(), "GET", "/v1/other?x=1", &key).await;
    assert_eq!(reply.status, 404);
    assert!(reply.json()["message"].is_string());
    let reply = request(server.addr(), "DELETE", "/v1/dev/temp-token", &key).await;
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), Some("GET, POST"));
    assert_eq!(server.request_count(), 3);
    assert_eq!(server.token_request_count(), 1);
}

#[tokio::test]
async fn requests_are_recorded_and_debug_hides_the_key() {
    let server = FakeDstor::start().await.unwrap();
    let key = server.api_key().to_owned();
    token(
        server.addr(),
        &[("api-key", &key), ("x-expiration", "9999999999")],
    )
    .await;
    request(server.addr(), "GET", "/elsewhere?api_key=zzz&page=2", &[]).await;
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let first = &requests[0];
    assert_eq!(first.method, http::Method::GET);
    assert_eq!(first.path, "/v1/dev/temp-token");
    assert_eq!(first.query, None);
    let recorded_key = first.headers.get("api-key").unwrap();
    assert_eq!(recorded_key, key.as_str());
    assert!(recorded_key.is_sensitive());
    assert_eq!(first.headers.get("x-expiration").unwrap(), "9999999999");
    let debug = format!("{first:?}");
    assert!(!debug.contains(&key), "{debug}");
    assert!(debug.contains("[redacted]"), "{debug}");
    assert!(debug.contains("9999999999"), "{debug}");
    let second = format!("{:?}", requests[1]);
    assert_eq!(requests[1].query.as_deref(), Some("api_key=zzz&page=2"));
    assert!(
        !second.contains("zzz") && second.contains("page=2"),
        "{second}"
    );

    for debug in [
        format!("{server:?}"),
        format!("{:?}", FakeDstor::builder().key("sekrit")),
    ] {
        assert!(
            !debug.contains(&key) && !debug.contains("sekrit"),
            "{debug}"
        );
    }
}

#[tokio::test]
async fn malformed_input_does_not_break_the_server() {
    let server = FakeDstor::start().await.unwrap();
    // Non-UTF-8 header values.
    let received = crate::common::raw(
        server.addr(),
        "GET",
        "/v1/dev/temp-token",
        &[("api-key", "\u{e9}t\u{e9}"), ("x-expiration", "\u{ff}")],
    )
    .await
    .unwrap();
    assert!(received.starts_with(b"HTTP/1.1 401"));
    // Garbage instead of HTTP.
    let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut stream, b"\x00\x01 nonsense\r\n\r\n")
        .await
        .unwrap();
    let mut sink = Vec::new();
    let _ = tokio::io::AsyncReadExt::read_to_end(&mut stream, &mut sink).await;
    // Still serving.
    let reply = token(server.addr(), &[("api-key", server.api_key())]).await;
    assert_eq!(reply.status, 200);
}
