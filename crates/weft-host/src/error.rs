//! The typed error of an execution, and its fieldless [`ErrorKind`] for comparing outcomes across
//! processors (and with upstream) without comparing messages.

use weft_core::{Felt, OpCode, Word};

use crate::{AdviceError, EventId, host::EventError};

/// Why an `EVALCIRCUIT` failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AceError {
    /// The number of variables is zero or not a multiple of four.
    #[error("number of variables {0} is empty or not word aligned")]
    NumVarIsNotWordAlignedOrIsEmpty(u64),
    /// The number of evaluation gates is zero or not a multiple of four.
    #[error("number of evaluation gates {0} is empty or not word aligned")]
    NumEvalIsNotWordAlignedOrIsEmpty(u64),
    /// The circuit does not evaluate to zero.
    #[error("circuit does not evaluate to zero")]
    CircuitNotEvaluateZero,
    /// Reading the circuit from memory failed.
    #[error("failed to read the circuit from memory")]
    FailedMemoryRead,
    /// An instruction could not be decoded.
    #[error("failed to decode a circuit instruction")]
    FailedDecodeInstruction,
    /// A wire was read before it was written.
    #[error("failed to read a wire")]
    FailedWireBusRead,
    /// Too many wires.
    #[error("circuit has too many wires ({0})")]
    TooManyWires(u64),
}

