//! Where the dStor API lives.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use http::Uri;

/// The path of the token endpoint, below a base URL.
pub const TEMP_TOKEN_PATH: &str = "/v1/dev/temp-token";

/// A dStor deployment: testnet, production, or a custom base URL (a proxy, or a fake
/// service in tests).
///
/// Parses from `"testnet"`, `"production"` (or `"prod"`), or a base URL; displays its name.
///
/// ```
/// use dstor_types::Environment;
///
/// let env: Environment = "prod".parse().unwrap();
/// assert_eq!(env, Environment::Production);
/// assert_eq!(env.to_string(), "production");
/// assert_eq!(env.base_url().as_str(), "https://api.dstor.cloud");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Environment {
    /// The testing network, `https://api.testnet.dstor.cloud`.
    Testnet,
    /// Production, `https://api.dstor.cloud`.
    Production,
    /// Any other base URL.
    Custom(BaseUrl),
}

impl Environment {
    /// The base URL of testnet.
    pub const TESTNET_URL: &'static str = "https://api.testnet.dstor.cloud";
    /// The base URL of production.
    pub const PRODUCTION_URL: &'static str = "https://api.dstor.cloud";

    /// The base URL requests go to.
    pub fn base_url(&self) -> BaseUrl {
        match self {
            Self::Testnet => BaseUrl::known(Self::TESTNET_URL),
            Self::Production => BaseUrl::known(Self::PRODUCTION_URL),
            Self::Custom(url) => url.clone(),
        }
    }

    /// The environment a name stands for: `testnet` (or `testing`, `test`) or `production`
    /// (or `prod`), in any case, surrounding whitespace ignored; `None` for any other text.
    pub fn from_name(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "testnet" | "testing" | "test" => Some(Self::Testnet),
            "production" | "prod" => Some(Self::Production),
            _ => None,
        }
    }

    /// The environment's name: `testnet`, `production` or `custom`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Testnet => "testnet",
            Self::Production => "production",
            Self::Custom(_) => "custom",
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Custom(url) => write!(f, "custom ({url})"),
            other => f.write_str(other.name()),
        }
    }
}

impl FromStr for Environment {
    type Err = EndpointError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if let Some(named) = Self::from_name(s) {
            return Ok(named);
        }
        if s.contains("://") {
            return BaseUrl::parse(s).map(Self::Custom);
        }
        Err(EndpointError::UnknownEnvironment {
            value: echo_safely(s),
        })
    }
}

/// A validated base URL: `http` or `https`, a host, an optional path prefix, and no user
/// info, query or fragment. A trailing slash is dropped.
///
/// Whether plain `http` is acceptable is the transport's decision: see
/// [`BaseUrl::is_https`] and [`BaseUrl::is_loopback`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct BaseUrl {
    text: String,
    token_endpoint: Uri,
}

impl BaseUrl {
    fn known(text: &'static str) -> Self {
        // Both constants are checked by the tests; parsing them cannot fail.
        Self::parse(text).unwrap_or_else(|_| Self {
            text: text.to_owned(),
            token_endpoint: Uri::from_static("https://api.dstor.cloud/v1/dev/temp-token"),
        })
    }

