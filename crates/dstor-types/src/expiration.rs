//! The `x-expiration` a client asks for.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::HeaderValue;

/// When a requested access token should expire: a Unix time in whole seconds, strictly in
/// the future when it is made. It is sent as an integer in the `x-expiration` header.
///
/// ```
/// use std::time::Duration;
/// use dstor_types::Expiration;
///
/// let in_an_hour = Expiration::after(Duration::from_secs(3600)).unwrap();
/// assert!(in_an_hour.unix_seconds() > 1_700_000_000);
/// assert!(Expiration::after(Duration::ZERO).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Expiration(u64);

impl Expiration {
    /// An expiration at `time`, rounded down to the second.
    ///
    /// # Errors
    ///
    /// [`ExpirationError::NotInFuture`] when `time`, rounded down to the second, is not
    /// after now.
    pub fn at(time: SystemTime) -> Result<Self, ExpirationError> {
        Self::at_relative_to(time, SystemTime::now())
    }

    /// An expiration `lifetime` from now.
    ///
    /// # Errors
    ///
    /// [`ExpirationError::NotInFuture`] for a lifetime under a second (always: whether the
    /// rounded-down time would be in the future otherwise depends on the current fraction of
    /// a second), [`ExpirationError::OutOfRange`] for one too large to represent.
    pub fn after(lifetime: Duration) -> Result<Self, ExpirationError> {
        Self::after_relative_to(lifetime, SystemTime::now())
    }

    /// As [`Expiration::after`], measured from `now` (an injected clock).
    ///
    /// # Errors
    ///
    /// As [`Expiration::after`].
    pub fn after_relative_to(lifetime: Duration, now: SystemTime) -> Result<Self, ExpirationError> {
        if lifetime < Duration::from_secs(1) {
            let seconds = now
                .checked_add(lifetime)
                .and_then(unix_seconds)
                .unwrap_or(0);
            return Err(ExpirationError::NotInFuture {
                unix_seconds: seconds,
            });
        }
        let time = now
            .checked_add(lifetime)
            .ok_or(ExpirationError::OutOfRange)?;
        Self::at_relative_to(time, now)
    }

    /// An expiration at a Unix time in seconds.
    ///
    /// # Errors
    ///
    /// [`ExpirationError::NotInFuture`] when the time has passed.
    pub fn from_unix_seconds(seconds: u64) -> Result<Self, ExpirationError> {
        let time = UNIX_EPOCH
            .checked_add(Duration::from_secs(seconds))
            .ok_or(ExpirationError::OutOfRange)?;
        Self::at(time)
    }

    /// As [`Expiration::at`], measured from `now` (an injected clock).
    ///
    /// # Errors
    ///
    /// As [`Expiration::at`].
    pub fn at_relative_to(time: SystemTime, now: SystemTime) -> Result<Self, ExpirationError> {
        let seconds = unix_seconds(time).ok_or(ExpirationError::NotInFuture { unix_seconds: 0 })?;
        let now = unix_seconds(now).unwrap_or(0);
        if seconds <= now {
            return Err(ExpirationError::NotInFuture {
                unix_seconds: seconds,
            });
        }
        if seconds > MAX_UNIX_SECONDS {
            return Err(ExpirationError::OutOfRange);
        }
        Ok(Self(seconds))
    }

    /// The Unix time in seconds.
    pub fn unix_seconds(self) -> u64 {
        self.0
    }

    /// The expiration as a [`SystemTime`].
    pub fn to_system_time(self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.0)
    }

    /// The value of the `x-expiration` header: the integer seconds.
    pub fn header_value(self) -> HeaderValue {
        HeaderValue::from(self.0)
    }
}

/// Year 9999: anything later is a mistake, not a wish.
const MAX_UNIX_SECONDS: u64 = 253_402_300_799;

fn unix_seconds(time: SystemTime) -> Option<u64> {
    time.duration_since(UNIX_EPOCH).ok().map(|d| d.as_secs())
}

/// Why an expiration was refused before anything was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExpirationError {
    /// The time is now or in the past.
    #[error(
        "the requested token expiration (unix time {unix_seconds}) is not in the future: ask for a lifetime of at least one second"
    )]
    NotInFuture {
        /// The refused time, in Unix seconds.
        unix_seconds: u64,
    },
    /// The time is beyond the year 9999.
    #[error("the requested token expiration is too far in the future: ask for a shorter lifetime")]
    OutOfRange,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn rounds_down_to_whole_seconds_and_sends_an_integer() {
        let now = t(1_700_000_000);
        let exp = Expiration::at_relative_to(now + Duration::from_millis(3_600_900), now).unwrap();
        assert_eq!(exp.unix_seconds(), 1_700_003_600);
        assert_eq!(exp.header_value(), "1700003600");
    }

    #[test]
    fn refuses_times_not_in_the_future() {
        let now = t(1_700_000_000);
        assert_eq!(
            Expiration::at_relative_to(now, now),
            Err(ExpirationError::NotInFuture {
                unix_seconds: 1_700_000_000
            })
        );
        assert!(Expiration::at_relative_to(now + Duration::from_millis(999), now).is_err());
        assert!(Expiration::at_relative_to(t(5), now).is_err());
        assert!(Expiration::from_unix_seconds(1_632_792_437).is_err());
    }

    #[test]
    fn a_lifetime_under_a_second_is_refused_whatever_the_fraction_of_now() {
        for millis in [0, 1, 500, 990, 999] {
            let now = t(1_700_000_000) + Duration::from_millis(millis);
            for lifetime in [
                Duration::ZERO,
                Duration::from_millis(10),
                Duration::from_millis(999),
            ] {
                assert!(
                    matches!(
                        Expiration::after_relative_to(lifetime, now),
                        Err(ExpirationError::NotInFuture { .. })
                    ),
                    "{lifetime:?} from {millis} ms past the second"
                );
            }
            let one = Expiration::after_relative_to(Duration::from_secs(1), now).unwrap();
            assert_eq!(one.unix_seconds(), 1_700_000_001);
        }
    }

    #[test]
    fn refuses_absurd_lifetimes() {
        assert_eq!(
            Expiration::after(Duration::from_secs(u64::MAX / 4)),
            Err(ExpirationError::OutOfRange)
        );
    }
}
