//! Reading the answer of `GET /v1/dev/temp-token`.

use std::fmt;
use std::time::{Duration, SystemTime};

use http::{HeaderMap, StatusCode, header::RETRY_AFTER};
use serde_json::Value;

use crate::token::{AccessToken, TokenError};

/// How dStor answered when it did not hand out a token. Messages are lowercase, start with
/// what happened and the status, say what to do, and end with at most 200 characters of
/// the server's own words, never the API key or anything shaped like a token:
///
/// ```text
/// the API key was rejected (401): check the key, whether it expired or was revoked, and whether it was made for testnet or production (dStor said "invalid api key")
/// ```
///
/// The server's words are its message only: the `message`, `error` or `detail` text of a
/// JSON body, or a plain-text body; nothing else of a JSON body, nothing of an HTML page.
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
    #[error("the API key was rejected ({status}): check the key, whether it expired or was revoked, and whether it was made for testnet or production{}", Said(.message))]
    KeyRejected {
        /// 401 or 403.
        status: u16,
        /// The server's message, if any.
        message: Option<String>,
    },
    /// 401 or 403 to login credentials (`POST`): the email or the password is wrong.
    #[error("the email or password was rejected ({status}): check both, and whether the account is on testnet or production{}", Said(.message))]
    CredentialsRejected {
        /// 401 or 403.
        status: u16,
        /// The server's message, if any.
        message: Option<String>,
    },
    /// 404: there is no token endpoint at this address.
    #[error("no dStor token endpoint at this address (404): check the environment or endpoint{}", Said(.message))]
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
                | Self::CredentialsRejected { .. }
                | Self::NotFound { .. }
                | Self::Redirect { .. }
        )
    }

    /// Whether the API key was rejected (401 or 403).
    pub fn is_key_rejected(&self) -> bool {
        matches!(self, Self::KeyRejected { .. })
    }

    /// Whether the email or password of login credentials was rejected (401 or 403).
    pub fn is_credentials_rejected(&self) -> bool {
        matches!(self, Self::CredentialsRejected { .. })
    }

    /// The HTTP status, when the server answered with one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::BadRequest { .. } => Some(400),
            Self::NotFound { .. } => Some(404),
            Self::KeyRejected { status, .. }
            | Self::CredentialsRejected { status, .. }
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

/// Reads a response to `GET /v1/dev/temp-token`, received at `now`.
///
/// `requested_expiry` is the expiry of a token that carries no `exp` claim; `api_key` is
/// scrubbed from any server message that echoes it.
pub(crate) fn parse_token_response<B: AsRef<[u8]>>(
    response: &http::Response<B>,
    requested_expiry: Option<SystemTime>,
    api_key: &str,
    now: SystemTime,
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
            Some(date) => token.with_server_date(date, now),
            None => token,
        });
    }
    let message = || server_message(body, api_key);
    let retry_after = || retry_after(response.headers(), now);
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
const MAX_MESSAGE_CHARS: usize = 200;

/// What stands for a scrubbed secret.
pub(crate) const REDACTED: &str = "[redacted]";

/// The server's own words: the `message`, `error` or `detail` text of a JSON object, a JSON
/// string, or a text body that is neither JSON nor HTML. Normalised first (control and
/// invisible characters removed, whitespace collapsed), then scrubbed (the API key, and
/// every run of token characters shaped like a token or key), then cut to
/// [`MAX_MESSAGE_CHARS`].
fn server_message(body: &[u8], api_key: &str) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let text = match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(map)) => ["message", "error", "detail"]
            .iter()
            .find_map(|k| map.get(*k).and_then(Value::as_str).map(str::to_owned))?,
        Ok(Value::String(s)) => s,
        // Any other JSON, and anything that starts like JSON or HTML but is cut or
        // garbled: none of it is a message, and it may hold a token.
        Ok(_) => return None,
        Err(_) if text.trim_start().starts_with(['<', '{', '[', '"']) => return None,
        Err(_) => text.into_owned(),
    };
    let text = normalise(&text);
    let text = if api_key.is_empty() {
        text
    } else {
        text.replace(api_key, REDACTED)
    };
    let text = scrub_token_shaped(&text);
    let text: String = text.chars().take(MAX_MESSAGE_CHARS).collect();
    (!text.is_empty()).then_some(text)
}

/// The text without control characters, invisible format characters and replacement
/// characters (so that none can split a secret from the scrub), on one line, trimmed.
pub(crate) fn normalise(text: &str) -> String {
    let kept: String = text
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .filter(|&c| !c.is_control() && !is_invisible(c))
        .collect();
    kept.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Characters that show nothing: zero-width spaces and joiners, direction marks, the soft
/// hyphen, the byte-order mark, and the replacement character of undecodable bytes.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{AD}'
            | '\u{34F}'
            | '\u{61C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFFD}'
    )
}

/// Characters of keys and tokens: base64 and base64url, JWT dots, and `-_.~+/=`.
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '+' | '/' | '=')
}

/// Whether a run of token characters may be a secret: 20 characters or more, or 12 or more
/// with a digit or a lowercase letter followed by an uppercase one (`invalid_api_key` and
/// `Unauthorized` are words; `1e3084AXj4XfX6G` is not).
fn is_token_shaped(run: &str) -> bool {
    let len = run.len();
    if len >= 20 {
        return true;
    }
    if len < 12 {
        return false;
    }
    let bytes = run.as_bytes();
    bytes.iter().any(u8::is_ascii_digit)
        || bytes
            .windows(2)
            .any(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase())
}

/// Replaces every token-shaped run of token characters by `[redacted]`.
pub(crate) fn scrub_token_shaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(is_token_char) {
        out.push_str(&rest[..start]);
        let run = &rest[start..];
        let len = run.find(|c| !is_token_char(c)).unwrap_or(run.len());
        out.push_str(if is_token_shaped(&run[..len]) {
            REDACTED
        } else {
            &run[..len]
        });
        rest = &run[len..];
    }
    out.push_str(rest);
    out
}

/// Parses `Retry-After` into a wait from `now`: `1*DIGIT` seconds (saturating, however
/// many digits) or an HTTP date (zero once passed). Anything else, a sign included, is
/// ignored.
fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(
            value.parse::<u64>().unwrap_or(u64::MAX),
        ));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Displays ` (dStor said "message")` at the end of an error, or nothing.
pub(crate) struct Said<'a>(pub(crate) &'a Option<String>);

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
