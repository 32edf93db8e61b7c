//! Hand-written fakes for tests (feature `test-util`): a scripted token provider, a
//! scripted transport, and unsigned JWTs.
//!
//! mockall's mocks are not visible outside the crate that defines them; these are, and
//! they count calls and concurrency so a test can assert what the upstream saw.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dstor_types::AccessToken;
use http::{Request, Response};

use crate::{AuthError, HttpTransport, TokenProvider, TransportError};

/// An unsigned JWT (`"alg":"none"`) with the given claims, shaped like dStor's.
pub fn fake_jwt(iat: i64, exp: i64, sub: &str) -> String {
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let payload = claims_json(iat, exp, sub);
    format!("{header}.{}.c2ln", URL_SAFE_NO_PAD.encode(payload))
}

fn claims_json(iat: i64, exp: i64, sub: &str) -> String {
    let sub: String = sub
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    format!(
        r#"{{"d":false,"o":false,"s":false,"t":null,"iat":{iat},"exp":{exp},"aud":"dstor.cloud","iss":"dstor.cloud","sub":"{sub}"}}"#
    )
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The last second of the year 9999: no minted token expires later, however long the
/// lifetime asked for (`Duration::MAX` included).
const LAST_EXP: i64 = 253_402_300_799;

/// The `exp` of a token issued at `now` with `lifetime`: saturating, never before `now`.
fn expiry(now: i64, lifetime: Duration) -> i64 {
    let lifetime = i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX);
    now.saturating_add(lifetime).min(LAST_EXP.max(now))
}

/// What a [`ScriptedProvider`] mints once its script is used up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Minted {
    /// JWTs issued now that expire after this lifetime (`exp − iat`), at the latest at
    /// the end of the year 9999.
    Jwt(Duration),
    /// JWTs whose `exp` passed a minute ago.
    Expired,
    /// Opaque tokens with no expiry.
    Opaque,
}

/// A [`TokenProvider`] that answers from a script of results, then mints fresh tokens.
/// Counts calls and the most calls seen at once; waits `delay` (on Tokio's clock, so
/// paused time applies) before each answer.
#[derive(Debug)]
pub struct ScriptedProvider {
    script: Mutex<VecDeque<Result<AccessToken, AuthError>>>,
    fallback: Mutex<Option<AuthError>>,
    minted: Minted,
    delay: Duration,
    calls: AtomicUsize,
    running: AtomicUsize,
    max_running: AtomicUsize,
}

impl ScriptedProvider {
    /// A provider that mints one-hour JWTs.
    pub fn new() -> Self {
        Self::minting(Minted::Jwt(Duration::from_secs(3600)))
    }

    /// A provider that mints tokens as `minted` says.
    pub fn minting(minted: Minted) -> Self {
        Self {
            script: Mutex::new(VecDeque::new()),
            fallback: Mutex::new(None),
            minted,
            delay: Duration::ZERO,
            calls: AtomicUsize::new(0),
            running: AtomicUsize::new(0),
            max_running: AtomicUsize::new(0),
        }
    }

    /// Waits `delay` before every answer.
    #[must_use]
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Answers the next call with `result`.
    pub fn push(&self, result: Result<AccessToken, AuthError>) {
        self.script
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_back(result);
    }

    /// Answers the next `n` calls with `error`.
    pub fn push_errors(&self, n: usize, error: &AuthError) {
        for _ in 0..n {
            self.push(Err(error.clone()));
        }
    }

    /// Once the script is used up, answers every call with `error` (`None`: mint tokens).
    pub fn fail_always(&self, error: Option<AuthError>) {
        *self.fallback.lock().unwrap_or_else(|e| e.into_inner()) = error;
    }

    /// Calls so far.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// The most calls that were under way at once.
    pub fn max_concurrent(&self) -> usize {
        self.max_running.load(Ordering::SeqCst)
    }

