//! How a download runs: whether it is verified, and who hears its progress.

use std::fmt;
use std::sync::Arc;

use crate::progress::{Progress, ProgressFn};

/// The options of a download, for [`Storage::download_to_file_with`] and
/// [`Storage::download_to_writer_with`]. By default the bytes are verified against the CID
/// and no progress is reported.
///
/// ```
/// use dstor_storage::{Download, Progress};
///
/// let options = Download::new()
///     .verify(false)
///     .on_progress(|event| {
///         if let Progress::Received { received, .. } = event {
///             eprintln!("{received} bytes");
///         }
///     });
/// assert!(!options.verifies());
/// ```
///
/// [`Storage::download_to_file_with`]: crate::Storage::download_to_file_with
/// [`Storage::download_to_writer_with`]: crate::Storage::download_to_writer_with
#[derive(Clone)]
#[must_use]
pub struct Download {
    verify: bool,
    pub(crate) progress: Option<ProgressFn>,
}

impl Download {
    /// A verified download that reports no progress.
    pub fn new() -> Self {
        Self {
            verify: true,
            progress: None,
        }
    }

    /// Whether the bytes must have the CID asked for (the default, `true`).
    ///
    /// With `false` the bytes are **not verified**: bytes whose CID differs are no error, a
    /// file is renamed to its target once every byte has arrived, and only
    /// [`Downloaded::verified`](crate::Downloaded::verified) says whether they matched. Use
    /// it only for content checked some other way.
    pub fn verify(mut self, verify: bool) -> Self {
        self.verify = verify;
        self
    }

    /// Whether the bytes must have the CID asked for.
    pub fn verifies(&self) -> bool {
        self.verify
    }

    /// Calls `progress` with [`Progress::Received`] each time bytes have been received
    /// from the transport, on the task running the download: it should return quickly.
    pub fn on_progress(mut self, progress: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(progress));
        self
    }

    /// Reports `received` bytes of `len`.
    pub(crate) fn emit(&self, received: u64, len: Option<u64>) {
        if let Some(progress) = &self.progress {
            progress(&Progress::Received { received, len });
        }
    }
}

impl Default for Download {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Download {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Download")
            .field("verify", &self.verify)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}
