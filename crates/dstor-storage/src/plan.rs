//! What to upload: the [`Upload`] builder, checked into a [`Plan`] before any request.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use dstor_types::{
    ChunkRequest, Environment, FileName, Multipart, UploadToken, UploadTokenRequest,
};
use tokio::io::AsyncRead;

use crate::StorageError;
use crate::progress::{Progress, ProgressFn};

/// The default number of files sent in one chunk (one `POST /v1/upload/`).
pub const DEFAULT_FILES_PER_CHUNK: usize = 100;

/// The default folder the files are stored in.
pub const DEFAULT_FOLDER_PATH: &str = "/";

/// An upload of one or more files: paths, in-memory bytes, or async readers of a known
/// length, sent under one upload token.
///
/// Nothing is read or sent when the upload is built. When it starts, every path is
/// checked first (it exists, is a regular file, can be opened), and every name too, so
/// that bad input fails before the first request.
///
/// ```
/// use dstor_storage::Upload;
///
/// let upload = Upload::new()
///     .bytes("hello.txt", "hello\n")
///     .files_per_chunk(50)
///     .folder_path("/reports")
///     .comment("nightly run");
/// assert_eq!(upload.len(), 1);
/// ```
#[must_use]
pub struct Upload {
    pub(crate) sources: Vec<Source>,
    pub(crate) files_per_chunk: usize,
    pub(crate) folder_path: String,
    pub(crate) comment: Option<String>,
    pub(crate) progress: Option<ProgressFn>,
}

impl Default for Upload {
    fn default() -> Self {
        Self::new()
    }
}

impl Upload {
    /// An upload of no files yet, with the defaults: at most
    /// [`DEFAULT_FILES_PER_CHUNK`] files per chunk, stored under `/`, no comment.
    pub fn new() -> Self {
        Self {
            sources: Vec::new(),
            files_per_chunk: DEFAULT_FILES_PER_CHUNK,
            folder_path: DEFAULT_FOLDER_PATH.to_owned(),
            comment: None,
            progress: None,
        }
    }

    /// Adds the file at `path`, stored under its file name. It is streamed from disk, never
    /// held whole in memory, and reopened if the chunk must be sent again.
    pub fn file(self, path: impl Into<PathBuf>) -> Self {
        self.push(Source::Path {
            path: path.into(),
            name: None,
        })
    }

    /// Adds the file at `path`, stored as `name`.
    pub fn file_as(self, path: impl Into<PathBuf>, name: impl Into<String>) -> Self {
        self.push(Source::Path {
            path: path.into(),
            name: Some(name.into()),
        })
    }

    /// Adds `data`, stored as `name`.
    pub fn bytes(self, name: impl Into<String>, data: impl Into<Bytes>) -> Self {
        self.push(Source::Bytes {
            name: name.into(),
            data: data.into(),
        })
    }

    /// Adds what `reader` yields, stored as `name`. It must yield exactly `len` bytes (the
    /// multipart body declares its length up front); fewer or more is an error. A reader
    /// can be read only once, so a chunk holding one is never sent twice.
    pub fn reader(
        self,
        name: impl Into<String>,
        len: u64,
        reader: impl AsyncRead + Send + Unpin + 'static,
    ) -> Self {
        self.push(Source::Reader {
            name: name.into(),
            len,
            reader: Arc::new(Mutex::new(Some(Box::new(reader)))),
        })
    }

    /// Sets the largest number of files sent in one chunk (one request). Must be at least
    /// one.
    pub fn files_per_chunk(mut self, n: usize) -> Self {
        self.files_per_chunk = n;
        self
    }

    /// Sets the folder the files are stored in (default `/`).
    pub fn folder_path(mut self, path: impl Into<String>) -> Self {
        self.folder_path = path.into();
        self
    }

    /// Sets a comment sent with every chunk (`x-dstor-comment`).
    pub fn comment(mut self, comment: impl Into<String>) -> Self {
        self.comment = Some(comment.into());
        self
    }

