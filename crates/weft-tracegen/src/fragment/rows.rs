//! [`RowTracer`]: the [`Tracer`] that writes one trace row per row the driver runs.
//!
//! The driver announces each row's state before it ([`Tracer::row_started`]: the system and
//! stack columns) and then what the row was (a start row, an operation, `RESPAN`, `REPEAT`,
//! `END`: the decoder columns). The tracer keeps what only the decoder needs: the block stack
//! with hasher addresses (from the fragment's block-address log), the position inside the
//! current batch, the helper registers of the current operation and the hasher columns of the
//! last row (a `REPEAT` copies them). It stops the driver once the fragment's rows are written.

use std::sync::{Arc, OnceLock};

use weft_core::{
    Felt, FieldElement, ONE, OpCode, Operation, Word, ZERO,
    trace::{
        CLK_COL_IDX, CTX_COL_IDX, DECODER_TRACE_OFFSET, FN_HASH_OFFSET, STACK_TRACE_OFFSET,
        decoder, stack,
    },
};
use weft_fast::{BatchAt, BlockKind, NodeRef, NodeStart, RowState, Tracer};
use weft_mast::{MastForest, MastNode, MastNodeId, OpBatch};
use weft_replay::BlockEntry;

use crate::{
    columns::RowWriter,
    error::{FragmentError, ReplayLog},
};

/// Hasher chiplet rows per permutation: a `RESPAN` moves the block address by this much.
const HASH_CYCLE_LEN: u32 = 8;
/// Visible stack elements.
const TOP: usize = weft_fast::stack::TOP;

const D: usize = DECODER_TRACE_OFFSET;
const HASHER: usize = D + decoder::HASHER_STATE_OFFSET;

#[inline(always)]
fn flag(b: bool) -> Felt {
    if b { ONE } else { ZERO }
}

fn digest_pair(a: Word, b: Word) -> [Felt; 8] {
    [a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3]]
}

fn batch_flags(groups_left: u64) -> [Felt; 3] {
    match groups_left.min(8) {
        8 => decoder::OP_BATCH_8_GROUPS,
        4 => decoder::OP_BATCH_4_GROUPS,
        2 => decoder::OP_BATCH_2_GROUPS,
        _ => decoder::OP_BATCH_1_GROUPS,
    }
}

/// Overflow lengths whose `h0` comes from a table.
const H0_TABLE_LEN: usize = 1024;

/// The stack's `h0` column for an overflow of `n` elements: zero, or the inverse of `n`.
///
/// An inversion costs about a hundred multiplications and the depth changes every few rows,
/// so the inverses of the usual overflow lengths are computed once per process.
#[inline(always)]
fn h0(n: u64) -> Felt {
    static TABLE: OnceLock<Vec<Felt>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        (0..H0_TABLE_LEN as u64)
            .map(|n| if n == 0 { ZERO } else { Felt::new(n).inv() })
            .collect()
    });
    match table.get(n as usize) {
        Some(v) => *v,
        None => Felt::new(n).inv(),
    }
}

/// The decoder's position inside a batch of a basic block.
#[derive(Clone, Copy, Debug, Default)]
struct SpanCursor {
    /// Opcodes of the current group not yet executed (packed, next one lowest).
    group_ops_left: u64,
    /// Groups of the block not yet started (the `group_count` column).
    groups_left: u64,
    /// The group slot being executed.
    group: usize,
    /// The slot the next op group will come from.
    next_group: usize,
    /// Index of the next op inside its group.
    op_idx: u64,
}

impl SpanCursor {
    /// The cursor at the first operation of batch `batch_idx` of a block of `n_groups` groups
    /// (every batch before it holds eight groups; its first group was taken by `SPAN` or
    /// `RESPAN`).
    fn at_batch_start(batch: &OpBatch, batch_idx: usize, n_groups: u64) -> Option<Self> {
        let groups_left = n_groups.checked_sub(8 * batch_idx as u64 + 1)?;
        Some(Self {
            group_ops_left: batch.groups()[0].as_int(),
            groups_left,
            group: 0,
            next_group: 1,
            op_idx: 0,
        })
    }

