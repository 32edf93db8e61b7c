//! The token cache of `dstor token --cache`: one JSON file per environment, endpoint, key
//! and requested lifetime, in the user's cache directory.
//!
//! - The key itself is never written: a file is named and checked by a SHA-256 fingerprint.
//! - Files are written atomically (a temporary file in the same directory, then a rename)
//!   with mode 0600, in a directory of mode 0700.
//! - A token is reused until 75% of its lifetime (`exp − iat`) has passed, counted on the
//!   local clock from when it was fetched (`fetched_at`): the refresh-ahead window of the
//!   in-process cache. Counting from `iat`, the server's clock, would reuse expired tokens
//!   on a machine whose clock is behind the server's. The token must also be unexpired by
//!   the local clock, with a margin, and a clock that went back before `fetched_at` means
//!   no reuse.
//! - A token is reused only for the lifetime it was asked with: `--expires-in 5m` never
//!   gets a cached token that lives a day.
//! - A file that cannot be read, is not ours, is too large, or is for another key, endpoint
//!   or lifetime is ignored (and replaced on the next write), never an error.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use dstor_types::{AccessToken, ApiKey, BaseUrl};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// Overrides the cache directory (tokens are stored directly in it).
pub(crate) const CACHE_DIR_VAR: &str = "DSTOR_CACHE_DIR";

/// The fraction of a token's lifetime after which it is no longer reused.
pub(crate) const REUSE_FRACTION: f64 = 0.75;

/// The most a token's expiry is anticipated when checked on the local clock: a token is
/// not reused within this many seconds (or a quarter of its lifetime, if less) of its
/// `exp`.
pub(crate) const EXPIRY_MARGIN_SECS: f64 = 5.0;

/// The format tag of a cache file. v3 added `fetched_at`: older files are ignored.
const FORMAT: &str = "dstor-cli/token-cache/v3";

/// The most bytes read from a cache file: a token and a few short fields are far less; a
/// file that is larger (or a link to a device that never ends) is not ours.
const MAX_FILE_LEN: u64 = 64 * 1024;

/// The extension of cache files (and only they are removed by [`clear`]).
const EXTENSION: &str = "token.json";

/// The cache directory: `$DSTOR_CACHE_DIR`, else `$XDG_CACHE_HOME/dstor/tokens`, else
/// `$HOME/.cache/dstor/tokens`. `None` when none of them is set.
pub(crate) fn cache_dir(get: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let set = |var: &str| get(var).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = set(CACHE_DIR_VAR) {
        return Some(dir);
    }
    let base = set("XDG_CACHE_HOME")
        .filter(|p| p.is_absolute())
        .or_else(|| set("HOME").map(|home| home.join(".cache")))
        .or_else(|| set("LOCALAPPDATA"))?;
    Some(base.join("dstor").join("tokens"))
}

/// The cache directory from the process environment.
pub(crate) fn default_dir() -> Option<PathBuf> {
    cache_dir(|var| std::env::var(var).ok())
}

/// A SHA-256 fingerprint of `key`, in hex: names the key without revealing it.
pub(crate) fn fingerprint(key: &ApiKey) -> String {
    let mut hash = Sha256::new();
    hash.update(b"dstor-cli key fingerprint v1\0");
    hash.update(key.expose_secret().as_bytes());
    hex(&hash.finalize())
}

/// Where the token for `environment` (its name), `base`, `key` and requested lifetime is
/// cached.
#[derive(Clone, Debug)]
pub(crate) struct CacheSlot {
    path: PathBuf,
    environment: String,
    endpoint: String,
    fingerprint: String,
    lifetime: String,
}

/// What is stored in a cache file.
#[derive(Serialize, Deserialize)]
struct Entry {
    format: String,
    environment: String,
    endpoint: String,
    key_fingerprint: String,
    lifetime: String,
    /// The local wall time, in Unix seconds, at which the fetch of the token began.
    fetched_at: i64,
    access_token: String,
}

impl CacheSlot {
    /// The slot in `dir` for this environment, endpoint and key, and the requested
    /// `lifetime` (any text that names it, such as `in:3600` or `at:1900000000`).
    pub(crate) fn new(
        dir: &Path,
        environment: &str,
        base: &BaseUrl,
        key: &ApiKey,
        lifetime: &str,
    ) -> Self {
        Self::with_fingerprint(dir, environment, base, fingerprint(key), lifetime)
    }

    /// The slot for a login with `email` (compared without case): named after the email,
    /// never the password.
    pub(crate) fn for_login(
        dir: &Path,
        environment: &str,
        base: &BaseUrl,
        email: &str,
        lifetime: &str,
    ) -> Self {
        let mut hash = Sha256::new();
        hash.update(b"dstor-cli login fingerprint v1\0");
        hash.update(email.trim().to_lowercase().as_bytes());
        let fingerprint = hex(&hash.finalize());
        Self::with_fingerprint(dir, environment, base, fingerprint, lifetime)
    }

