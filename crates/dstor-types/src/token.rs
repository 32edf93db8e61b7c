//! The temporary access token.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::HeaderValue;
use secrecy::{ExposeSecret, SecretString};

use crate::api_key::{CharProblem, WipedOnDrop, first_bad_char};
use crate::jwt::{self, Claims};

/// A temporary access token, as returned by `GET /v1/dev/temp-token`.
///
/// The token text is a secret held in a [`SecretString`]; `Debug` shows the claims read
/// from it, never the token. Cloning is cheap (a reference count), so a cache can hand it
/// out to every caller.
///
/// The claims are read from the JWT payload *without verifying the signature* (a client
/// holds no key to verify it with). A token that is not a JWT is still a token: its expiry
/// is then the one that was requested, if any.
///
/// ```
/// use dstor_types::AccessToken;
///
/// // The example token from dStor's documentation.
/// let token = AccessToken::new(concat!(
///     "eyJhbsomebiglongstring9.",
///     "eyJkIjpmYWxzZSwibyI6ZmFsc2UsInMiOmZhbHNlLCJ0IjpudWxsLCJpYXQiOjE2MzI3ODg4MzcsImV4cCI6",
///     "MTYzMjc5MjQzNywiYXVkIjoiZHN0b3IuY2xvdWQiLCJpc3MiOiJkc3Rvci5jbG91ZCIsInN1YiI6ImIyZTI3",
///     "ODE3LTA0MzktNDViZC04YTNkLTVjNTk2MTg1YmQwNSJ9.PyKa8sILa7nyD-4eI4lA0xjFBPcncNZQL4_iclZ_Fs8",
/// ))
/// .unwrap();
/// assert_eq!(token.claims().exp, Some(1_632_792_437));
/// assert_eq!(token.subject(), Some("b2e27817-0439-45bd-8a3d-5c596185bd05"));
/// assert!(!format!("{token:?}").contains("PyKa8"));
/// ```
#[derive(Clone)]
pub struct AccessToken {
    inner: Arc<Inner>,
}

struct Inner {
    secret: SecretString,
    claims: Option<Claims>,
    requested_expiry: Option<SystemTime>,
    /// How many seconds the issuer's clock was ahead of ours when the token arrived.
    server_offset: Option<i64>,
}

impl AccessToken {
    /// Wraps a token, reading its claims if it is a JWT.
    ///
    /// # Errors
    ///
    /// [`TokenError`] when the text is empty or cannot travel in an HTTP header.
    pub fn new(token: impl Into<String>) -> Result<Self, TokenError> {
        Self::with_requested_expiry(token, None)
    }

    /// Wraps a token; `requested_expiry` is its expiry when the token carries no `exp`
    /// claim (the `x-expiration` that was asked for).
    ///
    /// # Errors
    ///
    /// As [`AccessToken::new`].
    pub fn with_requested_expiry(
        token: impl Into<String>,
        requested_expiry: Option<SystemTime>,
    ) -> Result<Self, TokenError> {
        let secret = SecretString::from(token.into());
        validate(secret.expose_secret())?;
        let claims = jwt::decode_claims(secret.expose_secret());
        Ok(Self {
            inner: Arc::new(Inner {
                secret,
                claims,
                requested_expiry,
                server_offset: None,
            }),
        })
    }

    /// Records the issuer's clock: `server_date` is its `Date` header, read at
    /// `received_at` by the local clock. [`AccessToken::remaining_at`] then measures `exp`
    /// by the issuer's clock, so a local clock that runs fast or slow neither shortens nor
    /// stretches the token's life. A difference of a second or less (the header's
    /// resolution) counts as none.
    #[must_use]
    pub fn with_server_date(self, server_date: SystemTime, received_at: SystemTime) -> Self {
        let offset = match server_date.duration_since(received_at) {
            Ok(ahead) => i64::try_from(ahead.as_secs()).unwrap_or(i64::MAX),
            Err(behind) => i64::try_from(behind.duration().as_secs()).map_or(i64::MIN, |s| -s),
        };
        let mut inner = match Arc::try_unwrap(self.inner) {
            Ok(inner) => inner,
            Err(shared) => shared.copy(),
        };
        inner.server_offset = Some(if offset.unsigned_abs() <= 1 {
            0
        } else {
            offset
        });
        Self {
            inner: Arc::new(inner),
        }
    }

    /// How many seconds the issuer's clock was ahead of the local one (negative: behind),
    /// if the token came with a `Date` (see [`AccessToken::with_server_date`]).
    pub fn server_clock_offset(&self) -> Option<i64> {
        self.inner.server_offset
    }

    /// The token itself. Call this only where a request header is built; prefer
    /// [`AccessToken::authorization_header`].
    pub fn expose_secret(&self) -> &str {
        self.inner.secret.expose_secret()
    }

    /// `Authorization: Bearer <token>`, marked sensitive so that `Debug` of the header map
    /// hides it and HTTP/2 does not index it.
    ///
    /// The header is written once, into a buffer that the `HeaderValue` then owns and that
    /// is wiped when the last copy of the header is dropped: this call leaves no copy of
    /// the token in freed memory.
    pub fn authorization_header(&self) -> HeaderValue {
        const SCHEME: &str = "Bearer ";
        let token = self.expose_secret();
        let mut text = String::with_capacity(SCHEME.len() + token.len());
        text.push_str(SCHEME);
        text.push_str(token);
        // Exactly as long as its capacity, so the secret takes this allocation as it is.
        let bytes = Bytes::from_owner(WipedOnDrop(SecretString::from(text)));
        let mut value = HeaderValue::from_maybe_shared(bytes)
            // Validated at construction: only visible ASCII.
            .unwrap_or_else(|_| HeaderValue::from_static("Bearer"));
        value.set_sensitive(true);
        value
    }

