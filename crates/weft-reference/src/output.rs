//! What a successful execution of the reference processor produces.

use weft_core::{
    main_trace::{MainTrace, TraceLenSummary},
    trace::CoreTrace,
};
use weft_host::{AdviceProvider, StackOutputs};

/// What a successful execution produces.
#[derive(Debug)]
pub struct ReferenceOutput {
    /// The whole main trace: 71 columns of [`TraceLenSummary::trace_len`] rows (upstream's
    /// length rule), the last row random.
    pub trace: MainTrace,
    /// The row counts that set the trace's length.
    pub summary: TraceLenSummary,
    /// The 49 core columns alone, as the fast path builds them: padded with `HALT` rows to
    /// `max(64, next_power_of_two(n_cycles + 1))` rows, with no random row.
    pub core: CoreTrace,
    /// The sixteen top stack elements at the end.
    pub stack_outputs: StackOutputs,
    /// The number of executed cycles (operation rows before the first `HALT` row).
    pub n_cycles: usize,
    /// The advice provider at the end.
    pub advice: AdviceProvider,
    /// The number of hasher chiplet rows used (8 per permutation).
    pub n_hasher_rows: usize,
}
