//! Reading the answer of `GET /v1/dev/temp-token`.

use std::fmt;
use std::time::{Duration, SystemTime};

use http::{HeaderMap, StatusCode, header::RETRY_AFTER};
use serde_json::Value;

use crate::api_key::ApiKey;
use crate::token::{AccessToken, TokenError};

/// How dStor answered when it did not hand out a token. Messages are lowercase, start with
/// what happened and the status, say what to do, and end with at most 200 characters of
/// the server's own words (with the API key scrubbed out), never a token:
///
/// ```text
/// the API key was rejected (401): check DSTOR_API_KEY, whether the key expired or was revoked, and whether it was made for testnet or production (dStor said "invalid api key")
/// ```
///
/// `Clone`, so that one result can be shared by every caller waiting on it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// 400: the request was malformed, most often an expiration the server refused.
    #[error("dStor refused the request as malformed (400): check the requested token expiration{}", Said(.message))]
    BadRequest {
        /// The server's message, if any.
        message: Option<String>,
    },
    /// 401 or 403: the API key is wrong, expired or revoked, or belongs to the other
    /// environment.
    #[error("the API key was rejected ({status}): check DSTOR_API_KEY, whether the key expired or was revoked, and whether it was made for testnet or production{}", Said(.message))]
    KeyRejected {
        /// 401 or 403.
        status: u16,
        /// The server's message, if any.
        message: Option<String>,
    },
    /// 404: there is no token endpoint at this address.
    #[error("no dStor token endpoint at this address (404): check the environment or DSTOR_ENDPOINT{}", Said(.message))]
    NotFound {
        /// The server's message, if any.
        message: Option<String>,
    },
    /// 408 or 429: the server asks the client to slow down.
    #[error("dStor is throttling requests ({status}): retry {}{}", Wait(.retry_after), Said(.message))]
    Throttled {
        /// 408 or 429.
        status: u16,
        /// How long the server asked to wait (`Retry-After`), if it said.
        retry_after: Option<Duration>,
        /// The server's message, if any.
        message: Option<String>,
    },
    /// 5xx: the service is failing or unavailable.
    #[error("dStor answered with a server error ({status}): {}{}", ServerAdvice(*.status, .retry_after), Said(.message))]
    Server {
        /// The status, 500 to 599.
        status: u16,
        /// How long the server asked to wait (`Retry-After`), if it said.
        retry_after: Option<Duration>,
        /// The server's message, if any.
        message: Option<String>,
    },
    /// 3xx: redirects are never followed, since a redirect could carry the API key to
    /// another host.
    #[error(
        "dStor answered with a redirect ({status}), which is never followed: check the endpoint URL"
    )]
    Redirect {
        /// The 3xx status.
        status: u16,
    },
    /// Any other status.
    #[error("dStor answered with an unexpected status ({status}): check the endpoint URL{}", Said(.message))]
    UnexpectedStatus {
        /// The status.
        status: u16,
        /// The server's message, if any.
        message: Option<String>,
    },
    /// A success status whose body is not a usable token.
    #[error(
        "dStor's token response could not be read ({reason}): check that the endpoint is dStor's API"
    )]
    InvalidBody {
        /// What is wrong with it (never the body itself).
        reason: InvalidBody,
    },
}

impl ApiError {
    /// Whether trying again later may succeed: 408, 429, 500, 502, 503 and 504.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Throttled { .. } => true,
            Self::Server { status, .. } => matches!(status, 500 | 502 | 503 | 504),
            _ => false,
        }
    }

    /// Whether the same request will keep failing until the configuration changes: 400,
    /// 401, 403 and 404, or a redirect. (An unreadable success answer is neither retryable
    /// nor permanent: it is dStor's fault, not the configuration's.)
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            Self::BadRequest { .. }
                | Self::KeyRejected { .. }
                | Self::NotFound { .. }
                | Self::Redirect { .. }
        )
    }

    /// Whether the API key was rejected (401 or 403).
    pub fn is_key_rejected(&self) -> bool {
        matches!(self, Self::KeyRejected { .. })
    }

    /// The HTTP status, when the server answered with one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::BadRequest { .. } => Some(400),
            Self::NotFound { .. } => Some(404),
            Self::KeyRejected { status, .. }
            | Self::Throttled { status, .. }
            | Self::Server { status, .. }
            | Self::Redirect { status }
            | Self::UnexpectedStatus { status, .. } => Some(*status),
            Self::InvalidBody { .. } => None,
        }
    }

    /// How long the server asked the client to wait, from `Retry-After`.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Throttled { retry_after, .. } | Self::Server { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// What is wrong with a success response's body.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidBody {
    /// The body is not a JSON object.
    #[error("the body is not a JSON object")]
    NotJson,
    /// The object has no `access_token` string.
    #[error("the JSON has no access_token string")]
    MissingToken,
    /// The `access_token` is not usable.
    #[error("{0}")]
    BadToken(TokenError),
}

