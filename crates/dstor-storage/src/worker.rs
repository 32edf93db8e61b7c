//! Work on a download's blocks done on a blocking thread, beside the task that receives
//! them, so that hashing and writing run alongside the network rather than in turn with it.

use std::io;

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// How many blocks may wait for a worker: enough to ride out a short stall of either side,
/// few enough to bound memory (a block is what one read of the network gave).
const QUEUE: usize = 16;

/// A blocking thread that takes blocks in order and, once they end, gives back what it made.
#[derive(Debug)]
pub(crate) struct Worker<T> {
    blocks: mpsc::Sender<Bytes>,
    done: JoinHandle<io::Result<T>>,
}

/// The blocks handed to a worker, in order; the iterator ends when the sender finishes.
pub(crate) struct Queue(mpsc::Receiver<Bytes>);

impl Iterator for Queue {
    type Item = Bytes;

    fn next(&mut self) -> Option<Bytes> {
        self.0.blocking_recv()
    }
}

impl Queue {
    /// The next block if one is waiting, without blocking.
    pub(crate) fn next_ready(&mut self) -> Option<Bytes> {
        self.0.try_recv().ok()
    }
}

impl<T: Send + 'static> Worker<T> {
    /// Starts `work` on Tokio's blocking threads. It may stop early with an error, which
    /// [`Worker::finish`] then returns.
    pub(crate) fn spawn(work: impl FnOnce(Queue) -> io::Result<T> + Send + 'static) -> Self {
        let (blocks, queue) = mpsc::channel(QUEUE);
        let done = tokio::task::spawn_blocking(move || work(Queue(queue)));
        Self { blocks, done }
    }

    /// Hands `block` over, waiting while the queue is full; `false` once the worker has
    /// stopped, which [`Worker::finish`] explains.
    pub(crate) async fn send(&self, block: Bytes) -> bool {
        self.blocks.send(block).await.is_ok()
    }

    /// Ends the blocks, and waits for what the worker made of them.
    pub(crate) async fn finish(self) -> io::Result<T> {
        drop(self.blocks);
        match self.done.await {
            Ok(made) => made,
            // A panic in the work is a bug of ours, and goes on as the panic it was.
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(error) => Err(io::Error::other(error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_worker_sees_every_block_in_order() {
        let worker = Worker::spawn(|blocks| Ok(blocks.collect::<Vec<_>>()));
        for n in 0..100u8 {
            assert!(worker.send(Bytes::from(vec![n])).await);
        }
        let seen = worker.finish().await.unwrap();
        assert_eq!(
            seen,
            (0..100u8).map(|n| Bytes::from(vec![n])).collect::<Vec<_>>()
        );
    }

    #[tokio::test]
    async fn a_worker_that_stops_refuses_blocks_and_its_error_is_returned() {
        let worker: Worker<()> = Worker::spawn(|mut blocks| {
            blocks.next();
            Err(io::Error::other("disk on fire"))
        });
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
}
