//! `POST /v1/upload/`: one request per chunk of files.

use http::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE, USER_AGENT as USER_AGENT_HEADER};
use http::{HeaderValue, Method, Request};

use super::multipart::Multipart;
use super::upload_token::UploadToken;
use super::{
    COMMENT_HEADER, UPLOAD_PATH, UPLOAD_TOKEN_HEADER, UploadApiError, UploadRequestError, endpoint,
    status_error,
};
use crate::environment::BaseUrl;
use crate::request::USER_AGENT;

/// The longest comment accepted, in characters.
pub const MAX_COMMENT_LEN: usize = 1024;

/// The head of one chunk request, `POST {base}/v1/upload/` with the upload token, the
/// optional comment and the multipart content type; the caller brings the body (see
/// [`Multipart`]), which may stream, and its authorized transport adds `Authorization`.
///
/// ```
/// use dstor_types::{ChunkRequest, Environment, Multipart, UploadToken};
///
/// let chunk = ChunkRequest::new(
///     Environment::Testnet.base_url(),
///     UploadToken::new("u-123")?,
///     Multipart::new(),
/// )
/// .comment("nightly backup")?;
/// let request = chunk.to_http(Vec::<u8>::new(), Some(0))?;
/// assert_eq!(request.uri(), "https://api.testnet.dstor.cloud/v1/upload/");
/// assert_eq!(request.headers()["x-dstor-comment"], "nightly backup");
/// assert!(request.headers()["x-dstor-upload-token"].is_sensitive());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct ChunkRequest {
    base: BaseUrl,
    token: UploadToken,
    multipart: Multipart,
    comment: Option<HeaderValue>,
}

impl ChunkRequest {
    /// A chunk of the upload `token` stands for, framed by `multipart`.
    pub fn new(base: BaseUrl, token: UploadToken, multipart: Multipart) -> Self {
        Self {
            base,
            token,
            multipart,
            comment: None,
        }
    }

    /// Sends `comment` (trimmed) as `x-dstor-comment`; an empty one sends none.
    ///
    /// # Errors
    ///
    /// [`UploadRequestError::InvalidComment`] for a character other than visible ASCII and
    /// spaces (a header cannot carry a line break, and carries non-ASCII unreliably);
    /// [`UploadRequestError::CommentTooLong`] past [`MAX_COMMENT_LEN`].
    pub fn comment(mut self, comment: &str) -> Result<Self, UploadRequestError> {
        let comment = comment.trim();
        let len = comment.chars().count();
        if len > MAX_COMMENT_LEN {
            return Err(UploadRequestError::CommentTooLong { len });
        }
        if let Some(position) = comment
            .chars()
            .position(|c| !(c == ' ' || c.is_ascii_graphic()))
        {
            return Err(UploadRequestError::InvalidComment {
                position: position + 1,
            });
        }
        self.comment = if comment.is_empty() {
            None
        } else {
            Some(
                HeaderValue::try_from(comment)
                    .map_err(|_| UploadRequestError::InvalidComment { position: 1 })?,
            )
        };
        Ok(self)
    }

    /// The framing the body must use.
    pub fn multipart(&self) -> &Multipart {
        &self.multipart
    }

    /// The request with `body`; `content_length` (see [`Multipart::body_len`]) when known.
    ///
    /// # Errors
    ///
    /// [`UploadRequestError::Endpoint`], never for a validated base URL.
    pub fn to_http<B>(
        &self,
        body: B,
        content_length: Option<u64>,
    ) -> Result<Request<B>, UploadRequestError> {
        let mut request = Request::new(body);
        *request.method_mut() = Method::POST;
        *request.uri_mut() = endpoint(&self.base, UPLOAD_PATH)?;
        let headers = request.headers_mut();
        headers.insert(UPLOAD_TOKEN_HEADER, self.token.header_value());
        if let Some(comment) = &self.comment {
            headers.insert(COMMENT_HEADER, comment.clone());
        }
        headers.insert(CONTENT_TYPE, self.multipart.content_type());
        if let Some(len) = content_length {
            headers.insert(CONTENT_LENGTH, HeaderValue::from(len));
        }
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        headers.insert(USER_AGENT_HEADER, HeaderValue::from_static(USER_AGENT));
        Ok(request)
    }

    /// Reads the answer. Only its status counts (the body is not documented).
    ///
    /// # Errors
    ///
    /// [`UploadApiError::TooLarge`] for 413, [`UploadApiError::Api`] for any other status
    /// that is not success, with the upload token scrubbed from the server's words.
    pub fn parse_response<B: AsRef<[u8]>>(
        &self,
        response: &http::Response<B>,
    ) -> Result<(), UploadApiError> {
        if response.status().is_success() {
            return Ok(());
        }
        Err(status_error(response, Some(self.token.expose_secret())))
    }
}
