//! The checks, each a request (or two) and what the servers saw of it.

use std::future::Future;

use bytes::Bytes;
use dstor_auth::{Body, HttpTransport, TransportError, TransportErrorKind};
use http::{HeaderValue, Method, Request, header};

use super::server::{CHUNK, DOWNLOAD_BYTES, pattern};
use super::{Check, ConformanceKit, Outcome};

/// The sensitive header values the kit sends: none may show in the transport's `Debug`.
const TOKEN: &str = "Bearer conformance-token-8d1f0c";
const API_KEY: &str = "conformance-api-key-5e2b77";
const PLAIN: &str = "Verbatim, with  two spaces; and \"quotes\"";
/// The chunks of the streamed request body.
const UPLOAD_CHUNKS: usize = 64;

pub(super) async fn run<T: HttpTransport + ?Sized>(
    check: Check,
    kit: &ConformanceKit,
    transport: &T,
) -> Outcome {
    let result = match check {
        Check::NoRedirect => no_redirect(kit, transport).await,
        Check::HeadersVerbatim => headers_verbatim(kit, transport).await,
        Check::BoundedBody => bounded_body(kit, transport).await,
        Check::Timeout => timeout(kit, transport).await,
        Check::StreamedRequest => streamed_request(kit, transport).await,
        Check::StreamedResponse => streamed_response(kit, transport).await,
        Check::NoProxyForLoopback => no_proxy(kit),
        Check::NoSecretInDebug => no_secret_in_debug(kit, transport),
    };
    match result {
        Ok(()) => Outcome::Passed,
        Err(why) => Outcome::Failed(why),
    }
}

type Checked = Result<(), String>;

/// `future`, or a failure once the kit's time bound passes.
async fn bounded<F: Future>(kit: &ConformanceKit, future: F) -> Result<F::Output, String> {
    tokio::time::timeout(kit.time_bound, future)
        .await
        .map_err(|_| format!("no result within the kit's bound of {:?}", kit.time_bound))
}

fn request(kit: &ConformanceKit, method: Method, path: &str) -> http::request::Builder {
    Request::builder().method(method).uri(kit.servers.url(path))
}

fn failed_with(e: &TransportError) -> String {
    format!("failed with {:?}: {e}", e.kind())
}

async fn no_redirect<T: HttpTransport + ?Sized>(kit: &ConformanceKit, t: &T) -> Checked {
    let target = kit.servers.redirect_target();
    let buffered = request(kit, Method::GET, "/redirect").body(Vec::new());
    let response = bounded(kit, t.send(buffered.map_err(|e| e.to_string())?)).await?;
    let response = response.map_err(|e| format!("send {}", failed_with(&e)))?;
    let (status, location) = (response.status(), response.headers().get(header::LOCATION));
    if status != 307 || location.is_none_or(|l| l != target.as_str()) {
        return Err(format!(
            "send gave {status} and Location {location:?}, not the 307"
        ));
    }
    let streamed = request(kit, Method::GET, "/redirect").body(Body::empty());
    let response = bounded(kit, t.send_streaming(streamed.map_err(|e| e.to_string())?)).await?;
    let response = response.map_err(|e| format!("send_streaming {}", failed_with(&e)))?;
    if response.status() != 307 {
        return Err(format!(
            "send_streaming gave {}, not the 307",
            response.status()
        ));
    }
    match kit.servers.elsewhere_connections() {
        0 => Ok(()),
        n => Err(format!("the redirect's target was contacted {n} times")),
    }
}

async fn headers_verbatim<T: HttpTransport + ?Sized>(kit: &ConformanceKit, t: &T) -> Checked {
    let mut token = HeaderValue::from_static(TOKEN);
    token.set_sensitive(true);
    let mut key = HeaderValue::from_static(API_KEY);
    key.set_sensitive(true);
    let mut sent = request(kit, Method::POST, "/headers")
        .header("x-conformance", PLAIN)
        .body(b"ping".to_vec())
        .map_err(|e| e.to_string())?;
    sent.headers_mut().insert(header::AUTHORIZATION, token);
    sent.headers_mut().insert("api-key", key);
    let response = bounded(kit, t.send(sent)).await?;
    let response = response.map_err(|e| failed_with(&e))?;
    let seen = kit
        .servers
        .seen("/headers")
        .ok_or("the request never arrived")?;
    for (name, value) in [
        ("authorization", TOKEN),
        ("api-key", API_KEY),
        ("x-conformance", PLAIN),
    ] {
        let got = seen.headers.get_all(name).iter().collect::<Vec<_>>();
        if got.len() != 1 || got[0] != value {
            return Err(format!(
                "header {name} arrived as {} values, not verbatim",
                got.len()
            ));
        }
    }
    if seen.headers.contains_key(header::PROXY_AUTHORIZATION) {
        return Err("a Proxy-Authorization header reached the server".into());
    }
    if seen.body != "ping" {
        return Err(format!(
            "the body arrived as {} other bytes",
            seen.body.len()
        ));
    }
    if response
        .headers()
        .get("x-conformance-answer")
        .is_none_or(|v| v != "pong")
    {
        return Err("the response header x-conformance-answer did not come back".into());
    }
    Ok(())
}

