//! The reference processor: a slow, simple processor that executes a [`Program`] one cycle at a
//! time and appends one 49-column core trace row per cycle.
//!
//! Final API:
//! ```text
//! weft_reference::execute(&Program, StackInputs, AdviceInputs, &mut impl Host, ExecutionOptions)
//!     -> Result<ReferenceOutput, ExecutionError>
//! ReferenceOutput { trace: CoreTrace, stack_outputs: StackOutputs, n_cycles: usize, advice: AdviceProvider }
//! ```

use weft_core::trace::CoreTrace;
use weft_host::{
    AdviceInputs, AdviceProvider, ExecutionError, ExecutionOptions, Host, StackInputs, StackOutputs,
};
use weft_mast::Program;

/// What a successful execution produces.
#[derive(Debug)]
pub struct ReferenceOutput {
    /// The core trace, padded with `HALT` rows to a power of two of at least 64 rows.
    pub trace: CoreTrace,
    /// The sixteen top stack elements at the end.
    pub stack_outputs: StackOutputs,
    /// The number of executed cycles (operation rows before the first `HALT` row).
    pub n_cycles: usize,
    /// The advice provider at the end.
    pub advice: AdviceProvider,
}

/// Executes `program`.
///
/// # Errors
/// Any [`ExecutionError`].
pub fn execute(
    program: &Program,
    stack_inputs: StackInputs,
    advice_inputs: AdviceInputs,
    host: &mut impl Host,
    options: ExecutionOptions,
) -> Result<ReferenceOutput, ExecutionError> {
    let _ = (program, stack_inputs, advice_inputs, host, options);
    Err(ExecutionError::FailedToExecuteProgram(
        "reference processor not implemented yet",
    ))
}
