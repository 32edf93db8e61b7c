//! The upload flow against the fake: token, chunks, status, verification, and faults.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use dstor_mock::{FakeDstor, StorageEndpoint, StorageFault};
use dstor_storage::{Progress, Stage, StorageError, Upload};
use dstor_types::Cid;

use crate::support::{EMPTY_CID, HELLO_CID, quick_wait, setup, setup_with};

#[tokio::test]
async fn files_are_uploaded_in_chunks_and_verified() {
    let s = setup().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hello.txt");
    std::fs::write(&path, b"hello\n").unwrap();
    let big: Vec<u8> = (0..600_000u32).map(|i| (i % 253) as u8).collect();

    let report = s
        .storage
        .upload(
            Upload::new()
                .file(&path)
                .bytes("empty", "")
                .reader(
                    "big.bin",
                    big.len() as u64,
                    std::io::Cursor::new(big.clone()),
                )
                .files_per_chunk(2)
                .folder_path("/tests")
                .comment("integration"),
        )
        .await
        .unwrap();

    assert_eq!(report.chunks, 2);
    assert!(report.all_verified(), "{report:#?}");
    assert!(report.unmatched.is_empty());
    let names: Vec<&str> = report.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["hello.txt", "empty", "big.bin"]);
    assert_eq!(report.files[0].local_cid.to_string(), HELLO_CID);
    assert_eq!(report.files[0].path.as_deref(), Some(path.as_path()));
    assert_eq!(report.files[1].local_cid.to_string(), EMPTY_CID);
    assert_eq!(report.files[2].len, 600_000);

    // What the fake received: the same files, the same CIDs (computed on its side).
    assert_eq!(s.fake.upload_token_request_count(), 1);
    let asked = s.fake.upload_token_requests();
    assert_eq!(asked.len(), 1);
    assert_eq!(
        (asked[0].chunks_number, asked[0].folder_path.as_str()),
        (2, "/tests"),
        "chunks_number is the number of chunk POSTs"
    );
    assert_eq!(s.fake.chunk_request_count(), 2);
    let posts: Vec<Vec<String>> = s.fake.chunk_posts().into_iter().map(|c| c.names).collect();
    assert_eq!(posts, [vec!["hello.txt", "empty"], vec!["big.bin"]]);
    let stored = s.fake.stored_files();
    assert_eq!(stored.len(), 3);
    for file in &report.files {
        let there = stored.iter().find(|f| f.name == file.name).unwrap();
        assert_eq!(there.cid, file.local_cid.to_string());
        assert_eq!(there.size, file.len);
        assert_eq!(there.folder_path, "/tests");
    }
    let chunk = s
        .fake
        .requests()
        .into_iter()
        .find(|r| {
            r.path.starts_with("/v1/upload/")
                && r.method == http::Method::POST
                && r.path.len() == "/v1/upload/".len()
        })
        .unwrap();
    assert_eq!(chunk.headers["x-dstor-comment"], "integration");
    assert!(
        chunk.headers.contains_key("content-length"),
        "the length is declared up front"
    );
}

#[tokio::test]
async fn progress_reports_bytes_per_file_then_each_phase() {
    let s = setup().await;
    let events = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&events);
    s.storage
        .upload(
            Upload::new()
                .bytes("a", "hello\n")
                .bytes("b", vec![7u8; 300 * 1024])
                .files_per_chunk(1)
                .on_progress(move |e| log.lock().unwrap().push(e.clone())),
        )
        .await
        .unwrap();
    let events = events.lock().unwrap();
    let sent: Vec<(usize, u64, u64)> = events
        .iter()
        .filter_map(|e| match e {
            Progress::Sent {
                file, sent, len, ..
            } => Some((*file, *sent, *len)),
            _ => None,
        })
        .collect();
    assert_eq!(
        sent,
        [
            (0, 6, 6),
            (1, 256 * 1024, 300 * 1024),
            (1, 300 * 1024, 300 * 1024)
        ]
    );
    let rest: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            Progress::ChunkSent { chunk, chunks } => Some(format!("chunk {chunk}/{chunks}")),
            Progress::Status { phase } => Some(phase.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        rest,
        [
            "chunk 1/2",
            "chunk 2/2",
            "ADDING_TO_IPFS",
            "SAVING_DATA",
            "DONE"
        ]
    );
}

#[tokio::test]
async fn bad_input_fails_before_any_request() {
    let s = setup().await;
    let err = s
        .storage
        .upload(Upload::new().bytes("ok", "1").file("/no/such/file.txt"))
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::Missing { .. }), "{err:?}");
    assert!(err.to_string().contains("/no/such/file.txt"), "{err}");
    let err = s
        .storage
        .upload(Upload::new().bytes("../x", "1"))
        .await
        .unwrap_err();
    assert!(err.is_bad_input(), "{err:?}");
    assert_eq!(s.fake.request_count(), 0, "nothing was sent");
}

#[tokio::test]
async fn an_error_status_is_reported_with_its_explanation_and_stage() {
    let s = setup().await;
    s.fake.push_storage_fault(StorageFault::Error {
        stage: "ADDING_TO_IPFS".into(),
        explanation: "ipfs node unreachable".into(),
    });
    let err = s
        .storage
        .upload(Upload::new().bytes("a", "1"))
        .await
        .unwrap_err();
    match &err {
        StorageError::UploadFailed { explanation, stage } => {
            assert_eq!(explanation, "ipfs node unreachable");
            assert_eq!(stage, "ADDING_TO_IPFS");
        }
        other => panic!("expected UploadFailed, got {other:?}"),
    }
    assert!(err.to_string().contains("ipfs node unreachable"), "{err}");
}

