//! The reference processor: a slow, simple processor that executes a [`Program`] one cycle at a
//! time and appends one 49-column core trace row per cycle.
//!
//! It is written for clarity, not speed, and shares no execution code with weft's fast
//! processor, so that comparing the two is meaningful. Its trace is checked column by column
//! against upstream miden-vm 0.20.6's sequential processor.
//!
//! # API
//! ```text
//! weft_reference::execute(&Program, StackInputs, AdviceInputs, &mut impl Host, ExecutionOptions)
//!     -> Result<ReferenceOutput, ExecutionError>
//! ReferenceOutput { trace: CoreTrace, stack_outputs: StackOutputs, n_cycles: usize,
//!                   advice: AdviceProvider }
//! ```
//!
//! # Rows
//! Row `i` holds the system and stack state *before* cycle `i` and the decoder columns of the
//! operation executed at cycle `i`. Rows `0..n_cycles` are the executed cycles (the last one is
//! the `END` of the entry node). Row `n_cycles` is the first `HALT` row: it carries the final
//! stack state. The remaining rows are `HALT` padding made by [`CoreTrace::pad_to`].
//!
//! # Length rule
//! The trace has `max(64, next_power_of_two(n_cycles + 1))` rows. This is upstream's rule
//! `max(64, next_power_of_two(max(n_cycles, range_rows, chiplet_rows) + 1))` restricted to the
//! core part: when upstream's range checker or chiplets are longer than the core, upstream's
//! trace is longer and a comparison pads this one with [`CoreTrace::pad_to`] to the same length
//! (padding rows are the same on both sides).
//!
//! Upstream overwrites the last row of every column with random values (seeded by the program
//! hash); here the last row is an ordinary `HALT` padding row, so comparisons skip it (see
//! [`weft_core::trace::first_difference_in_rows`]). This is also upstream's `core_len` quirk
//! (#1383): when `n_cycles + 1` is a power of two, the only `HALT` row is that last row, so the
//! final stack state never appears in upstream's trace.

// Modules, each depending only on the ones listed before it (no module imports from the crate
// root): `output` (what an execution returns), `state` (stack, memory), `vm` (the state
// operations work on), `ace`, `crypto` and `verifier` (operation families), `ops` (the operation
// dispatch), `blocks` (the decoder's block stack), `rows` (row layout), `processor` (the trace
// and the cycle primitive), `basic_block` and `control` (execution of nodes).
mod output;
mod state;
mod vm;

mod ace;
mod crypto;
mod verifier;

mod ops;

mod blocks;
mod rows;

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
