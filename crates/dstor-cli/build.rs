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
//! Rust's own `crt-static` builds link). Named here, it supplies the `_Unwind_*` symbols
//! that the binary's code refers to (rust-lld takes them from the first library that
//! defines them; GNU ld from the first one after the reference, which this is as long as
//! the binary's own code unwinds, that is, without `panic = "abort"`), and the linker's
//! `--as-needed` then drops `libgcc_s.so.1`. Panics still unwind (a test checks it), and a
//! test checks that the running binary maps no `libgcc_s`.
//!
//! The cost: GCC 12 and later, built for glibc 2.35 or later, make `libgcc_eh.a` call
//! `_dl_find_object` (glibc 2.35), so a binary built on such a system needs glibc 2.35 to
//! run, where it needed 2.34. Builds for older systems set `DSTOR_CLI_DYNAMIC_LIBGCC=1`
//! (or build on the oldest system they support, whose `libgcc_eh.a` does not call it).
//!
//! The archive is the one the C compiler would link (`-print-file-name`). Nothing changes
//! when cross-compiling, with a linker configured for the target (`RUSTC_LINKER`: it may
//! want another archive than the host compiler's), with `crt-static` (the standard library
//! links the archive itself), off Linux or glibc, with `DSTOR_CLI_DYNAMIC_LIBGCC` set, or
//! when the archive is not found (with a warning).

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rustc-check-cfg=cfg(dstor_static_libgcc)");
    for var in [
        "DSTOR_CLI_DYNAMIC_LIBGCC",
        "CC",
        "TARGET_CC",
        "RUSTC_LINKER",
    ] {
        println!("cargo::rerun-if-env-changed={var}");
    }
    if !wanted() {
        return;
    }
    match static_unwinder() {
        Ok(archive) => {
            println!("cargo::rerun-if-changed={}", archive.display());
            if let Some(dir) = archive.parent() {
                println!("cargo::rustc-link-search=native={}", dir.display());
            }
            println!("cargo::rustc-link-lib=static=gcc_eh");
            // Tells the test that checks the running binary what to expect.
            println!("cargo::rustc-cfg=dstor_static_libgcc");
        }
        Err(why) => println!(
            "cargo::warning=dstor will load libgcc_s.so at start-up (~0.15 ms a run): {why}"
        ),
    }
}

/// Whether this build should link the unwinder statically.
fn wanted() -> bool {
    let var = |name: &str| env::var(name).unwrap_or_default();
    let linux_gnu = var("CARGO_CFG_TARGET_OS") == "linux" && var("CARGO_CFG_TARGET_ENV") == "gnu";
    let native = var("TARGET") == var("HOST");
    let crt_static = var("CARGO_CFG_TARGET_FEATURE")
        .split(',')
        .any(|f| f == "crt-static");
    linux_gnu
        && native
        && !crt_static
        && env::var_os("RUSTC_LINKER").is_none()
        && env::var_os("DSTOR_CLI_DYNAMIC_LIBGCC").is_none()
}

/// The path of `libgcc_eh.a`, as the C compiler finds it.
fn static_unwinder() -> Result<PathBuf, String> {
    let target = env::var("TARGET").unwrap_or_default();
    // The variables the `cc` crate reads, most specific first; a value may hold arguments
    // (`ccache gcc`, `gcc -m64`).
    let cc = [
        format!("CC_{target}"),
        format!("CC_{}", target.replace('-', "_")),
        "TARGET_CC".to_owned(),
        "CC".to_owned(),
    ]
    .iter()
    .inspect(|name| println!("cargo::rerun-if-env-changed={name}"))
    .find_map(|name| env::var(name).ok().filter(|v| !v.trim().is_empty()))
    .unwrap_or_else(|| "cc".to_owned());
    let mut words = cc.split_whitespace();
    let program = words.next().unwrap_or("cc");
    let output = Command::new(program)
        .args(words)
        .arg("-print-file-name=libgcc_eh.a")
        .output()
        .map_err(|e| format!("cannot run `{cc}`: {e}"))?;
    if !output.status.success() {
        return Err(format!("`{cc} -print-file-name=libgcc_eh.a` failed"));
    }
    // Prints the full path when it finds the file, and the bare name when it does not.
    let path = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    if path.is_absolute() && path.is_file() {
        Ok(path)
    } else {
        Err(format!("`{cc}` knows no libgcc_eh.a"))
    }
}
