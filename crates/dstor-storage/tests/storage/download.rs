//! Downloads: the gateway's redirect to a storage node, verification, nothing kept on
//! failure, and the redirect policy.

use std::sync::{Arc, Mutex};

use dstor_auth::{Body, HttpTransport, TransportError, TransportErrorKind, async_trait};
use dstor_mock::StorageFault;
use dstor_storage::{Download, Progress, StorageError, Upload};
use dstor_types::{Cid, CidBuilder};
use http::{Request, Response};

use crate::support::{HELLO_CID, Setup, scripted, scripted_storage, setup};

fn entries(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn an_uploaded_file_comes_back_verified_through_the_storage_node() {
    let s = setup().await;
    let data: Vec<u8> = (0..700_000u32).map(|i| (i % 241) as u8).collect();
    let report = s
        .storage
        .upload(Upload::new().bytes("data.bin", data.clone()))
        .await
        .unwrap();
    let cid = report.files[0].local_cid;

    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("copy.bin");
    let got = s.storage.download_to_file(&cid, &target).await.unwrap();
    assert_eq!(got.cid, cid);
    assert!(got.verified);
    assert_eq!(got.bytes, data.len() as u64);
    assert_eq!(
        got.redirects, 1,
        "the gateway sends the client to the storage node"
    );
    assert_eq!(std::fs::read(&target).unwrap(), data);
    assert_eq!(
        entries(dir.path()),
        ["copy.bin"],
        "no temporary file is left"
    );

    let mut buffer = Vec::new();
    s.storage
        .download_to_writer(&cid, &mut buffer)
        .await
        .unwrap();
    assert_eq!(buffer, data);

    // No credential reached the gateway or the node.
    let node = s.fake.node_requests();
    assert_eq!(node.len(), 2);
    let gateway: Vec<_> = s
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/ipfs/"))
        .collect();
    assert_eq!(gateway.len(), 2);
    for request in node.iter().chain(&gateway) {
        assert!(
            !request.headers.contains_key("authorization"),
            "{request:?}"
        );
        assert!(
            !request.headers.contains_key("x-dstor-upload-token"),
            "{request:?}"
        );
    }
}

/// Uploads `hello.txt` ("hello\n") through `s`: the CID it is stored under.
async fn stored_hello(s: &Setup) -> Cid {
    let report = s
        .storage
        .upload(Upload::new().bytes("hello.txt", "hello\n"))
        .await
        .unwrap();
    report.files[0].local_cid
}

#[tokio::test]
async fn wrong_bytes_are_refused_and_nothing_is_kept() {
    let s = setup().await;
    let cid = stored_hello(&s).await;
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("hello.txt");
    std::fs::write(&target, b"previous").unwrap();

    s.fake.push_storage_fault(StorageFault::WrongBytes);
    let err = s.storage.download_to_file(&cid, &target).await.unwrap_err();
    match &err {
        StorageError::CidMismatch { expected, actual } => {
            assert_eq!(expected, HELLO_CID);
            assert_ne!(actual, HELLO_CID);
        }
        other => panic!("expected CidMismatch, got {other:?}"),
    }
    assert_eq!(
        entries(dir.path()),
        ["hello.txt"],
        "no partial file beside the target"
    );
    assert_eq!(
        std::fs::read(&target).unwrap(),
        b"previous",
        "the old file is untouched"
    );

    let fresh = dir.path().join("new.txt");
    s.fake.push_storage_fault(StorageFault::WrongBytes);
    s.storage.download_to_file(&cid, &fresh).await.unwrap_err();
    assert!(!fresh.exists(), "nothing under the target's name");
}

/// Each progress event of a download: the bytes received and the length declared.
type Received = Arc<Mutex<Vec<(u64, Option<u64>)>>>;

/// A download's options that record every progress event.
fn recording(verify: bool) -> (Download, Received) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let options = Download::new().verify(verify).on_progress(move |event| {
        if let Progress::Received { received, len } = event {
            log.lock().unwrap().push((*received, *len));
        }
    });
    (options, seen)
}

