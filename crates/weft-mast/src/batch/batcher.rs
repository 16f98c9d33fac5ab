//! The batcher: one block (or many, into one shared operation array) packed operation by
//! operation into groups and batches, and the frozen array the blocks' batches are made from.

use std::{ops::Range, sync::Arc};

use weft_core::{
    Felt, OpCode, Operation, Rpo256, Word, ZERO,
    operations::{BATCH_SIZE, GROUP_SIZE, OP_BITS},
};

use super::op_batch::OpBatch;

// BATCHER
// ================================================================================================

/// The layout of one finished batch, before the block's operation array is shared.
#[derive(Clone, Copy)]
pub(super) struct BatchLayout {
    start: u32,
    indptr: [u8; BATCH_SIZE + 1],
    padding: [bool; BATCH_SIZE],
    groups: [Felt; BATCH_SIZE],
    num_groups: u8,
}

/// Marks a group slot that holds an immediate rather than operations.
pub(super) const NO_START: u8 = u8::MAX;

/// Batches one block, operation by operation: the open batch is built in a fixed buffer and
/// moved to the block's operation array when it closes.
pub(crate) struct BlockBatcher {
    /// Executed operations of the closed batches.
    pub(super) ops: Vec<Operation>,
    /// Closed batches.
    pub(super) layouts: Vec<BatchLayout>,
    /// Operations of the open batch (at most 8 groups of 9).
    pub(super) buf: [Operation; BATCH_SIZE * GROUP_SIZE],
    /// Number of operations in `buf`.
    pub(super) len: usize,
    /// Start (in the batch) of each op-group slot; [`NO_START`] for immediates.
    pub(super) starts: [u8; BATCH_SIZE],
    pub(super) padding: [bool; BATCH_SIZE],
    pub(super) groups: [Felt; BATCH_SIZE],
    /// Opcodes packed so far into the open group.
    pub(super) group_bits: u64,
    /// Number of opcodes in the open group.
    pub(super) n_in_group: usize,
    /// Slot of the open op group.
    pub(super) group_slot: usize,
    /// Next slot not yet taken by a group or an immediate.
    pub(super) next_slot: usize,
    /// Whether the last operation appended is a `PUSH`.
    pub(super) last_is_push: bool,
}

impl BlockBatcher {
    /// Creates a batcher for a block of about `n_ops` operations.
    pub(crate) fn with_capacity(n_ops: usize) -> Self {
        let mut starts = [NO_START; BATCH_SIZE];
        starts[0] = 0;
        Self {
            ops: Vec::with_capacity(n_ops + n_ops / 8 + 2),
            layouts: Vec::with_capacity(n_ops / (BATCH_SIZE * GROUP_SIZE) + 1),
            buf: [Operation::Noop; BATCH_SIZE * GROUP_SIZE],
            len: 0,
            starts,
            padding: [false; BATCH_SIZE],
            groups: [ZERO; BATCH_SIZE],
            group_bits: 0,
            n_in_group: 0,
            group_slot: 0,
            next_slot: 1,
            last_is_push: false,
        }
    }

    /// Creates a batcher for `n_blocks` blocks of `n_ops` operations in all.
    pub(crate) fn for_blocks(n_ops: usize, n_blocks: usize) -> Self {
        let mut batcher = Self::with_capacity(n_ops);
        batcher.layouts.reserve(n_blocks);
        batcher
    }

    /// Adds an operation that is not a `PUSH`; `code` is its opcode.
    #[inline]
    pub(crate) fn push(&mut self, op: Operation, code: u8) {
        if self.n_in_group == GROUP_SIZE {
            if self.next_slot == BATCH_SIZE {
                self.finish_batch();
            } else {
                self.close_group();
            }
        }
        self.append(op, code, false);
    }

    /// Adds a `PUSH` of `value`: the value takes the next free slot of the batch, after the
    /// slot of the group holding the `PUSH` (a full or nearly full group is closed first).
    #[inline]
    pub(crate) fn push_value(&mut self, op: Operation, value: Felt) {
        let fits = if self.n_in_group + 1 < GROUP_SIZE {
            self.next_slot < BATCH_SIZE
        } else {
            self.next_slot + 1 < BATCH_SIZE
        };
        if !fits {
            self.finish_batch();
        }
        if self.n_in_group >= GROUP_SIZE - 1 {
            self.close_group();
        }
        self.groups[self.next_slot] = value;
        self.next_slot += 1;
        self.append(op, OpCode::Push.as_u8(), true);
    }

