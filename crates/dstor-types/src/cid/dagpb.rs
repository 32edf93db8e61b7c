//! The protobuf bytes of UnixFS file nodes inside dag-pb, exactly as `ipfs add` writes them.
//!
//! Written by hand: a file DAG uses two fixed message shapes (a leaf, a branch of links),
//! and the framing of a leaf must be emitted around data the caller still holds, without
//! copying it into a message. A general protobuf crate would do neither.
//!
//! The shapes (field numbers of `merkledag.proto` and `unixfs.proto`):
//!
//! ```text
//! leaf   = PBNode { Data(1): UnixFS { Type(1): File, Data(2): bytes (if any), filesize(3) } }
//! branch = PBNode { Links(2): [PBLink { Hash(1): multihash, Name(2): "", Tsize(3) }]…,
//!                   Data(1): UnixFS { Type(1): File, filesize(3), blocksizes(4)… } }
//! ```
//!
//! dag-pb writes `Links` before `Data`, and kubo writes the empty `Name` of every link.

/// UnixFS `Type` = `File`, as field 1.
const TYPE_FILE: [u8; 2] = [0x08, 0x02];
/// Protobuf keys: (field number << 3) | wire type.
const KEY_NODE_DATA: u8 = 0x0a; // PBNode.Data, bytes
const KEY_NODE_LINK: u8 = 0x12; // PBNode.Links, bytes
const KEY_LINK_HASH: u8 = 0x0a; // PBLink.Hash, bytes
const KEY_LINK_NAME: u8 = 0x12; // PBLink.Name, string
const KEY_LINK_TSIZE: u8 = 0x18; // PBLink.Tsize, varint
const KEY_FS_DATA: u8 = 0x12; // UnixFS.Data, bytes
const KEY_FS_FILESIZE: u8 = 0x18; // UnixFS.filesize, varint
const KEY_FS_BLOCKSIZE: u8 = 0x20; // UnixFS.blocksizes, varint (not packed)

/// The multihash of a sha2-256 digest, as a CIDv0 link holds it.
const MULTIHASH_SHA2_256: [u8; 2] = [0x12, 0x20];

/// How many bytes the varint of `value` takes.
pub(super) fn varint_len(value: u64) -> usize {
    // One byte per started group of 7 bits; zero takes one byte.
    (64 - (value | 1).leading_zeros() as usize).div_ceil(7)
}

/// Appends the varint of `value`.
pub(super) fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// The bytes of a leaf node before and after its data, and the node's length.
#[derive(Debug)]
pub(super) struct LeafFrame {
    /// Everything before the data.
    pub head: Vec<u8>,
    /// Everything after the data.
    pub tail: Vec<u8>,
    /// The length of the whole node: head, data and tail.
    pub node_len: u64,
}

/// The frame of a leaf that holds `data_len` bytes of the file.
pub(super) fn leaf_frame(data_len: u64) -> LeafFrame {
    let data_field = if data_len == 0 {
        0
    } else {
        1 + varint_len(data_len) as u64 + data_len
    };
    let unixfs_len = TYPE_FILE.len() as u64 + data_field + 1 + varint_len(data_len) as u64;
    let mut head = Vec::with_capacity(16);
    head.push(KEY_NODE_DATA);
    put_varint(&mut head, unixfs_len);
    head.extend_from_slice(&TYPE_FILE);
    if data_len > 0 {
        head.push(KEY_FS_DATA);
        put_varint(&mut head, data_len);
    }
    let mut tail = Vec::with_capacity(11);
    tail.push(KEY_FS_FILESIZE);
    put_varint(&mut tail, data_len);
    let node_len = 1 + varint_len(unixfs_len) as u64 + unixfs_len;
    LeafFrame {
        head,
        tail,
        node_len,
    }
}

/// A link from a branch to a child node.
#[derive(Clone, Copy, Debug)]
pub(super) struct Link {
    /// The sha2-256 digest of the child node.
    pub digest: [u8; 32],
    /// The bytes of the child node and of everything below it (dag-pb `Tsize`).
    pub tsize: u64,
    /// The bytes of the file below the child (UnixFS `blocksizes`).
    pub filesize: u64,
}

/// Writes the branch node over `links` into `out` (cleared first).
pub(super) fn encode_branch(out: &mut Vec<u8>, links: &[Link]) {
    out.clear();
    for link in links {
        let link_len = 2 + 34 + 2 + 1 + varint_len(link.tsize) as u64;
        out.push(KEY_NODE_LINK);
        put_varint(out, link_len);
        out.extend_from_slice(&[KEY_LINK_HASH, 34]);
        out.extend_from_slice(&MULTIHASH_SHA2_256);
        out.extend_from_slice(&link.digest);
        out.extend_from_slice(&[KEY_LINK_NAME, 0]);
        out.push(KEY_LINK_TSIZE);
        put_varint(out, link.tsize);
    }
    let filesize = links
        .iter()
        .fold(0u64, |sum, link| sum.saturating_add(link.filesize));
    let unixfs_len = TYPE_FILE.len()
        + 1
        + varint_len(filesize)
        + links
            .iter()
            .map(|link| 1 + varint_len(link.filesize))
            .sum::<usize>();
    out.push(KEY_NODE_DATA);
    put_varint(out, unixfs_len as u64);
    out.extend_from_slice(&TYPE_FILE);
    out.push(KEY_FS_FILESIZE);
    put_varint(out, filesize);
    for link in links {
        out.push(KEY_FS_BLOCKSIZE);
        put_varint(out, link.filesize);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_match_their_length() {
        for value in [0, 1, 127, 128, 16_383, 16_384, 262_144, u64::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, value);
            assert_eq!(out.len(), varint_len(value), "{value}");
        }
        let mut out = Vec::new();
        put_varint(&mut out, 300);
        assert_eq!(out, [0xac, 0x02]);
    }

    #[test]
    fn the_empty_leaf_has_no_data_field() {
        let frame = leaf_frame(0);
        assert_eq!(frame.head, [0x0a, 0x04, 0x08, 0x02]);
        assert_eq!(frame.tail, [0x18, 0x00]);
        assert_eq!(frame.node_len, 6);
    }

    #[test]
    fn a_leaf_frames_its_data() {
        let frame = leaf_frame(6);
        assert_eq!(frame.head, [0x0a, 0x0c, 0x08, 0x02, 0x12, 0x06]);
        assert_eq!(frame.tail, [0x18, 0x06]);
        assert_eq!(frame.node_len, 14);
    }
}
