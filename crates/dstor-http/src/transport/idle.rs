//! Idle timeouts for streamed requests: a deadline on any wait without progress, not on
//! the whole transfer.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use dstor_auth::{Body, TransportError, TransportErrorKind};
use http_body::{Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// When the request last made progress, shared by its body and the wait for its answer.
#[derive(Clone)]
pub(super) struct Progress {
    start: Instant,
    /// Nanoseconds from `start` to the last progress.
    last: Arc<AtomicU64>,
}

impl Progress {
    pub(super) fn new() -> Self {
        Self {
            start: Instant::now(),
            last: Arc::new(AtomicU64::new(0)),
        }
    }

    fn touch(&self) {
        let nanos = u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.last.fetch_max(nanos, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.start + Duration::from_nanos(self.last.load(Ordering::Relaxed))
    }

    /// `body`, counting each chunk taken from it as progress.
    pub(super) fn track(&self, body: Body) -> TrackedBody {
        TrackedBody {
            body,
            progress: self.clone(),
        }
    }

    /// Runs `future` until it ends, or until `idle` passes without progress.
    pub(super) async fn deadline<F: Future>(
        &self,
        idle: Duration,
        future: F,
    ) -> Result<F::Output, TransportError> {
        tokio::pin!(future);
        loop {
            let due = self.last() + idle;
            tokio::select! {
                output = &mut future => return Ok(output),
                () = tokio::time::sleep_until(due) => {
                    if self.last() + idle <= Instant::now() {
                        return Err(TransportError::new(TransportErrorKind::Timeout));
                    }
                }
            }
        }
    }
}

/// A request body that records progress each time the connection takes a chunk.
pub(super) struct TrackedBody {
    body: Body,
    progress: Progress,
}

impl http_body::Body for TrackedBody {
    type Data = Bytes;
    type Error = TransportError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, TransportError>>> {
        let polled = Pin::new(&mut self.body).poll_frame(cx);
        if polled.is_ready() {
            self.progress.touch();
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A response body whose every read waits at most `idle` for the next chunk.
pub(super) struct IdleBody {
    body: reqwest::Body,
    idle: Duration,
    sleep: Pin<Box<Sleep>>,
    /// Whether `sleep` times the current wait (it is set when a wait begins).
    waiting: bool,
}

impl IdleBody {
    pub(super) fn new(body: reqwest::Body, idle: Duration) -> Self {
        Self {
            body,
            idle,
            sleep: Box::pin(tokio::time::sleep(idle)),
            waiting: false,
        }
    }
}

impl http_body::Body for IdleBody {
    type Data = Bytes;
    type Error = TransportError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, TransportError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.body).poll_frame(cx) {
            Poll::Ready(frame) => {
                this.waiting = false;
                Poll::Ready(frame.map(|f| f.map_err(super::transport_error)))
            }
            Poll::Pending => {
                if !this.waiting {
                    this.waiting = true;
                    this.sleep.as_mut().reset(Instant::now() + this.idle);
                }
                match this.sleep.as_mut().poll(cx) {
                    Poll::Ready(()) => {
                        Poll::Ready(Some(Err(TransportError::new(TransportErrorKind::Timeout))))
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        http_body::Body::is_end_stream(&self.body)
    }

    fn size_hint(&self) -> SizeHint {
        http_body::Body::size_hint(&self.body)
    }
}
