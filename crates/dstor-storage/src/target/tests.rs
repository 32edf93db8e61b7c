//! The file sink: nothing under the target's name before the commit, nothing left after a
//! failure, and disk space reserved and given back.

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

/// A sink whose file refuses every write, as a disk gone bad would.
async fn refusing_sink(dir: &Path, target: &Path) -> FileSink {
    let mut sink = FileSink::create(target).await.unwrap();
    let temp = dir.join(&entries(dir)[0]);
    sink.file = Place::Here(std::fs::File::open(&temp).unwrap());
    sink
}

/// `err` is a write error of `target`, carrying the system's own error.
fn assert_write_error_of(err: &StorageError, target: &Path) {
    let StorageError::Write {
        path: Some(path),
        source,
    } = err
    else {
        panic!("{err:?}");
    };
    assert_eq!(path, target);
    assert!(
        source.raw_os_error().is_some(),
        "the system's error: {source:?}"
    );
}

#[tokio::test]
async fn a_failed_write_fails_the_commit_and_nothing_is_left() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.bin");
    let mut sink = refusing_sink(dir.path(), &target).await;
    // The first block is queued before the writer has tried it.
    sink.write(Bytes::from_static(b"data")).await.unwrap();
    let err = sink.commit().await.unwrap_err();
    assert_write_error_of(&err, &target);
    assert!(entries(dir.path()).is_empty(), "nothing under any name");
}

#[tokio::test]
async fn a_failed_write_fails_a_later_write_and_nothing_is_left() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.bin");
    let mut sink = refusing_sink(dir.path(), &target).await;
    let mut failed = None;
    for _ in 0..100 {
        if let Err(err) = sink.write(Bytes::from_static(b"data")).await {
            failed = Some(err);
            break;
        }
    }
    let err = failed.expect("a write fails once the writer has stopped");
    assert_write_error_of(&err, &target);
    drop(sink);
    assert!(entries(dir.path()).is_empty(), "nothing under any name");
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
