//! The chiplet log: what the reference processor records while it executes, for the range
//! checker and the chiplets to be turned into columns once execution ends.
//!
//! Every entry is recorded in execution order, at the moment upstream's sequential processor
//! makes the matching chiplet request: hasher requests as nodes are entered and hashing
//! operations run, bitwise operations, the sixteen-bit limbs of u32 range checks, kernel
//! procedure accesses and ACE evaluations. Memory accesses are logged by
//! [`crate::state::Memory`] itself.

use miden_crypto::QuadExtension;
use weft_core::{Felt, Word};

/// A quadratic-extension value (an ACE wire).
pub(crate) type QuadFelt = QuadExtension<Felt>;

/// One request to the hasher chiplet, with everything its rows are computed from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum HasherRequest {
    /// A control block is entered: one permutation of `[0, domain, 0, 0, h1, h2]`.
    ControlBlock { h1: Word, h2: Word, domain: Felt },
    /// A basic block is entered: one permutation per batch, each batch's eight groups absorbed
    /// into the rate.
    BasicBlock { batches: Vec<[Felt; 8]> },
    /// `HPERM` or `LOGPRECOMPILE`: one permutation of the given state.
    Permute { state: [Felt; 12] },
    /// `MPVERIFY`: one permutation per tree level.
    MerkleVerify {
        leaf: Word,
        path: Vec<Word>,
        index: u64,
    },
    /// `MRUPDATE`: the old value's path, then the new value's path, with the same siblings.
    MerkleUpdate {
        old: Word,
        new: Word,
        path: Vec<Word>,
        index: u64,
    },
}

impl HasherRequest {
    /// The number of permutations (eight rows each) the request takes.
    pub(crate) fn n_perms(&self) -> usize {
        match self {
            Self::ControlBlock { .. } | Self::Permute { .. } => 1,
            Self::BasicBlock { batches } => batches.len(),
            Self::MerkleVerify { path, .. } => path.len(),
            Self::MerkleUpdate { path, .. } => 2 * path.len(),
        }
    }
}

/// The two bitwise operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BitwiseOp {
    And,
    Xor,
}

/// One `EVALCIRCUIT`: the circuit's wires in creation order and its gates, enough to rebuild
/// every row of its ACE section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AceEvaluation {
    pub(crate) ctx: u32,
    pub(crate) clk: u32,
    /// The circuit's address.
    pub(crate) ptr: Felt,
    /// The input values (two per READ row), then one value per gate.
    pub(crate) wires: Vec<QuadFelt>,
    /// Per gate: its operation (0 sub, 1 mul, 2 add) and the ids of its left and right inputs.
    pub(crate) gates: Vec<(u64, u64, u64)>,
}

/// Everything the chiplets and the range checker are built from.
#[derive(Clone, Debug, Default)]
pub(crate) struct ChipletLog {
    pub(crate) hasher: Vec<HasherRequest>,
    pub(crate) bitwise: Vec<(BitwiseOp, u64, u64)>,
    /// The sixteen-bit values range-checked by u32 operations (four per operation).
    pub(crate) u32_range_checks: Vec<u16>,
    /// The digest of the procedure of every executed `SYSCALL`.
    pub(crate) kernel_calls: Vec<Word>,
    pub(crate) ace: Vec<AceEvaluation>,
}

/// One access to the memory chiplet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MemoryAccess {
    pub(crate) ctx: u32,
    /// The word-aligned address of the word accessed.
    pub(crate) word_addr: u32,
    /// The element's index in its word for an element access, `None` for a word access.
    pub(crate) element: Option<u8>,
    pub(crate) is_read: bool,
    pub(crate) clk: u32,
    /// The whole word after the access.
    pub(crate) word: Word,
}
