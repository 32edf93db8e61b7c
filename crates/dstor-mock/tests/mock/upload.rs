//! The upload flow: upload token, chunks, status, spooling.

use dstor_mock::FakeDstor;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{
    Upload, access_token, multipart, multipart_end, multipart_type, parse, part_head, pattern,
    request, send,
};

const EMPTY: &str = "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH";
const HELLO: &str = "QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN";
/// `pattern(256 KiB + 1)`, two chunks, as rust-unixfs 0.6.0 computes it.
const TWO_CHUNKS: &str = "QmUSjGawaz4ptvREcMKSMJneWCa5j8dAz2wSAAvHtW2rnB";
/// `pattern(16 MiB)`, as rust-unixfs 0.6.0 computes it.
const SIXTEEN_MIB: &str = "QmVbjbFdjCo1vTuq7TxsoFM4nDwt1u5vpDgBBhFTTEkpVM";

#[tokio::test]
async fn two_chunks_move_through_the_stages_to_real_cids() {
    let server = FakeDstor::start().await.unwrap();
    let upload = Upload::start(&server, 2, "docs/2026").await;
    assert!(upload.token.len() >= 32);
    assert_eq!(upload.stage().await, "UPLOADING");

    let reply = upload
        .chunk(&[("hello.txt", b"hello\n"), ("empty.txt", b"")])
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["status"], "ok");
    assert_eq!(upload.stage().await, "UPLOADING", "one chunk of two");

    let big = pattern(256 * 1024 + 1);
    assert_eq!(upload.chunk(&[("big.bin", &big)]).await.status, 200);
    assert_eq!(upload.stage().await, "ADDING_TO_IPFS");
    assert_eq!(upload.stage().await, "SAVING_DATA");
    let done = upload.status().await.json();
    let expected = serde_json::json!([
        {"Hash": HELLO, "Name": "hello.txt"},
        {"Hash": EMPTY, "Name": "empty.txt"},
        {"Hash": TWO_CHUNKS, "Name": "big.bin"},
    ]);
    assert_eq!(
        done,
        serde_json::json!({"status": "DONE", "data": expected})
    );
    assert_eq!(upload.status().await.json(), done, "DONE stays DONE");

    // A chunk beyond chunks_number is refused, and nothing changes.
    let reply = upload.chunk(&[("late.txt", b"late")]).await;
    assert_eq!(reply.status, 400);
    assert!(
        reply.json()["message"]
            .as_str()
            .unwrap()
            .contains("2 chunks")
    );

    let stored = server.stored_files();
    let summary: Vec<_> = stored
        .iter()
        .map(|file| (file.name.as_str(), file.cid.as_str(), file.size))
        .collect();
    assert_eq!(
        summary,
        [
            ("hello.txt", HELLO, 6),
            ("empty.txt", EMPTY, 0),
            ("big.bin", TWO_CHUNKS, 256 * 1024 + 1),
        ]
    );
    assert!(stored.iter().all(|file| file.folder_path == "docs/2026"));
    assert_eq!(server.upload_token_request_count(), 1);
    assert_eq!(server.chunk_request_count(), 3);
    assert_eq!(server.status_request_count(), 6);
    // The records keep the credentials but never print them.
    let recorded = server.requests();
    let last = recorded.last().unwrap();
    assert_eq!(last.headers["x-dstor-upload-token"], upload.token.as_str());
    let debug = format!("{recorded:?}");
    let jwt = upload.bearer.trim_start_matches("Bearer ");
    assert!(
        !debug.contains(&upload.token) && !debug.contains(jwt),
        "{debug}"
    );
}

#[tokio::test]
async fn paths_without_the_trailing_slash_work_and_other_methods_get_405() {
    let server = FakeDstor::start().await.unwrap();
    let bearer = format!("Bearer {}", access_token(&server).await);
    let reply = send(
        server.addr(),
        "POST",
        "/v1/upload/get-token",
        &[("authorization", &bearer)],
        br#"{"chunks_number": 1, "folder_path": "/"}"#,
    )
    .await;
    assert_eq!(reply.status, 200);
    let token = reply.json()["token"].as_str().unwrap().to_owned();
    let body = multipart(&[("a.txt", b"hello\n")]);
    let content_type = multipart_type();
    let headers = [
        ("authorization", bearer.as_str()),
        ("x-dstor-upload-token", token.as_str()),
        ("content-type", content_type.as_str()),
    ];
    assert_eq!(
        send(server.addr(), "POST", "/v1/upload", &headers, &body)
            .await
            .status,
        200
    );
    let reply = request(server.addr(), "GET", "/v1/upload/get-status", &headers[..2]).await;
    assert_eq!(reply.json()["status"], "ADDING_TO_IPFS");

    for (method, path, allow) in [
        ("GET", "/v1/upload/get-token/", "POST"),
        ("GET", "/v1/upload/", "POST"),
        ("POST", "/v1/upload/get-status/", "GET"),
    ] {
        let reply = request(server.addr(), method, path, &headers[..2]).await;
        assert_eq!(reply.status, 405, "{method} {path}");
        assert_eq!(reply.header("allow"), Some(allow));
    }
}