async fn bounded_body<T: HttpTransport + ?Sized>(kit: &ConformanceKit, t: &T) -> Checked {
    let endless = request(kit, Method::GET, "/endless").body(Vec::new());
    match bounded(kit, t.send(endless.map_err(|e| e.to_string())?)).await? {
        Err(e) if matches!(e.kind(), TransportErrorKind::BodyTooLarge { .. }) => Ok(()),
        Err(e) => Err(format!(
            "an endless body {}, not BodyTooLarge",
            failed_with(&e)
        )),
        Ok(r) => Err(format!(
            "an endless body was read whole: {} bytes",
            r.body().len()
        )),
    }
}

async fn timeout<T: HttpTransport + ?Sized>(kit: &ConformanceKit, t: &T) -> Checked {
    let hang = request(kit, Method::GET, "/hang").body(Vec::new());
    match bounded(kit, t.send(hang.map_err(|e| e.to_string())?)).await? {
        Err(e) if e.is_timeout() => {}
        Err(e) => return Err(format!("send {}, not Timeout", failed_with(&e))),
        Ok(r) => return Err(format!("send to a silent server gave {}", r.status())),
    }
    let hang = request(kit, Method::GET, "/hang").body(Body::empty());
    match bounded(kit, t.send_streaming(hang.map_err(|e| e.to_string())?)).await? {
        Err(e) if e.is_timeout() => Ok(()),
        Err(e) => Err(format!("send_streaming {}, not Timeout", failed_with(&e))),
        Ok(r) => Err(format!(
            "send_streaming to a silent server gave {}",
            r.status()
        )),
    }
}

async fn streamed_request<T: HttpTransport + ?Sized>(kit: &ConformanceKit, t: &T) -> Checked {
    let data = Bytes::from(pattern(UPLOAD_CHUNKS * CHUNK));
    let chunks: Vec<_> = (0..UPLOAD_CHUNKS)
        .map(|i| Ok::<_, std::io::Error>(data.slice(i * CHUNK..(i + 1) * CHUNK)))
        .collect();
    let body = Body::from_stream(futures_util::stream::iter(chunks));
    let upload = request(kit, Method::POST, "/upload").body(body);
    let response = bounded(kit, t.send_streaming(upload.map_err(|e| e.to_string())?)).await?;
    let response = response.map_err(|e| failed_with(&e))?;
    if response.status() != 200 {
        return Err(format!("the upload was answered {}", response.status()));
    }
    let seen = kit
        .servers
        .seen("/upload")
        .ok_or("the upload never arrived")?;
    if seen.body != data {
        return Err(format!(
            "{} bytes arrived, {} sent, or out of order",
            seen.body.len(),
            data.len()
        ));
    }
    Ok(())
}

async fn streamed_response<T: HttpTransport + ?Sized>(kit: &ConformanceKit, t: &T) -> Checked {
    let download = request(kit, Method::GET, "/download").body(Body::empty());
    let response = bounded(kit, t.send_streaming(download.map_err(|e| e.to_string())?)).await?;
    let response = response.map_err(|e| failed_with(&e))?;
    let body = bounded(kit, response.into_body().collect(2 * DOWNLOAD_BYTES)).await?;
    let body = body.map_err(|e| format!("reading the body {}", failed_with(&e)))?;
    if body != pattern(DOWNLOAD_BYTES) {
        return Err(format!(
            "{} bytes read of {}, or out of order",
            body.len(),
            DOWNLOAD_BYTES
        ));
    }
    Ok(())
}

fn no_proxy(kit: &ConformanceKit) -> Checked {
    match kit.servers.proxy_connections() {
        0 => Ok(()),
        n => Err(format!(
            "the proxy was contacted {n} times for loopback requests"
        )),
    }
}

fn no_secret_in_debug<T: HttpTransport + ?Sized>(kit: &ConformanceKit, t: &T) -> Checked {
    let shown = format!("{t:?} {t:#?}");
    let secrets = [TOKEN, API_KEY, kit.servers.proxy_password()];
    let found = secrets
        .into_iter()
        .chain(kit.secrets.iter().map(String::as_str))
        .chain([TOKEN.trim_start_matches("Bearer ")])
        .find(|secret| shown.contains(secret));
    match found {
        None => Ok(()),
        Some(_) => Err("the transport's Debug shows a secret (not repeated here)".into()),
    }
}
