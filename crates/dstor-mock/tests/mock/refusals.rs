//! Bad input: 400s that say why, 401s, 413, garbage; nothing is stored.

use std::time::Duration;

use dstor_mock::FakeDstor;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{
    BOUNDARY, Upload, access_token, multipart, multipart_end, multipart_type, parse, part_head,
    pattern, send, spooled,
};

#[tokio::test]
async fn a_malformed_upload_token_request_is_a_400_that_says_why() {
    let server = FakeDstor::start().await.unwrap();
    let bearer = format!("Bearer {}", access_token(&server).await);
    for (body, says) in [
        (
            r#"{"chunks_number": 0, "folder_path": "/"}"#,
            "chunks_number",
        ),
        (
            r#"{"chunks_number": "2", "folder_path": "/"}"#,
            "chunks_number",
        ),
        (
            r#"{"chunks_number": 1.5, "folder_path": "/"}"#,
            "chunks_number",
        ),
        (r#"{"chunks_number": 1}"#, "folder_path"),
        (r#"{"chunks_number": 1, "folder_path": 7}"#, "folder_path"),
        ("chunks_number=1", "JSON"),
        ("", "JSON"),
    ] {
        let reply = send(
            server.addr(),
            "POST",
            "/v1/upload/get-token/",
            &[("authorization", &bearer)],
            body.as_bytes(),
        )
        .await;
        assert_eq!(reply.status, 400, "{body}");
        let message = reply.json()["message"].as_str().unwrap().to_owned();
        assert!(message.contains(says), "{body}: {message}");
    }
}

#[tokio::test]
async fn every_storage_endpoint_wants_a_live_bearer_token_from_this_server() {
    let server = FakeDstor::start().await.unwrap();
    let upload = Upload::start(&server, 1, "/").await;
    let foreign = FakeDstor::start().await.unwrap();
    let foreign_token = access_token(&foreign).await;
    let expired_server = FakeDstor::builder()
        .token_lifetime(Duration::ZERO)
        .start()
        .await
        .unwrap();
    let expired_token = access_token(&expired_server).await;
    let body = multipart(&[("a.txt", b"hello\n")]);
    let content_type = multipart_type();
    let requests = [
        ("POST", "/v1/upload/get-token/"),
        ("POST", "/v1/upload/"),
        ("GET", "/v1/upload/get-status/"),
    ];
    for bearer in [
        None,
        Some(format!("Bearer {foreign_token}")),
        Some(format!("Bearer {expired_token}")),
        Some("Bearer not-a-jwt".to_owned()),
        Some(format!(
            "Basic {}",
            upload.bearer.trim_start_matches("Bearer ")
        )),
    ] {
        for (method, path) in requests {
            let mut headers = vec![
                ("x-dstor-upload-token", upload.token.as_str()),
                ("content-type", content_type.as_str()),
            ];
            if let Some(bearer) = &bearer {
                headers.push(("authorization", bearer));
            }
            let reply = send(server.addr(), method, path, &headers, &body).await;
            assert_eq!(reply.status, 401, "{method} {path} with {bearer:?}");
            let text = reply.text();
            assert!(reply.json()["message"].is_string());
            for secret in [&foreign_token, &expired_token, &upload.token] {
                assert!(!text.contains(secret.as_str()), "{text}");
            }
        }
    }
    assert!(server.stored_files().is_empty());
    assert_eq!(
        upload.stage().await,
        "UPLOADING",
        "still waiting for its chunk"
    );
}

#[tokio::test]
async fn a_bad_chunk_is_refused_stores_nothing_and_frees_its_slot() {
    let server = FakeDstor::start().await.unwrap();
    let upload = Upload::start(&server, 1, "/").await;
    let good = multipart(&[("a.txt", b"hello\n")]);
    let content_type = multipart_type();
    let no_filename = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"comment\"\r\n\r\nhi\r\n--{BOUNDARY}--\r\n"
    );
    let truncated = &good[..good.len() - 10];
    let cases: [Case<'_>; 6] = [
        (
            &[("content-type", &content_type)],
            &good,
            400,
            "x-dstor-upload-token",
        ),
        (
            &[
                ("x-dstor-upload-token", "guessed"),
                ("content-type", &content_type),
            ],
            &good,
            401,
            "upload token",
        ),
        (
            &[
                ("x-dstor-upload-token", &upload.token),
                ("content-type", "application/json"),
            ],
            &good,
            400,
            "multipart/form-data",
        ),
        (
            &[
                ("x-dstor-upload-token", &upload.token),
                ("content-type", &content_type),
            ],
            no_filename.as_bytes(),
            400,
            "filename",
        ),
        (
            &[
                ("x-dstor-upload-token", &upload.token),
                ("content-type", &content_type),
            ],
            &multipart_end(),
            400,
            "no file",
        ),
        (
            &[
                ("x-dstor-upload-token", &upload.token),
                ("content-type", &content_type),
            ],
            truncated,
            400,
            "multipart",
        ),
    ];
    for (extra, body, status, says) in cases {
        let mut headers = vec![("authorization", upload.bearer.as_str())];
        headers.extend_from_slice(extra);
        let reply = send(server.addr(), "POST", "/v1/upload/", &headers, body).await;
        assert_eq!(reply.status, status, "{says}: {}", reply.text());
        let message = reply.json()["message"].as_str().unwrap().to_owned();
        assert!(message.contains(says), "{says}: {message}");
    }
    assert!(server.stored_files().is_empty());
    assert_eq!(spooled(&server), 0, "refused parts are removed");
    assert_eq!(upload.stage().await, "UPLOADING");
    // The one chunk is still welcome.
    assert_eq!(upload.post_chunk(&good).await.status, 200);
    assert_eq!(upload.stage().await, "ADDING_TO_IPFS");
}

#[tokio::test]
async fn garbage_chunk_bodies_get_a_400_and_the_server_keeps_serving() {
    let server = FakeDstor::start().await.unwrap();
    let mut upload = Upload::start(&server, 1, "/").await;
    let mut accepted = 0;
    let mut rng = fastrand::Rng::with_seed(10);
    let valid = multipart(&[("a.txt", b"hello\n")]);
    for round in 0..200 {
        let len = rng.usize(0..400);
        let mut body: Vec<u8> = match round % 3 {
            // Pure noise.
            0 => std::iter::repeat_with(|| rng.u8(..)).take(len).collect(),
            // A valid head, then noise.
            1 => part_head("a.txt")
                .into_iter()
                .chain(std::iter::repeat_with(|| rng.u8(..)).take(len))
                .collect(),
            // A valid body with a few bytes of it changed or cut off.
            _ => valid.clone(),
        };
        if round % 3 == 2 {
            let cut = rng.usize(0..body.len());
            body.truncate(cut);
            if !body.is_empty() {
                let at = rng.usize(0..body.len());
                body[at] = rng.u8(..);
            }
        }
        let reply = upload.post_chunk(&body).await;
        assert!(
            reply.status == 400 || reply.status == 200,
            "round {round}: {} {}",
            reply.status,
            reply.text()
        );
        if reply.status == 200 {
            // A change that left a valid body: that upload is complete.
            accepted += 1;
            upload = Upload::start(&server, 1, "/").await;
            continue;
        }
        assert!(reply.json()["message"].is_string());
    }
    assert_eq!(server.stored_files().len(), accepted);
    assert_eq!(spooled(&server), accepted, "refused parts leave no file");
    assert_eq!(upload.post_chunk(&valid).await.status, 200);
}

/// Extra headers, the body, the status expected and a word its message holds.
type Case<'a> = (&'a [(&'a str, &'a str)], &'a [u8], u16, &'a str);

