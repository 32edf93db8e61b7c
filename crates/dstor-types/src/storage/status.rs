//! `GET /v1/upload/get-status/` and the status it gives.

use std::fmt;

use http::header::{ACCEPT, CACHE_CONTROL, USER_AGENT as USER_AGENT_HEADER};
use http::{HeaderValue, Method, Request};
use serde_json::{Map, Value};

use super::upload_token::UploadToken;
use super::{
    BodyError, Files, UPLOAD_STATUS_PATH, UPLOAD_TOKEN_HEADER, UploadApiError, UploadRequestError,
    endpoint, server_text, status_error,
};
use crate::cid::Cid;
use crate::environment::BaseUrl;
use crate::request::USER_AGENT;

/// The most characters kept of a server's explanation, stage or unknown status.
const MAX_TEXT: usize = 200;

/// The request for an upload's status: `GET {base}/v1/upload/get-status/` with the upload
/// token (the caller's authorized transport adds `Authorization`).
///
/// ```
/// use dstor_types::{Environment, StatusRequest, UploadStatus, UploadToken};
///
/// let token = UploadToken::new("u-123")?;
/// let status = StatusRequest::new(Environment::Testnet.base_url(), token);
/// let request = status.to_http()?;
/// assert!(request.headers()["x-dstor-upload-token"].is_sensitive());
///
/// let answer = http::Response::builder().status(200).body(
///     br#"{"status":"DONE","data":[{"Hash":"QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN","Name":"hello.txt"}]}"#.to_vec(),
/// )?;
/// let UploadStatus::Done(files) = status.parse_response(&answer)? else { panic!() };
/// assert_eq!(files[0].name, "hello.txt");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct StatusRequest {
    base: BaseUrl,
    token: UploadToken,
}

impl StatusRequest {
    /// The status request of the upload `token` stands for.
    pub fn new(base: BaseUrl, token: UploadToken) -> Self {
        Self { base, token }
    }

    /// The `http::Request` to send.
    ///
    /// # Errors
    ///
    /// [`UploadRequestError::Endpoint`], never for a validated base URL.
    pub fn to_http(&self) -> Result<Request<Vec<u8>>, UploadRequestError> {
        let mut request = Request::new(Vec::new());
        *request.method_mut() = Method::GET;
        *request.uri_mut() = endpoint(&self.base, UPLOAD_STATUS_PATH)?;
        let headers = request.headers_mut();
        headers.insert(UPLOAD_TOKEN_HEADER, self.token.header_value());
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(USER_AGENT_HEADER, HeaderValue::from_static(USER_AGENT));
        Ok(request)
    }

    /// Reads the answer, with the upload token scrubbed from any text it keeps.
    ///
    /// # Errors
    ///
    /// [`UploadApiError`]: a status that is not success, or a body [`parse_status`] refuses.
    pub fn parse_response<B: AsRef<[u8]>>(
        &self,
        response: &http::Response<B>,
    ) -> Result<UploadStatus, UploadApiError> {
        let secret = Some(self.token.expose_secret());
        if !response.status().is_success() {
            return Err(status_error(response, secret));
        }
        read(response.body().as_ref(), secret).map_err(|reason| UploadApiError::InvalidBody {
            endpoint: UPLOAD_STATUS_PATH,
            reason,
        })
    }
}

/// Where an upload is, as `get-status` says.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UploadStatus {
    /// `ADDING_TO_IPFS`: every chunk arrived and the files are being added.
    AddingToIpfs,
    /// `SAVING_DATA`: the files are in IPFS and being recorded.
    SavingData,
    /// `DONE`: the files are stored.
    Done(Vec<StoredFile>),
    /// `ERROR`: the upload failed.
    Error {
        /// `errorExplanation`, if given.
        explanation: Option<String>,
        /// `errorAtStage`, if given.
        stage: Option<String>,
    },
    /// A status this SDK does not know: still in progress, not an error.
    Other(String),
}

impl UploadStatus {
    /// Whether the upload is over: `DONE` or `ERROR`.
    pub fn is_finished(&self) -> bool {
        matches!(self, Self::Done(_) | Self::Error { .. })
    }
}

