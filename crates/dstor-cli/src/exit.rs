//! Errors as the user sees them: one line on stderr and an exit code per class.

use std::fmt;

use dstor_auth::{AuthError, TransportErrorKind};
use dstor_types::{ApiError, Environment};

/// The class of a failure, each with its own exit code (listed in `dstor --help`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ExitClass {
    /// 1: a bug, or standard output cannot be written.
    Internal,
    /// 2: a usage error (a bad flag value), as clap's own.
    Usage,
    /// 3: no key, a malformed key, a bad endpoint or expiration, an undecodable token.
    Config,
    /// 4: dStor rejected the key (401/403).
    KeyRejected,
    /// 5: unreachable host, refused connection, timeout.
    Network,
    /// 6: 5xx, throttled, not found, redirect, unreadable answer.
    Service,
    /// 7: the token cache cannot be read or written.
    CacheIo,
    /// 8: dStor reported that it could not store an upload (`ERROR`).
    StoreFailed,
    /// 9: content does not have the CID it should have.
    Mismatch,
}

impl ExitClass {
    /// The process exit code.
    pub(crate) fn code(self) -> u8 {
        match self {
            Self::Internal => 1,
            Self::Usage => 2,
            Self::Config => 3,
            Self::KeyRejected => 4,
            Self::Network => 5,
            Self::Service => 6,
            Self::CacheIo => 7,
            Self::StoreFailed => 8,
            Self::Mismatch => 9,
        }
    }
}

/// A failure of a command: its class and a one-line message that names the cause and the
/// fix. The message never holds the API key or a token. `output::report` prints it.
#[derive(Debug)]
pub(crate) struct CliError {
    class: ExitClass,
    message: String,
}

impl CliError {
    /// A failure of `class` described by `message` (no secret), collapsed to one line.
    pub(crate) fn new(class: ExitClass, message: impl AsRef<str>) -> Self {
        Self {
            class,
            message: one_line(message.as_ref()),
        }
    }

    /// The class of the failure, which decides the exit code.
    pub(crate) fn class(&self) -> ExitClass {
        self.class
    }

    /// A usage error (exit code 2): a bad flag value.
    pub(crate) fn usage(message: impl AsRef<str>) -> Self {
        Self::new(ExitClass::Usage, message)
    }

    /// A configuration or input error (exit code 3).
    pub(crate) fn config(message: impl AsRef<str>) -> Self {
        Self::new(ExitClass::Config, message)
    }

    /// A cache I/O error (exit code 7).
    pub(crate) fn cache(message: impl AsRef<str>) -> Self {
        Self::new(ExitClass::CacheIo, message)
    }

    /// An internal error (exit code 1).
    pub(crate) fn internal(message: impl AsRef<str>) -> Self {
        Self::new(ExitClass::Internal, message)
    }

    /// Standard output cannot be written (exit code 1): a closed pipe, a full disk.
    pub(crate) fn output(error: &std::io::Error) -> Self {
        let reason = match error.kind() {
            std::io::ErrorKind::BrokenPipe => "the reader closed the pipe".to_owned(),
            _ => error.to_string(),
        };
        Self::internal(format!("cannot write to standard output: {reason}"))
    }

    /// Classifies a failed token fetch from `environment`, adding the hints a user needs.
    pub(crate) fn from_auth(error: &AuthError, environment: &Environment) -> Self {
        let base = environment.base_url();
        let class = classify(error);
        let mut message = match error {
            AuthError::Transport(e) if matches!(e.kind(), TransportErrorKind::Timeout) => format!(
                "{e} (endpoint {}); pass a longer --timeout, such as --timeout 2m",
                base.as_str()
            ),
            AuthError::Transport(e) => format!("{e} (endpoint {})", base.as_str()),
            other => other.to_string(),
        };
        if matches!(error, AuthError::Api(ApiError::NotFound { .. })) {
            message.push_str("; check --env/DSTOR_ENV and --endpoint/DSTOR_ENDPOINT");
        }
        if error.is_credentials_rejected() {
            message.push_str(
                "; check the email (--email or DSTOR_EMAIL) and the password (--password-stdin, DSTOR_PASSWORD or the prompt)",
            );
        }
        if error.is_key_rejected() {
            message.push_str("; check the key in DSTOR_API_KEY, --api-key-file or --api-key-stdin");
            match environment {
                Environment::Production => {
                    message.push_str("; if this key was made for testnet, pass --env testnet");
                }
                Environment::Testnet => {
                    message
                        .push_str("; if this key was made for production, pass --env production");
                }
                _ => message.push_str(&format!(
                    "; check that the key belongs to the service at {}",
                    base.as_str()
                )),
            }
        }
        Self::new(class, message)
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

/// The exit class of a failed fetch.
pub(crate) fn classify(error: &AuthError) -> ExitClass {
    match error {
        AuthError::Api(ApiError::KeyRejected { .. } | ApiError::CredentialsRejected { .. }) => {
            ExitClass::KeyRejected
        }
        AuthError::Api(_) | AuthError::ExpiredToken => ExitClass::Service,
        AuthError::Transport(e) => match e.kind() {
            TransportErrorKind::BodyTooLarge { .. } => ExitClass::Service,
            _ => ExitClass::Network,
        },
        AuthError::Request(_) | AuthError::Expiration(_) | AuthError::Endpoint(_) => {
            ExitClass::Config
        }
        _ => ExitClass::Internal,
    }
}

/// Collapses newlines so that every error stays on one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use dstor_auth::TransportError;

    #[test]
    fn classes_have_distinct_codes() {
        let all = [
            ExitClass::Internal,
            ExitClass::Usage,
            ExitClass::Config,
            ExitClass::KeyRejected,
            ExitClass::Network,
            ExitClass::Service,
            ExitClass::CacheIo,
            ExitClass::StoreFailed,
            ExitClass::Mismatch,
        ];
        let mut codes: Vec<u8> = all.iter().map(|c| c.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
        assert!(!codes.contains(&0));
        assert_eq!(ExitClass::Usage.code(), 2);
        assert_eq!(ExitClass::StoreFailed.code(), 8);
    }

    #[test]
    fn a_rejected_key_on_production_hints_at_testnet() {
        let error = AuthError::from(ApiError::KeyRejected {
            status: 401,
            message: None,
        });
        let e = CliError::from_auth(&error, &Environment::Production);
        assert_eq!(e.class, ExitClass::KeyRejected);
        assert!(e.to_string().contains("--env testnet"), "{e}");
    }

    #[test]
    fn network_errors_name_the_endpoint() {
        let error = AuthError::from(TransportError::new(TransportErrorKind::Timeout));
        let e = CliError::from_auth(&error, &Environment::Testnet);
        assert_eq!(e.class, ExitClass::Network);
        assert!(e.to_string().contains("api.testnet.dstor.cloud"), "{e}");
        let error = AuthError::from(ApiError::Server {
            status: 503,
            retry_after: None,
            message: None,
        });
        assert_eq!(classify(&error), ExitClass::Service);
    }
}
