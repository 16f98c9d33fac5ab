//! The data contract between weft's executor and its trace builder: fragment contexts and
//! replay logs.
//!
//! [`execute_for_trace`] runs the fast processor once with a [`RecordingTracer`] and cuts the
//! execution into fragments of `fragment_size` rows (one row per clock cycle, control rows
//! included; the last fragment may be shorter). Each [`FragmentContext`] holds
//! - [`FragmentState`]: the full state before the fragment's first row: clock, context, caller
//!   hash, precompile transcript, the stack (top, overflow with push clocks, and every caller's
//!   overflow), the decoder's block stack with hasher addresses, the next hasher address, the
//!   row about to run and the continuation stack. Nodes are named by [`NodeRef`]: an index into
//!   the forest table ([`TraceContexts::forests`]) and a node index, never by pointer, so the
//!   state serializes;
//! - the replay logs of the fragment's rows, one typed log per subsystem: [`AdviceReplay`],
//!   [`MemoryReplay`], [`HasherReplay`], [`ExternalReplay`], each consumed in execution order.
//!
//! Besides the fragments, [`TraceContexts::chiplets`] holds the [`ChipletsReplay`] of the whole
//! execution, what the range checker and the chiplet columns need: every hasher request in
//! execution order (a node entered, named by [`NodeRef`] rather than copied; a permutation's
//! input; a Merkle operation's leaf, index and path), every bitwise operation, every memory
//! access (reads and writes, elements and words, with context, address, clock cycle and value),
//! every circuit evaluation (naming the memory reads it made), the kernel's procedures and every
//! `SYSCALL`'s callee, and the program's digest (which seeds the random last row). The u32 range
//! checks are not logged: they are the decoder's helper columns of the core rows.
//!
//! Field elements are stored as their canonical `u64`s. Contexts serialize with serde (bincode
//! is the wire format used here: [`FragmentContext::to_bytes`]).
//!
//! # Hasher outputs: replayed, not recomputed
//! A trace builder could recompute `HPERM`/`LOGPRECOMPILE` outputs and Merkle roots itself. We
//! replay them. Measured when this was decided (release build, the shared 2-core development
//! machine): one RPO permutation (miden-crypto 0.19) cost 5.0 µs, while reading back a recorded
//! 12-element output cost 16 ns; recording costs 100 bytes per permutation
//! (`cargo bench -p weft-benches --bench rpo -- permutation_output` measures both today). A
//! core trace row costs a few nanoseconds to build, so recomputing one permutation would cost
//! as much as a thousand rows, while the recorded outputs stay small:
//! over every conformance program, contexts at 4096-row fragments take 0.86 bytes per cycle in
//! total (`execute_for_trace_fragments_round_trip_on_every_program` in weft-miden).
//!
//! The hasher chiplet needs more than outputs: the seven round states of each permutation. The
//! recording execution computes them anyway, so each recorded `HPERM`/`LOGPRECOMPILE` keeps them
//! ([`PermuteRequest`], 672 bytes more per permutation, never serialized) and the chiplet
//! writes them instead of permuting again: on a chain of 3,000 `HPERM`s the whole pipeline
//! (`execute_for_trace` + `build_trace`) went from 2.2x to 2.7-3.0x upstream's, with
//! `execute_for_trace` as fast as before (1.03x `execute`). `MPVERIFY`'s path and `MRUPDATE`'s
//! old path, which the execution hashes to check them, keep their rounds the same way
//! ([`MerkleVerifyRequest`], [`MerkleUpdateRequest`]): upstream's `merkle_store` example (a
//! path of depth 64 among three) went from 0.86 to 0.51 ms for the whole pipeline (best of
//! 1,500, 2 threads, 2026-12-07); a plain `execute` keeps none. The
//! builder still hashes `MRUPDATE`'s new path (the advice provider hashes it, unseen) and
//! blocks (a block's hashing is never executed).
//!
//! # Cost of recording
//! `execute_for_trace` is the fast processor with [`RecordingTracer`] instead of `NoopTracer`.
//! Figures from `cargo xtask compare` (`weft-compare`, 4096-row fragments, best of repeated
//! runs) on the shared 2-core development machine while other builds ran; spread over three
//! runs in brackets.
//!
//! | program | cycles | before: exec ms | e4t ms | e4t/exec | after: exec ms | e4t ms | e4t/exec |
//! |---|---:|---:|---:|---:|---:|---:|---:|
//! | fib_loop | 280,028 | 0.593 | 0.831 | 1.40 (1.37–1.40) | 0.543 | 0.703 | 1.30 (1.30–1.34) |
//! | hperm_chain | 3,079 | 26.3 | 23.4 | 0.89 (0.89–1.00) | 14.7 | 14.7 | 1.00 (0.97–1.00) |
//! | mem_words | 23,659 | 0.069 | 0.077 | 1.11 (1.09–1.11) | 0.066 | 0.073 | 1.11 (1.11–1.14) |
//! | sha256_chain | 346,834 | 1.317 | 1.473 | 1.12 (1.12–1.20) | 1.022 | 1.137 | 1.11 (1.11) |
//! | u32_arith | 126,026 | 0.353 | 0.484 | 1.37 (1.36–1.37) | 0.317 | 0.364 | 1.15 (1.14–1.16) |
//! | geomean | | | | 1.16 | | | 1.13 (1.12–1.14) |
//!
//! What changed, found with `perf record` on each instance of the processor:
//! - `u32_arith` lost most of its overhead to an inlining accident: the recording instance of
//!   `execute_block` is larger, and the compiler left the `array::map` that reads u32 operands
//!   out of line there (12 % of the run); the operands are now read with a plain loop.
//! - Starting a node cloned and dropped the forest's `Arc`: two atomic updates, each a full
//!   barrier that waits for pending stores, and the recorder's stores made the wait longer
//!   (a quarter of the recording run of `fib_loop`). The processor now keeps the current
//!   forest's `Arc` between nodes.
//! - The recorder keeps the open fragment's logs as its own fields (no `Option` to check per
//!   hook; each new log starts with the capacity the previous fragment needed), holds the open
//!   basic block in a slot instead of pushing and popping it on the block stack, and its hooks
//!   are `#[inline]` so they are compiled into the processor's loop.
//!
//! Where the recording run of `fib_loop` (the worst ratio: one 12-operation block per loop
//! iteration, so four control rows per twelve operation rows) spends its time now: the driver
//! loop 39 % (popping a continuation and dispatching on it is 22 % alone), operations and the
//! stack 30 %, slice and option plumbing of node starts and ends 10 %, and the recorder's own
//! code 2.3 % (the hasher counter, the parent lookup, the `block_addrs` push), plus the
//! per-row fragment-boundary checks on control rows, which are spread over the processor's
//! lines. What remains is mostly the recording instance being a larger function than the
//! non-recording one, so the same driver code gets more spills; the next step would be to make
//! control rows cheaper in both (a smaller continuation, or a direct path for a loop whose body
//! is one block), not to record less: the logs this contract needs are already one push each.
//!
//! [`NodeRef`]: weft_fast::NodeRef

mod chiplets;
mod context;
mod recorder;
pub mod serialization;

pub use chiplets::{
    AceReplay, BitwiseKind, BitwiseOp, BitwiseReplay, ChipletsReplay, CircuitEvaluation,
    HasherRequest, HasherRequestReplay, KernelReplay, MemoryAccess, MemoryAccessKind,
    MemoryAccessReplay, MerkleUpdateRequest, MerkleVerifyRequest, PathRounds, PermuteRequest,
};
pub use context::{
    AdviceReplay, BlockEntry, DecodeError, ExternalReplay, ForestOrigin, FragmentContext,
    FragmentState, FrameState, HasherReplay, MemoryReplay, Resolution, TraceContexts, u64s_to_word,
    word_to_u64s,
};
pub use recorder::{RecordingTracer, execute_for_trace, execute_for_trace_with_options};

#[cfg(test)]
mod tests;

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
