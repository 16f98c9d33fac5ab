//! Errors of forest construction.

use weft_core::{OpCode, OpDecodeError, Word};

use crate::batch::BatchError;

/// Why a forest, node or program could not be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MastError {
    /// A basic block with no operation.
    #[error("basic block has no operations")]
    EmptyBasicBlock,
    /// A control-flow operation inside a basic block.
    #[error(
        "operation {op} at index {op_idx} is a control-flow operation and cannot be in a basic block"
    )]
    ControlFlowInBlock {
        /// Index of the operation in the block.
        op_idx: usize,
        /// The operation's code.
        op: OpCode,
    },
    /// An operation that could not be decoded.
    #[error("operation at index {op_idx} is invalid: {source}")]
    InvalidOperation {
        /// Index of the operation in the block.
        op_idx: usize,
        /// Why decoding failed.
        source: OpDecodeError,
    },
    /// A child id that is not in the forest being built.
    #[error("child node {child} does not exist (the forest has {n_nodes} nodes)")]
    DanglingChild {
        /// The offending id.
        child: u32,
        /// Number of nodes in the forest.
        n_nodes: usize,
    },
    /// A decorator id that is not in the decorator table.
    #[error("decorator {id} does not exist (the forest has {n_decorators} decorators)")]
    DanglingDecorator {
        /// The offending id.
        id: u32,
        /// Number of decorators in the forest.
        n_decorators: usize,
    },
    /// A decorator attached past the end of a block.
    #[error("decorator attached at op index {op_idx} of a block with {n_ops} operations")]
    DecoratorOpIndex {
        /// The offending index.
        op_idx: usize,
        /// Number of executed operations in the block.
        n_ops: usize,
    },
    /// An id past the end of its arena.
    #[error("{kind} id {id} is out of range (bound {bound})")]
    IdOutOfRange {
        /// What the id names.
        kind: &'static str,
        /// The offending value.
        id: u32,
        /// The arena's length.
        bound: usize,
    },
    /// An arena that reached its size limit.
    #[error("too many {kind}s: the limit is {limit}")]
    ArenaFull {
        /// What the arena holds.
        kind: &'static str,
        /// The limit.
        limit: usize,
    },
    /// An advice-map key present twice with different values.
    #[error("advice map key {key} is already present with different values")]
    AdviceMapKeyConflict {
        /// The key.
        key: Word,
    },
    /// A kernel with too many procedures.
    #[error("kernel has {n_procs} procedures; at most 255 are allowed")]
    KernelTooLarge {
        /// Number of procedures given.
        n_procs: usize,
    },
    /// A kernel that lists a procedure twice.
    #[error("kernel procedure {index} ({digest}) is listed twice")]
    DuplicateKernelProcedure {
        /// The index of the second listing.
        index: usize,
        /// The digest.
        digest: Word,
    },
    /// A program entry point that is not a procedure root.
    #[error("entrypoint node {id} is not a procedure root of the forest")]
    EntrypointNotRoot {
        /// The entry point id.
        id: u32,
    },
    /// A block whose batches could not be made (see [`crate::BasicBlockNode::batches`]).
    #[error(transparent)]
    Batch(#[from] BatchError),
    /// Decorating a node would make it identical, decorators included, to another node.
    #[error("decorating node {node} would make it a duplicate of node {existing}")]
    DecoratedDuplicate {
        /// The node being decorated.
        node: u32,
        /// The identical node already stored.
        existing: u32,
    },
}
