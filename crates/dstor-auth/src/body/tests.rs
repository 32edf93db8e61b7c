use std::error::Error as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::stream;
use http_body::Body as _;

use super::*;
use crate::{HttpTransport, MAX_BUFFERED_REQUEST_BYTES, transport_fn};

fn chunks(parts: &[&'static str]) -> impl Stream<Item = Result<Bytes, std::io::Error>> + use<> {
    let parts: Vec<_> = parts
        .iter()
        .map(|p| Ok(Bytes::from_static(p.as_bytes())))
        .collect();
    stream::iter(parts)
}

const fn assert_send_sync<T: Send + Sync>() {}
const _: () = assert_send_sync::<Body>();

#[tokio::test]
async fn bytes_are_cloned_from_the_start_even_after_a_read() {
    let mut body = Body::from(b"hello".to_vec());
    assert_eq!(body.content_length(), Some(5));
    let frame = body.frame().await.unwrap().unwrap();
    assert_eq!(frame.into_data().unwrap(), "hello");
    assert!(body.is_end_stream());
    assert_eq!(body.content_length(), Some(0));
    assert!(body.frame().await.is_none());
    let again = body.try_clone().unwrap();
    assert_eq!(again.collect(5).await.unwrap(), "hello");
    assert!(Body::empty().is_end_stream());
    assert_eq!(Body::empty().collect(0).await.unwrap(), "");
}

#[tokio::test]
async fn a_replayable_body_is_made_again_for_each_clone() {
    let made = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&made);
    let body = Body::replayable(move || {
        counter.fetch_add(1, Ordering::SeqCst);
        Body::from_sized_stream(6, chunks(&["abc", "def"]))
    });
    assert_eq!(made.load(Ordering::SeqCst), 1);
    assert_eq!(body.content_length(), Some(6));
    let copy = body.try_clone().unwrap();
    assert_eq!(copy.content_length(), Some(6));
    assert_eq!(
        made.load(Ordering::SeqCst),
        1,
        "a copy is made when it is read"
    );
    assert_eq!(body.collect(100).await.unwrap(), "abcdef");
    assert_eq!(copy.collect(100).await.unwrap(), "abcdef");
    assert_eq!(made.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_stream_is_read_once_in_order() {
    let body = Body::from_stream(chunks(&["one ", "two ", "three"]));
    assert!(body.try_clone().is_none());
    assert_eq!(body.content_length(), None);
    assert_eq!(body.collect(100).await.unwrap(), "one two three");
}

#[tokio::test]
async fn a_stream_of_another_length_than_declared_fails() {
    let long = Body::from_sized_stream(3, chunks(&["ab", "cd"]));
    let err = long.collect(100).await.unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Body);
    assert!(
        err.source()
            .unwrap()
            .to_string()
            .contains("more than the 3 bytes")
    );

    let short = Body::from_sized_stream(5, chunks(&["ab"]));
    let err = short.collect(100).await.unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Body);
    assert!(
        err.source()
            .unwrap()
            .to_string()
            .contains("after 2 of the 5")
    );
}

#[tokio::test]
async fn a_stream_error_is_a_body_error_and_a_transport_error_passes_through() {
    let io = std::io::Error::other("disk on fire");
    let body = Body::from_stream(stream::iter([Ok(Bytes::from_static(b"x")), Err(io)]));
    let err = body.collect(100).await.unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Body);
    assert!(!err.to_string().contains("disk on fire"), "{err}");
    assert_eq!(err.source().unwrap().to_string(), "disk on fire");

    let timeout = TransportError::new(TransportErrorKind::Timeout);
    let body = Body::from_stream(stream::iter([Err::<Bytes, _>(timeout)]));
    assert_eq!(
        body.collect(100).await.unwrap_err().kind(),
        TransportErrorKind::Timeout
    );
}

#[tokio::test]
async fn collect_refuses_a_declared_length_over_the_limit_before_reading() {
    // A stream that never yields: reading it would hang the test.
    let never = stream::pending::<Result<Bytes, std::io::Error>>();
    let body = Body::from_sized_stream(1 << 40, never);
    let err = body.collect(1024).await.unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::BodyTooLarge { limit: 1024 });
}

#[tokio::test]
async fn collect_abandons_an_endless_stream_at_the_limit() {
    let endless = stream::repeat_with(|| Ok::<_, std::io::Error>(Bytes::from(vec![0u8; 1000])));
    let err = Body::from_stream(endless)
        .collect(10_000)
        .await
        .unwrap_err();
    assert_eq!(
        err.kind(),
        TransportErrorKind::BodyTooLarge { limit: 10_000 }
    );
    let exact =
        stream::iter((0..10).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![1u8; 1000]))));
    assert_eq!(
        Body::from_stream(exact)
            .collect(10_000)
            .await
            .unwrap()
            .len(),
        10_000
    );
}

#[tokio::test]
async fn a_wrapped_body_keeps_its_size_hint() {
    let inner = http_body_util::Full::new(Bytes::from_static(b"wrapped"));
    let body = Body::wrap(inner);
    assert_eq!(body.content_length(), Some(7));
    assert!(body.try_clone().is_none());
    assert_eq!(body.collect(7).await.unwrap(), "wrapped");
}

#[test]
fn debug_shows_the_kind_and_length_not_the_bytes() {
    let text = format!("{:?}", Body::from("secret-bytes"));
    assert!(!text.contains("secret"), "{text}");
    assert!(text.contains("bytes") && text.contains("12"), "{text}");
    let text = format!("{:?}", Body::from_stream(chunks(&["secret"])));
    assert!(
        text.contains("stream") && !text.contains("secret"),
        "{text}"
    );
}

#[tokio::test]
async fn the_default_send_streaming_buffers_the_body_for_send() {
    let transport = transport_fn(|request: http::Request<Vec<u8>>| async move {
        let mut echo = request.into_body();
        echo.extend_from_slice(b"!");
        Ok(http::Response::new(echo))
    });
    let request = http::Request::new(Body::from_stream(chunks(&["stre", "amed"])));
    let response = transport.send_streaming(request).await.unwrap();
    assert_eq!(
        response.into_body().collect(100).await.unwrap(),
        "streamed!"
    );
}

#[tokio::test]
async fn the_default_send_streaming_refuses_a_body_over_its_limit_unsent() {
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&sent);
    let transport = transport_fn(move |_request: http::Request<Vec<u8>>| {
        counter.fetch_add(1, Ordering::SeqCst);
        async { Ok(http::Response::new(Vec::new())) }
    });
    let huge = MAX_BUFFERED_REQUEST_BYTES as u64 + 1;
    let body = Body::from_sized_stream(huge, stream::pending::<Result<Bytes, std::io::Error>>());
    let err = transport
        .send_streaming(http::Request::new(body))
        .await
        .unwrap_err();
    let limit = MAX_BUFFERED_REQUEST_BYTES;
    assert_eq!(
        err.kind(),
        TransportErrorKind::RequestBodyTooLarge { limit }
    );
    assert!(!err.is_retryable());
    assert_eq!(sent.load(Ordering::SeqCst), 0);
}
