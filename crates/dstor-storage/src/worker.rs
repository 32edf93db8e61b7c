//! Work on a download's blocks done on a thread of its own, beside the task that receives
//! them, so that hashing and writing run alongside the network rather than in turn with it.

use std::io::{self, Write as _};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};

use crate::download::WRITE_BUFFER;

/// How many blocks may wait for a worker: enough to ride out a short stall of either side,
/// few enough to bound memory (a block is what one read of the network gave).
const QUEUE: usize = 16;

/// A thread that takes blocks in order and, once they end, gives back what it made.
/// Dropped before [`Worker::finish`], it tells the thread to stop at its next block.
///
/// Each worker has a thread of its own rather than one of Tokio's blocking threads: it
/// lives as long as the download, beside another worker it waits on, and a bounded
/// blocking pool could leave one of the two without a thread.
#[derive(Debug)]
pub(crate) struct Worker<T> {
    /// First, so that its flag is set before the sender closes the queue.
    abandon: Abandon,
    blocks: mpsc::Sender<Bytes>,
    made: oneshot::Receiver<thread::Result<T>>,
}

/// Tells a worker's thread to stop when dropped, unless disarmed.
#[derive(Debug)]
struct Abandon(Option<Arc<AtomicBool>>);

impl Drop for Abandon {
    fn drop(&mut self) {
        if let Some(abandoned) = &self.0 {
            abandoned.store(true, Ordering::Relaxed);
        }
    }
}

/// The blocks handed to a worker, in order; it ends when the sender finishes, or at once
/// when the worker was dropped.
pub(crate) struct Queue {
    blocks: mpsc::Receiver<Bytes>,
    abandoned: Arc<AtomicBool>,
}

impl Iterator for Queue {
    type Item = Bytes;

    fn next(&mut self) -> Option<Bytes> {
        let block = self.blocks.blocking_recv()?;
        (!self.abandoned.load(Ordering::Relaxed)).then_some(block)
    }
}

impl Queue {
    /// The next block if one is waiting, without blocking.
    pub(crate) fn next_ready(&mut self) -> Option<Bytes> {
        let block = self.blocks.try_recv().ok()?;
        (!self.abandoned.load(Ordering::Relaxed)).then_some(block)
    }
}

impl<T: Send + 'static> Worker<T> {
    /// Starts `work` on a thread named `name`; an error only if no thread could be started.
    pub(crate) fn spawn(
        name: &str,
        work: impl FnOnce(Queue) -> T + Send + 'static,
    ) -> io::Result<Self> {
        let (blocks, queue) = mpsc::channel(QUEUE);
        let (done, made) = oneshot::channel();
        let abandoned = Arc::new(AtomicBool::new(false));
        let queue = Queue {
            blocks: queue,
            abandoned: Arc::clone(&abandoned),
        };
        thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                // A panic in the work goes to the task, which raises it again.
                let _ = done.send(catch_unwind(AssertUnwindSafe(|| work(queue))));
            })?;
        Ok(Self {
            blocks,
            made,
            abandon: Abandon(Some(abandoned)),
        })
    }

    /// Hands `block` over, waiting while the queue is full; `false` once the worker has
    /// stopped taking blocks, which what [`Worker::finish`] gives back explains.
    #[must_use]
    pub(crate) async fn send(&self, block: Bytes) -> bool {
        self.blocks.send(block).await.is_ok()
    }

    /// Ends the blocks, and waits for what the worker made of them. A panic in the work is
    /// raised again here.
    pub(crate) async fn finish(self) -> T {
        let Self {
            mut abandon,
            blocks,
            made,
        } = self;
        drop(blocks);
        let made = made.await;
        // Dropped while it waited, the worker still tells its thread to stop.
        abandon.0 = None;
        match made {
            Ok(Ok(made)) => made,
            Ok(Err(panic)) => resume_unwind(panic),
            // The thread sends whatever happens in the work, so it cannot end without.
            Err(_) => unreachable!("a worker's thread ended without a result"),
        }
    }
}

