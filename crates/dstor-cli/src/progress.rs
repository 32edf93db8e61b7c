//! The progress bar of `upload` and `get`: on stderr, and only when stderr is a terminal.

use std::io::IsTerminal as _;
use std::sync::Mutex;
use std::time::Duration;

use dstor_storage::{Download, Progress, Upload};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A transfer of known length: bytes, rate and time left.
const BYTES_TEMPLATE: &str =
    "{bar:30} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} {eta} left {msg}";

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
            bar.set_style(style(BYTES_TEMPLATE));
            bar.set_message("uploading");
            bar
        })
    }

    /// A bar for a download: bytes and rate, and the time left once its length is known.
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

    /// `download`, reporting its bytes to this bar (and their total, once known).
    pub(crate) fn follow_download(&self, download: Download) -> Download {
        let Some(bar) = self.0.clone() else {
            return download;
        };
        download.on_progress(move |event| show_download(&bar, event))
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

/// Shows one download event: the bytes received, out of the length once it is known.
fn show_download(bar: &ProgressBar, event: &Progress) {
    if let Progress::Received { received, len } = event {
        if let Some(len) = len
            && bar.length() != Some(*len)
        {
            bar.set_length(*len);
            bar.set_style(style(BYTES_TEMPLATE));
        }
        bar.set_position(*received);
    }
}

/// A style from a template; the default bar if the template were ever refused.
fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
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

    #[test]
    fn a_download_shows_its_bytes_and_its_length_once_known() {
        let bar = ProgressBar::hidden();
        let event = |received, len| Progress::Received { received, len };
        show_download(&bar, &event(100, None));
        assert_eq!((bar.position(), bar.length()), (100, None));
        show_download(&bar, &event(300, Some(1000)));
        assert_eq!((bar.position(), bar.length()), (300, Some(1000)));
        show_download(&bar, &event(1000, Some(1000)));
        assert_eq!((bar.position(), bar.length()), (1000, Some(1000)));
    }
}
