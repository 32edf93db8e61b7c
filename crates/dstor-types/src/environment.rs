//! Where the dStor API lives.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use http::Uri;
use url::Url;

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
/// It is parsed by the `url` crate, the parser reqwest uses, and held in that parser's
/// normalised form (a lowercase host, no default port, a percent-encoded path): a base URL
/// accepted here is one every transport can send to. Secrets may be sent to it only over
/// `https`, or over plain `http` to a loopback host: see [`BaseUrl::check_may_carry_secrets`].
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
    /// [`EndpointError::InvalidUrl`] names what is wrong with the URL. It quotes nothing of
    /// an input that may hold credentials (any `@`, also a full-width one), nor its query.
    pub fn parse(url: &str) -> Result<Self, EndpointError> {
        let url = url.trim();
        // An `@` anywhere may be user info, and user info may hold any character (`/`, `?`,
        // `#`, `:`), so no part of such a URL can be told apart from the password: refuse
        // it and echo nothing of it.
        if may_hold_credentials(url) {
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
        // The `url` parser drops tabs and newlines silently; a URL holding one is a paste
        // gone wrong, not the URL meant.
        if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("it has whitespace or a control character inside"));
        }
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| invalid("it needs a scheme, such as https://"))?;
        if !(scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http")) {
            return Err(invalid("the scheme must be https"));
        }
        // `url` takes `host:` as no port at all; a colon says a port was meant.
        if port_text(rest).is_some_and(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
            return Err(invalid("the port is not a number"));
        }
        let parsed = Url::parse(url).map_err(|e| invalid(reason(e)))?;
        let host = parsed.host_str().unwrap_or_default();
        if host.is_empty() {
            return Err(invalid("it has no host"));
        }
        let port = parsed.port().map(|p| format!(":{p}")).unwrap_or_default();
        let path = parsed.path().trim_end_matches('/');
        let text = format!("{}://{host}{port}{path}", parsed.scheme());
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

    /// The URL of `path` below this base: `join("/v1/upload/")` on `https://api.dstor.cloud`
    /// is `https://api.dstor.cloud/v1/upload/`. The path is taken as it is (no `.` or `..`
    /// resolution), so the result always stays on this base's origin.
    ///
    /// # Errors
    ///
    /// [`EndpointError::InvalidUrl`] when `path` does not start with `/`, or holds a query,
    /// a fragment or a character a URL cannot carry.
    pub fn join(&self, path: &str) -> Result<Uri, EndpointError> {
        let invalid = |reason| EndpointError::InvalidUrl {
            url: self.text.clone(),
            reason,
        };
        if !path.starts_with('/') || path.starts_with("//") {
            return Err(invalid("a path joined to it must start with a single `/`"));
        }
        if path.contains(['?', '#']) {
            return Err(invalid("a path joined to it takes no query or fragment"));
        }
        format!("{}{path}", self.text)
            .parse()
            .map_err(|_| invalid("the path joined to it does not make a URL"))
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

    /// Whether the host is a loopback address (`127.0.0.0/8`, `::1`) or `localhost`, where
    /// plain `http` never leaves the machine.
    pub fn is_loopback(&self) -> bool {
        let host = self.host();
        host.eq_ignore_ascii_case("localhost")
            || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }

    /// The one rule for secrets (the API key, access and upload tokens): they travel only
    /// over `https`, or over plain `http` to a loopback host, where they never leave the
    /// machine. Whatever sends a secret to this URL asks here first.
    ///
    /// # Errors
    ///
    /// [`EndpointError::Insecure`] for plain `http` to any other host.
    pub fn check_may_carry_secrets(&self) -> Result<(), EndpointError> {
        if self.is_https() || self.is_loopback() {
            Ok(())
        } else {
            Err(EndpointError::Insecure {
                host: self.host().to_owned(),
            })
        }
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

/// Why an environment name or base URL was refused, or why secrets may not be sent to it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EndpointError {
    /// Neither a known environment name nor a URL.
    #[error(
        "unknown dStor environment {value}: use \"testnet\", \"production\" or a base URL such as https://api.dstor.cloud"
    )]
    UnknownEnvironment {
        /// The value given, quoted, when it is a short name; else only its length (a long
        /// value may be a key put in the wrong place, one with `@` or `:` a password).
        value: String,
    },
    /// A URL that cannot serve as a base URL.
    #[error("invalid dStor endpoint {url:?}: {reason}")]
    InvalidUrl {
        /// The URL given, with its query and fragment replaced by `[redacted]`; only
        /// `[redacted]` or its length when it may hold credentials or is not plain ASCII.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The URL is plain `http` on a host that is not loopback, where a secret would travel
    /// in clear text.
    #[error(
        "refusing to send the API key or a token over plain http to {host}: use an https endpoint (plain http is allowed only for loopback hosts such as 127.0.0.1 and localhost)"
    )]
    Insecure {
        /// The host that was refused.
        host: String,
    },
}

/// Whether `text` may hold user info: it has an `@`, or a character that URL host parsing
/// (IDNA) maps to one, such as the full-width `＠`.
fn may_hold_credentials(text: &str) -> bool {
    text.contains(['@', '\u{FF20}', '\u{FE6B}'])
}

/// The port written after the host in `rest` (the URL after `scheme://`), if there is a
/// colon for one.
fn port_text(rest: &str) -> Option<&str> {
    let authority = rest.split(['/', '\\']).next().unwrap_or_default();
    let after_host = authority
        .rfind(']')
        .map_or(authority, |i| &authority[i + 1..]);
    after_host.rfind(':').map(|colon| &after_host[colon + 1..])
}

/// What the `url` parser's refusal means for a base URL.
fn reason(error: url::ParseError) -> &'static str {
    use url::ParseError as E;
    match error {
        E::EmptyHost => "it has no host",
        E::InvalidPort => "the port is not a number",
        E::InvalidIpv4Address => "the host is not a valid IPv4 address",
        E::InvalidIpv6Address => "the host is not a valid IPv6 address",
        E::InvalidDomainCharacter => "the host has a character no host name has",
        E::IdnaError => "the host is not a valid domain name",
        E::RelativeUrlWithoutBase => "it needs a scheme, such as https://",
        _ => "it is not a valid URL",
    }
}

/// A value short and plain enough to be a mistyped name (letters, digits, `-`, `_`, `.`)
/// is quoted; any other, which may be a key or a password put in the wrong place, is
/// described by its length alone.
fn echo_safely(value: &str) -> String {
    let len = value.chars().count();
    let name_like = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if len <= 20 && name_like {
        format!("{value:?}")
    } else {
        format!("(a value of {len} characters)")
    }
}

/// What stands for a URL, or a part of one, that may hold a secret.
const REDACTED: &str = "[redacted]";

/// A URL as an error may show it (one that may hold credentials never gets here): without
/// its query and fragment, and cut to 200 characters; a text that is not a URL at all, or
/// not plain ASCII, only by its length.
fn url_for_error(url: &str) -> String {
    let (head, tail) = match url.find(['?', '#']) {
        Some(i) => (&url[..i], "?[redacted]"),
        None => (url, ""),
    };
    // Not a URL at all (perhaps the key in the wrong variable), or one with characters
    // that could hide anything.
    if !head.contains("://") || !head.chars().all(|c| c.is_ascii_graphic()) {
        return echo_safely(url).trim_matches('"').to_owned();
    }
    let head: String = head.chars().take(200).collect();
    format!("{head}{tail}")
}

#[cfg(test)]
mod tests;
