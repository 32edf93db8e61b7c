//! A minimal HTTP/1.1 client over a raw `TcpStream`, to see exactly what the
//! fake server sends.

#![allow(dead_code)]

use std::io;
use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A parsed response.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends `GET path` with these headers and `Connection: close`, and returns the
/// raw bytes received until EOF.
pub(crate) async fn raw(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(addr).await?;
    let mut request = format!("{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut received = Vec::new();
    stream.read_to_end(&mut received).await?;
    Ok(received)
}

/// Sends a request and parses the response (content-length or chunked).
pub(crate) async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Reply {
    let received = raw(addr, method, path, headers).await.expect("request");
    parse(&received).expect("a complete HTTP response")
}

/// `GET /v1/dev/temp-token` with these headers.
pub(crate) async fn token(addr: SocketAddr, headers: &[(&str, &str)]) -> Reply {
    request(addr, "GET", "/v1/dev/temp-token", headers).await
}

pub(crate) fn parse(received: &[u8]) -> Option<Reply> {
    let end = received.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&received[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let rest = &received[end + 4..];
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked {
        dechunk(rest)?
    } else {
        rest.to_vec()
    };
    let declared = headers.iter().find(|(n, _)| n == "content-length");
    if declared.is_some_and(|(_, len)| len.parse::<usize>().ok() != Some(body.len())) {
        return None;
    }
    Some(Reply {
        status,
        headers,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size =
            usize::from_str_radix(std::str::from_utf8(&data[..line_end]).ok()?.trim(), 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}

/// Decodes the payload of a JWT without checking it.
pub(crate) fn claims(token: &str) -> serde_json::Value {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).expect("three parts");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON payload")
}

pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Sends a request with this body (and its `Content-Length`), `Connection:
/// close`, and returns the raw bytes received until EOF.
pub(crate) async fn raw_with_body(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(addr).await?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await?;
    stream.write_all(body).await?;
    let mut received = Vec::new();
    stream.read_to_end(&mut received).await?;
    Ok(received)
}

/// Sends a request with a body and parses the response.
pub(crate) async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let received = raw_with_body(addr, method, path, headers, body)
        .await
        .expect("request");
    parse(&received).expect("a complete HTTP response")
}

/// The boundary of every multipart body built here.
pub(crate) const BOUNDARY: &str = "dstor-mock-test-boundary-7Qx";

/// The `Content-Type` of a body built by [`multipart`].
pub(crate) fn multipart_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

/// The head of one file part.
pub(crate) fn part_head(filename: &str) -> Vec<u8> {
    format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes()
}

/// The end of a multipart body.
pub(crate) fn multipart_end() -> Vec<u8> {
    format!("--{BOUNDARY}--\r\n").into_bytes()
}

/// A `multipart/form-data` body with one file part per `(filename, bytes)`.
pub(crate) fn multipart(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (filename, bytes) in files {
        body.extend_from_slice(&part_head(filename));
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(&multipart_end());
    body
}

/// A fresh access token from `server`.
pub(crate) async fn access_token(server: &dstor_mock::FakeDstor) -> String {
    let reply = token(server.addr(), &[("api-key", server.api_key())]).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["access_token"].as_str().unwrap().to_owned()
}

/// `i % 251` for each byte: no chunk repeats another.
pub(crate) fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// One upload in progress, driven request by request.
pub(crate) struct Upload {
    pub addr: SocketAddr,
    pub bearer: String,
    pub token: String,
}

impl Upload {
    /// Asks `server` for an upload of `chunks` chunks into `folder`.
    pub(crate) async fn start(server: &dstor_mock::FakeDstor, chunks: u64, folder: &str) -> Upload {
        let bearer = format!("Bearer {}", access_token(server).await);
        let body = serde_json::json!({"chunks_number": chunks, "folder_path": folder});
        let reply = send(
            server.addr(),
            "POST",
            "/v1/upload/get-token/",
            &[
                ("authorization", &bearer),
                ("content-type", "application/json"),
            ],
            body.to_string().as_bytes(),
        )
        .await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        let answer = reply.json();
        assert_eq!(answer["message"], "ok");
        Upload {
            addr: server.addr(),
            bearer,
            token: answer["token"].as_str().unwrap().to_owned(),
        }
    }

    /// Posts one chunk holding these files.
    pub(crate) async fn chunk(&self, files: &[(&str, &[u8])]) -> Reply {
        self.post_chunk(&multipart(files)).await
    }

    /// Posts one chunk with this multipart body.
    pub(crate) async fn post_chunk(&self, body: &[u8]) -> Reply {
        let content_type = multipart_type();
        send(
            self.addr,
            "POST",
            "/v1/upload/",
            &[
                ("authorization", &self.bearer),
                ("x-dstor-upload-token", &self.token),
                ("x-dstor-comment", "a test upload"),
                ("content-type", &content_type),
            ],
            body,
        )
        .await
    }

    /// Polls the status once.
    pub(crate) async fn status(&self) -> Reply {
        request(
            self.addr,
            "GET",
            "/v1/upload/get-status/",
            &[
                ("authorization", &self.bearer),
                ("x-dstor-upload-token", &self.token),
            ],
        )
        .await
    }

    /// Polls once and returns the `status` value.
    pub(crate) async fn stage(&self) -> String {
        let reply = self.status().await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        reply.json()["status"].as_str().unwrap().to_owned()
    }

    /// Polls until `DONE` (at most 10 polls) and returns the `data` array.
    pub(crate) async fn done(&self) -> serde_json::Value {
        for _ in 0..10 {
            let reply = self.status().await;
            let answer = reply.json();
            if answer["status"] == "DONE" {
                return answer["data"].clone();
            }
        }
        panic!("the upload never reached DONE");
    }
}

/// How many files are in the spool directory, besides the spare (a copy's file, kept to be
/// rewritten by the next part received).
pub(crate) fn spooled(server: &dstor_mock::FakeDstor) -> usize {
    std::fs::read_dir(server.spool_dir())
        .unwrap()
        .filter(|entry| entry.as_ref().unwrap().file_name() != "spare")
        .count()
}
