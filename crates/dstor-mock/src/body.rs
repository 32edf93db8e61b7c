//! Response bodies: small ones in memory, large and endless ones streamed.

use std::io;
use std::pin::Pin;
use std::sync::LazyLock;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::time::Sleep;

use crate::storage::FileBody;

/// The size of each streamed chunk.
pub(crate) const CHUNK: usize = 16 * 1024;

/// The pause between two chunks of an endless body.
const ENDLESS_PAUSE: Duration = Duration::from_millis(1);

/// The start of a streamed body, so it looks like a token response to a client.
const PREFIX: &[u8] = br#"{"access_token":""#;

/// The first chunk of a streamed body: the prefix, then filler.
static FIRST: LazyLock<Bytes> = LazyLock::new(|| {
    let mut chunk = PREFIX.to_vec();
    chunk.resize(CHUNK, b'a');
    Bytes::from(chunk)
});

/// Every later chunk: filler only.
static FILL: LazyLock<Bytes> = LazyLock::new(|| Bytes::from(vec![b'a'; CHUNK]));

/// The body of every response of the fake server.
#[derive(Debug)]
pub(crate) enum MockBody {
    /// A body held in memory (possibly empty), sent as one frame.
    Full(Option<Bytes>),
    /// A streamed body of an exact length.
    Sized {
        /// How many bytes were sent so far.
        sent: u64,
        /// The total length.
        len: u64,
    },
    /// A streamed body that sends `len` bytes and then stalls forever,
    /// declaring `declared` bytes if given.
    Stalled {
        /// How many bytes were sent so far.
        sent: u64,
        /// How many bytes are sent before the stall.
        len: u64,
        /// The declared length, if any.
        declared: Option<u64>,
    },
    /// A spool file, streamed.
    File(FileBody),
    /// A streamed body that never ends.
    Endless {
        /// Whether the first chunk was sent.
        started: bool,
        /// The pause before the next chunk, if one is running.
        pause: Option<Pin<Box<Sleep>>>,
    },
}

impl MockBody {
    /// A body held in memory.
    pub(crate) fn full(bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        Self::Full((!bytes.is_empty()).then_some(bytes))
    }

    /// A streamed body of exactly `len` bytes.
    pub(crate) fn sized(len: u64) -> Self {
        Self::Sized { sent: 0, len }
    }

    /// A streamed body that sends `sent` bytes (at most `declared`, if given)
    /// and then stalls.
    pub(crate) fn stalled(sent: u64, declared: Option<u64>) -> Self {
        Self::Stalled {
            sent: 0,
            len: declared.map_or(sent, |declared| sent.min(declared)),
            declared,
        }
    }

    /// A streamed body that never ends.
    pub(crate) fn endless() -> Self {
        Self::Endless {
            started: false,
            pause: None,
        }
    }
}

/// The next chunk of a stream, at most `max` bytes long.
fn chunk(first: bool, max: u64) -> Bytes {
    let source = if first { &*FIRST } else { &*FILL };
    let len = usize::try_from(max).unwrap_or(CHUNK).min(CHUNK);
    source.slice(..len)
}

impl Body for MockBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match self.get_mut() {
            Self::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Self::Sized { sent, len } => {
                if *sent >= *len {
                    return Poll::Ready(None);
                }
                let data = chunk(*sent == 0, *len - *sent);
                *sent += data.len() as u64;
                Poll::Ready(Some(Ok(Frame::data(data))))
            }
            Self::Stalled { sent, len, .. } => {
                if *sent >= *len {
                    // Never woken: the connection stays open until it is aborted.
                    return Poll::Pending;
                }
                let data = chunk(*sent == 0, *len - *sent);
                *sent += data.len() as u64;
                Poll::Ready(Some(Ok(Frame::data(data))))
            }
            Self::File(file) => file.poll_frame(cx),
            Self::Endless { started, pause } => {
                if let Some(sleep) = pause.as_mut() {
                    ready!(sleep.as_mut().poll(cx));
                }
                *pause = Some(Box::pin(tokio::time::sleep(ENDLESS_PAUSE)));
                let data = chunk(!*started, CHUNK as u64);
                *started = true;
                Poll::Ready(Some(Ok(Frame::data(data))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Self::Full(bytes) => bytes.is_none(),
            Self::Sized { sent, len } => sent >= len,
            Self::File(file) => file.remaining() == 0,
            Self::Stalled { .. } | Self::Endless { .. } => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Full(bytes) => SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64)),
            Self::Sized { sent, len } => SizeHint::with_exact(len.saturating_sub(*sent)),
            Self::File(file) => SizeHint::with_exact(file.remaining()),
            Self::Stalled {
                sent,
                declared: Some(declared),
                ..
            } => SizeHint::with_exact(declared.saturating_sub(*sent)),
            Self::Stalled { declared: None, .. } | Self::Endless { .. } => SizeHint::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt as _;

    #[tokio::test]
    async fn sized_body_has_the_exact_length() {
        for len in [
            0,
            1,
            10,
            CHUNK as u64,
            CHUNK as u64 + 1,
            3 * CHUNK as u64 + 7,
        ] {
            let bytes = MockBody::sized(len).collect().await.unwrap().to_bytes();
            assert_eq!(bytes.len() as u64, len);
            if len >= PREFIX.len() as u64 {
                assert!(bytes.starts_with(PREFIX));
            }
        }
    }

    #[tokio::test]
    async fn endless_body_keeps_going() {
        let mut body = MockBody::endless();
        let mut total = 0;
        for _ in 0..5 {
            let frame = body.frame().await.unwrap().unwrap();
            total += frame.into_data().unwrap().len();
        }
        assert_eq!(total, 5 * CHUNK);
        assert!(!body.is_end_stream());
    }
}