    /// Parses and validates a base URL such as `https://api.dstor.cloud` or
    /// `http://127.0.0.1:8080`.
    ///
    /// # Errors
    ///
    /// [`EndpointError`] names what is wrong with the URL.
    pub fn parse(url: &str) -> Result<Self, EndpointError> {
        let url = url.trim();
        // An `@` anywhere may be user info, and user info may hold any character (`/`, `?`,
        // `#`, `:`), so no part of such a URL can be told apart from the password: refuse
        // it and echo nothing of it.
        if url.contains('@') {
            return Err(EndpointError::InvalidUrl {
                url: REDACTED.to_owned(),
                reason: "it must not carry credentials; the API key is sent as a header",
            });
        }
        let invalid = |reason: &'static str| EndpointError::InvalidUrl {
            url: url_for_error(url),
            reason,
        };
        if url.contains(['?', '#']) {
            return Err(invalid("a base URL takes no query or fragment"));
        }
        let uri: Uri = url.parse().map_err(|_| invalid("it is not a valid URL"))?;
        match uri.scheme_str() {
            Some("https" | "http") => {}
            Some(_) => return Err(invalid("the scheme must be https")),
            None => return Err(invalid("it needs a scheme, such as https://")),
        }
        let authority = uri.authority().ok_or_else(|| invalid("it has no host"))?;
        if authority.host().is_empty() {
            return Err(invalid("it has no host"));
        }
        // `Authority::port` is `None` for a port that is not a number, so the text after
        // the host is checked itself: `host:notaport` would otherwise be taken as written.
        let after_host = authority
            .as_str()
            .rfind(']')
            .map_or(authority.as_str(), |i| &authority.as_str()[i + 1..]);
        if let Some(colon) = after_host.rfind(':') {
            let port = &after_host[colon + 1..];
            if port.parse::<u16>().is_err() || authority.port_u16().is_none() {
                return Err(invalid("the port is not a number"));
            }
        }
        let path = uri.path().trim_end_matches('/');
        let text = format!(
            "{}://{}{}",
            uri.scheme_str().unwrap_or("https"),
            authority.as_str().to_ascii_lowercase(),
            path
        );
        let token_endpoint: Uri = format!("{text}{TEMP_TOKEN_PATH}")
            .parse()
            .map_err(|_| invalid("it is not a valid URL"))?;
        Ok(Self {
            text,
            token_endpoint,
        })
    }

    /// The URL as text, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The URL of `GET /v1/dev/temp-token` below this base.
    pub fn token_endpoint(&self) -> &Uri {
        &self.token_endpoint
    }

    /// The host, without brackets for an IPv6 address.
    pub fn host(&self) -> &str {
        let host = self.token_endpoint.host().unwrap_or_default();
        host.trim_start_matches('[').trim_end_matches(']')
    }

    /// Whether the scheme is `https`.
    pub fn is_https(&self) -> bool {
        self.token_endpoint.scheme_str() == Some("https")
    }

    /// Whether the API key may be sent here: over https, or over plain http to a loopback
    /// host, where it never leaves the machine. Every transport checks this before it sends
    /// the key.
    pub fn may_carry_api_key(&self) -> bool {
        self.is_https() || self.is_loopback()
    }

    /// Whether the host is a loopback address (`127.0.0.0/8`, `::1`) or `localhost`, where
    /// plain `http` never leaves the machine.
    pub fn is_loopback(&self) -> bool {
        let host = self.host();
        host.eq_ignore_ascii_case("localhost")
            || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }
}

impl fmt::Debug for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("BaseUrl").field(&self.text).finish()
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for BaseUrl {
    type Err = EndpointError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Why an environment name or base URL was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EndpointError {
    /// Neither a known environment name nor a URL.
    #[error(
        "unknown dStor environment {value}: use \"testnet\", \"production\" or a base URL such as https://api.dstor.cloud"
    )]
    UnknownEnvironment {
        /// The value given, quoted, when it is short; else only its length (a long value
        /// may be a key put in the wrong variable).
        value: String,
    },
    /// A URL that cannot serve as a base URL.
    #[error("invalid dStor endpoint {url:?}: {reason}")]
    InvalidUrl {
        /// The URL given, with any user info, query and fragment replaced by `[redacted]`.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// A value short enough to be a mistyped name is quoted; a longer one, which may be a key
/// put in the wrong place, is described by its length alone.
fn echo_safely(value: &str) -> String {
    let len = value.chars().count();
    if len <= 20 && value.chars().all(|c| c.is_ascii_graphic()) {
        format!("{value:?}")
    } else {
        format!("(a value of {len} characters)")
    }
}

/// What stands for a URL, or a part of one, that may hold a secret.
const REDACTED: &str = "[redacted]";

/// A URL as an error may show it (one with an `@` never gets here): without its query and
/// fragment, and cut to 200 characters; a text that is not a URL at all only by its length.
fn url_for_error(url: &str) -> String {
    // Not a URL at all: perhaps the key in the wrong variable.
    if !url.contains("://") {
        return echo_safely(url).trim_matches('"').to_owned();
    }
    let (url, tail) = match url.find(['?', '#']) {
        Some(i) => (&url[..i], "?[redacted]"),
        None => (url, ""),
    };
    let url: String = url.chars().take(200).collect();
    format!("{url}{tail}")
}

#[cfg(test)]
mod tests;