    fn mint(&self, n: usize) -> Result<AccessToken, AuthError> {
        let now = unix_now();
        let text = match self.minted {
            Minted::Jwt(lifetime) => fake_jwt(now, expiry(now, lifetime), &format!("token-{n}")),
            Minted::Expired => fake_jwt(now - 3660, now - 60, &format!("token-{n}")),
            Minted::Opaque => format!("opaque-token-{n}"),
        };
        AccessToken::new(text)
            .map_err(|e| AuthError::provider_with_source("minted a bad token", false, e))
    }
}

impl Default for ScriptedProvider {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl TokenProvider for ScriptedProvider {
    async fn token(&self) -> Result<AccessToken, AuthError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        let running = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_running.fetch_max(running, Ordering::SeqCst);
        struct Done<'a>(&'a AtomicUsize);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        let _done = Done(&self.running);
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        let scripted = self
            .script
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop_front();
        if let Some(result) = scripted {
            return result;
        }
        let fallback = self
            .fallback
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        match fallback {
            Some(error) => Err(error),
            None => self.mint(n),
        }
    }
}

/// An [`HttpTransport`] that answers from a script and records every request.
#[derive(Debug, Default)]
pub struct ScriptedTransport {
    answers: Mutex<VecDeque<Result<Response<Vec<u8>>, TransportError>>>,
    requests: Mutex<Vec<Request<Vec<u8>>>>,
}

impl ScriptedTransport {
    /// A transport with an empty script (it answers 500 when the script runs out).
    pub fn new() -> Self {
        Self::default()
    }

    /// Answers the next request with `status` and `body`.
    pub fn push_response(&self, status: u16, body: &str) {
        let response = Response::builder()
            .status(status)
            .body(body.as_bytes().to_vec())
            .unwrap_or_else(|_| server_error());
        self.push(Ok(response));
    }

    /// Answers the next request with `status`, `headers` (name, value pairs) and `body`:
    /// for a `Retry-After` or a `Date`, say. A pair that is not a valid header makes the
    /// answer a 500, so that a typo in a test shows.
    pub fn push_response_with_headers(&self, status: u16, headers: &[(&str, &str)], body: &str) {
        let mut builder = Response::builder().status(status);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let response = builder
            .body(body.as_bytes().to_vec())
            .unwrap_or_else(|_| server_error());
        self.push(Ok(response));
    }

    /// Answers the next request with `answer`.
    pub fn push(&self, answer: Result<Response<Vec<u8>>, TransportError>) {
        self.answers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_back(answer);
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<Request<Vec<u8>>> {
        self.requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

fn server_error() -> Response<Vec<u8>> {
    let mut response = Response::new(Vec::new());
    *response.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
    response
}

#[async_trait]
impl HttpTransport for ScriptedTransport {
    async fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        self.requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(request);
        let next = self
            .answers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop_front();
        next.unwrap_or_else(|| Ok(server_error()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CachedTokenProvider;

    /// Issue 12, defect 6: an absurd lifetime neither panics nor mints an expired token.
    #[tokio::test]
    async fn an_absurd_lifetime_mints_a_token_that_lasts() {
        for lifetime in [
            Duration::from_secs(i64::MAX as u64),
            Duration::from_secs(u64::MAX),
            Duration::MAX,
        ] {
            let cache = CachedTokenProvider::new(ScriptedProvider::minting(Minted::Jwt(lifetime)));
            let token = cache.token().await.unwrap();
            assert_eq!(token.claims().exp, Some(LAST_EXP), "{lifetime:?}");
            let left = token.remaining_at(SystemTime::now()).unwrap();
            assert!(
                left > Duration::from_secs(7_000 * 365 * 86_400),
                "{lifetime:?}: {left:?}"
            );
        }
        let hour = ScriptedProvider::new().token().await.unwrap();
        assert_eq!(hour.issued_lifetime(), Some(Duration::from_secs(3600)));
    }
}