    /// Calls `f` with every [`Progress`] event: bytes sent per file, each chunk sent, then
    /// each status phase. To get a channel instead, send the events into one from `f`.
    pub fn on_progress(mut self, f: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    /// The number of files added.
    pub fn len(&self) -> usize {
        self.sources.len()
    }

    /// Whether no file was added.
    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }

    fn push(mut self, source: Source) -> Self {
        self.sources.push(source);
        self
    }

    /// Checks every input and groups the files into chunks, touching the disk only to
    /// inspect the paths.
    ///
    /// # Errors
    ///
    /// [`StorageError`] naming the first input that cannot be uploaded.
    pub async fn plan(self) -> Result<Plan, StorageError> {
        if self.sources.is_empty() {
            return Err(StorageError::NoFiles);
        }
        if self.files_per_chunk == 0 {
            return Err(StorageError::InvalidOption {
                option: "files_per_chunk",
                reason: "it must be at least 1",
            });
        }
        check_options(&self.folder_path, self.comment.as_deref())?;
        let mut files = Vec::with_capacity(self.sources.len());
        for (index, source) in self.sources.into_iter().enumerate() {
            let mut file = check(source).await?;
            file.index = index;
            files.push(file);
        }
        let mut names: Vec<&str> = files.iter().map(|f| f.label.as_ref()).collect();
        names.sort_unstable();
        if let Some(pair) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(StorageError::DuplicateName {
                name: pair[0].to_owned(),
            });
        }
        let files: Vec<Arc<PlannedFile>> = files.into_iter().map(Arc::new).collect();
        let chunks = files
            .chunks(self.files_per_chunk)
            .map(<[Arc<PlannedFile>]>::to_vec)
            .collect();
        Ok(Plan {
            files,
            chunks,
            folder_path: self.folder_path,
            comment: self.comment,
            progress: self.progress,
        })
    }
}

impl fmt::Debug for Upload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upload")
            .field("files", &self.sources)
            .field("files_per_chunk", &self.files_per_chunk)
            .field("folder_path", &self.folder_path)
            .field("comment", &self.comment)
            .finish_non_exhaustive()
    }
}

/// An upload checked and grouped into chunks, ready to send.
pub struct Plan {
    pub(crate) files: Vec<Arc<PlannedFile>>,
    pub(crate) chunks: Vec<Vec<Arc<PlannedFile>>>,
    pub(crate) folder_path: String,
    pub(crate) comment: Option<String>,
    pub(crate) progress: Option<ProgressFn>,
}

impl fmt::Debug for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Plan")
            .field("files", &self.files)
            .field("chunks_number", &self.chunks.len())
            .field("folder_path", &self.folder_path)
            .field("comment", &self.comment)
            .finish_non_exhaustive()
    }
}

impl Plan {
    /// The number of chunks, which is the number of upload requests (`chunks_number`).
    pub fn chunks_number(&self) -> usize {
        self.chunks.len()
    }

    /// The stored names of the files of each chunk, in order.
    pub fn chunk_names(&self) -> Vec<Vec<&str>> {
        self.chunks
            .iter()
            .map(|c| c.iter().map(|f| f.label.as_ref()).collect())
            .collect()
    }

    /// The number of files.
    pub fn files(&self) -> usize {
        self.files.len()
    }

    /// The total number of bytes of all files.
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.len).sum()
    }

    pub(crate) fn emit(&self, event: &Progress) {
        if let Some(f) = &self.progress {
            f(event);
        }
    }
}

/// One input as the user gave it.
pub(crate) enum Source {
    Path {
        path: PathBuf,
        name: Option<String>,
    },
    Bytes {
        name: String,
        data: Bytes,
    },
    Reader {
        name: String,
        len: u64,
        reader: SharedReader,
    },
}

/// A reader that can be taken once.
pub(crate) type SharedReader = Arc<Mutex<Option<Box<dyn AsyncRead + Send + Unpin>>>>;

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Path { path, name } => f
                .debug_struct("Path")
                .field("path", path)
                .field("name", name)
                .finish(),
            Self::Bytes { name, data } => f
                .debug_struct("Bytes")
                .field("name", name)
                .field("len", &data.len())
                .finish(),
            Self::Reader { name, len, .. } => f
                .debug_struct("Reader")
                .field("name", name)
                .field("len", len)
                .finish(),
        }
    }
}

