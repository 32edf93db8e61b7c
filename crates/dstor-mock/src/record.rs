//! What the fake server saw.

use std::fmt;

use http::{HeaderMap, HeaderName, Method};

/// One request as received by [`FakeDstor`](crate::FakeDstor), on any path.
///
/// Credential header values (`api-key`, `authorization`, `x-dstor-upload-token`, …)
/// are marked sensitive, and the [`Debug`] output
/// prints `[redacted]` in place of any key or credential header, and of query
/// parameters whose name mentions a key or a token.
#[derive(Clone)]
pub struct RecordedRequest {
    /// The request method.
    pub method: Method,
    /// The path of the request target, e.g. `/v1/dev/temp-token`.
    pub path: String,
    /// The query string of the request target, without the `?`, if any.
    pub query: Option<String>,
    /// Every header as received (credential values marked sensitive).
    pub headers: HeaderMap,
}

const REDACTED: &str = "[redacted]";

impl RecordedRequest {
    /// The record of a request with these parts, every credential header
    /// marked sensitive.
    pub(crate) fn from_parts(parts: &http::request::Parts) -> Self {
        let mut headers = parts.headers.clone();
        for (name, value) in headers.iter_mut() {
            if is_secret_name(name.as_str()) {
                value.set_sensitive(true);
            }
        }
        Self {
            method: parts.method.clone(),
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().map(str::to_owned),
            headers,
        }
    }
}

impl fmt::Debug for RecordedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordedRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query.as_deref().map(RedactedQuery))
            .field("headers", &RedactedHeaders(&self.headers))
            .finish()
    }
}

/// Whether a header or query parameter name may carry a secret.
pub(crate) fn is_secret_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.contains("key")
        || name.contains("token")
        || name.contains("secret")
        || name.contains("password")
        || name == "authorization"
        || name == "proxy-authorization"
        || name == "cookie"
}

struct RedactedHeaders<'a>(&'a HeaderMap);

impl fmt::Debug for RedactedHeaders<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (name, value) in self.0 {
            if value.is_sensitive() || is_secret_header(name) {
                map.entry(name, &format_args!("{REDACTED}"));
            } else {
                map.entry(name, value);
            }
        }
        map.finish()
    }
}

fn is_secret_header(name: &HeaderName) -> bool {
    is_secret_name(name.as_str())
}

struct RedactedQuery<'a>(&'a str);

impl fmt::Debug for RedactedQuery<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for (i, pair) in self.0.split('&').enumerate() {
            if i > 0 {
                f.write_str("&")?;
            }
            match pair.split_once('=') {
                Some((name, _)) if is_secret_name(name) => {
                    write!(f, "{}={REDACTED}", name.escape_debug())?;
                }
                _ => write!(f, "{}", pair.escape_debug())?,
            }
        }
        f.write_str("\"")
    }
}
