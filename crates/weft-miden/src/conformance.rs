//! Trace conformance of one program: run it on upstream's processor and on weft's reference
//! processor and list every way the two runs differ.
//!
//! Compared, for a program that succeeds upstream: the stack outputs, the row counts of the
//! trace's parts (core, range checker, each chiplet), and all 71 columns of the main trace on
//! every row, the random last row included. For a program that fails upstream: weft must fail too,
//! with the same [`ErrorKind`] and, where weft's error carries a clock cycle, at the same clock
//! cycle as upstream's processor stopped at.

use miden_processor::ExecutionError as UpstreamError;
use weft_core::main_trace::{MainTraceDiff, Region, TraceLenSummary, first_difference};
use weft_host::{ErrorKind, ExecutionOptions};
use weft_upstream::{LoadedProgram, host::weft_host};

use crate::upstream::{UpstreamFailure, UpstreamRun, run_upstream};

/// One way in which weft's run of a program differs from upstream's.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mismatch {
    /// The first differing trace cell.
    Trace {
        /// The program.
        program: String,
        /// The row.
        row: usize,
        /// The column's name.
        column: &'static str,
        /// The cell's region in upstream's trace.
        region: Region,
        /// Upstream's value.
        upstream: u64,
        /// weft's value.
        weft: u64,
    },
    /// The row counts of the trace's parts (core, range checker, each chiplet) differ.
    RowCounts {
        /// The program.
        program: String,
        /// Upstream's counts.
        upstream: TraceLenSummary,
        /// weft's counts.
        weft: TraceLenSummary,
    },
    /// The traces have different lengths.
    TraceLength {
        /// The program.
        program: String,
        /// Upstream's row count.
        upstream: usize,
        /// weft's row count.
        weft: usize,
    },
    /// The stack outputs differ.
    StackOutputs {
        /// The program.
        program: String,
        /// Upstream's outputs, top first.
        upstream: Vec<u64>,
        /// weft's outputs, top first.
        weft: Vec<u64>,
    },
    /// The program succeeded on one side and failed on the other.
    Outcome {
        /// The program.
        program: String,
        /// Upstream's outcome, rendered.
        upstream: String,
        /// weft's outcome, rendered.
        weft: String,
    },
    /// Both failed, with different error kinds.
    ErrorKind {
        /// The program.
        program: String,
        /// Upstream's error, rendered with its kind in weft's terms.
        upstream: String,
        /// weft's error kind.
        weft: String,
    },
    /// Both failed with the same kind, at different clock cycles.
    ErrorClk {
        /// The program.
        program: String,
        /// The error kind.
        kind: String,
        /// Upstream's clock cycle.
        upstream: u32,
        /// weft's clock cycle.
        weft: u32,
    },
}

impl core::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Trace {
                program,
                row,
                column,
                region,
                upstream,
                weft,
            } => {
                write!(
                    f,
                    "({program}, row {row}, {column} ({region} region), upstream {upstream}, \
                     weft {weft})"
                )
            }
            Self::RowCounts {
                program,
                upstream,
                weft,
            } => {
                write!(
                    f,
                    "({program}, row counts, upstream {upstream:?}, weft {weft:?})"
                )
            }
            Self::TraceLength {
                program,
                upstream,
                weft,
            } => {
                write!(
                    f,
                    "({program}, trace length, upstream {upstream} rows, weft {weft} rows)"
                )
            }
            Self::StackOutputs {
                program,
                upstream,
                weft,
            } => {
                write!(
                    f,
                    "({program}, stack outputs, upstream {upstream:?}, weft {weft:?})"
                )
            }
            Self::Outcome {
                program,
                upstream,
                weft,
            } => {
                write!(f, "({program}, outcome, upstream {upstream}, weft {weft})")
            }
            Self::ErrorKind {
                program,
                upstream,
                weft,
            } => {
                write!(
                    f,
                    "({program}, error kind, upstream {upstream}, weft {weft})"
                )
            }
            Self::ErrorClk {
                program,
                kind,
                upstream,
                weft,
            } => {
                write!(
                    f,
                    "({program}, clk of {kind}, upstream {upstream}, weft {weft})"
                )
            }
        }
    }
}

/// The result of comparing one program.
#[derive(Debug)]
pub struct ProgramComparison {
    /// Upstream's run: its trace, or its failure.
    pub upstream: Result<UpstreamRun, UpstreamFailure>,
    /// The number of trace rows compared (0 for a failing program).
    pub n_rows_compared: usize,
    /// Every difference found (at most one per category: the first differing trace cell).
    pub mismatches: Vec<Mismatch>,
}

