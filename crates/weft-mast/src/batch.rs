//! Basic-block batching: operations packed into groups and batches exactly as upstream does it.
//!
//! - An operation group is one field element holding up to [`GROUP_SIZE`] (9) opcodes, packed
//!   least-significant first, 7 bits each.
//! - A batch holds [`BATCH_SIZE`] (8) group slots. A `PUSH` immediate takes the next free slot of
//!   the current batch, after the slot of the op group that holds the `PUSH` itself.
//! - A group never ends with a `PUSH`: if a `PUSH` would be the ninth opcode of a group, the group
//!   is closed first with a `NOOP` in its place. A group closed with no opcodes, or whose last
//!   opcode is a `PUSH`, receives a padding `NOOP` (which is executed and costs a cycle).
//! - The group count of the last batch is rounded up to a power of two (1, 2, 4 or 8) with
//!   padding groups that each hold one `NOOP`; every batch but the last holds 8 groups.
//!
//! The block's digest is the RPO-256 hash of all 8 slots of every batch, in order.

pub use weft_core::operations::{BATCH_SIZE, GROUP_SIZE, OP_BITS};
use weft_core::{Felt, Operation, Rpo256, Word, ZERO};

/// One batch of up to eight operation groups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpBatch {
    /// Every executed operation of the batch, padding `NOOP`s included, in order.
    ops: Vec<Operation>,
    /// `ops[indptr[g]..indptr[g + 1]]` are the operations of group slot `g` (empty for a slot
    /// holding an immediate value).
    indptr: [u8; BATCH_SIZE + 1],
    /// Whether the last operation of a group slot is a padding `NOOP`.
    padding: [bool; BATCH_SIZE],
    /// The eight group slots as field elements (unused slots are zero).
    groups: [Felt; BATCH_SIZE],
    /// The number of used group slots: a power of two for the last batch, 8 for the others.
    num_groups: u8,
}

impl OpBatch {
    /// Returns every executed operation of the batch, padding `NOOP`s included.
    #[inline]
    pub fn ops(&self) -> &[Operation] {
        &self.ops
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
        (0..self.num_groups()).flat_map(move |g| {
            let start = usize::from(self.indptr[g]);
            let end = usize::from(self.indptr[g + 1]) - usize::from(self.padding[g]);
            self.ops[start..end].iter()
        })
    }

    /// Returns `(group slot, index inside the group, op)` for every executed operation.
    pub fn iter_with_groups(&self) -> impl Iterator<Item = (usize, usize, &Operation)> + '_ {
        (0..self.num_groups()).flat_map(move |g| {
            let start = usize::from(self.indptr[g]);
            let end = usize::from(self.indptr[g + 1]);
            self.ops[start..end]
                .iter()
                .enumerate()
                .map(move |(i, op)| (g, i, op))
        })
    }
}

/// Packs `ops` into batches.
///
/// An empty input yields no batches (the forest builder rejects empty blocks before this).
pub fn batch_ops(ops: &[Operation]) -> Vec<OpBatch> {
    let mut batches = Vec::with_capacity(ops.len() / (BATCH_SIZE * GROUP_SIZE) + 1);
    let mut acc = BatchBuilder::new();
    for &op in ops {
        if !acc.fits(op) {
            batches.push(std::mem::replace(&mut acc, BatchBuilder::new()).finish());
        }
        acc.push(op);
    }
    if !acc.ops.is_empty() {
        batches.push(acc.finish());
    }
    batches
}

/// Returns the digest of a block made of `batches`.
pub fn batches_digest(batches: &[OpBatch]) -> Word {
    let groups: Vec<Felt> = batches.iter().flat_map(|b| b.groups).collect();
    Rpo256::hash_elements(&groups)
}

/// Fills one batch, slot by slot.
struct BatchBuilder {
    ops: Vec<Operation>,
    /// Start op index of each op-group slot; `None` for slots holding immediates.
    starts: [Option<u8>; BATCH_SIZE],
    padding: [bool; BATCH_SIZE],
    groups: [Felt; BATCH_SIZE],
    /// Opcodes packed so far into the open group.
    group_bits: u64,
    /// Number of opcodes in the open group.
    n_in_group: usize,
    /// Slot of the open op group.
    group_slot: usize,
    /// Next slot not yet taken by a group or an immediate.
    next_slot: usize,
}

impl BatchBuilder {
    fn new() -> Self {
        let mut starts = [None; BATCH_SIZE];
        starts[0] = Some(0);
        Self {
            ops: Vec::new(),
            starts,
            padding: [false; BATCH_SIZE],
            groups: [ZERO; BATCH_SIZE],
            group_bits: 0,
            n_in_group: 0,
            group_slot: 0,
            next_slot: 1,
        }
    }

    /// Whether `op` (and its immediate) still fits in this batch.
    fn fits(&self, op: Operation) -> bool {
        if op.imm_value().is_some() {
            // A full or nearly full group is closed first, which takes another slot.
            if self.n_in_group + 1 < GROUP_SIZE {
                self.next_slot < BATCH_SIZE
            } else {
                self.next_slot + 1 < BATCH_SIZE
            }
        } else {
            self.n_in_group < GROUP_SIZE || self.next_slot < BATCH_SIZE
        }
    }

