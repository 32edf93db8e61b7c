//! Where the bytes of a part come from, read a block at a time.

use std::io::{self, Read as _};

use bytes::{Buf as _, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt as _};

use crate::blocking::blocking;

/// The source of one part's bytes.
pub(super) enum Source {
    /// Bytes in memory, handed on without a copy.
    Bytes(Bytes),
    /// A file, read on a blocking thread straight into the blocks sent. `None` while a
    /// read is out, and after a read failed or was cancelled (the body has ended then).
    File(Option<std::fs::File>),
    /// A caller's reader.
    Read(Box<dyn AsyncRead + Send + Unpin>),
}

impl Source {
    /// The next `want` bytes, fewer only where the source ends: empty at its end.
    pub(super) async fn block(&mut self, want: usize) -> io::Result<Bytes> {
        match self {
            Self::Bytes(data) => Ok(data.split_to(want.min(data.len()))),
            Self::File(slot) => {
                let mut file = slot
                    .take()
                    .ok_or_else(|| io::Error::other("a read was lost"))?;
                let (file, block) =
                    blocking(move || read_block(&mut file, want).map(|block| (file, block)))
                        .await?;
                *slot = Some(file);
                Ok(block)
            }
            Self::Read(reader) => {
                let mut block = BytesMut::with_capacity(want);
                while block.len() < want {
                    if reader.read_buf(&mut block).await? == 0 {
                        break;
                    }
                }
                Ok(block.freeze())
            }
        }
    }
}

/// Reads `want` bytes of `file` (fewer at its end) into a block whose first byte is on a
/// 64-byte boundary, whatever the global allocator: the kernel copies a file's pages into
/// such a buffer several times faster than into one that is not.
fn read_block(file: &mut std::fs::File, want: usize) -> io::Result<Bytes> {
    const LINE: usize = 64;
    let mut block = BytesMut::with_capacity(want + LINE);
    let skip = (LINE - block.as_ptr().addr() % LINE) % LINE;
    block.resize(skip + want, 0);
    block.advance(skip);
    let mut filled = 0;
    while filled < want {
        match file.read(&mut block[filled..]) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    block.truncate(filled);
    Ok(block.freeze())
}

#[cfg(test)]
mod tests {
    use std::io::{Seek as _, Write as _};

    use super::*;

    #[test]
    fn file_blocks_start_on_a_cache_line_and_hold_the_file() {
        let mut file = tempfile::tempfile().unwrap();
        let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        file.write_all(&data).unwrap();
        file.rewind().unwrap();
        let mut read = Vec::new();
        loop {
            let block = read_block(&mut file, 256 * 1024).unwrap();
            if block.is_empty() {
                break;
            }
            assert_eq!(block.as_ptr().addr() % 64, 0);
            read.extend_from_slice(&block);
        }
        assert_eq!(read, data);
    }
}
