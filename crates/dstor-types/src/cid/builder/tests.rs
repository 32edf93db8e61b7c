//! The calculator against values `ipfs add` is known to give and against `rust-unixfs`
//! (crates.io, 0.6.0: its `FileAdder` with CIDv0, its default 256 KiB chunker and balanced
//! collector of 174 links), an implementation we did not write.

use proptest::prelude::*;
use rust_unixfs::file::adder::{Chunker, FileAdder};

use super::*;

/// A deterministic byte stream: a table of pseudo-random bytes repeated. Its length is a
/// prime, so each 256 KiB chunk starts at another place in it and no two chunks are alike.
struct Bytes {
    table: Vec<u8>,
    position: usize,
}

impl Bytes {
    fn new() -> Self {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let table = (0..65_521)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 24) as u8
            })
            .collect();
        Self { table, position: 0 }
    }

    fn fill(&mut self, mut out: &mut [u8]) {
        while !out.is_empty() {
            let from = &self.table[self.position % self.table.len()..];
            let n = from.len().min(out.len());
            out[..n].copy_from_slice(&from[..n]);
            out = &mut out[n..];
            self.position += n;
        }
    }
}

/// Feeds `len` pseudo-random bytes, in pieces of 100,000 (not a multiple of any chunk
/// size), to our builder with `chunk`-byte chunks and to rust-unixfs's `FileAdder` with the
/// same chunks. Gives our CID, the CID of every node rust-unixfs made (in the order made,
/// the root last), and the length of each node.
fn both(len: usize, chunk: usize) -> (Cid, Vec<(String, usize)>) {
    let mut ours = CidBuilder::with_chunk_size(chunk);
    let mut theirs = FileAdder::builder()
        .with_cid_version(cid::Version::V0)
        .with_chunker(Chunker::Size(chunk))
        .build();
    let mut nodes = Vec::new();
    let mut source = Bytes::new();
    let mut piece = vec![0; 100_000];
    let mut left = len;
    while left > 0 {
        let piece = &mut piece[..left.min(100_000)];
        source.fill(piece);
        ours.update(piece);
        let mut rest = &piece[..];
        while !rest.is_empty() {
            let (blocks, taken) = theirs.push(rest);
            nodes.extend(blocks.map(|(cid, block)| (cid.to_string(), block.len())));
            rest = &rest[taken..];
        }
        left -= piece.len();
    }
    assert_eq!(ours.bytes_seen(), len as u64);
    nodes.extend(
        theirs
            .finish()
            .map(|(cid, block)| (cid.to_string(), block.len())),
    );
    (ours.finish(), nodes)
}

/// Our CID and rust-unixfs's of `len` bytes in `chunk`-byte chunks.
fn root_of_both(len: usize, chunk: usize) -> (String, String) {
    let (ours, nodes) = both(len, chunk);
    let theirs = nodes.last().map(|(cid, _)| cid.clone());
    (ours.to_string(), theirs.expect("rust-unixfs gives a root"))
}

#[test]
fn the_two_values_known_from_ipfs_add() {
    assert_eq!(
        CidBuilder::new().finish().to_string(),
        "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"
    );
    assert_eq!(
        Cid::of_bytes(b"hello\n").to_string(),
        "QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN"
    );
}

#[test]
fn one_byte() {
    let (ours, theirs) = root_of_both(1, CHUNK_SIZE);
    assert_eq!(ours, theirs);
}

#[test]
fn exactly_one_chunk_is_one_leaf() {
    let (ours, theirs) = root_of_both(CHUNK_SIZE, CHUNK_SIZE);
    assert_eq!(ours, theirs);
}

#[test]
fn one_chunk_and_one_byte_is_a_root_over_two_leaves() {
    let (ours, theirs) = root_of_both(CHUNK_SIZE + 1, CHUNK_SIZE);
    assert_eq!(ours, theirs);
}

