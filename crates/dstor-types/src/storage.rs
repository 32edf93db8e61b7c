//! The upload flow's requests and answers, free of any I/O: the upload token, the chunk
//! requests and their multipart framing, the upload status and the stored files.
//!
//! A transport sends what these build and hands back what it received; the `Authorization`
//! header is added by the caller's authorized transport, not here.

use std::fmt;

use http::{HeaderName, StatusCode, Uri};

use crate::cid::CidError;
use crate::environment::{BaseUrl, EndpointError};
use crate::response::{
    ApiError, REDACTED, Said, normalise, parse_token_response, scrub_token_shaped,
};

mod chunk;
mod multipart;
mod name;
mod status;
mod upload_token;

pub use chunk::{ChunkRequest, MAX_COMMENT_LEN};
pub use multipart::{FORM_FIELD, Multipart, MultipartError};
pub use name::{FileName, FileNameError, MAX_FILE_NAME_LEN};
pub use status::{StatusRequest, StoredFile, UploadStatus, parse_status};
pub use upload_token::{UploadToken, UploadTokenError, UploadTokenRequest};

/// The path of `POST /v1/upload/get-token/`, below a base URL.
pub const UPLOAD_TOKEN_PATH: &str = "/v1/upload/get-token/";
/// The path of `POST /v1/upload/`, one request per chunk.
pub const UPLOAD_PATH: &str = "/v1/upload/";
/// The path of `GET /v1/upload/get-status/`.
pub const UPLOAD_STATUS_PATH: &str = "/v1/upload/get-status/";
/// The header that carries the upload token.
pub const UPLOAD_TOKEN_HEADER: HeaderName = HeaderName::from_static("x-dstor-upload-token");
/// The header that carries an upload's optional comment.
pub const COMMENT_HEADER: HeaderName = HeaderName::from_static("x-dstor-comment");

/// Why a request of the upload flow could not be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UploadRequestError {
    /// `chunks_number` must be at least 1.
    #[error("an upload needs at least one chunk: give at least one file")]
    NoChunks,
    /// The folder path is not usable.
    #[error(
        "the folder path is not usable ({reason}): give a relative path such as \"/\" or \"photos/2024\""
    )]
    InvalidFolder {
        /// What is wrong with it.
        reason: FileNameError,
    },
    /// The comment cannot travel in a header.
    #[error(
        "the upload comment has a character an HTTP header cannot carry at position {position}: use visible ASCII and spaces"
    )]
    InvalidComment {
        /// Where, counting from 1.
        position: usize,
    },
    /// The comment is longer than [`MAX_COMMENT_LEN`].
    #[error("the upload comment has {len} characters, more than the {MAX_COMMENT_LEN} accepted")]
    CommentTooLong {
        /// Its length.
        len: usize,
    },
    /// The base URL and the path do not make a URL (never the case for a validated base).
    #[error("the endpoint URL could not be built: {0}")]
    Endpoint(EndpointError),
}

/// How dStor answered a request of the upload flow when it did not give what was asked.
/// Messages never hold the upload token or the access token.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UploadApiError {
    /// A status that is not success, classified as for the token exchange (so
    /// [`ApiError::is_retryable`] and [`ApiError::retry_after`] hold), and worded for the
    /// upload flow: a 400, 401/403 or 404 names the upload, not the token exchange.
    #[error("{}", UploadWording(.0))]
    Api(ApiError),
    /// 413: the chunk was larger than dStor accepts.
    #[error("dStor refused the chunk as too large (413): send fewer or smaller files per chunk")]
    TooLarge,
    /// A success status whose body cannot be read.
    #[error(
        "dStor's answer to {endpoint} could not be read ({reason}): check that the endpoint is dStor's API"
    )]
    InvalidBody {
        /// The path of the request, such as `/v1/upload/get-status/`.
        endpoint: &'static str,
        /// What is wrong with it (never the body itself).
        reason: BodyError,
    },
}

impl UploadApiError {
    /// Whether trying again later may succeed: 408, 429, 500, 502, 503 and 504.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Api(e) if e.is_retryable())
    }

    /// The HTTP status, when the server answered with one that is not success.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api(e) => e.status(),
            Self::TooLarge => Some(413),
            Self::InvalidBody { .. } => None,
        }
    }
}

