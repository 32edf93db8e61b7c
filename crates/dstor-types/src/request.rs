//! Building `GET /v1/dev/temp-token`.

use http::header::{ACCEPT, CACHE_CONTROL, USER_AGENT as USER_AGENT_HEADER};
use http::{HeaderName, HeaderValue, Method, Request};

use crate::api_key::ApiKey;
use crate::environment::BaseUrl;
use crate::expiration::Expiration;
use crate::response::{ApiError, parse_token_response};
use crate::token::AccessToken;

/// The user agent every request names: this SDK (`dstor-rs`, the family of `dstor-*` crates,
/// which share one version) and its version, as in `dstor-rs/0.1.0`.
pub const USER_AGENT: &str = concat!("dstor-rs/", env!("CARGO_PKG_VERSION"));

/// The `user-agent` header: [`USER_AGENT`], then `suffix` (trimmed) when it is not empty,
/// as in `dstor-rs/0.1.0 my-app/2.0`.
///
/// ```
/// use dstor_types::{RequestError, USER_AGENT, user_agent_header};
///
/// let agent = user_agent_header(" my-app/2.0 ").unwrap();
/// assert_eq!(agent, format!("{USER_AGENT} my-app/2.0").as_str());
/// assert_eq!(user_agent_header("bad\nagent"), Err(RequestError::InvalidUserAgent));
/// ```
///
/// # Errors
///
/// [`RequestError::InvalidUserAgent`] when the suffix holds anything but visible ASCII and
/// spaces (a control character, a tab, or a character outside ASCII, which HTTP headers do
/// not carry reliably).
pub fn user_agent_header(suffix: &str) -> Result<HeaderValue, RequestError> {
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
pub const API_KEY_HEADER: HeaderName = HeaderName::from_static("api-key");

/// The header that carries the requested expiration.
pub const EXPIRATION_HEADER: HeaderName = HeaderName::from_static("x-expiration");

/// One exchange of an API key for an access token: builds the `http::Request` and reads the
/// `http::Response`, without doing any I/O. A transport sends the one and hands back the
/// other.
///
/// ```
/// use dstor_types::{ApiKey, Environment, TokenRequest};
///
/// let key = ApiKey::new("k".repeat(64)).unwrap();
/// let request = TokenRequest::new(Environment::Testnet.base_url(), key).to_http().unwrap();
/// assert_eq!(request.uri(), "https://api.testnet.dstor.cloud/v1/dev/temp-token");
/// assert!(request.headers()["api-key"].is_sensitive());
///
/// let response = http::Response::builder()
///     .status(200)
///     .body(br#"{"access_token":"opaque"}"#.to_vec())
///     .unwrap();
/// # let key = ApiKey::new("k".repeat(64)).unwrap();
/// # let exchange = TokenRequest::new(Environment::Testnet.base_url(), key);
/// let token = exchange.parse_response(response).unwrap();
/// assert_eq!(token.expose_secret(), "opaque");
/// ```
#[derive(Clone, Debug)]
pub struct TokenRequest {
    base: BaseUrl,
    api_key: ApiKey,
    expiration: Option<Expiration>,
    user_agent: Result<HeaderValue, RequestError>,
}

impl TokenRequest {
    /// A request for a token from `base`, with the server's default expiration.
    pub fn new(base: BaseUrl, api_key: ApiKey) -> Self {
        Self {
            base,
            api_key,
            expiration: None,
            user_agent: Ok(HeaderValue::from_static(USER_AGENT)),
        }
    }

    /// Asks for a token that expires at `expiration` (`None`: the server's default, one
    /// year).
    #[must_use]
    pub fn expiration(mut self, expiration: Option<Expiration>) -> Self {
        self.expiration = expiration;
        self
    }

    /// Appends `suffix` to the user agent, as in `dstor-rs/0.1.0 my-app/2.0`. A suffix a
    /// header cannot carry makes [`TokenRequest::to_http`] fail; use
    /// [`TokenRequest::try_user_agent_suffix`] to find out here.
    #[must_use]
    pub fn user_agent_suffix(mut self, suffix: &str) -> Self {
        self.user_agent = user_agent_header(suffix);
        self
    }

    /// Appends `suffix` to the user agent, refusing one a header cannot carry.
    ///
    /// # Errors
    ///
    /// [`RequestError::InvalidUserAgent`], as [`user_agent_header`].
    pub fn try_user_agent_suffix(mut self, suffix: &str) -> Result<Self, RequestError> {
        self.user_agent = Ok(user_agent_header(suffix)?);
        Ok(self)
    }

    /// The requested expiration.
    pub fn requested_expiration(&self) -> Option<Expiration> {
        self.expiration
    }

    /// The `http::Request` to send: `GET {base}/v1/dev/temp-token` with `api-key` (marked
    /// sensitive), `x-expiration` when one was asked for, `accept: application/json`,
    /// `cache-control: no-store` and the user agent.
    ///
    /// # Errors
    ///
    /// [`RequestError::InvalidUserAgent`] when the user agent suffix cannot travel in a
    /// header.
    pub fn to_http(&self) -> Result<Request<Vec<u8>>, RequestError> {
        let mut request = Request::new(Vec::new());
        *request.method_mut() = Method::GET;
        *request.uri_mut() = self.base.token_endpoint().clone();
        let headers = request.headers_mut();
        let mut key = HeaderValue::from_str(self.api_key.expose_secret())
            .map_err(|_| RequestError::InvalidApiKey)?;
        key.set_sensitive(true);
        headers.insert(API_KEY_HEADER, key);
        if let Some(expiration) = self.expiration {
            headers.insert(EXPIRATION_HEADER, expiration.header_value());
        }
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(USER_AGENT_HEADER, self.user_agent.clone()?);
        Ok(request)
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
            Some(&self.api_key),
        )
    }
}