/// One pass over 174 chunks and one byte checks both shapes: the root of exactly 174
/// chunks is the full subtree of the larger file (the first branch rust-unixfs makes, of
/// 174 links, several KiB), and one byte more makes the first second-level tree.
#[test]
fn exactly_174_chunks_fill_one_root_and_one_byte_more_starts_the_second_level() {
    let len = MAX_LINKS * CHUNK_SIZE;
    let (ours_plus_one, nodes) = both(len + 1, CHUNK_SIZE);
    let (theirs_174, _) = nodes
        .iter()
        .find(|(_, node_len)| (1024..CHUNK_SIZE).contains(node_len))
        .expect("a branch node of 174 links");
    // The full subtree, the one-byte leaf, the branch over it, and the root.
    assert_eq!(nodes.iter().filter(|(_, l)| *l < CHUNK_SIZE).count(), 4);
    assert_eq!(nodes.len(), MAX_LINKS + 4);
    let mut ours_174 = CidBuilder::new();
    let mut source = Bytes::new();
    let mut piece = vec![0; 100_000];
    let mut left = len;
    while left > 0 {
        let piece = &mut piece[..left.min(100_000)];
        source.fill(piece);
        ours_174.update(piece);
        left -= piece.len();
    }
    assert_eq!(ours_174.finish().to_string(), *theirs_174);
    assert_eq!(ours_plus_one.to_string(), nodes.last().unwrap().0);
}

/// With one-byte chunks the shapes around a full level cost little. (The third level, 174²
/// + 1 leaves, is checked against rust-unixfs's pinned value below.)
#[test]
fn deeper_trees_match_with_small_chunks() {
    for len in [2, 173, 174, 175, 348, 349] {
        let (ours, theirs) = root_of_both(len, 1);
        assert_eq!(ours, theirs, "{len} one-byte chunks");
    }
}

/// Values rust-unixfs's own tests pin (its `balanced_layout_goldens`): `n` one-byte chunks of
/// the bytes `i % 251`.
#[test]
fn rust_unixfs_goldens() {
    for (n, root) in [
        (1, "QmS9JArPwa55ePgDnyg6TzX24mYTS1b1vLqWNebyVotKxQ"),
        (174, "QmUSeZmRgMby21R1ooTqUddcMrme1SE5JUapFPBKY3do18"),
        (175, "Qma9U731USCLRRP5Scd9m2Y6mJ9Zf6oEYPEr5mu7L96ts8"),
        (30_277, "Qmf3YNMKeAwk6UAMdMGQFDcJmxyrESQReerPJPT9cRbEcq"),
    ] {
        let content: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
        let mut builder = CidBuilder::with_chunk_size(1);
        builder.update(&content);
        assert_eq!(builder.finish().to_string(), root, "{n} leaves");
    }
}

#[test]
fn debug_shows_progress_only() {
    let mut builder = CidBuilder::new();
    builder.update(b"secret bytes");
    let debug = format!("{builder:?}");
    assert!(debug.contains("bytes_seen: 12"), "{debug}");
    assert!(!debug.contains("secret"), "{debug}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// How the bytes are split across `update` calls never changes the CID; with 7-byte
    /// chunks a few hundred bytes already make trees of two and three levels.
    #[test]
    fn split_points_do_not_change_the_cid(
        data in proptest::collection::vec(any::<u8>(), 0..3_000),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        let mut whole = CidBuilder::with_chunk_size(7);
        whole.update(&data);
        let whole = whole.finish();

        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(data.len() + 1)).collect();
        cuts.sort_unstable();
        let mut pieces = CidBuilder::with_chunk_size(7);
        let mut start = 0;
        for cut in cuts.into_iter().chain([data.len()]) {
            pieces.update(&data[start..cut]);
            start = cut;
        }
        prop_assert_eq!(pieces.bytes_seen(), data.len() as u64);
        prop_assert_eq!(pieces.finish(), whole);
    }

    /// Small files of any content match rust-unixfs at kubo's chunk size.
    #[test]
    fn small_files_match_rust_unixfs(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut theirs = FileAdder::builder().with_cid_version(cid::Version::V0).build();
        let (_, taken) = theirs.push(&data);
        prop_assert_eq!(taken, data.len());
        let theirs = theirs.finish().last().map(|(cid, _)| cid.to_string());
        prop_assert_eq!(Some(Cid::of_bytes(&data).to_string()), theirs);
    }
}
