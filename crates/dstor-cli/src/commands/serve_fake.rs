//! `dstor serve-fake`: the fake dStor token service, until Ctrl-C.

use std::net::SocketAddr;

use dstor_mock::FakeDstor;

use crate::cli::ServeFakeArgs;
use crate::exit::CliError;
use crate::output::{errln, outln};
use crate::{commands, key};

/// Runs the fake service until Ctrl-C (or SIGTERM).
///
/// # Errors
///
/// A config-class error when the key file is unusable or the address cannot be bound.
pub(crate) fn run(args: &ServeFakeArgs) -> Result<(), CliError> {
    let key = args.key_file.as_deref().map(key::from_file).transpose()?;
    let addr = SocketAddr::new(args.host, args.port);
    commands::runtime()?.block_on(async {
        // Listening before the banner: a caller may stop the service as soon as it reads it.
        let stop = shutdown_signal();
        let mut builder = FakeDstor::builder().bind(addr);
        if let Some(key) = &key {
            builder = builder.key(key.expose_secret());
        }
        let server = builder.start().await.map_err(|e| {
            CliError::config(format!(
                "cannot listen on {addr}: {e}: pick another --port (0 picks a free one)"
            ))
        })?;
        let url = server.base_url();
        outln!("fake dStor service listening at {url}")?;
        if !args.host.is_loopback() {
            errln!("dstor: warning: the fake service is reachable from the network at {addr}");
        }
        if key.is_none() {
            // A fake key for a fake service: printing it is the point.
            outln!("fake API key: {}", server.api_key())?;
        } else {
            outln!("accepting the API key from the key file")?;
        }
        // The address and the key are what a caller reads; once it has them it may close
        // the pipe, and the service must outlive that: the hints below are best-effort.
        let _ = outln!(
            "also serving uploads (/v1/upload/) and the gateway (/ipfs/<cid>, storage node at {})",
            server.node_url()
        );
        let _ = outln!("try: DSTOR_ENDPOINT={url} DSTOR_API_KEY=<key> dstor token");
        let _ = outln!("press Ctrl-C to stop");
        stop.await;
        server.shutdown().await;
        errln!("dstor: fake service stopped");
        Ok(())
    })
}

/// Listens from now on for Ctrl-C (SIGINT) and, on unix, SIGTERM; the future resolves on
/// either.
fn shutdown_signal() -> impl Future<Output = ()> {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{SignalKind, signal};
        signal(SignalKind::interrupt()).and_then(|int| Ok((int, signal(SignalKind::terminate())?)))
    };
    async move {
        #[cfg(unix)]
        if let Ok((mut int, mut term)) = signals {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}
