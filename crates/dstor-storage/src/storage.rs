//! The public handle: uploads and downloads against one dStor deployment.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use dstor_auth::{HttpTransport, RetryPolicy, TokenProvider};
use dstor_types::{BaseUrl, Cid};
use tokio::io::AsyncWrite;

use crate::report::{Downloaded, UploadReport};
use crate::{Download, StorageError, Upload, WaitPolicy};

/// Uploads files to dStor and reads them back, over any [`HttpTransport`].
///
/// Cheap to clone: clones share one stack. API requests (upload token, chunks, status) go
/// through the transport with `Authorization: Bearer` from the token provider, only to
/// the configured base URL; downloads go through the plain transport, with no credential on
/// any hop.
#[derive(Clone)]
pub struct Storage {
    inner: Arc<Inner>,
}

/// What a [`Storage`] holds.
pub(crate) struct Inner {
    /// The deployment.
    pub(crate) base: BaseUrl,
    /// The plain transport: downloads only.
    pub(crate) transport: Arc<dyn HttpTransport>,
    /// The authorized transport: API requests only.
    pub(crate) api: Arc<dyn HttpTransport>,
    /// How get-token, get-status and (on connect errors only) chunks are retried.
    pub(crate) retry: RetryPolicy,
    /// How the status is polled.
    pub(crate) wait: WaitPolicy,
}

impl Storage {
    /// A handle on the dStor at `base`, sending over `transport` with tokens from `tokens`.
    ///
    /// # Errors
    ///
    /// As [`StorageBuilder::build`].
    pub fn new(
        transport: impl HttpTransport + 'static,
        tokens: impl TokenProvider + 'static,
        base: BaseUrl,
    ) -> Result<Self, StorageError> {
        Self::builder(transport, tokens, base).build()
    }

    /// A builder, to set the retry and wait policies.
    pub fn builder(
        transport: impl HttpTransport + 'static,
        tokens: impl TokenProvider + 'static,
        base: BaseUrl,
    ) -> StorageBuilder {
        StorageBuilder {
            transport: Arc::new(transport),
            tokens: Arc::new(tokens),
            base,
            retry: RetryPolicy::default(),
            wait: WaitPolicy::default(),
        }
    }

    /// Uploads the files of `upload` under one upload token, waits until dStor reports
    /// them stored, and matches each local file to its stored CID.
    ///
    /// Every input is checked before the first request. Each file's CIDv0 is computed
    /// while it is sent, from the bytes sent. A file whose stored CID differs from the
    /// local one is reported in the [`UploadReport`], not hidden. dStor's answers are read
    /// within bounds of their own, whatever the transport's limit on a whole answer: the
    /// status of a stored upload lists every file, and its bound grows with their number
    /// and names.
    ///
    /// # Errors
    ///
    /// [`StorageError`]: bad input (before anything is sent), a request refused or not
    /// completed, a failed upload (`ERROR`), or the wait deadline passed (the upload may
    /// still complete on dStor's side).
    pub async fn upload(&self, upload: Upload) -> Result<UploadReport, StorageError> {
        let plan = upload.plan().await?;
        self.inner.upload(plan).await
    }

    /// Streams the content of `cid` from the gateway into `writer`, following up to five
    /// redirects (https only, except to loopback), and verifies its CID on the way.
    ///
    /// # Errors
    ///
    /// [`StorageError::CidMismatch`] when the bytes do not have that CID (the writer has
    /// seen them all), and any failure of the download.
    pub async fn download_to_writer<W>(
        &self,
        cid: &Cid,
        writer: &mut W,
    ) -> Result<Downloaded, StorageError>
    where
        W: AsyncWrite + Unpin + Send + ?Sized,
    {
        self.download_to_writer_with(cid, writer, &Download::new())
            .await
    }

