//! The developer API key.

use std::fmt;

use bytes::Bytes;
use http::HeaderValue;
use secrecy::{ExposeSecret, SecretString};

/// The length, in characters, of every dStor API key.
pub const API_KEY_LEN: usize = 64;

/// A dStor developer API key: the long-lived secret traded for access tokens.
///
/// The key is the account, so this type is built to keep it from leaking: it is held in a
/// [`SecretString`] (wiped from memory on drop), its `Debug` prints `[redacted]`, and it has
/// no `Display` and no `Serialize`. [`ApiKey::expose_secret`] is the only way to read it.
///
/// Construction validates the key: exactly [`API_KEY_LEN`] printable ASCII characters with
/// no whitespace inside. Surrounding whitespace (a key pasted with a trailing newline, or
/// read from a file) is trimmed.
///
/// ```
/// use dstor_types::{ApiKey, ApiKeyError};
///
/// let key = ApiKey::new(format!("{}\n", "k".repeat(64))).unwrap();
/// assert_eq!(format!("{key:?}"), "ApiKey([redacted])");
///
/// let err = ApiKey::new("too-short").unwrap_err();
/// assert_eq!(err, ApiKeyError::WrongLength { found: 9 });
/// ```
#[derive(Clone)]
pub struct ApiKey(SecretString);

impl ApiKey {
    /// Validates `key` and wraps it.
    ///
    /// # Errors
    ///
    /// [`ApiKeyError`] says what is wrong (the length found, the position of an offending
    /// character) and never contains the key itself.
    pub fn new(key: impl Into<String>) -> Result<Self, ApiKeyError> {
        Self::from_secret(SecretString::from(key.into()))
    }

    /// Validates a key that is already held as a [`SecretString`].
    ///
    /// # Errors
    ///
    /// As [`ApiKey::new`].
    pub fn from_secret(key: SecretString) -> Result<Self, ApiKeyError> {
        let raw = key.expose_secret();
        let trimmed = raw.trim_matches(|c: char| c.is_ascii_whitespace());
        validate(trimmed)?;
        if trimmed.len() == raw.len() {
            Ok(Self(key))
        } else {
            Ok(Self(SecretString::from(trimmed)))
        }
    }

    /// The key itself. Call this only where the `api-key` header is built.
    pub fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }

    /// The `api-key` header, marked sensitive. The header owns the key's own buffer, which
    /// is wiped when the last copy of the header is dropped: no other copy of the key is
    /// made, and cloning the header copies no key.
    pub(crate) fn into_header_value(self) -> HeaderValue {
        let bytes = Bytes::from_owner(WipedOnDrop(self.0));
        // Validated at construction: only visible ASCII, which a header carries as it is.
        let mut value =
            HeaderValue::from_maybe_shared(bytes).unwrap_or_else(|_| HeaderValue::from_static(""));
        value.set_sensitive(true);
        value
    }
}

/// A secret lent to a `Bytes` buffer (and so to a `HeaderValue`); zeroized on drop by
/// [`SecretString`] when the last copy of the buffer goes.
pub(crate) struct WipedOnDrop(pub(crate) SecretString);

impl AsRef<[u8]> for WipedOnDrop {
    fn as_ref(&self) -> &[u8] {
        self.0.expose_secret().as_bytes()
    }
}

/// The first character that no API key or token has (whitespace, a control character,
/// anything outside ASCII), with its 1-based position.
pub(crate) fn first_bad_char(text: &str) -> Option<(usize, CharProblem)> {
    text.chars().enumerate().find_map(|(index, c)| {
        let problem = if c.is_whitespace() {
            CharProblem::Whitespace
        } else if c.is_control() {
            CharProblem::Control
        } else if !c.is_ascii() {
            CharProblem::NonAscii
        } else {
            return None;
        };
        Some((index + 1, problem))
    })
}

