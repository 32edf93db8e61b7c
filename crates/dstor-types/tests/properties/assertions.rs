//! What every target checks of a message: no secret in it, and a bounded length.

use proptest::test_runner::TestCaseError;

/// Fails the case when `text` holds `secret` or any 20-character window of it.
pub(crate) fn never_shows(text: &str, secret: &str, what: &str) -> Result<(), TestCaseError> {
    let windows = secret.len().saturating_sub(19).max(1);
    for start in 0..windows {
        let window = secret
            .get(start..(start + 20).min(secret.len()))
            .unwrap_or(secret);
        if window.len() >= 8 && text.contains(window) {
            return Err(TestCaseError::fail(format!(
                "{what} shows {window:?}: {text}"
            )));
        }
    }
    Ok(())
}

/// Fails the case when a message is longer than `max` characters.
pub(crate) fn bounded(text: &str, max: usize) -> Result<(), TestCaseError> {
    let len = text.chars().count();
    if len > max {
        return Err(TestCaseError::fail(format!(
            "a message of {len} characters (more than {max}): {text}"
        )));
    }
    Ok(())
}
