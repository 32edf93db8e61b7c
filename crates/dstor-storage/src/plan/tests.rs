use super::*;

async fn refused(upload: Upload) -> StorageError {
    upload.plan().await.expect_err("the plan should be refused")
}

#[tokio::test]
async fn files_are_grouped_into_chunks_of_at_most_n() {
    let mut upload = Upload::new();
    for i in 0..250 {
        upload = upload.bytes(format!("f{i:03}"), vec![0u8; i]);
    }
    let plan = upload.plan().await.unwrap();
    assert_eq!(plan.chunks_number(), 3, "100 files per chunk by default");
    let sizes: Vec<usize> = plan.chunk_names().iter().map(Vec::len).collect();
    assert_eq!(sizes, [100, 100, 50]);
    assert_eq!(plan.chunk_names()[2][0], "f200", "the order is kept");
    assert_eq!(plan.files(), 250);
    assert_eq!(plan.total_bytes(), (0..250u64).sum::<u64>());
    assert_eq!(plan.folder_path, "/");
    assert!(plan.comment.is_none());

    let plan = Upload::new()
        .bytes("a", "1")
        .bytes("b", "2")
        .bytes("c", "3")
        .files_per_chunk(1)
        .folder_path("arbitration/alice")
        .comment("a comment")
        .plan()
        .await
        .unwrap();
    assert_eq!(plan.chunks_number(), 3);
    assert_eq!(plan.folder_path, "arbitration/alice");
    assert_eq!(plan.comment.as_deref(), Some("a comment"));
}

#[tokio::test]
async fn paths_are_checked_before_anything_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("real.txt");
    std::fs::write(&file, b"12345").unwrap();

    let plan = Upload::new()
        .file(&file)
        .file_as(&file, "renamed/copy.txt")
        .plan()
        .await
        .unwrap();
    assert_eq!(plan.chunk_names(), [vec!["real.txt", "renamed/copy.txt"]]);
    assert_eq!(plan.total_bytes(), 10);

    let missing = dir.path().join("nope.txt");
    let err = refused(Upload::new().file(&file).file(&missing)).await;
    assert!(matches!(&err, StorageError::Missing { path } if *path == missing));
    assert!(err.to_string().contains("nope.txt"), "{err}");
    assert!(err.is_bad_input() && !err.is_retryable());

    let err = refused(Upload::new().file(dir.path())).await;
    assert!(matches!(&err, StorageError::NotAFile { path } if path == dir.path()));
    assert!(err.to_string().contains("is not a regular file"), "{err}");
}

#[tokio::test]
async fn an_unreadable_file_is_named() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secret.txt");
    std::fs::write(&file, b"x").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::File::open(&file).is_ok() {
        // Running as root: permissions do not stop a read, so there is nothing to check.
        return;
    }
    let err = refused(Upload::new().file(&file)).await;
    assert!(matches!(&err, StorageError::Unreadable { path, .. } if *path == file));
    assert!(err.to_string().contains("cannot be read"), "{err}");
}

#[tokio::test]
async fn zero_files_and_zero_files_per_chunk_are_refused() {
    assert!(matches!(
        refused(Upload::new()).await,
        StorageError::NoFiles
    ));
    let err = refused(Upload::new().bytes("a", "1").files_per_chunk(0)).await;
    assert!(
        matches!(
            err,
            StorageError::InvalidOption {
                option: "files_per_chunk",
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn unsafe_names_and_duplicates_are_refused() {
    for name in [
        "",
        "../up.txt",
        "a/../../b",
        "/etc/passwd",
        "a//b",
        "./a",
        "dir/",
        "a\r\nX-Injected: 1",
        "tab\there",
        "c:\\windows",
    ] {
        let err = refused(Upload::new().bytes(name, "x")).await;
        assert!(
            matches!(err, StorageError::InvalidName { .. }),
            "{name:?}: {err:?}"
        );
        assert!(
            err.to_string().contains("cannot be stored"),
            "{name:?}: {err}"
        );
        assert!(
            std::error::Error::source(&err).is_some(),
            "the reason is its source"
        );
    }
    let err = refused(
        Upload::new()
            .bytes("same", "1")
            .bytes("other", "2")
            .bytes("same", "3"),
    )
    .await;
    assert!(matches!(&err, StorageError::DuplicateName { name } if name == "same"));
    for fine in [
        "a.txt",
        "dir/sub/file.tar.gz",
        "ünïcode ✓.md",
        "..hidden",
        "a..b",
        "q\"uote",
    ] {
        Upload::new().bytes(fine, "x").plan().await.unwrap();
    }
}

#[tokio::test]
async fn a_comment_or_folder_that_cannot_be_sent_is_refused() {
    for comment in ["line\nbreak", "naïve", "nul\0"] {
        let err = refused(Upload::new().bytes("a", "1").comment(comment)).await;
        assert!(
            matches!(err, StorageError::InvalidUpload { .. }),
            "{comment:?}: {err:?}"
        );
        assert!(err.is_bad_input());
    }
    for folder in ["", "../up", "C:/x"] {
        let err = refused(Upload::new().bytes("a", "1").folder_path(folder)).await;
        assert!(
            matches!(err, StorageError::InvalidUpload { .. }),
            "{folder:?}: {err:?}"
        );
    }
}

#[test]
fn debug_shows_no_content() {
    let upload = Upload::new()
        .bytes("a", "the content itself")
        .on_progress(|_| {});
    let shown = format!("{upload:?}");
    assert!(
        shown.contains("\"a\"") && !shown.contains("the content itself"),
        "{shown}"
    );
}
