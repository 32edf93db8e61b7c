//! The body of a request or a response at the seam: bytes, a replayable stream, or a
//! one-shot stream.

use std::error::Error as StdError;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use http_body::{Frame, SizeHint};
use http_body_util::{BodyExt, StreamBody};

use crate::{TransportError, TransportErrorKind};
use stream::StreamState;

type BoxError = Box<dyn StdError + Send + Sync>;
type BoxBody = Pin<Box<dyn http_body::Body<Data = Bytes, Error = BoxError> + Send>>;

/// The body of a request or a response: bytes in memory, a stream that can be produced
/// again from the start, or a stream that can be read once.
///
/// It implements [`http_body::Body`] with `Data = Bytes` and `Error = TransportError`, so any
/// HTTP client that takes an `http_body::Body` can send it. It is `Send` and `Sync` whatever
/// the stream inside, and its `Debug` shows only its kind and length, never its bytes.
///
/// - [`Body::from`] bytes (`Vec<u8>`, [`Bytes`], `String`, `&'static str`): cloned cheaply;
///   [`try_clone`](Body::try_clone) always gives a copy from the start.
/// - [`Body::replayable`]: a closure that makes the stream again, such as one that reopens
///   a file; `try_clone` gives a fresh stream from the closure. A request with such a body can
///   be sent again (say, after a 401).
/// - [`Body::from_stream`], [`Body::from_sized_stream`] and [`Body::wrap`]: read once;
///   `try_clone` gives `None`.
///
/// ```
/// use dstor_auth::Body;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let body = Body::from("hello");
/// assert_eq!(body.content_length(), Some(5));
/// let copy = body.try_clone().expect("bytes can be sent again");
/// assert_eq!(&copy.collect(1024).await.unwrap()[..], b"hello");
///
/// let chunks = futures_util::stream::iter([Ok::<_, std::io::Error>("he"), Ok("llo")]);
/// let once = Body::from_sized_stream(5, chunks);
/// assert!(once.try_clone().is_none());
/// assert_eq!(&once.collect(1024).await.unwrap()[..], b"hello");
/// # });
/// ```
pub struct Body {
    kind: Kind,
}

enum Kind {
    Bytes {
        data: Bytes,
        sent: bool,
    },
    Stream(StreamState),
    Replayable {
        /// The body being read, made at the first read of a copy.
        current: Option<Box<Body>>,
        make: Arc<dyn Fn() -> Body + Send + Sync>,
        /// The size hint of the first body made: every one yields the same bytes.
        hint: SizeHint,
    },
}

impl Body {
    /// An empty body.
    pub fn empty() -> Self {
        Self::from(Bytes::new())
    }

    /// A body that can be produced again: `make` is called now, and once more when a copy
    /// from [`try_clone`](Body::try_clone) is first read (a copy never read costs nothing).
    /// Each call must yield the same bytes (reopen the file, rewind the source). The length
    /// is that of the first body `make` returns.
    pub fn replayable(make: impl Fn() -> Body + Send + Sync + 'static) -> Self {
        let make: Arc<dyn Fn() -> Body + Send + Sync> = Arc::new(make);
        let first = make();
        Self {
            kind: Kind::Replayable {
                hint: http_body::Body::size_hint(&first),
                current: Some(Box::new(first)),
                make,
            },
        }
    }

    /// A one-shot body of unknown length that yields the chunks of `stream`. An error of
    /// the stream ends the body with [`TransportErrorKind::Body`] (a [`TransportError`] is
    /// passed on as it is).
    pub fn from_stream<S, B, E>(stream: S) -> Self
    where
        S: Stream<Item = Result<B, E>> + Send + 'static,
        B: Into<Bytes>,
        E: Into<BoxError>,
    {
        Self::stream(stream, None)
    }

    /// A one-shot body of exactly `length` bytes, which it declares (a transport can send
    /// `Content-Length`). A stream that yields more, or ends sooner, fails with
    /// [`TransportErrorKind::Body`] rather than send a body of another length.
    pub fn from_sized_stream<S, B, E>(length: u64, stream: S) -> Self
    where
        S: Stream<Item = Result<B, E>> + Send + 'static,
        B: Into<Bytes>,
        E: Into<BoxError>,
    {
        Self::stream(stream, Some(length))
    }

    fn stream<S, B, E>(stream: S, length: Option<u64>) -> Self
    where
        S: Stream<Item = Result<B, E>> + Send + 'static,
        B: Into<Bytes>,
        E: Into<BoxError>,
    {
        let frames = stream.map(|item| {
            item.map(|data| Frame::data(data.into()))
                .map_err(Into::into)
        });
        Self::boxed(Box::pin(StreamBody::new(frames)), length)
    }

