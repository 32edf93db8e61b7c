//! What an upload reports while it runs.

use std::sync::Arc;

/// One step of an upload or a download, handed to the callback set with
/// [`Upload::on_progress`](crate::Upload::on_progress) or
/// [`Download::on_progress`](crate::Download::on_progress).
///
/// An upload's events come in order: `Sent` for each block of each file as it is handed to
/// the transport (`sent` grows to `len`; a chunk sent again starts its files at zero),
/// `ChunkSent` when dStor accepted a chunk, then `Status` each time the status reported by
/// dStor changes. A download's are `Received`, `received` growing with each block received
/// from the transport.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Progress {
    /// Bytes of one file handed to the transport.
    Sent {
        /// The file's 0-based position in the upload, in the order the files were added.
        file: usize,
        /// Its stored name.
        name: Arc<str>,
        /// Bytes of it sent so far.
        sent: u64,
        /// Its length.
        len: u64,
    },
    /// dStor accepted a chunk.
    ChunkSent {
        /// The chunk's 1-based number.
        chunk: usize,
        /// The number of chunks.
        chunks: usize,
    },
    /// dStor reported a new status while storing the files (`ADDING_TO_IPFS`,
    /// `SAVING_DATA`, `DONE`, or a value this SDK does not know).
    Status {
        /// The status as dStor spelled it.
        phase: String,
    },
    /// Bytes of a download received.
    Received {
        /// Bytes received so far. They reach the writer in order, and a download that
        /// succeeds returns only once every one has.
        received: u64,
        /// The length the gateway declared, if it did.
        len: Option<u64>,
    },
}

/// The callback an upload reports to.
pub(crate) type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;
