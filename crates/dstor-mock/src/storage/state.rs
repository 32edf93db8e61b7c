//! What the storage service remembers: uploads, stored content, faults, counts.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use super::fault::{STAGES, StorageFault, Target};
use crate::RecordedRequest;

/// One file received in a chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoredFile {
    /// The part's file name, as sent (the `Name` of the status).
    pub name: String,
    /// Its CIDv0 (the `Hash` of the status), computed from the bytes received.
    pub cid: String,
    /// Its length in bytes.
    pub size: u64,
    /// The `folder_path` of its upload.
    pub folder_path: String,
}

/// An upload-token request the fake accepted: what the client asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordedUploadToken {
    /// The `chunks_number` asked for: how many chunk POSTs the client announced.
    pub chunks_number: u64,
    /// The `folder_path` asked for.
    pub folder_path: String,
}

/// A chunk POST the fake accepted (received whole and stored). No body is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordedChunk {
    /// The file name of each part, in the order the parts were sent.
    pub names: Vec<String>,
}

/// Where an upload stands.
#[derive(Debug, Clone)]
pub(crate) enum Phase {
    /// Not all chunks have arrived (or no poll since they did).
    Receiving,
    /// One of the reported stages, by index in [`STAGES`].
    Stage(usize),
    /// Failed, for good.
    Error { stage: String, explanation: String },
}

/// One upload, from its upload token on.
#[derive(Debug)]
pub(crate) struct Upload {
    pub(crate) chunks_number: u64,
    pub(crate) folder_path: String,
    /// Chunks being received or received.
    pub(crate) reserved: u64,
    /// Chunks received completely.
    pub(crate) received: u64,
    pub(crate) files: Vec<(StoredFile, PathBuf)>,
    pub(crate) phase: Phase,
}

impl Upload {
    /// The stage the next poll reports, unless a fault intervenes.
    pub(crate) fn next_stage(&self) -> &'static str {
        match &self.phase {
            _ if self.received < self.chunks_number => STAGES[0],
            Phase::Receiving => STAGES[1],
            Phase::Stage(index) => STAGES[(index + 1).min(STAGES.len() - 1)],
            Phase::Error { .. } => "ERROR",
        }
    }
}

/// A file kept for the gateway.
#[derive(Debug, Clone)]
pub(crate) struct Content {
    pub(crate) path: PathBuf,
    pub(crate) size: u64,
}

/// The state of the storage service, inside [`Shared`](crate::state::Shared).
///
/// No `Debug`: it holds upload tokens.
pub(crate) struct Storage {
    /// The directory spooled files are written to.
    pub(crate) spool_dir: PathBuf,
    /// The largest accepted chunk body.
    pub(crate) max_upload_bytes: u64,
    /// The storage node's address.
    pub(crate) node_addr: SocketAddr,
    pub(crate) uploads: Mutex<HashMap<String, Upload>>,
    /// The one spool file kept of each CID received, as IPFS keeps each block once.
    kept: Mutex<HashMap<String, PathBuf>>,
    pub(crate) content: Mutex<HashMap<String, Content>>,
    faults: Mutex<VecDeque<StorageFault>>,
    node_requests: Mutex<Vec<RecordedRequest>>,
    stored: Mutex<Vec<StoredFile>>,
    token_requests: Mutex<Vec<RecordedUploadToken>>,
    chunk_posts: Mutex<Vec<RecordedChunk>>,
    next_spool: AtomicU64,
    pub(crate) upload_token_requests: AtomicUsize,
    pub(crate) chunk_requests: AtomicUsize,
    pub(crate) status_requests: AtomicUsize,
}