#[tokio::test]
async fn progress_counts_the_bytes_written_against_the_declared_length() {
    let s = setup().await;
    let data: Vec<u8> = (0..900_000u32).map(|i| (i % 239) as u8).collect();
    let len = data.len() as u64;
    let report = s
        .storage
        .upload(Upload::new().bytes("data.bin", data))
        .await
        .unwrap();
    let cid = report.files[0].local_cid;
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("copy.bin");

    let (options, seen) = recording(true);
    let got = s
        .storage
        .download_to_file_with(&cid, &target, &options)
        .await
        .unwrap();
    assert!(got.verified);
    let to_file = seen.lock().unwrap().clone();
    let (mut sink, seen_writer) = (Vec::new(), recording(true));
    s.storage
        .download_to_writer_with(&cid, &mut sink, &seen_writer.0)
        .await
        .unwrap();
    let to_writer = seen_writer.1.lock().unwrap().clone();
    for events in [to_file, to_writer] {
        assert!(events.len() > 1, "a large download reports more than once");
        assert!(events.windows(2).all(|w| w[0].0 < w[1].0), "{events:?}");
        assert_eq!(events.last(), Some(&(len, Some(len))));
        assert!(events.iter().all(|e| e.1 == Some(len)));
    }
}

#[tokio::test]
async fn without_verification_wrong_bytes_are_kept_and_reported_unverified() {
    let s = setup().await;
    let cid = stored_hello(&s).await;
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("served.txt");

    s.fake.push_storage_fault(StorageFault::WrongBytes);
    let got = s
        .storage
        .download_to_file_with(&cid, &target, &Download::new().verify(false))
        .await
        .unwrap();
    assert!(!got.verified, "the mismatch is reported, not hidden");
    assert_ne!(got.cid, cid);
    let kept = std::fs::read(&target).unwrap();
    assert_eq!(kept.len() as u64, got.bytes);
    let mut builder = CidBuilder::new();
    builder.update(&kept);
    assert_eq!(
        builder.finish(),
        got.cid,
        "the CID reported is that of the file"
    );
    assert_eq!(
        entries(dir.path()),
        ["served.txt"],
        "no temporary file is left"
    );

    // The same bytes, verified as usual: refused.
    s.fake.push_storage_fault(StorageFault::WrongBytes);
    let mut sink = Vec::new();
    let err = s
        .storage
        .download_to_writer_with(&cid, &mut sink, &Download::new())
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::CidMismatch { .. }), "{err:?}");
}

/// A gateway on no network that answers with these pieces of body, declaring 6 bytes.
#[derive(Debug)]
struct Pieces(fn() -> Vec<Result<bytes::Bytes, std::io::Error>>);

#[async_trait]
impl HttpTransport for Pieces {
    async fn send(&self, _: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        Err(TransportError::new(TransportErrorKind::Other))
    }

    async fn send_streaming(&self, _: Request<Body>) -> Result<Response<Body>, TransportError> {
        let body = Body::from_stream(futures_util::stream::iter((self.0)()));
        Ok(Response::builder()
            .header("content-length", "6")
            .body(body)
            .unwrap())
    }
}

/// An answer that breaks after its first block.
fn breaking() -> Vec<Result<bytes::Bytes, std::io::Error>> {
    vec![
        Ok(bytes::Bytes::from_static(b"hel")),
        Err(std::io::Error::other("connection reset")),
    ]
}

/// `hello\n` in pieces, some of them empty.
fn with_empty_pieces() -> Vec<Result<bytes::Bytes, std::io::Error>> {
    [&b""[..], b"hel", b"", b"lo\n", b""]
        .into_iter()
        .map(|piece| Ok(bytes::Bytes::from_static(piece)))
        .collect()
}

#[tokio::test]
async fn a_download_cut_short_leaves_nothing_verified_or_not() {
    let storage = scripted_storage(Pieces(breaking));
    let cid = Cid::parse(HELLO_CID).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("fresh.txt");
    let kept = dir.path().join("kept.txt");
    std::fs::write(&kept, b"previous").unwrap();
    for verify in [true, false] {
        for target in [&fresh, &kept] {
            let (options, seen) = recording(verify);
            let err = storage
                .download_to_file_with(&cid, target, &options)
                .await
                .unwrap_err();
            assert!(
                matches!(err, StorageError::Transport { .. }),
                "verify {verify}: {err:?}"
            );
            assert_eq!(
                *seen.lock().unwrap(),
                [(3, Some(6))],
                "the first block was received"
            );
        }
        assert!(!fresh.exists(), "nothing under the target's name");
        assert_eq!(
            std::fs::read(&kept).unwrap(),
            b"previous",
            "the old file is untouched"
        );
        assert_eq!(
            entries(dir.path()),
            ["kept.txt"],
            "no temporary file is left"
        );
    }
}