    /// The decoder values of the row of operation `i` (`opcode`): `(ops left in the group,
    /// group count, op index)`; then moves past it.
    #[inline(always)]
    fn step(&mut self, batch: &OpBatch, i: usize, opcode: u8, has_imm: bool) -> (u64, u64, u64) {
        let ops_left = self.group_ops_left.wrapping_sub(u64::from(opcode)) >> 7;
        let row = (ops_left, self.groups_left, self.op_idx);
        self.group_ops_left = ops_left;
        if has_imm {
            self.groups_left = self.groups_left.wrapping_sub(1);
            self.next_group += 1;
        }
        if i + 1 == usize::from(batch.indptr()[self.group + 1]) {
            self.group = self.next_group;
            self.next_group += 1;
            self.op_idx = 0;
            if self.group < batch.num_groups() {
                self.group_ops_left = batch.groups()[self.group].as_int();
                self.groups_left = self.groups_left.wrapping_sub(1);
            }
        } else {
            self.op_idx += 1;
        }
        row
    }
}

/// Writes the rows of one fragment as the driver runs them.
pub(super) struct RowTracer<'a> {
    forests: &'a [Arc<MastForest>],
    /// The fragment's log of block addresses and the next entry to read.
    block_addrs: &'a [u32],
    next_block_addr: usize,
    out: RowWriter<'a>,
    /// The row before which the run stops.
    stop: usize,
    /// The decoder's block stack, outermost first.
    blocks: Vec<BlockEntry>,
    /// The basic block whose group count was last needed, and that count.
    block_groups: Option<(NodeRef, u64)>,
    /// The position inside the batch being executed.
    cursor: SpanCursor,
    /// The current block's address and its parent's, as operation rows show them.
    op_addrs: (Felt, Felt),
    helpers: [Felt; 6],
    /// The hasher columns of the last row written (a `REPEAT` row copies them).
    last_hasher: Option<[Felt; 8]>,
}

impl std::fmt::Debug for RowTracer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowTracer")
            .field("row", &self.out.row())
            .field("stop", &self.stop)
            .finish_non_exhaustive()
    }
}

impl<'a> RowTracer<'a> {
    /// A tracer writing into `out`, with the block stack a context recorded; it stops at once
    /// until [`RowTracer::stop_after`] gives it rows to write.
    pub(super) fn new(
        forests: &'a [Arc<MastForest>],
        block_addrs: &'a [u32],
        blocks: Vec<BlockEntry>,
        out: RowWriter<'a>,
    ) -> Self {
        Self {
            forests,
            block_addrs,
            next_block_addr: 0,
            stop: out.row(),
            out,
            blocks,
            block_groups: None,
            cursor: SpanCursor::default(),
            op_addrs: (ZERO, ZERO),
            helpers: [ZERO; 6],
            last_hasher: None,
        }
    }

    /// Lets the run write `n_rows` more rows.
    pub(super) fn stop_after(&mut self, n_rows: usize) {
        self.stop = self.out.row() + n_rows;
    }

    /// Whether every row the run was given has been written.
    pub(super) fn is_full(&self) -> bool {
        self.out.row() >= self.stop
    }

    /// Whether no block is open.
    pub(super) fn no_open_block(&self) -> bool {
        self.blocks.is_empty()
    }

    /// Writes the `HALT` row that follows the last executed row: the final state, `HALT`'s op
    /// bits, the first four hasher columns of the row before.
    pub(super) fn write_halt_row(&mut self, state: RowState<'_>) -> Result<(), FragmentError> {
        let hasher = self.last_hasher.ok_or(FragmentError::Inconsistent(
            "a HALT row needs an executed row before it",
        ))?;
        self.row_started(state);
        let mut h = [ZERO; 8];
        h[..4].copy_from_slice(&hasher[..4]);
        self.write_decoder(ZERO, OpCode::Halt, h, false, ZERO, ZERO, [ZERO; 3]);
        self.out.advance();
        Ok(())
    }

