//! What the integration tests share.

use std::time::Duration;

use dstor_http::{ApiKey, DstorClient, DstorClientBuilder, RetryPolicy};
use dstor_mock::FakeDstor;

/// A builder pointed at `server`, with its key, one attempt and default limits.
pub(crate) fn builder(server: &FakeDstor) -> DstorClientBuilder {
    DstorClient::builder()
        .endpoint(server.base_url())
        .api_key(ApiKey::new(server.api_key()).unwrap())
        .retry_policy(RetryPolicy::none())
}

/// A client pointed at `server`, with one attempt.
pub(crate) fn client(server: &FakeDstor) -> DstorClient {
    builder(server).build().unwrap()
}

/// A retry policy with millisecond backoffs.
pub(crate) fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(4)
        .with_backoff(Duration::from_millis(1), Duration::from_millis(5))
}

/// The `Display` and `Debug` of an error and of every source below it.
pub(crate) fn chain(err: &dyn std::error::Error) -> String {
    let mut text = format!("{err} | {err:?}");
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(&format!(" | {s} | {s:?}"));
        source = s.source();
    }
    text
}

/// Panics if `text` holds any of `secrets`.
pub(crate) fn assert_no_secret(text: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(!secret.is_empty());
        assert!(!text.contains(secret), "a secret leaked into: {text}");
    }
}
