//! `build_trace_into` gives the same trace as `build_trace` whatever the trace it reuses: a
//! longer one, a shorter one, an empty one; and leaves it empty on error. It lives beside the
//! benchmarks because it builds the traces of their program (`weft_benches`), at small sizes.

use weft_benches as support;
use weft_core::main_trace::{MainTrace, TRACE_WIDTH, first_difference};
use weft_tracegen::{build_trace, build_trace_into};

fn check(expected: &MainTrace, found: &MainTrace, what: &str) {
    if let Some(diff) = first_difference(expected, found) {
        panic!("{what}: {diff}");
    }
}

#[test]
fn reused_traces_give_the_same_trace() {
    let (small_forests, small) = support::contexts(40, 16);
    let (large_forests, large) = support::contexts(300, 64);
    let small_trace = build_trace(&small_forests, &small).expect("builds");
    let large_trace = build_trace(&large_forests, &large).expect("builds");
    assert!(large_trace.num_rows() > small_trace.num_rows());
    assert_eq!(u64::from(small.n_cycles) / 40, support::ROWS_PER_ITERATION);

    // A longer trace's memory, then a shorter one's, then the same length again.
    let mut reused = large_trace.clone();
    build_trace_into(&small_forests, &small, &mut reused).expect("builds");
    check(&small_trace, &reused, "into a longer trace");
    build_trace_into(&large_forests, &large, &mut reused).expect("builds");
    check(&large_trace, &reused, "into a shorter trace");
    build_trace_into(&large_forests, &large, &mut reused).expect("builds");
    check(&large_trace, &reused, "into a trace of the same length");

    let mut empty = MainTrace::from_columns(vec![Vec::new(); TRACE_WIDTH]).expect("71 columns");
    build_trace_into(&small_forests, &small, &mut empty).expect("builds");
    check(&small_trace, &empty, "into an empty trace");
}

#[test]
fn a_failed_build_leaves_the_trace_empty() {
    let (forests, mut contexts) = support::contexts(40, 16);
    let mut trace = build_trace(&forests, &contexts).expect("builds");
    contexts.fragments[0].hasher.block_addrs.clear();
    assert!(build_trace_into(&forests, &contexts, &mut trace).is_err());
    assert_eq!(trace.num_rows(), 0);
}
