//! The names files are stored under.

use std::fmt;

/// The longest file name accepted, in bytes.
pub const MAX_FILE_NAME_LEN: usize = 1024;

/// A name a file is stored under on dStor: relative, without `.` or `..` segments, empty
/// segments or control characters, at most [`MAX_FILE_NAME_LEN`] bytes. `/` and `\` both
/// count as separators. Any other character, non-ASCII and quotes included, is kept: the
/// multipart framing escapes what needs it.
///
/// ```
/// use dstor_types::{FileName, FileNameError};
///
/// assert_eq!(FileName::new("photos/café \"1\".jpg")?.as_str(), "photos/café \"1\".jpg");
/// assert_eq!(FileName::new("../etc/passwd"), Err(FileNameError::DotSegment));
/// assert_eq!(FileName::new("/etc/passwd"), Err(FileNameError::Absolute));
/// assert_eq!(FileName::new("a\r\nb"), Err(FileNameError::Control { position: 2 }));
/// # Ok::<(), FileNameError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileName(String);

impl FileName {
    /// Validates a name.
    ///
    /// # Errors
    ///
    /// [`FileNameError`] says what is wrong; it never repeats the name.
    pub fn new(name: impl Into<String>) -> Result<Self, FileNameError> {
        let name = name.into();
        check(&name, false)?;
        Ok(Self(name))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for FileName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Checks a file name, or with `folder` a folder path (which may be `/`, or start or end
/// with a separator).
pub(super) fn check(name: &str, folder: bool) -> Result<(), FileNameError> {
    if name.is_empty() {
        return Err(FileNameError::Empty);
    }
    if name.len() > MAX_FILE_NAME_LEN {
        return Err(FileNameError::TooLong { len: name.len() });
    }
    if let Some(position) = name.chars().position(char::is_control) {
        return Err(FileNameError::Control {
            position: position + 1,
        });
    }
    let bytes = name.as_bytes();
    let drive = bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':';
    let rooted = name.starts_with(['/', '\\']);
    if drive || (rooted && !folder) {
        return Err(FileNameError::Absolute);
    }
    let inner = if folder {
        name.trim_start_matches(['/', '\\'])
            .trim_end_matches(['/', '\\'])
    } else {
        name
    };
    if inner.is_empty() {
        // The folder `/`.
        return Ok(());
    }
    for segment in inner.split(['/', '\\']) {
        match segment {
            "" => return Err(FileNameError::EmptySegment),
            "." | ".." => return Err(FileNameError::DotSegment),
            s if s.trim().is_empty() => return Err(FileNameError::BlankSegment),
            _ => {}
        }
    }
    Ok(())
}

/// Why a file name (or folder path) was refused. Messages never repeat the name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FileNameError {
    /// No name at all.
    #[error("the name is empty")]
    Empty,
    /// Longer than [`MAX_FILE_NAME_LEN`].
    #[error("the name is {len} bytes long, more than the {MAX_FILE_NAME_LEN} accepted")]
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// Starts with `/`, `\` or a drive such as `C:`.
    #[error("the name is an absolute path: give a path relative to the upload's folder")]
    Absolute,
    /// Has a `.` or `..` segment, which could name a place outside the folder.
    #[error("the name has a '.' or '..' segment: give the path without them")]
    DotSegment,
    /// Has two separators in a row, or ends with one.
    #[error("the name has an empty segment ('//', or a separator at the end)")]
    EmptySegment,
    /// Has a segment of spaces only.
    #[error("the name has a segment of whitespace only")]
    BlankSegment,
    /// Holds a control character (a newline, a tab, …).
    #[error("the name has a control character at position {position}")]
    Control {
        /// Where, counting from 1.
        position: usize,
    },
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn accepts_ordinary_names() {
        for name in [
            "a.txt",
            "dir/sub/file",
            "caf\u{e9}.jpg",
            "x\"y\\z",
            "a b",
            ".hidden",
            "a..b",
        ] {
            assert_eq!(FileName::new(name).unwrap().as_str(), name);
        }
    }

    #[test]
    fn refuses_names_that_escape_or_cannot_be_sent() {
        let long = "a".repeat(MAX_FILE_NAME_LEN + 1);
        for (name, expected) in [
            ("", FileNameError::Empty),
            (
                long.as_str(),
                FileNameError::TooLong {
                    len: MAX_FILE_NAME_LEN + 1,
                },
            ),
            ("/etc/passwd", FileNameError::Absolute),
            ("\\share\\x", FileNameError::Absolute),
            ("C:\\x", FileNameError::Absolute),
            ("c:x", FileNameError::Absolute),
            ("..", FileNameError::DotSegment),
            ("a/../b", FileNameError::DotSegment),
            ("a\\..\\b", FileNameError::DotSegment),
            ("./a", FileNameError::DotSegment),
            ("a//b", FileNameError::EmptySegment),
            ("a/", FileNameError::EmptySegment),
            ("a/ /b", FileNameError::BlankSegment),
            (" ", FileNameError::BlankSegment),
            ("a\nb", FileNameError::Control { position: 2 }),
            ("\u{7f}", FileNameError::Control { position: 1 }),
            ("a\u{85}", FileNameError::Control { position: 2 }),
        ] {
            assert_eq!(FileName::new(name), Err(expected), "{name:?}");
        }
    }

    #[test]
    fn folders_may_be_the_root_or_rooted() {
        for folder in ["/", "test", "/test", "arbitration/alice", "a/b/"] {
            assert_eq!(check(folder, true), Ok(()), "{folder:?}");
        }
        assert_eq!(check("/../x", true), Err(FileNameError::DotSegment));
        assert_eq!(check("", true), Err(FileNameError::Empty));
        assert_eq!(check("D:/x", true), Err(FileNameError::Absolute));
    }

    proptest! {
        /// Relative paths of ordinary segments (UTF-8, quotes and spaces included) are
        /// accepted as they are.
        #[test]
        fn ordinary_paths_are_accepted(
            segments in proptest::collection::vec(
                "[^\\s\\x00-\\x1f\\x7f-\\u{9f}/\\\\.:][^\\x00-\\x1f\\x7f-\\u{9f}/\\\\:]{0,12}",
                1..4,
            ),
        ) {
            let name = segments.join("/");
            prop_assert_eq!(FileName::new(name.clone()).map(|n| n.as_str().to_owned()), Ok(name));
        }

        /// Any text is accepted or refused without a panic; what is accepted has no control
        /// character, no `..` segment and no leading separator, and errors never echo it.
        #[test]
        fn any_text_is_checked(name in any::<String>()) {
            match FileName::new(name.clone()) {
                Ok(accepted) => {
                    prop_assert!(!accepted.as_str().chars().any(char::is_control));
                    prop_assert!(!accepted.as_str().split(['/', '\\']).any(|s| s == ".."));
                    prop_assert!(!accepted.as_str().starts_with(['/', '\\']));
                }
                Err(err) => {
                    if name.len() >= 4 {
                        prop_assert!(!err.to_string().contains(&name));
                    }
                }
            }
        }
    }
}
