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
//!
//! # Representation
//! A block's executed operations (padding `NOOP`s included) live in one shared array; each
//! [`OpBatch`] holds a reference-counted handle to it plus the batch's own offset, group
//! boundaries, padding flags and group values. Batching a block therefore allocates three times
//! (the operation array, its handle, the batch list), however many batches it has.
//!
//! One batcher, `BlockBatcher`, implements the rules above. [`batch_ops`] feeds it decoded
//! operations (the forest builder); [`batch_encoded`] feeds it opcode bytes and an immediate
//! stream straight from a serialized forest, decoding through a 256-entry table so that loading
//! a block costs a table lookup and a few compares per operation.

use std::{
    ops::Range,
    sync::{Arc, OnceLock},
};
pub use weft_core::operations::{BATCH_SIZE, GROUP_SIZE, OP_BITS};

use weft_core::{Felt, OpCode, Operation, Rpo256, Word, ZERO, operations::ImmKind};

/// Why a block's batches could not be made when first used.
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
    block_ops: Arc<Vec<Operation>>,
    /// Offset of the batch's first operation in `block_ops`.
    start: u32,
    /// `ops()[indptr[g]..indptr[g + 1]]` are the operations of group slot `g` (empty for a slot
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

/// Packs `ops` into batches.
///
/// An empty input yields no batches (the forest builder rejects empty blocks before this).
pub fn batch_ops(ops: &[Operation]) -> Vec<OpBatch> {
    let mut batcher = BlockBatcher::with_capacity(ops.len());
    for &op in ops {
        match op.imm_value() {
            Some(value) => batcher.push_value(op, value),
            None => batcher.push(op, op.op_code_u8()),
        }
    }
    batcher.finish()
}

/// Decodes and batches one block from its opcode bytes, taking the immediates of `PUSH`,
/// `ASSERT`, `U32ASSERT2` and `MPVERIFY` in order from `imms[*imm_pos..]` (canonical field
/// element values, which readers check; they become field elements only here).
///
/// Returns `None` if `codes` is empty, holds a byte that is not an opcode or is a control-flow
/// operation, or needs more immediates than are left; callers that report errors decode the
/// block again operation by operation to say which and where. On success `*imm_pos` has moved
/// past the immediates used, and the batches equal `batch_ops` of the decoded operations.
pub fn batch_encoded(codes: &[u8], imms: &[u64], imm_pos: &mut usize) -> Option<Vec<OpBatch>> {
    let mut batcher = BlockBatcher::with_capacity(codes.len());
    let layouts = batcher.add_encoded(codes, imms, imm_pos)?;
    batcher.share().batches(layouts)
}

impl BlockBatcher {
    /// Decodes and batches one more block into the batcher's operation array, as
    /// [`batch_encoded`] does, and returns the range of its batches; the array can hold many
    /// blocks, so that reading a forest allocates it once. On `None` nothing was added.
    pub(crate) fn add_encoded(
        &mut self,
        codes: &[u8],
        imms: &[u64],
        imm_pos: &mut usize,
    ) -> Option<Range<usize>> {
        let (ops_before, layouts_before) = (self.ops.len(), self.layouts.len());
        let added = self.add_encoded_inner(codes, imms, imm_pos);
        if added.is_none() {
            self.ops.truncate(ops_before);
            self.layouts.truncate(layouts_before);
            self.reset_batch();
        }
        added.map(|()| layouts_before..self.layouts.len())
    }

    #[inline(never)]
    fn add_encoded_inner(&mut self, codes: &[u8], imms: &[u64], imm_pos: &mut usize) -> Option<()> {
        if codes.is_empty() {
            return None;
        }
        let b = self;
        batch_encoded_body(b, codes, imms, imm_pos)
    }
}

