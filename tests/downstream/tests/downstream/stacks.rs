//! `dstor-http`'s `AuthorizedMiddleware` in a `reqwest_middleware` client.

use dstor_http::middleware::AuthorizedMiddleware;
use dstor_http::{ApiKey, DstorClient};
use dstor_mock::FakeDstor;

#[tokio::test]
async fn a_middleware_client_starts_an_upload_with_the_token() {
    let server = FakeDstor::start().await.unwrap();
    let dstor = DstorClient::builder()
        .endpoint(server.base_url())
        .api_key(ApiKey::new(server.api_key()).unwrap())
        .build()
        .unwrap();
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(AuthorizedMiddleware::for_client(&dstor))
        .build();
    let response = client
        .post(format!("{}/v1/upload/get-token/", server.base_url()))
        .body(r#"{"chunks_number":1,"folder_path":"/"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(server.upload_token_request_count(), 1);
    assert_eq!(dstor.status().fetches, 1);
}