/// The peak resident memory of this process, in bytes.
#[cfg(target_os = "linux")]
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|line| line.starts_with("VmHWM:"))
        .unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// Set in the child process that measures its own peak memory.
const MEMORY_CHILD: &str = "DSTOR_MOCK_MEMORY_CHILD";

/// Runs [`multi_mib_upload_alone`] in a process of its own, so no other test's
/// memory counts.
#[cfg(target_os = "linux")]
#[test]
fn a_multi_mib_upload_is_spooled_to_disk_not_memory() {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "upload::multi_mib_upload_alone",
            "--include-ignored",
            "--test-threads=1",
        ])
        .env(MEMORY_CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[cfg(target_os = "linux")]
#[tokio::test]
#[ignore = "run in its own process by a_multi_mib_upload_is_spooled_to_disk_not_memory"]
async fn multi_mib_upload_alone() {
    const LEN: usize = 16 << 20;
    if std::env::var_os(MEMORY_CHILD).is_none() {
        return;
    }
    let server = FakeDstor::start().await.unwrap();
    let upload = Upload::start(&server, 1, "/").await;
    let content_type = multipart_type();
    let head_part = part_head("sixteen.bin");
    let end = b"\r\n"
        .iter()
        .copied()
        .chain(multipart_end())
        .collect::<Vec<u8>>();
    let len = head_part.len() + LEN + end.len();
    let before = peak_rss();

    let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let head = format!(
        "POST /v1/upload/ HTTP/1.1\r\nhost: x\r\nconnection: close\r\nauthorization: {}\r\nx-dstor-upload-token: {}\r\ncontent-type: {content_type}\r\ncontent-length: {len}\r\n\r\n",
        upload.bearer, upload.token,
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&head_part).await.unwrap();
    // Generated piece by piece: the test holds 64 KiB at a time.
    let piece = pattern(251 * 261);
    let mut sent = 0;
    while sent < LEN {
        let n = piece.len().min(LEN - sent);
        stream.write_all(&piece[..n]).await.unwrap();
        sent += n;
    }
    stream.write_all(&end).await.unwrap();
    let mut received = Vec::new();
    stream.read_to_end(&mut received).await.unwrap();
    assert_eq!(parse(&received).unwrap().status, 200);

    let grown = peak_rss().saturating_sub(before);
    assert!(
        grown < (LEN as u64) / 2,
        "peak memory grew by {grown} bytes for a {LEN}-byte upload"
    );
    let stored = server.stored_files();
    assert_eq!(stored[0].size, LEN as u64);
    assert_eq!(stored[0].cid, SIXTEEN_MIB);
    let spool: Vec<_> = std::fs::read_dir(server.spool_dir())
        .unwrap()
        .map(|entry| entry.unwrap().metadata().unwrap().len())
        .collect();
    assert_eq!(spool, [LEN as u64], "one spool file holding the bytes");
    assert_eq!(
        upload.done().await,
        serde_json::json!([{"Hash": SIXTEEN_MIB, "Name": "sixteen.bin"}])
    );
}

#[tokio::test]
async fn the_spool_directory_is_removed_on_shutdown_and_on_drop() {
    for shutdown in [true, false] {
        let server = FakeDstor::start().await.unwrap();
        let upload = Upload::start(&server, 1, "/").await;
        assert_eq!(upload.chunk(&[("a.txt", b"hello\n")]).await.status, 200);
        let dir = server.spool_dir().to_owned();
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        if shutdown {
            server.shutdown().await;
        } else {
            drop(server);
        }
        assert!(
            !dir.exists(),
            "{} is left (shutdown: {shutdown})",
            dir.display()
        );
    }
}
