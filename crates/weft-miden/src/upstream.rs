//! Running programs on upstream's processor: the oracle side of the trace conformance suite.
//!
//! [`run_upstream`] executes a program with upstream's legacy `Process` (what
//! `miden_processor::execute` and upstream's prover use in 0.20.6) and a `DefaultHost` that has the
//! core library's forest and event handlers loaded, then keeps what weft is compared on: the whole
//! 71-column main trace (and its 49 core columns apart), the row counts of its parts, the stack
//! outputs, and on failure the error and the clock cycle the processor had reached.

use std::sync::Arc;

use miden_core::{Felt, Program, mast::MastForest};
use miden_processor::{DefaultHost, ExecutionError, ExecutionOptions, ExecutionTrace, Process};
use weft_core::{
    main_trace::{CHIPLETS_OFFSET, MainTrace, Region, TRACE_WIDTH, TraceLenSummary},
    trace::{
        CORE_TRACE_WIDTH, CoreTrace, DECODER_TRACE_OFFSET,
        decoder::{NUM_OP_BITS, OP_BITS_OFFSET},
    },
};
use winter_prover::Trace;

use weft_upstream::{ProgramInputs, host::core_library};

/// The stack inputs as upstream's processors take them: bottom first.
pub fn stack_bottom_first(inputs: &ProgramInputs) -> Vec<Felt> {
    inputs
        .upstream_stack_inputs()
        .iter()
        .rev()
        .copied()
        .collect()
}

/// Polls a future that never waits on anything external (upstream's async API with a host that
/// answers at once) to completion on this thread.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return value;
        }
    }
}

/// Returns upstream's `DefaultHost` with the core library's forest and event handlers loaded.
///
/// # Panics
/// Panics if the core library's handlers cannot be registered, which would be an upstream bug.
pub fn upstream_host() -> DefaultHost {
    DefaultHost::default()
        .with_library(core_library())
        .expect("the core library's event handlers register on an empty host")
}

/// The part of a successful upstream run that weft is compared on.
#[derive(Debug, Clone)]
pub struct UpstreamRun {
    /// The 49 core columns (system, decoder, stack) of the full trace, including upstream's final
    /// random row.
    pub trace: CoreTrace,
    /// The whole main trace: 71 columns (upstream's 72nd, all-zero padding column is left out),
    /// including the random last row.
    pub main: MainTrace,
    /// Upstream's row counts of the trace's parts (ACE rows counted apart from memory rows).
    pub summary: TraceLenSummary,
    /// The stack outputs, top first (16 values).
    pub stack_outputs: Vec<Felt>,
    /// The number of executed clock cycles (the clock after the last operation).
    pub n_cycles: usize,
}

impl UpstreamRun {
    /// The number of rows in upstream's trace (a power of two, at least 64).
    pub fn trace_len(&self) -> usize {
        self.trace.num_rows()
    }

    /// Returns the opcode on row `row`, read from the decoder's op-bit columns.
    pub fn op_code_at(&self, row: usize) -> u8 {
        (0..NUM_OP_BITS).fold(0u8, |code, bit| {
            let col = DECODER_TRACE_OFFSET + OP_BITS_OFFSET + bit;
            let value = self.trace.get(row, col).as_int();
            code | (u8::from(value == 1) << bit)
        })
    }
}

/// An upstream run that failed.
#[derive(Debug)]
pub struct UpstreamFailure {
    /// Upstream's error (boxed: upstream's error type is large).
    pub error: Box<ExecutionError>,
    /// The processor's clock cycle when the error was raised.
    pub clk: u32,
}

impl UpstreamFailure {
    /// Returns the name of the error's variant (e.g. `"DivideByZero"`).
    pub fn variant_name(&self) -> &'static str {
        error_variant_name(&self.error)
    }
}