impl fmt::Display for UploadStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AddingToIpfs => f.write_str("adding to IPFS"),
            Self::SavingData => f.write_str("saving data"),
            Self::Done(files) => write!(f, "done ({})", Files(files.len())),
            Self::Error { explanation, stage } => {
                f.write_str("failed")?;
                if let Some(stage) = stage {
                    write!(f, " at stage {stage:?}")?;
                }
                if let Some(explanation) = explanation {
                    write!(f, ": {explanation}")?;
                }
                Ok(())
            }
            Self::Other(status) => write!(f, "in progress ({status:?})"),
        }
    }
}

/// A file dStor stored: its `Hash` and `Name`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoredFile {
    /// The CID of the content.
    pub hash: Cid,
    /// The name it was stored under, as dStor gives it.
    pub name: String,
}

impl StoredFile {
    /// A stored file.
    pub fn new(hash: Cid, name: impl Into<String>) -> Self {
        Self {
            hash,
            name: name.into(),
        }
    }
}

/// Reads the body of a `get-status` answer.
///
/// `status` is matched without regard to case. On `DONE`, `data` must be an array of objects
/// with a CID `Hash` and a string `Name`; on `ERROR`, `errorExplanation` and `errorAtStage`
/// are kept (on one line, at most 200 characters each) when present. Any other status is
/// [`UploadStatus::Other`].
///
/// # Errors
///
/// [`BodyError`] for a body that is not such an object; it never holds the body.
pub fn parse_status(body: &[u8]) -> Result<UploadStatus, BodyError> {
    read(body, None)
}

fn read(body: &[u8], secret: Option<&str>) -> Result<UploadStatus, BodyError> {
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
        return Err(BodyError::NotJson);
    };
    let status = match map.get("status") {
        Some(Value::String(s)) => s,
        None | Some(Value::Null) => return Err(BodyError::Missing("status")),
        Some(_) => return Err(wrong("status", "a string")),
    };
    Ok(match status.to_ascii_uppercase().as_str() {
        "ADDING_TO_IPFS" => UploadStatus::AddingToIpfs,
        "SAVING_DATA" => UploadStatus::SavingData,
        "DONE" => UploadStatus::Done(stored_files(&map)?),
        "ERROR" => UploadStatus::Error {
            explanation: text(&map, "errorExplanation", secret),
            stage: text(&map, "errorAtStage", secret),
        },
        _ => UploadStatus::Other(server_text(status, secret, MAX_TEXT)),
    })
}

fn stored_files(map: &Map<String, Value>) -> Result<Vec<StoredFile>, BodyError> {
    let files = match map.get("data") {
        Some(Value::Array(files)) => files,
        None | Some(Value::Null) => return Err(BodyError::Missing("data")),
        Some(_) => return Err(wrong("data", "an array")),
    };
    files
        .iter()
        .enumerate()
        .map(|(index, file)| {
            let Value::Object(file) = file else {
                return Err(wrong(&format!("data[{index}]"), "an object"));
            };
            let hash = match file.get("Hash") {
                Some(Value::String(hash)) => {
                    Cid::parse(hash).map_err(|error| BodyError::BadHash { index, error })?
                }
                _ => return Err(wrong(&format!("data[{index}].Hash"), "a string")),
            };
            let name = match file.get("Name") {
                Some(Value::String(name)) => name.clone(),
                _ => return Err(wrong(&format!("data[{index}].Name"), "a string")),
            };
            Ok(StoredFile { hash, name })
        })
        .collect()
}

/// A field of the server's own words: a string, or other JSON as its text.
fn text(map: &Map<String, Value>, field: &str, secret: Option<&str>) -> Option<String> {
    let text = match map.get(field)? {
        Value::Null => return None,
        Value::String(s) => server_text(s, secret, MAX_TEXT),
        other => server_text(&other.to_string(), secret, MAX_TEXT),
    };
    (!text.is_empty()).then_some(text)
}

fn wrong(field: &str, expected: &'static str) -> BodyError {
    BodyError::WrongType {
        field: field.to_owned(),
        expected,
    }
}
