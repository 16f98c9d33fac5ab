//! One fragment's rows, regenerated from its context alone.
//!
//! [`FragmentBuilder`] restores the state a [`FragmentContext`] records, then continues the
//! execution exactly as the fast processor's driver does (same continuation stack, same row
//! order), writing one trace row per clock cycle until the fragment's rows are written. User
//! operations run through [`weft_fast::ops::execute_op`] with the builder as the [`Machine`]:
//! memory reads, advice pops, hasher outputs and chiplet addresses come from the fragment's
//! replay logs, and the helper registers the operations compute land in the decoder columns.

use std::sync::{Arc, OnceLock};

use weft_core::{
    Felt, FieldElement, ONE, OpCode, Word, ZERO,
    trace::{
        CLK_COL_IDX, CTX_COL_IDX, DECODER_TRACE_OFFSET, FN_HASH_OFFSET, STACK_TRACE_OFFSET,
        decoder, stack,
    },
};
use weft_fast::{
    BlockKind, CallFrame, Continuation, Machine, NodeRef, RowAt, SavedOverflow, Stack,
    ops::execute_op,
};
use weft_host::ExecutionError;
use weft_mast::{BasicBlockNode, MastForest, MastNode, MastNodeId, OpBatch};
use weft_replay::{BlockEntry, FragmentContext, u64s_to_word};

use crate::{FragmentError, columns::RowWriter};

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
#[derive(Clone, Copy, Debug)]
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

/// Cursors into the fragment's replay logs.
#[derive(Debug, Default)]
struct LogCursors {
    advice: usize,
    elements: usize,
    words: usize,
    block_addrs: usize,
    permutations: usize,
    merkle_roots: usize,
    resolutions: usize,
}

/// Rebuilds the rows of one fragment.
pub(crate) struct FragmentBuilder<'a> {
    forests: &'a [Arc<MastForest>],
    replay: &'a FragmentContext,
    logs: LogCursors,
    out: RowWriter<'a>,
    /// The row at which to stop.
    stop: usize,

    clk: u32,
    ctx: u32,
    fn_hash: Word,
    pc_transcript: Word,
    stack: Stack,
    frames: Vec<CallFrame>,
    blocks: Vec<BlockEntry>,
    conts: Vec<Continuation>,
    helpers: [Felt; 6],
    /// The hasher columns of the last row written (a `REPEAT` row copies them).
    last_hasher: Option<[Felt; 8]>,
    /// Why a [`Machine`] call failed, when the failure is the replay's and not the program's.
    failure: Option<FragmentError>,
}

impl std::fmt::Debug for FragmentBuilder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FragmentBuilder")
            .field("clk", &self.clk)
            .field("row", &self.out.row())
            .finish_non_exhaustive()
    }
}

/// What the builder reports besides the rows it wrote.
#[derive(Debug)]
pub(crate) struct FragmentSummary {
    /// The fragment's first row is a `REPEAT`, whose hasher columns copy the row before it
    /// (the loop body's `END`, in the previous fragment): the caller copies them.
    pub(crate) starts_with_repeat: bool,
}

impl<'a> FragmentBuilder<'a> {
    /// Restores the state of `replay`.
    pub(crate) fn new(
        forests: &'a [Arc<MastForest>],
        replay: &'a FragmentContext,
        out: RowWriter<'a>,
    ) -> Result<Self, FragmentError> {
        let s = &replay.state;
        let top: [Felt; TOP] = s.stack_top.map(Felt::new);
        let overflow: Vec<Felt> = s.overflow.iter().map(|v| Felt::new(*v)).collect();
        let stack = Stack::from_parts(&top, &overflow, &s.overflow_clks).ok_or(
            FragmentError::Inconsistent("overflow and push clocks differ in length"),
        )?;
        let mut frames = Vec::with_capacity(s.frames.len());
        for frame in &s.frames {
            if frame.overflow.len() != frame.overflow_clks.len() {
                return Err(FragmentError::Inconsistent(
                    "a frame's overflow and push clocks differ in length",
                ));
            }
            frames.push(CallFrame {
                ctx: frame.ctx,
                fn_hash: u64s_to_word(&frame.fn_hash),
                overflow: SavedOverflow {
                    values: frame.overflow.iter().map(|v| Felt::new(*v)).collect(),
                    clks: frame.overflow_clks.clone(),
                },
            });
        }
        Ok(Self {
            forests,
            replay,
            logs: LogCursors::default(),
            stop: out.row(),
            out,
            clk: s.clk,
            ctx: s.ctx,
            fn_hash: u64s_to_word(&s.fn_hash),
            pc_transcript: u64s_to_word(&s.pc_transcript),
            stack,
            frames,
            blocks: s.block_stack.clone(),
            conts: s.continuations.clone(),
            helpers: [ZERO; 6],
            last_hasher: None,
            failure: None,
        })
    }