/// The loop of [`BlockBatcher::add_encoded`].
#[inline(always)]
fn batch_encoded_body(
    b: &mut BlockBatcher,
    codes: &[u8],
    imms: &[u64],
    imm_pos: &mut usize,
) -> Option<()> {
    let table = decode_table();
    let mut pos = *imm_pos;
    // The open group's packed opcodes, its opcode count and the open batch's operation count
    // live in registers; the batcher's fields are synchronized around the uncommon cases.
    let (mut bits, mut n, mut len) = (0u64, 0usize, 0usize);
    let mut last_is_push = false;
    let mut i = 0;
    while i < codes.len() {
        if n == GROUP_SIZE {
            // More operations follow a full group, so it closes now exactly as the next
            // operation would close it; a full group never ends with a `PUSH`, so no padding.
            if b.next_slot < BATCH_SIZE {
                b.groups[b.group_slot] = Felt::new(bits);
                b.group_slot = b.next_slot;
                b.next_slot += 1;
                b.starts[b.group_slot] = len as u8;
                bits = 0;
                n = 0;
            } else {
                (b.group_bits, b.n_in_group, b.len, b.last_is_push) = (bits, n, len, last_is_push);
                b.finish_batch();
                (bits, n, len, last_is_push) = (0, 0, 0, false);
            }
        }
        // A whole group of nine operations without immediates, unrolled.
        if n == 0
            && let Some(chunk) = codes.get(i..i + GROUP_SIZE)
            && chunk
                .iter()
                .fold(true, |all, &c| all & table.plain[usize::from(c)])
            && let Some(out) = b.buf.get_mut(len..len + GROUP_SIZE)
        {
            for (j, (&c, slot)) in chunk.iter().zip(out.iter_mut()).enumerate() {
                *slot = table.ops[usize::from(c)];
                bits |= u64::from(c) << (OP_BITS * j);
            }
            n = GROUP_SIZE;
            len += GROUP_SIZE;
            i += GROUP_SIZE;
            last_is_push = false;
            continue;
        }
        let byte = codes[i];
        i += 1;
        if table.plain[usize::from(byte)] {
            // The group has room: a full one was closed at the top of the loop.
            bits |= u64::from(byte) << (OP_BITS * n);
            *b.buf.get_mut(len)? = table.ops[usize::from(byte)];
            n += 1;
            len += 1;
            last_is_push = false;
            continue;
        }
        let entry = &table.entries[usize::from(byte)];
        let op = match entry.class {
            OpClass::Plain => entry.op,
            OpClass::ErrorCode => {
                let code = Felt::new(*imms.get(pos)?);
                pos += 1;
                match entry.op {
                    Operation::Assert(_) => Operation::Assert(code),
                    Operation::U32assert2(_) => Operation::U32assert2(code),
                    Operation::MpVerify(_) => Operation::MpVerify(code),
                    _ => return None,
                }
            }
            OpClass::Value => {
                let value = Felt::new(*imms.get(pos)?);
                pos += 1;
                let fits = if n + 1 < GROUP_SIZE {
                    b.next_slot < BATCH_SIZE
                } else {
                    b.next_slot + 1 < BATCH_SIZE
                };
                if !fits || n + 1 >= GROUP_SIZE {
                    (b.group_bits, b.n_in_group, b.len, b.last_is_push) =
                        (bits, n, len, last_is_push);
                    if !fits {
                        b.finish_batch();
                    }
                    if b.n_in_group + 1 >= GROUP_SIZE {
                        b.close_group();
                    }
                    (bits, n, len) = (b.group_bits, b.n_in_group, b.len);
                }
                b.groups[b.next_slot] = value;
                b.next_slot += 1;
                bits |= u64::from(byte) << (OP_BITS * n);
                *b.buf.get_mut(len)? = Operation::Push(value);
                n += 1;
                len += 1;
                last_is_push = true;
                continue;
            }
            OpClass::Rejected => return None,
        };
        // The group has room: a full one was closed at the top of the loop.
        bits |= u64::from(byte) << (OP_BITS * n);
        *b.buf.get_mut(len)? = op;
        n += 1;
        len += 1;
        last_is_push = false;
    }
    (b.group_bits, b.n_in_group, b.len, b.last_is_push) = (bits, n, len, last_is_push);
    *imm_pos = pos;
    if b.len > 0 {
        b.finish_batch();
    }
    Some(())
}

/// Returns the digest of a block made of `batches`.
pub fn batches_digest(batches: &[OpBatch]) -> Word {
    groups_digest(batches.iter().map(|b| &b.groups))
}

