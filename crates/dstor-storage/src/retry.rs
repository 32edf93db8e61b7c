//! Retrying a request of the storage flows, following the token exchange's policy.

use std::future::Future;
use std::time::Duration;

use dstor_auth::RetryPolicy;
use tokio::time::Instant;

use crate::StorageError;

/// Runs `attempt` until it succeeds, fails with an error `retryable` refuses, or the
/// policy's attempts or deadline run out. The wait before retry `n` is dStor's
/// `Retry-After` (at most `max_retry_after`), else drawn from
/// `0..min(max_backoff, initial_backoff · 2ⁿ⁻¹)`.
pub(crate) async fn with_retries<T, F, Fut>(
    policy: &RetryPolicy,
    retryable: impl Fn(&StorageError) -> bool,
    mut attempt: F,
) -> Result<T, StorageError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, StorageError>>,
{
    let start = Instant::now();
    let mut tries: u32 = 1;
    loop {
        let error = match attempt().await {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        if !retryable(&error) || tries >= policy.max_attempts {
            return Err(error);
        }
        let wait = match error.retry_after() {
            Some(wait) => wait.min(policy.max_retry_after),
            None => full_jitter(policy.initial_backoff, policy.max_backoff, tries),
        };
        if start.elapsed().saturating_add(wait) >= policy.deadline {
            return Err(error);
        }
        tracing::debug!(tries, wait_ms = wait.as_millis() as u64, error = %error, "retrying");
        tokio::time::sleep(wait).await;
        tries += 1;
    }
}

/// A wait drawn uniformly from `0..min(cap, base · 2^(n−1))`.
fn full_jitter(base: Duration, cap: Duration, n: u32) -> Duration {
    let ceiling = base
        .checked_mul(1u32 << n.saturating_sub(1).min(20))
        .unwrap_or(cap)
        .min(cap);
    Duration::try_from_secs_f64(ceiling.as_secs_f64() * fastrand::f64()).unwrap_or(cap)
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use dstor_auth::{TransportError, TransportErrorKind};
    use dstor_types::{ApiError, UploadApiError};

    use super::*;
    use crate::Stage;

    fn refused(status: u16, retry_after: Option<u64>) -> StorageError {
        let retry_after = retry_after.map(Duration::from_secs);
        let api = match status {
            400 => ApiError::BadRequest { message: None },
            429 => ApiError::Throttled {
                status,
                retry_after,
                message: None,
            },
            _ => ApiError::Server {
                status,
                retry_after,
                message: None,
            },
        };
        StorageError::Api {
            stage: Stage::Status,
            source: UploadApiError::Api(api),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn retryable_failures_are_retried_within_the_policy() {
        let calls = Cell::new(0);
        let started = Instant::now();
        let got = with_retries(&RetryPolicy::default(), StorageError::is_retryable, || {
            calls.set(calls.get() + 1);
            let n = calls.get();
            async move {
                match n {
                    1 => Err(refused(503, Some(7))),
                    2 => Err(StorageError::Transport {
                        stage: Stage::Status,
                        source: TransportError::new(TransportErrorKind::Timeout),
                    }),
                    _ => Ok("ok"),
                }
            }
        })
        .await;
        assert_eq!(got.unwrap(), "ok");
        assert_eq!(calls.get(), 3);
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_secs(7) && waited <= Duration::from_millis(7400),
            "Retry-After 7 s, then under 400 ms (a paused clock rounds a sleep up to the millisecond): {waited:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_permanent_failure_and_the_last_attempt_are_final() {
        let calls = Cell::new(0);
        let err = with_retries(&RetryPolicy::default(), StorageError::is_retryable, || {
            calls.set(calls.get() + 1);
            async { Err::<(), _>(refused(400, None)) }
        })
        .await
        .unwrap_err();
        assert!(matches!(err, StorageError::Api { .. }), "{err:?}");
        assert_eq!(calls.get(), 1);

        calls.set(0);
        let policy = RetryPolicy::default().with_max_attempts(3);
        with_retries(&policy, StorageError::is_retryable, || {
            calls.set(calls.get() + 1);
            async { Err::<(), _>(refused(502, None)) }
        })
        .await
        .unwrap_err();
        assert_eq!(calls.get(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_past_the_deadline_is_not_taken() {
        let calls = Cell::new(0);
        let policy = RetryPolicy::default().with_deadline(Duration::from_secs(10));
        let started = Instant::now();
        with_retries(&policy, StorageError::is_retryable, || {
            calls.set(calls.get() + 1);
            async { Err::<(), _>(refused(429, Some(3600))) }
        })
        .await
        .unwrap_err();
        assert_eq!(calls.get(), 1, "a 30 s Retry-After does not fit in 10 s");
        assert_eq!(started.elapsed(), Duration::ZERO);
    }
}