    /// Writes the decoder columns of the current row.
    #[allow(
        clippy::too_many_arguments,
        reason = "one argument per decoder column group"
    )]
    #[inline(always)]
    fn write_decoder(
        &mut self,
        addr: Felt,
        op: OpCode,
        hasher: [Felt; 8],
        in_span: bool,
        group_count: Felt,
        op_idx: Felt,
        flags: [Felt; 3],
    ) {
        let out = &mut self.out;
        out.set(D + decoder::ADDR_COL_IDX, addr);
        let code = op.as_u8();
        for i in 0..7 {
            out.set(
                D + decoder::OP_BITS_OFFSET + i,
                Felt::new(u64::from((code >> i) & 1)),
            );
        }
        out.set_range(HASHER, &hasher);
        out.set(D + decoder::IN_SPAN_COL_IDX, flag(in_span));
        out.set(D + decoder::GROUP_COUNT_COL_IDX, group_count);
        out.set(D + decoder::OP_INDEX_COL_IDX, op_idx);
        out.set_range(D + decoder::OP_BATCH_FLAGS_OFFSET, &flags);
        let (b6, b5, b4) = ((code >> 6) & 1, (code >> 5) & 1, (code >> 4) & 1);
        out.set(
            D + decoder::OP_BITS_EXTRA_COLS_OFFSET,
            flag(b6 == 1 && b5 == 0 && b4 == 1),
        );
        out.set(
            D + decoder::OP_BITS_EXTRA_COLS_OFFSET + 1,
            flag(b6 == 1 && b5 == 1),
        );
        self.last_hasher = Some(hasher);
    }

    /// Writes the decoder columns of a control row (not inside a basic block's operations) and
    /// finishes the row.
    fn control_row(&mut self, addr: Felt, op: OpCode, hasher: [Felt; 8]) {
        self.write_decoder(addr, op, hasher, false, ZERO, ZERO, [ZERO; 3]);
        self.out.advance();
    }

    /// Opens a block; returns the enclosing block's address (the start row's `addr`).
    fn push_block(&mut self, node: NodeRef, kind: BlockKind) -> Result<Felt, FragmentError> {
        let addr = *self
            .block_addrs
            .get(self.next_block_addr)
            .ok_or(FragmentError::ReplayExhausted(ReplayLog::BlockAddress))?;
        self.next_block_addr += 1;
        let (parent_addr, is_loop_body) = self.blocks.last().map_or((0, false), |p| {
            (p.addr, p.kind == BlockKind::Loop { entered: true })
        });
        self.blocks.push(BlockEntry {
            node,
            kind,
            addr,
            parent_addr,
            is_loop_body,
        });
        Ok(Felt::new(u64::from(parent_addr)))
    }

    /// The innermost open block, which must be `node`.
    fn top_block(&mut self, node: NodeRef) -> Result<&mut BlockEntry, FragmentError> {
        match self.blocks.last_mut() {
            Some(entry) if entry.node == node => Ok(entry),
            Some(_) => Err(FragmentError::Inconsistent(
                "a block row with another block open",
            )),
            None => Err(FragmentError::Inconsistent(
                "a block row with no open block",
            )),
        }
    }

    /// The number of op groups of the basic block of `at`.
    fn n_groups(&mut self, at: &BatchAt<'_>) -> u64 {
        match self.block_groups {
            Some((node, n)) if node == at.block => n,
            _ => {
                let n = at.batches.iter().map(|b| b.num_groups() as u64).sum();
                self.block_groups = Some((at.block, n));
                n
            }
        }
    }

    /// The digest of `node`, checked against the forest table.
    fn digest_of(&self, node: NodeRef) -> Result<Word, FragmentError> {
        let forest = self
            .forests
            .get(node.forest as usize)
            .ok_or(FragmentError::Inconsistent(
                "a node names a forest outside the forest table",
            ))?;
        let id = MastNodeId::from_u32_checked(node.node, forest.num_nodes())
            .map_err(|_| FragmentError::Inconsistent("a node index is outside its forest"))?;
        Ok(forest[id].digest())
    }
}

