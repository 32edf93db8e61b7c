//! The listener and its accept loop.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::oneshot;
use tokio::task::JoinSet;

use crate::service::handle;
use crate::state::Shared;

/// The listen backlog, large enough for bursts of concurrent connections.
const BACKLOG: u32 = 4096;

/// Binds a listener on `addr`.
pub(crate) fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// Accepts connections until `stop` fires (or is dropped), serving each on its
/// own task; then stops every connection and returns.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stop: oneshot::Receiver<()>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    let _ = stream.set_nodelay(true);
                    let shared = Arc::clone(&shared);
                    connections.spawn(serve(stream, shared));
                }
                // Out of file descriptors or similar: back off a little.
                Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            },
        }
    }
    drop(listener);
    connections.shutdown().await;
}

/// Serves one connection with HTTP/1.1 and keep-alive.
async fn serve(stream: tokio::net::TcpStream, shared: Arc<Shared>) {
    let service = service_fn(move |request| handle(Arc::clone(&shared), request));
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    // Errors (a client gone, a dropped connection on purpose) end the
    // connection; there is nobody to tell.
    let _ = connection.await;
}
