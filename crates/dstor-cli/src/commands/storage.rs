//! The storage handle the commands use, and its errors as the user sees them.
//!
//! This is the CLI's adapter over `dstor-storage`: a [`Storage`] over a streaming
//! [`ReqwestTransport`] with the client's tokens and retry policy (for `upload`), or with
//! no token at all (for `get`, which sends no credential). Its transport bounds the time
//! without progress by `--timeout` as well, which `DstorClient`'s does not.

use std::time::Duration;

use dstor_auth::{AuthError, TransportErrorKind, token_provider_fn};
use dstor_http::{DstorClient, ReqwestTransport};
use dstor_storage::{Storage, StorageError, WaitPolicy};
use dstor_types::Environment;

use crate::exit::{CliError, ExitClass};

/// A streaming transport whose connect time and idle time are bounded by `timeout`.
fn transport(timeout: Duration) -> Result<ReqwestTransport, CliError> {
    ReqwestTransport::builder()
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .timeout(timeout)
        .idle_timeout(timeout)
        .build()
        .map_err(|e| CliError::internal(format!("cannot set up the HTTP client: {e}")))
}

/// A handle on the dStor of `client`, authorized with its tokens, that waits at most
/// `wait` for an upload to be stored.
///
/// # Errors
///
/// An internal error when the HTTP client cannot be set up; the endpoint's error when it
/// may not carry a token.
pub(crate) fn authorized(
    client: &DstorClient,
    timeout: Duration,
    wait: Duration,
) -> Result<Storage, CliError> {
    let environment = client.environment();
    Storage::builder(transport(timeout)?, client.clone(), environment.base_url())
        .retry(client.tokens().retry_policy().clone())
        .wait(WaitPolicy::default().with_deadline(wait))
        .build()
        .map_err(|e| error(&e, environment))
}

/// A handle for downloads from the gateway of `environment`: it holds no credential, so
/// none can be sent.
///
/// # Errors
///
/// An internal error when the HTTP client cannot be set up; the endpoint's error when it
/// is plain `http` to a host that is not loopback.
pub(crate) fn anonymous(environment: &Environment, timeout: Duration) -> Result<Storage, CliError> {
    let no_token = token_provider_fn(|| async {
        Err(AuthError::provider("downloads carry no credential", false))
    });
    Storage::new(transport(timeout)?, no_token, environment.base_url())
        .map_err(|e| error(&e, environment))
}

/// Classifies a failed upload or download, in one line with its causes.
pub(crate) fn error(error: &StorageError, environment: &Environment) -> CliError {
    match error {
        StorageError::Auth(auth) => return CliError::from_auth(auth, environment),
        StorageError::Endpoint(endpoint) => {
            return CliError::from_auth(&AuthError::Endpoint(endpoint.clone()), environment);
        }
        _ => {}
    }
    let class = match error {
        e if e.is_bad_input() => ExitClass::Config,
        StorageError::Read { .. } | StorageError::Write { path: Some(_), .. } => ExitClass::Config,
        StorageError::Write { path: None, source } => return CliError::output(source),
        StorageError::UnsupportedCid { .. } => ExitClass::Usage,
        StorageError::UploadFailed { .. } => ExitClass::StoreFailed,
        StorageError::CidMismatch { .. } | StorageError::NotVerified { .. } => ExitClass::Mismatch,
        StorageError::Transport { source, .. } => match source.kind() {
            TransportErrorKind::BodyTooLarge { .. } | TransportErrorKind::TokenRejected => {
                ExitClass::Service
            }
            TransportErrorKind::Body => ExitClass::Config,
            _ => ExitClass::Network,
        },
        StorageError::Api { .. }
        | StorageError::SentIncomplete { .. }
        | StorageError::TooLarge { .. }
        | StorageError::DeadlinePassed { .. }
        | StorageError::Redirect { .. }
        | StorageError::NotServed { .. } => ExitClass::Service,
        _ => ExitClass::Internal,
    };
    let mut message = chain(error);
    if let StorageError::Transport { source, .. } = error
        && source.kind() == TransportErrorKind::Timeout
    {
        message.push_str(&format!(
            " (endpoint {}); pass a longer --timeout, such as --timeout 2m",
            environment.base_url().as_str()
        ));
    }
    if let StorageError::DeadlinePassed { .. } = error {
        message.push_str("; pass a longer --wait-timeout, such as --wait-timeout 30m");
    }
    CliError::new(class, message)
}

/// The error's message followed by those of its sources, each once.
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let line = cause.to_string();
        if !text.contains(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_failure_has_its_class() {
        let env = Environment::Testnet;
        let failed = StorageError::UploadFailed {
            explanation: "disk full".into(),
            stage: "SAVING_DATA".into(),
        };
        let e = error(&failed, &env);
        assert_eq!(e.class(), ExitClass::StoreFailed);
        assert!(e.to_string().contains("disk full"), "{e}");
        assert!(e.to_string().contains("SAVING_DATA"), "{e}");
        let missing = StorageError::Missing {
            path: "nope.txt".into(),
        };
        assert_eq!(error(&missing, &env).class(), ExitClass::Config);
        let mismatch = StorageError::CidMismatch {
            expected: "a".into(),
            actual: "b".into(),
        };
        assert_eq!(error(&mismatch, &env).class(), ExitClass::Mismatch);
        let late = StorageError::DeadlinePassed {
            waited: Duration::from_secs(1),
            last_status: None,
            files: Vec::new(),
        };
        assert!(error(&late, &env).to_string().contains("--wait-timeout"));
    }

    #[test]
    fn the_chain_names_every_cause_once() {
        let io = std::io::Error::other("disk on fire");
        let e = StorageError::Write {
            path: Some("out.bin".into()),
            source: io,
        };
        let text = chain(&e);
        assert!(
            text.contains("out.bin") && text.ends_with(": disk on fire"),
            "{text}"
        );
        assert_eq!(error(&e, &Environment::Testnet).class(), ExitClass::Config);
    }
}
