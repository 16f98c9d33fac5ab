//! weft's fast processor and its one execution driver: executes a [`weft_mast::Program`]
//! without building a trace, with the same outputs and errors (kind and clock cycle) as the
//! reference processor.
//!
//! - [`driver::Driver`] is the only place where control flow is written: an iterative loop
//!   over a continuation stack (no recursion), basic blocks as tight loops over their
//!   pre-decoded operations, call frames and forests resolved through the host. It is generic
//!   over a [`Backend`] (the services it asks for) and a [`Tracer`] (what a row does besides
//!   executing), and it can start at any row a checkpoint names.
//! - [`FastProcessor`] runs the driver over a real memory, advice provider and host; the stack
//!   lives in one flat buffer (see the `stack` module for its zero-below-bottom layout);
//!   nothing is allocated per operation. `ExecutionOptions::max_cycles` is enforced.
//!   `weft_replay::execute_for_trace` is the same run with a recording tracer, and
//!   `weft_tracegen` runs the same driver over a replay-backed backend with a tracer that
//!   writes trace rows.
//! - The semantics of every user operation are in [`ops`], written once against the
//!   [`Machine`] trait, which the driver implements; a machine has its own error type, so a
//!   replay-backed one reports a log that runs out as an error of its own.
//! - The [`Tracer`] trait is the written contract between the driver and anything that
//!   observes or rebuilds an execution (see [`tracer`]); [`NoopTracer`] costs nothing.

pub mod backend;
pub mod driver;
pub mod machine;
pub mod ops;
mod processor;
pub mod stack;
pub mod tracer;

pub use backend::{Backend, MerkleOutcome, ResolveKind, Resolved};
pub use driver::{Driver, DriverState, RunEnd};
pub use machine::Machine;
pub use processor::{ExecutionOutput, FastProcessor};
pub use stack::{SavedOverflow, Stack};
pub use tracer::{
    BatchAt, BlockKind, CallFrame, Checkpoint, Continuation, Never, NodeRef, NodeStart, NoopTracer,
    RowAt, RowState, Tracer,
};

#[cfg(test)]
mod tests;

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
