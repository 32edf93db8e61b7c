//! Content identifiers: the `Hash` dStor gives a stored file, and the calculator that finds it
//! locally.

use std::fmt;
use std::str::FromStr;

use http::Uri;

use crate::environment::{BaseUrl, EndpointError};

mod builder;
mod dagpb;

pub use builder::{CHUNK_SIZE, CidBuilder, MAX_LINKS};

/// The path below a base URL where the gateway serves content by CID.
pub const GATEWAY_PATH: &str = "/ipfs/";

/// The longest CID text accepted, in characters. (A CIDv1 of a 64-byte digest in base16 is
/// about 140.)
pub const MAX_CID_LEN: usize = 256;

/// A validated content identifier (CID), the `Hash` of a file stored on dStor.
///
/// dStor stores CIDv0 (`Qm…`, 46 characters of base58btc: a sha2-256 multihash), and these
/// are checked in full. CIDv1 text in any multibase whose alphabet is URL-safe (base32
/// `b…`, base58btc `z…`, base36 `k…`, base16 `f…`, base64url `u…`, …) is accepted and
/// checked to be a whole, well-formed CIDv1.
///
/// `Display` gives the canonical text: base58btc for a CIDv0, base32 (lowercase) for a
/// CIDv1. Two CIDs are equal when they name the same content the same way; a CIDv0 and the
/// CIDv1 of the same node are not equal.
///
/// ```
/// use dstor_types::{Cid, Environment};
///
/// let cid: Cid = "QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN".parse()?;
/// assert!(cid.is_v0());
/// assert_eq!(cid, Cid::of_bytes(b"hello\n"));
/// assert_eq!(
///     cid.gateway_url(&Environment::Production.base_url())?,
///     "https://api.dstor.cloud/ipfs/QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN",
/// );
/// assert!("Qm-not-a-cid".parse::<Cid>().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cid {
    repr: Repr,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Repr {
    /// A CIDv0: the sha2-256 digest of a dag-pb node.
    V0([u8; 32]),
    /// A CIDv1, as the multiformats crate reads it.
    V1(cid::Cid),
}

/// The multihash prefix of a sha2-256 digest: code 0x12, length 32.
const SHA2_256_PREFIX: [u8; 2] = [0x12, 0x20];

/// The length of CIDv0 text.
const V0_LEN: usize = 46;

impl Cid {
    /// Parses CID text (surrounding whitespace ignored).
    ///
    /// # Errors
    ///
    /// [`CidError`] says what is wrong; it never repeats the text.
    pub fn parse(text: &str) -> Result<Self, CidError> {
        let text = text.trim();
        let len = text.chars().count();
        if len == 0 {
            return Err(CidError::Empty);
        }
        if len > MAX_CID_LEN {
            return Err(CidError::TooLong { len });
        }
        if let Some(position) = text
            .chars()
            .position(|c| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        {
            return Err(CidError::BadCharacter {
                position: position + 1,
            });
        }
        if text.starts_with("Qm") {
            return parse_v0(text);
        }
        parse_v1(text)
    }

    /// The CIDv0 of a sha2-256 digest of a dag-pb node.
    pub(crate) fn from_v0_digest(digest: [u8; 32]) -> Self {
        Self {
            repr: Repr::V0(digest),
        }
    }

    /// The CIDv0 that `ipfs add` gives `data`: see [`CidBuilder`], which computes it while
    /// the bytes stream past.
    pub fn of_bytes(data: &[u8]) -> Self {
        let mut builder = CidBuilder::new();
        builder.update(data);
        builder.finish()
    }

    /// Whether this is a CIDv0 (`Qm…`), the kind dStor stores.
    pub fn is_v0(&self) -> bool {
        matches!(self.repr, Repr::V0(_))
    }

    /// The URL at which the gateway below `base` serves this content: `{base}/ipfs/{cid}`.
    /// Fetching it needs no credential.
    ///
    /// # Errors
    ///
    /// [`EndpointError::InvalidUrl`] if the two do not make a URL, which a validated base and
    /// a validated CID always do.
    pub fn gateway_url(&self, base: &BaseUrl) -> Result<Uri, EndpointError> {
        base.join(&format!("{GATEWAY_PATH}{self}"))
    }
}

fn parse_v0(text: &str) -> Result<Cid, CidError> {
    let len = text.len();
    if len != V0_LEN {
        return Err(CidError::V0Length { len });
    }
    // The alphabet is checked here so that the error can say where the text goes wrong.
    const BASE58: &str = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    if let Some(position) = text.chars().position(|c| !BASE58.contains(c)) {
        return Err(CidError::NotBase58 {
            position: position + 1,
        });
    }
    let bytes = multibase::Base::Base58Btc
        .decode(text)
        .map_err(|_| CidError::NotBase58 { position: 1 })?;
    match bytes.split_first_chunk::<2>() {
        Some((prefix, digest)) if *prefix == SHA2_256_PREFIX => digest
            .try_into()
            .map(Cid::from_v0_digest)
            .map_err(|_| CidError::NotSha256),
        _ => Err(CidError::NotSha256),
    }
}

fn parse_v1(text: &str) -> Result<Cid, CidError> {
    let (_, bytes) = multibase::decode(text).map_err(|e| match e {
        multibase::Error::UnknownBase(_) => CidError::UnknownMultibase,
        _ => CidError::BadMultibase,
    })?;
    let mut rest = bytes.as_slice();
    let cid = cid::Cid::read_bytes(&mut rest).map_err(|_| CidError::BadBinary)?;
    if !rest.is_empty() {
        return Err(CidError::TrailingBytes);
    }
    if cid.version() == cid::Version::V0 {
        return Err(CidError::PrefixedV0);
    }
    Ok(Cid {
        repr: Repr::V1(cid),
    })
}

impl fmt::Display for Cid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::V0(digest) => {
                let mut bytes = [0; 34];
                bytes[..2].copy_from_slice(&SHA2_256_PREFIX);
                bytes[2..].copy_from_slice(digest);
                f.write_str(&multibase::Base::Base58Btc.encode(bytes))
            }
            Repr::V1(cid) => fmt::Display::fmt(cid, f),
        }
    }
}