#[tokio::test]
async fn a_missed_deadline_says_the_upload_may_still_complete_and_gives_the_local_cids() {
    let wait = quick_wait().with_deadline(Duration::from_millis(300));
    let s = setup_with(FakeDstor::builder(), wait).await;
    s.fake.push_storage_fault(StorageFault::Delay {
        endpoint: StorageEndpoint::Status,
        delay: Duration::from_secs(30),
    });
    let started = std::time::Instant::now();
    let err = s
        .storage
        .upload(Upload::new().bytes("hello.txt", "hello\n"))
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the deadline cut the slow poll"
    );
    match &err {
        StorageError::DeadlinePassed { files, .. } => {
            assert_eq!(files, &[("hello.txt".to_owned(), HELLO_CID.to_owned())]);
        }
        other => panic!("expected DeadlinePassed, got {other:?}"),
    }
    assert!(
        err.to_string()
            .contains("may still complete on dStor's side"),
        "{err}"
    );
    assert!(err.is_retryable());
}

#[tokio::test]
async fn a_failing_chunk_is_not_sent_again() {
    let s = setup().await;
    s.fake.push_storage_fault(StorageFault::Status {
        endpoint: StorageEndpoint::Chunk,
        code: 503,
    });
    let err = s
        .storage
        .upload(Upload::new().bytes("a", "1"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            StorageError::Api { stage: Stage::Chunk(1), source } if source.status() == Some(503)
        ),
        "{err:?}"
    );
    assert_eq!(
        s.fake.chunk_request_count(),
        1,
        "an answered chunk may have been accepted"
    );

    let s = setup().await;
    s.fake.push_storage_fault(StorageFault::DropConnection {
        endpoint: StorageEndpoint::Chunk,
    });
    let err = s
        .storage
        .upload(Upload::new().bytes("a", "1"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StorageError::Transport {
                stage: Stage::Chunk(1),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        s.fake.chunk_request_count(),
        1,
        "a dropped connection may have been read"
    );
}

#[tokio::test]
async fn a_chunk_that_never_connected_is_sent_again_even_from_a_reader() {
    let s = setup().await;
    s.transport.refuse_connects(2);
    let report = s
        .storage
        .upload(Upload::new().reader("r.txt", 6, &b"hello\n"[..]))
        .await
        .unwrap();
    assert!(report.all_verified());
    assert_eq!(s.fake.chunk_request_count(), 1);
    assert_eq!(
        s.transport
            .chunk_attempts
            .load(std::sync::atomic::Ordering::SeqCst),
        3
    );
}

#[tokio::test]
async fn a_401_on_a_chunk_reauthorizes_once_and_reopens_the_file() {
    let s = setup().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.txt");
    std::fs::write(&path, b"hello\n").unwrap();
    s.fake.push_storage_fault(StorageFault::Status {
        endpoint: StorageEndpoint::Chunk,
        code: 401,
    });
    let report = s.storage.upload(Upload::new().file(&path)).await.unwrap();
    assert!(report.all_verified());
    assert_eq!(report.files[0].local_cid.to_string(), HELLO_CID);
    assert_eq!(
        s.fake.token_request_count(),
        2,
        "one fresh access token after the 401"
    );
    assert_eq!(s.fake.stored_files().len(), 1);
}

#[tokio::test]
async fn a_401_on_a_chunk_from_a_reader_is_an_error_not_a_replay() {
    let s = setup().await;
    s.fake.push_storage_fault(StorageFault::Status {
        endpoint: StorageEndpoint::Chunk,
        code: 401,
    });
    let err = s
        .storage
        .upload(Upload::new().reader("r", 1, &b"x"[..]))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            StorageError::Api { stage: Stage::Chunk(1), source } if source.status() == Some(401)
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_5xx_on_get_token_and_get_status_is_retried() {
    let s = setup().await;
    s.fake.push_storage_faults([
        StorageFault::Status {
            endpoint: StorageEndpoint::UploadToken,
            code: 503,
        },
        StorageFault::Status {
            endpoint: StorageEndpoint::Status,
            code: 502,
        },
    ]);
    let report = s
        .storage
        .upload(Upload::new().bytes("a", "hello\n"))
        .await
        .unwrap();
    assert!(report.all_verified());
    assert_eq!(s.fake.upload_token_request_count(), 2);
}

#[tokio::test]
async fn a_chunk_too_large_is_a_typed_413() {
    let s = setup_with(FakeDstor::builder().max_upload_bytes(1000), quick_wait()).await;
    let err = s
        .storage
        .upload(Upload::new().bytes("big", vec![0u8; 5000]))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StorageError::TooLarge { chunk: 1, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("413"), "{err}");
}

#[tokio::test]
async fn a_wrong_stored_cid_is_reported_not_hidden() {
    // The fake computes real CIDs; a stand-in status answer lists another CID for the file.
    let report = dstor_storage_report_with_wrong_hash().await;
    assert!(!report.all_verified());
    let wrong: Vec<_> = report.mismatches().collect();
    assert_eq!(wrong.len(), 1);
    assert_eq!(wrong[0].stored_cid, Some(Cid::parse(EMPTY_CID).unwrap()));
    let err = report.clone().into_verified().unwrap_err();
    assert!(matches!(err, StorageError::NotVerified { .. }), "{err:?}");
    assert!(err.to_string().contains("hello.txt"), "{err}");
}

/// An upload whose status answer claims `hello.txt` is the empty file.
async fn dstor_storage_report_with_wrong_hash() -> dstor_storage::UploadReport {
    crate::support::scripted_upload(&format!(
        r#"{{"status":"DONE","data":[{{"Hash":"{EMPTY_CID}","Name":"hello.txt"}}]}}"#
    ))
    .await
    .unwrap()
}
