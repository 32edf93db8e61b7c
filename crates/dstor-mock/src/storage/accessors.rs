//! What a test can ask the server about the storage service.

use std::net::SocketAddr;
use std::path::Path;

use super::fault::StorageFault;
use super::state::{RecordedChunk, RecordedUploadToken, Storage, StoredFile};
use crate::{FakeDstor, RecordedRequest};

impl FakeDstor {
    /// The storage node's base URL, `http://<ip>:<port>` (the gateway on the
    /// main listener redirects here).
    pub fn node_url(&self) -> String {
        format!("http://{}", self.node_addr())
    }

    /// The storage node's bound address.
    pub fn node_addr(&self) -> SocketAddr {
        self.shared.storage.node_addr
    }

    /// Every request the storage node received, in arrival order (so a test
    /// can prove that no credential reached it).
    pub fn node_requests(&self) -> Vec<RecordedRequest> {
        self.shared.storage.node_requests()
    }

    /// How many requests reached `/v1/upload/get-token/` (any method, any outcome).
    pub fn upload_token_request_count(&self) -> usize {
        Storage::load(&self.shared.storage.upload_token_requests)
    }

    /// How many requests reached `/v1/upload/` (any method, any outcome).
    pub fn chunk_request_count(&self) -> usize {
        Storage::load(&self.shared.storage.chunk_requests)
    }

    /// How many requests reached `/v1/upload/get-status/` (any method, any outcome).
    pub fn status_request_count(&self) -> usize {
        Storage::load(&self.shared.storage.status_requests)
    }

    /// What each accepted upload-token request asked for (`chunks_number`,
    /// `folder_path`), in arrival order. A refused one is counted by
    /// [`FakeDstor::upload_token_request_count`] only.
    pub fn upload_token_requests(&self) -> Vec<RecordedUploadToken> {
        self.shared.storage.token_requests()
    }

    /// Each accepted chunk POST, in arrival order: the file names of its parts. A
    /// refused one is counted by [`FakeDstor::chunk_request_count`] only.
    pub fn chunk_posts(&self) -> Vec<RecordedChunk> {
        self.shared.storage.chunk_posts()
    }

    /// Every file of every accepted chunk, in arrival order.
    pub fn stored_files(&self) -> Vec<StoredFile> {
        self.shared.storage.stored_files()
    }

    /// The directory uploads are spooled to; it is removed when the server
    /// stops or is dropped. It holds one file per CID stored, one per part
    /// being received, and at most one more, `spare`: a copy of content stored
    /// already, which the next part received is written over.
    pub fn spool_dir(&self) -> &Path {
        &self.shared.storage.spool_dir
    }

    /// Queues a storage fault (see [`StorageFault`] for which request takes it).
    pub fn push_storage_fault(&self, fault: StorageFault) {
        self.shared.storage.push_faults([fault]);
    }

    /// Queues several storage faults, in order.
    pub fn push_storage_faults(&self, faults: impl IntoIterator<Item = StorageFault>) {
        self.shared.storage.push_faults(faults);
    }

    /// How many storage faults are queued and not yet taken.
    pub fn pending_storage_faults(&self) -> usize {
        self.shared.storage.pending_faults()
    }
}
