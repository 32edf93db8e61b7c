//! `dstor get` through the fake's gateway and storage node: verified, atomic, keyless.

use dstor_mock::{FakeDstor, StorageFault};

use crate::support::{HELLO_CID, against, assert_no_credential, dstor, files, path, run};

/// Uploads `hello\n` to `server` with `dstor upload`.
async fn stored_hello(server: &FakeDstor, cache: &std::path::Path) {
    let dir = files(&[("hello.txt", b"hello\n")]);
    let out = against(server, &["upload", &path(&dir, "hello.txt")], cache).await;
    assert_eq!(out.code, 0, "{out:?}");
}

/// No request the gateway or the storage node saw carried a credential.
fn assert_no_credential_at_the_gateway(server: &FakeDstor) {
    let gateway = server
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/ipfs/"));
    let seen: Vec<_> = gateway.chain(server.node_requests()).collect();
    assert!(!seen.is_empty());
    for request in seen {
        for name in [
            "authorization",
            "api-key",
            "x-api-key",
            "x-dstor-upload-token",
            "cookie",
        ] {
            assert!(!request.headers.contains_key(name), "{request:?}");
        }
    }
}

#[tokio::test]
async fn get_to_stdout_and_to_a_file_verified_with_no_credential_sent() {
    let server = FakeDstor::start().await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    stored_hello(&server, cache.path()).await;
    // DSTOR_API_KEY is set (against() sets it): still nothing is sent.
    let out = against(&server, &["get", HELLO_CID], cache.path()).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout, "hello\n");
    assert_eq!(out.stderr, "");
    let dir = tempfile::tempdir().unwrap();
    let target = path(&dir, "copy.txt");
    let out = against(&server, &["get", HELLO_CID, "-o", &target], cache.path()).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout, "");
    assert_eq!(std::fs::read(&target).unwrap(), b"hello\n");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary file left"
    );
    assert_no_credential_at_the_gateway(&server);
    assert_no_credential(&out, &server);
}

#[tokio::test]
async fn wrong_bytes_leave_no_file_and_exit_9() {
    let server = FakeDstor::start().await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    stored_hello(&server, cache.path()).await;
    let dir = tempfile::tempdir().unwrap();
    let target = path(&dir, "copy.txt");

    server.push_storage_fault(StorageFault::WrongBytes);
    let out = against(&server, &["get", HELLO_CID, "-o", &target], cache.path()).await;
    assert_eq!(out.code, 9, "{out:?}");
    assert!(out.stderr.contains("not kept"), "{out:?}");
    assert_eq!(out.stderr.lines().count(), 1, "{out:?}");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing at -o or beside it"
    );

    // To stdout the bytes have gone already: the error says to discard them.
    server.push_storage_fault(StorageFault::WrongBytes);
    let out = against(&server, &["get", HELLO_CID], cache.path()).await;
    assert_eq!(out.code, 9, "{out:?}");
    assert!(out.stderr.contains("discard"), "{out:?}");

    // --no-verify keeps what was served.
    server.push_storage_fault(StorageFault::WrongBytes);
    let args = ["get", "--no-verify", HELLO_CID, "-o", &target];
    let out = against(&server, &args, cache.path()).await;
    assert_eq!(out.code, 0, "{out:?}");
    let kept = std::fs::read(&target).unwrap();
    assert_eq!(kept.len(), 6);
    assert_ne!(kept, b"hello\n");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["copy.txt"], "no temporary file beside it");

    // A verified download that fails leaves the file already at -o untouched.
    server.push_storage_fault(StorageFault::WrongBytes);
    let out = against(&server, &["get", HELLO_CID, "-o", &target], cache.path()).await;
    assert_eq!(out.code, 9, "{out:?}");
    assert_eq!(std::fs::read(&target).unwrap(), kept);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

    // To stdout, --no-verify passes the bytes on and succeeds.
    server.push_storage_fault(StorageFault::WrongBytes);
    let out = against(&server, &["get", "--no-verify", HELLO_CID], cache.path()).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.ends_with("ello\n"), "what was served: {out:?}");
}

#[tokio::test]
async fn a_malformed_cid_is_a_usage_error_before_any_request() {
    let server = FakeDstor::start().await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    let out = against(&server, &["get", "Qm-not-a-cid"], cache.path()).await;
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("cid"), "{out:?}");
    assert_eq!(out.stderr.lines().count(), 1, "{out:?}");
    let unknown = "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH";
    assert_eq!(server.request_count(), 0);
    // A well-formed CID the gateway does not have: a service error.
    let out = against(&server, &["get", unknown], cache.path()).await;
    assert_eq!(out.code, 6, "{out:?}");
    assert!(out.stderr.contains(unknown), "{out:?}");
}

#[tokio::test]
async fn a_plain_http_endpoint_elsewhere_is_refused_before_any_request() {
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let target = path(&dir, "x.txt");
    let args = [
        "get",
        "--endpoint",
        "http://example.com",
        HELLO_CID,
        "-o",
        &target,
    ];
    let out = run(dstor(&args, cache.path()), None).await;
    assert_eq!(out.code, 3, "{out:?}");
    assert!(out.stderr.contains("use an https endpoint"), "{out:?}");
    assert_eq!(out.stderr.lines().count(), 1, "{out:?}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
