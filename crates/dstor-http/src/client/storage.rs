//! Uploads and downloads through a `DstorClient`: `dstor-storage`'s flows on this client's
//! transport and token cache.

use std::path::Path;

use dstor_storage::{Downloaded, Storage, StorageError, Upload, UploadReport, WaitPolicy};
use dstor_types::Cid;
use tokio::io::AsyncWrite;

use super::DstorClient;
use crate::ReqwestTransport;

impl DstorClient {
    /// The storage flows on this client: its transport, its cached access tokens, its
    /// environment, its retry policy, and `wait` for polling the upload status (the
    /// default: 250 ms doubling to 2 s, for at most 10 minutes).
    ///
    /// # Errors
    ///
    /// [`StorageError::Endpoint`] when the environment's base URL may not carry a token
    /// (the client's builder refuses such an endpoint already).
    pub fn storage(&self, wait: WaitPolicy) -> Result<Storage, StorageError> {
        Storage::builder(
            self.storage_transport(),
            self.clone(),
            self.environment().base_url(),
        )
        .retry(self.tokens().retry_policy().clone())
        .wait(wait)
        .build()
    }

    /// Uploads the files of `upload` under one upload token, waits until dStor has stored
    /// them, and reports each file's local CID next to the one dStor gave it.
    ///
    /// ```no_run
    /// use dstor_http::{DstorClient, Upload};
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = DstorClient::from_env()?;
    /// let report = client.upload(Upload::new().file("report.pdf")).await?;
    /// let report = report.into_verified()?; // every file stored under its local CID
    /// println!("stored as {}", report.files[0].local_cid);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// Files stream from disk (never held whole in memory) and are hashed as they are sent.
    /// See [`Storage::upload`] for every guarantee.
    ///
    /// # Errors
    ///
    /// [`StorageError`], as [`Storage::upload`] describes.
    pub async fn upload(&self, upload: Upload) -> Result<UploadReport, StorageError> {
        self.storage(WaitPolicy::default())?.upload(upload).await
    }

    /// Downloads the content of `cid` into the file at `path`, which appears only once the
    /// content is verified against `cid`. See [`Storage::download_to_file`].
    ///
    /// # Errors
    ///
    /// [`StorageError`], [`StorageError::CidMismatch`] among them.
    pub async fn download_to_file(
        &self,
        cid: &Cid,
        path: impl AsRef<Path>,
    ) -> Result<Downloaded, StorageError> {
        self.storage(WaitPolicy::default())?
            .download_to_file(cid, path)
            .await
    }

    /// Streams the content of `cid` into `writer`, verifying it on the way. See
    /// [`Storage::download_to_writer`].
    ///
    /// # Errors
    ///
    /// [`StorageError`], [`StorageError::CidMismatch`] among them.
    pub async fn download_to_writer<W>(
        &self,
        cid: &Cid,
        writer: &mut W,
    ) -> Result<Downloaded, StorageError>
    where
        W: AsyncWrite + Unpin + Send + ?Sized,
    {
        self.storage(WaitPolicy::default())?
            .download_to_writer(cid, writer)
            .await
    }

    /// The transport the flows send through (this client's, a cheap clone).
    fn storage_transport(&self) -> ReqwestTransport {
        self.transport.clone()
    }
}
