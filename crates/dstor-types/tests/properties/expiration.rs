use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dstor_types::{Expiration, ExpirationError};
use proptest::prelude::*;

use crate::assertions::bounded;
use crate::harness::check;

/// The last second of the year 9999.
const MAX_UNIX_SECONDS: u64 = 253_402_300_799;

/// Durations from zero to `Duration::MAX`, the edges included.
fn durations() -> impl Strategy<Value = Duration> {
    prop_oneof![
        Just(Duration::ZERO),
        Just(Duration::MAX),
        (0..2u64, 0..1_000_000_000u32).prop_map(|(s, n)| Duration::new(s, n)),
        (0..=MAX_UNIX_SECONDS * 2, 0..1_000_000_000u32).prop_map(|(s, n)| Duration::new(s, n)),
        (any::<u64>(), 0..1_000_000_000u32).prop_map(|(s, n)| Duration::new(s, n)),
    ]
}

/// Times before and after the epoch, as far as `SystemTime` reaches.
fn times() -> impl Strategy<Value = SystemTime> {
    (any::<bool>(), durations()).prop_map(|(before, d)| {
        let t = if before {
            UNIX_EPOCH.checked_sub(d)
        } else {
            UNIX_EPOCH.checked_add(d)
        };
        t.unwrap_or(UNIX_EPOCH)
    })
}

fn unix(t: SystemTime) -> Option<u64> {
    t.duration_since(UNIX_EPOCH).ok().map(|d| d.as_secs())
}

#[test]
fn fuzz_expiration() {
    let cases = (durations(), times(), times(), any::<u64>());
    check(
        "expiration",
        file!(),
        cases,
        |(lifetime, now, at, seconds)| {
            // A lifetime from now: the second it ends, if that is after now and before 10000.
            match Expiration::after_relative_to(lifetime, now) {
                Ok(exp) => {
                    let end = now.checked_add(lifetime).and_then(unix);
                    prop_assert_eq!(Some(exp.unix_seconds()), end);
                    prop_assert!(exp.unix_seconds() > unix(now).unwrap_or(0));
                    prop_assert!(exp.unix_seconds() <= MAX_UNIX_SECONDS);
                    prop_assert!(lifetime >= Duration::from_secs(1));
                    let header = exp.header_value();
                    let seconds = exp.unix_seconds().to_string();
                    prop_assert_eq!(header.to_str().ok(), Some(seconds.as_str()));
                    prop_assert_eq!(unix(exp.to_system_time()), Some(exp.unix_seconds()));
                }
                Err(err) => {
                    bounded(&err.to_string(), 300)?;
                    let end = now.checked_add(lifetime).and_then(unix);
                    let now_s = unix(now).unwrap_or(0);
                    let valid = lifetime >= Duration::from_secs(1)
                        && end.is_some_and(|e| e > now_s && e <= MAX_UNIX_SECONDS);
                    prop_assert!(!valid, "refused {lifetime:?} from {now:?}: {err}");
                }
            }
            // A fixed time.
            match Expiration::at_relative_to(at, now) {
                Ok(exp) => {
                    prop_assert_eq!(Some(exp.unix_seconds()), unix(at));
                    prop_assert!(exp.unix_seconds() > unix(now).unwrap_or(0));
                }
                Err(ExpirationError::OutOfRange) => prop_assert!(unix(at) > Some(MAX_UNIX_SECONDS)),
                Err(err) => bounded(&err.to_string(), 300)?,
            }
            // Any Unix second: never a panic.
            let _ = Expiration::from_unix_seconds(seconds);
            Ok(())
        },
    );
}