/// An [`ApiError`] from an endpoint of the upload flow, in the flow's words where the token
/// exchange's would mislead (a 400 there is about the token's expiration, a 403 about the key).
struct UploadWording<'a>(&'a ApiError);

impl fmt::Display for UploadWording<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            ApiError::BadRequest { message } => write!(
                f,
                "dStor refused the upload request as malformed (400): check the folder path, \
                 the file names and the files per chunk{}",
                Said(message)
            ),
            ApiError::KeyRejected { status, message }
            | ApiError::CredentialsRejected { status, message } => write!(
                f,
                "dStor refused the upload's credentials ({status}): the access token or the \
                 upload token was not accepted; an upload token serves one upload, so start \
                 the upload again, and check that the account may upload{}",
                Said(message)
            ),
            ApiError::NotFound { message } => write!(
                f,
                "no dStor upload endpoint at this address (404): check the environment or \
                 endpoint{}",
                Said(message)
            ),
            other => other.fmt(f),
        }
    }
}

/// What is wrong with the body of a success answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BodyError {
    /// The body is not a JSON object.
    #[error("the body is not a JSON object")]
    NotJson,
    /// A field is missing (or null).
    #[error("the JSON has no {0}")]
    Missing(&'static str),
    /// A field is not of the expected type.
    #[error("{field} is not {expected}")]
    WrongType {
        /// The field, such as `status` or `data[2].Name`.
        field: String,
        /// What it should be, such as `a string`.
        expected: &'static str,
    },
    /// A stored file's `Hash` is not a CID.
    #[error("the Hash of stored file {index} is not a CID: {error}")]
    BadHash {
        /// Its index in `data`, from 0.
        index: usize,
        /// Why.
        error: CidError,
    },
    /// The upload token is not usable.
    #[error("{0}")]
    BadToken(UploadTokenError),
}

/// The URL of `path` below `base`.
fn endpoint(base: &BaseUrl, path: &str) -> Result<Uri, UploadRequestError> {
    base.join(path).map_err(UploadRequestError::Endpoint)
}

/// The error for a status that is not success: 413 is the chunk's size, the rest is classified
/// as [`ApiError`] does, with `secret` (the upload token) scrubbed from the server's words.
fn status_error<B: AsRef<[u8]>>(
    response: &http::Response<B>,
    secret: Option<&str>,
) -> UploadApiError {
    let status = response.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return UploadApiError::TooLarge;
    }
    let mut scrubbed = http::Response::new(scrub(response.body().as_ref(), secret));
    *scrubbed.status_mut() = status;
    *scrubbed.headers_mut() = response.headers().clone();
    match parse_token_response(
        &scrubbed,
        None,
        secret.unwrap_or(""),
        std::time::SystemTime::now(),
    ) {
        Err(e) => UploadApiError::Api(e),
        // Only reached for a success status, which callers handle before.
        Ok(_) => UploadApiError::Api(ApiError::UnexpectedStatus {
            status: status.as_u16(),
            message: None,
        }),
    }
}

/// `body` with every occurrence of `secret` replaced by `[redacted]`.
fn scrub(body: &[u8], secret: Option<&str>) -> Vec<u8> {
    let Some(secret) = secret.map(str::as_bytes).filter(|s| !s.is_empty()) else {
        return body.to_vec();
    };
    let mut out = Vec::with_capacity(body.len());
    let mut rest = body;
    while !rest.is_empty() {
        if rest.starts_with(secret) {
            out.extend_from_slice(b"[redacted]");
            rest = &rest[secret.len()..];
        } else {
            out.push(rest[0]);
            rest = &rest[1..];
        }
    }
    out
}

/// Server text as an error or status may hold it: on one line, without control or
/// invisible characters, at most `max` characters, with `secret` and every run shaped like
/// a token (an access token the server echoes, say) replaced by `[redacted]`. Normalised
/// first, then scrubbed, so that no control character can split a secret from the scrub.
fn server_text(text: &str, secret: Option<&str>, max: usize) -> String {
    let text = normalise(text);
    let text = match secret.filter(|s| !s.is_empty()) {
        Some(secret) => text.replace(secret, REDACTED),
        None => text,
    };
    scrub_token_shaped(&text).chars().take(max).collect()
}

/// Displays a list of stored files as a count.
struct Files(usize);

impl fmt::Display for Files {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            1 => f.write_str("1 file"),
            n => write!(f, "{n} files"),
        }
    }
}

#[cfg(test)]
mod tests;
