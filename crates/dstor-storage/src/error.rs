//! The error every storage flow returns.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use dstor_auth::{AuthError, TransportError};
use dstor_types::{EndpointError, FileNameError, UploadApiError, UploadRequestError};

/// Why an upload or a download failed.
///
/// Messages are lowercase, say what was wrong and what to do, never repeat their source
/// (walk [`std::error::Error::source`] for it), and never hold a token: neither the access
/// token nor the upload token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// The upload holds no file.
    #[error("nothing to upload: add at least one file")]
    NoFiles,
    /// An option of the upload has a value that cannot be used.
    #[error("the upload option {option} cannot be used: {reason}")]
    InvalidOption {
        /// The option.
        option: &'static str,
        /// What is wrong with its value.
        reason: &'static str,
    },
    /// A path to upload does not exist.
    #[error("{path:?} does not exist: check the path")]
    Missing {
        /// The path.
        path: PathBuf,
    },
    /// A path to upload exists but cannot be read.
    #[error("{path:?} cannot be read: check its permissions")]
    Unreadable {
        /// The path.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A path is a directory (or another non-file) where a regular file is needed.
    #[error("{path:?} is not a regular file: give the path of a file")]
    NotAFile {
        /// The path.
        path: PathBuf,
    },
    /// A stored name that dStor cannot take safely.
    #[error(
        "the file name {name:?} cannot be stored: give a relative name without `.` or `..` segments"
    )]
    InvalidName {
        /// The name (at most 200 characters of it).
        name: String,
        /// What is wrong with it.
        #[source]
        source: FileNameError,
    },
    /// The folder path or the comment of the upload cannot be sent.
    #[error("the upload cannot be sent as configured")]
    InvalidUpload {
        /// What is wrong.
        #[source]
        source: UploadRequestError,
    },
    /// Two files of one upload would be stored under the same name.
    #[error("two files would be stored as {name:?}: give each file its own name")]
    DuplicateName {
        /// The name.
        name: String,
    },
    /// A file to upload could not be read, or its length changed, while it was sent.
    #[error("{name:?} could not be read while it was sent: {reason}")]
    Read {
        /// The stored name of the file.
        name: String,
        /// What happened.
        reason: String,
        /// The I/O error, if there was one.
        #[source]
        source: Option<io::Error>,
    },
    /// The base URL may not carry the access or upload token (plain `http` to a host that
    /// is not loopback), or is not one a token can be kept to. Found when the handle is
    /// built, before anything is sent.
    #[error("no storage handle can be built for this endpoint")]
    Endpoint(#[source] EndpointError),
    /// No access token could be had.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// A request did not complete.
    #[error("{stage} did not complete")]
    Transport {
        /// Which request.
        stage: Stage,
        /// Why.
        #[source]
        source: TransportError,
    },
    /// dStor answered a request with an error status, or with a body this SDK cannot read.
    #[error("dStor refused {stage}{}", status_of(.source))]
    Api {
        /// Which request.
        stage: Stage,
        /// How dStor answered (its words scrubbed of the upload token).
        #[source]
        source: UploadApiError,
    },
    /// dStor accepted a chunk before every byte of it was sent.
    #[error("dStor accepted chunk {chunk} before {name:?} was sent in full: upload it again")]
    SentIncomplete {
        /// The 1-based chunk number.
        chunk: usize,
        /// The file cut short.
        name: String,
    },
    /// A chunk was larger than dStor accepts (413).
    #[error(
        "chunk {chunk} ({bytes} bytes) is larger than dStor accepts (413): send fewer files per chunk, or smaller files"
    )]
    TooLarge {
        /// The 1-based chunk number.
        chunk: usize,
        /// Its body length in bytes.
        bytes: u64,
    },
    /// dStor reported that storing the upload failed.
    #[error("dStor could not store the upload: {explanation} (at stage {stage})")]
    UploadFailed {
        /// dStor's explanation (`errorExplanation`).
        explanation: String,
        /// The stage that failed (`errorAtStage`).
        stage: String,
    },
    /// The upload was not stored within the wait deadline.
    #[error(
        "the upload was not stored within {waited:?} (last status: {}): it may still complete on dStor's side; the local CIDs of its files are known, so check them on the gateway later or wait longer",
        .last_status.as_deref().unwrap_or("none yet")
    )]
    DeadlinePassed {
        /// How long the status was polled.
        waited: Duration,
        /// The last status dStor reported.
        last_status: Option<String>,
        /// Each file's stored name and local CID (as text), in upload order.
        files: Vec<(String, String)>,
    },
    /// dStor stored the upload, but not every file under the CID computed locally.
    #[error(
        "{} file(s) were not stored under their local CID, the first {:?}: compare the local and stored CIDs, and upload again",
        .files.len(), .files.first().map(|f| f.0.as_str()).unwrap_or_default()
    )]
    NotVerified {
        /// Each such file's stored name, local CID and stored CID (if dStor listed it).
        files: Vec<(String, String, Option<String>)>,
    },
    /// A CID this SDK cannot verify a download against (only CIDv0, `Qm…`, can be).
    #[error("{cid} is not a CIDv0 (Qm…): only CIDv0 downloads can be verified")]
    UnsupportedCid {
        /// The CID.
        cid: String,
    },
    /// A download was redirected somewhere it may not go, or too often.
    #[error("the download was redirected unsafely: {reason}")]
    Redirect {
        /// What was wrong.
        reason: &'static str,
    },
    /// The gateway answered a download with an error status.
    #[error("the gateway could not serve {cid} ({status}): check the CID and the environment")]
    NotServed {
        /// The CID asked for.
        cid: String,
        /// The HTTP status.
        status: u16,
    },
    /// The bytes downloaded do not have the CID asked for. Nothing was kept under the
    /// target file's name.
    #[error(
        "the gateway served bytes whose CID is {actual}, not {expected}: the content was not kept"
    )]
    CidMismatch {
        /// The CID asked for.
        expected: String,
        /// The CID of what was served.
        actual: String,
    },
    /// A download could not be written.
    #[error("the download could not be written{}", at(.path))]
    Write {
        /// The file or directory written, if it is one.
        path: Option<PathBuf>,
        /// Why.
        #[source]
        source: io::Error,
    },
}