    fn push(&mut self, op: Operation) {
        if self.n_in_group == GROUP_SIZE {
            self.close_group();
        }
        if let Some(imm) = op.imm_value() {
            if self.n_in_group == GROUP_SIZE - 1 {
                self.close_group();
            }
            self.groups[self.next_slot] = imm;
            self.next_slot += 1;
        }
        self.append(op);
    }

    fn append(&mut self, op: Operation) {
        self.group_bits |= u64::from(op.op_code_u8()) << (OP_BITS * self.n_in_group);
        self.ops.push(op);
        self.n_in_group += 1;
    }

    /// Adds the padding `NOOP` a group needs when it is empty or ends with an immediate.
    fn pad_group(&mut self) {
        let ends_with_imm = self.ops.last().is_some_and(|op| op.imm_value().is_some());
        if self.n_in_group == 0 || ends_with_imm {
            self.append(Operation::Noop);
            self.padding[self.group_slot] = true;
        }
    }

    fn close_group(&mut self) {
        self.pad_group();
        self.groups[self.group_slot] = Felt::new(self.group_bits);
        self.group_slot = self.next_slot;
        self.next_slot += 1;
        self.starts[self.group_slot] = Some(self.ops_len_u8());
        self.group_bits = 0;
        self.n_in_group = 0;
    }

    fn ops_len_u8(&self) -> u8 {
        // A batch holds at most 8 groups of 9 ops, so the count always fits in a u8.
        u8::try_from(self.ops.len()).unwrap_or(u8::MAX)
    }

    fn finish(mut self) -> OpBatch {
        let target = self.next_slot.next_power_of_two();
        while self.next_slot < target {
            self.close_group();
        }
        self.pad_group();
        self.groups[self.group_slot] = Felt::new(self.group_bits);
        let num_groups = self.next_slot;

        let mut indptr = [0u8; BATCH_SIZE + 1];
        indptr[num_groups] = self.ops_len_u8();
        for slot in (0..num_groups).rev() {
            indptr[slot] = self.starts[slot].unwrap_or(indptr[slot + 1]);
        }
        OpBatch {
            ops: self.ops,
            indptr,
            padding: self.padding,
            groups: self.groups,
            num_groups: u8::try_from(num_groups).unwrap_or(u8::MAX),
        }
    }
}

#[cfg(test)]
mod tests {
    use weft_core::ONE;

    use super::*;

    fn push(v: u64) -> Operation {
        Operation::Push(Felt::new(v))
    }

    #[test]
    fn single_op_is_one_group_one_batch() {
        let batches = batch_ops(&[Operation::Add]);
        assert_eq!(batches.len(), 1);
        assert_eq!(batches[0].num_groups(), 1);
        assert_eq!(batches[0].ops(), &[Operation::Add]);
        assert_eq!(batches[0].groups()[0], Felt::new(34));
    }

    #[test]
    fn push_takes_next_slot_and_rounds_groups_to_pow2() {
        let batches = batch_ops(&[push(5), Operation::Add]);
        let b = &batches[0];
        assert_eq!(b.num_groups(), 2);
        assert_eq!(b.groups()[1], Felt::new(5));
        assert_eq!(b.groups()[0], Felt::new(91 | (34 << 7)));
        assert_eq!(b.ops(), &[push(5), Operation::Add]);

        // Two pushes: slots 1 and 2 hold immediates, rounded to 4 with one padding group.
        let batches = batch_ops(&[push(1), push(2)]);
        let b = &batches[0];
        assert_eq!(b.num_groups(), 4);
        assert_eq!(
            b.ops(),
            &[push(1), push(2), Operation::Noop, Operation::Noop]
        );
        assert_eq!(
            b.padding(),
            &[true, false, false, true, false, false, false, false]
        );
        assert_eq!(
            b.raw_ops().copied().collect::<Vec<_>>(),
            vec![push(1), push(2)]
        );
        assert_eq!(b.indptr()[..5], [0, 3, 3, 3, 4]);
    }

    #[test]
    fn ninth_op_push_moves_to_next_group() {
        let mut ops = vec![Operation::Add; 8];
        ops.push(push(9));
        let b = &batch_ops(&ops)[0];
        // Group 0: 8 adds (closed early, no pad); group 1: push + NOOP pad; slot 2: the
        // immediate; slot 3: a padding group.
        assert_eq!(b.num_groups(), 4);
        assert_eq!(b.ops().len(), 8 + 2 + 1);
        assert_eq!(b.indptr()[..5], [0, 8, 10, 10, 11]);
        assert_eq!(b.groups()[2], Felt::new(9));
    }

    #[test]
    fn long_blocks_split_into_full_batches() {
        let ops = vec![Operation::Noop; 2018];
        let batches = batch_ops(&ops);
        assert_eq!(batches.len(), 29);
        assert!(
            batches[..28]
                .iter()
                .all(|b| b.num_groups() == 8 && b.ops().len() == 72)
        );
        let _ = ONE;
    }
}
