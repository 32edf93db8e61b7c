//! `dstor get`: content read back through the gateway, verified against its CID.

use std::path::Path;

use dstor_storage::{Storage, StorageError};
use dstor_types::{Cid, Environment};

use crate::cli::GetArgs;
use crate::commands;
use crate::exit::{CliError, ExitClass};
use crate::progress::{Bar, Counted};

use super::{fetch, storage};

/// Runs `dstor get`. No key is loaded, so none can be sent, whatever the environment
/// holds.
///
/// # Errors
///
/// A classified [`CliError`]; 9 when the bytes do not have the CID (unless `--no-verify`).
pub(crate) fn run(args: &GetArgs) -> Result<(), CliError> {
    let environment = fetch::environment_of(&args.env, args.endpoint.as_deref())?;
    if !args.cid.is_v0() {
        return Err(CliError::usage(format!(
            "{} is not a CIDv0 (Qm…): dStor stores files under CIDv0 hashes, and only those can be read and verified",
            args.cid
        )));
    }
    commands::runtime()?.block_on(async {
        let storage = storage::anonymous(&environment, args.timeout)?;
        let bar = Bar::download();
        let result = match &args.output {
            Some(path) => to_file(&storage, &args.cid, path, args.no_verify, &bar).await,
            None => to_stdout(&storage, &args.cid, args.no_verify, &bar).await,
        };
        bar.finish();
        result.map_err(|e| stdout_error(&e, &environment, args.output.is_none()))
    })
}

/// Streams the content to stdout as it arrives.
async fn to_stdout(
    storage: &Storage,
    cid: &Cid,
    no_verify: bool,
    bar: &Bar,
) -> Result<(), StorageError> {
    let mut out = Counted::new(tokio::io::stdout(), bar);
    match storage.download_to_writer(cid, &mut out).await {
        Ok(_) => Ok(()),
        Err(StorageError::CidMismatch { .. }) if no_verify => Ok(()),
        Err(e) => Err(e),
    }
}

/// Writes the content to a temporary file beside `path`, renamed to `path` only once
/// verified (or at once with `no_verify`); on any failure the temporary file is removed
/// and nothing appears at `path`.
async fn to_file(
    storage: &Storage,
    cid: &Cid,
    path: &Path,
    no_verify: bool,
    bar: &Bar,
) -> Result<(), StorageError> {
    let write_error = |source| StorageError::Write {
        path: Some(path.to_owned()),
        source,
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let temp = tempfile::Builder::new()
        .prefix(".dstor-get-")
        .tempfile_in(dir)
        .map_err(write_error)?;
    let file = temp.as_file().try_clone().map_err(write_error)?;
    let mut out = Counted::new(tokio::fs::File::from_std(file), bar);
    match storage.download_to_writer(cid, &mut out).await {
        Ok(_) => {}
        Err(StorageError::CidMismatch { .. }) if no_verify => {}
        Err(StorageError::Write { source, .. }) => return Err(write_error(source)),
        Err(e) => return Err(e),
    }
    out.into_inner().sync_all().await.map_err(write_error)?;
    temp.persist(path).map_err(|e| write_error(e.error))?;
    Ok(())
}

/// As [`storage::error`], saying where the bytes went when they do not match.
fn stdout_error(error: &StorageError, environment: &Environment, to_stdout: bool) -> CliError {
    match error {
        StorageError::CidMismatch { expected, actual } if to_stdout => CliError::new(
            ExitClass::Mismatch,
            format!(
                "the gateway served bytes whose CID is {actual}, not {expected}: what was written to standard output is not that content, discard it"
            ),
        ),
        _ => storage::error(error, environment),
    }
}
