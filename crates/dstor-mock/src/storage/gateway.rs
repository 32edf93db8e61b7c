//! The gateway: `/ipfs/<cid>` on the main listener redirects to the storage
//! node, which serves the bytes.

use std::net::SocketAddr;
use std::sync::Arc;

use http::header::{ALLOW, CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use http::{HeaderValue, Method, Request, Response, StatusCode};

use super::fault::{StorageFault, Target};
use super::served::FileBody;
use crate::body::MockBody;
use crate::record::RecordedRequest;
use crate::service::{DropConnection, message};
use crate::state::Shared;

/// The CID of a gateway path `/ipfs/<cid>` or `/ipfs/<cid>/`, and whether the
/// slash was there.
pub(crate) fn content_path(path: &str) -> Option<(&str, bool)> {
    let rest = path.strip_prefix("/ipfs/")?;
    let (cid, slash) = match rest.strip_suffix('/') {
        Some(cid) => (cid, true),
        None => (rest, false),
    };
    (!cid.is_empty() && !cid.contains('/')).then_some((cid, slash))
}

/// The main listener's answer to `/ipfs/<cid>`: a `308` to the storage node.
///
/// `local` is the address the request came in on, used as the node's host when
/// the server listens on every interface.
pub(crate) fn redirect(
    shared: &Shared,
    local: SocketAddr,
    method: &Method,
    cid: &str,
) -> Response<MockBody> {
    if let Some(refused) = refuse(shared, method, cid) {
        return refused;
    }
    let node = shared.storage.node_addr;
    let host = if node.ip().is_unspecified() {
        SocketAddr::new(local.ip(), node.port())
    } else {
        node
    };
    permanent_redirect(&format!("http://{host}/ipfs/{cid}/"))
}

/// Answers one request to the storage node (after recording it).
pub(crate) async fn node_handle<B>(
    shared: Arc<Shared>,
    request: Request<B>,
) -> Result<Response<MockBody>, DropConnection> {
    let (parts, _body) = request.into_parts();
    shared
        .storage
        .record_node(RecordedRequest::from_parts(&parts));
    let Some((cid, slash)) = content_path(parts.uri.path()) else {
        return Ok(message(StatusCode::NOT_FOUND, "not found"));
    };
    if let Some(refused) = refuse(&shared, &parts.method, cid) {
        return Ok(refused);
    }
    if !slash {
        return Ok(permanent_redirect(&format!("/ipfs/{cid}/")));
    }
    let Some(content) = shared.storage.content(cid) else {
        return Ok(message(StatusCode::NOT_FOUND, "no content with this cid"));
    };
    let corrupt = matches!(
        shared.storage.take_fault(Target::Node),
        Some(StorageFault::WrongBytes)
    );
    let body = if content.size == 0 && corrupt {
        MockBody::full("x")
    } else {
        match tokio::fs::File::open(&content.path).await {
            Ok(file) => MockBody::File(FileBody::new(file.into_std().await, content.size, corrupt)),
            Err(_) => {
                return Ok(message(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the stored file is gone",
                ));
            }
        }
    };
    let len = if content.size == 0 && corrupt {
        1
    } else {
        content.size
    };
    let body = if parts.method == Method::HEAD {
        MockBody::full("")
    } else {
        body
    };
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(CONTENT_LENGTH, HeaderValue::from(len));
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    Ok(response)
}

/// `405` for methods other than `GET` and `HEAD`, `404` for unknown content.
fn refuse(shared: &Shared, method: &Method, cid: &str) -> Option<Response<MockBody>> {
    if method != Method::GET && method != Method::HEAD {
        let mut response = message(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return Some(response);
    }
    if shared.storage.content(cid).is_none() {
        return Some(message(StatusCode::NOT_FOUND, "no content with this cid"));
    }
    None
}

/// A `308 Permanent Redirect` to `location`.
fn permanent_redirect(location: &str) -> Response<MockBody> {
    let mut response = Response::new(MockBody::full(""));
    *response.status_mut() = StatusCode::PERMANENT_REDIRECT;
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_paths() {
        assert_eq!(content_path("/ipfs/Qm1"), Some(("Qm1", false)));
        assert_eq!(content_path("/ipfs/Qm1/"), Some(("Qm1", true)));
        assert_eq!(content_path("/ipfs/"), None);
        assert_eq!(content_path("/ipfs//"), None);
        assert_eq!(content_path("/ipfs/Qm1/a"), None);
        assert_eq!(content_path("/ipns/Qm1"), None);
    }
}
