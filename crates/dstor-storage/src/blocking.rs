//! Blocking file work run beside the runtime.

use std::io;

/// Runs `work` on Tokio's blocking threads. A panic in it is raised again here, as in a
/// download's workers; a runtime shutting down first is an error.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    match tokio::task::spawn_blocking(work).await {
        Ok(done) => done,
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        Err(error) => Err(io::Error::other(error)),
    }
}
