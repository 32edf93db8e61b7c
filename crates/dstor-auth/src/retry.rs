//! Retrying a token fetch with backoff.

use std::time::Duration;

use async_trait::async_trait;
use dstor_types::AccessToken;
use tokio::time::Instant;
use tracing::Instrument as _;

use crate::time::{far_off, full_jitter};
use crate::{AuthError, TokenProvider, TransportError, TransportErrorKind};

/// How a failed fetch is retried: which errors, how often, how long apart.
///
/// Connect errors, timeouts, 408, 429, 500, 502, 503 and 504 are retried (see
/// [`AuthError::is_retryable`]); 400, 401, 403 and redirects never are. The wait before
/// retry `n` is drawn uniformly from `0..min(max_backoff, initial_backoff · 2ⁿ⁻¹)` (full
/// jitter), or is the server's `Retry-After`, up to `max_retry_after`. Everything happens
/// inside `deadline`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first included (default 4). `1` disables retries.
    pub max_attempts: u32,
    /// The scale of the first backoff (default 200 ms).
    pub initial_backoff: Duration,
    /// The largest backoff (default 5 s).
    pub max_backoff: Duration,
    /// The longest `Retry-After` honoured (default 30 s); a longer one is cut to this.
    pub max_retry_after: Duration,
    /// The deadline for all attempts together (default 60 s).
    pub deadline: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(30),
            deadline: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// A policy that makes one attempt.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Sets the number of attempts (at least one).
    #[must_use]
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets the scale of the first backoff and the largest backoff.
    #[must_use]
    pub fn with_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max.max(initial);
        self
    }

    /// Sets the longest `Retry-After` honoured.
    #[must_use]
    pub fn with_max_retry_after(mut self, max: Duration) -> Self {
        self.max_retry_after = max;
        self
    }

    /// Sets the deadline for all attempts together.
    #[must_use]
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// The wait before retry number `retry` (1-based) after `error`.
    pub fn backoff(&self, retry: u32, error: &AuthError) -> Duration {
        match error.retry_after() {
            Some(wait) => wait.min(self.max_retry_after),
            None => full_jitter(self.initial_backoff, self.max_backoff, retry),
        }
    }
}

/// A provider that retries its inner provider's retryable failures, following a
/// [`RetryPolicy`].
///
/// It waits on Tokio's timer, so it runs inside a Tokio runtime with time enabled (as
/// `#[tokio::main]` and `#[tokio::test]` give).
#[derive(Debug)]
pub struct RetryingProvider<P> {
    inner: P,
    policy: RetryPolicy,
}

impl<P: TokenProvider> RetryingProvider<P> {
    /// Retries `inner` following `policy`.
    pub fn new(inner: P, policy: RetryPolicy) -> Self {
        Self { inner, policy }
    }

    /// The inner provider.
    pub fn inner(&self) -> &P {
        &self.inner
    }

    /// The policy.
    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }
}

#[async_trait]
impl<P: TokenProvider> TokenProvider for RetryingProvider<P> {
    async fn token(&self) -> Result<AccessToken, AuthError> {
        let deadline = far_off(Instant::now(), self.policy.deadline);
        let mut attempt = 1;
        loop {
            let span = tracing::debug_span!("dstor.attempt", attempt);
            let result = match tokio::time::timeout_at(deadline, self.inner.token())
                .instrument(span)
                .await
            {
                Ok(result) => result,
                Err(_elapsed) => Err(TransportError::new(TransportErrorKind::Timeout).into()),
            };
            let error = match result {
                Ok(token) => return Ok(token),
                Err(error) => error,
            };
            if !error.is_retryable() || attempt >= self.policy.max_attempts {
                return Err(error);
            }
            let wait = self.policy.backoff(attempt, &error);
            if far_off(Instant::now(), wait) >= deadline {
                return Err(error);
            }
            tracing::debug!(attempt, wait_ms = wait.as_millis() as u64, error = %error, "retrying");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    fn invalidate(&self, token: &AccessToken) {
        self.inner.invalidate(token);
    }
}

#[cfg(test)]
mod tests;
