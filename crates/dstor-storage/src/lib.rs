//! Upload files to dStor, wait until they are stored, verify their CIDs, and read them
//! back, over any transport.
//!
//! ```
//! use dstor_storage::Upload;
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let plan = Upload::new()
//!     .bytes("a.txt", "hello\n")
//!     .bytes("b.txt", "world\n")
//!     .bytes("c.txt", "again\n")
//!     .files_per_chunk(2)
//!     .plan()
//!     .await
//!     .unwrap();
//! assert_eq!(plan.chunks_number(), 2);
//! assert_eq!(plan.chunk_names(), [vec!["a.txt", "b.txt"], vec!["c.txt"]]);
//! # });
//! ```
#![deny(missing_docs)]

mod authorize;
mod blocking;
mod download;
mod error;
mod fetch;
/// The property runner shared with dstor-types' tests: a few cases under `cargo test`, a
/// time budget under `cargo xtask fuzz`, failures saved and replayed.
#[cfg(test)]
#[path = "../../dstor-types/tests/properties/harness.rs"]
mod harness;
mod multipart;
mod plan;
mod progress;
mod redirect;
mod report;
mod retry;
mod storage;
mod target;
mod upload;
mod wait;
mod worker;

pub use error::{Stage, StorageError};
pub use fetch::Download;
pub use plan::{DEFAULT_FILES_PER_CHUNK, DEFAULT_FOLDER_PATH, Plan, Upload};
pub use progress::Progress;
pub use redirect::MAX_REDIRECTS;
pub use report::{Downloaded, UploadReport, UploadedFile};
pub use storage::{Storage, StorageBuilder};
pub use wait::WaitPolicy;

pub use dstor_types::{Cid, CidBuilder};
