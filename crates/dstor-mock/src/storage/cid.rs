//! The CIDv0 that `ipfs add` gives a byte stream with kubo's defaults.
//!
//! Written here on purpose, sharing no code with the SDK it tests: 256 KiB
//! chunks, each a dag-pb node holding a UnixFS `File` with its bytes, linked in
//! a balanced DAG of at most 174 links per node (all leaves at one depth); a
//! file of one chunk is that one node. Links come before data in every node, a
//! link has an empty name, and a parent's UnixFS data lists each child's size.

use sha2::{Digest, Sha256};

/// The chunk size of kubo's default chunker.
const CHUNK_SIZE: usize = 256 * 1024;

/// The most links in one node, as in kubo's balanced layout.
const MAX_LINKS: usize = 174;

/// A CIDv0 computed while the bytes stream by; holds at most one chunk.
pub(crate) struct CidV0 {
    chunk_size: usize,
    chunk: Vec<u8>,
    /// Completed subtrees, by height (`levels[0]` holds leaves).
    levels: Vec<Vec<Link>>,
}

/// A link to a finished node.
struct Link {
    digest: [u8; 32],
    /// The node's block size plus the sizes of every block below it.
    tsize: u64,
    /// The number of file bytes below the node.
    filesize: u64,
}

impl CidV0 {
    /// A calculator with kubo's default chunk size.
    pub(crate) fn new() -> Self {
        Self::with_chunk_size(CHUNK_SIZE)
    }

    /// A calculator with another chunk size (tests compare small shapes with
    /// published vectors).
    fn with_chunk_size(chunk_size: usize) -> Self {
        Self {
            chunk_size: chunk_size.max(1),
            chunk: Vec::new(),
            levels: Vec::new(),
        }
    }

    /// Feeds the next bytes of the file.
    pub(crate) fn update(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let take = (self.chunk_size - self.chunk.len()).min(data.len());
            self.chunk.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.chunk.len() == self.chunk_size {
                self.flush_leaf();
            }
        }
    }

    /// The CID text (`Qm…`, base58btc of the sha2-256 multihash).
    pub(crate) fn finish(mut self) -> String {
        if !self.chunk.is_empty() || self.levels.is_empty() {
            self.flush_leaf();
        }
        let mut height = 0;
        let root = loop {
            let top = self.levels[height + 1..].iter().all(Vec::is_empty);
            let links = std::mem::take(&mut self.levels[height]);
            if top && links.len() == 1 {
                break links.into_iter().next().map(|link| link.digest);
            }
            if !links.is_empty() {
                let parent = parent(&links);
                self.push(height + 1, parent);
            }
            height += 1;
            if height >= self.levels.len() {
                break None;
            }
        };
        let mut multihash = vec![0x12, 0x20];
        multihash.extend_from_slice(&root.unwrap_or_default());
        base58(&multihash)
    }

    fn flush_leaf(&mut self) {
        let data = std::mem::take(&mut self.chunk);
        let len = data.len() as u64;
        let mut unixfs_head = vec![0x08, 0x02];
        if !data.is_empty() {
            unixfs_head.push(0x12);
            varint(&mut unixfs_head, len);
        }
        let mut unixfs_tail = vec![0x18];
        varint(&mut unixfs_tail, len);
        let unixfs_len = (unixfs_head.len() + data.len() + unixfs_tail.len()) as u64;
        let mut head = vec![0x0a];
        varint(&mut head, unixfs_len);
        head.extend_from_slice(&unixfs_head);
        let mut hasher = Sha256::new();
        hasher.update(&head);
        hasher.update(&data);
        hasher.update(&unixfs_tail);
        let leaf = Link {
            digest: hasher.finalize().into(),
            tsize: head.len() as u64 + len + unixfs_tail.len() as u64,
            filesize: len,
        };
        self.push(0, leaf);
        self.chunk = data;
        self.chunk.clear();
    }

    /// Adds `link` at `height`, first folding a full level into its parent.
    fn push(&mut self, height: usize, link: Link) {
        if self.levels.len() <= height {
            self.levels.resize_with(height + 1, Vec::new);
        }
        if self.levels[height].len() == MAX_LINKS {
            let full = std::mem::take(&mut self.levels[height]);
            let parent = parent(&full);
            self.push(height + 1, parent);
        }
        self.levels[height].push(link);
    }
}

/// The node linking `children`, in dag-pb's canonical form.
fn parent(children: &[Link]) -> Link {
    let mut block = Vec::with_capacity(children.len() * 45 + 16);
    for child in children {
        let mut link = vec![0x0a, 0x22, 0x12, 0x20];
        link.extend_from_slice(&child.digest);
        link.extend_from_slice(&[0x12, 0x00, 0x18]);
        varint(&mut link, child.tsize);
        block.push(0x12);
        varint(&mut block, link.len() as u64);
        block.extend_from_slice(&link);
    }
    let filesize = children.iter().map(|child| child.filesize).sum();
    let mut unixfs = vec![0x08, 0x02, 0x18];
    varint(&mut unixfs, filesize);
    for child in children {
        unixfs.push(0x20);
        varint(&mut unixfs, child.filesize);
    }
    block.push(0x0a);
    varint(&mut block, unixfs.len() as u64);
    block.extend_from_slice(&unixfs);
    Link {
        digest: Sha256::digest(&block).into(),
        tsize: block.len() as u64 + children.iter().map(|child| child.tsize).sum::<u64>(),
        filesize,
    }
}

