//! Times and durations as the user writes and reads them: `30m`, RFC 3339, Unix seconds,
//! `in 59 minutes`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Parses `90`, `90s`, `30m`, `1h` or `7d` into a duration.
///
/// # Errors
///
/// A reason, which never repeats the text, when it is not such a duration.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let scale: u64 = match unit.trim() {
        "" | "s" | "sec" | "secs" => 1,
        "m" | "min" | "mins" => 60,
        "h" | "hour" | "hours" => 3600,
        "d" | "day" | "days" => 86_400,
        _ => return Err("use a number with an s, m, h or d suffix, such as 30m or 1h".into()),
    };
    let value: u64 = digits
        .parse()
        .map_err(|_| "use a number with an s, m, h or d suffix, such as 30m or 1h".to_owned())?;
    value
        .checked_mul(scale)
        .map(Duration::from_secs)
        .ok_or_else(|| "that duration is too long".to_owned())
}

/// Parses an RFC 3339 time or Unix seconds into Unix seconds.
///
/// # Errors
///
/// A reason, which never repeats the text, when it is neither.
pub(crate) fn parse_time(text: &str) -> Result<i64, String> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<i64>() {
        return Ok(seconds);
    }
    text.parse::<jiff::Timestamp>()
        .map(|t| t.as_second())
        .map_err(|_| "use an RFC 3339 time (2030-01-01T00:00:00Z) or Unix seconds".to_owned())
}

/// `time` in whole Unix seconds (negative before 1970), saturating.
pub(crate) fn unix(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// Unix seconds as RFC 3339 (UTC), or the number itself when out of range.
pub(crate) fn rfc3339(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds).map_or_else(|_| seconds.to_string(), |t| t.to_string())
}

/// `in 59 minutes` or `expired 3 hours ago`, for a token with `remaining` seconds left.
pub(crate) fn expiry(remaining: i64) -> String {
    if remaining > 0 {
        format!("in {}", span(remaining))
    } else {
        format!("expired {} ago", span(remaining.saturating_neg().max(1)))
    }
}

/// `3 minutes ago` for a time `elapsed` seconds past, or a note that the clocks disagree
/// for one in the future.
pub(crate) fn ago(elapsed: i64) -> String {
    if elapsed >= 0 {
        format!("{} ago", span(elapsed.max(1)))
    } else {
        format!("in {}: the clocks disagree", span(elapsed.saturating_neg()))
    }
}

/// A duration in seconds in its largest whole unit: `1 second`, `59 minutes`, `3 hours`,
/// `2 days`, `5 years`.
pub(crate) fn span(seconds: i64) -> String {
    let (n, unit) = match seconds {
        ..60 => (seconds, "second"),
        60..3_600 => (seconds / 60, "minute"),
        3_600..172_800 => (seconds / 3_600, "hour"),
        172_800..31_557_600 => (seconds / 86_400, "day"),
        _ => (seconds / 31_557_600, "year"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_suffixes() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172_800)));
        assert!(parse_duration("1w").is_err());
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("-5m").is_err());
        assert_eq!(
            parse_duration(&format!("{}d", u64::MAX / 1000)),
            Err("that duration is too long".to_owned())
        );
    }

    #[test]
    fn times_are_rfc3339_or_unix() {
        assert_eq!(parse_time("1632792437"), Ok(1_632_792_437));
        assert_eq!(parse_time("2021-09-28T01:27:17Z"), Ok(1_632_792_437));
        assert_eq!(parse_time("2021-09-28T03:27:17+02:00"), Ok(1_632_792_437));
        assert!(parse_time("tomorrow").is_err());
    }

    #[test]
    fn spans_use_the_largest_unit() {
        assert_eq!(span(1), "1 second");
        assert_eq!(span(3_599), "59 minutes");
        assert_eq!(span(7_200), "2 hours");
        assert_eq!(span(3 * 86_400), "3 days");
        assert_eq!(expiry(-10_800), "expired 3 hours ago");
    }
}