/// Runs `program` on weft's reference processor with its inputs, default options and
/// [`weft_host`] (the core library and the program's kernel loaded).
///
/// # Errors
/// Returns weft's execution error.
pub fn run_reference(
    program: &LoadedProgram,
) -> Result<weft_reference::ReferenceOutput, weft_host::ExecutionError> {
    // The core library is data compiled into weft-upstream and checked by its tests; a harness
    // without it cannot compare anything.
    let mut host =
        weft_host(program.weft_kernel_forest.as_ref()).expect("weft's embedded core library reads");
    weft_reference::execute(
        &program.weft,
        program.inputs.weft_stack_inputs(),
        program.inputs.weft_advice_inputs(),
        &mut host,
        ExecutionOptions::default(),
    )
}

/// Runs `program` on both processors and compares the runs.
pub fn compare_program(name: &str, program: &LoadedProgram) -> ProgramComparison {
    let extra_forests: Vec<_> = program.kernel_forest.iter().cloned().collect();
    let upstream = run_upstream(&program.upstream, &program.inputs, &extra_forests);
    let weft = run_reference(program);
    let (n_rows_compared, mismatches) = compare_runs(name, &upstream, weft);
    ProgramComparison {
        upstream,
        n_rows_compared,
        mismatches,
    }
}

/// Compares an upstream run of program `name` with weft's run of it.
///
/// Returns the number of trace rows compared and every difference found.
pub fn compare_runs(
    name: &str,
    upstream: &Result<UpstreamRun, UpstreamFailure>,
    weft: Result<weft_reference::ReferenceOutput, weft_host::ExecutionError>,
) -> (usize, Vec<Mismatch>) {
    let mut mismatches = Vec::new();
    let mut n_rows_compared = 0;
    let program_name = name.to_string();
    match (upstream, weft) {
        (Ok(up), Ok(weft)) => {
            let up_outputs: Vec<u64> = up.stack_outputs.iter().map(|f| f.as_int()).collect();
            let weft_outputs: Vec<u64> = weft.stack_outputs.to_ints().to_vec();
            if up_outputs != weft_outputs {
                mismatches.push(Mismatch::StackOutputs {
                    program: program_name.clone(),
                    upstream: up_outputs,
                    weft: weft_outputs,
                });
            }
            if up.summary != weft.summary {
                mismatches.push(Mismatch::RowCounts {
                    program: program_name.clone(),
                    upstream: up.summary,
                    weft: weft.summary,
                });
            }
            n_rows_compared = up.main.num_rows();
            if let Some(diff) = first_difference(&up.main, &weft.trace) {
                mismatches.push(trace_mismatch(&program_name, diff));
            }
        }
        (Ok(up), Err(err)) => mismatches.push(Mismatch::Outcome {
            program: program_name,
            upstream: format!("success after {} cycles", up.n_cycles),
            weft: format!("{:?} at clk {:?}: {err}", err.kind(), err.clk()),
        }),
        (Err(failure), Ok(weft)) => mismatches.push(Mismatch::Outcome {
            program: program_name,
            upstream: describe_failure(failure),
            weft: format!("success after {} cycles", weft.n_cycles),
        }),
        (Err(failure), Err(err)) => {
            let up_kind = upstream_error_kind(&failure.error);
            if up_kind != Some(err.kind()) {
                mismatches.push(Mismatch::ErrorKind {
                    program: program_name,
                    upstream: describe_failure(failure),
                    weft: format!("{:?} at clk {:?}: {err}", err.kind(), err.clk()),
                });
            } else if let Some(weft_clk) = err.clk()
                && weft_clk != failure.clk
            {
                mismatches.push(Mismatch::ErrorClk {
                    program: program_name,
                    kind: format!("{:?}", err.kind()),
                    upstream: failure.clk,
                    weft: weft_clk,
                });
            }
        }
    }
    (n_rows_compared, mismatches)
}

fn trace_mismatch(program: &str, diff: MainTraceDiff) -> Mismatch {
    if diff.column == MainTraceDiff::NUM_ROWS {
        Mismatch::TraceLength {
            program: program.to_string(),
            upstream: usize::try_from(diff.expected).unwrap_or(usize::MAX),
            weft: usize::try_from(diff.found).unwrap_or(usize::MAX),
        }
    } else {
        Mismatch::Trace {
            program: program.to_string(),
            row: diff.row,
            column: diff.column,
            region: diff.region,
            upstream: diff.expected,
            weft: diff.found,
        }
    }
}

