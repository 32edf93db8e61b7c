//! What every run of `dstor` pays before it does anything: the shared libraries it loads.
//! (`benches/cli.rs` measures the cost; `build.rs` explains it.)

/// With the unwinder linked statically (see `build.rs`), the running binary maps no
/// `libgcc_s.so`: loading it, and its constructor's `cpuid` instructions, cost ~0.15 ms
/// of every run.
#[cfg(all(target_os = "linux", dstor_static_libgcc))]
#[test]
fn the_running_binary_does_not_load_libgcc_s() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, mut lines) = crate::support::serve_fake(&["--port", "0"], dir.path());
    // Once it prints its address and key, every library it links is mapped. The process
    // must still be running when its maps are read: a finished one has none.
    let first = lines.next().unwrap().unwrap();
    assert!(first.contains("http://127.0.0.1:"), "{first}");
    let second = lines.next().unwrap().unwrap();
    assert!(second.starts_with("fake API key: "), "{second}");
    let maps = std::fs::read_to_string(format!("/proc/{}/maps", child.0.id())).unwrap();
    assert!(child.0.try_wait().unwrap().is_none(), "serve-fake exited");
    let libraries: Vec<&str> = maps
        .lines()
        .filter_map(|line| line.split_whitespace().nth(5))
        .filter(|path| path.contains(".so"))
        .collect();
    assert!(
        libraries.iter().any(|l| l.contains("libc.so")),
        "the maps were read: {libraries:?}"
    );
    assert!(
        !libraries.iter().any(|l| l.contains("libgcc_s")),
        "{libraries:?}"
    );
}
