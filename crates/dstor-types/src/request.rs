//! Building `GET /v1/dev/temp-token`.

use std::fmt;
use std::time::SystemTime;

use http::header::{ACCEPT, CACHE_CONTROL, USER_AGENT as USER_AGENT_HEADER};
use http::{HeaderName, HeaderValue, Method, Request};

use crate::api_key::ApiKey;
use crate::environment::{BaseUrl, EndpointError};
use crate::expiration::Expiration;
use crate::response::{ApiError, parse_token_response};
use crate::token::AccessToken;

/// The user agent every request names: this SDK (`dstor-rs`, the family of `dstor-*` crates,
/// which share one version) and its version, as in `dstor-rs/0.1.0`.
pub const USER_AGENT: &str = concat!("dstor-rs/", env!("CARGO_PKG_VERSION"));

/// The `user-agent` header: [`USER_AGENT`], then `suffix` (trimmed) when it is not empty.
pub(crate) fn user_agent_header(suffix: &str) -> Result<HeaderValue, RequestError> {
    let suffix = suffix.trim();
    if suffix.is_empty() {
        return Ok(HeaderValue::from_static(USER_AGENT));
    }
    if !suffix.chars().all(|c| c == ' ' || c.is_ascii_graphic()) {
        return Err(RequestError::InvalidUserAgent);
    }
    HeaderValue::from_str(&format!("{USER_AGENT} {suffix}"))
        .map_err(|_| RequestError::InvalidUserAgent)
}

/// The header that carries the API key.
const API_KEY_HEADER: HeaderName = HeaderName::from_static("api-key");

/// The header that carries the requested expiration.
const EXPIRATION_HEADER: HeaderName = HeaderName::from_static("x-expiration");

/// One exchange of an API key for an access token: builds the `http::Request` and reads the
/// `http::Response`, without doing any I/O. A transport sends the one and hands back the
/// other.
///
/// Everything is checked when it is set, so a built `TokenRequest` always gives a request:
/// the endpoint may carry the key ([`BaseUrl::check_may_carry_secrets`]) and the user agent
/// can travel in a header. Cloning it copies no key: a provider keeps one as a template and
/// sets the expiration of each request on a clone.
///
/// ```
/// use dstor_types::{ApiKey, Environment, TokenRequest};
///
/// let key = ApiKey::new("k".repeat(64))?;
/// let exchange = TokenRequest::new(Environment::Testnet.base_url(), key)?
///     .user_agent_suffix("my-app/2.0")?;
/// let request = exchange.to_http();
/// assert_eq!(request.uri(), "https://api.testnet.dstor.cloud/v1/dev/temp-token");
/// assert!(request.headers()["api-key"].is_sensitive());
///
/// let response = http::Response::builder()
///     .status(200)
///     .body(br#"{"access_token":"opaque"}"#.to_vec())?;
/// let token = exchange.parse_response(response)?;
/// assert_eq!(token.expose_secret(), "opaque");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct TokenRequest {
    base: BaseUrl,
    api_key: HeaderValue,
    expiration: Option<Expiration>,
    user_agent: HeaderValue,
}

impl TokenRequest {
    /// A request for a token from `base`, with the server's default expiration.
    ///
    /// # Errors
    ///
    /// [`EndpointError::Insecure`] when `base` is plain `http` to a host that is not
    /// loopback: the key is never sent in clear text.
    pub fn new(base: BaseUrl, api_key: ApiKey) -> Result<Self, EndpointError> {
        base.check_may_carry_secrets()?;
        Ok(Self {
            base,
            api_key: api_key.into_header_value(),
            expiration: None,
            user_agent: HeaderValue::from_static(USER_AGENT),
        })
    }

    /// Asks for a token that expires at `expiration` (`None`: the server's default, one
    /// year).
    #[must_use]
    pub fn expiration(mut self, expiration: Option<Expiration>) -> Self {
        self.expiration = expiration;
        self
    }

    /// Appends `suffix` (trimmed) to the user agent, as in `dstor-rs/0.1.0 my-app/2.0`; a
    /// blank suffix leaves [`USER_AGENT`] alone.
    ///
    /// # Errors
    ///
    /// [`RequestError::InvalidUserAgent`] when the suffix holds anything but visible ASCII
    /// and spaces (a control character, a tab, or a character outside ASCII, which HTTP
    /// headers do not carry reliably).
    pub fn user_agent_suffix(mut self, suffix: &str) -> Result<Self, RequestError> {
        self.user_agent = user_agent_header(suffix)?;
        Ok(self)
    }

    /// The base URL the request goes to.
    pub fn base_url(&self) -> &BaseUrl {
        &self.base
    }

    /// The requested expiration.
    pub fn requested_expiration(&self) -> Option<Expiration> {
        self.expiration
    }

    /// The `http::Request` to send: `GET {base}/v1/dev/temp-token` with `api-key` (marked
    /// sensitive), `x-expiration` when one was asked for, `accept: application/json`,
    /// `cache-control: no-store` and the user agent.
    pub fn to_http(&self) -> Request<Vec<u8>> {
        let mut request = Request::new(Vec::new());
        *request.method_mut() = Method::GET;
        *request.uri_mut() = self.base.token_endpoint().clone();
        let headers = request.headers_mut();
        headers.insert(API_KEY_HEADER, self.api_key.clone());
        if let Some(expiration) = self.expiration {
            headers.insert(EXPIRATION_HEADER, expiration.header_value());
        }
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(USER_AGENT_HEADER, self.user_agent.clone());
        request
    }

