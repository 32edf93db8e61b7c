//! The answer to one request.

use std::error::Error;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::header::{ALLOW, CONTENT_TYPE, LOCATION, RETRY_AFTER};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};

use hyper::body::Incoming;

use crate::body::MockBody;
use crate::state::Shared;
use crate::{Fault, RecordedRequest, jwt, login, storage};

/// The path of the token endpoint.
pub(crate) const TEMP_TOKEN_PATH: &str = "/v1/dev/temp-token";

/// The header carrying the API key.
const API_KEY_HEADER: &str = "api-key";

/// The header carrying the requested expiry.
const EXPIRATION_HEADER: &str = "x-expiration";

/// The default token lifetime: one year.
const DEFAULT_LIFETIME_SECS: i64 = 365 * 24 * 60 * 60;

/// The latest accepted expiry: 9999-12-31T23:59:59Z.
const MAX_EXPIRATION: i64 = 253_402_300_799;

/// Returned by the service to make hyper close the connection unanswered.
#[derive(Debug)]
pub(crate) struct DropConnection;

impl fmt::Display for DropConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection dropped on purpose")
    }
}

impl Error for DropConnection {}

/// Records `request`, waits for the delay, then answers it (or not).
///
/// `local` is the address the connection came in on.
pub(crate) async fn handle(
    shared: Arc<Shared>,
    local: SocketAddr,
    request: Request<Incoming>,
) -> Result<Response<MockBody>, DropConnection> {
    let (parts, body) = request.into_parts();
    let on_token_path = is_token_path(parts.uri.path());
    let recorded = RecordedRequest::from_parts(&parts);
    let headers = recorded.headers.clone();
    let token_method = parts.method == Method::GET || parts.method == Method::POST;
    shared.record(recorded, on_token_path && token_method);
    let fault = if on_token_path {
        shared.next_fault()
    } else {
        None
    };
    let delay = shared.delay();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if let Some(fault) = fault {
        return answer_fault(fault).await;
    }
    if let Some(endpoint) = storage::endpoint(parts.uri.path()) {
        return storage::handle(&shared, endpoint, parts, body).await;
    }
    if let Some((cid, _)) = storage::content_path(parts.uri.path()) {
        return Ok(storage::redirect(&shared, local, &parts.method, cid));
    }
    if on_token_path && parts.method == Method::POST {
        return Ok(login::handle(&shared, &parts, body).await);
    }
    Ok(if !on_token_path {
        message(StatusCode::NOT_FOUND, "not found")
    } else if parts.method != Method::GET {
        let mut response = message(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, POST"));
        response
    } else {
        issue_token(&shared, &headers)
    })
}

fn is_token_path(path: &str) -> bool {
    path.strip_suffix('/').unwrap_or(path) == TEMP_TOKEN_PATH
}

/// The normal answer of `GET /v1/dev/temp-token`.
fn issue_token(shared: &Shared, headers: &HeaderMap) -> Response<MockBody> {
    let key = headers.get(API_KEY_HEADER).and_then(|value| {
        shared
            .keys
            .iter()
            .find(|key| key.as_bytes() == value.as_bytes())
    });
    let Some(key) = key else {
        return message(StatusCode::UNAUTHORIZED, "invalid api key");
    };
    mint(shared, headers, key)
}

/// A token for `subject` (an API key or a login's email), expiring as `x-expiration` in
/// `headers` asks, or `400` when it cannot be read.
pub(crate) fn mint(shared: &Shared, headers: &HeaderMap, subject: &str) -> Response<MockBody> {
    let now = unix_now();
    let exp = match requested_expiration(headers.get(EXPIRATION_HEADER), now) {
        Ok(exp) => exp,
        Err(reason) => return message(StatusCode::BAD_REQUEST, reason),
    };
    let exp = match shared.token_lifetime {
        Some(lifetime) => now.saturating_add(secs(lifetime)),
        None => exp,
    };
    let token = jwt::issue(&shared.secret, subject, now, exp);
    json(
        StatusCode::OK,
        &serde_json::json!({ "access_token": token }),
    )
}

/// The expiry asked for by `x-expiration`, as integer Unix seconds.
fn requested_expiration(value: Option<&HeaderValue>, now: i64) -> Result<i64, &'static str> {
    let Some(value) = value else {
        return Ok(now.saturating_add(DEFAULT_LIFETIME_SECS));
    };
    const MALFORMED: &str = "x-expiration must be a Unix timestamp in seconds";
    let text = value.to_str().map_err(|_| MALFORMED)?.trim();
    let exp = match text.parse::<i64>() {
        Ok(exp) => exp,
        Err(_) => {
            let exp = text.parse::<f64>().map_err(|_| MALFORMED)?;
            if !exp.is_finite() {
                return Err(MALFORMED);
            }
            if exp > MAX_EXPIRATION as f64 {
                return Err("x-expiration is too far in the future");
            }
            // In range of i64 (checked above, or negative and saturating).
            exp.floor() as i64
        }
    };
    if exp <= now {
        return Err("x-expiration must be in the future");
    }
    if exp > MAX_EXPIRATION {
        return Err("x-expiration is too far in the future");
    }
    Ok(exp)
}

fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, secs)
}

fn secs(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

/// The answer scripted by `fault`.
async fn answer_fault(fault: Fault) -> Result<Response<MockBody>, DropConnection> {
    Ok(match fault {
        Fault::Status(code) => status_message(code),
        Fault::StatusRetryAfter(code, value) => {
            let mut response = status_message(code);
            insert(&mut response, RETRY_AFTER, &value);
            response
        }
        Fault::Redirect { status, location } => {
            let mut response = status_message(status);
            insert(&mut response, LOCATION, &location);
            response
        }
        Fault::Body {
            status,
            content_type,
            body,
        } => {
            let mut response = Response::new(MockBody::full(body));
            *response.status_mut() = status_code(status);
            insert(&mut response, CONTENT_TYPE, &content_type);
            response
        }
        Fault::OversizeBody { bytes } => json_stream(MockBody::sized(bytes)),
        Fault::EndlessBody => json_stream(MockBody::endless()),
        Fault::StalledBody {
            sent,
            content_length,
        } => json_stream(MockBody::stalled(sent, content_length)),
        Fault::Hang => std::future::pending().await,
        Fault::DropConnection => return Err(DropConnection),
    })
}

/// `code` as a final status; codes outside `200..=599` become `500`.
fn status_code(code: u16) -> StatusCode {
    match StatusCode::from_u16(code) {
        Ok(status) if (200..=599).contains(&code) => status,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

pub(crate) fn status_message(code: u16) -> Response<MockBody> {
    let status = status_code(code);
    message(
        status,
        status.canonical_reason().unwrap_or("unknown status"),
    )
}

/// Sets header `name` to `value`, unless `value` is not a valid header value.
fn insert(response: &mut Response<MockBody>, name: http::HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().insert(name, value);
    }
}

pub(crate) fn message(status: StatusCode, message: &str) -> Response<MockBody> {
    json(status, &serde_json::json!({ "message": message }))
}

pub(crate) fn json(status: StatusCode, value: &serde_json::Value) -> Response<MockBody> {
    let mut response = Response::new(MockBody::full(value.to_string()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn json_stream(body: MockBody) -> Response<MockBody> {
    let mut response = Response::new(body);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: &[u8], now: i64) -> Result<i64, &'static str> {
        requested_expiration(Some(&HeaderValue::from_bytes(value).unwrap()), now)
    }

    #[test]
    fn expiration_parsing() {
        assert_eq!(
            requested_expiration(None, 10),
            Ok(10 + DEFAULT_LIFETIME_SECS)
        );
        assert_eq!(parse(b"3600", 10), Ok(3600));
        assert_eq!(parse(b" 3600.75 ", 10), Ok(3600));
        assert_eq!(parse(b"1e4", 10), Ok(10_000));
        assert!(parse(b"10", 10).is_err());
        assert!(parse(b"10.5", 10).is_err());
        assert!(parse(b"-5", 10).is_err());
        assert!(parse(b"-1e300", 10).is_err());
        assert!(parse(b"1e300", 10).is_err());
        assert!(parse(b"NaN", 10).is_err());
        assert!(parse(b"inf", 10).is_err());
        assert!(parse(b"soon", 10).is_err());
        assert!(parse(b"", 10).is_err());
        assert!(parse(b"\xff", 10).is_err());
        assert!(parse(b"99999999999999999999", 10).is_err());
    }

    #[test]
    fn token_path_tolerates_a_trailing_slash() {
        assert!(is_token_path("/v1/dev/temp-token"));
        assert!(is_token_path("/v1/dev/temp-token/"));
        assert!(!is_token_path("/v1/dev/temp-token//"));
        assert!(!is_token_path("/v1/dev"));
    }

    #[test]
    fn odd_status_codes_become_500() {
        assert_eq!(status_code(101), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(status_code(1000), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(status_code(503), StatusCode::SERVICE_UNAVAILABLE);
    }
}
