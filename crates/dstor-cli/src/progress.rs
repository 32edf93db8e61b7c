//! The progress bar of `upload` and `get`: on stderr, and only when stderr is a terminal.

use std::io::IsTerminal as _;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::Duration;

use dstor_storage::{Progress, Upload};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::io::AsyncWrite;

/// How often a spinner moves.
const TICK: Duration = Duration::from_millis(120);

/// A progress bar, or nothing when stderr is not a terminal (a pipe, a file, CI logs).
#[derive(Clone, Debug)]
pub(crate) struct Bar(Option<ProgressBar>);

impl Bar {
    /// A bar for an upload of `total` bytes: bytes, rate and time left, then the phases of
    /// storage.
    pub(crate) fn upload(total: u64) -> Self {
        Self::on_terminal(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            bar.set_style(style(
                "{bar:30} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} {eta} left {msg}",
            ));
            bar.set_message("uploading");
            bar
        })
    }

    /// A bar for a download of unknown length: bytes and rate.
    pub(crate) fn download() -> Self {
        Self::on_terminal(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(style(
                "{spinner} {binary_bytes} {binary_bytes_per_sec} ({elapsed}) {msg}",
            ));
            bar.set_message("downloading");
            bar.enable_steady_tick(TICK);
            bar
        })
    }

    fn on_terminal(make: impl FnOnce() -> ProgressBar) -> Self {
        Self(std::io::stderr().is_terminal().then(make))
    }

    /// `upload`, reporting its progress to this bar.
    pub(crate) fn follow(&self, upload: Upload, files: usize) -> Upload {
        let Some(bar) = self.0.clone() else {
            return upload;
        };
        let sent = Mutex::new(vec![0u64; files]);
        upload.on_progress(move |event| {
            let mut sent = sent
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            show(&bar, &mut sent, event);
        })
    }

    /// Counts `n` more bytes.
    fn inc(&self, n: u64) {
        if let Some(bar) = &self.0 {
            bar.inc(n);
        }
    }

    /// Erases the bar.
    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

/// Shows one upload event: `sent` holds the bytes sent of each file so far.
fn show(bar: &ProgressBar, sent: &mut [u64], event: &Progress) {
    match event {
        Progress::Sent {
            file, sent: now, ..
        } => {
            if let Some(before) = sent.get_mut(*file) {
                // A chunk sent again starts its files at zero.
                let position = bar.position().saturating_sub(*before).saturating_add(*now);
                *before = *now;
                bar.set_position(position);
            }
        }
        Progress::ChunkSent { chunk, chunks } if chunk == chunks => {
            bar.set_style(style("{spinner} {msg} ({elapsed})"));
            bar.set_message("sent: waiting for dStor to store the files");
            bar.enable_steady_tick(TICK);
        }
        Progress::ChunkSent { chunk, chunks } => {
            bar.set_message(format!("chunk {chunk} of {chunks} sent"));
        }
        Progress::Status { phase } => {
            bar.set_message(format!("dStor is storing the files: {phase}"));
        }
        _ => {}
    }
}

/// A style from a template; the default bar if the template were ever refused.
fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

/// A writer that counts what it writes on a [`Bar`].
#[derive(Debug)]
pub(crate) struct Counted<W> {
    inner: W,
    bar: Bar,
}

impl<W> Counted<W> {
    /// `inner`, counted on `bar`.
    pub(crate) fn new(inner: W, bar: &Bar) -> Self {
        Self {
            inner,
            bar: bar.clone(),
        }
    }

    /// The writer.
    pub(crate) fn into_inner(self) -> W {
        self.inner
    }
}

impl<W: AsyncWrite + Unpin> AsyncWrite for Counted<W> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &polled {
            self.bar.inc(*n as u64);
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resent_chunk_moves_the_bar_back_then_forward() {
        let bar = ProgressBar::hidden();
        bar.set_length(30);
        let mut sent = vec![0; 2];
        let event = |file, sent| Progress::Sent {
            file,
            name: "f".into(),
            sent,
            len: 15,
        };
        show(&bar, &mut sent, &event(0, 10));
        show(&bar, &mut sent, &event(1, 15));
        assert_eq!(bar.position(), 25);
        show(&bar, &mut sent, &event(0, 4));
        assert_eq!(bar.position(), 19);
        show(&bar, &mut sent, &event(7, 4));
        assert_eq!(bar.position(), 19);
    }
}
