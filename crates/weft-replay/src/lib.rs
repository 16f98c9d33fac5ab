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
//! Field elements are stored as their canonical `u64`s. Contexts serialize with serde (bincode
//! is the wire format used here: [`FragmentContext::to_bytes`]).
//!
//! # Hasher outputs: replayed, not recomputed
//! A trace builder could recompute `HPERM`/`LOGPRECOMPILE` outputs and Merkle roots itself. We
//! replay them. Measured with the `hasher_replay_decision` test (release build, the shared
//! 2-core development machine): one RPO permutation (miden-crypto 0.19) costs 5.0 µs, while
//! reading back a recorded 12-element output costs 16 ns; recording costs 100 bytes per
//! permutation. A core trace row costs a few nanoseconds to build, so recomputing one
//! permutation would cost as much as a thousand rows, while the recorded outputs stay small:
//! over every conformance program, contexts at 4096-row fragments take 0.86 bytes per cycle in
//! total (`execute_for_trace_fragments_round_trip_on_every_program` in weft-miden).
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

mod recorder;
pub mod serialization;

use serde::{Deserialize, Serialize};
use weft_core::{Felt, Word};
use weft_fast::{BlockKind, Continuation, NodeRef, RowAt};

pub use recorder::{RecordingTracer, execute_for_trace, execute_for_trace_with_options};

/// Converts a word to its canonical integers.
pub fn word_to_u64s(word: &Word) -> [u64; 4] {
    [
        word[0].as_int(),
        word[1].as_int(),
        word[2].as_int(),
        word[3].as_int(),
    ]
}

/// Converts canonical integers back to a word.
pub fn u64s_to_word(values: &[u64; 4]) -> Word {
    values.map(Felt::new).into()
}

/// A caller's state set aside by a call-like node.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameState {
    /// The caller's context.
    pub ctx: u32,
    /// The caller's procedure hash.
    pub fn_hash: [u64; 4],
    /// The caller's overflow, bottom first.
    pub overflow: Vec<u64>,
    /// The push clock of every overflow element, bottom first.
    pub overflow_clks: Vec<u32>,
}

/// One entry of the decoder's block stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockEntry {
    /// The node.
    pub node: NodeRef,
    /// Its kind.
    pub kind: BlockKind,
    /// Its hasher address (the decoder's `addr` inside it; advanced by 8 per `RESPAN`).
    pub addr: u32,
    /// The enclosing block's address (0 at the root).
    pub parent_addr: u32,
    /// Whether the enclosing block is an entered loop.
    pub is_loop_body: bool,
}

/// The full state before a fragment's first row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FragmentState {
    /// Clock cycle of the first row.
    pub clk: u32,
    /// Execution context.
    pub ctx: u32,
    /// Caller's procedure hash.
    pub fn_hash: [u64; 4],
    /// Precompile transcript state.
    pub pc_transcript: [u64; 4],
    /// The top 16 stack elements, top first.
    pub stack_top: [u64; 16],
    /// The current context's overflow, bottom first.
    pub overflow: Vec<u64>,
    /// The push clock of every overflow element, bottom first.
    pub overflow_clks: Vec<u32>,
    /// Callers' frames, outermost first.
    pub frames: Vec<FrameState>,
    /// The decoder's block stack, outermost first.
    pub block_stack: Vec<BlockEntry>,
    /// The next hasher chiplet address.
    pub hasher_addr: u32,
    /// The row about to run.
    pub row: RowAt,
    /// The continuation stack (the next one to run last).
    pub continuations: Vec<Continuation>,
    /// The forest table's length at this point.
    pub n_forests: u32,
}

/// Advice stack elements popped during the fragment, in pop order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdviceReplay {
    /// The popped values (1 per `ADVPOP`, 4 per `ADVPOPW`, 8 per `PIPE`).
    pub values: Vec<u64>,
}

/// Memory reads during the fragment, values only (addresses are recomputed from the stack).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryReplay {
    /// Element reads (`MLOAD`, `HORNERBASE`, `EVALCIRCUIT` instructions), in order.
    pub elements: Vec<u64>,
    /// Word reads (`MLOADW`, `MSTREAM`, `CRYPTOSTREAM`, `HORNEREXT`, `EVALCIRCUIT` inputs, `DYN`
    /// callee hashes), in order.
    pub words: Vec<[u64; 4]>,
}

/// Hasher chiplet results during the fragment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HasherReplay {
    /// The address given to every node started, in order.
    pub block_addrs: Vec<u32>,
    /// `(address, output state)` of every `HPERM`/`LOGPRECOMPILE`.
    pub permutations: Vec<(u32, [u64; 12])>,
    /// `(address, root)` of every `MPVERIFY` (the verified root) and `MRUPDATE` (the new root).
    pub merkle_roots: Vec<(u32, [u64; 4])>,
}

/// One resolution of a procedure through the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolution {
    /// The procedure's digest.
    pub digest: [u64; 4],
    /// Forest table index of the forest it resolved to.
    pub forest: u32,
    /// The procedure's root node in that forest.
    pub root: u32,
}

/// External-node and dynamic-call resolutions during the fragment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalReplay {
    /// The resolutions, in order.
    pub resolutions: Vec<Resolution>,
}

/// The state at a fragment's start and the replay logs of its rows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FragmentContext {
    /// State before the first row.
    pub state: FragmentState,
    /// Advice pops.
    pub advice: AdviceReplay,
    /// Memory reads.
    pub memory: MemoryReplay,
    /// Hasher results and addresses.
    pub hasher: HasherReplay,
    /// Host resolutions.
    pub external: ExternalReplay,
}

/// Why bytes could not be decoded as a fragment context.
pub type DecodeError = bincode::Error;

impl FragmentContext {
    /// Serializes the context (bincode).
    ///
    /// # Panics
    /// Never: every field serializes.
    pub fn to_bytes(&self) -> Vec<u8> {
        bincode::serialize(self).expect("fragment contexts always serialize")
    }

    /// Deserializes a context.
    ///
    /// # Errors
    /// Malformed bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        bincode::deserialize(bytes)
    }
}

/// Where a forest of the table came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ForestOrigin {
    /// The program's own forest (index 0).
    Program,
    /// The host's forest for this procedure digest.
    Host {
        /// The digest it was first resolved through.
        digest: [u64; 4],
    },
}

/// Everything trace generation needs besides the program and the forests themselves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceContexts {
    /// Rows per fragment (the last fragment may be shorter).
    pub fragment_size: u32,
    /// The number of executed rows.
    pub n_cycles: u32,
    /// The forest table, in index order.
    pub forests: Vec<ForestOrigin>,
    /// One context per fragment, in order.
    pub fragments: Vec<FragmentContext>,
}

#[cfg(test)]
mod tests;

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
