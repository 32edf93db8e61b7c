//! `dstor upload` against the fake: its flags, its output, each of its exit codes.

use dstor_mock::{FakeDstor, StorageEndpoint, StorageFault};

use crate::support::{
    EMPTY_CID, HELLO_CID, against, against_command, assert_no_credential, dstor, files, path, run,
};

#[tokio::test]
async fn three_files_in_two_chunks_one_line_each_in_order() {
    let server = FakeDstor::start().await.unwrap();
    let dir = files(&[
        ("c.txt", b"hello\n"),
        ("a.txt", b""),
        ("b.bin", &[7; 300_000]),
    ]);
    let cache = tempfile::tempdir().unwrap();
    let args = [
        "upload",
        "--files-per-chunk",
        "2",
        "--folder-path",
        "/reports",
        "--comment",
        "nightly run",
        &path(&dir, "c.txt"),
        &path(&dir, "a.txt"),
        &path(&dir, "b.bin"),
    ];
    let out = against(&server, &args, cache.path()).await;
    assert_eq!(out.code, 0, "{out:?}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{out:?}");
    assert_eq!(lines[0], format!("{HELLO_CID}  c.txt"));
    assert_eq!(lines[1], format!("{EMPTY_CID}  a.txt"));
    assert!(
        lines[2].ends_with("  b.bin") && lines[2].starts_with("Qm"),
        "{out:?}"
    );
    // Not a terminal: no progress bar, nothing at all on stderr.
    assert_eq!(out.stderr, "");
    // One upload token announcing two chunks, then two chunk POSTs of 2 and 1 files.
    assert_eq!(server.upload_token_request_count(), 1);
    let asked = server.upload_token_requests();
    assert_eq!(asked.len(), 1);
    assert_eq!(
        asked[0].chunks_number, 2,
        "chunks_number is the number of POSTs"
    );
    assert_eq!(asked[0].folder_path, "/reports");
    assert_eq!(server.chunk_request_count(), 2);
    let posts: Vec<Vec<String>> = server.chunk_posts().into_iter().map(|c| c.names).collect();
    assert_eq!(posts, [vec!["c.txt", "a.txt"], vec!["b.bin"]]);
    let stored = server.stored_files();
    assert_eq!(stored.len(), 3);
    assert!(
        stored.iter().all(|f| f.folder_path == "/reports"),
        "{stored:?}"
    );
    let chunks: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v1/upload/")
        .collect();
    assert!(
        chunks
            .iter()
            .all(|r| r.headers["x-dstor-comment"] == "nightly run")
    );
    assert_no_credential(&out, &server);
}

