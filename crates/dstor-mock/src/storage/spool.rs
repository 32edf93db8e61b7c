//! Chunks streamed to spool files.

use std::io;
use std::path::{Path, PathBuf};

use http::{Response, StatusCode};
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use tokio::io::AsyncWriteExt as _;

use super::cid::CidV0;
use super::state::Storage;
use crate::body::MockBody;
use crate::service::message;

/// The write buffer of a spool file: few, large writes.
const WRITE_BUFFER: usize = 1024 * 1024;

/// One file part received and spooled.
#[derive(Debug)]
pub(crate) struct Received {
    pub(crate) name: String,
    pub(crate) cid: String,
    pub(crate) size: u64,
    pub(crate) path: PathBuf,
}

/// Why a chunk was refused: the status and the message to answer with.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
}

impl Refusal {
    /// A refusal with this status and message.
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// A `400` with this message.
    pub(crate) fn bad(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// The JSON answer `{"message": …}`.
    pub(crate) fn answer(&self) -> Response<MockBody> {
        message(self.status, &self.message)
    }
}

impl From<multer::Error> for Refusal {
    fn from(error: multer::Error) -> Self {
        match error {
            multer::Error::StreamSizeExceeded { limit } => Self {
                status: StatusCode::PAYLOAD_TOO_LARGE,
                message: format!(
                    "the chunk is larger than {limit} bytes: send fewer or smaller files per chunk"
                ),
            },
            other => Self::bad(format!("malformed multipart body: {other}")),
        }
    }
}

/// Reads a `multipart/form-data` body, writing each file part to a fresh
/// spool file while computing its CID. Memory stays bounded by one CID chunk
/// and the parser's buffer, whatever the size of the files.
///
/// On any refusal, the files spooled so far are removed.
pub(crate) async fn receive(
    storage: &Storage,
    body: Incoming,
    boundary: String,
) -> Result<Vec<Received>, Refusal> {
    let constraints = multer::Constraints::new()
        .size_limit(multer::SizeLimit::new().whole_stream(storage.max_upload_bytes));
    let mut multipart =
        multer::Multipart::with_constraints(body.into_data_stream(), boundary, constraints);
    let mut files = Vec::new();
    let result = async {
        while let Some(field) = multipart.next_field().await? {
            let Some(name) = field.file_name().map(str::to_owned) else {
                return Err(Refusal::bad(format!(
                    "part {} has no filename: every part must be a file",
                    files.len() + 1
                )));
            };
            let path = storage.spool_path();
            let spooled = spool(field, &path, &storage.spare_path()).await;
            match spooled {
                Ok((cid, size)) => files.push(Received {
                    name,
                    cid,
                    size,
                    path,
                }),
                Err(refusal) => {
                    let _ = tokio::fs::remove_file(&path).await;
                    return Err(refusal);
                }
            }
        }
        if files.is_empty() {
            return Err(Refusal::bad("the chunk holds no file part"));
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Ok(files),
        Err(refusal) => {
            remove(files.into_iter().map(|file| file.path).collect()).await;
            Err(refusal)
        }
    }
}

/// Keeps one of `copies` (spool files of content kept already) as the spare, replacing any
/// spare there, and removes the others.
pub(crate) async fn recycle(storage: &Storage, mut copies: Vec<PathBuf>) {
    if let Some(copy) = copies.pop()
        && tokio::fs::rename(&copy, storage.spare_path())
            .await
            .is_err()
    {
        copies.push(copy);
    }
    remove(copies).await;
}

/// Removes the spool files at `paths`, if they are there.
pub(crate) async fn remove(paths: Vec<PathBuf>) {
    for path in paths {
        let _ = tokio::fs::remove_file(path).await;
    }
}

/// Writes one part to `path`, over the bytes of the file at `spare` if one is there (renamed
/// to `path`: of parts received at once, one gets it); returns its CID and length.
async fn spool(
    mut field: multer::Field<'static>,
    path: &Path,
    spare: &Path,
) -> Result<(String, u64), Refusal> {
    let io_refusal = |error: io::Error| Refusal {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        message: format!("cannot spool the file: {error}"),
    };
    // Without a spare, the part goes to a new file.
    let _ = tokio::fs::rename(spare, path).await;
    // Not truncated: the spare's pages are rewritten, and what is left past the end cut.
    let file = tokio::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .await
        .map_err(io_refusal)?;
    let mut file = tokio::io::BufWriter::with_capacity(WRITE_BUFFER, file);
    let mut cid = CidV0::new();
    let mut size = 0u64;
    while let Some(bytes) = field.chunk().await? {
        cid.update(&bytes);
        size += bytes.len() as u64;
        file.write_all(&bytes).await.map_err(io_refusal)?;
    }
    file.flush().await.map_err(io_refusal)?;
    file.get_mut().set_len(size).await.map_err(io_refusal)?;
    Ok((cid.finish(), size))
}

/// Reads and drops a request body, at most `limit` bytes of it.
pub(crate) async fn drain(mut body: Incoming, limit: u64) {
    let mut seen = 0u64;
    while seen <= limit {
        match body.frame().await {
            Some(Ok(frame)) => {
                seen += frame.data_ref().map_or(0, |data| data.len() as u64);
            }
            _ => break,
        }
    }
}
