//! The end of an execution: the range checker's and the chiplets' columns built from the
//! chiplet log, the length rule, the core trace padded with `HALT` rows to that length, and the
//! random last row over all 71 columns.

use weft_core::{
    Word,
    main_trace::{MainTrace, TraceLenSummary, random_row},
    trace::CoreTrace,
};
use weft_host::ExecutionError;

use crate::{
    chiplets::ChipletRows,
    log::{ChipletLog, MemoryAccess},
    range::RangeTable,
};

/// Builds the whole main trace from the core rows (`n_cycles` executed cycles and the first
/// `HALT` row), the chiplet log and the memory accesses of an execution of a program with digest
/// `program_hash` and kernel procedures `kernel_procs`.
///
/// # Errors
/// [`ExecutionError::FailedToExecuteProgram`] if the regions do not fit the length computed for
/// them (which the length rule rules out).
pub(crate) fn main_trace(
    mut core: CoreTrace,
    n_cycles: usize,
    log: &ChipletLog,
    memory: &[MemoryAccess],
    kernel_procs: &[Word],
    program_hash: Word,
) -> Result<(MainTrace, TraceLenSummary), ExecutionError> {
    let chiplets = ChipletRows::new(log, memory, kernel_procs);
    let range = RangeTable::new(
        log.u32_range_checks
            .iter()
            .copied()
            .chain(chiplets.memory_range_checks()),
    );
    let summary = TraceLenSummary {
        core_rows: n_cycles,
        range_rows: range.len(),
        hasher_rows: chiplets.hasher.len(),
        bitwise_rows: chiplets.bitwise.len(),
        memory_rows: chiplets.memory.len(),
        ace_rows: chiplets.ace.len(),
        kernel_rom_rows: chiplets.kernel_rom.len(),
    };
    let len = summary.trace_len();
    let misfit =
        || ExecutionError::FailedToExecuteProgram("a trace region does not fit its length");
    core.pad_to(len);
    let mut rest: Vec<_> = range.columns(len).ok_or_else(misfit)?.into();
    rest.extend(chiplets.columns(len).ok_or_else(misfit)?);
    let mut trace = MainTrace::from_core(core, rest).ok_or_else(misfit)?;
    for (col, value) in random_row(program_hash).into_iter().enumerate() {
        trace.column_mut(col)[len - 1] = value;
    }
    Ok((trace, summary))
}
