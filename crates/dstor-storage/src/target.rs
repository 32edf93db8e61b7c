//! Where a download goes: a file that appears under its name only once verified.

use std::io;
use std::path::{Path, PathBuf};

use tempfile::TempPath;
use tokio::io::{AsyncWriteExt as _, BufWriter};

use crate::StorageError;
use crate::download::WRITE_BUFFER;

/// A file being downloaded: written to a temporary file in the target's directory, and
/// renamed to the target only by [`FileSink::commit`]. Dropped without a commit, it
/// removes the temporary file, so nothing is left under the target's name or beside it.
#[derive(Debug)]
pub(crate) struct FileSink {
    file: BufWriter<tokio::fs::File>,
    temp: TempPath,
    target: PathBuf,
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
            tokio::task::spawn_blocking(move || {
                tempfile::Builder::new()
                    .prefix(&prefix)
                    .suffix(".part")
                    .tempfile_in(&dir)
            })
            .await
            .map_err(io::Error::other)
            .and_then(|r| r)
        };
        let (file, temp) = made
            .map_err(|source| StorageError::Write {
                path: Some(dir),
                source,
            })?
            .into_parts();
        Ok(Self {
            file: BufWriter::with_capacity(WRITE_BUFFER, tokio::fs::File::from_std(file)),
            temp,
            target,
        })
    }

    /// Appends `data`.
    pub(crate) async fn write(&mut self, data: &[u8]) -> Result<(), StorageError> {
        self.file
            .write_all(data)
            .await
            .map_err(|source| self.write_error(source))
    }

    /// Flushes the file and renames it to the target, replacing any file there.
    pub(crate) async fn commit(mut self) -> Result<(), StorageError> {
        self.file
            .flush()
            .await
            .map_err(|source| self.write_error(source))?;

        let Self {
            file, temp, target, ..
        } = self;
        drop(file);
        let to = target.clone();
        tokio::task::spawn_blocking(move || temp.persist(&to).map_err(|e| e.error))
            .await
            .map_err(io::Error::other)
            .and_then(|r| r)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[tokio::test]
    async fn the_target_appears_only_on_commit() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.bin");
        let mut sink = FileSink::create(&target).await.unwrap();
        sink.write(b"hello ").await.unwrap();
        sink.write(b"world").await.unwrap();
        assert!(
            !target.exists(),
            "nothing under the target's name before the commit"
        );
        let names = entries(dir.path());
        assert_eq!(names.len(), 1);
        assert!(names[0].starts_with(".out.bin.") && names[0].ends_with(".part"));
        sink.commit().await.unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"hello world");
        assert_eq!(entries(dir.path()), ["out.bin"]);
    }

    #[tokio::test]
    async fn a_dropped_sink_leaves_nothing_and_an_old_file_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("keep.txt");
        std::fs::write(&target, b"old").unwrap();
        let mut sink = FileSink::create(&target).await.unwrap();
        sink.write(b"half a download").await.unwrap();
        drop(sink);
        assert_eq!(entries(dir.path()), ["keep.txt"]);
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
    }

    #[tokio::test]
    async fn a_directory_or_a_missing_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = FileSink::create(dir.path()).await.unwrap_err();
        assert!(matches!(err, StorageError::NotAFile { .. }), "{err:?}");
        let err = FileSink::create(&dir.path().join("no/such/dir/x"))
            .await
            .unwrap_err();
        assert!(matches!(err, StorageError::Write { .. }), "{err:?}");
        assert!(err.to_string().contains("no/such/dir"), "{err}");
    }
}
