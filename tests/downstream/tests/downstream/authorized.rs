//! `Tokens` and `AuthorizedTransport` over the own transport, against the fake.

use std::time::Duration;

use dstor_auth::{ApiKey, AuthorizedTransport, Tokens, TransportError, TransportErrorKind};
use dstor_downstream_tests::{HyperTransport, start_upload};
use dstor_mock::FakeDstor;

fn transport() -> HyperTransport {
    HyperTransport::new(Duration::from_secs(5), 64 * 1024)
}

fn tokens(server: &FakeDstor) -> Tokens {
    Tokens::builder(transport())
        .endpoint(server.base_url())
        .api_key(ApiKey::new(server.api_key()).unwrap())
        .build()
        .unwrap()
}

#[tokio::test]
async fn an_upload_starts_with_the_token_of_the_key() {
    let server = FakeDstor::start().await.unwrap();
    let tokens = tokens(&server);
    let base = tokens.environment().base_url();
    let dstor = AuthorizedTransport::new(transport(), tokens.clone(), base.clone()).unwrap();

    let upload = start_upload(&dstor, base, 1, "/").await.unwrap();
    assert!(!upload.expose_secret().is_empty());
    assert_eq!(server.upload_token_request_count(), 1);
    assert_eq!(server.token_request_count(), 1);
    let token = tokens.try_cached().expect("the token stays cached");
    let sent = server
        .requests()
        .into_iter()
        .find(|r| r.path.starts_with("/v1/upload/get-token"))
        .unwrap();
    assert_eq!(
        sent.headers["authorization"],
        format!("Bearer {}", token.expose_secret())
    );
    assert!(!sent.headers.contains_key("api-key"));
    let shown = format!("{dstor:?}");
    assert!(!shown.contains(token.expose_secret()) && !shown.contains(server.api_key()));
}

#[tokio::test]
async fn no_request_goes_to_another_origin() {
    let server = FakeDstor::start().await.unwrap();
    let other = FakeDstor::start().await.unwrap();
    let tokens = tokens(&server);
    let base = tokens.environment().base_url();
    let dstor = AuthorizedTransport::new(transport(), tokens, base).unwrap();
    let elsewhere = dstor_types::BaseUrl::parse(&other.base_url()).unwrap();

    let err = start_upload(&dstor, elsewhere, 1, "/").await.unwrap_err();
    let err = err.downcast_ref::<TransportError>().unwrap();
    assert_eq!(err.kind(), TransportErrorKind::ForeignOrigin);
    assert_eq!(other.request_count(), 0);
    assert_eq!(server.request_count(), 0, "not even a token was fetched");
}