    /// Writes the next `n_rows` rows.
    pub(crate) fn run_rows(
        mut self,
        n_rows: usize,
    ) -> Result<(FragmentSummary, Self), FragmentError> {
        self.stop = self.out.row() + n_rows;
        let starts_with_repeat = self.first_row_is_repeat();
        match self.replay.state.row {
            RowAt::Start(node) => self.start_node(node)?,
            RowAt::Op { block, batch, op } => {
                self.resume_block(block, batch as usize, BlockPos::Op(op as usize))?;
            }
            RowAt::Respan { block, batch } => {
                self.resume_block(block, batch as usize, BlockPos::Respan)?;
            }
            RowAt::BlockEnd(block) => self.resume_block(block, 0, BlockPos::End)?,
            RowAt::Finish(cont) => self.finish(cont)?,
        }
        while !self.done() {
            let cont = self.conts.pop().ok_or(FragmentError::Inconsistent(
                "the continuations ran out before the fragment's last row",
            ))?;
            match cont {
                Continuation::Start(node) => self.start_node(node)?,
                other => self.finish(other)?,
            }
        }
        Ok((FragmentSummary { starts_with_repeat }, self))
    }

    fn first_row_is_repeat(&self) -> bool {
        matches!(
            self.replay.state.row,
            RowAt::Finish(Continuation::FinishLoop { entered: true, .. })
        ) && self.stack.get(0) == ONE
    }

    /// Writes the `HALT` row that follows the last executed row: the final state, `HALT`'s op
    /// bits, the first four hasher columns of the row before.
    pub(crate) fn write_halt_row(&mut self) -> Result<(), FragmentError> {
        let hasher = self.last_hasher.ok_or(FragmentError::Inconsistent(
            "a HALT row needs an executed row before it",
        ))?;
        self.begin_row();
        let mut h = [ZERO; 8];
        h[..4].copy_from_slice(&hasher[..4]);
        self.write_decoder(ZERO, OpCode::Halt, h, false, ZERO, ZERO, [ZERO; 3]);
        self.out.advance();
        Ok(())
    }

    /// Whether the execution ended: nothing left to run.
    pub(crate) fn is_finished(&self) -> bool {
        self.conts.is_empty() && self.blocks.is_empty()
    }

    #[inline(always)]
    fn done(&self) -> bool {
        self.out.row() >= self.stop
    }

    // ROWS
    // --------------------------------------------------------------------------------------------

    /// Writes the system and stack columns of the current state into the current row.
    #[inline(always)]
    fn begin_row(&mut self) {
        let out = &mut self.out;
        out.set(CLK_COL_IDX, Felt::new(u64::from(self.clk)));
        out.set(CTX_COL_IDX, Felt::new(u64::from(self.ctx)));
        out.set_range(FN_HASH_OFFSET, self.fn_hash.as_elements());
        let s = STACK_TRACE_OFFSET;
        for i in 0..TOP {
            out.set(s + i, self.stack.get(i));
        }
        let depth = self.stack.depth() as u64;
        out.set(s + stack::B0_COL_IDX, Felt::new(depth));
        out.set(
            s + stack::B1_COL_IDX,
            Felt::new(u64::from(self.stack.overflow_addr())),
        );
        out.set(s + stack::H0_COL_IDX, h0(depth - TOP as u64));
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

    /// Finishes the current row: the next row, the next clock cycle.
    #[inline(always)]
    fn end_row(&mut self) {
        self.out.advance();
        self.clk += 1;
    }

    /// A control row (not inside a basic block's operations).
    fn control_row(&mut self, addr: Felt, op: OpCode, hasher: [Felt; 8]) {
        self.write_decoder(addr, op, hasher, false, ZERO, ZERO, [ZERO; 3]);
        self.end_row();
    }

    // STATE HELPERS
    // --------------------------------------------------------------------------------------------

    fn forest(&self, idx: u32) -> Result<&'a Arc<MastForest>, FragmentError> {
        self.forests
            .get(idx as usize)
            .ok_or(FragmentError::Inconsistent(
                "a node names a forest outside the forest table",
            ))
    }

