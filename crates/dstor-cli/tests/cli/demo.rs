//! `dstor demo`: the main job on a machine with no account.

use std::io::{BufRead as _, BufReader};
use std::process::Stdio;

use crate::support::{Reaped, assert_no_panic, dstor, run};

#[tokio::test]
async fn demo_shows_the_cache_and_the_storage_flow_at_work() {
    let cache = tempfile::tempdir().unwrap();
    let out = run(dstor(&["demo"], cache.path()), None).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stderr, "", "{out:?}");
    let stdout = &out.stdout;
    for wanted in [
        "requests to the service: 1\n",
        "served from the cache with no request (requests to the service: 1, cache fetches: 1)",
        "a new token (requests to the service: 2, cache fetches: 2)",
        "WITHOUT verifying",
        "then the status polled: ADDING_TO_IPFS -> SAVING_DATA -> DONE\n",
        "and the CID computed here from the same bytes is the same: verified.",
        "redirect(s) to the storage node at http://127.0.0.1:",
        "no credential sent): 65536 bytes, CID verified.",
        "requests to the token service: 2.",
        "Done.",
    ] {
        assert!(stdout.contains(wanted), "{wanted:?} missing:\n{stdout}");
    }
    // A one-hour token, shown just after it was fetched.
    assert!(
        stdout.contains("(in 59 minutes)\n") || stdout.contains("(in 1 hour)\n"),
        "{stdout}"
    );
    // The demo's steps come in order.
    let steps: Vec<usize> = ["1. ", "2. ", "3. ", "4. ", "5. ", "6. ", "7. ", "8. "]
        .iter()
        .map(|step| stdout.find(step).unwrap())
        .collect();
    assert!(steps.windows(2).all(|w| w[0] < w[1]), "{stdout}");
    // No file is written in the user's cache directory.
    assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn a_closed_stdout_is_an_error_not_a_panic() {
    let cache = tempfile::tempdir().unwrap();
    let mut child = Reaped(
        dstor(&["demo"], cache.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    // Read the first line, then close the pipe: the demo's later lines (after its
    // one-second forced refresh) find no reader.
    let mut stdout = BufReader::new(child.0.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    drop(stdout);
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.0.stderr.take().unwrap(), &mut stderr).unwrap();
    let status = child.0.wait().unwrap();
    let out = crate::support::Run {
        code: status.code().unwrap_or(-1),
        stdout: first,
        stderr,
    };
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("cannot write to standard output"),
        "{out:?}"
    );
    assert_eq!(out.stderr.lines().count(), 1, "{out:?}");
    assert_no_panic(&out);
}
