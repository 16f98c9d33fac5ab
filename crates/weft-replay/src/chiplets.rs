//! The chiplet logs of a whole execution: what the range checker and the chiplet columns of the
//! main trace (hasher, bitwise, memory, ACE, kernel ROM) need, recorded once for the whole run
//! rather than per fragment, since chiplet rows are not ordered by clock cycle.
//!
//! Every log is in execution order. Nothing here is trusted by the trace builder: node
//! references, counts, element values and the memory accesses an ACE evaluation names are
//! checked there before any row is written (`weft_tracegen`'s `ChipletError`).

use serde::{Deserialize, Serialize};
use weft_core::Felt;
use weft_fast::NodeRef;

use crate::DecodeError;

/// One request to the hasher chiplet, in the order the execution made them.
///
/// Sixteen bytes: the commonest request by far, a node's start (every block entered, every loop
/// iteration), is two indices, and the rarer ones keep their inputs behind a box. An inline
/// 12-element state made every request 104 bytes, and storing them was about a tenth of
/// `execute_for_trace` on loop-heavy programs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum HasherRequest {
    /// A node's start row: a control node (8 rows: its children's digests hashed in its
    /// domain) or a basic block (8 rows per batch). The node is named, not copied: its digest,
    /// children and batches come from the forest table.
    Node(NodeRef),
    /// An `HPERM` or `LOGPRECOMPILE` permutation (8 rows).
    Permute(Box<PermuteRequest>),
    /// An `MPVERIFY` (8 rows per level).
    MerkleVerify(Box<MerkleVerifyRequest>),
    /// An `MRUPDATE` (16 rows per level).
    MerkleUpdate(Box<MerkleUpdateRequest>),
}

/// An `HPERM` or `LOGPRECOMPILE` permutation: its input state and, where the execution that
/// recorded it computed them, its seven round states.
///
/// The round states are what the hasher chiplet writes on the permutation's rows after the
/// first; the recording execution computes them anyway, so keeping them saves the trace builder
/// the permutation (on `HPERM` chains, about half of the whole trace build). They are a cache:
/// only the recorder sets them, from the permutation it ran on this very input (both fields are
/// private, so neither changes afterwards); they are not serialized, so a log read from
/// elsewhere has none and its permutations are computed again; two requests with the same
/// input are equal whether or not they hold them.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PermuteRequest {
    input: [u64; 12],
    #[serde(skip)]
    rounds: Option<[[Felt; 12]; 7]>,
}

impl PermuteRequest {
    /// A permutation of `input` (canonical or not: the builder checks it), without round states.
    pub fn new(input: [u64; 12]) -> Self {
        Self {
            input,
            rounds: None,
        }
    }

    /// The input state.
    pub fn input(&self) -> &[u64; 12] {
        &self.input
    }

    /// The seven round states the recording execution computed, if it did.
    pub fn rounds(&self) -> Option<&[[Felt; 12]; 7]> {
        self.rounds.as_ref()
    }

    /// Sets the round states of this request's permutation, computed from its input.
    pub(crate) fn set_rounds(&mut self, rounds: &[[Felt; 12]; 7]) {
        self.rounds = Some(*rounds);
    }
}

impl PartialEq for PermuteRequest {
    /// Equal inputs: the round states follow from the input.
    fn eq(&self, other: &Self) -> bool {
        self.input == other.input
    }
}

impl Eq for PermuteRequest {}

/// The seven round states of each permutation up a Merkle path, leaf level first.
pub type PathRounds = Vec<[[Felt; 12]; 7]>;

/// An `MPVERIFY` of `leaf` at `index` with `path`.
///
/// Like [`PermuteRequest`], it may hold the round states of the path's permutations, which the
/// recording execution computed to check the path: set only by the recorder, from the path it
/// hashed, never serialized, and ignored by equality. Every field is private, so the inputs
/// cannot change under the round states they gave.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MerkleVerifyRequest {
    leaf: [u64; 4],
    index: u64,
    path: Vec<[u64; 4]>,
    #[serde(skip)]
    rounds: PathRounds,
}