/// Why an execution failed.
///
/// Variants that happen at a known cycle carry it as `clk`, the processor's clock when the error
/// is raised, as upstream's processor reports it: for a failing operation, the cycle of its row;
/// for a check made after a control row (a non-binary `SPLIT`/`LOOP` condition, a missing `DYN`
/// target) or before an `END` (stack depth on return), the cycle after the last row written.
/// [`ExecutionError::clk`] returns it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExecutionError {
    /// An advice operation failed.
    #[error("advice error at clock cycle {clk}: {source}")]
    Advice {
        /// The cycle.
        clk: u32,
        /// What failed.
        source: AdviceError,
    },
    /// An `EVALCIRCUIT` failed.
    #[error("circuit evaluation failed at clock cycle {clk}: {source}")]
    Ace {
        /// The cycle.
        clk: u32,
        /// What failed.
        source: AceError,
    },
    /// An external node resolved to a forest in which that procedure is again external.
    #[error("external node with root {digest:?} resolved to an external node")]
    CircularExternalNode {
        /// The procedure root.
        digest: Word,
    },
    /// The program ran more cycles than allowed.
    #[error("exceeded the allowed number of max cycles {max_cycles}")]
    CycleLimitExceeded {
        /// The limit.
        max_cycles: u32,
    },
    /// The host's debug handler failed.
    #[error("debug handler error at clock cycle {clk}: {source}")]
    DebugHandlerError {
        /// The cycle.
        clk: u32,
        /// The handler's error.
        source: EventError,
    },
    /// The host's trace handler failed.
    #[error("trace handler error at clock cycle {clk} for trace id {trace_id}: {source}")]
    TraceHandlerError {
        /// The cycle.
        clk: u32,
        /// The trace id.
        trace_id: u32,
        /// The handler's error.
        source: EventError,
    },
    /// A division or an inversion by zero.
    #[error("division by zero at clock cycle {clk} ({op})")]
    DivideByZero {
        /// The cycle.
        clk: u32,
        /// The failing operation.
        op: OpCode,
    },
    /// A `DYN`/`DYNCALL` target is known neither to the program nor to the host.
    #[error("dynamic call target {digest:?} not found, at clock cycle {clk}")]
    DynamicNodeNotFound {
        /// The cycle.
        clk: u32,
        /// The callee digest.
        digest: Word,
    },
    /// An event handler failed.
    #[error("error while handling event {event_id} at clock cycle {clk}: {source}")]
    EventError {
        /// The cycle.
        clk: u32,
        /// The event.
        event_id: EventId,
        /// The event's name, if the host knows it.
        event_name: Option<String>,
        /// The handler's error.
        source: EventError,
    },
    /// An `ASSERT`-like check failed.
    #[error("assertion failed at clock cycle {clk} with error code {err_code}")]
    FailedAssertion {
        /// The cycle.
        clk: u32,
        /// The error code.
        err_code: u64,
        /// The forest's message for the code, if any.
        err_msg: Option<String>,
    },
    /// A basic block whose batches could not be made when it was first run: only a block of
    /// a sealed fast file, whose read-time checks should have made this impossible (see
    /// `weft_mast::BasicBlockNode::batches`).
    #[error("basic block at clock cycle {clk} cannot be batched: {source}")]
    BlockNotBatched {
        /// The cycle.
        clk: u32,
        /// Why the block could not be batched.
        source: weft_mast::BatchError,
    },
    /// Internal failure that has no better description.
    #[error("failed to execute the program: {0}")]
    FailedToExecuteProgram(&'static str),
    /// `FRIE2F4` got a domain segment greater than 3.
    #[error("FRI domain segment value cannot exceed 3, but was {segment}, at clock cycle {clk}")]
    InvalidFriDomainSegment {
        /// The cycle.
        clk: u32,
        /// The segment.
        segment: u64,
    },
    /// `FRIE2F4` found an inconsistent folding.
    #[error("degree-respecting projection is inconsistent at clock cycle {clk}")]
    InvalidFriLayerFolding {
        /// The cycle.
        clk: u32,
    },
    /// Returning from a `CALL`/`DYNCALL`/`SYSCALL` with a stack deeper than sixteen.
    #[error(
        "when returning from a call, stack depth must be 16, but was {depth} (clock cycle {clk})"
    )]
    InvalidStackDepthOnReturn {
        /// The cycle of the `END`.
        clk: u32,
        /// The depth.
        depth: usize,
    },
    /// `ilog2` of zero.
    #[error("integer logarithm of zero at clock cycle {clk}")]
    LogArgumentZero {
        /// The cycle.
        clk: u32,
    },
    /// A forest returned by the host does not contain the procedure it was asked for.
    #[error("forest from host for root {digest:?} does not contain that root")]
    MalformedMastForestInHost {
        /// The root.
        digest: Word,
    },
    /// A memory address is not below `2^32`.
    #[error("memory address {addr} out of bounds at clock cycle {clk}")]
    MemoryAddressOutOfBounds {
        /// The cycle.
        clk: u32,
        /// The address.
        addr: u64,
    },
    /// A memory range's start is past its end.
    #[error("invalid memory range {start_addr}..{end_addr} at clock cycle {clk}")]
    InvalidMemoryRange {
        /// The cycle.
        clk: u32,
        /// Start.
        start_addr: u64,
        /// End.
        end_addr: u64,
    },
    /// A word access to an address that is not a multiple of four.
    #[error("unaligned word access at address {addr} in context {ctx} at clock cycle {clk}")]
    UnalignedWordAccess {
        /// The cycle.
        clk: u32,
        /// The context.
        ctx: u32,
        /// The address.
        addr: u32,
    },
    /// `CRYPTOSTREAM` source and destination ranges overlap (upstream: an illegal memory access).
    #[error("overlapping memory ranges at clock cycle {clk}")]
    OverlappingMemoryRanges {
        /// The cycle.
        clk: u32,
    },
    /// An external node names a procedure no forest of the host holds.
    #[error("no forest contains the procedure with root {digest:?}")]
    NoMastForestWithProcedure {
        /// The root.
        digest: Word,
    },
    /// `MPVERIFY` failed.
    #[error("merkle path verification failed at clock cycle {clk} (error code {err_code})")]
    MerklePathVerificationFailed {
        /// The cycle.
        clk: u32,
        /// The leaf value.
        value: Word,
        /// The leaf index.
        index: Felt,
        /// The root.
        root: Word,
        /// The error code.
        err_code: u64,
    },
    /// A conditional (`SPLIT`) got a non-binary condition.
    #[error("if statement expected a binary value, got {value} at clock cycle {clk}")]
    NotBinaryValueIf {
        /// The cycle.
        clk: u32,
        /// The value.
        value: Felt,
    },
    /// An operation got a non-binary operand.
    #[error("{op} expected a binary value, got {value} at clock cycle {clk}")]
    NotBinaryValueOp {
        /// The cycle.
        clk: u32,
        /// The operation.
        op: OpCode,
        /// The value.
        value: Felt,
    },
    /// A loop (`LOOP`, `REPEAT`) got a non-binary condition.
    #[error("loop condition must be a binary value, got {value} at clock cycle {clk}")]
    NotBinaryValueLoop {
        /// The cycle.
        clk: u32,
        /// The value.
        value: Felt,
    },
    /// A u32 operation got an operand of 2^32 or more.
    #[error(
        "{op} expected u32 values, got {values:?} at clock cycle {clk} (error code {err_code})"
    )]
    NotU32Values {
        /// The cycle.
        clk: u32,
        /// The operation.
        op: OpCode,
        /// The offending values.
        values: Vec<u64>,
        /// The error code (0 unless `U32ASSERT2`).
        err_code: u64,
    },
    /// More than sixteen elements remain on the stack at the end.
    #[error("stack has {depth} elements at the end of execution, at most 16 allowed")]
    OutputStackOverflow {
        /// The final depth.
        depth: usize,
    },
    /// The stack grew past the processor's limit.
    #[error("stack overflow at clock cycle {clk}")]
    StackOverflow {
        /// The cycle.
        clk: u32,
    },
    /// A `SYSCALL` target is not exported by the kernel.
    #[error("syscall target {digest:?} is not in the kernel")]
    SyscallTargetNotInKernel {
        /// The target.
        digest: Word,
    },
}

