//! What the machine's memory does to the storage benchmarks' runs: a warning when it is
//! short, a note when the machine hands freed pages back to its host, and the pages each
//! run gets warmed first.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Multiples of the file that the benchmarks need free: the file, the fake's copy and the
/// download in the page cache, and twice the file warmed before each run.
const NEEDED: u64 = 6;

/// How much memory each timed run of `cargo bench` starts by using and freeing: twice the
/// file (set by [`warm_before_each_run`]; 0, nothing, in a smoke test).
static WARM_BYTES: AtomicUsize = AtomicUsize::new(0);

/// Makes each later timed run start by warming twice `mib` MiB (see [`warm_free_pages`]).
pub(super) fn warm_before_each_run(mib: u64) {
    let bytes = usize::try_from(mib.saturating_mul(2 << 20)).unwrap_or(usize::MAX);
    WARM_BYTES.store(bytes, Ordering::Relaxed);
}

/// Uses and frees [`WARM_BYTES`] of memory, a write to each page, so that the pages a run
/// gets next are backed by the host (see [`note_page_reporting`]).
pub(super) fn warm_free_pages() {
    let bytes = WARM_BYTES.load(Ordering::Relaxed);
    if bytes == 0 {
        return;
    }
    let mut memory = vec![0u8; bytes];
    for page in memory.chunks_mut(4096) {
        page[0] = 1;
    }
    std::hint::black_box(&memory);
}

/// Warns when the page cache cannot hold what a run writes (the file, the fake's copy, the
/// download) beside the memory warmed before each run, without reclaiming memory: the
/// figures then say more of the machine than of the commands.
pub(super) fn warn_if_short(mib: u64) {
    let available = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        });
    if let Some(kib) = available.filter(|kib| kib / 1024 < NEEDED * mib) {
        println!(
            "warning: {} MiB of memory available, under the {} MiB the page cache needs here: \
             writes will wait for reclaim, and the figures will say so",
            kib / 1024,
            NEEDED * mib
        );
    }
}

/// Says when the machine hands freed memory back to its hypervisor (free page reporting, on
/// some cloud VMs): a page reused after that faults on the host, which was measured here at
/// 0.4 to 2.6 s of system time per GiB of a new file (0.2 s when a file is rewritten in
/// place). A run that writes a file pays it as much as the pages it gets were handed back,
/// so each timed run starts just after as many pages as it can write were used and freed
/// (the kernel hands out pages it has not reported first). Measured here:
/// `dstor get` of 1 GiB took 0.90 to 1.06 s in six runs so prepared, 1.0 to 3.8 s without.
///
/// Only kernels that count what they reported (this project's VMs) expose `reported_kib`;
/// elsewhere the note stays silent, whether or not the machine reports free pages.
pub(super) fn note_page_reporting() {
    let reported = std::fs::read_to_string("/sys/module/page_reporting/parameters/reported_kib");
    if reported.is_ok_and(|kib| kib.trim() != "0") {
        println!(
            "note: this machine reports free memory to its hypervisor; a file written into \
             reported pages costs up to seconds of system time more per GiB, on any run"
        );
    }
}
