//! The state of a one-shot stream: its declared length checked, its errors typed.

use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use sync_wrapper::SyncWrapper;

use super::{BoxBody, BoxError};
use crate::{TransportError, TransportErrorKind};

pub(super) struct StreamState {
    inner: SyncWrapper<BoxBody>,
    /// The declared length, checked against what the stream yields.
    length: Option<u64>,
    /// The size hint of the inner body when no length was declared.
    hint: SizeHint,
    read: u64,
    pub(super) ended: bool,
}

impl StreamState {
    pub(super) fn new(inner: BoxBody, length: Option<u64>, hint: SizeHint) -> Self {
        Self {
            inner: SyncWrapper::new(inner),
            length,
            hint,
            read: 0,
            ended: false,
        }
    }

    pub(super) fn poll_frame(
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

    pub(super) fn size_hint(&self) -> SizeHint {
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
