//! weft's fast processor: executes a [`weft_mast::Program`] without building a trace, with the
//! same outputs and errors (kind and clock cycle) as the reference processor.
//!
//! - [`FastProcessor`] runs an iterative driver over a continuation stack (no recursion); basic
//!   blocks are tight loops over their pre-decoded operations; the stack lives in one flat
//!   buffer (see the `stack` module for its zero-below-bottom layout); nothing is allocated per
//!   operation. `ExecutionOptions::max_cycles` is enforced.
//! - The semantics of every user operation are in [`ops`], written once against the
//!   [`Machine`] trait, so trace generation reuses them with replay-backed memory, advice and
//!   hasher and a real helper-register sink.
//! - The [`Tracer`] trait is the contract between execution and anything that records it (see
//!   [`tracer`]); [`NoopTracer`] costs nothing.

pub mod machine;
pub mod ops;
mod processor;
pub mod stack;
pub mod tracer;

pub use machine::Machine;
pub use processor::{ExecutionOutput, FastProcessor};
pub use stack::{SavedOverflow, Stack};
pub use tracer::{
    BlockKind, CallFrame, Checkpoint, Continuation, NodeRef, NoopTracer, RowAt, Tracer,
};

#[cfg(test)]
mod tests;

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
