//! Scripted faults of the storage endpoints and the node.

use std::time::Duration;

use dstor_mock::{FakeDstor, StorageEndpoint, StorageFault};

use crate::common::{Upload, multipart, multipart_type, raw_with_body, request};

#[tokio::test]
async fn a_5xx_on_a_chunk_stores_and_counts_nothing() {
    let server = FakeDstor::start().await.unwrap();
    let upload = Upload::start(&server, 1, "/").await;
    server.push_storage_fault(StorageFault::Status {
        endpoint: StorageEndpoint::Chunk,
        code: 503,
    });
    let reply = upload.chunk(&[("a.txt", b"hello\n")]).await;
    assert_eq!(reply.status, 503);
    assert_eq!(reply.json()["message"], "Service Unavailable");
    assert!(server.stored_files().is_empty());
    assert_eq!(upload.stage().await, "UPLOADING");
    // Sent again, the chunk is the upload's one chunk.
    assert_eq!(upload.chunk(&[("a.txt", b"hello\n")]).await.status, 200);
    assert_eq!(upload.stage().await, "ADDING_TO_IPFS");
    assert_eq!(server.chunk_request_count(), 2);
}

#[tokio::test]
async fn a_dropped_connection_on_a_chunk_answers_nothing_and_stores_nothing() {
    let server = FakeDstor::start().await.unwrap();
    let upload = Upload::start(&server, 1, "/").await;
    server.push_storage_fault(StorageFault::DropConnection {
        endpoint: StorageEndpoint::Chunk,
    });
    let content_type = multipart_type();
    let received = raw_with_body(
        server.addr(),
        "POST",
        "/v1/upload/",
        &[
            ("authorization", &upload.bearer),
            ("x-dstor-upload-token", &upload.token),
            ("content-type", &content_type),
        ],
        &multipart(&[("a.txt", b"hello\n")]),
    )
    .await;
    // Closed, or reset while the body was still being sent.
    assert!(received.map_or(true, |bytes| bytes.is_empty()));
    assert!(server.stored_files().is_empty());
    assert_eq!(upload.stage().await, "UPLOADING");
    assert_eq!(server.pending_storage_faults(), 0);
}

#[tokio::test]
async fn a_401_once_hits_the_next_storage_request_whatever_it_is() {
    let server = FakeDstor::start().await.unwrap();
    let upload = Upload::start(&server, 1, "/").await;
    for endpoint in [StorageEndpoint::Any, StorageEndpoint::Chunk] {
        server.push_storage_fault(StorageFault::Status {
            endpoint,
            code: 401,
        });
    }
    // Any: taken by the status poll, with a valid bearer and upload token.
    assert_eq!(upload.status().await.status, 401);
    assert_eq!(upload.stage().await, "UPLOADING", "once only");
    // Chunk: waited for the chunk; its body was read, then refused.
    let reply = upload.chunk(&[("a.txt", b"hello\n")]).await;
    assert_eq!(reply.status, 401);
    assert!(server.stored_files().is_empty());
    assert_eq!(upload.chunk(&[("a.txt", b"hello\n")]).await.status, 200);
    assert_eq!(server.pending_storage_faults(), 0);

    // And on get-token.
    server.push_storage_fault(StorageFault::Status {
        endpoint: StorageEndpoint::UploadToken,
        code: 401,
    });
    let reply = crate::common::send(
        server.addr(),
        "POST",
        "/v1/upload/get-token/",
        &[("authorization", &upload.bearer)],
        br#"{"chunks_number": 1, "folder_path": "/"}"#,
    )
    .await;
    assert_eq!(reply.status, 401);
}

#[tokio::test]
async fn faults_for_other_endpoints_wait_their_turn() {
    let server = FakeDstor::start().await.unwrap();
    server.push_storage_faults([
        StorageFault::Status {
            endpoint: StorageEndpoint::Status,
            code: 500,
        },
        StorageFault::WrongBytes,
    ]);
    let upload = Upload::start(&server, 1, "/").await;
    assert_eq!(upload.chunk(&[("a.txt", b"hello\n")]).await.status, 200);
    assert_eq!(server.pending_storage_faults(), 2);
    assert_eq!(upload.status().await.status, 500);
    assert_eq!(server.pending_storage_faults(), 1);
}

#[tokio::test]
async fn a_slow_status_answers_late_once() {
    let server = FakeDstor::start().await.unwrap();
    let upload = Upload::start(&server, 1, "/").await;
    assert_eq!(upload.chunk(&[("a.txt", b"hello\n")]).await.status, 200);
    server.push_storage_fault(StorageFault::Delay {
        endpoint: StorageEndpoint::Status,
        delay: Duration::from_secs(60),
    });
    let (addr, bearer, token) = (upload.addr, upload.bearer.clone(), upload.token.clone());
    let mut slow = tokio::spawn(async move {
        request(
            addr,
            "GET",
            "/v1/upload/get-status/",
            &[("authorization", &bearer), ("x-dstor-upload-token", &token)],
        )
        .await
    });
    assert!(
        tokio::time::timeout(Duration::from_millis(200), &mut slow)
            .await
            .is_err(),
        "the delayed poll answered"
    );
    // The next poll is not delayed; the slow one has not moved the stage on.
    assert_eq!(upload.stage().await, "ADDING_TO_IPFS");
    slow.abort();
}

#[tokio::test]
async fn error_at_a_stage_is_reported_and_sticks() {
    let server = FakeDstor::start().await.unwrap();
    server.push_storage_fault(StorageFault::Error {
        stage: "SAVING_DATA".into(),
        explanation: "disk quota exceeded".into(),
    });
    let upload = Upload::start(&server, 1, "/").await;
    assert_eq!(upload.stage().await, "UPLOADING");
    assert_eq!(upload.chunk(&[("a.txt", b"hello\n")]).await.status, 200);
    assert_eq!(upload.stage().await, "ADDING_TO_IPFS");
    let error = serde_json::json!({
        "status": "ERROR",
        "errorExplanation": "disk quota exceeded",
        "errorAtStage": "SAVING_DATA",
    });
    assert_eq!(upload.status().await.json(), error);
    assert_eq!(upload.status().await.json(), error, "ERROR stays");
    let cid = "QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN";
    let reply = request(server.addr(), "GET", &format!("/ipfs/{cid}"), &[]).await;
    assert_eq!(reply.status, 404, "a failed upload is not served");

    // A stage of another name fails the first poll after the last chunk.
    server.push_storage_fault(StorageFault::Error {
        stage: "PINNING".into(),
        explanation: "node offline".into(),
    });
    let upload = Upload::start(&server, 1, "/").await;
    assert_eq!(upload.stage().await, "UPLOADING");
    assert_eq!(upload.chunk(&[("a.txt", b"hello\n")]).await.status, 200);
    let answer = upload.status().await.json();
    assert_eq!(answer["status"], "ERROR");
    assert_eq!(answer["errorAtStage"], "PINNING");
}
