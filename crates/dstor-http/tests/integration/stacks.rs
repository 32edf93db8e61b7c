//! The stacks users already have, against the fake: `AuthorizedMiddleware` in a
//! `reqwest_middleware` client and `AuthorizedLayer` over hyper's client. Each puts a
//! sensitive token the fake accepts on the request, re-authorizes once after a 401, and
//! sends nothing to another origin. (Features `reqwest-middleware` and `tower`.)

use std::sync::{Arc, Mutex};
use std::time::Duration;

use dstor_http::{
    AccessToken, AuthError, BaseUrl, CacheConfig, DstorClient, TokenProvider, async_trait,
};
use dstor_mock::{FakeDstor, RecordedRequest, StorageEndpoint, StorageFault};

/// A client of `server` whose cache may refresh at once after each rejection.
fn client(server: &FakeDstor) -> DstorClient {
    let at_once = CacheConfig::default().with_min_intervals(Duration::ZERO, Duration::ZERO);
    crate::common::builder(server)
        .cache_config(at_once)
        .build()
        .unwrap()
}

/// `POST /v1/upload/get-token/` wants a bearer token the fake issued: the request used here.
const UPLOAD_TOKEN_BODY: &str = r#"{"chunks_number":1,"folder_path":"/"}"#;

fn upload_token_url(server: &FakeDstor) -> String {
    format!("{}/v1/upload/get-token/", server.base_url())
}

/// A 401 once, as the fake answers a token it no longer accepts.
fn one_401() -> StorageFault {
    StorageFault::Status {
        endpoint: StorageEndpoint::UploadToken,
        code: 401,
    }
}

/// The bearer tokens the fake saw on the upload-token endpoint, never next to the API key.
fn bearer_tokens(server: &FakeDstor) -> Vec<String> {
    let seen: Vec<RecordedRequest> = server.requests();
    seen.iter()
        .filter(|r| r.path.starts_with("/v1/upload/get-token"))
        .map(|r| {
            assert!(
                !r.headers.contains_key("api-key"),
                "the key goes only to temp-token"
            );
            let header = r.headers["authorization"].to_str().unwrap();
            header.strip_prefix("Bearer ").unwrap().to_owned()
        })
        .collect()
}

/// The token the fake's clock makes within one second is always the same, so a refresh
/// cannot be told from a rejected token by the fake alone. This provider plays a cache whose
/// token was revoked: its first token is one the fake never signed (which the fake rejects
/// with a 401), every later one the client's. It records what it is told to invalidate.
#[derive(Debug)]
struct RevokedFirst {
    client: DstorClient,
    revoked: Mutex<Option<AccessToken>>,
    invalidated: Mutex<Vec<String>>,
}

const REVOKED: &str = "revoked-token";

fn revoked_first(client: &DstorClient) -> Arc<RevokedFirst> {
    Arc::new(RevokedFirst {
        client: client.clone(),
        revoked: Mutex::new(Some(AccessToken::new(REVOKED).unwrap())),
        invalidated: Mutex::new(Vec::new()),
    })
}

#[async_trait]
impl TokenProvider for RevokedFirst {
    async fn token(&self) -> Result<AccessToken, AuthError> {
        let revoked = self.revoked.lock().unwrap().take();
        match revoked {
            Some(token) => Ok(token),
            None => self.client.token().await,
        }
    }

    fn invalidate(&self, token: &AccessToken) {
        let token = token.expose_secret().to_owned();
        self.invalidated.lock().unwrap().push(token);
    }
}

impl RevokedFirst {
    fn revoke_again(&self) {
        *self.revoked.lock().unwrap() = Some(AccessToken::new(REVOKED).unwrap());
    }
}

fn base_url(server: &FakeDstor) -> BaseUrl {
    BaseUrl::parse(&server.base_url()).unwrap()
}

/// After a 401 to the revoked token, the request went once more with the client's token;
/// exactly the revoked token was invalidated.
fn assert_re_authorized_once(server: &FakeDstor, tokens: &RevokedFirst) {
    let sent = bearer_tokens(server);
    assert_eq!(sent.len(), 2, "sent once more after the 401, and no more");
    assert_eq!(sent[0], REVOKED);
    assert!(
        server.verify_token(&sent[1]).is_some(),
        "then a token the fake signed"
    );
    assert_eq!(*tokens.invalidated.lock().unwrap(), [REVOKED]);
}

