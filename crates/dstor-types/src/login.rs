//! Building `POST /v1/dev/temp-token`: the account's login credentials for a token.

use std::fmt;
use std::time::SystemTime;

use http::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE, USER_AGENT as USER_AGENT_HEADER};
use http::{HeaderName, HeaderValue, Method, Request};
use secrecy::{ExposeSecret, SecretString};

use crate::environment::{BaseUrl, EndpointError};
use crate::expiration::Expiration;
use crate::request::{RequestError, USER_AGENT, user_agent_header};
use crate::response::{ApiError, parse_token_response};
use crate::token::AccessToken;

/// The most characters of an email address (RFC 5321's limit on a path).
pub const MAX_EMAIL_LEN: usize = 254;

/// The header that carries the requested expiration, as for the API key.
const EXPIRATION_HEADER: HeaderName = HeaderName::from_static("x-expiration");

/// An account's login credentials: its email address and its password.
///
/// The password is held in a [`SecretString`] (wiped from memory on drop); `Debug` shows
/// the email and `[redacted]` for the password, and there is no `Display`. The email is
/// checked lightly: not empty, one `@` with text on both sides, no whitespace or control
/// characters, at most [`MAX_EMAIL_LEN`] characters. Surrounding whitespace is trimmed.
///
/// ```
/// use dstor_types::LoginCredentials;
/// use dstor_types::secrecy::SecretString;
///
/// let login = LoginCredentials::new("dev@example.com", SecretString::from("hunter2"))?;
/// assert_eq!(login.email(), "dev@example.com");
/// assert!(!format!("{login:?}").contains("hunter2"));
///
/// let err = LoginCredentials::new("dev.example.com", SecretString::from("hunter2")).unwrap_err();
/// assert!(err.to_string().contains("one '@'"));
/// # Ok::<(), dstor_types::LoginError>(())
/// ```
#[derive(Clone)]
pub struct LoginCredentials {
    email: String,
    password: SecretString,
}

impl LoginCredentials {
    /// Checks `email` and `password` and holds them.
    ///
    /// # Errors
    ///
    /// [`LoginError`] says what is wrong. It never holds the password, and it does not
    /// quote the email either (a password pasted into the wrong field would show).
    pub fn new(email: &str, password: SecretString) -> Result<Self, LoginError> {
        let email = email.trim();
        check_email(email)?;
        if password.expose_secret().is_empty() {
            return Err(LoginError::EmptyPassword);
        }
        Ok(Self {
            email: email.to_owned(),
            password,
        })
    }

    /// The email address.
    pub fn email(&self) -> &str {
        &self.email
    }

    /// The password. Call this only where the request body is written.
    pub fn expose_password(&self) -> &str {
        self.password.expose_secret()
    }

    /// The JSON body `{"email": …, "password": …}`, with one copy of the password: the
    /// body itself.
    fn body(&self) -> Vec<u8> {
        let password = self.password.expose_secret();
        let mut body = Vec::with_capacity(self.email.len() + password.len() + 32);
        body.extend_from_slice(b"{\"email\":");
        // Writing a `&str` to a `Vec` cannot fail.
        let _ = serde_json::to_writer(&mut body, self.email.as_str());
        body.extend_from_slice(b",\"password\":");
        let _ = serde_json::to_writer(&mut body, password);
        body.push(b'}');
        body
    }
}

impl fmt::Debug for LoginCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginCredentials")
            .field("email", &self.email)
            .field("password", &"[redacted]")
            .finish()
    }
}

/// What is wrong with login credentials. Never holds the password or the email.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoginError {
    /// The email is empty.
    #[error("the email address is empty: give the address you log in to dStor with")]
    EmptyEmail,
    /// The email has no `@`, or more than one, or nothing on one side of it.
    #[error("the email address needs exactly one '@' with text on both sides, as in name@domain")]
    NotAnEmail,
    /// The email holds whitespace or a control character.
    #[error(
        "the email address has whitespace or a control character at position {position}: check what was pasted"
    )]
    BadCharacter {
        /// The 1-based position, in characters, of the first offending character.
        position: usize,
    },
    /// The email is longer than [`MAX_EMAIL_LEN`] characters.
    #[error("the email address is longer than {MAX_EMAIL_LEN} characters: check what was pasted")]
    TooLong,
    /// The password is empty.
    #[error("the password is empty: give the account's password")]
    EmptyPassword,
}

fn check_email(email: &str) -> Result<(), LoginError> {
    if email.is_empty() {
        return Err(LoginError::EmptyEmail);
    }
    if let Some(i) = email
        .chars()
        .position(|c| c.is_whitespace() || c.is_control())
    {
        return Err(LoginError::BadCharacter { position: i + 1 });
    }
    if email.chars().count() > MAX_EMAIL_LEN {
        return Err(LoginError::TooLong);
    }
    match email.split_once('@') {
        Some((local, domain))
            if !local.is_empty() && !domain.is_empty() && !domain.contains('@') =>
        {
            Ok(())
        }
        _ => Err(LoginError::NotAnEmail),
    }
}