impl MerkleVerifyRequest {
    /// An `MPVERIFY` (inputs as they are: the builder checks them), without round states.
    pub fn new(leaf: [u64; 4], index: u64, path: Vec<[u64; 4]>) -> Self {
        Self {
            leaf,
            index,
            path,
            rounds: Vec::new(),
        }
    }

    /// The leaf.
    pub fn leaf(&self) -> &[u64; 4] {
        &self.leaf
    }

    /// The leaf's index.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// The siblings, from the leaf up.
    pub fn path(&self) -> &[[u64; 4]] {
        &self.path
    }

    /// The round states of the path's permutations the recording execution computed, leaf
    /// level first: one per level of the path, or none.
    pub fn rounds(&self) -> &[[[Felt; 12]; 7]] {
        &self.rounds
    }
}

impl PartialEq for MerkleVerifyRequest {
    /// Equal inputs: the round states follow from them.
    fn eq(&self, other: &Self) -> bool {
        (self.leaf, self.index, &self.path) == (other.leaf, other.index, &other.path)
    }
}

impl Eq for MerkleVerifyRequest {}

/// An `MRUPDATE` of `old` to `new` at `index` with `path`.
///
/// May hold the round states of the old path's permutations, as [`MerkleVerifyRequest`] does
/// (the new path is hashed by the advice provider, whose rounds the execution never sees).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MerkleUpdateRequest {
    old: [u64; 4],
    new: [u64; 4],
    index: u64,
    path: Vec<[u64; 4]>,
    #[serde(skip)]
    old_rounds: PathRounds,
}

impl MerkleUpdateRequest {
    /// An `MRUPDATE` (inputs as they are: the builder checks them), without round states.
    pub fn new(old: [u64; 4], new: [u64; 4], index: u64, path: Vec<[u64; 4]>) -> Self {
        Self {
            old,
            new,
            index,
            path,
            old_rounds: Vec::new(),
        }
    }

    /// The old leaf.
    pub fn old(&self) -> &[u64; 4] {
        &self.old
    }

    /// The new leaf.
    pub fn new_leaf(&self) -> &[u64; 4] {
        &self.new
    }

    /// The leaf's index.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// The siblings, from the leaf up.
    pub fn path(&self) -> &[[u64; 4]] {
        &self.path
    }

    /// The round states of the old path's permutations the recording execution computed,
    /// leaf level first: one per level of the path, or none.
    pub fn old_rounds(&self) -> &[[[Felt; 12]; 7]] {
        &self.old_rounds
    }
}

impl PartialEq for MerkleUpdateRequest {
    /// Equal inputs: the round states follow from them.
    fn eq(&self, other: &Self) -> bool {
        (self.old, self.new, self.index, &self.path)
            == (other.old, other.new, other.index, &other.path)
    }
}

impl Eq for MerkleUpdateRequest {}

impl HasherRequest {
    /// Keeps the round states of the permutation this request ran next (its only one for a
    /// permutation, the next level of its path for a Merkle operation); for the recorder, from
    /// the permutations it ran.
    pub(crate) fn push_rounds(&mut self, rounds: &[[Felt; 12]; 7]) {
        match self {
            HasherRequest::Permute(request) => request.set_rounds(rounds),
            HasherRequest::MerkleVerify(request) if request.rounds.len() < request.path.len() => {
                request.rounds.push(*rounds);
            }
            HasherRequest::MerkleUpdate(request)
                if request.old_rounds.len() < request.path.len() =>
            {
                request.old_rounds.push(*rounds);
            }
            _ => {}
        }
    }
}

/// Every hasher request of the execution.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HasherRequestReplay {
    /// The requests, in execution order.
    pub requests: Vec<HasherRequest>,
}

/// A bitwise operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BitwiseKind {
    /// `U32AND`.
    And,
    /// `U32XOR`.
    Xor,
}

