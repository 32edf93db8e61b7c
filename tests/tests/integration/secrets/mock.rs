//! dstor-mock: the fake server and what it recorded.

use std::time::Duration;

use dstor_auth::{ApiKeyProvider, HttpTransport, TokenProvider};
use dstor_mock::{FakeDstor, Fault};
use dstor_tests::LeakCheck;
use http::Request;

use super::{KEY, checker, key, token_text};
use crate::custom_transport::{RawHttp1, environment};

#[tokio::test]
async fn dstor_mock_server_and_what_it_recorded() {
    let token = token_text();
    let mut check = checker(&token);
    let builder = FakeDstor::builder().key(KEY).delay(Duration::ZERO);
    check.debug("FakeDstorBuilder", &builder);
    let server = builder.start().await.unwrap();
    check.debug("FakeDstor", &server);
    server.push_fault(Fault::StatusRetryAfter(429, "1".to_owned()));
    check.debug("FakeDstor with a fault", &server);

    // A token from the server itself, and a request carrying every kind of secret.
    let exchange = ApiKeyProvider::new(RawHttp1, &environment(&server), key()).unwrap();
    let _throttled = exchange.token().await.unwrap_err();
    let issued = exchange.token().await.unwrap();
    let issued_text = issued.expose_secret().to_owned();
    let request = Request::get(format!(
        "{}/v1/dev/temp-token?api-key={KEY}&token={token}&page=2",
        server.base_url()
    ))
    .header("api-key", KEY)
    .header("x-api-key", KEY)
    .header("authorization", format!("Bearer {token}"))
    .header("cookie", format!("session={issued_text}"))
    .body(Vec::new())
    .unwrap();
    RawHttp1.send(request).await.unwrap();

    let mut check_issued = LeakCheck::new([issued_text.clone()]);
    for seen in server.requests() {
        check.debug("RecordedRequest", &seen);
        check_issued.debug("RecordedRequest", &seen);
    }
    check.debug("FakeDstor after requests", &server);
    check_issued.debug("AccessToken from the fake", &issued);
    check_issued.debug("FakeDstor after issuing", &server);
    check.assert_clean();
    check_issued.assert_clean();
    server.shutdown().await;
}
