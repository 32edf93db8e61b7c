//! When a cached token is refreshed.

use std::time::{Duration, SystemTime};

use dstor_types::AccessToken;
use tokio::time::Instant;

use super::schedule::{Now, Schedule};
use crate::time::{far_off, scale};

/// When a [`crate::CachedTokenProvider`] refreshes, and how it backs off.
///
/// A token's life, measured from when its request was sent, falls into four windows:
///
/// | window | from | callers |
/// |---|---|---|
/// | fresh | fetch | served from the cache |
/// | refresh-ahead | `refresh_ahead` of the lifetime, less up to `jitter` of it | served; one background refresh starts |
/// | must-refresh | expiry less `clamp(must_refresh · lifetime, must_refresh_min, must_refresh_max)`, at most half the lifetime | wait for the one refresh in flight; if it fails, served the still-valid token |
/// | expired | expiry | never served |
///
/// The jitter keeps a fleet of processes started together from refreshing in lockstep.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct CacheConfig {
    /// The fraction of the lifetime after which a background refresh starts (default 0.75).
    pub refresh_ahead: f64,
    /// The largest fraction of the lifetime drawn at random and taken off `refresh_ahead`
    /// (default 0.05; 0 disables jitter).
    pub jitter: f64,
    /// The fraction of the lifetime before expiry in which callers wait for a refresh
    /// (default 0.10)...
    pub must_refresh: f64,
    /// ...but at least this long (default 5 s)...
    pub must_refresh_min: Duration,
    /// ...and at most this long (default 5 min). Never more than half the lifetime.
    pub must_refresh_max: Duration,
    /// The lifetime assumed for a token whose expiry is unknown (default 5 min).
    pub default_lifetime: Duration,
    /// The least time between the starts of two upstream requests (default 1 s), which
    /// bounds the requests made for tokens that live only a moment.
    pub min_fetch_interval: Duration,
    /// The least time between two forced refreshes by [`crate::CachedTokenProvider::invalidate`]
    /// or [`crate::CachedTokenProvider::force_refresh`] (default 5 s).
    pub min_forced_interval: Duration,
    /// The scale of the backoff after a failed refresh (default 1 s), doubled per
    /// consecutive failure, with full jitter...
    pub retry_backoff: Duration,
    /// ...up to this (default 60 s).
    pub max_retry_backoff: Duration,
    /// How long a permanent error ([`crate::AuthError::is_permanent`]) is kept and handed out before it is
    /// asked again, plus up to half of it at random (default 5 s).
    pub permanent_error_ttl: Duration,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            refresh_ahead: 0.75,
            jitter: 0.05,
            must_refresh: 0.10,
            must_refresh_min: Duration::from_secs(5),
            must_refresh_max: Duration::from_secs(300),
            default_lifetime: Duration::from_secs(300),
            min_fetch_interval: Duration::from_secs(1),
            min_forced_interval: Duration::from_secs(5),
            retry_backoff: Duration::from_secs(1),
            max_retry_backoff: Duration::from_secs(60),
            permanent_error_ttl: Duration::from_secs(5),
        }
    }
}

impl CacheConfig {
    /// Sets when the background refresh starts, as a fraction of the lifetime, and the
    /// largest random fraction taken off it. Both are clamped to `0..=1`.
    #[must_use]
    pub fn with_refresh_ahead(mut self, fraction: f64, jitter: f64) -> Self {
        self.refresh_ahead = clamp_fraction(fraction);
        self.jitter = clamp_fraction(jitter);
        self
    }

    /// Sets the must-refresh window: a fraction of the lifetime, clamped to `min..=max`.
    #[must_use]
    pub fn with_must_refresh(mut self, fraction: f64, min: Duration, max: Duration) -> Self {
        self.must_refresh = clamp_fraction(fraction);
        self.must_refresh_min = min;
        self.must_refresh_max = max.max(min);
        self
    }

    /// Sets the lifetime assumed for a token whose expiry is unknown.
    #[must_use]
    pub fn with_default_lifetime(mut self, lifetime: Duration) -> Self {
        self.default_lifetime = lifetime;
        self
    }

    /// Sets the least time between the starts of two upstream requests, and between two
    /// forced refreshes.
    #[must_use]
    pub fn with_min_intervals(mut self, fetch: Duration, forced: Duration) -> Self {
        self.min_fetch_interval = fetch;
        self.min_forced_interval = forced;
        self
    }

