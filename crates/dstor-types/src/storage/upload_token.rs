//! `POST /v1/upload/get-token/` and the upload token it gives.

use std::fmt;

use bytes::Bytes;
use http::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE, USER_AGENT as USER_AGENT_HEADER};
use http::{HeaderValue, Method, Request};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::name::check;
use super::{
    BodyError, UPLOAD_TOKEN_PATH, UploadApiError, UploadRequestError, endpoint, status_error,
};
use crate::api_key::CharProblem;
use crate::environment::BaseUrl;
use crate::request::USER_AGENT;
use crate::token::MAX_TOKEN_LEN;

/// The request for an upload token: `POST {base}/v1/upload/get-token/` with
/// `{"chunks_number": n, "folder_path": "/"}`. `n` is the number of chunk requests that will
/// follow; nothing goes to IPFS until that many have arrived.
///
/// ```
/// use dstor_types::{Environment, UploadTokenRequest};
///
/// let request = UploadTokenRequest::new(Environment::Testnet.base_url(), 2)?
///     .folder_path("photos/2024")?
///     .to_http()?;
/// assert_eq!(request.uri(), "https://api.testnet.dstor.cloud/v1/upload/get-token/");
/// assert_eq!(request.body(), br#"{"chunks_number":2,"folder_path":"photos/2024"}"#);
///
/// let answer = http::Response::builder()
///     .status(200)
///     .body(br#"{"message":"ok","token":"u-123"}"#.to_vec())?;
/// # let exchange = UploadTokenRequest::new(Environment::Testnet.base_url(), 2)?;
/// let token = exchange.parse_response(&answer)?;
/// assert_eq!(format!("{token:?}"), "UploadToken([redacted])");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadTokenRequest {
    base: BaseUrl,
    chunks: u32,
    folder: String,
}

impl UploadTokenRequest {
    /// A request for an upload of `chunks_number` chunks into the folder `/`.
    ///
    /// # Errors
    ///
    /// [`UploadRequestError::NoChunks`] for 0.
    pub fn new(base: BaseUrl, chunks_number: u32) -> Result<Self, UploadRequestError> {
        if chunks_number == 0 {
            return Err(UploadRequestError::NoChunks);
        }
        Ok(Self {
            base,
            chunks: chunks_number,
            folder: "/".to_owned(),
        })
    }

    /// Stores the files in `folder` (default `/`).
    ///
    /// # Errors
    ///
    /// [`UploadRequestError::InvalidFolder`] for an empty path, a drive (`C:`), a `.` or `..`
    /// segment, or a control character.
    pub fn folder_path(mut self, folder: &str) -> Result<Self, UploadRequestError> {
        check(folder, true).map_err(|reason| UploadRequestError::InvalidFolder { reason })?;
        folder.clone_into(&mut self.folder);
        Ok(self)
    }

    /// The number of chunk requests the upload is made of.
    pub fn chunks_number(&self) -> u32 {
        self.chunks
    }

    /// The folder the files go to.
    pub fn folder(&self) -> &str {
        &self.folder
    }

    /// The `http::Request` to send (the caller's authorized transport adds `Authorization`).
    ///
    /// # Errors
    ///
    /// [`UploadRequestError::Endpoint`], never for a validated base URL.
    pub fn to_http(&self) -> Result<Request<Vec<u8>>, UploadRequestError> {
        let body = serde_json::json!({
            "chunks_number": self.chunks,
            "folder_path": self.folder,
        });
        let mut request = Request::new(body.to_string().into_bytes());
        *request.method_mut() = Method::POST;
        *request.uri_mut() = endpoint(&self.base, UPLOAD_TOKEN_PATH)?;
        let headers = request.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(USER_AGENT_HEADER, HeaderValue::from_static(USER_AGENT));
        Ok(request)
    }

    /// Reads the answer: `{"message": "ok", "token": "<upload token>"}`.
    ///
    /// # Errors
    ///
    /// [`UploadApiError`]: a status that is not success, or a body without a usable token.
    pub fn parse_response<B: AsRef<[u8]>>(
        &self,
        response: &http::Response<B>,
    ) -> Result<UploadToken, UploadApiError> {
        if !response.status().is_success() {
            return Err(status_error(response, None));
        }
        let invalid = |reason| UploadApiError::InvalidBody {
            endpoint: UPLOAD_TOKEN_PATH,
            reason,
        };
        let Ok(Value::Object(mut map)) = serde_json::from_slice(response.body().as_ref()) else {
            return Err(invalid(BodyError::NotJson));
        };
        match map.remove("token") {
            Some(Value::String(token)) => {
                UploadToken::new(token).map_err(|e| invalid(BodyError::BadToken(e)))
            }
            None | Some(Value::Null) => Err(invalid(BodyError::Missing("token"))),
            Some(_) => Err(invalid(BodyError::WrongType {
                field: "token".to_owned(),
                expected: "a string",
            })),
        }
    }
}

/// The credential of one upload, sent as `x-dstor-upload-token` with every chunk and status
/// request. A secret: `Debug` prints `UploadToken([redacted])` and there is no `Display`.
#[derive(Clone)]
pub struct UploadToken {
    secret: SecretString,
}

impl UploadToken {
    /// Wraps a token.
    ///
    /// # Errors
    ///
    /// [`UploadTokenError`] when it is empty, longer than 16 KiB, or holds a character a
    /// header cannot carry.
    pub fn new(token: impl Into<String>) -> Result<Self, UploadTokenError> {
        let secret = SecretString::from(token.into());
        let token = secret.expose_secret();
        if token.is_empty() {
            return Err(UploadTokenError::Empty);
        }
        if token.len() > MAX_TOKEN_LEN {
            return Err(UploadTokenError::TooLong { len: token.len() });
        }
        if let Some((index, c)) = token
            .chars()
            .enumerate()
            .find(|(_, c)| !c.is_ascii_graphic())
        {
            let problem = if c.is_whitespace() {
                CharProblem::Whitespace
            } else if c.is_control() {
                CharProblem::Control
            } else {
                CharProblem::NonAscii
            };
            return Err(UploadTokenError::InvalidCharacter {
                position: index + 1,
                problem,
            });
        }
        Ok(Self { secret })
    }

    /// The token itself. Call this only where a header is built; prefer
    /// [`UploadToken::header_value`].
    pub fn expose_secret(&self) -> &str {
        self.secret.expose_secret()
    }

    /// The value of `x-dstor-upload-token`, marked sensitive (hidden from `Debug` of a header
    /// map, never indexed by HTTP/2), written once into the buffer it owns.
    pub fn header_value(&self) -> HeaderValue {
        let buffer = Bytes::from(self.expose_secret().as_bytes().to_vec());
        // Validated at construction: visible ASCII only.
        let mut value =
            HeaderValue::from_maybe_shared(buffer).unwrap_or_else(|_| HeaderValue::from_static(""));
        value.set_sensitive(true);
        value
    }
}

impl fmt::Debug for UploadToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UploadToken([redacted])")
    }
}

/// Why an upload token is not usable. Messages never hold the token.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UploadTokenError {
    /// The token is empty.
    #[error("the upload token is empty")]
    Empty,
    /// The token is longer than 16 KiB.
    #[error("the upload token is {len} bytes long, more than the 16 KiB accepted")]
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// The token holds a character a header cannot carry.
    #[error("the upload token has {problem} at position {position}")]
    InvalidCharacter {
        /// Where, counting from 1.
        position: usize,
        /// What kind of character.
        problem: CharProblem,
    },
}
