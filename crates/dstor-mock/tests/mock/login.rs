//! `POST /v1/dev/temp-token` with login credentials.

use dstor_mock::FakeDstor;

use crate::common::{claims, now, send};

const PATH: &str = "/v1/dev/temp-token";
const JSON: (&str, &str) = ("content-type", "application/json");

fn body(email: &str, password: &str) -> Vec<u8> {
    serde_json::json!({ "email": email, "password": password })
        .to_string()
        .into_bytes()
}

#[tokio::test]
async fn the_default_account_gets_a_signed_token_like_the_keys() {
    let server = FakeDstor::start().await.unwrap();
    assert_eq!(server.email(), "dev@fake.dstor.test");
    assert_eq!(server.password().len(), 24);
    let exp = now() + 600;
    let expiration = exp.to_string();
    let reply = send(
        server.addr(),
        "POST",
        PATH,
        &[JSON, ("x-expiration", &expiration)],
        &body(server.email(), server.password()),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let token = reply.json()["access_token"].as_str().unwrap().to_owned();
    assert!(server.verify_token(&token).is_some());
    assert_eq!(claims(&token)["exp"], exp);
    assert_eq!(server.token_request_count(), 1);
}

#[tokio::test]
async fn given_accounts_are_accepted_and_a_wrong_pair_gets_401() {
    let server = FakeDstor::builder()
        .account("a@example.com", "pw-a")
        .account("b@example.com", "pw-b")
        .start()
        .await
        .unwrap();
    assert_eq!(
        (server.email(), server.password()),
        ("a@example.com", "pw-a")
    );
    let post = |email: &'static str, password: &'static str| {
        let addr = server.addr();
        async move { send(addr, "POST", PATH, &[JSON], &body(email, password)).await }
    };
    let a = post("A@Example.com", "pw-a").await;
    let b = post("b@example.com", "pw-b").await;
    assert_eq!((a.status, b.status), (200, 200));
    let sub = |reply: &crate::common::Reply| {
        claims(reply.json()["access_token"].as_str().unwrap())["sub"].clone()
    };
    assert_ne!(sub(&a), sub(&b));
    for (email, password) in [("a@example.com", "pw-b"), ("c@example.com", "pw-a")] {
        let reply = post(email, password).await;
        assert_eq!(reply.status, 401, "{email}");
        assert_eq!(reply.json()["message"], "invalid email or password");
        assert!(!reply.text().contains(password));
    }
}

/// Request headers, as `send` takes them.
type Headers<'a> = &'a [(&'a str, &'a str)];

#[tokio::test]
async fn a_malformed_body_or_content_type_gets_400() {
    let server = FakeDstor::start().await.unwrap();
    let good = body(server.email(), server.password());
    let cases: [(Headers<'_>, &[u8]); 4] = [
        (&[JSON], b"not json"),
        (&[JSON], br#"{"email":"dev@fake.dstor.test"}"#),
        (&[JSON], br#"{"email":1,"password":2}"#),
        (&[("content-type", "text/plain")], &good),
    ];
    for (headers, payload) in cases {
        let reply = send(server.addr(), "POST", PATH, headers, payload).await;
        assert_eq!(reply.status, 400, "{}", String::from_utf8_lossy(payload));
        assert!(reply.json()["message"].is_string());
    }
}