/// The secrets a `Debug` must not show: the key and every token handed out so far.
fn assert_debug_hides_secrets(debug: &str, server: &FakeDstor, client: &DstorClient) {
    let mut secrets = bearer_tokens(server);
    secrets.extend(
        client
            .tokens()
            .try_cached()
            .map(|t| t.expose_secret().to_owned()),
    );
    secrets.push(server.api_key().to_owned());
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    crate::common::assert_no_secret(debug, &secrets);
}

#[cfg(feature = "reqwest-middleware")]
mod reqwest_middleware_stack {
    use dstor_http::middleware::AuthorizedMiddleware;
    use dstor_http::{TransportError, TransportErrorKind, http};
    use dstor_mock::FakeDstor;
    use reqwest_middleware::{ClientBuilder, ClientWithMiddleware, Middleware, Next};

    use super::*;

    /// Below the authorizing middleware: records whether the header was marked sensitive.
    #[derive(Default)]
    struct Sensitivity(Arc<Mutex<Vec<bool>>>);

    #[async_trait]
    impl Middleware for Sensitivity {
        async fn handle(
            &self,
            request: reqwest::Request,
            extensions: &mut http::Extensions,
            next: Next<'_>,
        ) -> reqwest_middleware::Result<reqwest::Response> {
            let header = request.headers().get("authorization");
            self.0
                .lock()
                .unwrap()
                .push(header.is_some_and(|h| h.is_sensitive()));
            next.run(request, extensions).await
        }
    }

    fn stack(dstor: &DstorClient) -> (ClientWithMiddleware, Arc<Mutex<Vec<bool>>>) {
        let sensitivity = Sensitivity::default();
        let seen = Arc::clone(&sensitivity.0);
        let client = ClientBuilder::new(reqwest::Client::new())
            .with(AuthorizedMiddleware::for_client(dstor))
            .with(sensitivity)
            .build();
        (client, seen)
    }

    fn transport_error(err: &reqwest_middleware::Error) -> &TransportError {
        match err {
            reqwest_middleware::Error::Middleware(e) => e.downcast_ref().unwrap(),
            other => panic!("not the middleware's error: {other}"),
        }
    }

    #[tokio::test]
    async fn the_request_carries_a_sensitive_token_the_fake_accepts() {
        let server = FakeDstor::start().await.unwrap();
        let dstor = client(&server);
        let (client, sensitive) = stack(&dstor);
        let response = client
            .post(upload_token_url(&server))
            .header("content-type", "application/json")
            .body(UPLOAD_TOKEN_BODY)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.url().as_str(), upload_token_url(&server));
        let answer: serde_json::Value =
            serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
        assert_eq!(answer["message"], "ok");
        let sent = bearer_tokens(&server);
        assert_eq!(sent.len(), 1);
        assert!(
            server.verify_token(&sent[0]).is_some(),
            "a token the fake signed"
        );
        assert_eq!(*sensitive.lock().unwrap(), [true]);
        let middleware = AuthorizedMiddleware::for_client(&dstor);
        assert_debug_hides_secrets(&format!("{middleware:?} {client:?}"), &server, &dstor);
    }

    #[tokio::test]
    async fn a_401_re_authorizes_once_and_a_second_is_an_error() {
        let server = FakeDstor::start().await.unwrap();
        let dstor = client(&server);
        let tokens = revoked_first(&dstor);
        let middleware = AuthorizedMiddleware::new(Arc::clone(&tokens), base_url(&server));
        let client = ClientBuilder::new(reqwest::Client::new())
            .with(middleware.unwrap())
            .build();
        let send = || {
            client
                .post(upload_token_url(&server))
                .body(UPLOAD_TOKEN_BODY)
                .send()
        };
        assert_eq!(send().await.unwrap().status(), 200);
        assert_re_authorized_once(&server, &tokens);

        // The revoked token again, and this time the fresh one rejected too (the faults
        // are taken before the token is looked at: one per request).
        tokens.revoke_again();
        server.push_storage_faults([one_401(), one_401()]);
        let err = send().await.unwrap_err();
        assert_eq!(
            transport_error(&err).kind(),
            TransportErrorKind::TokenRejected
        );
        assert_eq!(
            bearer_tokens(&server).len(),
            4,
            "the revoked token, a fresh one, and no third"
        );
        assert_debug_hides_secrets(&format!("{err} {err:?}"), &server, &dstor);
    }

    #[tokio::test]
    async fn nothing_is_sent_to_another_origin() {
        let server = FakeDstor::start().await.unwrap();
        let other = FakeDstor::start().await.unwrap();
        let (client, _) = stack(&client(&server));
        let err = client
            .get(format!("{}/v1/anything", other.base_url()))
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            transport_error(&err).kind(),
            TransportErrorKind::ForeignOrigin
        );
        assert_eq!(other.request_count(), 0);
        assert_eq!(server.request_count(), 0, "not even a token was fetched");
    }
}

