//! Spool files streamed back as response bodies.

use std::fs::File;
use std::io::{self, Read as _};
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::Frame;

/// The most bytes read from a spool file per frame.
const READ_SIZE: usize = 256 * 1024;

/// A spool file streamed as a response body of a known length, read a block at a time as
/// hyper asks for the next frame. A spool file is local and, just written, in the page
/// cache: the read costs less than handing it to another thread and waking this one after.
#[derive(Debug)]
pub(crate) struct FileBody {
    file: File,
    /// Bytes not yet sent.
    remaining: u64,
    /// Whether the first byte is still to be changed (the wrong-bytes fault).
    corrupt: bool,
}

impl FileBody {
    /// Streams `len` bytes of `file`, the first of them changed if `corrupt`.
    pub(crate) fn new(file: File, len: u64, corrupt: bool) -> Self {
        Self {
            file,
            remaining: len,
            corrupt,
        }
    }

    /// Bytes not yet sent.
    pub(crate) fn remaining(&self) -> u64 {
        self.remaining
    }

    pub(crate) fn poll_frame(
        &mut self,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        let data = read_block(&mut self.file, self.remaining.min(READ_SIZE as u64))?;
        if data.is_empty() {
            // Every byte was asked for and fewer came: the file ended.
            return Poll::Ready(Some(Err(shorter())));
        }
        let data = if std::mem::take(&mut self.corrupt) {
            let mut changed = data.to_vec();
            changed[0] ^= 0xff;
            Bytes::from(changed)
        } else {
            data
        };
        self.remaining = self.remaining.saturating_sub(data.len() as u64);
        Poll::Ready(Some(Ok(Frame::data(data))))
    }
}

/// The error of a spool file shorter than its recorded size.
fn shorter() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "the spool file is shorter than its recorded size",
    )
}

/// Reads up to `want` bytes of `file`: fewer only at its end.
fn read_block(file: &mut File, want: u64) -> io::Result<Bytes> {
    let mut block = Vec::with_capacity(usize::try_from(want).unwrap_or(READ_SIZE));
    file.take(want).read_to_end(&mut block)?;
    Ok(Bytes::from(block))
}

#[cfg(test)]
mod tests {
    use std::io::{Seek as _, Write as _};

    use super::*;

    /// A file holding `len` bytes of a pattern, and the pattern.
    fn file_of(len: usize) -> (File, Vec<u8>) {
        let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&data).unwrap();
        file.rewind().unwrap();
        (file, data)
    }

    /// Every frame of `body` until its end or its first error.
    async fn frames(mut body: FileBody) -> (Vec<u8>, Option<io::Error>) {
        let mut sent = Vec::new();
        let declared = body.remaining();
        while let Some(frame) = std::future::poll_fn(|cx| body.poll_frame(cx)).await {
            match frame {
                Ok(frame) => sent.extend_from_slice(frame.data_ref().unwrap()),
                Err(error) => return (sent, Some(error)),
            }
            assert_eq!(body.remaining(), declared - sent.len() as u64);
        }
        (sent, None)
    }

    #[tokio::test]
    async fn the_declared_length_is_sent_in_blocks_however_many() {
        let len = 2 * READ_SIZE + 12_345;
        let (file, data) = file_of(len);
        let body = FileBody::new(file, len as u64, false);
        let (sent, error) = frames(body).await;
        assert!(error.is_none(), "{error:?}");
        assert!(sent == data, "every byte, in order");

        // A shorter declared length is all that is sent.
        let (file, data) = file_of(len);
        let (sent, error) = frames(FileBody::new(file, 1000, false)).await;
        assert!(error.is_none(), "{error:?}");
        assert_eq!(sent, data[..1000]);
    }

    #[tokio::test]
    async fn a_file_shorter_than_recorded_ends_in_an_error_not_a_hang() {
        // The file ends at a block's start, or within the last block asked for.
        for recorded in [3 * READ_SIZE, READ_SIZE + 100] {
            let (file, data) = file_of(READ_SIZE + 10);
            let body = FileBody::new(file, recorded as u64, false);
            let (sent, error) = frames(body).await;
            assert!(sent == data, "what the file holds is sent first");
            let error = error.expect("an error at the end of the file");
            assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof, "{recorded}");
        }
    }

    #[tokio::test]
    async fn corrupt_changes_the_first_byte_only() {
        let (file, data) = file_of(READ_SIZE + 1);
        let (sent, _) = frames(FileBody::new(file, data.len() as u64, true)).await;
        assert_eq!(sent.len(), data.len());
        assert_ne!(sent[0], data[0]);
        assert!(sent[1..] == data[1..]);
    }
}