/// The hasher columns and opcode of a control node's start row.
fn start_row_of(
    kind: BlockKind,
    start: &NodeStart<'_>,
) -> Result<([Felt; 8], OpCode), FragmentError> {
    let forest = start.forest;
    let digest = |id: MastNodeId| forest[id].digest();
    let row = match (kind, start.node) {
        (BlockKind::Join, MastNode::Join(join)) => (
            digest_pair(digest(join.first()), digest(join.second())),
            OpCode::Join,
        ),
        (BlockKind::Split, MastNode::Split(split)) => (
            digest_pair(digest(split.on_true()), digest(split.on_false())),
            OpCode::Split,
        ),
        (BlockKind::Loop { .. }, MastNode::Loop(lp)) => (
            digest_pair(digest(lp.body()), Word::default()),
            OpCode::Loop,
        ),
        (BlockKind::Call, MastNode::Call(call)) => (
            digest_pair(digest(call.callee()), Word::default()),
            OpCode::Call,
        ),
        (BlockKind::Syscall, MastNode::Call(call)) => (
            digest_pair(digest(call.callee()), Word::default()),
            OpCode::SysCall,
        ),
        (BlockKind::Dyn, MastNode::Dyn(_)) => {
            (digest_pair(start.callee, Word::default()), OpCode::Dyn)
        }
        (BlockKind::Dyncall, MastNode::Dyn(_)) => {
            // The stack after the callee address was dropped, before the new context.
            let depth = Felt::new(start.stack.depth() as u64);
            let overflow_addr = Felt::new(u64::from(start.stack.overflow_addr()));
            (
                digest_pair(start.callee, [depth, overflow_addr, ZERO, ZERO].into()),
                OpCode::Dyncall,
            )
        }
        _ => {
            return Err(FragmentError::Inconsistent(
                "a start row's kind does not match its node",
            ));
        }
    };
    Ok(row)
}