/// The file writer's work: writes `blocks` to `file` in order, without copying them,
/// gathering what is waiting into writes of up to [`WRITE_BUFFER`] bytes. Gives back the
/// file and how many bytes it wrote.
pub(crate) fn write_blocks(
    mut file: std::fs::File,
    mut blocks: Queue,
) -> io::Result<(std::fs::File, u64)> {
    let mut written = 0u64;
    let mut batch: Vec<Bytes> = Vec::with_capacity(64);
    while let Some(block) = blocks.next() {
        let mut size = block.len();
        batch.push(block);
        while size < WRITE_BUFFER && batch.len() < batch.capacity() {
            let Some(block) = blocks.next_ready() else {
                break;
            };
            size += block.len();
            batch.push(block);
        }
        write_all_vectored(&mut file, &batch)?;
        written += size as u64;
        batch.clear();
    }
    Ok((file, written))
}

/// Writes every byte of `blocks`, in order, in as few system calls as the file takes.
fn write_all_vectored(file: &mut std::fs::File, blocks: &[Bytes]) -> io::Result<()> {
    let mut slices: Vec<io::IoSlice<'_>> = blocks
        .iter()
        .filter(|b| !b.is_empty())
        .map(|b| io::IoSlice::new(b))
        .collect();
    let mut slices = &mut slices[..];
    while !slices.is_empty() {
        match file.write_vectored(slices) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => io::IoSlice::advance_slices(&mut slices, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;

    #[tokio::test]
    async fn the_worker_sees_every_block_in_order() {
        let worker = Worker::spawn("test", |blocks| blocks.collect::<Vec<_>>()).unwrap();
        for n in 0..100u8 {
            assert!(worker.send(Bytes::from(vec![n])).await);
        }
        let seen = worker.finish().await;
        assert_eq!(
            seen,
            (0..100u8).map(|n| Bytes::from(vec![n])).collect::<Vec<_>>()
        );
    }

    #[tokio::test]
    async fn a_worker_that_stops_refuses_blocks_and_its_result_says_why() {
        let worker = Worker::spawn("test", |mut blocks| {
            blocks.next();
            Err::<(), _>(io::Error::other("disk on fire"))
        })
        .unwrap();
        let mut refused = false;
        for _ in 0..QUEUE + 2 {
            if !worker.send(Bytes::from_static(b"x")).await {
                refused = true;
                break;
            }
        }
        assert!(refused, "a stopped worker takes no more blocks");
        let err = worker.finish().await.unwrap_err();
        assert_eq!(err.to_string(), "disk on fire");
    }

    #[tokio::test]
    async fn a_dropped_worker_stops_at_its_next_block() {
        let (seen, seen_by_test) = std::sync::mpsc::channel();
        let (go, go_on) = std::sync::mpsc::channel::<()>();
        let worker = Worker::spawn("test", move |mut blocks| {
            seen.send(blocks.next()).unwrap();
            go_on.recv().unwrap();
            seen.send(blocks.next()).unwrap();
        })
        .unwrap();
        assert!(worker.send(Bytes::from_static(b"first")).await);
        assert_eq!(seen_by_test.recv().unwrap().unwrap(), "first");
        // Queued while the thread is busy, then the worker is dropped.
        assert!(worker.send(Bytes::from_static(b"second")).await);
        drop(worker);
        go.send(()).unwrap();
        assert_eq!(
            seen_by_test.recv().unwrap(),
            None,
            "the thread stopped before it"
        );
    }

    #[tokio::test]
    #[should_panic(expected = "a bug in the work")]
    async fn a_panic_in_the_work_is_raised_in_the_task() {
        let worker: Worker<()> = Worker::spawn("test", |_| panic!("a bug in the work")).unwrap();
        worker.finish().await;
    }

    #[test]
    fn the_writer_writes_every_block_in_order_and_skips_empty_ones() {
        let (tx, rx) = mpsc::channel(QUEUE);
        for block in [&b"hel"[..], b"", b"lo", b"", b"\n"] {
            tx.try_send(Bytes::from_static(block)).unwrap();
        }
        drop(tx);
        let queue = Queue {
            blocks: rx,
            abandoned: Arc::new(AtomicBool::new(false)),
        };
        let (mut file, written) = write_blocks(tempfile::tempfile().unwrap(), queue).unwrap();
        assert_eq!(written, 6);
        let mut content = String::new();
        io::Seek::rewind(&mut file).unwrap();
        file.read_to_string(&mut content).unwrap();
        assert_eq!(content, "hello\n");
    }
}
