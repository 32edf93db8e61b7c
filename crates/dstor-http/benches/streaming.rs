//! An upload of 256 MiB over loopback through `ReqwestTransport`, side by side in one run:
//! `send_streaming` with a body produced in 64 KiB chunks, and the buffered `send` with the
//! whole body in a `Vec` (what a transport without streaming needs). For each: the wall
//! time and the growth of the process's peak resident memory during the upload (Linux:
//! the peak is reset through `/proc/self/clear_refs` before each run). The server, on
//! its own thread, reads and drops the body; it asserts the byte count.
//!
//! `cargo bench -p dstor-http --bench streaming`

#![allow(clippy::print_stdout, reason = "a benchmark prints its figures")]

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};

use bytes::Bytes;
use dstor_auth::{Body, HttpTransport};
use dstor_http::ReqwestTransport;
use futures_util::StreamExt as _;

const TOTAL: usize = 256 << 20;
const CHUNK: usize = 64 << 10;

/// Accepts connections forever; for each request reads `content-length` bytes, checks the
/// count, answers 200.
fn server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let mut stream = stream.expect("accept");
            let mut buf = vec![0u8; 1 << 20];
            let mut head = Vec::new();
            let rest = loop {
                let n = stream.read(&mut buf).expect("read");
                head.extend_from_slice(&buf[..n]);
                if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                    break head.len() - (end + 4);
                }
            };
            let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
            let length: usize = text
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .and_then(|v| v.trim().parse().ok())
                .expect("content-length");
            let mut read = rest;
            while read < length {
                read += stream.read(&mut buf).expect("read body");
            }
            assert_eq!(read, length);
            stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .expect("answer");
        }
    });
    addr
}

/// The peak resident memory, in KiB (Linux), after resetting it if `reset`.
fn peak_kib(reset: bool) -> Option<u64> {
    if reset {
        std::fs::write("/proc/self/clear_refs", "5").ok()?;
    }
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn current_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn report(name: &str, wall: Duration, before: Option<u64>, peak: Option<u64>) {
    let growth = match (before, peak) {
        (Some(b), Some(p)) => format!("{:>7.1} MiB", p.saturating_sub(b) as f64 / 1024.0),
        _ => "    n/a".to_owned(),
    };
    let rate = TOTAL as f64 / (1 << 20) as f64 / wall.as_secs_f64();
    println!(
        "{name:<34} {:>8.1} ms {rate:>8.0} MiB/s   peak RSS growth {growth}",
        wall.as_secs_f64() * 1e3
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let addr = server();
    let url = format!("http://{addr}/v1/upload/");
    let transport = ReqwestTransport::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .expect("transport");
    let chunk = Bytes::from(vec![b'x'; CHUNK]);
    println!(
        "upload of {} MiB over loopback, {} KiB chunks",
        TOTAL >> 20,
        CHUNK >> 10
    );
    for round in 1..=3 {
        println!("round {round}");
        runtime.block_on(async {
            let chunk = chunk.clone();
            let chunks = futures_util::stream::iter(0..TOTAL / CHUNK)
                .map(move |_| Ok::<_, std::convert::Infallible>(chunk.clone()));
            let body = Body::from_sized_stream(TOTAL as u64, chunks);
            let request = http::Request::post(&url).body(body).expect("request");
            let before = current_kib();
            let _ = peak_kib(true);
            let started = Instant::now();
            let response = transport
                .send_streaming(request)
                .await
                .expect("streamed upload");
            assert_eq!(response.status(), 200);
            report(
                "send_streaming (64 KiB chunks)",
                started.elapsed(),
                before,
                peak_kib(false),
            );

            let before = current_kib();
            let _ = peak_kib(true);
            let started = Instant::now();
            let request = http::Request::post(&url)
                .body(vec![b'x'; TOTAL])
                .expect("request");
            let response = transport.send(request).await.expect("buffered upload");
            assert_eq!(response.status(), 200);
            report(
                "send (whole body in a Vec)",
                started.elapsed(),
                before,
                peak_kib(false),
            );
        });
    }
}
