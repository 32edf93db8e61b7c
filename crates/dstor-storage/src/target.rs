//! Where a download goes: a file that appears under its name only once verified.

use std::io;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use tempfile::TempPath;

use crate::StorageError;
use crate::blocking::blocking;
use crate::worker::{Worker, write_blocks};

/// A file being downloaded: written to a temporary file in the target's directory, and
/// renamed to the target only by [`FileSink::commit`]. Dropped without a commit, it
/// removes the temporary file, so nothing is left under the target's name or beside it.
#[derive(Debug)]
pub(crate) struct FileSink {
    file: Place,
    /// Bytes of disk space reserved.
    reserved: u64,
    temp: TempPath,
    target: PathBuf,
}

/// Where the temporary file is.
#[derive(Debug)]
enum Place {
    /// Here: nothing was written yet.
    Here(std::fs::File),
    /// With the writer, on a thread of its own, which gives back the file and the number
    /// of bytes it wrote once the blocks end.
    Writing(Worker<io::Result<(std::fs::File, u64)>>),
    /// Nowhere: lent to a reservation that runs, or lost with an error that ended the
    /// download, or given back by the writer.
    Gone,
}

impl FileSink {
    /// A temporary file beside `target`, which must not be a directory.
    pub(crate) async fn create(target: &Path) -> Result<Self, StorageError> {
        let target = target.to_path_buf();
        if tokio::fs::metadata(&target).await.is_ok_and(|m| m.is_dir()) {
            return Err(StorageError::NotAFile { path: target });
        }
        let dir = match target.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let prefix = format!(
            ".{}.",
            target
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        );
        let made = {
            let dir = dir.clone();
            blocking(move || {
                tempfile::Builder::new()
                    .prefix(&prefix)
                    .suffix(".part")
                    .tempfile_in(&dir)
            })
            .await
        };
        let (file, temp) = made
            .map_err(|source| StorageError::Write {
                path: Some(dir),
                source,
            })?
            .into_parts();
        Ok(Self {
            file: Place::Here(file),
            reserved: 0,
            temp,
            target,
        })
    }

    /// Reserves disk space for `len` bytes, where the file system can, so that a disk too
    /// small for them fails the download before it starts rather than near its end. It does
    /// nothing once writing has started.
    pub(crate) async fn reserve(&mut self, len: u64) -> Result<(), StorageError> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if len > 0
            && let Some(file) = self.take_unwritten()
        {
            let file = blocking(move || reserve(&file, len).map(|()| file))
                .await
                .map_err(|source| self.write_error(source))?;
            self.file = Place::Here(file);
            self.reserved = len;
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        let _ = len;
        Ok(())
    }

    /// Appends `data`. The write itself runs beside the caller, so its error, if any,
    /// comes from a later call or from [`FileSink::commit`].
    pub(crate) async fn write(&mut self, data: Bytes) -> Result<(), StorageError> {
        if let Some(file) = self.take_unwritten() {
            let writer = Worker::spawn("dstor-writer", move |blocks| write_blocks(file, blocks));
            self.file = Place::Writing(writer.map_err(|source| self.write_error(source))?);
        }
        if let Place::Writing(writer) = &self.file
            && writer.send(data).await
        {
            return Ok(());
        }
        // The writer stopped, and its error says why.
        self.finish_writing()
            .await
            .and_then(|_| Err(self.write_error(io::Error::other("the writer stopped early"))))
    }

    /// The file, if nothing was written to it yet; it is then [`Place::Gone`] until put back.
    fn take_unwritten(&mut self) -> Option<std::fs::File> {
        match std::mem::replace(&mut self.file, Place::Gone) {
            Place::Here(file) => Some(file),
            elsewhere => {
                self.file = elsewhere;
                None
            }
        }
    }

    /// Waits for every write, and gives back the file and its length.
    async fn finish_writing(&mut self) -> Result<(std::fs::File, u64), StorageError> {
        match std::mem::replace(&mut self.file, Place::Gone) {
            Place::Here(file) => Ok((file, 0)),
            Place::Writing(writer) => writer
                .finish()
                .await
                .map_err(|source| self.write_error(source)),
            Place::Gone => {
                Err(self.write_error(io::Error::other("an earlier error ended the download")))
            }
        }
    }

    /// Waits for every write, gives back disk space reserved beyond the file's end, and
    /// renames it to the target, replacing any file there.
    pub(crate) async fn commit(mut self) -> Result<(), StorageError> {
        let (file, written) = self.finish_writing().await?;
        let reserved = self.reserved;
        let Self { temp, target, .. } = self;
        let to = target.clone();
        blocking(move || {
            if reserved > written {
                // Cutting a file to its own length frees the blocks reserved past its end.
                file.set_len(written)?;
            }
            drop(file);
            temp.persist(&to).map_err(|e| e.error)
        })
        .await
        .map_err(|source| StorageError::Write {
            path: Some(target),
            source,
        })
    }

    fn write_error(&self, source: io::Error) -> StorageError {
        StorageError::Write {
            path: Some(self.target.clone()),
            source,
        }
    }
}

/// Allocates `len` bytes of `file` without changing its length. Where the file system
/// cannot reserve space, nothing is reserved, and that is no error; a disk without room
/// for `len` bytes is.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn reserve(file: &std::fs::File, len: u64) -> io::Result<()> {
    use rustix::fs::{FallocateFlags, fallocate, fstatvfs};

    // Asking for more than is free would fill the disk for everyone before failing.
    if let Ok(stats) = fstatvfs(file) {
        let free = stats.f_bavail.saturating_mul(stats.f_frsize);
        if len > free {
            return Err(io::Error::new(
                io::ErrorKind::StorageFull,
                format!(
                    "{len} bytes do not fit in the {free} bytes free on its disk: \
                     free some space or write elsewhere"
                ),
            ));
        }
    }
    reservation(fallocate(file, FallocateFlags::KEEP_SIZE, 0, len))
}

/// What a reservation's outcome means for the download: only a lack of room fails it.
/// Anything else (a file system that cannot reserve, a system call filtered out or
/// interrupted) leaves the writes to decide.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn reservation(outcome: Result<(), rustix::io::Errno>) -> io::Result<()> {
    use rustix::io::Errno;

    match outcome {
        Err(errno @ (Errno::NOSPC | Errno::DQUOT | Errno::FBIG)) => Err(errno.into()),
        Ok(()) | Err(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests;