/// One exchange of login credentials for an access token: builds the `http::Request` and
/// reads the `http::Response`, without doing any I/O.
///
/// The request is `POST {base}/v1/dev/temp-token` with `content-type: application/json`
/// and the body `{"email": …, "password": …}`. The answer is read as the API key's is
/// ([`crate::TokenRequest::parse_response`]): the same [`AccessToken`] and the same
/// [`ApiError`] classes, except that a 401 or 403 is [`ApiError::CredentialsRejected`].
///
/// The body holds the password: a transport must never log or print request bodies.
/// `Debug` of a `LoginRequest` shows the email only.
///
/// ```
/// use dstor_types::{Environment, LoginCredentials, LoginRequest};
/// use dstor_types::secrecy::SecretString;
///
/// let login = LoginCredentials::new("dev@example.com", SecretString::from("hunter2"))?;
/// let exchange = LoginRequest::new(Environment::Testnet.base_url(), login)?;
/// let request = exchange.to_http();
/// assert_eq!(request.method(), "POST");
/// assert_eq!(request.headers()["content-type"], "application/json");
///
/// let response = http::Response::builder().status(401).body(Vec::new())?;
/// let err = exchange.parse_response(response).unwrap_err();
/// assert!(err.is_credentials_rejected());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct LoginRequest {
    base: BaseUrl,
    credentials: LoginCredentials,
    expiration: Option<Expiration>,
    user_agent: HeaderValue,
}

impl LoginRequest {
    /// A request for a token from `base`, with the server's default expiration.
    ///
    /// # Errors
    ///
    /// [`EndpointError::Insecure`] when `base` is plain `http` to a host that is not
    /// loopback: the password is never sent in clear text.
    pub fn new(base: BaseUrl, credentials: LoginCredentials) -> Result<Self, EndpointError> {
        base.check_may_carry_secrets()?;
        Ok(Self {
            base,
            credentials,
            expiration: None,
            user_agent: HeaderValue::from_static(USER_AGENT),
        })
    }

    /// Asks for a token that expires at `expiration` (`None`: the server's default), sent
    /// as `x-expiration` as with the API key. (dStor documents the header for the API key
    /// only; that it is honoured here is inferred.)
    #[must_use]
    pub fn expiration(mut self, expiration: Option<Expiration>) -> Self {
        self.expiration = expiration;
        self
    }

    /// Appends `suffix` (trimmed) to the user agent, as
    /// [`crate::TokenRequest::user_agent_suffix`] does.
    ///
    /// # Errors
    ///
    /// [`RequestError::InvalidUserAgent`] when the suffix holds anything but visible ASCII
    /// and spaces.
    pub fn user_agent_suffix(mut self, suffix: &str) -> Result<Self, RequestError> {
        self.user_agent = user_agent_header(suffix)?;
        Ok(self)
    }

    /// The base URL the request goes to.
    pub fn base_url(&self) -> &BaseUrl {
        &self.base
    }

    /// The email address of the account.
    pub fn email(&self) -> &str {
        self.credentials.email()
    }

    /// The requested expiration.
    pub fn requested_expiration(&self) -> Option<Expiration> {
        self.expiration
    }

    /// The `http::Request` to send: `POST {base}/v1/dev/temp-token` with the JSON body,
    /// `content-type: application/json`, `x-expiration` when one was asked for,
    /// `accept: application/json`, `cache-control: no-store` and the user agent.
    pub fn to_http(&self) -> Request<Vec<u8>> {
        let mut request = Request::new(self.credentials.body());
        *request.method_mut() = Method::POST;
        *request.uri_mut() = self.base.token_endpoint().clone();
        let headers = request.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(expiration) = self.expiration {
            headers.insert(EXPIRATION_HEADER, expiration.header_value());
        }
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(USER_AGENT_HEADER, self.user_agent.clone());
        request
    }

    /// Reads the server's answer to this request, as the API key's answer is read; a 401
    /// or 403 means a wrong email or password ([`ApiError::CredentialsRejected`]). The
    /// password is scrubbed from any server message that echoes it.
    ///
    /// # Errors
    ///
    /// [`ApiError`] for every answer that is not a usable token.
    pub fn parse_response<B: AsRef<[u8]>>(
        &self,
        response: http::Response<B>,
    ) -> Result<AccessToken, ApiError> {
        parse_token_response(
            &response,
            self.expiration.map(Expiration::to_system_time),
            self.credentials.expose_password(),
            SystemTime::now(),
        )
        .map_err(|e| match e {
            ApiError::KeyRejected { status, message } => {
                ApiError::CredentialsRejected { status, message }
            }
            other => other,
        })
    }
}

impl fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginRequest")
            .field("base", &self.base)
            .field("credentials", &self.credentials)
            .field("expiration", &self.expiration)
            .field("user_agent", &self.user_agent)
            .finish()
    }
}

#[cfg(test)]
mod tests;
