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
use sync_wrapper::SyncWrapper;

use crate::{TransportError, TransportErrorKind};

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
        current: Box<Body>,
        make: Arc<dyn Fn() -> Body + Send + Sync>,
    },
}

struct StreamState {
    inner: SyncWrapper<BoxBody>,
    /// The declared length, checked against what the stream yields.
    length: Option<u64>,
    /// The size hint of the inner body when no length was declared.
    hint: SizeHint,
    read: u64,
    ended: bool,
}

impl Body {
    /// An empty body.
    pub fn empty() -> Self {
        Self::from(Bytes::new())
    }

    /// A body that can be produced again: `make` is called now, and once more for each
    /// [`try_clone`](Body::try_clone). Each call must yield the same bytes (reopen the file,
    /// rewind the source). The length is that of the body `make` returns.
    pub fn replayable(make: impl Fn() -> Body + Send + Sync + 'static) -> Self {
        let make: Arc<dyn Fn() -> Body + Send + Sync> = Arc::new(make);
        Self {
            kind: Kind::Replayable {
                current: Box::new(make()),
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
            kind: Kind::Stream(StreamState {
                inner: SyncWrapper::new(inner),
                length,
                hint,
                read: 0,
                ended: false,
            }),
        }
    }

    /// A copy of this body from its start, if it can be produced again: always for bytes,
    /// through the closure for [`Body::replayable`], never for a one-shot stream.
    pub fn try_clone(&self) -> Option<Body> {
        match &self.kind {
            Kind::Bytes { data, .. } => Some(Self::from(data.clone())),
            Kind::Replayable { make, .. } => Some(Self {
                kind: Kind::Replayable {
                    current: Box::new(make()),
                    make: Arc::clone(make),
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
            Kind::Replayable { current, .. } => current.as_bytes(),
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
            Kind::Replayable { current, .. } => Pin::new(current.as_mut()).poll_frame(cx),
            Kind::Stream(state) => state.poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Bytes { data, sent } => *sent || data.is_empty(),
            Kind::Replayable { current, .. } => current.is_end_stream(),
            Kind::Stream(state) => state.ended,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Bytes { data, sent } => {
                SizeHint::with_exact(if *sent { 0 } else { data.len() as u64 })
            }
            Kind::Replayable { current, .. } => current.size_hint(),
            Kind::Stream(state) => state.size_hint(),
        }
    }
}

impl StreamState {
    fn poll_frame(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, TransportError>>> {
        if self.ended {
            return Poll::Ready(None);
        }
        let polled = self.inner.get_mut().as_mut().poll_frame(cx);
        let Poll::Ready(frame) = polled else {
            return Poll::Pending;
        };
        let result = match frame {
            None => match self.length {
                Some(n) if self.read != n => Err(length_mismatch(n, self.read)),
                _ => {
                    self.ended = true;
                    return Poll::Ready(None);
                }
            },
            Some(Err(e)) => Err(body_error(e)),
            Some(Ok(frame)) => {
                let len = frame.data_ref().map_or(0, |d| d.len() as u64);
                self.read = self.read.saturating_add(len);
                match self.length {
                    Some(n) if self.read > n => Err(length_mismatch(n, self.read)),
                    _ => Ok(frame),
                }
            }
        };
        if result.is_err() {
            self.ended = true;
        }
        Poll::Ready(Some(result))
    }

    fn size_hint(&self) -> SizeHint {
        if self.ended {
            return SizeHint::with_exact(0);
        }
        match self.length {
            Some(n) => SizeHint::with_exact(n.saturating_sub(self.read)),
            None => {
                let mut hint = SizeHint::new();
                hint.set_lower(self.hint.lower().saturating_sub(self.read));
                if let Some(upper) = self.hint.upper() {
                    hint.set_upper(upper.saturating_sub(self.read));
                }
                hint
            }
        }
    }
}

/// A stream's error as a [`TransportError`]: one already is stays as it is.
fn body_error(error: BoxError) -> TransportError {
    match error.downcast::<TransportError>() {
        Ok(e) => *e,
        Err(other) => TransportError::with_source(TransportErrorKind::Body, other),
    }
}

fn length_mismatch(declared: u64, read: u64) -> TransportError {
    let message = if read > declared {
        format!("the stream yielded more than the {declared} bytes it declared")
    } else {
        format!("the stream ended after {read} of the {declared} bytes it declared")
    };
    TransportError::with_source(TransportErrorKind::Body, message)
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

#[cfg(test)]
mod tests;
