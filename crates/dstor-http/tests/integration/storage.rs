//! Uploads and downloads through `DstorClient`, over the reqwest transport with streamed
//! bodies, against the fake dStor and its storage node.

use std::time::Duration;

use dstor_http::{StorageError, Upload, WaitPolicy};
use dstor_mock::{FakeDstor, StorageFault};

use crate::common::{chain, client};

fn quick() -> WaitPolicy {
    WaitPolicy::default().with_interval(Duration::from_millis(5), Duration::from_millis(20))
}

#[tokio::test]
async fn a_file_goes_up_verified_and_comes_back_verified() {
    let server = FakeDstor::start().await.unwrap();
    let client = client(&server);
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("data.bin");
    // Three CID chunks and a bit: a multi-leaf DAG on both sides.
    let data: Vec<u8> = (0..(3 * 256 * 1024 + 17) as u32)
        .map(|i| (i % 251) as u8)
        .collect();
    std::fs::write(&source, &data).unwrap();

    let report = client
        .storage(quick())
        .unwrap()
        .upload(Upload::new().file(&source).bytes("note.txt", "hello\n"))
        .await
        .unwrap()
        .into_verified()
        .unwrap();
    assert_eq!(report.files.len(), 2);
    let stored = server.stored_files();
    let cid = report.files[0].local_cid;
    assert_eq!(
        stored.iter().find(|f| f.name == "data.bin").unwrap().cid,
        cid.to_string()
    );

    let target = dir.path().join("back.bin");
    let got = client.download_to_file(&cid, &target).await.unwrap();
    assert_eq!((got.bytes, got.redirects), (data.len() as u64, 1));
    assert_eq!(std::fs::read(&target).unwrap(), data);
    for request in server.node_requests() {
        assert!(
            !request.headers.contains_key("authorization"),
            "no token to the node"
        );
    }
}

#[tokio::test]
async fn wrong_bytes_from_the_node_leave_no_file() {
    let server = FakeDstor::start().await.unwrap();
    let client = client(&server);
    let report = client
        .storage(quick())
        .unwrap()
        .upload(Upload::new().bytes("a.txt", "hello\n"))
        .await
        .unwrap();
    server.push_storage_fault(StorageFault::WrongBytes);
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("a.txt");
    let err = client
        .download_to_file(&report.files[0].local_cid, &target)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StorageError::CidMismatch { .. }),
        "{}",
        chain(&err)
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn three_files_two_per_chunk_announce_and_send_two_chunks() {
    let server = FakeDstor::start().await.unwrap();
    let client = client(&server);
    let report = client
        .upload(
            Upload::new()
                .bytes("a.txt", "a\n")
                .bytes("b.txt", "b\n")
                .bytes("c.txt", "c\n")
                .files_per_chunk(2),
        )
        .await
        .unwrap();
    assert!(report.all_verified(), "{report:#?}");
    assert_eq!(report.chunks, 2);
    let asked = server.upload_token_requests();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].chunks_number, 2);
    assert_eq!(asked[0].folder_path, "/");
    let posts: Vec<Vec<String>> = server.chunk_posts().into_iter().map(|c| c.names).collect();
    assert_eq!(posts, [vec!["a.txt", "b.txt"], vec!["c.txt"]]);
    assert_eq!(server.chunk_request_count(), 2, "no chunk POST was refused");
}

#[tokio::test]
async fn a_done_status_larger_than_the_transport_body_limit_is_read() {
    const FILES: usize = 1_000;
    let server = FakeDstor::start().await.unwrap();
    // The client's default limit on a whole answer: 64 KiB.
    let client = client(&server);
    let name = |i: usize| format!("{i:04}-{}.txt", "a-rather-long-file-name-".repeat(5));
    let mut upload = Upload::new();
    for i in 0..FILES {
        upload = upload.bytes(name(i), format!("file {i}\n"));
    }
    let report = client
        .storage(quick())
        .unwrap()
        .upload(upload)
        .await
        .unwrap()
        .into_verified()
        .unwrap();
    // What the DONE answer held: a `Hash` and a `Name` per file, well over 64 KiB.
    let listed: usize = report.files.iter().map(|f| f.name.len() + 46).sum();
    assert!(listed > 2 * dstor_http::DEFAULT_MAX_BODY_BYTES, "{listed}");
    assert_eq!(report.files.len(), FILES);
    assert_eq!(report.chunks, 10);
    assert!(report.unmatched.is_empty());
    for (i, file) in report.files.iter().enumerate() {
        assert_eq!(file.name, name(i));
    }
}
