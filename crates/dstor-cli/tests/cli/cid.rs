//! `dstor cid`: the CIDs `ipfs add` gives, with no network and no key.

use crate::support::{EMPTY_CID, HELLO_CID, assert_no_panic, bare, files, path, run};

#[tokio::test]
async fn cids_of_files_and_stdin_match_ipfs_add() {
    let dir = files(&[("hello.txt", b"hello\n"), ("empty", b"")]);
    let hello = path(&dir, "hello.txt");
    let empty = path(&dir, "empty");
    // No endpoint, no key: nothing is needed, nothing is sent.
    let out = run(bare(&["cid", &hello, &empty, "-"]), Some("hello\n")).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.stdout,
        format!("{HELLO_CID}  {hello}\n{EMPTY_CID}  {empty}\n{HELLO_CID}  -\n")
    );
    assert_eq!(out.stderr, "");
}

#[tokio::test]
async fn a_file_that_cannot_be_read_is_named_and_the_others_are_done() {
    let dir = files(&[("hello.txt", b"hello\n")]);
    let missing = path(&dir, "missing.txt");
    let hello = path(&dir, "hello.txt");
    let out = run(bare(&["cid", &missing, &hello, &path(&dir, "")]), None).await;
    assert_eq!(out.code, 3, "{out:?}");
    assert_eq!(out.stdout, format!("{HELLO_CID}  {hello}\n"));
    assert!(out.stderr.contains("missing.txt") && out.stderr.contains("no such file"));
    assert!(out.stderr.contains("is a directory"), "{out:?}");
    assert!(out.stderr.contains("2 of 3 file(s)"), "{out:?}");
    assert_no_panic(&out);
}
