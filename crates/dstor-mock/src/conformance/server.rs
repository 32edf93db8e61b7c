//! The kit's servers: the one requests go to, a redirect target and a proxy, all on
//! 127.0.0.1, the last two only counting connections.

use std::collections::HashMap;
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use dstor_auth::Body;
use http::{HeaderMap, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

/// The size of each chunk the server streams.
pub(super) const CHUNK: usize = 4 * 1024;
/// The bytes of `/download`: 48 KiB, under the response limit of a buffered transport.
pub(super) const DOWNLOAD_BYTES: usize = 12 * CHUNK;
/// The most an endless body sends before it gives up: 1 GiB.
const ENDLESS_CAP: usize = 1 << 30;

/// What the main server saw of one request.
#[derive(Clone, Debug)]
pub(super) struct Seen {
    pub(super) headers: HeaderMap,
    pub(super) body: Bytes,
}

#[derive(Debug, Default)]
struct State {
    seen: Mutex<HashMap<String, Seen>>,
    connections: AtomicUsize,
}

/// The servers, stopped when dropped.
#[derive(Debug)]
pub(super) struct Servers {
    main: SocketAddr,
    state: Arc<State>,
    elsewhere: (SocketAddr, Arc<AtomicUsize>),
    proxy: (SocketAddr, Arc<AtomicUsize>),
    proxy_password: String,
    tasks: Vec<JoinHandle<()>>,
}

impl Servers {
    pub(super) async fn start() -> io::Result<Self> {
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        let (main, elsewhere, proxy) = (
            TcpListener::bind(loopback).await?,
            TcpListener::bind(loopback).await?,
            TcpListener::bind(loopback).await?,
        );
        let addrs = (
            main.local_addr()?,
            elsewhere.local_addr()?,
            proxy.local_addr()?,
        );
        let state = Arc::new(State::default());
        let (elsewhere_count, proxy_count) = (Arc::default(), Arc::default());
        let redirect_to = format!("http://{}/stolen", addrs.1);
        let tasks = vec![
            tokio::spawn(serve(main, Arc::clone(&state), redirect_to)),
            tokio::spawn(count(elsewhere, Arc::clone(&elsewhere_count))),
            tokio::spawn(count(proxy, Arc::clone(&proxy_count))),
        ];
        Ok(Self {
            main: addrs.0,
            state,
            elsewhere: (addrs.1, elsewhere_count),
            proxy: (addrs.2, proxy_count),
            proxy_password: format!("proxy-password-{:016x}", fastrand::u64(..)),
            tasks,
        })
    }

    /// The URL of `path` on the main server.
    pub(super) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.main)
    }

    /// Where `/redirect` points.
    pub(super) fn redirect_target(&self) -> String {
        format!("http://{}/stolen", self.elsewhere.0)
    }

    pub(super) fn elsewhere_connections(&self) -> usize {
        self.elsewhere.1.load(Ordering::SeqCst)
    }

    pub(super) fn proxy_connections(&self) -> usize {
        self.proxy.1.load(Ordering::SeqCst)
    }

    pub(super) fn proxy_url(&self) -> String {
        format!(
            "http://conformance:{}@{}",
            self.proxy_password, self.proxy.0
        )
    }

    pub(super) fn proxy_password(&self) -> &str {
        &self.proxy_password
    }

    /// What the main server saw of the last request to `path`, if any.
    pub(super) fn seen(&self, path: &str) -> Option<Seen> {
        let seen = self.state.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.get(path).cloned()
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Counts and drops every connection.
async fn count(listener: TcpListener, connections: Arc<AtomicUsize>) {
    while let Ok((stream, _)) = listener.accept().await {
        connections.fetch_add(1, Ordering::SeqCst);
        drop(stream);
    }
}

/// Serves the main server's paths; its connections end when the task is aborted.
async fn serve(listener: TcpListener, state: Arc<State>, redirect_to: String) {
    let mut connections = JoinSet::new();
    while let Ok((stream, _)) = listener.accept().await {
        state.connections.fetch_add(1, Ordering::SeqCst);
        let (state, redirect_to) = (Arc::clone(&state), redirect_to.clone());
        let service =
            service_fn(move |request| handle(request, Arc::clone(&state), redirect_to.clone()));
        connections.spawn(async move {
            // A client that hangs up ends the connection; nobody is told.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
        while connections.try_join_next().is_some() {}
    }
}

async fn handle(
    request: Request<Incoming>,
    state: Arc<State>,
    redirect_to: String,
) -> Result<Response<Body>, Infallible> {
    let path = request.uri().path().to_owned();
    let response = match path.as_str() {
        "/redirect" => Response::builder()
            .status(StatusCode::TEMPORARY_REDIRECT)
            .header(header::LOCATION, redirect_to)
            .body(Body::empty()),
        "/hang" => std::future::pending().await,
        "/endless" => Response::builder().body(endless()),
        "/download" => Response::builder().body(chunked(pattern(DOWNLOAD_BYTES))),
        "/headers" | "/upload" => {
            let (parts, body) = request.into_parts();
            let body = match Limited::new(body, 64 << 20).collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(_) => Bytes::from_static(b"[unreadable]"),
            };
            let len = body.len();
            let seen = Seen {
                headers: parts.headers,
                body,
            };
            let mut all = state.seen.lock().unwrap_or_else(|e| e.into_inner());
            all.insert(path, seen);
            Response::builder()
                .header("x-conformance-answer", "pong")
                .body(Body::from(len.to_string()))
        }
        _ => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(Body::empty()),
    };
    Ok(response.unwrap_or_else(|_| Response::new(Body::empty())))
}

/// The bytes of a streamed body: no two chunks alike, so a reordering shows.
pub(super) fn pattern(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| ((i * 31 + i / CHUNK) % 251) as u8)
        .collect()
}

/// `data` in chunks of [`CHUNK`], a millisecond apart, without a declared length.
fn chunked(data: Vec<u8>) -> Body {
    let data = Bytes::from(data);
    let chunks = futures_util::stream::unfold(0, move |at| {
        let data = data.clone();
        async move {
            if at >= data.len() {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
            let end = (at + CHUNK).min(data.len());
            Some((Ok::<_, Infallible>(data.slice(at..end)), end))
        }
    });
    Body::from_stream(chunks)
}

/// A body of 64 KiB chunks that ends only at [`ENDLESS_CAP`].
fn endless() -> Body {
    let chunk = Bytes::from(vec![b'a'; 64 * 1024]);
    let chunks = futures_util::stream::unfold(0, move |sent| {
        let chunk = chunk.clone();
        async move {
            if sent >= ENDLESS_CAP {
                return None;
            }
            tokio::task::yield_now().await;
            Some((Ok::<_, Infallible>(chunk.clone()), sent + chunk.len()))
        }
    });
    Body::from_stream(chunks)
}