    fn with_fingerprint(
        dir: &Path,
        environment: &str,
        base: &BaseUrl,
        fingerprint: String,
        lifetime: &str,
    ) -> Self {
        let mut hash = Sha256::new();
        for part in [environment, base.as_str(), fingerprint.as_str(), lifetime] {
            hash.update(part.as_bytes());
            hash.update(b"\n");
        }
        let name = format!("{environment}-{}.{EXTENSION}", &hex(&hash.finalize())[..32]);
        Self {
            path: dir.join(name),
            environment: environment.to_owned(),
            endpoint: base.as_str().to_owned(),
            fingerprint,
            lifetime: lifetime.to_owned(),
        }
    }

    /// The cached token, if there is one for this slot that is still in the first 75% of
    /// its life at `now`. Anything unreadable or foreign is treated as no token.
    pub(crate) fn load(&self, now: SystemTime) -> Option<AccessToken> {
        // A file we wrote is well under a page: with room for it up front the read takes
        // one system call (and one more to see the end) instead of a doubling series.
        let mut text = Vec::with_capacity(4096);
        std::fs::File::open(&self.path)
            .ok()?
            .take(MAX_FILE_LEN + 1)
            .read_to_end(&mut text)
            .ok()?;
        if text.len() as u64 > MAX_FILE_LEN {
            return None;
        }
        let entry: Entry = serde_json::from_slice(&text).ok()?;
        if entry.format != FORMAT
            || entry.environment != self.environment
            || entry.endpoint != self.endpoint
            || entry.key_fingerprint != self.fingerprint
            || entry.lifetime != self.lifetime
        {
            return None;
        }
        let token = AccessToken::new(entry.access_token).ok()?;
        is_reusable(&token, entry.fetched_at, now).then_some(token)
    }

    /// Stores `token`, whose fetch began at `fetched_at` on the local clock, atomically,
    /// with mode 0600.
    ///
    /// # Errors
    ///
    /// The I/O error, with the step that failed.
    pub(crate) fn store(&self, token: &AccessToken, fetched_at: SystemTime) -> Result<(), String> {
        let fetched_at = Some(crate::time::unix(fetched_at))
            .filter(|secs| *secs >= 0)
            .ok_or("cannot cache the token: the system clock is before 1970")?;
        let dir = self.path.parent().unwrap_or(Path::new("."));
        create_private_dir(dir)
            .map_err(|e| format!("cannot create the cache directory {}: {e}", dir.display()))?;
        let entry = Entry {
            format: FORMAT.to_owned(),
            environment: self.environment.clone(),
            endpoint: self.endpoint.clone(),
            key_fingerprint: self.fingerprint.clone(),
            lifetime: self.lifetime.clone(),
            fetched_at,
            access_token: token.expose_secret().to_owned(),
        };
        let json = serde_json::to_vec(&entry).map_err(|e| e.to_string())?;
        let write = || -> std::io::Result<()> {
            let mut file = tempfile::Builder::new()
                .prefix(".tmp-")
                .suffix(".partial")
                .tempfile_in(dir)?;
            set_private(file.as_file())?;
            file.write_all(&json)?;
            file.as_file().sync_all()?;
            file.persist(&self.path).map_err(|e| e.error)?;
            Ok(())
        };
        write().map_err(|e| format!("cannot write the token cache {}: {e}", self.path.display()))
    }
}

/// Whether `token`, whose fetch began at `fetched_at` (local Unix seconds), may be reused
/// at `now`, on the local clock:
///
/// - its `iat` and `exp` are known, and `exp > iat`;
/// - the clock has not gone back before `fetched_at`;
/// - less than [`REUSE_FRACTION`] of its lifetime (`exp − iat`) has passed since
///   `fetched_at`: elapsed time on one clock, whatever the skew between the local clock and
///   the server's;
/// - by the local clock, `exp` is more than [`EXPIRY_MARGIN_SECS`] (or a quarter of the
///   lifetime, if less) away.
pub(crate) fn is_reusable(token: &AccessToken, fetched_at: i64, now: SystemTime) -> bool {
    let claims = token.claims();
    let (Some(iat), Some(exp)) = (claims.iat, claims.exp) else {
        return false;
    };
    if exp <= iat {
        return false;
    }
    let Ok(now) = now.duration_since(UNIX_EPOCH) else {
        return false;
    };
    // In floating point: the claims come from the network, and `exp - iat` may overflow.
    let now = now.as_secs_f64();
    let (iat, exp, fetched_at) = (iat as f64, exp as f64, fetched_at as f64);
    if now < fetched_at {
        return false;
    }
    let lifetime = exp - iat;
    let margin = EXPIRY_MARGIN_SECS.min(lifetime * (1.0 - REUSE_FRACTION));
    now < fetched_at + lifetime * REUSE_FRACTION && now < exp - margin
}

/// Removes every cache file in `dir`; returns how many were removed.
///
/// # Errors
///
/// The I/O error, with the file or directory it concerns.
pub(crate) fn clear(dir: &Path) -> Result<usize, String> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => {
            return Err(format!(
                "cannot list the cache directory {}: {e}",
                dir.display()
            ));
        }
    };
    let mut removed = 0;
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.ends_with(EXTENSION) || name.ends_with(".partial") {
            std::fs::remove_file(entry.path())
                .map_err(|e| format!("cannot remove {}: {e}", entry.path().display()))?;
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(unix)]
fn set_private(file: &std::fs::File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn set_private(_file: &std::fs::File) -> std::io::Result<()> {
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests;