/// Returns the digest of a block whose batches hold `groups`: RPO-256 of all their slots.
fn groups_digest<'a>(groups: impl Iterator<Item = &'a [Felt; BATCH_SIZE]>) -> Word {
    let elements: Vec<Felt> = groups.flatten().copied().collect();
    Rpo256::hash_elements(&elements)
}

/// A block's operations as a serialized forest holds them: its opcode bytes and the immediates
/// they take, in arrays shared by the whole forest, checked to be batchable, so that batching
/// can wait until the block is first executed.
#[derive(Clone)]
pub(crate) struct EncodedBlock {
    codes: Arc<[u8]>,
    imms: Arc<[u64]>,
    ops: Range<usize>,
    imm_start: usize,
}

impl EncodedBlock {
    /// Returns the block of opcodes `codes[ops]` whose immediates start at `imms[imm_start]`,
    /// and the number of immediates it takes, if [`batch_encoded`] accepts it: it is not
    /// empty, every byte is a non-control opcode and enough immediates are left. Otherwise
    /// `None`.
    pub(crate) fn new(
        codes: &Arc<[u8]>,
        imms: &Arc<[u64]>,
        ops: Range<usize>,
        imm_start: usize,
    ) -> Option<(Self, usize)> {
        let block = codes.get(ops.clone()).filter(|c| !c.is_empty())?;
        let table = decode_table();
        let (mut n_imms, mut seen) = (0usize, 0u8);
        for &c in block {
            let kind = table.kind[usize::from(c)];
            n_imms += usize::from(kind & KIND_TAKES_IMM);
            seen |= kind;
        }
        if seen & KIND_REJECTED != 0 || n_imms > imms.len().saturating_sub(imm_start) {
            return None;
        }
        let block = Self {
            codes: Arc::clone(codes),
            imms: Arc::clone(imms),
            ops,
            imm_start,
        };
        Some((block, n_imms))
    }

    /// Batches the block. [`Self::new`] checked everything [`batch_encoded`] rejects, so this
    /// gives the block's batches; `None` would mean those checks were wrong (the caller turns it
    /// into a [`BatchError`]).
    pub(crate) fn batch(&self) -> Option<Vec<OpBatch>> {
        let mut imm_pos = self.imm_start;
        self.codes
            .get(self.ops.clone())
            .and_then(|codes| batch_encoded(codes, &self.imms, &mut imm_pos))
    }
}

/// Returns how many of `codes` take an immediate (as [`batch_encoded`] consumes them), so that
/// blocks further on can be batched without first batching the ones before them.
pub(crate) fn count_immediates(codes: &[u8]) -> usize {
    let table = decode_table();
    codes
        .iter()
        .map(|&c| usize::from(table.kind[usize::from(c)] & KIND_TAKES_IMM))
        .sum()
}

// DECODING TABLE
// ================================================================================================

/// How [`batch_encoded`] treats an opcode byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OpClass {
    /// A non-control operation without immediate: the table holds it ready-made.
    Plain,
    /// `PUSH`: takes the next immediate, which also takes a group slot.
    Value,
    /// An assertion: takes the next immediate as its error code.
    ErrorCode,
    /// Not an opcode, or a control-flow operation (not allowed inside a block).
    Rejected,
}

#[derive(Clone, Copy, Debug)]
struct DecodeEntry {
    class: OpClass,
    /// The operation (for `ErrorCode`, with a zero code standing for the real one).
    op: Operation,
}

/// The decoding table, indexed by opcode byte.
struct DecodeTable {
    entries: [DecodeEntry; 256],
    /// The operation of each byte (a dense copy of `entries` for the common case).
    ops: [Operation; 256],

    /// Whether the byte's class is [`OpClass::Plain`] (a dense copy for whole-group checks).
    plain: [bool; 256],
    /// [`KIND_TAKES_IMM`] and [`KIND_REJECTED`] bits of the byte's class.
    kind: [u8; 256],
}

/// A [`DecodeTable::kind`] bit: the byte is [`OpClass::Value`] or [`OpClass::ErrorCode`].
const KIND_TAKES_IMM: u8 = 1;
/// A [`DecodeTable::kind`] bit: the byte is [`OpClass::Rejected`].
const KIND_REJECTED: u8 = 2;

