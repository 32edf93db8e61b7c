//! What a cache can tell about itself.

use std::time::Duration;

use crate::AuthError;

/// A snapshot of a [`crate::CachedTokenProvider`], from
/// [`crate::CachedTokenProvider::status`]. Holds no secret.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct CacheStatus {
    /// The window the cached token is in.
    pub window: TokenWindow,
    /// How long the cached token has left, if there is one and it is valid.
    pub expires_in: Option<Duration>,
    /// Upstream requests started (successful or not).
    pub fetches: u64,
    /// Upstream requests that failed.
    pub failures: u64,
    /// The error of the last request, if it failed.
    pub last_error: Option<AuthError>,
    /// Whether a request is in flight.
    pub refreshing: bool,
}

/// Where a cached token stands in its life. See [`crate::CacheConfig`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenWindow {
    /// No token is cached.
    Empty,
    /// Served as it is.
    Fresh,
    /// Served; a background refresh is due.
    RefreshAhead,
    /// Callers wait for a refresh.
    MustRefresh,
    /// Never served.
    Expired,
}