    fn node(&self, node: NodeRef) -> Result<(&'a Arc<MastForest>, MastNodeId), FragmentError> {
        let forest = self.forest(node.forest)?;
        let id = MastNodeId::from_u32_checked(node.node, forest.num_nodes())
            .map_err(|_| FragmentError::Inconsistent("a node index is outside its forest"))?;
        Ok((forest, id))
    }

    fn digest_of(forest: &MastForest, id: MastNodeId) -> Word {
        forest[id].digest()
    }

    /// The next block address from the hasher log.
    fn next_block_addr(&mut self) -> Result<u32, FragmentError> {
        let addr = *self
            .replay
            .hasher
            .block_addrs
            .get(self.logs.block_addrs)
            .ok_or(FragmentError::ReplayExhausted("block address"))?;
        self.logs.block_addrs += 1;
        Ok(addr)
    }

    /// Opens a block; returns the enclosing block's address (the start row's `addr`).
    fn push_block(&mut self, node: NodeRef, kind: BlockKind) -> Result<Felt, FragmentError> {
        let addr = self.next_block_addr()?;
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

    fn pop_block(&mut self) -> Result<BlockEntry, FragmentError> {
        self.blocks
            .pop()
            .ok_or(FragmentError::Inconsistent("an END row with no open block"))
    }

    fn push_frame(&mut self) {
        let overflow = self.stack.start_context();
        self.frames.push(CallFrame {
            ctx: self.ctx,
            fn_hash: self.fn_hash,
            overflow,
        });
    }

    fn next_resolution(&mut self) -> Result<NodeRef, FragmentError> {
        let r = *self
            .replay
            .external
            .resolutions
            .get(self.logs.resolutions)
            .ok_or(FragmentError::ReplayExhausted("external resolution"))?;
        self.logs.resolutions += 1;
        let node = NodeRef {
            forest: r.forest,
            node: r.root,
        };
        self.node(node)?;
        Ok(node)
    }

    fn next_word(&mut self) -> Result<Word, FragmentError> {
        let w = self
            .replay
            .memory
            .words
            .get(self.logs.words)
            .ok_or(FragmentError::ReplayExhausted("memory word"))?;
        self.logs.words += 1;
        Ok(u64s_to_word(w))
    }

    // NODES
    // --------------------------------------------------------------------------------------------

    fn start_node(&mut self, node: NodeRef) -> Result<(), FragmentError> {
        let (forest, id) = self.node(node)?;
        let child = |id: MastNodeId| NodeRef {
            forest: node.forest,
            node: id.as_u32(),
        };
        match &forest[id] {
            MastNode::Block(block) => self.run_block(node, block, 0, BlockPos::Start),
            MastNode::Join(join) => {
                let h = digest_pair(
                    Self::digest_of(forest, join.first()),
                    Self::digest_of(forest, join.second()),
                );
                self.begin_row();
                let parent = self.push_block(node, BlockKind::Join)?;
                self.control_row(parent, OpCode::Join, h);
                self.conts.push(Continuation::FinishJoin(node));
                self.conts.push(Continuation::Start(child(join.second())));
                self.conts.push(Continuation::Start(child(join.first())));
                Ok(())
            }
            MastNode::Split(split) => {
                let h = digest_pair(
                    Self::digest_of(forest, split.on_true()),
                    Self::digest_of(forest, split.on_false()),
                );
                self.begin_row();
                let parent = self.push_block(node, BlockKind::Split)?;
                let cond = self.stack.get(0);
                self.stack.pop();
                self.control_row(parent, OpCode::Split, h);
                let branch = if cond == ONE {
                    split.on_true()
                } else if cond == ZERO {
                    split.on_false()
                } else {
                    return Err(FragmentError::Inconsistent(
                        "a SPLIT condition is not binary",
                    ));
                };
                self.conts.push(Continuation::FinishSplit(node));
                self.conts.push(Continuation::Start(child(branch)));
                Ok(())
            }
            MastNode::Loop(lp) => {
                let h = digest_pair(Self::digest_of(forest, lp.body()), Word::default());
                let cond = self.stack.get(0);
                let entered = if cond == ONE {
                    true
                } else if cond == ZERO {
                    false
                } else {
                    return Err(FragmentError::Inconsistent(
                        "a LOOP condition is not binary",
                    ));
                };
                self.begin_row();
                let parent = self.push_block(node, BlockKind::Loop { entered })?;
                self.stack.pop();
                self.control_row(parent, OpCode::Loop, h);
                self.conts.push(Continuation::FinishLoop { node, entered });
                if entered {
                    self.conts.push(Continuation::Start(child(lp.body())));
                }
                Ok(())
            }
            MastNode::Call(call) => {
                let callee_digest = Self::digest_of(forest, call.callee());
                let h = digest_pair(callee_digest, Word::default());
                let (kind, op) = if call.is_syscall() {
                    (BlockKind::Syscall, OpCode::SysCall)
                } else {
                    (BlockKind::Call, OpCode::Call)
                };
                self.begin_row();
                let parent = self.push_block(node, kind)?;
                self.push_frame();
                if call.is_syscall() {
                    self.ctx = 0;
                } else {
                    self.ctx = self.clk + 1;
                    self.fn_hash = callee_digest;
                }
                self.control_row(parent, op, h);
                self.conts.push(Continuation::FinishCall(node));
                self.conts.push(Continuation::Start(child(call.callee())));
                Ok(())
            }
            MastNode::Dyn(dyn_node) => {
                let is_dyncall = dyn_node.is_dyncall();
                self.begin_row();
                let callee = self.next_word()?;
                let kind = if is_dyncall {
                    BlockKind::Dyncall
                } else {
                    BlockKind::Dyn
                };
                let parent = self.push_block(node, kind)?;
                self.stack.pop();
                let (h, op) = if is_dyncall {
                    let h4 = Felt::new(self.stack.depth() as u64);
                    let h5 = Felt::new(u64::from(self.stack.overflow_addr()));
                    self.push_frame();
                    self.ctx = self.clk + 1;
                    self.fn_hash = callee;
                    (
                        digest_pair(callee, [h4, h5, ZERO, ZERO].into()),
                        OpCode::Dyncall,
                    )
                } else {
                    (digest_pair(callee, Word::default()), OpCode::Dyn)
                };
                self.control_row(parent, op, h);
                let target = match forest.find_procedure_root(&callee) {
                    Some(root) => child(root),
                    None => self.next_resolution()?,
                };
                self.conts.push(Continuation::FinishDyn(node));
                self.conts.push(Continuation::Start(target));
                Ok(())
            }
            MastNode::External(_) => {
                let target = self.next_resolution()?;
                self.conts.push(Continuation::Start(target));
                Ok(())
            }
        }
    }

    fn finish(&mut self, cont: Continuation) -> Result<(), FragmentError> {
        match cont {
            Continuation::Start(node) => self.start_node(node),
            Continuation::FinishJoin(node) | Continuation::FinishSplit(node) => {
                self.end_control(node, EndEffect::None)
            }
            Continuation::FinishCall(node) => self.end_control(node, EndEffect::Return),
            Continuation::FinishDyn(node) => {
                let (forest, id) = self.node(node)?;
                let is_dyncall = matches!(&forest[id], MastNode::Dyn(d) if d.is_dyncall());
                let effect = if is_dyncall {
                    EndEffect::Return
                } else {
                    EndEffect::None
                };
                self.end_control(node, effect)
            }
            Continuation::FinishLoop { node, entered } => {
                if !entered {
                    return self.end_control(node, EndEffect::None);
                }
                let top = self.stack.get(0);
                if top == ONE {
                    let entry = *self.blocks.last().ok_or(FragmentError::Inconsistent(
                        "a REPEAT row with no open loop",
                    ))?;
                    // REPEAT copies the hasher columns of the body's END row just before it;
                    // at a fragment's first row they are copied in afterwards.
                    let h = self.last_hasher.unwrap_or([ZERO; 8]);
                    self.begin_row();
                    self.stack.pop();
                    self.control_row(Felt::new(u64::from(entry.addr)), OpCode::Repeat, h);
                    let (forest, id) = self.node(node)?;
                    let MastNode::Loop(lp) = &forest[id] else {
                        return Err(FragmentError::Inconsistent(
                            "a loop continuation names a non-loop node",
                        ));
                    };
                    self.conts.push(cont);
                    self.conts.push(Continuation::Start(NodeRef {
                        forest: node.forest,
                        node: lp.body().as_u32(),
                    }));
                    Ok(())
                } else if top == ZERO {
                    self.end_control(node, EndEffect::Drop)
                } else {
                    Err(FragmentError::Inconsistent(
                        "a loop condition is not binary",
                    ))
                }
            }
        }
    }

    /// The `END` row of a control block.
    fn end_control(&mut self, node: NodeRef, effect: EndEffect) -> Result<(), FragmentError> {
        let (forest, id) = self.node(node)?;
        let digest = Self::digest_of(forest, id);
        self.begin_row();
        let block = self.pop_block()?;
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
        match effect {
            EndEffect::None => {}
            EndEffect::Drop => self.stack.pop(),
            EndEffect::Return => {
                let frame = self.frames.pop().ok_or(FragmentError::Inconsistent(
                    "a call returns with no caller frame",
                ))?;
                self.stack.end_context(&frame.overflow);
                self.ctx = frame.ctx;
                self.fn_hash = frame.fn_hash;
            }
        }
        self.control_row(Felt::new(u64::from(block.addr)), OpCode::End, h);
        Ok(())
    }

    // BASIC BLOCKS
    // --------------------------------------------------------------------------------------------

    fn resume_block(
        &mut self,
        node: NodeRef,
        batch: usize,
        pos: BlockPos,
    ) -> Result<(), FragmentError> {
        let (forest, id) = self.node(node)?;
        let MastNode::Block(block) = &forest[id] else {
            return Err(FragmentError::Inconsistent(
                "a block row names a non-block node",
            ));
        };
        if self.blocks.last().map(|b| b.node) != Some(node) {
            return Err(FragmentError::Inconsistent(
                "a block row with another block open",
            ));
        }
        self.run_block(node, block, batch, pos)
    }

    /// Runs a basic block from `pos` in batch `first_batch` to its `END` row (or until the
    /// fragment is full).
    fn run_block(
        &mut self,
        node: NodeRef,
        block: &BasicBlockNode,
        first_batch: usize,
        pos: BlockPos,
    ) -> Result<(), FragmentError> {
        let batches = block.batches()?;
        let n_groups = batches.iter().map(|b| b.num_groups() as u64).sum::<u64>();
        if first_batch >= batches.len() && pos != BlockPos::End {
            return Err(FragmentError::Inconsistent(
                "a batch index is outside its block",
            ));
        }
        let (start_batch, mut first_op) = match pos {
            BlockPos::Start => {
                if self.done() {
                    return Ok(());
                }
                let first = &batches[0];
                self.begin_row();
                let parent = self.push_block(
                    node,
                    BlockKind::Basic {
                        n_batches: batches.len() as u32,
                    },
                )?;
                self.write_decoder(
                    parent,
                    OpCode::Span,
                    *first.groups(),
                    false,
                    Felt::new(n_groups),
                    ZERO,
                    batch_flags(n_groups),
                );
                self.end_row();
                (0, Some(0))
            }
            BlockPos::Op(op) => (first_batch, Some(op)),
            BlockPos::Respan => (first_batch, None),
            BlockPos::End => (batches.len(), None),
        };
        for (b, batch) in batches.iter().enumerate().skip(start_batch) {
            if self.done() {
                return Ok(());
            }
            let mut cursor = SpanCursor::at_batch_start(batch, b, n_groups).ok_or(
                FragmentError::Inconsistent("a block has fewer groups than batches need"),
            )?;
            let start_op = match first_op.take() {
                Some(op) => op,
                None => {
                    // The RESPAN row before this batch.
                    let entry = self.blocks.last_mut().ok_or(FragmentError::Inconsistent(
                        "a RESPAN row with no open block",
                    ))?;
                    let addr = Felt::new(u64::from(entry.addr));
                    entry.addr = entry.addr.wrapping_add(HASH_CYCLE_LEN);
                    let group_count = cursor.groups_left + 1;
                    self.begin_row();
                    self.write_decoder(
                        addr,
                        OpCode::Respan,
                        *batch.groups(),
                        false,
                        Felt::new(group_count),
                        ZERO,
                        batch_flags(group_count),
                    );
                    self.end_row();
                    0
                }
            };
            let ops = batch.ops();
            if start_op > ops.len() {
                return Err(FragmentError::Inconsistent(
                    "an op index is outside its batch",
                ));
            }
            for (i, op) in ops.iter().enumerate().take(start_op) {
                cursor.step(batch, i, op.op_code_u8(), op.imm_value().is_some());
            }
            let entry = *self.blocks.last().ok_or(FragmentError::Inconsistent(
                "an operation row with no open block",
            ))?;
            let addr = Felt::new(u64::from(entry.addr));
            let parent_addr = Felt::new(u64::from(entry.parent_addr));
            for (i, op) in ops.iter().enumerate().skip(start_op) {
                if self.done() {
                    return Ok(());
                }
                let (ops_left, group_count, op_idx) =
                    cursor.step(batch, i, op.op_code_u8(), op.imm_value().is_some());
                self.begin_row();
                self.helpers = [ZERO; 6];
                let result = execute_op(self, op);
                if let Some(failure) = self.failure.take() {
                    return Err(failure);
                }
                result.map_err(FragmentError::Execution)?;
                let mut h = [ZERO; 8];
                h[0] = Felt::new(ops_left);
                h[1] = parent_addr;
                h[2..].copy_from_slice(&self.helpers);
                self.write_decoder(
                    addr,
                    op.op_code(),
                    h,
                    true,
                    Felt::new(group_count),
                    Felt::new(op_idx),
                    [ZERO; 3],
                );
                self.end_row();
            }
        }
        if self.done() {
            return Ok(());
        }
        // The block's END row.
        self.begin_row();
        let entry = self.pop_block()?;
        let digest = block.digest();
        let h = [
            digest[0],
            digest[1],
            digest[2],
            digest[3],
            flag(entry.is_loop_body),
            ZERO,
            ZERO,
            ZERO,
        ];
        self.control_row(Felt::new(u64::from(entry.addr)), OpCode::End, h);
        Ok(())
    }

    fn replay_failure(&mut self, log: &'static str) -> ExecutionError {
        self.failure = Some(FragmentError::ReplayExhausted(log));
        ExecutionError::FailedToExecuteProgram("replay log exhausted")
    }
}

/// Where a basic block is entered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BlockPos {
    /// At its `SPAN` row.
    Start,
    /// At operation `n` of a batch.
    Op(usize),
    /// At the `RESPAN` row before a batch.
    Respan,
    /// At its `END` row.
    End,
}