/// One `U32AND`/`U32XOR`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BitwiseOp {
    /// The operation.
    pub kind: BitwiseKind,
    /// Its first operand (stack position 1).
    pub a: u32,
    /// Its second operand (the top).
    pub b: u32,
}

/// Every bitwise operation of the execution.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BitwiseReplay {
    /// The operations, in execution order.
    pub ops: Vec<BitwiseOp>,
}

/// What a memory access did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MemoryAccessKind {
    /// Read one element.
    ReadElement,
    /// Read a word.
    ReadWord,
    /// Wrote one element.
    WriteElement,
    /// Wrote a word.
    WriteWord,
}

impl MemoryAccessKind {
    /// Whether the access reads.
    pub fn is_read(self) -> bool {
        matches!(self, Self::ReadElement | Self::ReadWord)
    }

    /// Whether the access touches a whole word.
    pub fn is_word(self) -> bool {
        matches!(self, Self::ReadWord | Self::WriteWord)
    }
}

/// One memory access.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryAccess {
    /// What it did.
    pub kind: MemoryAccessKind,
    /// The context.
    pub ctx: u32,
    /// The address (word-aligned for word accesses).
    pub addr: u32,
    /// The clock cycle of the row that made it.
    pub clk: u32,
    /// The value read or written (an element access uses the first element only).
    pub value: [u64; 4],
}

/// Every memory access of the execution.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryAccessReplay {
    /// The accesses, in execution order.
    pub accesses: Vec<MemoryAccess>,
}

/// One successful `EVALCIRCUIT`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CircuitEvaluation {
    /// The context.
    pub ctx: u32,
    /// The clock cycle.
    pub clk: u32,
    /// The address of the first variable.
    pub ptr: u32,
    /// Variables read (two per word).
    pub n_read: u32,
    /// Instructions evaluated.
    pub n_eval: u32,
    /// The index in [`MemoryAccessReplay::accesses`] of its first read: `n_read / 2` word reads
    /// then `n_eval` element reads follow from there.
    pub first_access: u64,
}

/// Every circuit evaluation of the execution.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AceReplay {
    /// The evaluations, in execution order.
    pub evaluations: Vec<CircuitEvaluation>,
}

/// The kernel and the calls into it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KernelReplay {
    /// The kernel's procedure digests, in the kernel's order.
    pub procedures: Vec<[u64; 4]>,
    /// The digest of the procedure every `SYSCALL` called, in execution order.
    pub accesses: Vec<[u64; 4]>,
}

/// Everything the range checker and the chiplets need, for a whole execution.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChipletsReplay {
    /// The program's digest (it seeds the random last row).
    pub program_hash: [u64; 4],
    /// Hasher requests.
    pub hasher: HasherRequestReplay,
    /// Bitwise operations.
    pub bitwise: BitwiseReplay,
    /// Memory accesses.
    pub memory: MemoryAccessReplay,
    /// Circuit evaluations.
    pub ace: AceReplay,
    /// Kernel procedures and calls.
    pub kernel: KernelReplay,
}

impl ChipletsReplay {
    /// Serializes the logs (bincode).
    ///
    /// # Panics
    /// Never: every field serializes.
    pub fn to_bytes(&self) -> Vec<u8> {
        bincode::serialize(self).expect("chiplet logs always serialize")
    }

    /// Deserializes logs. The result is untrusted: trace generation validates it.
    ///
    /// # Errors
    /// Malformed bytes (an unknown operation or access kind among them).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        bincode::deserialize(bytes)
    }
}

#[cfg(test)]
mod size_tests {
    use super::HasherRequest;

    /// The hasher log gets one request per node entered; its element size is what recording a
    /// loop-heavy program pays per iteration.
    #[test]
    fn a_hasher_request_is_sixteen_bytes() {
        assert_eq!(size_of::<HasherRequest>(), 16);
    }
}