#[tokio::test]
async fn empty_pieces_of_a_body_are_no_error() {
    let storage = scripted_storage(Pieces(with_empty_pieces));
    let cid = Cid::parse(HELLO_CID).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("hello.txt");
    let done = storage.download_to_file(&cid, &target).await.unwrap();
    assert!(done.verified);
    assert_eq!(std::fs::read(&target).unwrap(), b"hello\n");
    let mut out = Vec::new();
    let done = storage.download_to_writer(&cid, &mut out).await.unwrap();
    assert!(done.verified);
    assert_eq!(out, b"hello\n");
}

#[tokio::test]
async fn an_unknown_cid_is_not_served() {
    let s = setup().await;
    let cid = Cid::parse(HELLO_CID).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let err = s
        .storage
        .download_to_file(&cid, dir.path().join("x"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StorageError::NotServed { status: 404, .. }),
        "{err:?}"
    );
    assert!(entries(dir.path()).is_empty());
}

/// A gateway that redirects `hops` times (relative Locations) before serving `hello\n`.
fn redirecting(hops: usize) -> (dstor_storage::Storage, crate::support::Seen) {
    let (transport, seen) = scripted(move |parts| {
        let path = parts.uri.path().to_owned();
        let hop: usize = path
            .rsplit('/')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        if hop < hops {
            (
                307,
                vec![("location", format!("/hop/{}", hop + 1))],
                String::new(),
            )
        } else {
            (200, vec![], "hello\n".to_owned())
        }
    });
    (scripted_storage(transport), seen)
}

#[tokio::test]
async fn five_redirects_are_followed_and_a_sixth_is_refused() {
    let cid = Cid::parse(HELLO_CID).unwrap();
    let (storage, seen) = redirecting(5);
    let mut out = Vec::new();
    let got = storage.download_to_writer(&cid, &mut out).await.unwrap();
    assert_eq!((got.redirects, out.as_slice()), (5, &b"hello\n"[..]));
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen[0].uri.to_string(),
        format!("http://127.0.0.1:9/ipfs/{HELLO_CID}")
    );
    assert_eq!(seen[5].uri.to_string(), "http://127.0.0.1:9/hop/5");
    assert!(
        seen.iter()
            .all(|p| !p.headers.contains_key("authorization"))
    );

    let (storage, _) = redirecting(6);
    let err = storage
        .download_to_writer(&cid, &mut Vec::new())
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::Redirect { .. }), "{err:?}");
    assert!(err.to_string().contains("more than 5"), "{err}");
}

#[tokio::test]
async fn a_redirect_to_plain_http_elsewhere_is_refused_before_it_is_followed() {
    let (transport, seen) = scripted(|_| {
        (
            308,
            vec![("location", "http://evil.example/ipfs/x".to_owned())],
            String::new(),
        )
    });
    let storage = scripted_storage(transport);
    let cid = Cid::parse(HELLO_CID).unwrap();
    let err = storage
        .download_to_writer(&cid, &mut Vec::new())
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::Redirect { .. }), "{err:?}");
    assert_eq!(
        seen.lock().unwrap().len(),
        1,
        "the insecure hop was never requested"
    );
}

#[tokio::test]
async fn a_cid_that_cannot_be_verified_is_refused() {
    let (transport, seen) = scripted(|_| (200, vec![], String::new()));
    let storage = scripted_storage(transport);
    let v1 = Cid::parse("bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi").unwrap();
    let err = storage
        .download_to_writer(&v1, &mut Vec::new())
        .await
        .unwrap_err();
    assert!(
        matches!(err, StorageError::UnsupportedCid { .. }),
        "{err:?}"
    );
    assert!(seen.lock().unwrap().is_empty());
}
