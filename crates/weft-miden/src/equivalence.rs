//! Reference vs parallel trace equivalence: weft's reference processor against weft's fast
//! processor (`execute_for_trace`) followed by `weft_tracegen::build_trace`, on one program at
//! one fragment size. Used by the tests and by `weft-check-equivalence`
//! (`cargo xtask check-equivalence`).

use weft_core::main_trace::{MainTrace, MainTraceDiff, first_difference};
use weft_host::{ErrorKind, ExecutionError};
use weft_reference::ReferenceOutput;
use weft_tracegen::TraceGenError;
use weft_upstream::{LoadedProgram, host::weft_host};

/// Why the two paths disagree, or could not be compared.
#[derive(Debug, thiserror::Error)]
pub enum EquivalenceError {
    /// The fast processor failed where the reference succeeded.
    #[error("execute_for_trace failed where the reference succeeded: {0}")]
    Fast(ExecutionError),
    /// weft's core library could not be read.
    #[error(transparent)]
    CoreLib(#[from] weft_upstream::host::CoreLibError),
    /// The trace builder rejected the contexts.
    #[error("build_trace failed: {0}")]
    Build(#[from] TraceGenError),
    /// The outputs differ.
    #[error(
        "outputs differ: reference {reference:?} ({ref_cycles} cycles), fast {fast:?} ({fast_cycles} cycles)"
    )]
    Outputs {
        /// Reference stack outputs (boxed: errors stay small).
        reference: Box<[u64; 16]>,
        /// Reference cycle count.
        ref_cycles: usize,
        /// Fast stack outputs.
        fast: Box<[u64; 16]>,
        /// Fast cycle count.
        fast_cycles: u32,
    },
    /// The traces differ.
    #[error("{0}")]
    Trace(MainTraceDiff),
    /// Both failed, with different errors.
    #[error(
        "the reference fails with {reference:?} at {ref_clk:?}, execute_for_trace with {fast:?} at {fast_clk:?}"
    )]
    Failures {
        /// The reference's error kind.
        reference: ErrorKind,
        /// Its clock cycle.
        ref_clk: Option<u32>,
        /// The fast processor's error kind.
        fast: ErrorKind,
        /// Its clock cycle.
        fast_clk: Option<u32>,
    },
    /// The reference failed and the fast processor did not.
    #[error("the reference fails ({0}) but execute_for_trace succeeds")]
    OnlyReferenceFails(String),
}

/// The parallel path: `execute_for_trace` at `fragment_size`, then `build_trace` on the current
/// rayon pool. Returns the fast processor's output and the whole main trace (71 columns).
///
/// # Errors
/// An execution error, or a trace the builder rejects.
pub fn parallel_trace(
    program: &LoadedProgram,
    fragment_size: u32,
) -> Result<(weft_fast::ExecutionOutput, MainTrace), EquivalenceError> {
    let mut host = weft_host(program.weft_kernel_forest.as_ref())?;
    let (output, contexts) = weft_replay::execute_for_trace(
        &program.weft,
        program.inputs.weft_stack_inputs(),
        program.inputs.weft_advice_inputs(),
        &mut host,
        fragment_size,
    )
    .map_err(EquivalenceError::Fast)?;
    let trace = weft_tracegen::build_trace(&output.forests, &contexts)?;
    Ok((output, trace))
}

/// Compares the parallel path at `fragment_size` with the reference's result for the same
/// program: the same outputs and whole main trace (every column of every row) on success, the same error kind and clock cycle on
/// failure.
///
/// # Errors
/// The first disagreement.
pub fn check_against_reference(
    program: &LoadedProgram,
    reference: &Result<ReferenceOutput, ExecutionError>,
    fragment_size: u32,
) -> Result<(), EquivalenceError> {
    match (reference, parallel_trace(program, fragment_size)) {
        (Ok(expected), Ok((output, trace))) => {
            let stack = output.stack_outputs.to_ints();
            let ref_stack = expected.stack_outputs.to_ints();
            if stack != ref_stack || output.n_cycles as usize != expected.n_cycles {
                return Err(EquivalenceError::Outputs {
                    reference: Box::new(ref_stack),
                    ref_cycles: expected.n_cycles,
                    fast: Box::new(stack),
                    fast_cycles: output.n_cycles,
                });
            }
            match first_difference(&expected.trace, &trace) {
                Some(diff) => Err(EquivalenceError::Trace(diff)),
                None => Ok(()),
            }
        }
        (Ok(_), Err(e)) => Err(e),
        (Err(r), Err(EquivalenceError::Fast(f))) => {
            if r.kind() == f.kind() && r.clk() == f.clk() {
                Ok(())
            } else {
                Err(EquivalenceError::Failures {
                    reference: r.kind(),
                    ref_clk: r.clk(),
                    fast: f.kind(),
                    fast_clk: f.clk(),
                })
            }
        }
        (Err(_), Err(other)) => Err(other),
        (Err(r), Ok(_)) => Err(EquivalenceError::OnlyReferenceFails(r.to_string())),
    }
}
