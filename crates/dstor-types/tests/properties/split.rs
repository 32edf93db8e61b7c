//! How a hostile body hides a secret: the secret with one character put inside it.

use proptest::prelude::*;

/// Characters that may split a secret in a hostile body: controls, invisible and
/// formatting characters, and white space.
pub(crate) fn splitter() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just(""),
        Just("\u{1}"),
        Just("\u{0}"),
        Just("\u{7f}"),
        Just("\u{200b}"),
        Just("\u{feff}"),
        Just("\u{ad}"),
        Just("\u{85}"),
        Just("\t"),
        Just("\n"),
        Just(" "),
    ]
}

/// `secret` with `sep` put in at `at` (a char boundary of an ASCII secret).
pub(crate) fn split(secret: &str, sep: &str, at: usize) -> String {
    let at = at % (secret.len() + 1);
    format!("{}{sep}{}", &secret[..at], &secret[at..])
}
