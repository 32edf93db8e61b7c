//! `dstor upload`: files stored under one upload token, one line per file.

use std::path::{Path, PathBuf};

use dstor_auth::TokenLifetime;
use dstor_storage::{Upload, UploadReport};
use dstor_types::BaseUrl;

use crate::cli::UploadArgs;
use crate::exit::{CliError, ExitClass};
use crate::output::outln;
use crate::progress::Bar;
use crate::{commands, key};

use super::{fetch, storage};

/// Runs `dstor upload`.
///
/// # Errors
///
/// A classified [`CliError`]: bad input before any request, a rejected key (4), dStor's
/// `ERROR` (8), a file stored under another CID (9, after every line is printed).
pub(crate) fn run(args: &UploadArgs) -> Result<(), CliError> {
    let environment = fetch::environment(&args.connection.target)?;
    let files = collect(&args.paths, args.recursive)?;
    let key = key::load(&args.connection)?;
    let total = files.iter().map(|f| f.len).sum();
    let count = files.len();
    let mut upload = Upload::new()
        .files_per_chunk(args.files_per_chunk)
        .folder_path(args.folder_path.clone());
    if let Some(comment) = &args.comment {
        upload = upload.comment(comment.clone());
    }
    for file in files {
        upload = upload.file_as(file.path, file.name);
    }
    let report = commands::runtime()?.block_on(async {
        let timeout = args.connection.timeout;
        let client = fetch::client(&environment, key, TokenLifetime::default(), timeout, None)?;
        let storage = storage::authorized(&client, timeout, args.wait_timeout)?;
        let bar = Bar::upload(total);
        let result = storage.upload(bar.follow(upload, count)).await;
        bar.finish();
        result.map_err(|e| storage::error(&e, &environment))
    })?;
    print(&report, &environment.base_url(), args.json)?;
    if report.all_verified() {
        return Ok(());
    }
    let error = report
        .into_verified()
        .err()
        .map_or_else(|| "a file was not verified".to_owned(), |e| e.to_string());
    Err(CliError::new(ExitClass::Mismatch, error))
}

/// A file to upload: where it is, the name it is stored under, its length.
#[derive(Debug)]
struct File {
    path: PathBuf,
    name: String,
    len: u64,
}

/// The files named by `paths`, in order: a file under its base name; with `recursive`,
/// each file under a directory under its path relative to it (sorted, `/`-separated).
fn collect(paths: &[PathBuf], recursive: bool) -> Result<Vec<File>, CliError> {
    let mut files = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| unreadable(path, &e))?;
        if meta.is_dir() {
            if !recursive {
                return Err(CliError::config(format!(
                    "{} is a directory: pass --recursive to upload the files under it",
                    quoted(path)
                )));
            }
            walk(path, "", &mut files)?;
        } else {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .ok_or_else(|| not_utf8(path))?;
            files.push(File {
                path: path.clone(),
                name: name.to_owned(),
                len: meta.len(),
            });
        }
    }
    Ok(files)
}

/// Adds the files under `dir` to `files`, named `prefix` + their relative path. A
/// symbolic link is added as a file (a link to a directory is then refused by the upload),
/// so that a loop of links cannot make the walk endless.
fn walk(dir: &Path, prefix: &str, files: &mut Vec<File>) -> Result<(), CliError> {
    let mut entries = std::fs::read_dir(dir)
        .and_then(|entries| entries.collect::<Result<Vec<_>, _>>())
        .map_err(|e| unreadable(dir, &e))?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        let leaf = entry.file_name();
        let leaf = leaf.to_str().ok_or_else(|| not_utf8(&path))?;
        let name = format!("{prefix}{leaf}");
        let kind = entry.file_type().map_err(|e| unreadable(&path, &e))?;
        if kind.is_dir() {
            walk(&path, &format!("{name}/"), files)?;
        } else {
            let len = std::fs::metadata(&path).map_or(0, |m| m.len());
            files.push(File { path, name, len });
        }
    }
    Ok(())
}

fn quoted(path: &Path) -> String {
    format!("{:?}", path.display().to_string())
}

fn unreadable(path: &Path, error: &std::io::Error) -> CliError {
    let fix = match error.kind() {
        std::io::ErrorKind::NotFound => "check the path",
        _ => "check its permissions",
    };
    CliError::config(format!(
        "cannot read {}: {}: {fix}; nothing was uploaded",
        quoted(path),
        key::io_reason(error)
    ))
}

fn not_utf8(path: &Path) -> CliError {
    CliError::config(format!(
        "the name of {} is not UTF-8, which dStor cannot store: rename it",
        quoted(path)
    ))
}

/// Prints `<cid>  <name>` per file (the CID dStor stored, else the local one), or the
/// JSON document of `--json`.
fn print(report: &UploadReport, base: &BaseUrl, json: bool) -> Result<(), CliError> {
    if !json {
        for file in &report.files {
            let cid = file.stored_cid.as_ref().unwrap_or(&file.local_cid);
            outln!("{cid}  {}", file.name)?;
        }
        return Ok(());
    }
    let files: Vec<serde_json::Value> = report
        .files
        .iter()
        .map(|file| {
            let cid = file.stored_cid.as_ref().unwrap_or(&file.local_cid);
            serde_json::json!({
                "name": file.name,
                "cid": cid.to_string(),
                "size": file.len,
                "url": cid.gateway_url(base).ok().map(|u| u.to_string()),
                "verified": file.verified,
            })
        })
        .collect();
    let document = serde_json::json!({ "files": files });
    let text = serde_json::to_string_pretty(&document)
        .map_err(|e| CliError::internal(format!("cannot write JSON: {e}")))?;
    outln!("{text}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_is_walked_in_order_with_relative_names() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("b.txt"), "bb").unwrap();
        std::fs::write(dir.path().join("a.txt"), "a").unwrap();
        std::fs::write(dir.path().join("sub/c.txt"), "ccc").unwrap();
        let refused = collect(&[dir.path().to_owned()], false).unwrap_err();
        assert!(refused.to_string().contains("--recursive"), "{refused}");
        let files = collect(&[dir.path().to_owned()], true).unwrap();
        let names: Vec<(&str, u64)> = files.iter().map(|f| (f.name.as_str(), f.len)).collect();
        assert_eq!(names, [("a.txt", 1), ("b.txt", 2), ("sub/c.txt", 3)]);
        let missing = collect(&[dir.path().join("nope")], true).unwrap_err();
        assert_eq!(missing.class(), ExitClass::Config);
        assert!(missing.to_string().contains("nope"), "{missing}");
    }
}
