//! Links the unwinder statically on Linux with glibc, so that `dstor` does not load
//! `libgcc_s.so.1` at run time.
//!
//! Rust's standard library takes its unwinder (`_Unwind_*`) from `libgcc_s.so.1` on
//! `*-linux-gnu`. Loading that library costs every run of `dstor`: one more object to map
//! and relocate, and its load-time constructor (`__cpu_indicator_init`) executes a dozen
//! `cpuid` instructions, each of which traps to the hypervisor on a virtual machine (about
//! 4 µs each on the machine where this was measured). Together that is about 0.15 ms of a
//! 1.1 ms `dstor token --cache` run (see `benches/cli.rs`).
//!
//! `libgcc_eh.a` is the same unwinder as a static archive (it is what `-static-libgcc` and
//! Rust's own `crt-static` builds link). Named here, it comes before the standard library's
//! `-lgcc_s` on the link line, so it supplies every `_Unwind_*` symbol and the linker's
//! `--as-needed` drops `libgcc_s.so.1`. Panics still unwind (a test checks it).
//!
//! The archive is looked up with the C compiler's `-print-file-name`; when it is not found,
//! or when cross-compiling, or with `DSTOR_CLI_DYNAMIC_LIBGCC` set, nothing changes.

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=DSTOR_CLI_DYNAMIC_LIBGCC");
    println!("cargo::rerun-if-env-changed=CC");
    println!("cargo::rustc-check-cfg=cfg(dstor_static_libgcc)");
    if let Some(dir) = static_unwinder_dir() {
        println!("cargo::rustc-link-search=native={}", dir.display());
        println!("cargo::rustc-link-lib=static=gcc_eh");
        // Lets the test that checks the running binary know what to expect.
        println!("cargo::rustc-cfg=dstor_static_libgcc");
    }
}

/// The directory that holds `libgcc_eh.a`, when it should be linked.
fn static_unwinder_dir() -> Option<PathBuf> {
    let var = |name: &str| env::var(name).unwrap_or_default();
    let linux_gnu = var("CARGO_CFG_TARGET_OS") == "linux" && var("CARGO_CFG_TARGET_ENV") == "gnu";
    let native = var("TARGET") == var("HOST");
    // With crt-static the standard library links libgcc_eh itself.
    let crt_static = var("CARGO_CFG_TARGET_FEATURE")
        .split(',')
        .any(|f| f == "crt-static");
    if !linux_gnu || !native || crt_static || env::var_os("DSTOR_CLI_DYNAMIC_LIBGCC").is_some() {
        return None;
    }
    let cc = env::var("CC").unwrap_or_else(|_| "cc".to_owned());
    let output = Command::new(cc)
        .arg("-print-file-name=libgcc_eh.a")
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    // Prints the full path when it finds the file, and the bare name when it does not.
    let path = PathBuf::from(String::from_utf8(output.stdout).ok()?.trim());
    if !path.is_absolute() || !path.is_file() {
        return None;
    }
    path.parent().map(PathBuf::from)
}