impl fmt::Debug for Cid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cid({self})")
    }
}

impl FromStr for Cid {
    type Err = CidError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl serde::Serialize for Cid {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Cid {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Text;
        impl serde::de::Visitor<'_> for Text {
            type Value = Cid;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a CID as text")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Cid, E> {
                Cid::parse(text).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Text)
    }
}

/// Why text is not a CID. The messages never repeat the text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CidError {
    /// No text at all.
    #[error("the CID is empty: give the `Qm…` hash of the file")]
    Empty,
    /// Longer than any CID.
    #[error(
        "the CID has {len} characters, more than any CID ({MAX_CID_LEN}): check that it is a CID"
    )]
    TooLong {
        /// Its length in characters.
        len: usize,
    },
    /// A character no URL-safe CID text holds.
    #[error(
        "character {position} of the CID is not a letter, digit, '-' or '_': check that it was copied whole"
    )]
    BadCharacter {
        /// Where, counting from 1.
        position: usize,
    },
    /// Starts like a CIDv0 (`Qm`) but is not 46 characters long.
    #[error("a CIDv0 has 46 characters, this one has {len}: check that it was copied whole")]
    V0Length {
        /// Its length.
        len: usize,
    },
    /// A CIDv0 with a character outside base58btc.
    #[error("character {position} of the CIDv0 is not base58 (which has no '0', 'O', 'I' or 'l')")]
    NotBase58 {
        /// Where, counting from 1.
        position: usize,
    },
    /// A CIDv0 that is not a sha2-256 multihash.
    #[error("the CIDv0 is not a sha2-256 multihash: check that it was copied whole")]
    NotSha256,
    /// CIDv1 text whose first character names no known multibase.
    #[error(
        "the CID is neither a CIDv0 (`Qm…`) nor CIDv1 text in a known multibase (such as `bafy…`)"
    )]
    UnknownMultibase,
    /// CIDv1 text that its multibase cannot decode.
    #[error("the CIDv1 text does not decode in the multibase its first character names")]
    BadMultibase,
    /// Decoded bytes that are not a CIDv1 (version, codec or multihash).
    #[error("the decoded CIDv1 is malformed: its version, codec or multihash cannot be read")]
    BadBinary,
    /// A CIDv1 followed by more bytes.
    #[error("the decoded CIDv1 is followed by extra bytes")]
    TrailingBytes,
    /// A CIDv0 written with a multibase prefix, which CIDv0 never has.
    #[error("the CID is a CIDv0 in a multibase, which is not valid: write it as `Qm…`")]
    PrefixedV0,
}

#[cfg(test)]
mod tests;
