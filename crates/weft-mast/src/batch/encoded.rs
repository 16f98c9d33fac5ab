//! Batching straight from a serialized forest's opcode bytes and immediates, through a
//! 256-entry decoding table, and blocks kept encoded until their first use.

use std::{
    ops::Range,
    sync::{Arc, OnceLock},
};

use weft_core::{
    Felt, OpCode, Operation, ZERO,
    operations::{BATCH_SIZE, GROUP_SIZE, ImmKind, OP_BITS},
};

use super::{batcher::BlockBatcher, op_batch::OpBatch};

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