/// The kind of an [`ExecutionError`], without its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// [`AdviceError::StackReadFailed`].
    AdviceStackReadFailed,
    /// [`AdviceError::MapKeyNotFound`].
    AdviceMapKeyNotFound,
    /// [`AdviceError::MapKeyAlreadyPresent`].
    AdviceMapKeyAlreadyPresent,
    /// [`AdviceError::InvalidMerkleTreeNodeIndex`].
    InvalidMerkleTreeNodeIndex,
    /// [`AdviceError::MerkleStoreLookupFailed`] (a Merkle path or node not found).
    MerklePathNotFound,
    /// [`AdviceError::MerkleStoreUpdateFailed`].
    MerkleStoreUpdateFailed,
    /// [`AdviceError::MerkleStoreMergeFailed`].
    MerkleStoreMergeFailed,
    /// [`ExecutionError::Ace`].
    Ace,
    /// [`ExecutionError::CircularExternalNode`].
    CircularExternalNode,
    /// [`ExecutionError::CycleLimitExceeded`].
    CycleLimitExceeded,
    /// [`ExecutionError::DebugHandlerError`].
    DebugHandlerError,
    /// [`ExecutionError::TraceHandlerError`].
    TraceHandlerError,
    /// [`ExecutionError::DivideByZero`].
    DivideByZero,
    /// [`ExecutionError::DynamicNodeNotFound`].
    DynamicNodeNotFound,
    /// [`ExecutionError::EventError`].
    EventError,
    /// [`ExecutionError::FailedAssertion`].
    FailedAssertion,
    /// [`ExecutionError::FailedToExecuteProgram`].
    FailedToExecuteProgram,
    /// [`ExecutionError::InvalidFriDomainSegment`].
    InvalidFriDomainSegment,
    /// [`ExecutionError::InvalidFriLayerFolding`].
    InvalidFriLayerFolding,
    /// [`ExecutionError::InvalidStackDepthOnReturn`].
    InvalidStackDepthOnReturn,
    /// [`ExecutionError::LogArgumentZero`].
    LogArgumentZero,
    /// [`ExecutionError::MalformedMastForestInHost`].
    MalformedMastForestInHost,
    /// [`ExecutionError::MemoryAddressOutOfBounds`].
    MemoryAddressOutOfBounds,
    /// [`ExecutionError::InvalidMemoryRange`].
    InvalidMemoryRange,
    /// [`ExecutionError::UnalignedWordAccess`].
    UnalignedWordAccess,
    /// [`ExecutionError::OverlappingMemoryRanges`].
    OverlappingMemoryRanges,
    /// [`ExecutionError::NoMastForestWithProcedure`].
    NoMastForestWithProcedure,
    /// [`ExecutionError::MerklePathVerificationFailed`].
    MerklePathVerificationFailed,
    /// [`ExecutionError::NotBinaryValueIf`].
    NotBinaryValueIf,
    /// [`ExecutionError::NotBinaryValueOp`].
    NotBinaryValueOp,
    /// [`ExecutionError::NotBinaryValueLoop`].
    NotBinaryValueLoop,
    /// [`ExecutionError::NotU32Values`].
    NotU32Values,
    /// [`ExecutionError::OutputStackOverflow`].
    OutputStackOverflow,
    /// [`ExecutionError::StackOverflow`].
    StackOverflow,
    /// [`ExecutionError::SyscallTargetNotInKernel`].
    SyscallTargetNotInKernel,
}