/// Locks `mutex`, ignoring poisoning: the data stays consistent at every step.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Storage {
    pub(crate) fn new(spool_dir: PathBuf, max_upload_bytes: u64, node_addr: SocketAddr) -> Self {
        Self {
            spool_dir,
            max_upload_bytes,
            node_addr,
            uploads: Mutex::default(),
            kept: Mutex::default(),
            content: Mutex::default(),
            faults: Mutex::default(),
            node_requests: Mutex::default(),
            stored: Mutex::default(),
            token_requests: Mutex::default(),
            chunk_posts: Mutex::default(),
            next_spool: AtomicU64::new(0),
            upload_token_requests: AtomicUsize::new(0),
            chunk_requests: AtomicUsize::new(0),
            status_requests: AtomicUsize::new(0),
        }
    }

    pub(crate) fn push_faults(&self, faults: impl IntoIterator<Item = StorageFault>) {
        lock(&self.faults).extend(faults);
    }

    /// Takes the oldest queued fault that applies to `target`.
    pub(crate) fn take_fault(&self, target: Target<'_>) -> Option<StorageFault> {
        let mut faults = lock(&self.faults);
        let index = faults.iter().position(|fault| fault.applies_to(target))?;
        faults.remove(index)
    }

    pub(crate) fn pending_faults(&self) -> usize {
        lock(&self.faults).len()
    }

    /// A fresh path in the spool directory.
    pub(crate) fn spool_path(&self) -> PathBuf {
        let n = self.next_spool.fetch_add(1, Ordering::Relaxed);
        self.spool_dir.join(format!("part-{n}"))
    }

    /// Where a copy's spool file (of content kept already) waits to be renamed and rewritten
    /// in place by the next part received: one at most, since a rename there replaces it.
    /// Rewriting pages already in the page cache costs a fraction of writing new ones on
    /// machines that hand freed memory back to their hypervisor, so that the fake's own cost
    /// weighs less in what it measures of a client.
    pub(crate) fn spare_path(&self) -> PathBuf {
        self.spool_dir.join("spare")
    }

    pub(crate) fn record_node(&self, request: RecordedRequest) {
        lock(&self.node_requests).push(request);
    }

    pub(crate) fn node_requests(&self) -> Vec<RecordedRequest> {
        lock(&self.node_requests).clone()
    }

    pub(crate) fn record_stored(&self, files: impl IntoIterator<Item = StoredFile>) {
        lock(&self.stored).extend(files);
    }

    pub(crate) fn stored_files(&self) -> Vec<StoredFile> {
        lock(&self.stored).clone()
    }

    pub(crate) fn record_token_request(&self, request: RecordedUploadToken) {
        lock(&self.token_requests).push(request);
    }

    pub(crate) fn token_requests(&self) -> Vec<RecordedUploadToken> {
        lock(&self.token_requests).clone()
    }

    pub(crate) fn record_chunk(&self, chunk: RecordedChunk) {
        lock(&self.chunk_posts).push(chunk);
    }

    pub(crate) fn chunk_posts(&self) -> Vec<RecordedChunk> {
        lock(&self.chunk_posts).clone()
    }

    /// The spool file that holds `cid` from now on: `path`, when it is the first copy
    /// received, else the file of the first copy (and `path` is the caller's to recycle).
    pub(crate) fn keep(&self, cid: &str, path: PathBuf) -> PathBuf {
        lock(&self.kept)
            .entry(cid.to_owned())
            .or_insert(path)
            .clone()
    }

    /// Makes `files` readable through the gateway (the first copy of a CID wins).
    pub(crate) fn publish(&self, files: &[(StoredFile, PathBuf)]) {
        let mut content = lock(&self.content);
        for (file, path) in files {
            content.entry(file.cid.clone()).or_insert_with(|| Content {
                path: path.clone(),
                size: file.size,
            });
        }
    }

    pub(crate) fn content(&self, cid: &str) -> Option<Content> {
        lock(&self.content).get(cid).cloned()
    }

    pub(crate) fn count(counter: &AtomicUsize) {
        counter.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn load(counter: &AtomicUsize) -> usize {
        counter.load(Ordering::SeqCst)
    }
}