    /// As [`Storage::download_to_writer`], with `options`: progress, and whether the bytes
    /// are verified ([`Download::verify`]).
    ///
    /// # Errors
    ///
    /// As [`Storage::download_to_writer`]; never [`StorageError::CidMismatch`] when
    /// verification is off.
    pub async fn download_to_writer_with<W>(
        &self,
        cid: &Cid,
        writer: &mut W,
        options: &Download,
    ) -> Result<Downloaded, StorageError>
    where
        W: AsyncWrite + Unpin + Send + ?Sized,
    {
        self.inner.download_to_writer(cid, writer, options).await
    }

    /// Downloads the content of `cid` into the file at `path`: written to a temporary file
    /// beside it and renamed to `path` (replacing any file there) only once its CID is
    /// verified, so another process sees either the old file or the whole new one. On any
    /// failure nothing is left under `path` or beside it, and a file already at `path` is
    /// untouched. The file is not synced to the disk (as `curl -o` and `ipfs get` do not):
    /// where it must survive a power loss, open it and call `File::sync_all` after this.
    ///
    /// A disk too small for the length the gateway declares fails the download before its
    /// first byte is written (on Linux, where the file system can tell).
    ///
    /// # Errors
    ///
    /// As [`Storage::download_to_writer`], and [`StorageError::Write`] when the file cannot
    /// be written; its source's kind is [`std::io::ErrorKind::StorageFull`],
    /// [`QuotaExceeded`](std::io::ErrorKind::QuotaExceeded) or
    /// [`FileTooLarge`](std::io::ErrorKind::FileTooLarge) when the file does not fit.
    pub async fn download_to_file(
        &self,
        cid: &Cid,
        path: impl AsRef<Path>,
    ) -> Result<Downloaded, StorageError> {
        self.download_to_file_with(cid, path, &Download::new())
            .await
    }

    /// As [`Storage::download_to_file`], with `options`: progress, and whether the bytes
    /// are verified. With [`Download::verify`]`(false)` the file is renamed to `path` once
    /// every byte is written, whatever their CID; on any other failure nothing is left
    /// under `path` or beside it, as with verification.
    ///
    /// # Errors
    ///
    /// As [`Storage::download_to_file`]; never [`StorageError::CidMismatch`] when
    /// verification is off.
    pub async fn download_to_file_with(
        &self,
        cid: &Cid,
        path: impl AsRef<Path>,
        options: &Download,
    ) -> Result<Downloaded, StorageError> {
        self.inner
            .download_to_file(cid, path.as_ref(), options)
            .await
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &BaseUrl {
        &self.inner.base
    }
}

impl fmt::Debug for Storage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Storage")
            .field("base", &self.inner.base)
            .field("transport", &self.inner.transport)
            .field("retry", &self.inner.retry)
            .field("wait", &self.inner.wait)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Storage`]: made by [`Storage::builder`].
#[must_use]
pub struct StorageBuilder {
    transport: Arc<dyn HttpTransport>,
    tokens: Arc<dyn TokenProvider>,
    base: BaseUrl,
    retry: RetryPolicy,
    wait: WaitPolicy,
}

impl StorageBuilder {
    /// How the upload-token and status requests are retried (as the token exchange is, by
    /// default). A chunk is sent again only when its connection could not be made, under
    /// the same policy.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// How the status is polled, and for how long.
    pub fn wait(mut self, policy: WaitPolicy) -> Self {
        self.wait = policy;
        self
    }

    /// The handle.
    ///
    /// # Errors
    ///
    /// [`StorageError::Endpoint`] when the base URL may not carry a token: plain `http` to
    /// a host that is not loopback. Nothing is sent.
    pub fn build(self) -> Result<Storage, StorageError> {
        let api = crate::authorize::authorized(
            Arc::clone(&self.transport),
            self.tokens,
            self.base.clone(),
        )?;
        Ok(Storage {
            inner: Arc::new(Inner {
                base: self.base,
                transport: self.transport,
                api,
                retry: self.retry,
                wait: self.wait,
            }),
        })
    }
}

impl fmt::Debug for StorageBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StorageBuilder")
            .field("base", &self.base)
            .field("retry", &self.retry)
            .field("wait", &self.wait)
            .finish_non_exhaustive()
    }
}
