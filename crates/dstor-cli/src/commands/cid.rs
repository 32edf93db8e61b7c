//! `dstor cid`: the CID of each file, computed locally.

use std::io::Read;
use std::path::Path;

use dstor_types::{Cid, CidBuilder};

use crate::cli::CidArgs;
use crate::exit::CliError;
use crate::key::io_reason;
use crate::output::{errln, outln};

/// The size of each read: large enough for the hash to run at full speed, small enough
/// that memory stays bounded whatever the file's size.
const BLOCK: usize = 1 << 20;

/// Prints `<cid>  <path>` for each path, in order (`-` is standard input). A file that
/// cannot be read is named on stderr and the others are still done.
///
/// # Errors
///
/// A config-class error when any file could not be read, after the others were printed.
pub(crate) fn run(args: &CidArgs) -> Result<(), CliError> {
    let mut buffer = vec![0; BLOCK];
    let mut failed = 0usize;
    for path in &args.paths {
        let cid = if path.as_os_str() == "-" {
            of_reader(std::io::stdin().lock(), &mut buffer)
        } else {
            of_file(path, &mut buffer)
        };
        match cid {
            Ok(cid) => outln!("{cid}  {}", path.display())?,
            Err(e) => {
                failed += 1;
                errln!(
                    "dstor: error: cannot read {}: {}",
                    shown(path),
                    io_reason(&e)
                );
            }
        }
    }
    match failed {
        0 => Ok(()),
        n => Err(CliError::config(format!(
            "{n} of {} file(s) could not be read: check the paths and their permissions",
            args.paths.len()
        ))),
    }
}

/// How a path is named in an error.
fn shown(path: &Path) -> String {
    if path.as_os_str() == "-" {
        "standard input".to_owned()
    } else {
        format!("{:?}", path.display().to_string())
    }
}

/// The CID of the file at `path`; a directory is an error.
fn of_file(path: &Path, buffer: &mut [u8]) -> std::io::Result<Cid> {
    let file = std::fs::File::open(path)?;
    if file.metadata()?.is_dir() {
        return Err(std::io::Error::other(
            "it is a directory: give the path of a file",
        ));
    }
    of_reader(file, buffer)
}

/// The CID of everything `reader` yields, read one block at a time.
pub(crate) fn of_reader(mut reader: impl Read, buffer: &mut [u8]) -> std::io::Result<Cid> {
    let mut builder = CidBuilder::new();
    loop {
        match reader.read(buffer) {
            Ok(0) => return Ok(builder.finish()),
            Ok(n) => builder.update(&buffer[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reader_read_in_small_blocks_has_the_cid_of_its_bytes() {
        let data: Vec<u8> = (0..600_000u32).map(|i| (i % 251) as u8).collect();
        let mut small = vec![0; 4096];
        let cid = of_reader(&data[..], &mut small).unwrap();
        assert_eq!(cid, Cid::of_bytes(&data));
        let mut none = vec![0; 7];
        assert_eq!(
            of_reader(&b""[..], &mut none).unwrap().to_string(),
            "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"
        );
    }
}