#[tokio::test]
async fn a_chunk_over_the_size_limit_is_a_413() {
    let server = FakeDstor::builder()
        .max_upload_bytes(64 * 1024)
        .start()
        .await
        .unwrap();
    let upload = Upload::start(&server, 1, "/").await;
    let big = pattern(100 * 1024);

    // Declared too large: refused before the body is read.
    let content_type = multipart_type();
    let head = format!(
        "POST /v1/upload/ HTTP/1.1\r\nhost: x\r\nconnection: close\r\nauthorization: {}\r\nx-dstor-upload-token: {}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n",
        upload.bearer,
        upload.token,
        1u64 << 40,
    );
    let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    stream.read_to_end(&mut received).await.unwrap();
    let reply = parse(&received).unwrap();
    assert_eq!(reply.status, 413);
    assert!(reply.json()["message"].as_str().unwrap().contains("65536"));

    // Chunked, so only counting tells: refused when the limit is crossed.
    let body = multipart(&[("big.bin", &big)]);
    let mut chunked = Vec::new();
    for piece in body.chunks(8 * 1024) {
        chunked.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        chunked.extend_from_slice(piece);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let head = format!(
        "POST /v1/upload/ HTTP/1.1\r\nhost: x\r\nconnection: close\r\nauthorization: {}\r\nx-dstor-upload-token: {}\r\ncontent-type: {content_type}\r\ntransfer-encoding: chunked\r\n\r\n",
        upload.bearer, upload.token,
    );
    let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&chunked).await.unwrap();
    let mut received = Vec::new();
    stream.read_to_end(&mut received).await.unwrap();
    assert_eq!(parse(&received).unwrap().status, 413);

    assert!(server.stored_files().is_empty());
    assert_eq!(spooled(&server), 0);
    let small = pattern(1000);
    assert_eq!(upload.chunk(&[("small.bin", &small)]).await.status, 200);
}