    /// The claims read from the JWT payload (unverified); all `None` for a token that is
    /// not a JWT.
    pub fn claims(&self) -> &Claims {
        static EMPTY: Claims = Claims::EMPTY;
        self.inner.claims.as_ref().unwrap_or(&EMPTY)
    }

    /// Whether the token is a JWT whose payload could be read.
    pub fn is_jwt(&self) -> bool {
        self.inner.claims.is_some()
    }

    /// The account id (`sub`), if the token says.
    pub fn subject(&self) -> Option<&str> {
        self.claims().sub.as_deref()
    }

    /// When the token expires by the wall clock: its `exp` claim, else the expiration that
    /// was requested, else unknown.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.claims()
            .exp
            .and_then(unix_to_system_time)
            .or(self.inner.requested_expiry)
    }

    /// When the token was issued (`iat`), if it says.
    pub fn issued_at(&self) -> Option<SystemTime> {
        self.claims().iat.and_then(unix_to_system_time)
    }

    /// The lifetime the issuer gave the token, `exp − iat`, when both claims are present
    /// and `exp` is after `iat`. Unlike [`AccessToken::expires_at`] this does not depend on
    /// the local wall clock agreeing with the server's.
    pub fn issued_lifetime(&self) -> Option<Duration> {
        let claims = self.claims();
        let (exp, iat) = (claims.exp?, claims.iat?);
        (exp > iat).then(|| Duration::from_secs(exp.abs_diff(iat)))
    }

    /// How long the token has left at `now` (local wall clock): its `exp` against the
    /// issuer's clock when the token came with the server's `Date`, else against `now`;
    /// else the requested expiry. `None` when the expiry is unknown; zero when it has passed.
    pub fn remaining_at(&self, now: SystemTime) -> Option<Duration> {
        let exp = self.claims().exp.and_then(unix_to_system_time);
        let (exp, now) = match (exp, self.inner.server_offset) {
            (Some(exp), Some(offset)) => (exp, shift(now, offset)?),
            (Some(exp), None) => (exp, now),
            (None, _) => (self.inner.requested_expiry?, now),
        };
        Some(exp.duration_since(now).unwrap_or(Duration::ZERO))
    }

    /// Whether both hold the same token text.
    pub fn same_token(&self, other: &AccessToken) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner) || self.expose_secret() == other.expose_secret()
    }
}

impl PartialEq for AccessToken {
    fn eq(&self, other: &Self) -> bool {
        self.same_token(other)
    }
}

impl Eq for AccessToken {}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("AccessToken");
        d.field("token", &"[redacted]");
        if let Some(claims) = &self.inner.claims {
            d.field("claims", claims);
        }
        if self.claims().exp.is_none() {
            d.field("requested_expiry", &self.inner.requested_expiry);
        }
        if let Some(offset) = self.inner.server_offset {
            d.field("server_clock_offset_s", &offset);
        }
        d.finish()
    }
}

impl Inner {
    fn copy(&self) -> Self {
        Self {
            secret: SecretString::from(self.secret.expose_secret()),
            claims: self.claims.clone(),
            requested_expiry: self.requested_expiry,
            server_offset: self.server_offset,
        }
    }
}

/// `time` moved by `seconds` (either way); `None` out of range.
fn shift(time: SystemTime, seconds: i64) -> Option<SystemTime> {
    let by = Duration::from_secs(seconds.unsigned_abs());
    if seconds >= 0 {
        time.checked_add(by)
    } else {
        time.checked_sub(by)
    }
}

fn unix_to_system_time(seconds: i64) -> Option<SystemTime> {
    if seconds >= 0 {
        UNIX_EPOCH.checked_add(Duration::from_secs(seconds.unsigned_abs()))
    } else {
        UNIX_EPOCH.checked_sub(Duration::from_secs(seconds.unsigned_abs()))
    }
}

/// The longest token accepted, far above any JWT dStor issues.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

fn validate(token: &str) -> Result<(), TokenError> {
    if token.is_empty() {
        return Err(TokenError::Empty);
    }
    if token.len() > MAX_TOKEN_LEN {
        return Err(TokenError::TooLong { len: token.len() });
    }
    if let Some((position, problem)) = first_bad_char(token) {
        return Err(TokenError::InvalidCharacter { position, problem });
    }
    Ok(())
}

/// Why a string cannot be an access token. Never contains the token.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The token is empty.
    #[error("the access token is empty")]
    Empty,
    /// The token is longer than [`MAX_TOKEN_LEN`].
    #[error("the access token is {len} bytes long, more than the 16 KiB accepted")]
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// The token has a character that cannot travel in an HTTP header.
    #[error("the access token has {problem} at position {position}")]
    InvalidCharacter {
        /// The 1-based position of the first offending character.
        position: usize,
        /// What kind of character it is.
        problem: CharProblem,
    },
}

#[cfg(test)]
mod tests;