/// Reads a response to `GET /v1/dev/temp-token`.
///
/// `requested_expiry` is the expiry of a token that carries no `exp` claim; `api_key`, when
/// given, is scrubbed from any server message that echoes it.
///
/// # Errors
///
/// [`ApiError`], classified by status.
pub fn parse_token_response<B: AsRef<[u8]>>(
    response: &http::Response<B>,
    requested_expiry: Option<SystemTime>,
    api_key: Option<&ApiKey>,
) -> Result<AccessToken, ApiError> {
    let status = response.status();
    let body = response.body().as_ref();
    if status.is_success() {
        let token = read_token(body, requested_expiry)?;
        // The issuer's clock, so that the token's `exp` is read against it.
        let server_date = response
            .headers()
            .get(http::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok());
        return Ok(match server_date {
            Some(date) => token.with_server_date(date, SystemTime::now()),
            None => token,
        });
    }
    let message = || server_message(body, api_key);
    let retry_after = || retry_after(response.headers(), SystemTime::now());
    let code = status.as_u16();
    Err(match status {
        StatusCode::BAD_REQUEST => ApiError::BadRequest { message: message() },
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => ApiError::KeyRejected {
            status: code,
            message: message(),
        },
        StatusCode::NOT_FOUND => ApiError::NotFound { message: message() },
        StatusCode::REQUEST_TIMEOUT | StatusCode::TOO_MANY_REQUESTS => ApiError::Throttled {
            status: code,
            retry_after: retry_after(),
            message: message(),
        },
        s if s.is_server_error() => ApiError::Server {
            status: code,
            retry_after: retry_after(),
            message: message(),
        },
        s if s.is_redirection() => ApiError::Redirect { status: code },
        _ => ApiError::UnexpectedStatus {
            status: code,
            message: message(),
        },
    })
}

fn read_token(body: &[u8], requested_expiry: Option<SystemTime>) -> Result<AccessToken, ApiError> {
    let invalid = |reason| ApiError::InvalidBody { reason };
    let Ok(Value::Object(mut map)) = serde_json::from_slice::<Value>(body) else {
        return Err(invalid(InvalidBody::NotJson));
    };
    let Some(Value::String(token)) = map.remove("access_token") else {
        return Err(invalid(InvalidBody::MissingToken));
    };
    AccessToken::with_requested_expiry(token, requested_expiry)
        .map_err(|e| invalid(InvalidBody::BadToken(e)))
}

/// The most characters of a server's message kept in an error.
pub const MAX_MESSAGE_CHARS: usize = 200;

/// The server's own words: a JSON `message` or `error` field, else the text itself; trimmed,
/// on one line, at most [`MAX_MESSAGE_CHARS`], with the API key and anything that looks like
/// a JWT replaced by `[redacted]`.
fn server_message(body: &[u8], api_key: Option<&ApiKey>) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let text = match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(map)) => ["message", "error", "detail"]
            .iter()
            .find_map(|k| map.get(*k).and_then(Value::as_str).map(str::to_owned))?,
        Ok(Value::String(s)) => s,
        _ if text.trim_start().starts_with('<') => return None,
        _ => text.into_owned(),
    };
    let mut text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some(key) = api_key {
        text = text.replace(key.expose_secret(), "[redacted]");
    }
    let text = text
        .split(' ')
        .map(|word| {
            if looks_like_jwt(word) {
                "[redacted]"
            } else {
                word
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
    let text: String = text
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_MESSAGE_CHARS)
        .collect();
    (!text.is_empty()).then_some(text)
}

fn looks_like_jwt(word: &str) -> bool {
    word.contains("eyJ") && word.matches('.').count() >= 2
}

/// Parses `Retry-After`, as seconds or an HTTP date, into a wait from `now`.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Displays ` (dStor said "message")` at the end of an error, or nothing.
struct Said<'a>(&'a Option<String>);

impl fmt::Display for Said<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(message) => write!(f, " (dStor said {message:?})"),
            None => Ok(()),
        }
    }
}

/// Displays when to retry: `in 7 s`, or `later`.
struct Wait<'a>(&'a Option<Duration>);

impl fmt::Display for Wait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(wait) if !wait.is_zero() => write!(f, "in {} s", wait.as_secs_f64().ceil()),
            _ => f.write_str("later"),
        }
    }
}

/// What to do after a 5xx: retry the transient ones, report the others.
struct ServerAdvice<'a>(u16, &'a Option<Duration>);

impl fmt::Display for ServerAdvice<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if matches!(self.0, 500 | 502 | 503 | 504) {
            write!(f, "retry {}", Wait(self.1))
        } else {
            f.write_str("check the endpoint URL, and report it to dStor if it persists")
        }
    }
}

#[cfg(test)]
mod tests;
