//! The gateway's redirect, the storage node and its bytes.

use dstor_mock::{FakeDstor, StorageFault};

use crate::common::{Upload, pattern, request, spooled};

const HELLO: &str = "QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN";

/// A server holding `hello\n` and `pattern(len)`, uploaded to `DONE`; returns
/// the CID of the pattern.
async fn server_with(len: usize) -> (FakeDstor, String) {
    let server = FakeDstor::start().await.unwrap();
    let upload = Upload::start(&server, 1, "/").await;
    let big = pattern(len);
    let reply = upload
        .chunk(&[("hello.txt", b"hello\n"), ("big.bin", &big)])
        .await;
    assert_eq!(reply.status, 200);
    let data = upload.done().await;
    let cid = data[1]["Hash"].as_str().unwrap().to_owned();
    (server, cid)
}

#[tokio::test]
async fn the_gateway_redirects_to_the_node_which_serves_the_bytes() {
    let (server, cid) = server_with(3 << 20).await;
    assert_ne!(server.node_addr(), server.addr());

    let reply = request(server.addr(), "GET", &format!("/ipfs/{cid}"), &[]).await;
    assert_eq!(reply.status, 308);
    let location = reply.header("location").unwrap().to_owned();
    assert_eq!(location, format!("{}/ipfs/{cid}/", server.node_url()));
    let slash = request(server.addr(), "GET", &format!("/ipfs/{cid}/"), &[]).await;
    assert_eq!(slash.header("location"), Some(location.as_str()));

    // Like dStor's node code: no slash, a 308 adding it.
    let node = server.node_addr();
    let reply = request(node, "GET", &format!("/ipfs/{cid}"), &[]).await;
    assert_eq!(reply.status, 308);
    assert_eq!(
        reply.header("location"),
        Some(format!("/ipfs/{cid}/").as_str())
    );

    let reply = request(node, "GET", &format!("/ipfs/{cid}/"), &[]).await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-length"),
        Some((3u64 << 20).to_string().as_str())
    );
    assert_eq!(
        reply.header("content-type"),
        Some("application/octet-stream")
    );
    assert!(reply.body == pattern(3 << 20), "the bytes uploaded");

    let head = crate::common::raw(node, "HEAD", &format!("/ipfs/{HELLO}/"), &[])
        .await
        .unwrap();
    let head = String::from_utf8(head).unwrap().to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("content-length: 6\r\n"), "{head}");
    assert!(head.ends_with("\r\n\r\n"), "a head only: {head}");
    let reply = request(node, "GET", &format!("/ipfs/{HELLO}/"), &[]).await;
    assert_eq!(reply.body, b"hello\n");

    // The node saw exactly the requests sent to it, headers included.
    let seen: Vec<_> = server
        .node_requests()
        .iter()
        .map(|r| (r.method.to_string(), r.path.clone()))
        .collect();
    let want = |method: &str, path: String| (method.to_owned(), path);
    assert_eq!(
        seen,
        [
            want("GET", format!("/ipfs/{cid}")),
            want("GET", format!("/ipfs/{cid}/")),
            want("HEAD", format!("/ipfs/{HELLO}/")),
            want("GET", format!("/ipfs/{HELLO}/")),
        ]
    );
    let node_requests = server.node_requests();
    assert!(
        node_requests
            .iter()
            .all(|r| !r.headers.contains_key("authorization"))
    );
    assert!(
        server
            .requests()
            .iter()
            .all(|r| !r.path.starts_with("/ipfs/") || r.headers.get("host").is_some())
    );
}

#[tokio::test]
async fn the_node_records_every_header_it_is_sent() {
    let server = FakeDstor::start().await.unwrap();
    let node = server.node_addr();
    let reply = request(
        node,
        "GET",
        &format!("/ipfs/{HELLO}/"),
        &[
            ("authorization", "Bearer leaked"),
            ("api-key", "leaked-key"),
        ],
    )
    .await;
    assert_eq!(reply.status, 404);
    let recorded = server.node_requests();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].headers["authorization"], "Bearer leaked");
    assert_eq!(recorded[0].headers["api-key"], "leaked-key");
    let debug = format!("{recorded:?}");
    assert!(!debug.contains("leaked"), "{debug}");
    assert!(
        server.requests().is_empty(),
        "the main listener saw nothing"
    );
}

#[tokio::test]
async fn unknown_content_is_a_404_everywhere() {
    let (server, _) = server_with(10).await;
    let unknown = "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH";
    for addr in [server.addr(), server.node_addr()] {
        for path in [format!("/ipfs/{unknown}"), format!("/ipfs/{unknown}/")] {
            let reply = request(addr, "GET", &path, &[]).await;
            assert_eq!(reply.status, 404, "{addr} {path}");
            assert!(reply.json()["message"].is_string());
        }
        assert_eq!(request(addr, "GET", "/ipfs/", &[]).await.status, 404);
        let reply = request(addr, "POST", &format!("/ipfs/{HELLO}/"), &[]).await;
        assert_eq!(reply.status, 405);
    }
}