fn describe_failure(failure: &UpstreamFailure) -> String {
    format!(
        "{} ({:?}) at clk {}: {}",
        failure.variant_name(),
        upstream_error_kind(&failure.error),
        failure.clk,
        failure.error
    )
}

/// Returns the weft [`ErrorKind`] of an upstream error, or `None` for upstream errors weft does
/// not model (debug/trace handlers, signatures, SMT pre-images, prover errors and the like).
pub fn upstream_error_kind(error: &UpstreamError) -> Option<ErrorKind> {
    use UpstreamError as E;
    use miden_processor::{AdviceError as A, MemoryError as M};
    Some(match error {
        E::AdviceError { err, .. } => match err {
            A::StackReadFailed => ErrorKind::AdviceStackReadFailed,
            A::MapKeyNotFound { .. } => ErrorKind::AdviceMapKeyNotFound,
            A::MapKeyAlreadyPresent { .. } => ErrorKind::AdviceMapKeyAlreadyPresent,
            A::InvalidMerkleTreeNodeIndex { .. } | A::InvalidMerkleTreeDepth { .. } => {
                ErrorKind::InvalidMerkleTreeNodeIndex
            }
            A::MerkleStoreLookupFailed(_) => ErrorKind::MerklePathNotFound,
            A::MerkleStoreMergeFailed(_) => ErrorKind::MerkleStoreMergeFailed,
            A::MerkleStoreUpdateFailed(_) => ErrorKind::MerkleStoreUpdateFailed,
        },
        E::MemoryError(err) => match err {
            M::AddressOutOfBounds { .. } => ErrorKind::MemoryAddressOutOfBounds,
            M::IllegalMemoryAccess { .. } => ErrorKind::OverlappingMemoryRanges,
            M::InvalidMemoryRange { .. } => ErrorKind::InvalidMemoryRange,
            M::UnalignedWordAccess { .. } | M::UnalignedWordAccessNoClk { .. } => {
                ErrorKind::UnalignedWordAccess
            }
        },
        E::AceChipError { .. } => ErrorKind::Ace,
        E::CircularExternalNode(_) => ErrorKind::CircularExternalNode,
        E::CycleLimitExceeded(_) => ErrorKind::CycleLimitExceeded,
        E::DivideByZero { .. } => ErrorKind::DivideByZero,
        E::DynamicNodeNotFound { .. } => ErrorKind::DynamicNodeNotFound,
        E::EventError { .. } => ErrorKind::EventError,
        E::FailedAssertion { .. } => ErrorKind::FailedAssertion,
        E::FailedToExecuteProgram(_) => ErrorKind::FailedToExecuteProgram,
        E::InvalidFriDomainSegment(_) => ErrorKind::InvalidFriDomainSegment,
        E::InvalidFriLayerFolding(..) => ErrorKind::InvalidFriLayerFolding,
        E::InvalidStackDepthOnReturn { .. } => ErrorKind::InvalidStackDepthOnReturn,
        E::LogArgumentZero { .. } => ErrorKind::LogArgumentZero,
        E::MalformedMastForestInHost { .. } => ErrorKind::MalformedMastForestInHost,
        E::NoMastForestWithProcedure { .. } => ErrorKind::NoMastForestWithProcedure,
        E::MerklePathVerificationFailed { .. } => ErrorKind::MerklePathVerificationFailed,
        E::NotBinaryValueIf { .. } => ErrorKind::NotBinaryValueIf,
        E::NotBinaryValueOp { .. } => ErrorKind::NotBinaryValueOp,
        E::NotBinaryValueLoop { .. } => ErrorKind::NotBinaryValueLoop,
        E::NotU32Values { .. } | E::NotU32StackValue { .. } => ErrorKind::NotU32Values,
        E::OutputStackOverflow(_) => ErrorKind::OutputStackOverflow,
        E::SyscallTargetNotInKernel { .. } => ErrorKind::SyscallTargetNotInKernel,
        E::DecoratorNotFoundInForest { .. }
        | E::DebugHandlerError { .. }
        | E::TraceHandlerError { .. }
        | E::DuplicateEventHandler { .. }
        | E::ReservedEventNamespace { .. }
        | E::MalformedSignatureKey { .. }
        | E::MastNodeNotFoundInForest { .. }
        | E::ProgramAlreadyExecuted
        | E::ProverError(_)
        | E::SmtNodeNotFound { .. }
        | E::SmtNodePreImageNotValid { .. }
        | E::UnexpectedPrecompiles
        | E::InvalidCryptoInput { .. } => return None,
    })
}