#[tokio::test]
async fn json_names_size_url_and_verification() {
    let server = FakeDstor::start().await.unwrap();
    let dir = files(&[("hello.txt", b"hello\n")]);
    let cache = tempfile::tempdir().unwrap();
    let out = against(
        &server,
        &["upload", "--json", &path(&dir, "hello.txt")],
        cache.path(),
    )
    .await;
    assert_eq!(out.code, 0, "{out:?}");
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let file = &json["files"][0];
    assert_eq!(file["name"], "hello.txt");
    assert_eq!(file["cid"], HELLO_CID);
    assert_eq!(file["size"], 6);
    assert_eq!(file["verified"], true);
    assert_eq!(
        file["url"],
        format!("{}/ipfs/{HELLO_CID}", server.base_url())
    );
    assert_eq!(json["files"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn recursive_names_files_by_their_path_under_the_directory() {
    let server = FakeDstor::start().await.unwrap();
    let dir = files(&[("b.txt", b"hello\n"), ("sub/a.txt", b"")]);
    let cache = tempfile::tempdir().unwrap();
    let root = path(&dir, "");
    let refused = against(&server, &["upload", &root], cache.path()).await;
    assert_eq!(refused.code, 3, "{refused:?}");
    assert!(refused.stderr.contains("--recursive"), "{refused:?}");
    assert_eq!(
        server.request_count(),
        0,
        "nothing is sent for a refused input"
    );
    let out = against(&server, &["upload", "-r", &root], cache.path()).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.stdout,
        format!("{HELLO_CID}  b.txt\n{EMPTY_CID}  sub/a.txt\n")
    );
}

#[tokio::test]
async fn a_missing_file_is_named_and_nothing_is_sent() {
    let server = FakeDstor::start().await.unwrap();
    let dir = files(&[("hello.txt", b"hello\n")]);
    let cache = tempfile::tempdir().unwrap();
    let args = ["upload", &path(&dir, "hello.txt"), &path(&dir, "gone.txt")];
    let out = against(&server, &args, cache.path()).await;
    assert_eq!(out.code, 3, "{out:?}");
    assert!(out.stderr.contains("gone.txt") && out.stderr.contains("nothing was uploaded"));
    assert_eq!(out.stderr.lines().count(), 1, "{out:?}");
    assert_eq!(out.stdout, "");
    assert_eq!(server.request_count(), 0);
    // No key: a configuration error before any request too.
    let mut command = dstor(&["upload", &path(&dir, "hello.txt")], cache.path());
    command.env("DSTOR_ENDPOINT", server.base_url());
    let no_key = run(command, None).await;
    assert_eq!(no_key.code, 3, "{no_key:?}");
    assert!(no_key.stderr.contains("DSTOR_API_KEY"), "{no_key:?}");
    assert_eq!(server.request_count(), 0);
}

#[tokio::test]
async fn dstor_error_is_exit_8_with_its_explanation_and_stage() {
    let server = FakeDstor::start().await.unwrap();
    server.push_storage_fault(StorageFault::Error {
        stage: "SAVING_DATA".into(),
        explanation: "the pinning service is full".into(),
    });
    let dir = files(&[("hello.txt", b"hello\n")]);
    let cache = tempfile::tempdir().unwrap();
    let out = against(&server, &["upload", &path(&dir, "hello.txt")], cache.path()).await;
    assert_eq!(out.code, 8, "{out:?}");
    assert!(
        out.stderr.contains("dStor could not store the upload"),
        "{out:?}"
    );
    assert!(
        out.stderr.contains("the pinning service is full"),
        "{out:?}"
    );
    assert!(out.stderr.contains("SAVING_DATA"), "{out:?}");
    assert_eq!(out.stderr.lines().count(), 1, "{out:?}");
    assert_eq!(out.stdout, "");
    assert_no_credential(&out, &server);
}

#[tokio::test]
async fn a_401_once_reauthorizes_and_the_upload_completes() {
    let server = FakeDstor::start().await.unwrap();
    server.push_storage_fault(StorageFault::Status {
        endpoint: StorageEndpoint::Chunk,
        code: 401,
    });
    let dir = files(&[("hello.txt", b"hello\n")]);
    let cache = tempfile::tempdir().unwrap();
    let out = against(&server, &["upload", &path(&dir, "hello.txt")], cache.path()).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout, format!("{HELLO_CID}  hello.txt\n"));
    assert_eq!(
        server.token_request_count(),
        2,
        "one fresh token after the 401"
    );
    assert_eq!(server.pending_storage_faults(), 0);
    assert_no_credential(&out, &server);
}

#[tokio::test]
async fn a_rejected_key_a_refusal_and_a_dead_host_have_their_codes() {
    let server = FakeDstor::start().await.unwrap();
    let dir = files(&[("hello.txt", b"hello\n")]);
    let file = path(&dir, "hello.txt");
    let cache = tempfile::tempdir().unwrap();

    let wrong = "W".repeat(64);
    let mut command = against_command(&server, &["upload", &file], cache.path());
    command.env("DSTOR_API_KEY", &wrong);
    let rejected = run(command, None).await;
    assert_eq!(rejected.code, 4, "{rejected:?}");
    assert!(!rejected.stderr.contains(&wrong));

    server.push_storage_fault(StorageFault::Status {
        endpoint: StorageEndpoint::UploadToken,
        code: 400,
    });
    let refused = against(&server, &["upload", &file], cache.path()).await;
    assert_eq!(refused.code, 6, "{refused:?}");
    assert!(refused.stderr.contains("(400)"), "{refused:?}");
    assert_no_credential(&refused, &server);

    // A port bound but not listening refuses connections, and no other test can take it
    // while the socket is held (a listener dropped here could be the next test's fake).
    let dead = tokio::net::TcpSocket::new_v4().unwrap();
    dead.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let url = format!("http://{}", dead.local_addr().unwrap());
    let mut command = against_command(&server, &["upload", &file], cache.path());
    command.env("DSTOR_ENDPOINT", &url);
    let unreachable = run(command, None).await;
    assert_eq!(unreachable.code, 5, "{unreachable:?}");
}

#[tokio::test]
async fn a_slow_status_past_wait_timeout_says_the_upload_may_still_complete() {
    let server = FakeDstor::start().await.unwrap();
    server.push_storage_fault(StorageFault::Delay {
        endpoint: StorageEndpoint::Status,
        delay: std::time::Duration::from_secs(3),
    });
    let dir = files(&[("hello.txt", b"hello\n")]);
    let cache = tempfile::tempdir().unwrap();
    let args = ["upload", "--wait-timeout", "1s", &path(&dir, "hello.txt")];
    let out = against(&server, &args, cache.path()).await;
    assert_eq!(out.code, 6, "{out:?}");
    assert!(out.stderr.contains("may still complete"), "{out:?}");
    assert!(out.stderr.contains("--wait-timeout"), "{out:?}");
}
