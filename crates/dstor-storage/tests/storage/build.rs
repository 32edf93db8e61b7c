//! Building a `Storage`: an endpoint that may not carry a token is refused at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use dstor_auth::{AuthError, token_provider_fn};
use dstor_storage::{Storage, StorageError};
use dstor_types::{BaseUrl, EndpointError};

use crate::support::scripted;

/// Builds a `Storage` for `base` over a transport and a token provider that count what
/// they are asked: the build's result, the requests sent and the tokens asked for.
fn build(base: &str) -> (Result<Storage, StorageError>, usize, usize) {
    let (transport, seen) = scripted(|_| (200, vec![], String::new()));
    let asked = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&asked);
    let tokens = token_provider_fn(move || {
        count.fetch_add(1, Ordering::SeqCst);
        async { Err(AuthError::provider("no token in this test", false)) }
    });
    let built = Storage::builder(transport, tokens, BaseUrl::parse(base).unwrap()).build();
    let sent = seen.lock().unwrap().len();
    (built, sent, asked.load(Ordering::SeqCst))
}

#[test]
fn plain_http_to_another_host_is_refused_at_build_with_the_endpoint_rule() {
    let (built, sent, asked) = build("http://storage.example.com");
    let err = built.unwrap_err();
    match &err {
        StorageError::Endpoint(EndpointError::Insecure { host }) => {
            assert_eq!(host, "storage.example.com");
        }
        other => panic!("expected the insecure-endpoint error, got {other:?}"),
    }
    assert!(err.is_bad_input() && !err.is_retryable());
    let source = std::error::Error::source(&err).unwrap().to_string();
    assert!(source.contains("use an https endpoint"), "{source}");
    assert!(
        !err.to_string().contains(&source),
        "the message repeats its source"
    );
    assert_eq!((sent, asked), (0, 0), "nothing sent, no token asked for");
}

#[test]
fn https_and_loopback_http_are_accepted() {
    for base in [
        "https://api.dstor.cloud",
        "http://127.0.0.1:9",
        "http://localhost:8080",
        "http://[::1]:9",
    ] {
        let (built, sent, asked) = build(base);
        let storage = built.unwrap_or_else(|e| panic!("{base}: {e}"));
        assert_eq!(storage.base_url(), &BaseUrl::parse(base).unwrap());
        assert_eq!((sent, asked), (0, 0), "building sends nothing");
    }
}