/// Returns the decoding table, built on first use from [`OpCode::try_from`] and
/// [`Operation::from_parts`], so it cannot drift from them.
fn decode_table() -> &'static DecodeTable {
    static TABLE: OnceLock<DecodeTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = [DecodeEntry {
            class: OpClass::Rejected,
            op: Operation::Noop,
        }; 256];
        for (byte, entry) in table.iter_mut().enumerate() {
            let Some(code) = u8::try_from(byte)
                .ok()
                .and_then(|b| OpCode::try_from(b).ok())
            else {
                continue;
            };
            if code.is_control_flow() {
                continue;
            }
            let (class, imm) = match code.imm_kind() {
                ImmKind::None => (OpClass::Plain, None),
                ImmKind::Value => (OpClass::Value, Some(ZERO)),
                ImmKind::ErrorCode => (OpClass::ErrorCode, Some(ZERO)),
            };
            if let Ok(op) = Operation::from_parts(code, imm) {
                *entry = DecodeEntry { class, op };
            }
        }
        DecodeTable {
            plain: table.map(|e| e.class == OpClass::Plain),
            kind: table.map(|e| match e.class {
                OpClass::Plain => 0,
                OpClass::Value | OpClass::ErrorCode => KIND_TAKES_IMM,
                OpClass::Rejected => KIND_REJECTED,
            }),
            ops: table.map(|e| e.op),
            entries: table,
        }
    })
}

// BATCHER
// ================================================================================================

/// The layout of one finished batch, before the block's operation array is shared.
#[derive(Clone, Copy)]
struct BatchLayout {
    start: u32,
    indptr: [u8; BATCH_SIZE + 1],
    padding: [bool; BATCH_SIZE],
    groups: [Felt; BATCH_SIZE],
    num_groups: u8,
}

/// Marks a group slot that holds an immediate rather than operations.
const NO_START: u8 = u8::MAX;

/// Batches one block, operation by operation: the open batch is built in a fixed buffer and
/// moved to the block's operation array when it closes.
pub(crate) struct BlockBatcher {
    /// Executed operations of the closed batches.
    ops: Vec<Operation>,
    /// Closed batches.
    layouts: Vec<BatchLayout>,
    /// Operations of the open batch (at most 8 groups of 9).
    buf: [Operation; BATCH_SIZE * GROUP_SIZE],
    /// Number of operations in `buf`.
    len: usize,
    /// Start (in the batch) of each op-group slot; [`NO_START`] for immediates.
    starts: [u8; BATCH_SIZE],
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
    /// Whether the last operation appended is a `PUSH`.
    last_is_push: bool,
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

    fn close_group(&mut self) {
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
    fn finish_batch(&mut self) {
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
    fn reset_batch(&mut self) {
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

    /// The byte-driven batcher used by the readers agrees with the operation-driven one on
    /// blocks dense with `PUSH`es and assertions (every slot-filling corner case).
    #[test]
    fn batch_encoded_matches_batch_ops() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..3000 {
            let n = (next() % 200) as usize + 1;
            let ops: Vec<Operation> = (0..n)
                .map(|_| match next() % 6 {
                    0 | 1 => push(next() % 1000),
                    2 => Operation::Assert(Felt::new(next() % 7)),
                    3 => Operation::Noop,
                    4 => Operation::Swap,
                    _ => Operation::Add,
                })
                .collect();
            let codes: Vec<u8> = ops.iter().map(Operation::op_code_u8).collect();
            let imms: Vec<u64> = ops
                .iter()
                .filter_map(Operation::immediate)
                .map(|f| f.as_int())
                .collect();
            let mut pos = 0;
            let encoded = batch_encoded(&codes, &imms, &mut pos).expect("valid block");
            assert_eq!(encoded, batch_ops(&ops), "{ops:?}");
            assert_eq!(pos, imms.len());
        }
        let mut pos = 0;
        assert_eq!(batch_encoded(&[], &[], &mut pos), None);
        assert_eq!(batch_encoded(&[0xff], &[], &mut pos), None);
        assert_eq!(batch_encoded(&[OpCode::Push.as_u8()], &[], &mut pos), None);
        assert_eq!(batch_encoded(&[OpCode::Join.as_u8()], &[], &mut pos), None);
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