/// Why a request could not be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The user agent suffix holds characters a header cannot carry.
    #[error("the user agent suffix has characters an HTTP header cannot carry: use visible ASCII")]
    InvalidUserAgent,
    /// The API key cannot travel in a header (never the case for a validated key).
    #[error("the API key cannot be sent as a header")]
    InvalidApiKey,
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
            .expiration(Some(exp))
            .to_http()
            .unwrap();
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
        .to_http()
        .unwrap();
        assert!(!request.headers().contains_key("x-expiration"));
        assert_eq!(request.uri(), "https://api.dstor.cloud/v1/dev/temp-token");
    }

    #[test]
    fn appends_a_user_agent_suffix_and_refuses_a_bad_one() {
        let base = Environment::Testnet.base_url();
        let request = TokenRequest::new(base.clone(), ApiKey::new(KEY).unwrap())
            .user_agent_suffix("my-app/2.0")
            .to_http()
            .unwrap();
        assert_eq!(
            request.headers()["user-agent"],
            format!("{USER_AGENT} my-app/2.0").as_str()
        );
        let err = TokenRequest::new(base.clone(), ApiKey::new(KEY).unwrap())
            .user_agent_suffix("bad\nagent")
            .to_http()
            .unwrap_err();
        assert_eq!(err, RequestError::InvalidUserAgent);
        for bad in ["bad\nagent", "caf\u{e9}/1", "a\u{7f}b", "a\tb"] {
            assert_eq!(
                TokenRequest::new(base.clone(), ApiKey::new(KEY).unwrap())
                    .try_user_agent_suffix(bad)
                    .unwrap_err(),
                RequestError::InvalidUserAgent,
                "{bad:?}"
            );
        }
        let blank = TokenRequest::new(base, ApiKey::new(KEY).unwrap())
            .try_user_agent_suffix("  ")
            .unwrap()
            .to_http()
            .unwrap();
        assert_eq!(blank.headers()["user-agent"], USER_AGENT);
    }
}
