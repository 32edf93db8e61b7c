//! The fake dStor, a streaming transport over reqwest (for the tests only: the crate
//! itself depends on no HTTP client), and the token stack of a real client.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use dstor_auth::{
    ApiKeyProvider, Body, CachedTokenProvider, HttpTransport, TransportError, TransportErrorKind,
    async_trait,
};
use dstor_mock::FakeDstor;
use dstor_storage::{Storage, WaitPolicy};
use dstor_types::{ApiKey, BaseUrl, Environment};
use http::{Request, Response};

/// A transport over reqwest that streams both ways, follows no redirect and uses no proxy.
#[derive(Clone, Debug)]
pub(crate) struct Loopback {
    client: reqwest::Client,
    /// Connect errors still to be faked before a chunk POST goes through.
    refuse_connects: Arc<AtomicUsize>,
    /// Chunk POSTs (`POST /v1/upload/`) tried, refused ones included.
    pub(crate) chunk_attempts: Arc<AtomicUsize>,
}

impl Loopback {
    pub(crate) fn new() -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .unwrap();
        Self {
            client,
            refuse_connects: Arc::default(),
            chunk_attempts: Arc::default(),
        }
    }

    /// The next `n` chunk POSTs fail as if the connection could not be made.
    pub(crate) fn refuse_connects(&self, n: usize) {
        self.refuse_connects.store(n, Ordering::SeqCst);
    }
}

fn transport_error(e: reqwest::Error) -> TransportError {
    let kind = if e.is_connect() {
        TransportErrorKind::Connect
    } else if e.is_timeout() {
        TransportErrorKind::Timeout
    } else {
        TransportErrorKind::Connection
    };
    TransportError::with_source(kind, e.without_url())
}

#[async_trait]
impl HttpTransport for Loopback {
    async fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        let request = reqwest::Request::try_from(request.map(reqwest::Body::from))
            .map_err(transport_error)?;
        let response = self
            .client
            .execute(request)
            .await
            .map_err(transport_error)?;
        let response = Response::<reqwest::Body>::from(response);
        let (parts, body) = response.into_parts();
        let bytes = Body::wrap(body).collect(1 << 20).await?;
        Ok(Response::from_parts(parts, bytes.to_vec()))
    }

    async fn send_streaming(
        &self,
        request: Request<Body>,
    ) -> Result<Response<Body>, TransportError> {
        let chunk = request.method() == http::Method::POST && request.uri().path() == "/v1/upload/";
        if chunk {
            self.chunk_attempts.fetch_add(1, Ordering::SeqCst);
        }
        let refuse = chunk
            && self
                .refuse_connects
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
        if refuse {
            return Err(TransportError::new(TransportErrorKind::Connect));
        }
        let request = reqwest::Request::try_from(request.map(reqwest::Body::wrap))
            .map_err(transport_error)?;
        let response = self
            .client
            .execute(request)
            .await
            .map_err(transport_error)?;
        Ok(Response::<reqwest::Body>::from(response).map(Body::wrap))
    }
}

/// Polls quickly: the backoff itself is tested on a paused clock in the crate.
pub(crate) fn quick_wait() -> WaitPolicy {
    WaitPolicy::default().with_interval(Duration::from_millis(5), Duration::from_millis(20))
}

/// A running fake and a `Storage` on it with a real token stack.
pub(crate) struct Setup {
    pub(crate) fake: FakeDstor,
    pub(crate) transport: Loopback,
    pub(crate) storage: Storage,
}

pub(crate) async fn setup() -> Setup {
    setup_with(FakeDstor::builder(), quick_wait()).await
}

pub(crate) async fn setup_with(builder: dstor_mock::FakeDstorBuilder, wait: WaitPolicy) -> Setup {
    let fake = builder.start().await.unwrap();
    let base = BaseUrl::parse(&fake.base_url()).unwrap();
    let transport = Loopback::new();
    let key = ApiKey::new(fake.api_key()).unwrap();
    let exchange =
        ApiKeyProvider::new(transport.clone(), &Environment::Custom(base.clone()), key).unwrap();
    let tokens = CachedTokenProvider::new(exchange);
    let storage = Storage::builder(transport.clone(), tokens, base)
        .wait(wait)
        .build()
        .unwrap();
    Setup {
        fake,
        transport,
        storage,
    }
}

/// The CIDv0 of `hello\n`, as `ipfs add` gives it (dstor-api.md).
pub(crate) const HELLO_CID: &str = "QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN";
/// The CIDv0 of the empty file.
pub(crate) const EMPTY_CID: &str = "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH";

/// The upload token the scripted dStor hands out.
pub(crate) const UPLOAD_TOKEN: &str = "upload-token-SECRET-0123456789";
/// The access token of the scripted stack.
pub(crate) const ACCESS_TOKEN: &str = "access-token-SECRET-9876543210";

/// Every request a scripted transport saw: method, URI and headers.
pub(crate) type Seen = Arc<std::sync::Mutex<Vec<http::request::Parts>>>;

/// A buffered transport (only `send`: the default `send_streaming` buffers) answering
/// with `answer(path)`, recording every request.
pub(crate) fn scripted(
    answer: impl Fn(&http::request::Parts) -> (u16, Vec<(&'static str, String)>, String)
    + Send
    + Sync
    + 'static,
) -> (impl HttpTransport + Clone, Seen) {
    let seen: Seen = Arc::default();
    let log = Arc::clone(&seen);
    let answer = Arc::new(answer);
    let transport = Arc::new(dstor_auth::transport_fn(
        move |request: Request<Vec<u8>>| {
            let (parts, _) = request.into_parts();
            let (status, headers, body) = answer(&parts);
            log.lock().unwrap().push(parts);
            let mut response = Response::builder().status(status);
            for (name, value) in headers {
                response = response.header(name, value);
            }
            std::future::ready(Ok(response.body(body.into_bytes()).unwrap()))
        },
    ));
    (transport, seen)
}

/// A `Storage` over `transport` at `http://127.0.0.1:9` with a fixed access token.
pub(crate) fn scripted_storage(transport: impl HttpTransport + 'static) -> Storage {
    let tokens = dstor_auth::StaticTokenProvider::new(ACCESS_TOKEN).unwrap();
    Storage::builder(
        transport,
        tokens,
        BaseUrl::parse("http://127.0.0.1:9").unwrap(),
    )
    .wait(quick_wait())
    .build()
    .unwrap()
}

/// A scripted dStor: get-token and chunks succeed, get-status answers `status`.
pub(crate) fn scripted_dstor(status: &str) -> (Storage, Seen) {
    let status = status.to_owned();
    let (transport, seen) = scripted(move |parts| match parts.uri.path() {
        "/v1/upload/get-token/" => (
            200,
            vec![],
            format!(r#"{{"message":"ok","token":"{UPLOAD_TOKEN}"}}"#),
        ),
        "/v1/upload/" => (200, vec![], r#"{"status":"ok"}"#.to_owned()),
        "/v1/upload/get-status/" => (200, vec![], status.clone()),
        _ => (404, vec![], String::new()),
    });
    (scripted_storage(transport), seen)
}

/// Uploads `hello.txt` (`hello\n`) to a scripted dStor whose status answers `status`.
pub(crate) async fn scripted_upload(
    status: &str,
) -> Result<dstor_storage::UploadReport, dstor_storage::StorageError> {
    let (storage, _) = scripted_dstor(status);
    storage
        .upload(dstor_storage::Upload::new().bytes("hello.txt", "hello\n"))
        .await
}