/// Appends `value` as a protobuf varint.
fn varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Base58 with Bitcoin's alphabet, as multibase `base58btc` (no prefix).
fn base58(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    // Little-endian digits in base 58.
    let mut digits: Vec<u8> = Vec::new();
    for &byte in bytes {
        let mut carry = u32::from(byte);
        for digit in &mut digits {
            carry += u32::from(*digit) << 8;
            *digit = (carry % 58) as u8;
            carry /= 58;
        }
        while carry > 0 {
            digits.push((carry % 58) as u8);
            carry /= 58;
        }
    }
    let zeros = bytes.iter().take_while(|&&byte| byte == 0).count();
    std::iter::repeat_n('1', zeros)
        .chain(
            digits
                .iter()
                .rev()
                .map(|&d| char::from(ALPHABET[usize::from(d)])),
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cid(data: &[u8], chunk_size: usize) -> String {
        let mut cid = CidV0::with_chunk_size(chunk_size);
        cid.update(data);
        cid.finish()
    }

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i % 251) as u8).collect()
    }

    #[test]
    fn the_two_well_known_values() {
        assert_eq!(
            cid(b"", CHUNK_SIZE),
            "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"
        );
        assert_eq!(
            cid(b"hello\n", CHUNK_SIZE),
            "QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN"
        );
    }

    /// Vectors from rust-unixfs 0.6.0 (`FileAdder`, CIDv0, its defaults): an
    /// implementation we did not write, checked there against go-ipfs.
    #[test]
    fn multi_chunk_files_match_rust_unixfs() {
        for (len, expected) in [
            (1, "QmS9JArPwa55ePgDnyg6TzX24mYTS1b1vLqWNebyVotKxQ"),
            (CHUNK_SIZE, "QmeqfRyS3vkku7n6krqC3DgGMex3x2sCpSeKMDmrG13QQq"),
            (
                CHUNK_SIZE + 1,
                "QmUSjGawaz4ptvREcMKSMJneWCa5j8dAz2wSAAvHtW2rnB",
            ),
            (1 << 20, "QmXgkY4miMKJBrg8YYke4xw6C2n8WNsUc1GXLhN84k4QM3"),
            (
                (3 << 20) + 5,
                "QmeS7NTF9Xn9Zy2H7GegfEnkpVW538SSmPhC1fpoHHhNTs",
            ),
        ] {
            assert_eq!(cid(&pattern(len), CHUNK_SIZE), expected, "{len} bytes");
        }
    }

    /// Tree shapes with one-byte chunks: go-ipfs 0.5's CID of a 239-byte text
    /// (a root over 174 + 65 leaves) and rust-unixfs's goldens around 174
    /// leaves and past 174², where a new level starts.
    #[test]
    fn tree_shapes_match_go_ipfs_and_rust_unixfs() {
        let lorem = b"Lorem ipsum dolor sit amet, sit enim montes aliquam. Cras non lorem, \
            rhoncus condimentum, irure et ante. Pulvinar suscipit odio ante, et tellus a enim, \
            wisi ipsum, vel rhoncus eget faucibus varius, luctus turpis nibh vel odio nulla pede.";
        assert_eq!(
            cid(lorem, 1),
            "QmRQ6NZNUs4JrCT2y7tmCC1wUhjqYuTssB8VXbbN3rMffg"
        );
        assert_eq!(
            cid(b"foobar\n", 2),
            "QmRJHYTNvC3hmd9gJQARxLR1QMEincccBV53bBw524yyq6"
        );
        assert_eq!(
            cid(&[0; 174], 1),
            "QmdgQac8c6Bo3MP5bHAg2yQ25KebFUsmkZFvyByYzf8UCB"
        );
        assert_eq!(
            cid(&[0; 349], 2),
            "QmcHNWF1d56uCDSfJPA7t9fadZRV9we5HGSTGSmwuqmMP9"
        );
        for (leaves, expected) in [
            (2, "QmTpBU2C6VXLUqBpR8ggWW8phBNR9Ca3rz5o7gD6xyPyG7"),
            (173, "QmYHm62RFqvrEHc7ZqeJsdExdXWs4WvV4B8PKaYFfzp3ja"),
            (174, "QmUSeZmRgMby21R1ooTqUddcMrme1SE5JUapFPBKY3do18"),
            (175, "Qma9U731USCLRRP5Scd9m2Y6mJ9Zf6oEYPEr5mu7L96ts8"),
            (348, "QmTfgy9uX5oyKuGm9QsU7SpmhP1HegJUaTNZwseg5VWECp"),
            (349, "QmW3rbpL6Yxa1UREkN8bFvrm8b5LiyHNUWzu5w3Rm5q8T4"),
            (
                174 * 174 + 1,
                "Qmf3YNMKeAwk6UAMdMGQFDcJmxyrESQReerPJPT9cRbEcq",
            ),
        ] {
            assert_eq!(cid(&pattern(leaves), 1), expected, "{leaves} leaves");
        }
    }

    #[test]
    fn feeding_in_pieces_changes_nothing() {
        let data = pattern(3 * 1000 + 17);
        let whole = cid(&data, 1000);
        for piece in [1, 7, 999, 1000, 1001] {
            let mut cid = CidV0::with_chunk_size(1000);
            data.chunks(piece).for_each(|part| cid.update(part));
            assert_eq!(cid.finish(), whole, "pieces of {piece}");
        }
    }

    #[test]
    fn base58_keeps_leading_zeros() {
        assert_eq!(base58(&[]), "");
        assert_eq!(base58(&[0, 0, 1]), "112");
        assert_eq!(base58(b"hello world"), "StV1DL6CwTryKyV");
    }
}
