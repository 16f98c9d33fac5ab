//! Programs as a MAST (Merkelized abstract syntax tree) forest.
//!
//! A [`MastForest`] is an arena of [`MastNode`]s addressed by [`MastNodeId`], a `u32` newtype.
//! Node kinds are basic blocks (operations packed into groups and batches exactly as upstream
//! miden-vm 0.20.6 packs them, see [`batch`]), joins, splits, loops, calls, syscalls, dyns,
//! dyncalls and external references. Each node's digest equals upstream's. Decorators live in
//! side tables of the forest, keyed by node id, so nodes stay small and digests stay free of
//! debug data.
//!
//! This crate knows nothing of processors or traces.

pub mod advice;
pub mod batch;
pub mod decorator;
mod error;
pub mod forest;
pub mod format;
mod id;
pub mod limits;
pub mod node;
pub mod program;
mod serialization;
mod strip;

pub use advice::AdviceMap;
pub use batch::{BatchError, OpBatch};
pub use decorator::{AssemblyOp, DebugOptions, Decorator, NodeDecorators, SourceLocation};
pub use error::MastError;
pub use forest::{MastForest, MastForestBuilder};
pub use id::{DecoratorId, MastNodeId};
pub use node::{
    BasicBlockNode, CallNode, DynNode, ExternalNode, JoinNode, LoopNode, MastNode, MastNodeKind,
    SplitNode,
};
pub use program::{Kernel, Program};

#[cfg(test)]
mod tests;

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
