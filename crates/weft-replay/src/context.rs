//! The contract's types: the state at a fragment's start, one typed replay log per subsystem,
//! the fragment context that holds them, and the trace contexts of a whole execution.

use serde::{Deserialize, Serialize};
use weft_core::{Felt, Word};
use weft_fast::{BlockKind, Continuation, NodeRef, RowAt};

use crate::chiplets::ChipletsReplay;

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
    /// The range checker's and chiplets' logs of the whole execution.
    pub chiplets: ChipletsReplay,
}
