//! The CID calculator against its floor, one plain sha2-256 pass over the same bytes, in the
//! same run: `cargo bench -p dstor-types --bench cid`. `DSTOR_BENCH_MIB` sets the size of
//! the buffer (default 256 MiB). Each figure is the best of three rounds.

#![allow(clippy::print_stdout, reason = "a benchmark prints its figures")]

use std::hint::black_box;
use std::time::{Duration, Instant};

use dstor_types::{CHUNK_SIZE, CidBuilder};
use sha2::{Digest, Sha256};

fn main() {
    let mib: usize = std::env::var("DSTOR_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let mut data = vec![0u8; mib << 20];
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for word in data.chunks_mut(8) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        word.copy_from_slice(&state.to_le_bytes()[..word.len()]);
    }

    let sha = best(|| {
        black_box(Sha256::digest(black_box(&data)));
    });
    let whole = best(|| {
        let mut builder = CidBuilder::new();
        builder.update(black_box(&data));
        black_box(builder.finish());
    });
    let chunked = best(|| {
        let mut builder = CidBuilder::new();
        for piece in data.chunks(CHUNK_SIZE) {
            builder.update(black_box(piece));
        }
        black_box(builder.finish());
    });
    let small = best(|| {
        let mut builder = CidBuilder::new();
        for piece in data.chunks(64 * 1024 + 7) {
            builder.update(black_box(piece));
        }
        black_box(builder.finish());
    });

    let rate = |d: Duration| data.len() as f64 / d.as_secs_f64() / 1e6;
    println!("CID of {mib} MiB in memory (best of 3), against one sha2-256 pass:");
    println!(
        "  sha2-256, one pass                  {:>8.1} MB/s  1.00x",
        rate(sha)
    );
    for (name, d) in [
        ("CidBuilder, one update", whole),
        ("CidBuilder, 256 KiB updates", chunked),
        ("CidBuilder, 64 KiB + 7 B updates", small),
    ] {
        println!(
            "  {name:<35} {:>8.1} MB/s  {:.2}x the time",
            rate(d),
            d.as_secs_f64() / sha.as_secs_f64()
        );
    }
}

fn best(mut run: impl FnMut()) -> Duration {
    (0..3)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}