fn validate(key: &str) -> Result<(), ApiKeyError> {
    if key.is_empty() {
        return Err(ApiKeyError::Empty);
    }
    if let Some((position, problem)) = first_bad_char(key) {
        return Err(ApiKeyError::InvalidCharacter { position, problem });
    }
    let found = key.chars().count();
    if found != API_KEY_LEN {
        return Err(ApiKeyError::WrongLength { found });
    }
    Ok(())
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey([redacted])")
    }
}

impl TryFrom<String> for ApiKey {
    type Error = ApiKeyError;

    fn try_from(key: String) -> Result<Self, Self::Error> {
        Self::new(key)
    }
}

impl TryFrom<SecretString> for ApiKey {
    type Error = ApiKeyError;

    fn try_from(key: SecretString) -> Result<Self, Self::Error> {
        Self::from_secret(key)
    }
}

/// Why a string is not a valid API key. Never contains the key.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApiKeyError {
    /// The key is empty (or only whitespace).
    #[error("the API key is empty: set it to the 64-character key from the dStor dashboard")]
    Empty,
    /// The key has the wrong number of characters.
    #[error(
        "the API key has {found} characters, expected 64: copy the whole key from the dStor dashboard"
    )]
    WrongLength {
        /// How many characters were found (after trimming surrounding whitespace).
        found: usize,
    },
    /// The key holds a character no dStor key has.
    #[error(
        "the API key has {problem} at position {position}: copy the key again from the dStor dashboard"
    )]
    InvalidCharacter {
        /// The 1-based position of the first offending character, after trimming.
        position: usize,
        /// What kind of character it is.
        problem: CharProblem,
    },
}

/// The kind of character that makes an API key or a token invalid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CharProblem {
    /// A space, tab or newline.
    Whitespace,
    /// A control character.
    Control,
    /// A character outside ASCII.
    NonAscii,
}

impl fmt::Display for CharProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Whitespace => "whitespace",
            Self::Control => "a control character",
            Self::NonAscii => "a non-ASCII character",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "5xikF8a5wcJeqVrtQE8OffKvtR9qaRxPXXJAedhIiNFWJbNsGqsdPfJ5eDYY7n92";

    #[test]
    fn accepts_a_documented_key() {
        let key = ApiKey::new(KEY).unwrap();
        assert_eq!(key.expose_secret(), KEY);
    }

    #[test]
    fn trims_a_pasted_trailing_newline() {
        let key = ApiKey::new(format!("  {KEY}\r\n")).unwrap();
        assert_eq!(key.expose_secret(), KEY);
    }

    #[test]
    fn names_the_length_found() {
        assert_eq!(
            ApiKey::new(&KEY[..63]).unwrap_err(),
            ApiKeyError::WrongLength { found: 63 }
        );
        assert_eq!(
            ApiKey::new(format!("{KEY}x")).unwrap_err(),
            ApiKeyError::WrongLength { found: 65 }
        );
        assert_eq!(ApiKey::new(" \n").unwrap_err(), ApiKeyError::Empty);
    }

    #[test]
    fn names_the_offending_position() {
        let mut bad = KEY.to_owned();
        bad.replace_range(9..10, " ");
        assert_eq!(
            ApiKey::new(bad).unwrap_err(),
            ApiKeyError::InvalidCharacter {
                position: 10,
                problem: CharProblem::Whitespace
            }
        );
        let bad = format!("{}é", &KEY[..63]);
        assert!(matches!(
            ApiKey::new(bad).unwrap_err(),
            ApiKeyError::InvalidCharacter {
                position: 64,
                problem: CharProblem::NonAscii
            }
        ));
    }

    #[test]
    fn errors_and_debug_never_show_the_key() {
        let key = ApiKey::new(KEY).unwrap();
        assert!(!format!("{key:?}").contains(KEY));
        let mut bad = KEY.to_owned();
        bad.push('!');
        let err = ApiKey::new(bad).unwrap_err();
        assert!(!format!("{err} {err:?}").contains(&KEY[..16]));
    }
}
