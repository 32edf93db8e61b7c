//! A conformance kit for [`HttpTransport`]s (feature `conformance`): checks, against servers
//! on 127.0.0.1, every promise of the seam that a server can observe.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! use dstor_auth::{HttpTransport, TransportError, TransportErrorKind, transport_fn};
//! use dstor_mock::conformance::{Check, ConformanceKit};
//!
//! let kit = ConformanceKit::start().await?;
//! // A transport that answers everything itself breaks most promises.
//! let fake = transport_fn(|_request: http::Request<Vec<u8>>| async {
//!     Ok::<_, TransportError>(http::Response::new(Vec::new()))
//! });
//! let report = kit.check(&fake).await;
//! assert!(!report.passed());
//! assert!(report.failures().any(|result| result.check == Check::NoRedirect));
//! # Ok(())
//! # }
//! ```
//!
//! Build the transport under test with a short timeout (the kit waits at most
//! [`ConformanceKit::with_time_bound`], 10 s by default, for a server that never answers),
//! and with [`ConformanceKit::proxy_url`] as its proxy if it takes one: the kit's servers are
//! all loopback, so the proxy must never be contacted. (The kit cannot set `HTTP_PROXY` for
//! the transport: environment variables are process-wide.)

mod checks;
mod server;

use std::fmt;
use std::io;
use std::time::Duration;

use dstor_auth::HttpTransport;

/// The servers a check runs against: started by [`ConformanceKit::start`], stopped when it
/// is dropped.
#[derive(Debug)]
pub struct ConformanceKit {
    servers: server::Servers,
    time_bound: Duration,
    secrets: Vec<String>,
}

impl ConformanceKit {
    /// Starts the servers on 127.0.0.1: the one requests go to, one a redirect points to,
    /// and a proxy. Each counts the connections it gets.
    ///
    /// # Errors
    ///
    /// When a listener cannot be bound.
    pub async fn start() -> io::Result<Self> {
        Ok(Self {
            servers: server::Servers::start().await?,
            time_bound: Duration::from_secs(10),
            secrets: Vec::new(),
        })
    }

    /// The longest the kit waits for any one request (10 s by default). A transport whose
    /// timeout is longer fails [`Check::Timeout`].
    pub fn with_time_bound(mut self, bound: Duration) -> Self {
        self.time_bound = bound;
        self
    }

    /// A text that the transport's `Debug` must not show, beyond those the kit sends itself
    /// (its sensitive headers and the proxy password).
    pub fn with_secret(mut self, secret: impl Into<String>) -> Self {
        self.secrets.push(secret.into());
        self
    }

    /// A proxy URL, with credentials, for the transport under test. Every request of the kit
    /// is to a loopback host, so a conforming transport never contacts it.
    pub fn proxy_url(&self) -> String {
        self.servers.proxy_url()
    }

    /// Runs every [`Check`] against `transport`, one after another.
    pub async fn check<T: HttpTransport + ?Sized>(&self, transport: &T) -> ConformanceReport {
        let mut results = Vec::new();
        for check in Check::ALL {
            let started = tokio::time::Instant::now();
            let outcome = checks::run(check, self, transport).await;
            results.push(CheckResult {
                check,
                outcome,
                elapsed: started.elapsed(),
            });
        }
        ConformanceReport { results }
    }
}

/// One promise of the seam.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Check {
    /// A 3xx comes back as it is, through `send` and `send_streaming`, and the host its
    /// `Location` names is never contacted.
    NoRedirect,
    /// Request headers arrive verbatim, sensitive ones included, with the body; no proxy
    /// credential is added; response headers come back.
    HeadersVerbatim,
    /// `send` abandons an endless response body with `BodyTooLarge` instead of reading it.
    BoundedBody,
    /// A server that accepts the request and never answers ends in a `Timeout` error, through
    /// `send` and `send_streaming`, within the kit's time bound.
    Timeout,
    /// A request body streamed in many chunks arrives whole and in order.
    StreamedRequest,
    /// A response body sent in many chunks is read whole and in order through
    /// `send_streaming`.
    StreamedResponse,
    /// The proxy was never contacted: every request of the kit was to a loopback host.
    NoProxyForLoopback,
    /// The transport's `Debug` shows no secret: no sensitive header value sent, no proxy
    /// password, none given with [`ConformanceKit::with_secret`].
    NoSecretInDebug,
}

impl Check {
    /// Every check, in the order they run.
    pub const ALL: [Check; 8] = [
        Check::NoRedirect,
        Check::HeadersVerbatim,
        Check::BoundedBody,
        Check::Timeout,
        Check::StreamedRequest,
        Check::StreamedResponse,
        Check::NoProxyForLoopback,
        Check::NoSecretInDebug,
    ];
}

/// How a check went.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The promise held.
    Passed,
    /// It did not: what was seen instead.
    Failed(String),
}

/// The result of one check.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct CheckResult {
    /// The check.
    pub check: Check,
    /// How it went.
    pub outcome: Outcome,
    /// How long it took.
    pub elapsed: Duration,
}

/// The results of every check, from [`ConformanceKit::check`]. Its `Display` is a table of
/// checks, outcomes and times.
#[derive(Clone, Debug)]
pub struct ConformanceReport {
    results: Vec<CheckResult>,
}

impl ConformanceReport {
    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.results.iter().all(|r| r.outcome == Outcome::Passed)
    }

    /// Every result, in the order the checks ran.
    pub fn results(&self) -> &[CheckResult] {
        &self.results
    }

    /// The results of the checks that failed.
    pub fn failures(&self) -> impl Iterator<Item = &CheckResult> {
        self.results.iter().filter(|r| r.outcome != Outcome::Passed)
    }

    /// The result of `check`.
    pub fn result(&self, check: Check) -> Option<&CheckResult> {
        self.results.iter().find(|r| r.check == check)
    }

    /// Panics with the report unless every check passed: for tests.
    ///
    /// # Panics
    ///
    /// When a check failed.
    #[track_caller]
    pub fn assert_passed(&self) {
        assert!(self.passed(), "the transport does not conform:\n{self}");
    }
}

impl fmt::Display for ConformanceReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for r in &self.results {
            let check = format!("{:?}", r.check);
            match &r.outcome {
                Outcome::Passed => writeln!(f, "{check:<20} passed  {:>8.1?}", r.elapsed)?,
                Outcome::Failed(why) => {
                    writeln!(f, "{check:<20} FAILED  {:>8.1?}  {why}", r.elapsed)?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
