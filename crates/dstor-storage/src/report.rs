//! What an upload or a download achieved.

use std::path::PathBuf;

use dstor_types::Cid;

/// The outcome of an upload that dStor reported stored: each local file matched to what
/// dStor stored, and whether the CIDs agree.
///
/// A mismatch is reported here, not hidden and not turned into an error: check
/// [`UploadReport::all_verified`], or call [`UploadReport::into_verified`] to get an error
/// instead.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadReport {
    /// One entry per file, in the order the files were added.
    pub files: Vec<UploadedFile>,
    /// What dStor listed as stored that matches no local file, by name and CID.
    pub unmatched: Vec<(String, Cid)>,
    /// The number of chunks (requests) the files were sent in.
    pub chunks: usize,
}

impl UploadReport {
    /// Whether every file was found stored under the CID computed locally.
    pub fn all_verified(&self) -> bool {
        self.files.iter().all(|f| f.verified)
    }

    /// The files not verified: missing from dStor's answer, or stored under another CID.
    pub fn mismatches(&self) -> impl Iterator<Item = &UploadedFile> {
        self.files.iter().filter(|f| !f.verified)
    }

    /// The report when every file is verified.
    ///
    /// # Errors
    ///
    /// [`StorageError::NotVerified`](crate::StorageError::NotVerified) naming the files
    /// that are not.
    pub fn into_verified(self) -> Result<Self, crate::StorageError> {
        if self.all_verified() {
            return Ok(self);
        }
        Err(crate::StorageError::NotVerified {
            files: self
                .mismatches()
                .map(|f| {
                    let stored = f.stored_cid.as_ref().map(Cid::to_string);
                    (f.name.clone(), f.local_cid.to_string(), stored)
                })
                .collect(),
        })
    }
}

/// One file of an upload.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadedFile {
    /// The name it was stored under.
    pub name: String,
    /// Its local path, if it was read from disk.
    pub path: Option<PathBuf>,
    /// Its length in bytes.
    pub len: u64,
    /// The CIDv0 of the bytes sent, computed while sending them.
    pub local_cid: Cid,
    /// The CID dStor reported for it, if dStor listed it.
    pub stored_cid: Option<Cid>,
    /// Whether dStor reported it stored under `local_cid`.
    pub verified: bool,
}

/// The outcome of a download: every byte was written, and (unless verification was turned
/// off with [`Download::verify`](crate::Download::verify)) their CID is the one asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Downloaded {
    /// The CID of the bytes written.
    pub cid: Cid,
    /// Whether `cid` is the CID asked for: always `true` for a verified download.
    pub verified: bool,
    /// The number of bytes written.
    pub bytes: u64,
    /// How many redirects were followed to reach them.
    pub redirects: usize,
}
