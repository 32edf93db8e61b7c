//! The framing of a `multipart/form-data` chunk body, for bodies that stream.

use std::hash::{BuildHasher, RandomState};

use http::HeaderValue;

use super::name::FileName;

/// The form field every file is sent in.
pub const FORM_FIELD: &str = "file";

/// The bytes that frame the files of one chunk request, so that a body can stream each
/// file between them and know its length beforehand:
///
/// ```text
/// part_header(name 1) · bytes of file 1 · PART_END · part_header(name 2) · … · closing()
/// ```
///
/// Each part is the form field `file` with the file's name as `filename` (`"` and `\`
/// escaped with `\`, other characters, UTF-8 included, as they are: a [`FileName`] holds no
/// CR, LF or other control character, so no name can add a header or end the part) and
/// `Content-Type: application/octet-stream`.
///
/// The boundary is random (128 bits), so the content of a file cannot end its part.
///
/// ```
/// use dstor_types::{FileName, Multipart};
///
/// let form = Multipart::with_boundary("b0undary")?;
/// let name = FileName::new("a.txt")?;
/// let mut body = form.part_header(&name);
/// body.extend_from_slice(b"hello\n");
/// body.extend_from_slice(Multipart::PART_END);
/// body.extend_from_slice(&form.closing());
/// assert_eq!(form.body_len([(&name, 6)]), Some(body.len() as u64));
/// assert_eq!(
///     String::from_utf8(body)?,
///     "--b0undary\r\n\
///      Content-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\
///      Content-Type: application/octet-stream\r\n\r\n\
///      hello\n\r\n\
///      --b0undary--\r\n"
/// );
/// assert_eq!(form.content_type(), "multipart/form-data; boundary=b0undary");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Multipart {
    boundary: String,
    content_type: HeaderValue,
}

impl Multipart {
    /// The bytes after each file's content.
    pub const PART_END: &'static [u8] = b"\r\n";

    /// A framing with a fresh random boundary.
    pub fn new() -> Self {
        // Each `RandomState` has keys from the OS's randomness (incremented per instance),
        // so the hashes are unpredictable to whoever wrote the files.
        let high = RandomState::new().hash_one(0x5eed_u64);
        let low = RandomState::new().hash_one(0xb0b_u64);
        let boundary = format!("dstor-rs-{high:016x}{low:016x}");
        Self::with_boundary(&boundary).unwrap_or_else(|_| Self::fallback())
    }

    /// A framing with the given boundary: 1 to 70 ASCII letters, digits, `-`, `_` or `.`.
    ///
    /// # Errors
    ///
    /// [`MultipartError::InvalidBoundary`] for any other boundary.
    pub fn with_boundary(boundary: &str) -> Result<Self, MultipartError> {
        let valid = (1..=70).contains(&boundary.len())
            && boundary
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !valid {
            return Err(MultipartError::InvalidBoundary);
        }
        let content_type =
            HeaderValue::try_from(format!("multipart/form-data; boundary={boundary}"))
                .map_err(|_| MultipartError::InvalidBoundary)?;
        Ok(Self {
            boundary: boundary.to_owned(),
            content_type,
        })
    }

    fn fallback() -> Self {
        Self {
            boundary: "dstor-rs-boundary".to_owned(),
            content_type: HeaderValue::from_static(
                "multipart/form-data; boundary=dstor-rs-boundary",
            ),
        }
    }

    /// The boundary.
    pub fn boundary(&self) -> &str {
        &self.boundary
    }

    /// The `content-type` of the body: `multipart/form-data; boundary=…`.
    pub fn content_type(&self) -> HeaderValue {
        self.content_type.clone()
    }

    /// The bytes before the content of the file stored as `name`.
    pub fn part_header(&self, name: &FileName) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.part_header_len(name));
        out.extend_from_slice(b"--");
        out.extend_from_slice(self.boundary.as_bytes());
        out.extend_from_slice(b"\r\nContent-Disposition: form-data; name=\"");
        out.extend_from_slice(FORM_FIELD.as_bytes());
        out.extend_from_slice(b"\"; filename=\"");
        for &b in name.as_str().as_bytes() {
            if matches!(b, b'"' | b'\\') {
                out.push(b'\\');
            }
            out.push(b);
        }
        out.extend_from_slice(b"\"\r\nContent-Type: application/octet-stream\r\n\r\n");
        out
    }

    /// The length of [`Multipart::part_header`] for `name`.
    pub fn part_header_len(&self, name: &FileName) -> usize {
        let escapes = name
            .as_str()
            .bytes()
            .filter(|b| matches!(b, b'"' | b'\\'))
            .count();
        HEADER_FIXED_LEN + self.boundary.len() + FORM_FIELD.len() + name.as_str().len() + escapes
    }

    /// The bytes after the last part.
    pub fn closing(&self) -> Vec<u8> {
        format!("--{}--\r\n", self.boundary).into_bytes()
    }

    /// The length of the whole body for files of these names and sizes, `None` if it does
    /// not fit in a `u64`.
    pub fn body_len<'a>(
        &self,
        parts: impl IntoIterator<Item = (&'a FileName, u64)>,
    ) -> Option<u64> {
        let closing = (self.boundary.len() + 6) as u64;
        parts.into_iter().try_fold(closing, |sum, (name, size)| {
            sum.checked_add(self.part_header_len(name) as u64)?
                .checked_add(size)?
                .checked_add(Self::PART_END.len() as u64)
        })
    }
}

impl Default for Multipart {
    fn default() -> Self {
        Self::new()
    }
}

/// The bytes of a part header besides the boundary, the field name and the file name.
const HEADER_FIXED_LEN: usize = "--\r\nContent-Disposition: form-data; name=\"\"; filename=\"\"\r\nContent-Type: application/octet-stream\r\n\r\n".len();

/// Why a multipart framing could not be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MultipartError {
    /// The boundary is empty, longer than 70 characters, or holds a character other than
    /// ASCII letters, digits, `-`, `_` and `.`.
    #[error("the multipart boundary must be 1 to 70 ASCII letters, digits, '-', '_' or '.'")]
    InvalidBoundary,
}

#[cfg(test)]
mod tests;