impl ExecutionError {
    /// Returns the kind of this error.
    pub fn kind(&self) -> ErrorKind {
        use ExecutionError as E;
        match self {
            E::Advice { source, .. } => match source {
                AdviceError::StackReadFailed => ErrorKind::AdviceStackReadFailed,
                AdviceError::MapKeyNotFound { .. } => ErrorKind::AdviceMapKeyNotFound,
                AdviceError::MapKeyAlreadyPresent { .. } => ErrorKind::AdviceMapKeyAlreadyPresent,
                AdviceError::InvalidMerkleTreeNodeIndex { .. } => {
                    ErrorKind::InvalidMerkleTreeNodeIndex
                }
                AdviceError::MerkleStoreLookupFailed(_) => ErrorKind::MerklePathNotFound,
                AdviceError::MerkleStoreUpdateFailed(_) => ErrorKind::MerkleStoreUpdateFailed,
                AdviceError::MerkleStoreMergeFailed(_) => ErrorKind::MerkleStoreMergeFailed,
            },
            E::Ace { .. } => ErrorKind::Ace,
            E::CircularExternalNode { .. } => ErrorKind::CircularExternalNode,
            E::CycleLimitExceeded { .. } => ErrorKind::CycleLimitExceeded,
            E::DebugHandlerError { .. } => ErrorKind::DebugHandlerError,
            E::TraceHandlerError { .. } => ErrorKind::TraceHandlerError,
            E::DivideByZero { .. } => ErrorKind::DivideByZero,
            E::DynamicNodeNotFound { .. } => ErrorKind::DynamicNodeNotFound,
            E::EventError { .. } => ErrorKind::EventError,
            E::FailedAssertion { .. } => ErrorKind::FailedAssertion,
            // Upstream batches every block when it is made, so it has no such error: the
            // nearest kind is an internal failure.
            E::FailedToExecuteProgram(_) | E::BlockNotBatched { .. } => {
                ErrorKind::FailedToExecuteProgram
            }
            E::InvalidFriDomainSegment { .. } => ErrorKind::InvalidFriDomainSegment,
            E::InvalidFriLayerFolding { .. } => ErrorKind::InvalidFriLayerFolding,
            E::InvalidStackDepthOnReturn { .. } => ErrorKind::InvalidStackDepthOnReturn,
            E::LogArgumentZero { .. } => ErrorKind::LogArgumentZero,
            E::MalformedMastForestInHost { .. } => ErrorKind::MalformedMastForestInHost,
            E::MemoryAddressOutOfBounds { .. } => ErrorKind::MemoryAddressOutOfBounds,
            E::InvalidMemoryRange { .. } => ErrorKind::InvalidMemoryRange,
            E::UnalignedWordAccess { .. } => ErrorKind::UnalignedWordAccess,
            E::OverlappingMemoryRanges { .. } => ErrorKind::OverlappingMemoryRanges,
            E::NoMastForestWithProcedure { .. } => ErrorKind::NoMastForestWithProcedure,
            E::MerklePathVerificationFailed { .. } => ErrorKind::MerklePathVerificationFailed,
            E::NotBinaryValueIf { .. } => ErrorKind::NotBinaryValueIf,
            E::NotBinaryValueOp { .. } => ErrorKind::NotBinaryValueOp,
            E::NotBinaryValueLoop { .. } => ErrorKind::NotBinaryValueLoop,
            E::NotU32Values { .. } => ErrorKind::NotU32Values,
            E::OutputStackOverflow { .. } => ErrorKind::OutputStackOverflow,
            E::StackOverflow { .. } => ErrorKind::StackOverflow,
            E::SyscallTargetNotInKernel { .. } => ErrorKind::SyscallTargetNotInKernel,
        }
    }

    /// Returns the clock cycle of the failing row, where the error has one.
    pub fn clk(&self) -> Option<u32> {
        use ExecutionError as E;
        match self {
            E::Advice { clk, .. }
            | E::Ace { clk, .. }
            | E::DivideByZero { clk, .. }
            | E::DebugHandlerError { clk, .. }
            | E::TraceHandlerError { clk, .. }
            | E::DynamicNodeNotFound { clk, .. }
            | E::EventError { clk, .. }
            | E::FailedAssertion { clk, .. }
            | E::InvalidFriDomainSegment { clk, .. }
            | E::InvalidFriLayerFolding { clk }
            | E::InvalidStackDepthOnReturn { clk, .. }
            | E::LogArgumentZero { clk }
            | E::MemoryAddressOutOfBounds { clk, .. }
            | E::InvalidMemoryRange { clk, .. }
            | E::UnalignedWordAccess { clk, .. }
            | E::OverlappingMemoryRanges { clk }
            | E::MerklePathVerificationFailed { clk, .. }
            | E::NotBinaryValueIf { clk, .. }
            | E::NotBinaryValueOp { clk, .. }
            | E::NotBinaryValueLoop { clk, .. }
            | E::NotU32Values { clk, .. }
            | E::StackOverflow { clk }
            | E::BlockNotBatched { clk, .. } => Some(*clk),
            E::CircularExternalNode { .. }
            | E::CycleLimitExceeded { .. }
            | E::FailedToExecuteProgram(_)
            | E::MalformedMastForestInHost { .. }
            | E::NoMastForestWithProcedure { .. }
            | E::OutputStackOverflow { .. }
            | E::SyscallTargetNotInKernel { .. } => None,
        }
    }

    /// Wraps an advice error at `clk`.
    pub fn advice(clk: u32, source: AdviceError) -> Self {
        Self::Advice { clk, source }
    }
}
