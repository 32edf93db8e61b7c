//! The body of one chunk: `multipart/form-data`, streamed from its sources block by block.

use std::collections::VecDeque;
use std::io;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures_util::Stream;

mod source;

use source::Source;

use dstor_types::Multipart;

use crate::StorageError;
use crate::plan::{FileData, PlannedFile};

/// The size of the blocks read from a file (the chunk size of a CIDv0 too).
pub(crate) const BLOCK: usize = 256 * 1024;

/// Hears what a chunk body sends, as it sends it.
pub(crate) trait Observer: Send + Sync {
    /// `file`'s bytes start (again: a replayed body starts every file over).
    fn start(&self, file: &PlannedFile);
    /// `data` of `file` was handed on; `sent` bytes of it so far.
    fn data(&self, file: &PlannedFile, data: &[u8], sent: u64);
    /// Reading failed: the body ends with an error, and this says why.
    fn failed(&self, error: StorageError);
}

/// The multipart body of one chunk.
pub(crate) struct ChunkBody {
    multipart: Arc<Multipart>,
    files: Vec<Arc<PlannedFile>>,
    observer: Arc<dyn Observer>,
}

impl ChunkBody {
    /// A body of `files`, with a fresh random boundary.
    pub(crate) fn new(files: Vec<Arc<PlannedFile>>, observer: Arc<dyn Observer>) -> Self {
        Self {
            multipart: Arc::new(Multipart::new()),
            files,
            observer,
        }
    }

    /// The framing.
    pub(crate) fn multipart(&self) -> &Multipart {
        &self.multipart
    }

    /// The exact number of bytes [`ChunkBody::stream`] yields when every source holds what
    /// it declared (saturating: such a body cannot be sent anyway).
    pub(crate) fn content_length(&self) -> u64 {
        self.multipart
            .body_len(self.files.iter().map(|f| (&f.name, f.len)))
            .unwrap_or(u64::MAX)
    }

    /// Whether [`ChunkBody::stream`] can be called more than once with the same result:
    /// no source is a one-shot reader.
    pub(crate) fn replayable(&self) -> bool {
        self.files.iter().all(|f| f.replayable())
    }

    /// The body, read from the sources as it is polled. Files are opened when their part
    /// starts, so each call reads them afresh.
    pub(crate) fn stream(&self) -> impl Stream<Item = Result<Bytes, io::Error>> + Send + 'static {
        let state = State {
            multipart: Arc::clone(&self.multipart),
            files: self.files.iter().cloned().collect(),
            observer: Arc::clone(&self.observer),
            current: None,
            done: false,
        };
        futures_util::stream::unfold(state, |mut state| async move {
            let item = state.next().await?;
            Some((item, state))
        })
    }
}

struct State {
    multipart: Arc<Multipart>,
    files: VecDeque<Arc<PlannedFile>>,
    observer: Arc<dyn Observer>,
    current: Option<Part>,
    done: bool,
}

/// The file whose bytes are being sent.
struct Part {
    file: Arc<PlannedFile>,
    reader: Source,
    sent: u64,
}

impl State {
    async fn next(&mut self) -> Option<Result<Bytes, io::Error>> {
        if self.done {
            return None;
        }
        let item = match self.current.take() {
            None => self.start_part().await,
            Some(part) => self.continue_part(part).await,
        };
        if item.is_err() {
            self.done = true;
        }
        Some(item)
    }

    /// The head of the next part (with the end of the previous one), or the closing
    /// delimiter.
    async fn start_part(&mut self) -> Result<Bytes, io::Error> {
        let Some(file) = self.files.pop_front() else {
            self.done = true;
            return Ok(Bytes::from(self.multipart.closing()));
        };
        let reader = open(&*self.observer, &file).await?;
        let head = self.multipart.part_header(&file.name);
        self.observer.start(&file);
        self.current = Some(Part {
            file,
            reader,
            sent: 0,
        });
        Ok(Bytes::from(head))
    }

    /// The next block of the current part, or on to the next part once it is sent.
    async fn continue_part(&mut self, mut part: Part) -> Result<Bytes, io::Error> {
        let remaining = part.file.len - part.sent;
        if remaining == 0 {
            // A source with more bytes than declared (a file that grew, a reader longer than
            // it said) fails the body.
            match part.reader.block(1).await {
                Ok(more) if more.is_empty() => {}
                Ok(_) => {
                    let reason = format!("it holds more than the {} bytes declared", part.file.len);
                    return Err(fail(&*self.observer, &part.file, reason, None));
                }
                Err(e) => {
                    return Err(fail(&*self.observer, &part.file, "reading failed", Some(e)));
                }
            }
            return self.start_part().await.map(|next| {
                let mut joined = BytesMut::with_capacity(Multipart::PART_END.len() + next.len());
                joined.extend_from_slice(Multipart::PART_END);
                joined.extend_from_slice(&next);
                joined.freeze()
            });
        }
        let want = usize::try_from(remaining).unwrap_or(usize::MAX).min(BLOCK);
        let block = match part.reader.block(want).await {
            Ok(block) => block,
            Err(e) => return Err(fail(&*self.observer, &part.file, "reading failed", Some(e))),
        };
        if block.is_empty() {
            let reason = format!(
                "it ended after {} of the {} bytes declared (did it change?)",
                part.sent, part.file.len
            );
            return Err(fail(&*self.observer, &part.file, reason, None));
        }
        part.sent += block.len() as u64;
        self.observer.data(&part.file, &block, part.sent);
        self.current = Some(part);
        Ok(block)
    }
}

/// Opens the source of `file`.
async fn open(observer: &dyn Observer, file: &PlannedFile) -> Result<Source, io::Error> {
    match &file.data {
        FileData::Bytes(data) => Ok(Source::Bytes(data.clone())),
        FileData::Path(path) => match tokio::fs::File::open(path).await {
            Ok(f) => Ok(Source::File(Some(f.into_std().await))),
            Err(e) => Err(fail(
                observer,
                file,
                "it could not be opened again",
                Some(e),
            )),
        },
        FileData::Reader(shared) => {
            let taken = shared.lock().ok().and_then(|mut r| r.take());
            match taken {
                Some(reader) => Ok(Source::Read(reader)),
                None => Err(fail(
                    observer,
                    file,
                    "its reader was already read once and cannot be sent again",
                    None,
                )),
            }
        }
    }
}

/// Tells the observer why the body fails, and gives the transport an I/O error.
fn fail(
    observer: &dyn Observer,
    file: &PlannedFile,
    reason: impl Into<String>,
    source: Option<io::Error>,
) -> io::Error {
    let reason = reason.into();
    let error = io::Error::other(format!(
        "{:?} could not be read: {reason}",
        file.name.as_str()
    ));
    observer.failed(StorageError::Read {
        name: file.name.as_str().to_owned(),
        reason,
        source,
    });
    error
}

#[cfg(test)]
mod tests;
