//! One batch of a block, and why a block's batches could not be made.

use std::sync::Arc;

use weft_core::{Felt, Operation, Word, operations::BATCH_SIZE};

///
/// Only blocks of a sealed fast file are batched on first use, and the reader checks
/// everything the batcher can reject before it makes such a block, so these errors mean that
/// those read-time checks were wrong; they are reported rather than giving an empty block.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BatchError {
    /// The batcher rejected the operations a sealed file's reader accepted.
    #[error("block {digest} cannot be batched: the reader accepted operations the batcher rejects")]
    LazyBlockRejected {
        /// The block's digest.
        digest: Word,
    },
    /// A block left unbatched with no operations to batch it from.
    #[error("block {digest} has neither batches nor operations to batch")]
    NoOperations {
        /// The block's digest.
        digest: Word,
    },
}

/// One batch of up to eight operation groups.
#[derive(Clone)]
pub struct OpBatch {
    /// Every executed operation of the block the batch belongs to; the batch's own are
    /// `block_ops[start..start + indptr[num_groups]]`.
    pub(super) block_ops: Arc<Vec<Operation>>,
    /// Offset of the batch's first operation in `block_ops`.
    pub(super) start: u32,
    /// `ops()[indptr[g]..indptr[g + 1]]` are the operations of group slot `g` (empty for a slot
    /// holding an immediate value).
    pub(super) indptr: [u8; BATCH_SIZE + 1],
    /// Whether the last operation of a group slot is a padding `NOOP`.
    pub(super) padding: [bool; BATCH_SIZE],
    /// The eight group slots as field elements (unused slots are zero).
    pub(super) groups: [Felt; BATCH_SIZE],
    /// The number of used group slots: a power of two for the last batch, 8 for the others.
    pub(super) num_groups: u8,
}

impl OpBatch {
    /// Returns every executed operation of the batch, padding `NOOP`s included.
    #[inline]
    pub fn ops(&self) -> &[Operation] {
        let start = self.start as usize;
        let len = usize::from(self.indptr[usize::from(self.num_groups)]);
        &self.block_ops[start..start + len]
    }

    /// Returns the eight group slots (unused slots are zero).
    #[inline]
    pub fn groups(&self) -> &[Felt; BATCH_SIZE] {
        &self.groups
    }

    /// Returns the number of used group slots.
    #[inline]
    pub fn num_groups(&self) -> usize {
        usize::from(self.num_groups)
    }

    /// Returns the op-index boundaries of the group slots: slot `g` runs
    /// `ops()[indptr[g]..indptr[g + 1]]`.
    #[inline]
    pub fn indptr(&self) -> &[u8; BATCH_SIZE + 1] {
        &self.indptr
    }

    /// Returns, per group slot, whether its last operation is a padding `NOOP`.
    #[inline]
    pub fn padding(&self) -> &[bool; BATCH_SIZE] {
        &self.padding
    }

    /// Returns the operations as written by the author, without the padding `NOOP`s.
    pub fn raw_ops(&self) -> impl Iterator<Item = &Operation> + '_ {
        let ops = self.ops();
        (0..self.num_groups()).flat_map(move |g| {
            let start = usize::from(self.indptr[g]);
            let end = usize::from(self.indptr[g + 1]) - usize::from(self.padding[g]);
            ops[start..end].iter()
        })
    }

    /// Returns `(group slot, index inside the group, op)` for every executed operation.
    pub fn iter_with_groups(&self) -> impl Iterator<Item = (usize, usize, &Operation)> + '_ {
        let ops = self.ops();
        (0..self.num_groups()).flat_map(move |g| {
            let start = usize::from(self.indptr[g]);
            let end = usize::from(self.indptr[g + 1]);
            ops[start..end]
                .iter()
                .enumerate()
                .map(move |(i, op)| (g, i, op))
        })
    }
}

/// Two batches are equal when their operations and layout are, wherever their operations are
/// stored.
impl PartialEq for OpBatch {
    fn eq(&self, other: &Self) -> bool {
        self.num_groups == other.num_groups
            && self.indptr == other.indptr
            && self.padding == other.padding
            && self.groups == other.groups
            && self.ops() == other.ops()
    }
}

impl Eq for OpBatch {}

impl core::fmt::Debug for OpBatch {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OpBatch")
            .field("ops", &self.ops())
            .field("indptr", &self.indptr)
            .field("padding", &self.padding)
            .field("groups", &self.groups)
            .field("num_groups", &self.num_groups)
            .finish()
    }
}
