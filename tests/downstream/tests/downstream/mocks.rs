//! `MockTokenProvider` and `MockHttpTransport` (feature `mockall`) in place of dStor.

use dstor_auth::http::{Response, StatusCode};
use dstor_auth::{AccessToken, AuthorizedTransport, BaseUrl, MockHttpTransport, MockTokenProvider};
use dstor_downstream_tests::start_upload;

fn base() -> BaseUrl {
    BaseUrl::parse("https://api.testnet.dstor.cloud").unwrap()
}

fn bearer(request: &dstor_auth::http::Request<Vec<u8>>) -> Option<&str> {
    let header = request.headers().get("authorization")?;
    assert!(header.is_sensitive(), "the token is marked sensitive");
    header.to_str().ok()
}

#[tokio::test]
async fn a_rejected_token_is_invalidated_and_the_upload_starts_with_a_fresh_one() {
    let mut tokens = MockTokenProvider::new();
    let mut issued = ["stale", "fresh"].into_iter();
    tokens
        .expect_token()
        .times(2)
        .returning(move || Ok(AccessToken::new(issued.next().unwrap()).unwrap()));
    tokens
        .expect_invalidate()
        .withf(|token| token.expose_secret() == "stale")
        .times(1)
        .return_const(());

    let mut dstor = MockHttpTransport::new();
    dstor
        .expect_send()
        .withf(|request| bearer(request) == Some("Bearer stale"))
        .times(1)
        .returning(|_| {
            let mut response = Response::new(b"{}".to_vec());
            *response.status_mut() = StatusCode::UNAUTHORIZED;
            Ok(response)
        });
    dstor
        .expect_send()
        .withf(|request| {
            let body: &[u8] = request.body();
            bearer(request) == Some("Bearer fresh")
                && request.uri().path() == "/v1/upload/get-token/"
                && body == br#"{"chunks_number":3,"folder_path":"photos"}"#
        })
        .times(1)
        .returning(|_| Ok(Response::new(br#"{"message":"ok","token":"u-1"}"#.to_vec())));

    let authorized = AuthorizedTransport::new(dstor, tokens, base()).unwrap();
    let upload = start_upload(&authorized, base(), 3, "photos")
        .await
        .unwrap();
    assert_eq!(upload.expose_secret(), "u-1");
}
