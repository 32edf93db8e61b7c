//! Where a download goes: a file that appears under its name only once verified.

use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use tempfile::TempPath;

use crate::StorageError;
use crate::download::WRITE_BUFFER;
use crate::worker::{Queue, Worker};

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
    /// With the writer, on a blocking thread, which gives back the file and the number of
    /// bytes it wrote once the blocks end.
    Writing(Worker<(std::fs::File, u64)>),
    /// Gone with an error, which the download returned.
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
            self.file = Place::Writing(Worker::spawn(move |blocks| write_blocks(file, blocks)));
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

/// Writes `blocks` to `file` in order, without copying them, gathering what is waiting
/// into writes of up to [`WRITE_BUFFER`] bytes: the file, and how many bytes it wrote.
fn write_blocks(mut file: std::fs::File, mut blocks: Queue) -> io::Result<(std::fs::File, u64)> {
    let mut written = 0u64;
    let mut batch: Vec<Bytes> = Vec::with_capacity(64);
    while let Some(block) = blocks.next() {
        let mut size = block.len();
        batch.push(block);
        while size < WRITE_BUFFER && batch.len() < batch.capacity() {
            let Some(block) = blocks.next_ready() else {
                break;
            };
            size += block.len();
            batch.push(block);
        }
        write_all_vectored(&mut file, &batch)?;
        written += size as u64;
        batch.clear();
    }
    Ok((file, written))
}

/// Writes every byte of `blocks`, in order, in as few system calls as the file takes.
fn write_all_vectored(file: &mut std::fs::File, blocks: &[Bytes]) -> io::Result<()> {
    let mut slices: Vec<io::IoSlice<'_>> = blocks.iter().map(|b| io::IoSlice::new(b)).collect();
    let mut slices = &mut slices[..];
    while !slices.is_empty() {
        match file.write_vectored(slices) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => io::IoSlice::advance_slices(&mut slices, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Runs `work` on Tokio's blocking threads; a panic in it is an error.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(io::Error::other)?
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
        sink.write(Bytes::from_static(b"hello ")).await.unwrap();
        sink.write(Bytes::from_static(b"world")).await.unwrap();
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
    async fn a_failed_write_is_an_error_of_the_target_and_nothing_is_committed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.bin");
        let mut sink = FileSink::create(&target).await.unwrap();
        // A file open only for reading: every write to it fails, as on a disk gone bad.
        let temp = dir.path().join(&entries(dir.path())[0]);
        sink.file = Place::Here(std::fs::File::open(&temp).unwrap());
        let mut failed = None;
        for _ in 0..100 {
            if let Err(err) = sink.write(Bytes::from_static(b"data")).await {
                failed = Some(err);
                break;
            }
        }
        let err = match failed {
            Some(err) => err,
            None => sink.commit().await.unwrap_err(),
        };
        let StorageError::Write {
            path: Some(path), ..
        } = &err
        else {
            panic!("{err:?}");
        };
        assert_eq!(path, &target);
        assert!(!target.exists(), "nothing under the target's name");
    }

    #[tokio::test]
    async fn a_dropped_sink_leaves_nothing_and_an_old_file_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("keep.txt");
        std::fs::write(&target, b"old").unwrap();
        let mut sink = FileSink::create(&target).await.unwrap();
        sink.write(Bytes::from_static(b"half a download"))
            .await
            .unwrap();
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

    #[tokio::test]
    async fn reserved_space_past_the_end_is_given_back() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("short.bin");
        let mut sink = FileSink::create(&target).await.unwrap();
        sink.reserve(4 << 20).await.unwrap();
        let temp = dir.path().join(&entries(dir.path())[0]);
        assert_eq!(
            std::fs::metadata(&temp).unwrap().len(),
            0,
            "a reservation does not lengthen the file"
        );
        let reserved = allocated(&temp);
        sink.write(Bytes::from_static(b"ten bytes!")).await.unwrap();
        sink.commit().await.unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"ten bytes!");
        // Where the file system reserved the space, the commit gave it back.
        if reserved >= 4 << 20 {
            assert!(allocated(&target) < 1 << 20, "{}", allocated(&target));
        }
    }

    /// Bytes of disk allocated to the file at `path`.
    #[cfg(unix)]
    fn allocated(path: &Path) -> u64 {
        use std::os::unix::fs::MetadataExt as _;
        std::fs::metadata(path).unwrap().blocks() * 512
    }

    #[cfg(not(unix))]
    fn allocated(_path: &Path) -> u64 {
        0
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn a_full_disk_fails_the_reservation_and_a_file_system_that_cannot_reserve_does_not() {
        use rustix::io::Errno;

        for (errno, kind) in [
            (Errno::NOSPC, io::ErrorKind::StorageFull),
            (Errno::DQUOT, io::ErrorKind::QuotaExceeded),
            (Errno::FBIG, io::ErrorKind::FileTooLarge),
        ] {
            assert_eq!(reservation(Err(errno)).unwrap_err().kind(), kind);
        }
        for cannot in [
            Errno::OPNOTSUPP,
            Errno::NOSYS,
            Errno::INVAL,
            Errno::INTR,
            Errno::PERM,
        ] {
            reservation(Err(cannot)).unwrap();
        }
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[tokio::test]
    async fn a_length_the_disk_has_no_room_for_fails_before_anything_is_allocated() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("huge.bin");
        let mut sink = FileSink::create(&target).await.unwrap();
        let err = sink.reserve(1 << 62).await.unwrap_err();
        let StorageError::Write {
            source,
            path: Some(path),
        } = &err
        else {
            panic!("{err:?}");
        };
        assert_eq!(source.kind(), io::ErrorKind::StorageFull, "{err}");
        assert!(source.to_string().contains("free some space"), "{source}");
        assert_eq!(path, &target);
        assert!(err.to_string().contains("huge.bin"), "{err}");
        let temp = dir.path().join(&entries(dir.path())[0]);
        assert_eq!(allocated(&temp), 0, "nothing was allocated");
        drop(sink);
        assert!(
            entries(dir.path()).is_empty(),
            "nothing is left beside the target"
        );
    }
}