/// What an `END` row does to the state besides closing the block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EndEffect {
    None,
    /// An entered loop drops its final condition.
    Drop,
    /// A call, syscall or dyncall returns to its caller's context.
    Return,
}

impl Machine for FragmentBuilder<'_> {
    const RECORD_HELPERS: bool = true;

    #[inline(always)]
    fn clk(&self) -> u32 {
        self.clk
    }

    #[inline(always)]
    fn ctx(&self) -> u32 {
        self.ctx
    }

    fn fn_hash(&self) -> Word {
        self.fn_hash
    }

    #[inline(always)]
    fn get(&self, idx: usize) -> Felt {
        self.stack.get(idx)
    }

    #[inline(always)]
    fn set(&mut self, idx: usize, value: Felt) {
        self.stack.set(idx, value);
    }

    #[inline(always)]
    fn depth(&self) -> usize {
        self.stack.depth()
    }

    #[inline(always)]
    fn push(&mut self, value: Felt) {
        self.stack.push(value, self.clk);
    }

    #[inline(always)]
    fn pop(&mut self) {
        self.stack.pop();
    }

    fn mem_read(&mut self, _addr: Felt) -> Result<Felt, ExecutionError> {
        match self.replay.memory.elements.get(self.logs.elements) {
            Some(v) => {
                self.logs.elements += 1;
                Ok(Felt::new(*v))
            }
            None => Err(self.replay_failure("memory element")),
        }
    }

    fn mem_read_word(&mut self, _addr: Felt) -> Result<Word, ExecutionError> {
        match self.replay.memory.words.get(self.logs.words) {
            Some(w) => {
                self.logs.words += 1;
                Ok(u64s_to_word(w))
            }
            None => Err(self.replay_failure("memory word")),
        }
    }

    /// Writes reach the trace only through later reads, which are replayed.
    fn mem_write(&mut self, _addr: Felt, _value: Felt) -> Result<(), ExecutionError> {
        Ok(())
    }

    fn mem_write_word(&mut self, _addr: Felt, _word: Word) -> Result<(), ExecutionError> {
        Ok(())
    }

    fn advice_pop(&mut self) -> Result<Felt, ExecutionError> {
        match self.replay.advice.values.get(self.logs.advice) {
            Some(v) => {
                self.logs.advice += 1;
                Ok(Felt::new(*v))
            }
            None => Err(self.replay_failure("advice")),
        }
    }

    fn advice_pop_word(&mut self) -> Result<Word, ExecutionError> {
        let values = &self.replay.advice.values;
        let at = self.logs.advice;
        match values.get(at..at + 4) {
            Some(v) => {
                self.logs.advice += 4;
                Ok([v[0], v[1], v[2], v[3]].map(Felt::new).into())
            }
            None => Err(self.replay_failure("advice")),
        }
    }

    fn advice_pop_dword(&mut self) -> Result<[Word; 2], ExecutionError> {
        let a = self.advice_pop_word()?;
        let b = self.advice_pop_word()?;
        Ok([a, b])
    }

    fn permute(&mut self, state: &mut [Felt; 12]) -> Felt {
        match self.replay.hasher.permutations.get(self.logs.permutations) {
            Some((addr, output)) => {
                self.logs.permutations += 1;
                *state = output.map(Felt::new);
                Felt::new(u64::from(*addr))
            }
            None => {
                // `permute` cannot fail; the failure is reported after the operation.
                self.failure = Some(FragmentError::ReplayExhausted("hasher permutation"));
                ZERO
            }
        }
    }

    fn merkle_verify(
        &mut self,
        _node: Word,
        _depth: Felt,
        _index: Felt,
        _root: Word,
        _err_code: Felt,
    ) -> Result<Felt, ExecutionError> {
        match self.replay.hasher.merkle_roots.get(self.logs.merkle_roots) {
            Some((addr, _)) => {
                self.logs.merkle_roots += 1;
                Ok(Felt::new(u64::from(*addr)))
            }
            None => Err(self.replay_failure("Merkle root")),
        }
    }

    fn merkle_update(
        &mut self,
        _old_node: Word,
        _depth: Felt,
        _index: Felt,
        _old_root: Word,
        _new_node: Word,
    ) -> Result<(Felt, Word), ExecutionError> {
        match self.replay.hasher.merkle_roots.get(self.logs.merkle_roots) {
            Some((addr, root)) => {
                self.logs.merkle_roots += 1;
                Ok((Felt::new(u64::from(*addr)), u64s_to_word(root)))
            }
            None => Err(self.replay_failure("Merkle root")),
        }
    }

    fn pc_transcript(&self) -> Word {
        self.pc_transcript
    }

    fn set_pc_transcript(&mut self, state: Word) {
        self.pc_transcript = state;
    }

    /// Events change only the advice provider and memory, whose effects are replayed.
    fn emit(&mut self) -> Result<(), ExecutionError> {
        Ok(())
    }

    fn error_message(&self, _err_code: Felt) -> Option<String> {
        None
    }

    #[inline(always)]
    fn set_helpers(&mut self, helpers: [Felt; 6]) {
        self.helpers = helpers;
    }
}