#[cfg(feature = "tower")]
mod tower_stack {
    use dstor_http::tower::AuthorizedLayer;
    use dstor_http::{Body, TransportErrorKind, http};
    use dstor_mock::FakeDstor;
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    use tower::{Layer as _, ServiceExt as _, service_fn};

    use super::*;

    /// hyper's client below the layer, recording whether the header was marked sensitive.
    async fn send<P: TokenProvider + Clone + 'static>(
        layer: AuthorizedLayer<P>,
        request: http::Request<Body>,
    ) -> (
        Result<http::Response<Body>, dstor_http::TransportError>,
        Vec<bool>,
    ) {
        let hyper = Client::builder(TokioExecutor::new()).build_http::<Body>();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&seen);
        let below = service_fn(move |request: http::Request<Body>| {
            let header = request.headers().get("authorization");
            recorded
                .lock()
                .unwrap()
                .push(header.is_some_and(|h| h.is_sensitive()));
            hyper.clone().oneshot(request)
        });
        let service = layer.layer(below);
        let outcome = service.oneshot(request).await;
        let seen = seen.lock().unwrap().clone();
        (outcome, seen)
    }

    fn upload_token_request(server: &FakeDstor) -> http::Request<Body> {
        http::Request::post(upload_token_url(server))
            .body(Body::from(UPLOAD_TOKEN_BODY))
            .unwrap()
    }

    #[tokio::test]
    async fn the_request_carries_a_sensitive_token_the_fake_accepts() {
        let server = FakeDstor::start().await.unwrap();
        let dstor = client(&server);
        let layer = AuthorizedLayer::for_client(&dstor);
        let (response, sensitive) = send(layer, upload_token_request(&server)).await;
        let response = response.unwrap();
        assert_eq!(response.status(), 200);
        let body = response.into_body().collect(64 * 1024).await.unwrap();
        let answer: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(answer["message"], "ok");
        let sent = bearer_tokens(&server);
        assert_eq!(sent.len(), 1);
        assert!(
            server.verify_token(&sent[0]).is_some(),
            "a token the fake signed"
        );
        assert_eq!(sensitive, [true]);
        let layer = AuthorizedLayer::for_client(&dstor);
        assert_debug_hides_secrets(&format!("{layer:?}"), &server, &dstor);
    }

    #[tokio::test]
    async fn a_401_re_authorizes_once_and_a_second_is_an_error() {
        let server = FakeDstor::start().await.unwrap();
        let dstor = client(&server);
        let tokens = revoked_first(&dstor);
        let layer = AuthorizedLayer::new(Arc::clone(&tokens), base_url(&server)).unwrap();
        let (response, sensitive) = send(layer.clone(), upload_token_request(&server)).await;
        assert_eq!(response.unwrap().status(), 200);
        assert_eq!(sensitive, [true, true]);
        assert_re_authorized_once(&server, &tokens);

        // The revoked token again, and this time the fresh one rejected too (the faults
        // are taken before the token is looked at: one per request).
        tokens.revoke_again();
        server.push_storage_faults([one_401(), one_401()]);
        let (response, _) = send(layer, upload_token_request(&server)).await;
        let err = response.unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::TokenRejected);
        assert_eq!(
            bearer_tokens(&server).len(),
            4,
            "the revoked token, a fresh one, and no third"
        );
        assert_debug_hides_secrets(&format!("{err} {err:?}"), &server, &dstor);
    }

    #[tokio::test]
    async fn nothing_is_sent_to_another_origin() {
        let server = FakeDstor::start().await.unwrap();
        let other = FakeDstor::start().await.unwrap();
        let url = format!("{}/v1/anything", other.base_url());
        let request = http::Request::get(url).body(Body::empty()).unwrap();
        let layer = AuthorizedLayer::for_client(&client(&server));
        let (response, seen) = send(layer, request).await;
        assert_eq!(
            response.unwrap_err().kind(),
            TransportErrorKind::ForeignOrigin
        );
        assert!(seen.is_empty(), "the service below got nothing");
        assert_eq!(other.request_count(), 0);
        assert_eq!(server.request_count(), 0, "not even a token was fetched");
    }
}