/// Runs `program` on upstream's processor with `inputs`, default execution options and
/// [`upstream_host`] with `extra_forests` (e.g. the program's kernel) loaded.
///
/// # Panics
/// Panics if loading a forest into the host fails, which cannot happen for forests without
/// event handlers.
///
/// # Errors
/// Returns upstream's error and the clock cycle it was raised at if execution fails.
pub fn run_upstream(
    program: &Program,
    inputs: &ProgramInputs,
    extra_forests: &[Arc<MastForest>],
) -> Result<UpstreamRun, UpstreamFailure> {
    let mut host = upstream_host();
    for forest in extra_forests {
        host.load_library(forest)
            .expect("a forest without event handlers always loads");
    }
    let mut process = Process::new(
        program.kernel().clone(),
        inputs.upstream_stack_inputs(),
        inputs.upstream_advice_inputs(),
        ExecutionOptions::default(),
    );
    let stack_outputs = match process.execute(program, &mut host) {
        Ok(outputs) => outputs,
        Err(error) => {
            let clk = u32::from(process.state().clk());
            return Err(UpstreamFailure {
                error: Box::new(error),
                clk,
            });
        }
    };
    let trace = ExecutionTrace::new(process, stack_outputs.clone());
    let lengths = trace.trace_len_summary();
    // `main_trace_len` is upstream's executed cycles; its `trace_len` is the longest part.
    let n_cycles = lengths.main_trace_len();
    let segment = trace.main_segment();
    let columns: Vec<Vec<Felt>> = (0..TRACE_WIDTH)
        .map(|col| segment.get_column(col).to_vec())
        .collect();
    let core = CoreTrace::from_columns(columns[..CORE_TRACE_WIDTH].to_vec())
        .expect("upstream's main trace starts with 49 core columns of equal length");
    let main = MainTrace::from_columns(columns)
        .expect("upstream's main trace has 71 columns of equal length");
    let chiplets = lengths.chiplets_trace_len();
    let ace_rows = count_ace_rows(&main);
    let summary = TraceLenSummary {
        core_rows: n_cycles,
        range_rows: lengths.range_trace_len(),
        hasher_rows: chiplets.hash_chiplet_len(),
        bitwise_rows: chiplets.bitwise_chiplet_len(),
        // Upstream counts ACE rows as memory rows.
        memory_rows: chiplets.memory_chiplet_len() - ace_rows,
        ace_rows,
        kernel_rom_rows: chiplets.kernel_rom_len(),
    };
    Ok(UpstreamRun {
        trace: core,
        main,
        summary,
        stack_outputs: stack_outputs.iter().copied().collect(),
        n_cycles,
    })
}

/// Counts the ACE rows of a main trace (read from the chiplet selectors; the random last row is
/// not a chiplet row).
fn count_ace_rows(main: &MainTrace) -> usize {
    (0..main.num_rows().saturating_sub(1))
        .filter(|&row| main.region(row, CHIPLETS_OFFSET) == Region::Ace)
        .count()
}

/// Returns the name of an upstream error's variant.
pub fn error_variant_name(error: &ExecutionError) -> &'static str {
    use ExecutionError as E;
    match error {
        E::AdviceError { .. } => "AdviceError",
        E::CircularExternalNode(_) => "CircularExternalNode",
        E::CycleLimitExceeded(_) => "CycleLimitExceeded",
        E::DecoratorNotFoundInForest { .. } => "DecoratorNotFoundInForest",
        E::DebugHandlerError { .. } => "DebugHandlerError",
        E::TraceHandlerError { .. } => "TraceHandlerError",
        E::DivideByZero { .. } => "DivideByZero",
        E::DynamicNodeNotFound { .. } => "DynamicNodeNotFound",
        E::EventError { .. } => "EventError",
        E::DuplicateEventHandler { .. } => "DuplicateEventHandler",
        E::ReservedEventNamespace { .. } => "ReservedEventNamespace",
        E::FailedAssertion { .. } => "FailedAssertion",
        E::FailedToExecuteProgram(_) => "FailedToExecuteProgram",
        E::InvalidFriDomainSegment(_) => "InvalidFriDomainSegment",
        E::InvalidFriLayerFolding(..) => "InvalidFriLayerFolding",
        E::InvalidStackDepthOnReturn { .. } => "InvalidStackDepthOnReturn",
        E::LogArgumentZero { .. } => "LogArgumentZero",
        E::MalformedSignatureKey { .. } => "MalformedSignatureKey",
        E::MalformedMastForestInHost { .. } => "MalformedMastForestInHost",
        E::MastNodeNotFoundInForest { .. } => "MastNodeNotFoundInForest",
        E::MemoryError(_) => "MemoryError",
        E::NoMastForestWithProcedure { .. } => "NoMastForestWithProcedure",
        E::MerklePathVerificationFailed { .. } => "MerklePathVerificationFailed",
        E::NotBinaryValueIf { .. } => "NotBinaryValueIf",
        E::NotBinaryValueOp { .. } => "NotBinaryValueOp",
        E::NotBinaryValueLoop { .. } => "NotBinaryValueLoop",
        E::NotU32Values { .. } => "NotU32Values",
        E::NotU32StackValue { .. } => "NotU32StackValue",
        E::OutputStackOverflow(_) => "OutputStackOverflow",
        E::ProgramAlreadyExecuted => "ProgramAlreadyExecuted",
        E::ProverError(_) => "ProverError",
        E::SmtNodeNotFound { .. } => "SmtNodeNotFound",
        E::SmtNodePreImageNotValid { .. } => "SmtNodePreImageNotValid",
        E::SyscallTargetNotInKernel { .. } => "SyscallTargetNotInKernel",
        E::AceChipError { .. } => "AceChipError",
        E::UnexpectedPrecompiles => "UnexpectedPrecompiles",
        E::InvalidCryptoInput { .. } => "InvalidCryptoInput",
    }
}