    /// Sets the backoff after failed refreshes, and how long a permanent error is kept.
    #[must_use]
    pub fn with_failure_backoff(
        mut self,
        base: Duration,
        max: Duration,
        permanent: Duration,
    ) -> Self {
        self.retry_backoff = base;
        self.max_retry_backoff = max.max(base);
        self.permanent_error_ttl = permanent;
        self
    }

    /// How long `token` is trusted, from the moment its request was sent (`sent_wall` by the
    /// local wall clock), anchored there to the monotonic clock by the caller:
    ///
    /// - with `exp`, the time left until it, measured by the issuer's clock when the token
    ///   came with the server's `Date` header (so a local clock that runs fast or slow
    ///   changes nothing), else by the local clock; and never more than `exp − iat`, the
    ///   issuer's own measure (which a local clock running slow would otherwise overstate).
    ///   A token whose `exp` has passed is expired, however it was minted;
    /// - without `exp`, the time left until the expiration that was requested;
    /// - without either, [`CacheConfig::default_lifetime`].
    ///
    /// A measured lifetime is one second shorter than the claims say: `exp`, `iat` and
    /// `Date` are whole seconds, truncated by the issuer, so its expiry may come up to a
    /// second before the moment the request was sent plus `exp − iat`. A token that claims
    /// a second or less, or an `exp` no later than its `iat`, is expired on arrival.
    pub(crate) fn lifetime(&self, token: &AccessToken, sent_wall: SystemTime) -> Duration {
        let claims = token.claims();
        if matches!((claims.exp, claims.iat), (Some(exp), Some(iat)) if exp <= iat) {
            return Duration::ZERO;
        }
        let measured = match (token.issued_lifetime(), token.remaining_at(sent_wall)) {
            (Some(issued), Some(left)) => issued.min(left),
            (None, Some(left)) => left,
            (_, None) => return self.default_lifetime,
        };
        measured.saturating_sub(Duration::from_secs(1))
    }

    /// The windows of a token that lives `lifetime` from `sent_at`.
    /// The fields are public, so nothing here trusts them: fractions are clamped to `0..=1`
    /// and sums saturate.
    pub(crate) fn schedule(
        &self,
        sent_at: Instant,
        sent_wall: SystemTime,
        lifetime: Duration,
    ) -> Schedule {
        let (min, max) = (
            self.must_refresh_min,
            self.must_refresh_max.max(self.must_refresh_min),
        );
        let must_window = scale(lifetime, clamp_fraction(self.must_refresh))
            .clamp(min, max)
            .min(lifetime / 2);
        let jitter = scale(lifetime, clamp_fraction(self.jitter) * fastrand::f64());
        let ahead = scale(lifetime, clamp_fraction(self.refresh_ahead)).saturating_sub(jitter);
        let expires_at = far_off(sent_at, lifetime);
        let must_refresh_at = expires_at
            .checked_sub(must_window)
            .unwrap_or(sent_at)
            .max(sent_at);
        let refresh_at = far_off(sent_at, ahead).min(must_refresh_at);
        let sent = Now {
            mono: sent_at,
            wall: sent_wall,
        };
        Schedule::new(sent, refresh_at, must_refresh_at, expires_at)
    }
}

