//! One request however many callers.

mod common;

use std::time::Duration;

use dstor_mock::FakeDstor;
use tokio::task::JoinSet;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_cold_callers_make_one_request() {
    let server = FakeDstor::builder()
        .delay(Duration::from_millis(20))
        .start()
        .await
        .unwrap();
    let client = common::client(&server);
    let mut callers = JoinSet::new();
    for _ in 0..1000 {
        let client = client.clone();
        callers.spawn(async move { client.token().await });
    }
    let first = client.token().await.unwrap();
    while let Some(result) = callers.join_next().await {
        assert!(result.unwrap().unwrap().same_token(&first));
    }
    assert_eq!(server.request_count(), 1);
    assert_eq!(server.token_request_count(), 1);
    assert_eq!(client.tokens().status().fetches, 1);
}
