use std::sync::atomic::{AtomicU32, Ordering};

use dstor_types::ApiError;
use mockall::mock;

use super::*;

mock! {
    #[derive(Debug)]
    Provider {}
    #[async_trait]
    impl TokenProvider for Provider {
        async fn token(&self) -> Result<AccessToken, AuthError>;
    }
}

fn server(status: u16, retry_after: Option<u64>) -> AuthError {
    ApiError::Server {
        status,
        retry_after: retry_after.map(Duration::from_secs),
        message: None,
    }
    .into()
}

fn token() -> AccessToken {
    AccessToken::new("t").unwrap()
}

/// A provider that fails with the given errors, then succeeds.
fn failing_then_ok(errors: Vec<AuthError>) -> (MockProvider, std::sync::Arc<AtomicU32>) {
    let calls = std::sync::Arc::new(AtomicU32::new(0));
    let counter = calls.clone();
    let mut provider = MockProvider::new();
    provider.expect_token().returning(move || {
        let n = counter.fetch_add(1, Ordering::SeqCst) as usize;
        errors.get(n).cloned().map_or_else(|| Ok(token()), Err)
    });
    (provider, calls)
}

#[tokio::test(start_paused = true)]
async fn a_503_503_200_succeeds_after_two_backoffs() {
    let (provider, calls) = failing_then_ok(vec![server(503, None), server(503, None)]);
    let retrying = RetryingProvider::new(provider, RetryPolicy::default());
    let started = Instant::now();
    assert_eq!(retrying.token().await.unwrap(), token());
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    // Two full-jitter waits, below 200 ms and below 400 ms; a paused clock rounds each
    // sleep up to the millisecond.
    assert!(started.elapsed() <= Duration::from_millis(600));
}

#[tokio::test(start_paused = true)]
async fn a_429_with_retry_after_two_waits_two_seconds() {
    let throttled: AuthError = ApiError::Throttled {
        status: 429,
        retry_after: Some(Duration::from_secs(2)),
        message: None,
    }
    .into();
    let (provider, calls) = failing_then_ok(vec![throttled]);
    let retrying = RetryingProvider::new(provider, RetryPolicy::default());
    let started = Instant::now();
    retrying.token().await.unwrap();
    assert_eq!(started.elapsed(), Duration::from_secs(2));
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_honoured_up_to_the_cap() {
    let (provider, _) = failing_then_ok(vec![server(503, Some(3600))]);
    let policy = RetryPolicy::default().with_max_retry_after(Duration::from_secs(10));
    let started = Instant::now();
    RetryingProvider::new(provider, policy)
        .token()
        .await
        .unwrap();
    assert_eq!(started.elapsed(), Duration::from_secs(10));
}

#[tokio::test(start_paused = true)]
async fn a_401_makes_one_call() {
    let rejected: AuthError = ApiError::KeyRejected {
        status: 401,
        message: None,
    }
    .into();
    let mut provider = MockProvider::new();
    provider
        .expect_token()
        .times(1)
        .returning(move || Err(rejected.clone()));
    let err = RetryingProvider::new(provider, RetryPolicy::default())
        .token()
        .await
        .unwrap_err();
    assert!(err.is_key_rejected());
}

#[tokio::test(start_paused = true)]
async fn gives_up_after_max_attempts_with_the_last_error() {
    let (provider, calls) = failing_then_ok(vec![server(503, None); 10]);
    let err = RetryingProvider::new(provider, RetryPolicy::default().with_max_attempts(3))
        .token()
        .await
        .unwrap_err();
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert!(matches!(
        err,
        AuthError::Api(ApiError::Server { status: 503, .. })
    ));
}

#[tokio::test(start_paused = true)]
async fn stops_at_the_deadline() {
    let mut provider = MockProvider::new();
    provider.expect_token().returning(|| {
        Err(ApiError::Throttled {
            status: 429,
            retry_after: Some(Duration::from_secs(20)),
            message: None,
        }
        .into())
    });
    let policy = RetryPolicy::default()
        .with_max_attempts(100)
        .with_deadline(Duration::from_secs(45));
    let started = Instant::now();
    let err = RetryingProvider::new(provider, policy)
        .token()
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::Api(ApiError::Throttled { .. })));
    // Waits at 0 s and 20 s; a third wait would pass the deadline.
    assert_eq!(started.elapsed(), Duration::from_secs(40));
}
