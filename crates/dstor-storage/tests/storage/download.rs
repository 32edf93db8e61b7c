//! Downloads: the gateway's redirect to a storage node, verification, nothing kept on
//! failure, and the redirect policy.

use dstor_mock::StorageFault;
use dstor_storage::{StorageError, Upload};
use dstor_types::Cid;

use crate::support::{HELLO_CID, scripted, scripted_storage, setup};

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

#[tokio::test]
async fn wrong_bytes_are_refused_and_nothing_is_kept() {
    let s = setup().await;
    let report = s
        .storage
        .upload(Upload::new().bytes("hello.txt", "hello\n"))
        .await
        .unwrap();
    let cid = report.files[0].local_cid;
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
