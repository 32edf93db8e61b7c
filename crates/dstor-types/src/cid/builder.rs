//! The CIDv0 that `ipfs add` gives a byte stream, computed while the bytes stream past.

use std::fmt;

use sha2::{Digest, Sha256};

use super::Cid;
use super::dagpb::{self, Link};

/// The size of the chunks a file is cut into: kubo's default, 256 KiB.
pub const CHUNK_SIZE: usize = 256 * 1024;

/// The most links of a node in the file's DAG: kubo's default, 174.
pub const MAX_LINKS: usize = 174;

/// Computes the CIDv0 that `ipfs add` (kubo, default settings) gives a byte stream, and so
/// the `Hash` dStor gives the file.
///
/// Feed the bytes in any pieces with [`CidBuilder::update`], then call
/// [`CidBuilder::finish`]. The layout is kubo's: 256 KiB chunks, each a UnixFS `File` node in
/// dag-pb (not a raw leaf), linked in a balanced DAG of at most 174 links per node; a file of
/// one chunk is that one node. How the bytes are split across calls never changes the CID.
///
/// Memory stays bounded whatever the file's size: one chunk (256 KiB) and at most 173 links
/// (48 bytes each) per level of the DAG, about 8 KiB per level (a 1 TiB file has four).
/// Whole 256 KiB pieces that arrive while no partial chunk is held are hashed in place,
/// without a copy.
///
/// ```
/// use dstor_types::{Cid, CidBuilder};
///
/// let mut builder = CidBuilder::new();
/// builder.update(b"hel");
/// builder.update(b"lo\n");
/// assert_eq!(builder.bytes_seen(), 6);
/// let cid = builder.finish();
/// assert_eq!(cid.to_string(), "QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN");
/// assert_eq!(cid, Cid::of_bytes(b"hello\n"));
/// ```
pub struct CidBuilder {
    /// [`CHUNK_SIZE`]; smaller only in tests, to make deep trees of few bytes.
    chunk_size: usize,
    /// The bytes of the chunk being filled; empty between chunks.
    chunk: Vec<u8>,
    /// The most recent leaf, held back from `levels` so that `finish` always has a node to
    /// start from.
    last: Option<Link>,
    /// `levels[k]`: links to finished nodes of depth `k` (0: leaves) that wait for a parent.
    levels: Vec<Vec<Link>>,
    /// Where branch nodes are written before they are hashed.
    scratch: Vec<u8>,
    /// How many leaves were made, `last` included.
    leaves: u64,
    bytes_seen: u64,
}

impl CidBuilder {
    /// A builder that has seen no bytes (its CID is that of the empty file).
    pub fn new() -> Self {
        Self {
            chunk_size: CHUNK_SIZE,
            chunk: Vec::new(),
            last: None,
            levels: Vec::new(),
            scratch: Vec::new(),
            leaves: 0,
            bytes_seen: 0,
        }
    }

    /// A builder that cuts chunks of `chunk_size` bytes (at least one).
    #[cfg(test)]
    fn with_chunk_size(chunk_size: usize) -> Self {
        Self {
            chunk_size: chunk_size.max(1),
            ..Self::new()
        }
    }

    /// Feeds the next bytes of the stream.
    pub fn update(&mut self, mut data: &[u8]) {
        self.bytes_seen = self.bytes_seen.saturating_add(data.len() as u64);
        while !data.is_empty() {
            if self.chunk.is_empty() && data.len() >= self.chunk_size {
                let (whole, rest) = data.split_at(self.chunk_size);
                self.push_leaf(whole);
                data = rest;
                continue;
            }
            if self.chunk.capacity() == 0 {
                self.chunk.reserve_exact(self.chunk_size);
            }
            let take = (self.chunk_size - self.chunk.len()).min(data.len());
            let (head, rest) = data.split_at(take);
            self.chunk.extend_from_slice(head);
            data = rest;
            if self.chunk.len() == self.chunk_size {
                let chunk = std::mem::take(&mut self.chunk);
                self.push_leaf(&chunk);
                self.chunk = chunk;
                self.chunk.clear();
            }
        }
    }

    /// How many bytes were fed so far.
    pub fn bytes_seen(&self) -> u64 {
        self.bytes_seen
    }

    /// The CID of all the bytes fed.
    pub fn finish(mut self) -> Cid {
        // The last leaf: the partial chunk if there is one, the empty file if there was
        // nothing, else the last whole chunk.
        let last = match self.last.take() {
            Some(last) if self.chunk.is_empty() => last,
            previous => {
                if let Some(previous) = previous {
                    self.push_link(0, previous);
                }
                self.leaves += 1;
                leaf(&self.chunk)
            }
        };
        // The root has the smallest depth whose full tree holds every leaf. Each level below
        // it, with the node carried up from the level under it, makes one node of the next.
        let mut capacity = 1u64;
        let mut depth = 0;
        while capacity < self.leaves {
            capacity = capacity.saturating_mul(MAX_LINKS as u64);
            depth += 1;
        }
        let mut carry = last;
        for k in 0..depth {
            let mut links = self
                .levels
                .get_mut(k)
                .map(std::mem::take)
                .unwrap_or_default();
            links.push(carry);
            carry = branch(&mut self.scratch, &links);
        }
        Cid::from_v0_digest(carry.digest)
    }

    fn push_leaf(&mut self, data: &[u8]) {
        let link = leaf(data);
        self.leaves += 1;
        if let Some(previous) = self.last.replace(link) {
            self.push_link(0, previous);
        }
    }

    /// Adds a link at `level`, making the parent as soon as the level is full.
    fn push_link(&mut self, mut level: usize, mut link: Link) {
        loop {
            if self.levels.len() <= level {
                self.levels.push(Vec::with_capacity(MAX_LINKS));
            }
            let links = &mut self.levels[level];
            links.push(link);
            if links.len() < MAX_LINKS {
                return;
            }
            link = branch(&mut self.scratch, links);
            links.clear();
            level += 1;
        }
    }
}

impl Default for CidBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for CidBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CidBuilder")
            .field("bytes_seen", &self.bytes_seen)
            .field("leaves", &self.leaves)
            .finish_non_exhaustive()
    }
}

/// The link to the leaf node that holds `data`.
fn leaf(data: &[u8]) -> Link {
    let frame = dagpb::leaf_frame(data.len() as u64);
    let mut hasher = Sha256::new();
    hasher.update(&frame.head);
    hasher.update(data);
    hasher.update(&frame.tail);
    Link {
        digest: hasher.finalize().into(),
        tsize: frame.node_len,
        filesize: data.len() as u64,
    }
}

/// The link to the branch node over `links`.
fn branch(scratch: &mut Vec<u8>, links: &[Link]) -> Link {
    dagpb::encode_branch(scratch, links);
    let below = links
        .iter()
        .fold(0u64, |sum, link| sum.saturating_add(link.tsize));
    Link {
        digest: Sha256::digest(&scratch[..]).into(),
        tsize: below.saturating_add(scratch.len() as u64),
        filesize: links
            .iter()
            .fold(0u64, |sum, link| sum.saturating_add(link.filesize)),
    }
}

#[cfg(test)]
mod tests;
