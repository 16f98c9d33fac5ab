//! `build_trace` throughput in rows per second, on one thread and on two, over a program of
//! about 730 000 rows (see `support`).
//!
//! `cargo bench -p weft-benches --bench build_trace`. The contexts are recorded once, outside
//! the measurement; each iteration builds the whole padded trace, into a fresh allocation
//! (`build_trace`: page faults included) or into the previous trace's (`build_trace_into`).
//!
//! `cargo test` runs every benchmark once as a smoke test, in a debug build where a whole
//! 71-column trace of this size takes minutes: without `--bench` (which only `cargo bench`
//! passes) the program is cut to about 8 000 rows.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use weft_benches as support;
use weft_tracegen::{build_trace, build_trace_into};

/// Loop iterations of the measured program (about 730 000 rows).
const ITERATIONS: u64 = 730_000 / support::ROWS_PER_ITERATION;
/// Loop iterations when run as a test (about 8 000 rows).
const TEST_ITERATIONS: u64 = 8_000 / support::ROWS_PER_ITERATION;
/// Rows per fragment, as a prover would ask `execute_for_trace` for.
const FRAGMENT_SIZE: u32 = 4096;

fn bench(c: &mut Criterion) {
    let measuring = std::env::args().any(|a| a == "--bench");
    let iterations = if measuring {
        ITERATIONS
    } else {
        TEST_ITERATIONS
    };
    let (forests, contexts) = support::contexts(iterations, FRAGMENT_SIZE);
    let rows = contexts.n_cycles;
    let mut group = c.benchmark_group("build_trace");
    group.throughput(Throughput::Elements(u64::from(rows)));
    group.sample_size(10);
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool");
        group.bench_function(format!("fresh_{rows}_rows_{threads}_threads"), |b| {
            b.iter(|| pool.install(|| black_box(build_trace(&forests, &contexts).expect("builds"))))
        });
        let mut trace = build_trace(&forests, &contexts).expect("builds");
        group.bench_function(format!("reused_{rows}_rows_{threads}_threads"), |b| {
            b.iter(|| {
                pool.install(|| build_trace_into(&forests, &contexts, &mut trace))
                    .expect("builds");
                black_box(&trace);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
