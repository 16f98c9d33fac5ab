//! The reference processor: a slow, simple processor that executes a [`Program`] one cycle at a
//! time and builds the whole 71-column main trace of upstream miden-vm 0.20.6.
//!
//! It is written for clarity, not speed, and shares no execution or trace-building code with
//! weft's fast processor and parallel trace builder, so that comparing them is meaningful. Its
//! trace is checked cell by cell against upstream's sequential processor.
//!
//! # API
//! ```text
//! weft_reference::execute(&Program, StackInputs, AdviceInputs, &mut impl Host, ExecutionOptions)
//!     -> Result<ReferenceOutput, ExecutionError>
//! ReferenceOutput { trace: MainTrace, summary: TraceLenSummary, core: CoreTrace,
//!                   stack_outputs: StackOutputs, n_cycles: usize, advice: AdviceProvider,
//!                   n_hasher_rows: usize }
//! ```
//!
//! # Rows
//! Row `i` holds the system and stack state *before* cycle `i` and the decoder columns of the
//! operation executed at cycle `i`. Rows `0..n_cycles` are the executed cycles (the last one is
//! the `END` of the entry node). Row `n_cycles` is the first `HALT` row: it carries the final
//! stack state. The remaining core rows are `HALT` padding made by [`CoreTrace::pad_to`].
//!
//! # The other regions
//! While it executes, the processor logs every chiplet request in execution order (module
//! `log`; memory accesses are logged by the memory itself). When execution ends, `finish` turns
//! the log into columns, each region in its own module: `range` (the range checker's table,
//! bottom-aligned under zero rows), `chiplets::{hasher, bitwise, memory, ace, kernel_rom}`
//! stacked under their selector prefix, then chiplet padding.
//!
//! # Length rule
//! The trace has `max(64, next_power_of_two(max(n_cycles, range_rows, chiplet_rows) + 1))`
//! rows ([`weft_core::main_trace::main_trace_len`]), upstream's rule; the row counts are in
//! [`ReferenceOutput::summary`]. The last row of every column is overwritten with upstream's
//! random row ([`weft_core::main_trace::random_row`]), so when `n_cycles + 1` is that length,
//! the final stack state never appears in the trace (upstream's `core_len` quirk, #1383).
//!
//! [`ReferenceOutput::core`] holds the 49 core columns alone, padded to
//! `max(64, next_power_of_two(n_cycles + 1))` rows with no random row: what the fast path and
//! the parallel trace builder produce today.
//!
//! [`CoreTrace::pad_to`]: weft_core::trace::CoreTrace::pad_to

// Modules, each depending only on the ones listed before it (no module imports from the crate
// root): `output` (what an execution returns), `log` (the chiplet log), `state` (stack, memory),
// `vm` (the state operations work on), `ace`, `crypto` and `verifier` (operation families),
// `ops` (the operation dispatch), `blocks` (the decoder's block stack), `rows` (row layout),
// `chiplets` and `range` (the other regions' rows), `finish` (the main trace), `processor` (the
// trace and the cycle primitive), `basic_block` and `control` (execution of nodes).
mod output;

mod log;
mod state;
mod vm;

mod ace;
mod crypto;
mod verifier;

mod ops;

mod blocks;
mod rows;

mod chiplets;
mod range;

mod finish;

mod processor;

mod basic_block;
mod control;

pub use output::ReferenceOutput;

use weft_host::{AdviceInputs, ExecutionError, ExecutionOptions, Host, StackInputs};
use weft_mast::Program;

/// Executes `program` with the given inputs against `host`.
///
/// # Errors
/// Any [`ExecutionError`]: a failing operation, a cycle limit overrun, an unresolvable external
/// node or dynamic call target, or more than sixteen elements left on the stack at the end.
pub fn execute(
    program: &Program,
    stack_inputs: StackInputs,
    advice_inputs: AdviceInputs,
    host: &mut impl Host,
    options: ExecutionOptions,
) -> Result<ReferenceOutput, ExecutionError> {
    processor::Processor::new(program, stack_inputs, advice_inputs, host, options).run(program)
}

/// The length the reference pads a trace of `n_cycles` executed cycles to (upstream's rule).
pub use weft_core::trace::padded_len;

#[cfg(test)]
mod tests;

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
