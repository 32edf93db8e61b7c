//! The listener and its accept loop.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinSet;

use crate::service::handle;
use crate::state::Shared;
use crate::storage::node_handle;

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

/// Which listener a connection came in on.
#[derive(Debug, Clone, Copy)]
enum Role {
    /// The API: tokens, uploads, the gateway's redirect.
    Api,
    /// The storage node serving content.
    Node,
}

/// Accepts connections on both listeners until `stop` fires (or is dropped),
/// serving each on its own task; then stops every connection and returns.
pub(crate) async fn accept_loop(
    api: TcpListener,
    node: TcpListener,
    shared: Arc<Shared>,
    mut stop: oneshot::Receiver<()>,
) {
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            _ = &mut stop => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            accepted = api.accept() => accepted.map(|(stream, _)| (stream, Role::Api)),
            accepted = node.accept() => accepted.map(|(stream, _)| (stream, Role::Node)),
        };
        match accepted {
            Ok((stream, role)) => {
                let _ = stream.set_nodelay(true);
                connections.spawn(serve(stream, role, Arc::clone(&shared)));
            }
            // Out of file descriptors or similar: back off a little.
            Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
    drop((api, node));
    connections.shutdown().await;
}

/// Serves one connection with HTTP/1.1 and keep-alive.
async fn serve(stream: TcpStream, role: Role, shared: Arc<Shared>) {
    let Ok(local) = stream.local_addr() else {
        return;
    };
    let builder = {
        let mut builder = http1::Builder::new();
        builder.timer(TokioTimer::new()).keep_alive(true);
        builder
    };
    let io = TokioIo::new(stream);
    // Errors (a client gone, a dropped connection on purpose) end the
    // connection; there is nobody to tell.
    let _ = match role {
        Role::Api => {
            let service = service_fn(move |request| handle(Arc::clone(&shared), local, request));
            builder.serve_connection(io, service).await
        }
        Role::Node => {
            let service = service_fn(move |request| node_handle(Arc::clone(&shared), request));
            builder.serve_connection(io, service).await
        }
    };
}
