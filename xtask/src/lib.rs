//! What `cargo xtask` knows about this workspace, shared with the tests that check it.
//!
//! The layering rules live here, in the package that enforces them; the integration tests
//! (package `dstor-tests`) check the same rules through this library.
//!
//! ```no_run
//! for rule in xtask::layering::LAYERING {
//!     rule.check().expect("the layering contract holds");
//! }
//! ```
#![deny(missing_docs)]

use std::ffi::OsString;
use std::path::{Path, PathBuf};

pub mod layering;

/// The cargo that runs us (`$CARGO`), else `cargo` from the `PATH`.
pub fn cargo() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// The workspace root: the parent of this package's directory.
pub fn root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}