fn clamp_fraction(f: f64) -> f64 {
    if f.is_nan() { 0.0 } else { f.clamp(0.0, 1.0) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn an_hour_token_refreshes_at_about_three_quarters() {
        let config = CacheConfig::default();
        let t0 = Instant::now();
        for _ in 0..100 {
            let s = config.schedule(t0, SystemTime::now(), HOUR);
            assert_eq!(s.expires_at, t0 + HOUR);
            assert_eq!(s.must_refresh_at, t0 + HOUR - Duration::from_secs(300));
            assert!(s.refresh_at <= t0 + Duration::from_secs(2700));
            assert!(s.refresh_at >= t0 + Duration::from_secs(2700 - 180));
        }
    }

    #[test]
    fn a_nonsensical_config_never_panics() {
        let config = CacheConfig {
            refresh_ahead: f64::NAN,
            jitter: 7.0,
            must_refresh: -3.0,
            must_refresh_min: Duration::MAX,
            must_refresh_max: Duration::ZERO,
            ..CacheConfig::default()
        };
        let t0 = Instant::now();
        for lifetime in [Duration::ZERO, HOUR, Duration::MAX] {
            let s = config.schedule(t0, SystemTime::now(), lifetime);
            assert!(s.refresh_at <= s.must_refresh_at && s.must_refresh_at <= s.expires_at);
        }
    }

    #[test]
    fn jitter_spreads_refreshes() {
        let config = CacheConfig::default();
        let t0 = Instant::now();
        let starts: std::collections::HashSet<_> = (0..20)
            .map(|_| config.schedule(t0, SystemTime::now(), HOUR).refresh_at)
            .collect();
        assert!(starts.len() > 1);
        let none = config.with_refresh_ahead(0.75, 0.0);
        assert_eq!(
            none.schedule(t0, SystemTime::now(), HOUR).refresh_at,
            t0 + Duration::from_secs(2700)
        );
    }

    #[test]
    fn short_lifetimes_keep_the_windows_in_order() {
        let config = CacheConfig::default();
        let t0 = Instant::now();
        for lifetime in [
            Duration::ZERO,
            Duration::from_secs(1),
            Duration::from_secs(8),
        ] {
            let s = config.schedule(t0, SystemTime::now(), lifetime);
            assert!(s.refresh_at <= s.must_refresh_at && s.must_refresh_at <= s.expires_at);
            assert!(s.must_refresh_at >= t0 + lifetime / 2);
        }
        let s = config.schedule(t0, SystemTime::now(), Duration::from_secs(30));
        assert_eq!(s.must_refresh_at, t0 + Duration::from_secs(25));
    }

    #[test]
    fn lifetime_follows_the_issuers_clock_and_never_revives_a_stale_token() {
        use base64::Engine as _;
        let jwt = |iat: u64, exp: u64| {
            let payload = format!(r#"{{"iat":{iat},"exp":{exp}}}"#);
            let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(payload);
            AccessToken::new(format!("e30.{payload}.sig")).unwrap()
        };
        const SECOND: Duration = Duration::from_secs(1);
        let config = CacheConfig::default();
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        // Local clock an hour behind the server: exp − iat still gives one hour.
        let ahead = jwt(1_003_600, 1_007_200);
        assert_eq!(config.lifetime(&ahead, now), HOUR - SECOND);
        // Local clock ten minutes ahead, no Date header: refreshed ten minutes early.
        let ahead_a_lot = jwt(1_000_000 - 600, 1_000_000 + 3000);
        assert_eq!(
            config.lifetime(&ahead_a_lot, now),
            Duration::from_secs(3000) - SECOND
        );
        // The same with the server's Date: the whole hour.
        let dated = ahead_a_lot.with_server_date(now - Duration::from_secs(600), now);
        assert_eq!(config.lifetime(&dated, now), HOUR - SECOND);
        // Local clock two hours ahead: the token looks expired, unless the Date says.
        let far = jwt(1_000_000 - 7200, 1_000_000 - 3600);
        assert_eq!(config.lifetime(&far, now), Duration::ZERO);
        let dated = far.with_server_date(now - Duration::from_secs(7200), now);
        assert_eq!(config.lifetime(&dated, now), HOUR - SECOND);
        // A token minted a day ago, clocks agreeing: expired, whatever exp − iat says.
        let stale = jwt(1_000_000 - 90_000, 1_000_000 - 86_400);
        assert_eq!(config.lifetime(&stale, now), Duration::ZERO);
        // No expiry at all: the default.
        let opaque = AccessToken::new("opaque").unwrap();
        assert_eq!(config.lifetime(&opaque, now), config.default_lifetime);
    }

    /// Issue 12's soak (seeds 2 and 5): a server 100.9 s ahead of the local clock mints at
    /// its 1_000_100.9 a token that claims "iat 1_000_100, exp 1_000_400": 299.1 s are left
    /// when the request is sent. Trusting `exp − iat` (300 s) from the send served it for
    /// the last 0.9 s after it expired when every refresh failed.
    #[test]
    fn a_token_is_trusted_a_second_less_than_its_whole_second_claims() {
        use base64::Engine as _;
        let payload = r#"{"iat":1000100,"exp":1000400}"#;
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(payload);
        let token = AccessToken::new(format!("e30.{payload}.sig")).unwrap();
        let sent = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let date = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_100);
        let dated = token.clone().with_server_date(date, sent);
        for token in [&token, &dated] {
            let lifetime = CacheConfig::default().lifetime(token, sent);
            assert!(lifetime < Duration::from_millis(299_100), "{lifetime:?}");
            assert_eq!(lifetime, Duration::from_secs(299));
        }
    }
}