    /// A one-shot body reading any other [`http_body::Body`], such as an HTTP client's
    /// response body; its size hint is kept. Its errors become [`TransportError`]s as in
    /// [`Body::from_stream`].
    pub fn wrap<B>(body: B) -> Self
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        Self::boxed(Box::pin(body.map_err(Into::into)), None)
    }

    fn boxed(inner: BoxBody, length: Option<u64>) -> Self {
        let hint = match length {
            Some(n) => SizeHint::with_exact(n),
            None => inner.size_hint(),
        };
        Self {
            kind: Kind::Stream(StreamState::new(inner, length, hint)),
        }
    }

    /// A copy of this body from its start, if it can be produced again: always for bytes,
    /// through the closure for [`Body::replayable`], never for a one-shot stream.
    pub fn try_clone(&self) -> Option<Body> {
        match &self.kind {
            Kind::Bytes { data, .. } => Some(Self::from(data.clone())),
            Kind::Replayable { make, hint, .. } => Some(Self {
                kind: Kind::Replayable {
                    current: None,
                    make: Arc::clone(make),
                    hint: *hint,
                },
            }),
            Kind::Stream(_) => None,
        }
    }

    /// The length in bytes still to be read, when it is known exactly.
    pub fn content_length(&self) -> Option<u64> {
        http_body::Body::size_hint(self).exact()
    }

    /// The bytes, if the body is in memory and not read yet: no copy is made.
    pub fn as_bytes(&self) -> Option<&Bytes> {
        match &self.kind {
            Kind::Bytes { data, sent: false } => Some(data),
            Kind::Replayable { current, .. } => current.as_deref()?.as_bytes(),
            _ => None,
        }
    }

    /// Reads the whole body, `limit` bytes at most. A body that declares more is refused
    /// before a byte is read, and one that grows past the limit is abandoned as soon as it
    /// does: memory stays bounded whatever the source.
    ///
    /// # Errors
    ///
    /// [`TransportErrorKind::BodyTooLarge`] past the limit; the body's own error otherwise.
    pub async fn collect(mut self, limit: usize) -> Result<Bytes, TransportError> {
        let too_large = || TransportError::new(TransportErrorKind::BodyTooLarge { limit });
        let limit64 = u64::try_from(limit).unwrap_or(u64::MAX);
        if http_body::Body::size_hint(&self).lower() > limit64 {
            return Err(too_large());
        }
        if let Some(data) = self.as_bytes() {
            return Ok(data.clone());
        }
        let mut out = BytesMut::new();
        while let Some(frame) = self.frame().await {
            let Ok(data) = frame?.into_data() else {
                continue;
            };
            // `out.len() <= limit` holds at every step, so this cannot underflow.
            if data.len() > limit - out.len() {
                return Err(too_large());
            }
            out.extend_from_slice(&data);
        }
        Ok(out.freeze())
    }
}

impl Default for Body {
    fn default() -> Self {
        Self::empty()
    }
}

impl From<Bytes> for Body {
    fn from(data: Bytes) -> Self {
        Self {
            kind: Kind::Bytes { data, sent: false },
        }
    }
}

impl From<Vec<u8>> for Body {
    fn from(data: Vec<u8>) -> Self {
        Self::from(Bytes::from(data))
    }
}

impl From<String> for Body {
    fn from(data: String) -> Self {
        Self::from(Bytes::from(data))
    }
}

impl From<&'static [u8]> for Body {
    fn from(data: &'static [u8]) -> Self {
        Self::from(Bytes::from_static(data))
    }
}

impl From<&'static str> for Body {
    fn from(data: &'static str) -> Self {
        Self::from(Bytes::from_static(data.as_bytes()))
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = TransportError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, TransportError>>> {
        match &mut self.get_mut().kind {
            Kind::Bytes { data, sent } => {
                if *sent {
                    return Poll::Ready(None);
                }
                *sent = true;
                if data.is_empty() {
                    Poll::Ready(None)
                } else {
                    Poll::Ready(Some(Ok(Frame::data(data.clone()))))
                }
            }
            Kind::Replayable { current, make, .. } => {
                let body = current.get_or_insert_with(|| Box::new(make()));
                Pin::new(body.as_mut()).poll_frame(cx)
            }
            Kind::Stream(state) => state.poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Bytes { data, sent } => *sent || data.is_empty(),
            Kind::Replayable { current, hint, .. } => match current {
                Some(body) => body.is_end_stream(),
                None => hint.exact() == Some(0),
            },
            Kind::Stream(state) => state.ended,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Bytes { data, sent } => {
                SizeHint::with_exact(if *sent { 0 } else { data.len() as u64 })
            }
            Kind::Replayable { current, hint, .. } => match current {
                Some(body) => body.size_hint(),
                None => *hint,
            },
            Kind::Stream(state) => state.size_hint(),
        }
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.kind {
            Kind::Bytes { .. } => "bytes",
            Kind::Replayable { .. } => "replayable",
            Kind::Stream(_) => "stream",
        };
        f.debug_struct("Body")
            .field("kind", &kind)
            .field("content_length", &self.content_length())
            .finish()
    }
}

mod stream;

#[cfg(test)]
mod tests;
