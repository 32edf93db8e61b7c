//! `dstor inspect`.

use crate::support::{DOCS_TOKEN, assert_no_panic, dstor, run};

#[tokio::test]
async fn inspect_decodes_the_docs_token_without_printing_it() {
    let cache = tempfile::tempdir().unwrap();
    let by_arg = run(dstor(&["inspect", DOCS_TOKEN], cache.path()), None).await;
    let by_stdin = run(dstor(&["inspect", "-"], cache.path()), Some(DOCS_TOKEN)).await;
    let by_default = run(
        dstor(&["inspect"], cache.path()),
        Some(&format!("  {DOCS_TOKEN}\n")),
    )
    .await;
    for out in [&by_arg, &by_stdin, &by_default] {
        assert_eq!(out.code, 0, "{out:?}");
        assert!(out.stdout.contains("b2e27817-0439-45bd-8a3d-5c596185bd05"));
        assert!(out.stdout.contains("2021-09-28T01:27:17Z"), "{out:?}");
        assert!(out.stdout.contains("expired") && out.stdout.contains("ago"));
        assert!(out.stdout.contains("WITHOUT verifying"));
        assert!(out.stdout.contains("lifetime:   1 hour\n"), "{out:?}");
        assert!(!out.stdout.contains("PyKa8sIL"));
        assert_eq!(out.stderr, "");
    }
    assert_eq!(by_arg.stdout, by_stdin.stdout);
}

#[tokio::test]
async fn bad_tokens_are_input_errors() {
    let cache = tempfile::tempdir().unwrap();
    let junk = run(dstor(&["inspect", "not-a-token"], cache.path()), None).await;
    assert_eq!(junk.code, 3, "{junk:?}");
    assert!(junk.stderr.contains("not a JWT"), "{junk:?}");
    assert!(!junk.stderr.contains("not-a-token"), "{junk:?}");
    let empty = run(dstor(&["inspect", "-"], cache.path()), Some("")).await;
    assert_eq!(empty.code, 3, "{empty:?}");
    assert!(empty.stderr.contains("no token given"), "{empty:?}");
    let garbage = run(
        dstor(&["inspect", "-"], cache.path()),
        Some(&"x.".repeat(100_000)),
    )
    .await;
    assert_eq!(garbage.code, 3, "{garbage:?}");
    assert_eq!(garbage.stderr.lines().count(), 1, "{garbage:?}");
    for out in [&junk, &empty, &garbage] {
        assert_no_panic(out);
    }
}