    #[inline(always)]
    fn append(&mut self, op: Operation, code: u8, is_push: bool) {
        self.group_bits |= u64::from(code) << (OP_BITS * self.n_in_group);
        // The batching rules keep a batch at 8 groups of at most 9 operations, padding
        // included, so the buffer never overflows.
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = op;
        }
        self.len += 1;
        self.n_in_group += 1;
        self.last_is_push = is_push;
    }

    /// Adds the padding `NOOP` a group needs when it is empty or ends with an immediate.
    fn pad_group(&mut self) {
        if self.n_in_group == 0 || self.last_is_push {
            self.append(Operation::Noop, OpCode::Noop.as_u8(), false);
            self.padding[self.group_slot] = true;
        }
    }

    pub(super) fn close_group(&mut self) {
        self.pad_group();
        self.groups[self.group_slot] = Felt::new(self.group_bits);
        self.group_slot = self.next_slot;
        self.next_slot += 1;
        self.starts[self.group_slot] = self.len as u8;
        self.group_bits = 0;
        self.n_in_group = 0;
    }

    /// Closes the open batch (its group count rounded up to a power of two) and opens a new one.
    #[cold]
    #[inline(never)]
    pub(super) fn finish_batch(&mut self) {
        let target = self.next_slot.next_power_of_two();
        while self.next_slot < target {
            self.close_group();
        }
        self.pad_group();
        self.groups[self.group_slot] = Felt::new(self.group_bits);
        let num_groups = self.next_slot;

        let mut indptr = [0u8; BATCH_SIZE + 1];
        indptr[num_groups] = self.len as u8;
        for slot in (0..num_groups).rev() {
            indptr[slot] = match self.starts[slot] {
                NO_START => indptr[slot + 1],
                start => start,
            };
        }
        self.layouts.push(BatchLayout {
            // Readers bound blocks far below 2^32 operations.
            start: u32::try_from(self.ops.len()).unwrap_or(u32::MAX),
            indptr,
            padding: self.padding,
            groups: self.groups,
            num_groups: num_groups as u8,
        });
        self.ops.extend_from_slice(&self.buf[..self.len]);
        self.reset_batch();
    }

    /// Resets the open batch to empty.
    pub(super) fn reset_batch(&mut self) {
        self.len = 0;
        self.starts = [NO_START; BATCH_SIZE];
        self.starts[0] = 0;
        self.padding = [false; BATCH_SIZE];
        self.groups = [ZERO; BATCH_SIZE];
        self.group_bits = 0;
        self.n_in_group = 0;
        self.group_slot = 0;
        self.next_slot = 1;
        self.last_is_push = false;
    }

    /// Closes the last batch and returns the block's batches, which share one operation array.
    pub(crate) fn finish(mut self) -> Vec<OpBatch> {
        if self.len > 0 {
            self.finish_batch();
        }
        self.share().all_batches()
    }

    /// Freezes the operation array of every block added so far.
    pub(crate) fn share(self) -> SharedBatches {
        SharedBatches {
            ops: Arc::new(self.ops),
            layouts: self.layouts,
        }
    }
}

/// The frozen operation array of one or more batched blocks, from which each block's
/// [`OpBatch`]es are made.
pub(crate) struct SharedBatches {
    ops: Arc<Vec<Operation>>,
    layouts: Vec<BatchLayout>,
}

impl SharedBatches {
    /// Returns the digest of the block made of the batches `range`, as [`batches_digest`] of
    /// [`Self::batches`] would, without making the batches.
    /// `None` if `range` is not a range of batches of this array.
    pub(crate) fn digest(&self, range: Range<usize>) -> Option<Word> {
        let layouts = self.layouts.get(range)?;
        Some(groups_digest(layouts.iter().map(|l| &l.groups)))
    }

    /// Returns the batches `range` (as returned by [`BlockBatcher::add_encoded`]), or `None` if
    /// `range` is not a range of batches of this array.
    pub(crate) fn batches(&self, range: Range<usize>) -> Option<Vec<OpBatch>> {
        Some(self.make_batches(self.layouts.get(range)?))
    }

    /// Returns every batch of the array.
    pub(crate) fn all_batches(&self) -> Vec<OpBatch> {
        self.make_batches(&self.layouts)
    }

    fn make_batches(&self, layouts: &[BatchLayout]) -> Vec<OpBatch> {
        layouts
            .iter()
            .map(|l| OpBatch {
                block_ops: Arc::clone(&self.ops),
                start: l.start,
                indptr: l.indptr,
                padding: l.padding,
                groups: l.groups,
                num_groups: l.num_groups,
            })
            .collect()
    }
}

/// Returns the digest of a block whose batches hold `groups`: RPO-256 of all their slots.
pub(super) fn groups_digest<'a>(groups: impl Iterator<Item = &'a [Felt; BATCH_SIZE]>) -> Word {
    let elements: Vec<Felt> = groups.flatten().copied().collect();
    Rpo256::hash_elements(&elements)
}