/// One checked file of a plan.
#[derive(Debug)]
pub(crate) struct PlannedFile {
    /// The stored name.
    pub(crate) name: FileName,
    /// The same, shared with progress events.
    pub(crate) label: Arc<str>,
    /// Its length in bytes.
    pub(crate) len: u64,
    /// Its 0-based position among all files of the upload.
    pub(crate) index: usize,
    pub(crate) data: FileData,
}

/// Where a planned file's bytes come from.
pub(crate) enum FileData {
    /// Reopened each time the chunk is sent.
    Path(PathBuf),
    /// Cheap to send again.
    Bytes(Bytes),
    /// Read once.
    Reader(SharedReader),
}

impl fmt::Debug for FileData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Path(path) => f.debug_tuple("Path").field(path).finish(),
            Self::Bytes(data) => f.debug_tuple("Bytes").field(&data.len()).finish(),
            Self::Reader(_) => f.write_str("Reader"),
        }
    }
}

impl PlannedFile {
    /// The file's local path, if it is one.
    pub(crate) fn path(&self) -> Option<&Path> {
        match &self.data {
            FileData::Path(path) => Some(path),
            _ => None,
        }
    }

    /// Whether its bytes can be produced again.
    pub(crate) fn replayable(&self) -> bool {
        !matches!(self.data, FileData::Reader(_))
    }
}

/// Checks one input: a path exists, is a regular file and opens; a name is acceptable.
async fn check(source: Source) -> Result<PlannedFile, StorageError> {
    let (name, len, data) = match source {
        Source::Path { path, name } => {
            let len = check_path(&path).await?;
            let name = match name {
                Some(name) => name,
                None => path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .ok_or_else(|| StorageError::NotAFile { path: path.clone() })?,
            };
            (name, len, FileData::Path(path))
        }
        Source::Bytes { name, data } => (name, data.len() as u64, FileData::Bytes(data)),
        Source::Reader { name, len, reader } => (name, len, FileData::Reader(reader)),
    };
    let checked = FileName::new(name.as_str()).map_err(|source| StorageError::InvalidName {
        name: name.chars().take(200).collect(),
        source,
    })?;
    Ok(PlannedFile {
        name: checked,
        label: name.into(),
        len,
        index: 0,
        data,
    })
}

/// The length of the regular file at `path`, which must open for reading.
async fn check_path(path: &Path) -> Result<u64, StorageError> {
    let meta = tokio::fs::metadata(path)
        .await
        .map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => StorageError::Missing {
                path: path.to_path_buf(),
            },
            _ => StorageError::Unreadable {
                path: path.to_path_buf(),
                source: e,
            },
        })?;
    if !meta.is_file() {
        return Err(StorageError::NotAFile {
            path: path.to_path_buf(),
        });
    }
    tokio::fs::File::open(path)
        .await
        .map_err(|e| StorageError::Unreadable {
            path: path.to_path_buf(),
            source: e,
        })?;
    Ok(meta.len())
}

/// Checks the folder path and the comment by the rules of the requests that carry them,
/// so that they fail before the first request.
fn check_options(folder_path: &str, comment: Option<&str>) -> Result<(), StorageError> {
    let invalid = |source| StorageError::InvalidUpload { source };
    let base = Environment::Production.base_url();
    UploadTokenRequest::new(base.clone(), 1)
        .and_then(|r| r.folder_path(folder_path))
        .map_err(invalid)?;
    if let Some(comment) = comment {
        // Any token does: only the comment is checked.
        let token = UploadToken::new("check").map_err(|_| StorageError::InvalidOption {
            option: "comment",
            reason: "it cannot be checked",
        })?;
        ChunkRequest::new(base, token, Multipart::new())
            .comment(comment)
            .map_err(invalid)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