impl StorageError {
    /// Whether trying the same call again later may succeed: a request that did not
    /// complete, a throttled or failing service, or a missed deadline. Bad input never is.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Auth(e) => e.is_retryable(),
            Self::Transport { source, .. } => source.is_retryable(),
            Self::Api { source, .. } => source.is_retryable(),
            Self::DeadlinePassed { .. } => true,
            _ => false,
        }
    }

    /// How long dStor asked the client to wait before trying again, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Auth(e) => e.retry_after(),
            Self::Api {
                source: UploadApiError::Api(e),
                ..
            } => e.retry_after(),
            _ => None,
        }
    }

    /// Whether the input (a path, a name, an option, the endpoint) is at fault, found
    /// before anything was sent.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            Self::NoFiles
                | Self::Endpoint(_)
                | Self::InvalidOption { .. }
                | Self::Missing { .. }
                | Self::Unreadable { .. }
                | Self::NotAFile { .. }
                | Self::InvalidName { .. }
                | Self::InvalidUpload { .. }
                | Self::DuplicateName { .. }
        )
    }
}

/// A transport's failure of the request of `stage`: the token provider's own error when
/// no token could be had.
pub(crate) fn from_transport(stage: Stage, source: TransportError) -> StorageError {
    match source.auth_error() {
        Some(auth) => StorageError::Auth(auth.clone()),
        None => StorageError::Transport { stage, source },
    }
}

/// A request of the storage flows, named in errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stage {
    /// `POST /v1/upload/get-token/`.
    UploadToken,
    /// `POST /v1/upload/`, chunk `n` (1-based).
    Chunk(usize),
    /// `GET /v1/upload/get-status/`.
    Status,
    /// `GET /ipfs/<cid>` and its redirects.
    Download,
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UploadToken => f.write_str("the upload-token request"),
            Self::Chunk(n) => write!(f, "the upload of chunk {n}"),
            Self::Status => f.write_str("the upload-status request"),
            Self::Download => f.write_str("the download"),
        }
    }
}

struct StatusOf(Option<u16>);

impl std::fmt::Display for StatusOf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(status) => write!(f, " ({status})"),
            None => f.write_str(" with an answer that cannot be read"),
        }
    }
}

fn status_of(error: &UploadApiError) -> StatusOf {
    StatusOf(error.status())
}

struct At<'a>(&'a Option<PathBuf>);

impl std::fmt::Display for At<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(p) => write!(
                f,
                " to {p:?}: check the path, its permissions and the free space"
            ),
            None => f.write_str(": check the writer"),
        }
    }
}

fn at(path: &Option<PathBuf>) -> At<'_> {
    At(path)
}
