//! Arithmetic on times and durations that never panics, whatever the configuration says.

use std::time::Duration;

use tokio::time::Instant;

/// `now + wait`, saturating: a configuration may say `Duration::MAX` for "never".
pub(crate) fn far_off(now: Instant, wait: Duration) -> Instant {
    const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
    now.checked_add(wait)
        .or_else(|| now.checked_add(CENTURY))
        .unwrap_or(now)
}

/// `d × factor`, saturating at `Duration::MAX`; a negative or NaN factor gives zero.
/// (`Duration::mul_f64` panics on all three.)
pub(crate) fn scale(d: Duration, factor: f64) -> Duration {
    if factor.is_nan() || factor <= 0.0 {
        return Duration::ZERO;
    }
    Duration::try_from_secs_f64(d.as_secs_f64() * factor).unwrap_or(Duration::MAX)
}

/// A wait drawn uniformly from `0..min(cap, base · 2^(n−1))`.
pub(crate) fn full_jitter(base: Duration, cap: Duration, n: u32) -> Duration {
    let ceiling = base
        .checked_mul(1u32 << n.saturating_sub(1).min(20))
        .unwrap_or(cap)
        .min(cap);
    scale(ceiling, fastrand::f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_never_panics() {
        let hour = Duration::from_secs(3600);
        assert_eq!(scale(hour, 0.5), Duration::from_secs(1800));
        assert_eq!(scale(hour, f64::NAN), Duration::ZERO);
        assert_eq!(scale(hour, -1.0), Duration::ZERO);
        assert_eq!(scale(Duration::MAX, 1.5), Duration::MAX);
        assert_eq!(scale(hour, f64::INFINITY), Duration::MAX);
    }

    #[test]
    fn far_off_saturates() {
        let now = Instant::now();
        assert_eq!(
            far_off(now, Duration::from_secs(5)),
            now + Duration::from_secs(5)
        );
        assert!(far_off(now, Duration::MAX) > now + Duration::from_secs(3600 * 24 * 365));
    }

    #[test]
    fn full_jitter_stays_below_the_exponential_ceiling() {
        let base = Duration::from_millis(100);
        let cap = Duration::from_secs(1);
        for n in 1..40 {
            let ceiling = (base * 2u32.pow(n.min(20) - 1)).min(cap);
            for _ in 0..50 {
                assert!(full_jitter(base, cap, n) <= ceiling);
            }
        }
        assert!(full_jitter(Duration::MAX, Duration::MAX, 30) <= Duration::MAX);
    }
}