    /// Reads the server's answer to this request. See [`ApiError`] for how every outcome
    /// other than a token is classified.
    ///
    /// # Errors
    ///
    /// [`ApiError`]; its messages never hold the API key or a token.
    pub fn parse_response<B: AsRef<[u8]>>(
        &self,
        response: http::Response<B>,
    ) -> Result<AccessToken, ApiError> {
        parse_token_response(
            &response,
            self.expiration.map(Expiration::to_system_time),
            self.api_key.to_str().unwrap_or_default(),
            SystemTime::now(),
        )
    }
}

impl fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenRequest")
            .field("base", &self.base)
            .field("api_key", &"[redacted]")
            .field("expiration", &self.expiration)
            .field("user_agent", &self.user_agent)
            .finish()
    }
}

/// Why a request could not be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The user agent suffix holds characters a header cannot carry.
    #[error("the user agent suffix has characters an HTTP header cannot carry: use visible ASCII")]
    InvalidUserAgent,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Environment;

    const KEY: &str = "5xikF8a5wcJeqVrtQE8OffKvtR9qaRxPXXJAedhIiNFWJbNsGqsdPfJ5eDYY7n92";

    #[test]
    fn builds_the_documented_request() {
        let exp = Expiration::after(std::time::Duration::from_secs(3600)).unwrap();
        let request = TokenRequest::new(Environment::Testnet.base_url(), ApiKey::new(KEY).unwrap())
            .unwrap()
            .expiration(Some(exp))
            .to_http();
        assert_eq!(request.method(), Method::GET);
        assert_eq!(
            request.uri(),
            "https://api.testnet.dstor.cloud/v1/dev/temp-token"
        );
        let h = request.headers();
        assert_eq!(h["api-key"], KEY);
        assert!(h["api-key"].is_sensitive());
        assert_eq!(h["x-expiration"], exp.unix_seconds().to_string().as_str());
        assert!(
            h["x-expiration"]
                .to_str()
                .unwrap()
                .bytes()
                .all(|b| b.is_ascii_digit())
        );
        assert_eq!(h["accept"], "application/json");
        assert_eq!(h["cache-control"], "no-store");
        assert_eq!(h["user-agent"], USER_AGENT);
        assert_eq!(
            USER_AGENT.split_once('/'),
            Some(("dstor-rs", env!("CARGO_PKG_VERSION")))
        );
        assert!(request.body().is_empty());
        assert!(!format!("{request:?}").contains(KEY));
    }

    #[test]
    fn leaves_out_the_expiration_when_none_is_asked_for() {
        let request = TokenRequest::new(
            Environment::Production.base_url(),
            ApiKey::new(KEY).unwrap(),
        )
        .unwrap()
        .to_http();
        assert!(!request.headers().contains_key("x-expiration"));
        assert_eq!(request.uri(), "https://api.dstor.cloud/v1/dev/temp-token");
    }

    #[test]
    fn appends_a_user_agent_suffix_and_refuses_a_bad_one() {
        let exchange = || {
            TokenRequest::new(Environment::Testnet.base_url(), ApiKey::new(KEY).unwrap()).unwrap()
        };
        let request = exchange()
            .user_agent_suffix("my-app/2.0")
            .unwrap()
            .to_http();
        assert_eq!(
            request.headers()["user-agent"],
            format!("{USER_AGENT} my-app/2.0").as_str()
        );
        for bad in ["bad\nagent", "caf\u{e9}/1", "a\u{7f}b", "a\tb"] {
            assert_eq!(
                exchange().user_agent_suffix(bad).unwrap_err(),
                RequestError::InvalidUserAgent,
                "{bad:?}"
            );
        }
        let blank = exchange().user_agent_suffix("  ").unwrap().to_http();
        assert_eq!(blank.headers()["user-agent"], USER_AGENT);
    }

    #[test]
    fn refuses_plain_http_to_a_remote_host_and_allows_loopback() {
        for url in ["http://api.dstor.cloud", "http://10.0.0.1:8080"] {
            let base = BaseUrl::parse(url).unwrap();
            let err = TokenRequest::new(base, ApiKey::new(KEY).unwrap()).unwrap_err();
            assert!(
                matches!(err, EndpointError::Insecure { .. }),
                "{url}: {err}"
            );
            assert!(err.to_string().contains("use an https endpoint"), "{err}");
        }
        for url in ["http://127.0.0.1:1", "http://[::1]:1", "http://localhost:1"] {
            TokenRequest::new(BaseUrl::parse(url).unwrap(), ApiKey::new(KEY).unwrap()).unwrap();
        }
    }

    #[test]
    fn a_clone_shares_the_key_header_instead_of_copying_the_key() {
        let exchange =
            TokenRequest::new(Environment::Testnet.base_url(), ApiKey::new(KEY).unwrap()).unwrap();
        let copy = exchange.clone();
        let (a, b) = (exchange.to_http(), copy.to_http());
        assert_eq!(
            a.headers()["api-key"].as_bytes().as_ptr(),
            b.headers()["api-key"].as_bytes().as_ptr()
        );
        assert!(!format!("{exchange:?}").contains(&KEY[..16]));
    }
}