#[tokio::test]
async fn content_is_served_only_once_its_upload_is_done() {
    let server = FakeDstor::start().await.unwrap();
    let upload = Upload::start(&server, 1, "/").await;
    assert_eq!(upload.chunk(&[("a.txt", b"hello\n")]).await.status, 200);
    for stage in ["ADDING_TO_IPFS", "SAVING_DATA"] {
        let reply = request(server.addr(), "GET", &format!("/ipfs/{HELLO}"), &[]).await;
        assert_eq!(reply.status, 404, "before {stage}");
        assert_eq!(upload.stage().await, stage);
    }
    assert_eq!(upload.stage().await, "DONE");
    let reply = request(server.addr(), "GET", &format!("/ipfs/{HELLO}"), &[]).await;
    assert_eq!(reply.status, 308);
}

#[tokio::test]
async fn a_wrong_bytes_node_changes_one_byte_once() {
    let (server, cid) = server_with(1000).await;
    let node = server.node_addr();
    server.push_storage_fault(StorageFault::WrongBytes);
    let wrong = request(node, "GET", &format!("/ipfs/{cid}/"), &[]).await;
    assert_eq!(wrong.status, 200);
    assert_eq!(wrong.body.len(), 1000);
    assert_ne!(wrong.body, pattern(1000));
    assert_eq!(wrong.body[1..], pattern(1000)[1..]);
    let right = request(node, "GET", &format!("/ipfs/{cid}/"), &[]).await;
    assert_eq!(right.body, pattern(1000));
}

#[tokio::test]
async fn content_is_stored_once_however_often_it_is_uploaded() {
    let server = FakeDstor::start().await.unwrap();
    let first = Upload::start(&server, 1, "/").await;
    let reply = first
        .chunk(&[("hello.txt", b"hello\n"), ("again.txt", b"hello\n")])
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(spooled(&server), 1, "two parts, one content: one file kept");
    let data = first.done().await;
    assert_eq!(data[0]["Hash"], HELLO);
    assert_eq!(data[1]["Hash"], HELLO);

    // Later uploads of it, followed to DONE or not, add nothing either.
    let unpolled = Upload::start(&server, 1, "/").await;
    assert_eq!(unpolled.chunk(&[("x.txt", b"hello\n")]).await.status, 200);
    let second = Upload::start(&server, 1, "/").await;
    assert_eq!(second.chunk(&[("copy.txt", b"hello\n")]).await.status, 200);
    let data = second.done().await;
    assert_eq!(
        data,
        serde_json::json!([{"Hash": HELLO, "Name": "copy.txt"}])
    );
    assert_eq!(spooled(&server), 1);
    let reply = request(server.node_addr(), "GET", &format!("/ipfs/{HELLO}/"), &[]).await;
    assert_eq!(
        (reply.status, reply.body.as_slice()),
        (200, &b"hello\n"[..])
    );

    // Other content is kept beside it.
    let other = Upload::start(&server, 1, "/").await;
    assert_eq!(other.chunk(&[("b.txt", b"bye\n")]).await.status, 200);
    assert_eq!(spooled(&server), 2);
}

#[tokio::test]
async fn a_spare_copy_takes_the_next_part_cut_to_its_length() {
    let server = FakeDstor::start().await.unwrap();
    let spare = server.spool_dir().join("spare");
    let big = pattern(300_000);
    let mut cid = String::new();
    for _ in 0..2 {
        let upload = Upload::start(&server, 1, "/").await;
        assert_eq!(upload.chunk(&[("big.bin", &big)]).await.status, 200);
        cid = upload.done().await[0]["Hash"].as_str().unwrap().to_owned();
    }
    assert_eq!(spooled(&server), 1);
    assert!(spare.exists(), "the second copy is kept as the spare");
    #[cfg(unix)]
    let spare_inode = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&spare).unwrap());

    let upload = Upload::start(&server, 1, "/").await;
    assert_eq!(upload.chunk(&[("small.txt", b"small\n")]).await.status, 200);
    let small = upload.done().await[0]["Hash"].as_str().unwrap().to_owned();
    assert!(!spare.exists(), "the part was written over the spare");
    let mut sizes: Vec<u64> = std::fs::read_dir(server.spool_dir())
        .unwrap()
        .map(|entry| entry.unwrap().metadata().unwrap().len())
        .collect();
    sizes.sort_unstable();
    assert_eq!(sizes, [6, 300_000], "the spare's old bytes cut off");
    #[cfg(unix)]
    {
        let rewritten = std::fs::read_dir(server.spool_dir())
            .unwrap()
            .map(|entry| entry.unwrap().metadata().unwrap())
            .find(|meta| meta.len() == 6)
            .unwrap();
        assert_eq!(
            std::os::unix::fs::MetadataExt::ino(&rewritten),
            spare_inode,
            "the part was written into the spare's file, not a new one"
        );
    }
    let node = server.node_addr();
    let reply = request(node, "GET", &format!("/ipfs/{small}/"), &[]).await;
    assert_eq!(reply.body, b"small\n");
    let reply = request(node, "GET", &format!("/ipfs/{cid}/"), &[]).await;
    assert!(reply.body == big, "the content kept is untouched");
}