impl Tracer for RowTracer<'_> {
    type Error = FragmentError;
    const RECORD_HELPERS: bool = true;

    #[inline(always)]
    fn stop_before(&self, _clk: u32) -> bool {
        self.is_full()
    }

    /// Writes the system and stack columns of the state before the row.
    #[inline(always)]
    fn row_started(&mut self, state: RowState<'_>) {
        let out = &mut self.out;
        out.set(CLK_COL_IDX, Felt::new(u64::from(state.clk)));
        out.set(CTX_COL_IDX, Felt::new(u64::from(state.ctx)));
        out.set_range(FN_HASH_OFFSET, state.fn_hash.as_elements());
        let s = STACK_TRACE_OFFSET;
        for i in 0..TOP {
            out.set(s + i, state.stack.get(i));
        }
        let depth = state.stack.depth() as u64;
        out.set(s + stack::B0_COL_IDX, Felt::new(depth));
        out.set(
            s + stack::B1_COL_IDX,
            Felt::new(u64::from(state.stack.overflow_addr())),
        );
        out.set(s + stack::H0_COL_IDX, h0(depth - TOP as u64));
    }

    fn control_enter(
        &mut self,
        node: NodeRef,
        kind: BlockKind,
        start: &NodeStart<'_>,
    ) -> Result<(), FragmentError> {
        if let BlockKind::Basic { .. } = kind {
            let first = start
                .batches
                .first()
                .ok_or(FragmentError::Inconsistent("a basic block without batches"))?;
            let n_groups = start
                .batches
                .iter()
                .map(|b| b.num_groups() as u64)
                .sum::<u64>();
            self.block_groups = Some((node, n_groups));
            let parent = self.push_block(node, kind)?;
            self.write_decoder(
                parent,
                OpCode::Span,
                *first.groups(),
                false,
                Felt::new(n_groups),
                ZERO,
                batch_flags(n_groups),
            );
            self.out.advance();
            return Ok(());
        }
        let (hasher, op) = start_row_of(kind, start)?;
        let parent = self.push_block(node, kind)?;
        self.control_row(parent, op, hasher);
        Ok(())
    }

    fn respan(&mut self, at: &BatchAt<'_>) -> Result<(), FragmentError> {
        let n_groups = self.n_groups(at);
        let cursor = SpanCursor::at_batch_start(at.batch(), at.idx, n_groups).ok_or(
            FragmentError::Inconsistent("a block has fewer groups than batches need"),
        )?;
        let entry = self.top_block(at.block)?;
        let addr = Felt::new(u64::from(entry.addr));
        entry.addr = entry.addr.wrapping_add(HASH_CYCLE_LEN);
        let group_count = cursor.groups_left + 1;
        self.write_decoder(
            addr,
            OpCode::Respan,
            *at.batch().groups(),
            false,
            Felt::new(group_count),
            ZERO,
            batch_flags(group_count),
        );
        self.out.advance();
        Ok(())
    }

    fn batch_started(&mut self, at: &BatchAt<'_>, first_op: usize) -> Result<(), FragmentError> {
        let n_groups = self.n_groups(at);
        let batch = at.batch();
        let mut cursor = SpanCursor::at_batch_start(batch, at.idx, n_groups).ok_or(
            FragmentError::Inconsistent("a block has fewer groups than batches need"),
        )?;
        for (i, op) in batch.ops().iter().enumerate().take(first_op) {
            cursor.step(batch, i, op.op_code_u8(), op.imm_value().is_some());
        }
        self.cursor = cursor;
        let entry = self.top_block(at.block)?;
        self.op_addrs = (
            Felt::new(u64::from(entry.addr)),
            Felt::new(u64::from(entry.parent_addr)),
        );
        Ok(())
    }

    #[inline(always)]
    fn helpers(&mut self, helpers: [Felt; 6]) {
        self.helpers = helpers;
    }

    /// The raw value goes into the row as the other helpers do; the writer puts its inverse
    /// over it once the fragment's rows are written, all of them inverted together.
    #[inline(always)]
    fn helpers_inverting(&mut self, helpers: [Felt; 6], slot: usize) {
        self.helpers = helpers;
        self.out.invert_later(HASHER + 2 + slot, helpers[slot]);
    }

    #[inline(always)]
    fn op_executed(
        &mut self,
        at: &BatchAt<'_>,
        op_idx: usize,
        op: &Operation,
    ) -> Result<(), FragmentError> {
        let (ops_left, group_count, idx_in_group) = self.cursor.step(
            at.batch(),
            op_idx,
            op.op_code_u8(),
            op.imm_value().is_some(),
        );
        let (addr, parent_addr) = self.op_addrs;
        let mut h = [ZERO; 8];
        h[0] = Felt::new(ops_left);
        h[1] = parent_addr;
        h[2..].copy_from_slice(&self.helpers);
        self.helpers = [ZERO; 6];
        self.write_decoder(
            addr,
            op.op_code(),
            h,
            true,
            Felt::new(group_count),
            Felt::new(idx_in_group),
            [ZERO; 3],
        );
        self.out.advance();
        Ok(())
    }

    fn repeat(&mut self, node: NodeRef) -> Result<(), FragmentError> {
        let addr = match self.blocks.last() {
            Some(entry) if entry.node == node => entry.addr,
            _ => {
                return Err(FragmentError::Inconsistent(
                    "a REPEAT row with no open loop",
                ));
            }
        };
        // REPEAT copies the hasher columns of the body's END row just before it; at a
        // fragment's first row they are copied in afterwards.
        let h = self.last_hasher.unwrap_or([ZERO; 8]);
        self.control_row(Felt::new(u64::from(addr)), OpCode::Repeat, h);
        Ok(())
    }

    fn control_exit(&mut self, node: NodeRef) -> Result<(), FragmentError> {
        let block = self
            .blocks
            .pop()
            .ok_or(FragmentError::Inconsistent("an END row with no open block"))?;
        if block.node != node {
            return Err(FragmentError::Inconsistent(
                "an END row closes another block",
            ));
        }
        let digest = self.digest_of(node)?;
        let h = [
            digest[0],
            digest[1],
            digest[2],
            digest[3],
            flag(block.is_loop_body),
            flag(block.kind == BlockKind::Loop { entered: true }),
            flag(matches!(block.kind, BlockKind::Call | BlockKind::Dyncall)),
            flag(block.kind == BlockKind::Syscall),
        ];
        self.control_row(Felt::new(u64::from(block.addr)), OpCode::End, h);
        Ok(())
    }
}
