//! The core trace inside a main trace, for comparisons with a trace of the 49 core columns
//! alone (the reference processor's).
//!
//! A core-only trace is `padded_len(n_cycles)` rows long and ends in `HALT` padding; the main
//! trace may be longer (the range checker or the chiplets may decide its length) and its last
//! row is random. [`core_trace`] cuts the core columns to the core-only length and, where the
//! random row falls inside, rebuilds the `HALT` padding row it replaced.

use weft_core::{
    Felt,
    main_trace::MainTrace,
    trace::{
        CLK_COL_IDX, CORE_TRACE_WIDTH, CoreTrace, TraceDiff, first_difference,
        first_difference_in_rows, halt_padding_row, padded_len,
    },
};

/// The core trace of an execution of `n_cycles` rows inside `trace`: its 49 core columns over
/// `padded_len(n_cycles)` rows. When the main trace's last (random) row is a padding row of
/// that range, it is rebuilt as the padding row it replaced; when it is the `HALT` row itself
/// (`n_cycles + 1` rows in all), that row keeps its random values.
pub fn core_trace(trace: &MainTrace, n_cycles: usize) -> CoreTrace {
    let n_rows = padded_len(n_cycles).min(trace.num_rows());
    let mut columns: Vec<Vec<Felt>> = (0..CORE_TRACE_WIDTH)
        .map(|c| trace.column(c)[..n_rows].to_vec())
        .collect();
    let last = trace.num_rows() - 1;
    if n_rows == trace.num_rows() && last > n_cycles {
        let prev: [Felt; CORE_TRACE_WIDTH] = core::array::from_fn(|c| columns[c][last - 1]);
        let mut pad = halt_padding_row(&prev);
        pad[CLK_COL_IDX] = Felt::new(last as u64);
        for (column, value) in columns.iter_mut().zip(pad) {
            column[last] = value;
        }
    }
    CoreTrace::from_columns(columns).expect("49 columns of one length")
}

/// The first difference between a core-only trace (`expected`, of an execution of `n_cycles`
/// rows) and the core columns of a main trace (see [`core_trace`]); the `HALT` row is skipped
/// when it is the main trace's random row.
pub fn first_core_difference(
    expected: &CoreTrace,
    found: &MainTrace,
    n_cycles: usize,
) -> Option<TraceDiff> {
    let core = core_trace(found, n_cycles);
    if found.num_rows() == n_cycles + 1 {
        first_difference_in_rows(expected, &core, 0..n_cycles)
    } else {
        first_difference(expected, &core)
    }
}
