//! `dstor get`: content read back through the gateway, verified against its CID.

use dstor_storage::{Download, Storage, StorageError};
use dstor_types::{Cid, Environment};

use crate::cli::GetArgs;
use crate::commands;
use crate::exit::{CliError, ExitClass};
use crate::progress::Bar;

use super::{fetch, storage};

/// Runs `dstor get`. No key is loaded, so none can be sent, whatever the environment
/// holds.
///
/// # Errors
///
/// A classified [`CliError`]; 9 when the bytes do not have the CID (unless `--no-verify`).
pub(crate) fn run(args: &GetArgs) -> Result<(), CliError> {
    let environment = fetch::environment(&args.target)?;
    if !args.cid.is_v0() {
        return Err(CliError::usage(format!(
            "{} is not a CIDv0 (Qm…): dStor stores files under CIDv0 hashes, and only those can be read and verified",
            args.cid
        )));
    }
    commands::runtime()?.block_on(async {
        let storage = storage::anonymous(&environment, args.timeout)?;
        let bar = Bar::download();
        let options = bar.follow_download(Download::new().verify(!args.no_verify));
        // With -o, the library writes beside the target and renames only once verified.
        let result = match &args.output {
            Some(path) => storage
                .download_to_file_with(&args.cid, path, &options)
                .await
                .map(drop),
            None => to_stdout(&storage, &args.cid, &options).await,
        };
        bar.finish();
        result.map_err(|e| stdout_error(&e, &environment, args.output.is_none()))
    })
}

/// Streams the content to stdout as it arrives.
async fn to_stdout(storage: &Storage, cid: &Cid, options: &Download) -> Result<(), StorageError> {
    let mut out = tokio::io::stdout();
    storage
        .download_to_writer_with(cid, &mut out, options)
        .await
        .map(drop)
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
