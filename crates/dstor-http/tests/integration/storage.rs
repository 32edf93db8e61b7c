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
