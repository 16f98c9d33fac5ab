//! The processor state and the control flow: one method per node kind, each appending the rows
//! of its start, its body and its end exactly as upstream's sequential processor does.

use std::sync::Arc;

use weft_core::{
    Felt, ONE, OpCode, Operation, Rpo256, Word, ZERO,
    trace::{CORE_TRACE_WIDTH, CoreTrace, DECODER_TRACE_OFFSET, STACK_TRACE_OFFSET, decoder},
};
use weft_host::{
    AdviceInputs, AdviceProvider, ExecutionError, ExecutionOptions, Host, StackInputs, StackOutputs,
};
use weft_mast::{
    BasicBlockNode, Decorator, DecoratorId, Kernel, MastForest, MastNode, MastNodeId, OpBatch,
    Program,
};

use crate::{
    ReferenceOutput, padded_len,
    state::{Memory, Stack, TOP},
};

/// The address where `CALL`/`DYNCALL` initialise the frame pointer of the new context.
pub(crate) const FMP_ADDR: u32 = u32::MAX - 1;
/// The initial frame pointer value.
pub(crate) const FMP_INIT_VALUE: u64 = 1 << 31;
/// Hasher chiplet rows per permutation.
pub(crate) const HASH_CYCLE_LEN: u64 = 8;

/// Kinds of blocks on the block stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BlockKind {
    Join,
    Split,
    Loop { entered: bool },
    Call,
    Syscall,
    Dyn,
    Dyncall,
    Basic,
}

/// What a `CALL`-like block must restore when it ends.
#[derive(Clone, Copy, Debug)]
struct CallerContext {
    ctx: u32,
    fn_hash: Word,
}

/// One open block.
#[derive(Clone, Copy, Debug)]
struct Block {
    kind: BlockKind,
    addr: Felt,
    parent_addr: Felt,
    is_loop_body: bool,
    caller: Option<CallerContext>,
}

/// The decoder state inside a basic block.
#[derive(Clone, Copy, Debug)]
struct SpanState {
    /// Opcodes of the current group not yet executed (packed, next one lowest).
    group_ops_left: u64,
    /// Groups of the block not yet started (the `group_count` column).
    groups_left: u64,
}

/// The reference processor.
pub(crate) struct Processor<'h, H: Host> {
    pub(crate) host: &'h mut H,
    max_cycles: u32,
    /// Decorators run (as upstream's debug mode) when debugging or tracing is enabled.
    run_decorators: bool,
    enable_tracing: bool,
    kernel: Kernel,
    pub(crate) clk: u32,
    pub(crate) ctx: u32,
    pub(crate) fn_hash: Word,
    pub(crate) stack: Stack,
    pub(crate) memory: Memory,
    pub(crate) advice: AdviceProvider,
    advice_inputs_map: Option<AdviceInputs>,
    /// Address of the next hasher chiplet row (starts at 1).
    pub(crate) hasher_addr: u64,
    /// The precompile transcript's capacity.
    pub(crate) pc_transcript: Word,
    blocks: Vec<Block>,
    span: Option<SpanState>,
    trace: CoreTrace,
    /// The forest whose error messages describe the running code.
    pub(crate) forest: Arc<MastForest>,
}

/// The decoder columns of one row, before helpers.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DecoderRow {
    addr: Felt,
    op: OpCode,
    hasher: [Felt; 8],
    in_span: bool,
    group_count: Felt,
    op_idx: Felt,
    batch_flags: [Felt; 3],
}

impl DecoderRow {
    fn control(addr: Felt, op: OpCode, hasher: [Felt; 8]) -> Self {
        Self {
            addr,
            op,
            hasher,
            in_span: false,
            group_count: ZERO,
            op_idx: ZERO,
            batch_flags: [ZERO; 3],
        }
    }
}

fn words(a: Word, b: Word) -> [Felt; 8] {
    [a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3]]
}

fn flag(b: bool) -> Felt {
    if b { ONE } else { ZERO }
}

fn batch_flags(groups_left: u64) -> [Felt; 3] {
    use decoder::*;
    match groups_left.min(8) {
        8 => OP_BATCH_8_GROUPS,
        4 => OP_BATCH_4_GROUPS,
        2 => OP_BATCH_2_GROUPS,
        _ => OP_BATCH_1_GROUPS,
    }
}

impl<'h, H: Host> Processor<'h, H> {
    pub(crate) fn new(
        program: &Program,
        stack_inputs: StackInputs,
        advice_inputs: AdviceInputs,
        host: &'h mut H,
        options: ExecutionOptions,
    ) -> Self {
        Self {
            host,
            max_cycles: options.max_cycles,
            run_decorators: options.enable_debugging || options.enable_tracing,
            enable_tracing: options.enable_tracing,
            kernel: program.kernel().clone(),
            clk: 0,
            ctx: 0,
            fn_hash: Word::default(),
            stack: Stack::new(stack_inputs.as_slice()),
            memory: Memory::default(),
            advice: AdviceProvider::default(),
            advice_inputs_map: Some(advice_inputs),
            hasher_addr: 1,
            pc_transcript: Word::default(),
            blocks: Vec::new(),
            span: None,
            trace: CoreTrace::with_capacity(64),
            forest: Arc::clone(program.forest()),
        }
    }

    pub(crate) fn run(mut self, program: &Program) -> Result<ReferenceOutput, ExecutionError> {
        let inputs = self.advice_inputs_map.take().unwrap_or_default();
        self.advice = AdviceProvider::from(inputs);
        self.advice
            .extend_map(program.forest().advice_map())
            .map_err(|e| ExecutionError::advice(0, e))?;
        let forest = Arc::clone(program.forest());
        self.execute_node(&forest, program.entrypoint())?;

        if self.stack.total_overflow() != 0 {
            return Err(ExecutionError::OutputStackOverflow {
                depth: self.stack.depth(),
            });
        }
        let n_cycles = self.clk as usize;
        // The first HALT row carries the final state; HALT padding follows.
        let last = self.trace.row(n_cycles - 1);
        let mut halt = self.state_columns();
        for i in 0..4 {
            let col = DECODER_TRACE_OFFSET + decoder::HASHER_STATE_OFFSET + i;
            halt[col] = last[col];
        }
        let mut bits = [ZERO; 7];
        for (i, bit) in bits.iter_mut().enumerate() {
            *bit = Felt::new(u64::from((OpCode::Halt.as_u8() >> i) & 1));
        }
        halt[DECODER_TRACE_OFFSET + decoder::OP_BITS_OFFSET
            ..DECODER_TRACE_OFFSET + decoder::OP_BITS_OFFSET + 7]
            .copy_from_slice(&bits);
        halt[DECODER_TRACE_OFFSET + decoder::OP_BITS_EXTRA_COLS_OFFSET + 1] = ONE;
        self.trace.push_row(&halt);
        self.trace.pad_to(padded_len(n_cycles));

        Ok(ReferenceOutput {
            trace: self.trace,
            stack_outputs: StackOutputs::new(self.stack.top),
            n_cycles,
            advice: self.advice,
            n_hasher_rows: (self.hasher_addr - 1) as usize,
        })
    }

    // ROWS
    // --------------------------------------------------------------------------------------------

    /// The system and stack columns of the current state (decoder columns zero).
    fn state_columns(&self) -> [Felt; CORE_TRACE_WIDTH] {
        let mut row = [ZERO; CORE_TRACE_WIDTH];
        row[0] = Felt::new(u64::from(self.clk));
        row[1] = Felt::new(u64::from(self.ctx));
        row[2..6].copy_from_slice(self.fn_hash.as_elements());
        row[STACK_TRACE_OFFSET..STACK_TRACE_OFFSET + TOP].copy_from_slice(&self.stack.top);
        let depth = self.stack.depth() as u64;
        row[STACK_TRACE_OFFSET + TOP] = Felt::new(depth);
        row[STACK_TRACE_OFFSET + TOP + 1] = self.stack.overflow_addr();
        row[STACK_TRACE_OFFSET + TOP + 2] = if depth == TOP as u64 {
            ZERO
        } else {
            weft_core::FieldElement::inv(Felt::new(depth - TOP as u64))
        };
        row
    }

    /// Runs one cycle: captures the state, runs `effect` (which may return helper register
    /// values), appends the row and advances the clock.
    pub(crate) fn cycle(
        &mut self,
        dec: DecoderRow,
        effect: impl FnOnce(&mut Self) -> Result<[Felt; 6], ExecutionError>,
    ) -> Result<(), ExecutionError> {
        let mut row = self.state_columns();
        let helpers = effect(self)?;
        let d = DECODER_TRACE_OFFSET;
        row[d + decoder::ADDR_COL_IDX] = dec.addr;
        let code = dec.op.as_u8();
        for i in 0..7 {
            row[d + decoder::OP_BITS_OFFSET + i] = Felt::new(u64::from((code >> i) & 1));
        }
        let mut hasher = dec.hasher;
        if dec.in_span {
            hasher[2..8].copy_from_slice(&helpers);
        }
        row[d + decoder::HASHER_STATE_OFFSET..d + decoder::HASHER_STATE_OFFSET + 8]
            .copy_from_slice(&hasher);
        row[d + decoder::IN_SPAN_COL_IDX] = flag(dec.in_span);
        row[d + decoder::GROUP_COUNT_COL_IDX] = dec.group_count;
        row[d + decoder::OP_INDEX_COL_IDX] = dec.op_idx;
        row[d + decoder::OP_BATCH_FLAGS_OFFSET..d + decoder::OP_BATCH_FLAGS_OFFSET + 3]
            .copy_from_slice(&dec.batch_flags);
        let (b6, b5, b4) = ((code >> 6) & 1, (code >> 5) & 1, (code >> 4) & 1);
        row[d + decoder::OP_BITS_EXTRA_COLS_OFFSET] = flag(b6 == 1 && b5 == 0 && b4 == 1);
        row[d + decoder::OP_BITS_EXTRA_COLS_OFFSET + 1] = flag(b6 == 1 && b5 == 1);
        self.trace.push_row(&row);
        self.clk += 1;
        if self.clk > self.max_cycles {
            return Err(ExecutionError::CycleLimitExceeded {
                max_cycles: self.max_cycles,
            });
        }
        Ok(())
    }

    /// A control row whose stack effect is a `NOOP`.
    fn control_noop(&mut self, dec: DecoderRow) -> Result<(), ExecutionError> {
        self.cycle(dec, |_| Ok([ZERO; 6]))
    }

    /// A control row whose stack effect is a `DROP`.
    fn control_drop(&mut self, dec: DecoderRow) -> Result<(), ExecutionError> {
        self.cycle(dec, |p| {
            p.stack.pop();
            Ok([ZERO; 6])
        })
    }

    /// Takes the hasher address of `n_perms` permutations.
    pub(crate) fn hash_rows(&mut self, n_perms: u64) -> Felt {
        let addr = self.hasher_addr;
        self.hasher_addr += HASH_CYCLE_LEN * n_perms;
        Felt::new(addr)
    }

    /// Opens a block; returns its parent's address.
    fn push_block(&mut self, kind: BlockKind, addr: Felt, caller: Option<CallerContext>) -> Felt {
        let (parent_addr, is_loop_body) = match self.blocks.last() {
            Some(parent) => (
                parent.addr,
                matches!(parent.kind, BlockKind::Loop { entered: true }),
            ),
            None => (ZERO, false),
        };
        self.blocks.push(Block {
            kind,
            addr,
            parent_addr,
            is_loop_body,
            caller,
        });
        parent_addr
    }

    fn pop_block(&mut self) -> Block {
        self.blocks
            .pop()
            .expect("an END always closes an open block")
    }

    /// The `END` row of a control block; `drop` for an entered loop.
    fn end_control(&mut self, digest: Word, drop: bool) -> Result<Block, ExecutionError> {
        let block = self.pop_block();
        let flags = [
            flag(block.is_loop_body),
            flag(matches!(block.kind, BlockKind::Loop { entered: true })),
            flag(matches!(block.kind, BlockKind::Call | BlockKind::Dyncall)),
            flag(block.kind == BlockKind::Syscall),
        ];
        let mut h = [ZERO; 8];
        h[..4].copy_from_slice(digest.as_elements());
        h[4..].copy_from_slice(&flags);
        let dec = DecoderRow::control(block.addr, OpCode::End, h);
        if let Some(caller) = block.caller {
            // The END row shows the callee's context; the next row the caller's.
            self.cycle(dec, |p| {
                p.ctx = caller.ctx;
                p.fn_hash = caller.fn_hash;
                p.stack.end_context();
                Ok([ZERO; 6])
            })?;
        } else if drop {
            self.control_drop(dec)?;
        } else {
            self.control_noop(dec)?;
        }
        Ok(block)
    }

    // NODES
    // --------------------------------------------------------------------------------------------

    pub(crate) fn execute_node(
        &mut self,
        forest: &Arc<MastForest>,
        id: MastNodeId,
    ) -> Result<(), ExecutionError> {
        let node = forest
            .get(id)
            .ok_or(ExecutionError::FailedToExecuteProgram(
                "node id not in forest",
            ))?;
        let previous = std::mem::replace(&mut self.forest, Arc::clone(forest));
        let result = self.execute_node_with_decorators(forest, id, node);
        self.forest = previous;
        result
    }

    fn execute_node_with_decorators(
        &mut self,
        forest: &Arc<MastForest>,
        id: MastNodeId,
        node: &MastNode,
    ) -> Result<(), ExecutionError> {
        let decorators = if self.run_decorators {
            forest.node_decorators(id)
        } else {
            None
        };
        if let Some(d) = decorators {
            self.run_decorator_list(forest, &d.before_enter)?;
        }
        match node {
            MastNode::Block(block) => {
                let ops = decorators.map_or(&[][..], |d| d.ops.as_slice());
                self.execute_block(forest, block, ops)?;
            }
            _ => self.execute_node_inner(forest, node)?,
        }
        if let Some(d) = decorators {
            self.run_decorator_list(forest, &d.after_exit)?;
        }
        Ok(())
    }

    fn run_decorator_list(
        &mut self,
        forest: &MastForest,
        ids: &[DecoratorId],
    ) -> Result<(), ExecutionError> {
        for &id in ids {
            if let Some(decorator) = forest.decorator(id) {
                self.run_decorator(decorator)?;
            }
        }
        Ok(())
    }

    /// Runs one decorator: `Debug` calls [`Host::on_debug`], `Trace` calls [`Host::on_trace`]
    /// (only when tracing is enabled), `AsmOp` does nothing. Decorators cost no cycle.
    fn run_decorator(&mut self, decorator: &Decorator) -> Result<(), ExecutionError> {
        let clk = self.clk;
        let view = crate::state::View {
            clk,
            ctx: self.ctx,
            stack: &self.stack,
            memory: &self.memory,
        };
        match decorator {
            Decorator::Debug(options) => self
                .host
                .on_debug(&view, options)
                .map_err(|source| ExecutionError::DebugHandlerError { clk, source }),
            Decorator::Trace(trace_id) if self.enable_tracing => self
                .host
                .on_trace(&view, *trace_id)
                .map_err(|source| ExecutionError::TraceHandlerError {
                    clk,
                    trace_id: *trace_id,
                    source,
                }),
            _ => Ok(()),
        }
    }

    /// Runs the decorators attached to executed op index `op_idx` of a block.
    fn run_op_decorators(
        &mut self,
        forest: &MastForest,
        decorators: &[(usize, DecoratorId)],
        op_idx: usize,
    ) -> Result<(), ExecutionError> {
        for &(idx, id) in decorators.iter().filter(|(idx, _)| *idx == op_idx) {
            debug_assert_eq!(idx, op_idx);
            if let Some(decorator) = forest.decorator(id) {
                self.run_decorator(decorator)?;
            }
        }
        Ok(())
    }

    fn digest_of(forest: &MastForest, id: MastNodeId) -> Result<Word, ExecutionError> {
        forest
            .get(id)
            .map(MastNode::digest)
            .ok_or(ExecutionError::FailedToExecuteProgram(
                "node id not in forest",
            ))
    }

    fn execute_node_inner(
        &mut self,
        forest: &Arc<MastForest>,
        node: &MastNode,
    ) -> Result<(), ExecutionError> {
        match node {
            MastNode::Block(block) => self.execute_block(forest, block, &[]),
            MastNode::Join(join) => {
                let (a, b) = (join.first(), join.second());
                let h = words(Self::digest_of(forest, a)?, Self::digest_of(forest, b)?);
                let addr = self.hash_rows(1);
                let parent = self.push_block(BlockKind::Join, addr, None);
                self.control_noop(DecoderRow::control(parent, OpCode::Join, h))?;
                self.execute_node(forest, a)?;
                self.execute_node(forest, b)?;
                self.end_control(node.digest(), false).map(|_| ())
            }
            MastNode::Split(split) => {
                let (t, f) = (split.on_true(), split.on_false());
                let h = words(Self::digest_of(forest, t)?, Self::digest_of(forest, f)?);
                let addr = self.hash_rows(1);
                let parent = self.push_block(BlockKind::Split, addr, None);
                let condition = self.stack.get(0);
                self.control_drop(DecoderRow::control(parent, OpCode::Split, h))?;
                if condition == ONE {
                    self.execute_node(forest, t)?;
                } else if condition == ZERO {
                    self.execute_node(forest, f)?;
                } else {
                    return Err(ExecutionError::NotBinaryValueIf {
                        clk: self.clk,
                        value: condition,
                    });
                }
                self.end_control(node.digest(), false).map(|_| ())
            }
            MastNode::Loop(lp) => {
                let body = lp.body();
                let h = words(Self::digest_of(forest, body)?, Word::default());
                let addr = self.hash_rows(1);
                let condition = self.stack.get(0);
                let parent = self.push_block(
                    BlockKind::Loop {
                        entered: condition == ONE,
                    },
                    addr,
                    None,
                );
                self.control_drop(DecoderRow::control(parent, OpCode::Loop, h))?;
                if condition == ONE {
                    self.execute_node(forest, body)?;
                    while self.stack.get(0) == ONE {
                        // REPEAT copies the hasher columns of the previous row (the body's END).
                        let last = self.trace.row(self.trace.num_rows() - 1);
                        let off = DECODER_TRACE_OFFSET + decoder::HASHER_STATE_OFFSET;
                        let mut h = [ZERO; 8];
                        h.copy_from_slice(&last[off..off + 8]);
                        self.control_drop(DecoderRow::control(addr, OpCode::Repeat, h))?;
                        self.execute_node(forest, body)?;
                    }
                    let top = self.stack.get(0);
                    if top != ZERO {
                        return Err(ExecutionError::NotBinaryValueLoop {
                            clk: self.clk,
                            value: top,
                        });
                    }
                    self.end_control(node.digest(), true).map(|_| ())
                } else if condition == ZERO {
                    self.end_control(node.digest(), false).map(|_| ())
                } else {
                    Err(ExecutionError::NotBinaryValueLoop {
                        clk: self.clk,
                        value: condition,
                    })
                }
            }
            MastNode::Call(call) => {
                let callee = call.callee();
                let callee_digest = Self::digest_of(forest, callee)?;
                if call.is_syscall() && !self.kernel.contains(&callee_digest) {
                    return Err(ExecutionError::SyscallTargetNotInKernel {
                        digest: callee_digest,
                    });
                }
                let h = words(callee_digest, Word::default());
                let addr = self.hash_rows(1);
                let caller = CallerContext {
                    ctx: self.ctx,
                    fn_hash: self.fn_hash,
                };
                let (kind, op) = if call.is_syscall() {
                    (BlockKind::Syscall, OpCode::SysCall)
                } else {
                    (BlockKind::Call, OpCode::Call)
                };
                let parent = self.push_block(kind, addr, Some(caller));
                self.cycle(DecoderRow::control(parent, op, h), |p| {
                    p.stack.start_context();
                    if call.is_syscall() {
                        p.ctx = 0;
                    } else {
                        p.ctx = p.clk + 1;
                        p.fn_hash = callee_digest;
                        p.memory.write(
                            p.ctx,
                            Felt::new(u64::from(FMP_ADDR)),
                            p.clk,
                            Felt::new(FMP_INIT_VALUE),
                        )?;
                    }
                    Ok([ZERO; 6])
                })?;
                self.execute_node(forest, callee)?;
                self.check_return_depth()?;
                self.end_control(node.digest(), false).map(|_| ())
            }
            MastNode::Dyn(dyn_node) => self.execute_dyn(forest, node, dyn_node.is_dyncall()),
            MastNode::External(_) => {
                let digest = node.digest();
                let (root, resolved) = self.resolve_external(digest)?;
                self.execute_node(&resolved, root)
            }
        }
    }

    fn check_return_depth(&self) -> Result<(), ExecutionError> {
        let depth = self.stack.depth();
        if depth > TOP {
            return Err(ExecutionError::InvalidStackDepthOnReturn {
                clk: self.clk,
                depth,
            });
        }
        Ok(())
    }

    fn resolve_external(
        &mut self,
        digest: Word,
    ) -> Result<(MastNodeId, Arc<MastForest>), ExecutionError> {
        let forest = self
            .host
            .get_mast_forest(&digest)
            .ok_or(ExecutionError::NoMastForestWithProcedure { digest })?;
        let root = forest
            .find_procedure_root(&digest)
            .ok_or(ExecutionError::MalformedMastForestInHost { digest })?;
        if matches!(forest[root], MastNode::External(_)) {
            return Err(ExecutionError::CircularExternalNode { digest });
        }
        self.advice
            .extend_map(forest.advice_map())
            .map_err(|e| ExecutionError::advice(self.clk, e))?;
        Ok((root, forest))
    }

    fn execute_dyn(
        &mut self,
        forest: &Arc<MastForest>,
        node: &MastNode,
        is_dyncall: bool,
    ) -> Result<(), ExecutionError> {
        let callee_hash = self
            .memory
            .read_word(self.ctx, self.stack.get(0), self.clk)?;
        let addr = self.hash_rows(1);
        if is_dyncall {
            let caller = CallerContext {
                ctx: self.ctx,
                fn_hash: self.fn_hash,
            };
            let new_ctx = self.clk + 1;
            self.memory.write(
                new_ctx,
                Felt::new(u64::from(FMP_ADDR)),
                self.clk,
                Felt::new(FMP_INIT_VALUE),
            )?;
            // h4, h5: the caller's depth and overflow address after dropping the address.
            let mut after = self.stack.clone();
            after.pop();
            let h4 = Felt::new(after.depth() as u64);
            let h5 = after.overflow_addr();
            let parent = self.push_block(BlockKind::Dyncall, addr, Some(caller));
            let h = words(callee_hash, [h4, h5, ZERO, ZERO].into());
            self.cycle(DecoderRow::control(parent, OpCode::Dyncall, h), |p| {
                p.stack.pop();
                p.stack.start_context();
                p.ctx = new_ctx;
                p.fn_hash = callee_hash;
                Ok([ZERO; 6])
            })?;
        } else {
            let parent = self.push_block(BlockKind::Dyn, addr, None);
            let h = words(callee_hash, Word::default());
            self.control_drop(DecoderRow::control(parent, OpCode::Dyn, h))?;
        }
        match forest.find_procedure_root(&callee_hash) {
            Some(root) => self.execute_node(forest, root)?,
            None => {
                let resolved = self.host.get_mast_forest(&callee_hash).ok_or(
                    ExecutionError::DynamicNodeNotFound {
                        clk: self.clk,
                        digest: callee_hash,
                    },
                )?;
                let root = resolved.find_procedure_root(&callee_hash).ok_or(
                    ExecutionError::MalformedMastForestInHost {
                        digest: callee_hash,
                    },
                )?;
                self.advice
                    .extend_map(resolved.advice_map())
                    .map_err(|e| ExecutionError::advice(self.clk, e))?;
                self.execute_node(&resolved, root)?;
            }
        }
        if is_dyncall {
            self.check_return_depth()?;
        }
        self.end_control(node.digest(), false).map(|_| ())
    }

    // BASIC BLOCKS
    // --------------------------------------------------------------------------------------------

    fn execute_block(
        &mut self,
        forest: &MastForest,
        block: &BasicBlockNode,
        decorators: &[(usize, DecoratorId)],
    ) -> Result<(), ExecutionError> {
        let mut op_offset = 0;
        let not_batched = |clk, source| ExecutionError::BlockNotBatched { clk, source };
        let batches = block.batches().map_err(|e| not_batched(self.clk, e))?;
        let addr = self.hash_rows(batches.len() as u64);
        let n_groups = batches.iter().map(|b| b.num_groups() as u64).sum::<u64>();
        let parent = self.push_block(BlockKind::Basic, addr, None);
        let first = &batches[0];
        let dec = DecoderRow {
            addr: parent,
            op: OpCode::Span,
            hasher: *first.groups(),
            in_span: false,
            group_count: Felt::new(n_groups),
            op_idx: ZERO,
            batch_flags: batch_flags(n_groups),
        };
        self.control_noop(dec)?;
        self.span = Some(SpanState {
            group_ops_left: first.groups()[0].as_int(),
            groups_left: n_groups - 1,
        });
        self.execute_batch(forest, first, decorators, op_offset)?;
        op_offset += first.ops().len();
        for batch in &batches[1..] {
            let span = self.span.expect("inside a basic block");
            let block_addr = self.blocks.last().expect("open block").addr;
            let dec = DecoderRow {
                addr: block_addr,
                op: OpCode::Respan,
                hasher: *batch.groups(),
                in_span: false,
                group_count: Felt::new(span.groups_left),
                op_idx: ZERO,
                batch_flags: batch_flags(span.groups_left),
            };
            self.control_noop(dec)?;
            self.blocks.last_mut().expect("open block").addr += Felt::new(HASH_CYCLE_LEN);
            self.span = Some(SpanState {
                group_ops_left: batch.groups()[0].as_int(),
                groups_left: span.groups_left - 1,
            });
            self.execute_batch(forest, batch, decorators, op_offset)?;
            op_offset += batch.ops().len();
        }
        let info = self.pop_block();
        self.span = None;
        let mut h = [ZERO; 8];
        h[..4].copy_from_slice(block.digest().as_elements());
        h[4] = flag(info.is_loop_body);
        self.control_noop(DecoderRow::control(info.addr, OpCode::End, h))?;
        // Decorators after the last operation run after the END row.
        self.run_op_decorators(forest, decorators, op_offset)
    }

    fn execute_batch(
        &mut self,
        forest: &MastForest,
        batch: &OpBatch,
        decorators: &[(usize, DecoratorId)],
        op_offset: usize,
    ) -> Result<(), ExecutionError> {
        let indptr = batch.indptr();
        let n_groups = batch.num_groups().next_power_of_two();
        let mut group = 0usize;
        let mut next_group = 1usize;
        let mut op_idx = 0u64;
        for (i, op) in batch.ops().iter().enumerate() {
            if !decorators.is_empty() {
                self.run_op_decorators(forest, decorators, op_offset + i)?;
            }
            let span = self.span.expect("inside a basic block");
            let ops_left = (span.group_ops_left - u64::from(op.op_code_u8())) >> 7;
            let block = *self.blocks.last().expect("open block");
            let mut hasher = [ZERO; 8];
            hasher[0] = Felt::new(ops_left);
            hasher[1] = block.parent_addr;
            let dec = DecoderRow {
                addr: block.addr,
                op: op.op_code(),
                hasher,
                in_span: true,
                group_count: Felt::new(span.groups_left),
                op_idx: Felt::new(op_idx),
                batch_flags: [ZERO; 3],
            };
            let mut groups_left = span.groups_left;
            if op.imm_value().is_some() {
                groups_left -= 1;
                next_group += 1;
            }
            self.span = Some(SpanState {
                group_ops_left: ops_left,
                groups_left,
            });
            let op = *op;
            self.cycle(dec, |p| p.execute_op(op))?;
            if i + 1 == usize::from(indptr[group + 1]) {
                group = next_group;
                next_group += 1;
                op_idx = 0;
                if group < n_groups {
                    let span = self.span.expect("inside a basic block");
                    self.span = Some(SpanState {
                        group_ops_left: batch.groups()[group].as_int(),
                        groups_left: span.groups_left - 1,
                    });
                }
            } else {
                op_idx += 1;
            }
        }
        Ok(())
    }

    /// Reports the error message the running forest has for `code`.
    pub(crate) fn error_message(&self, code: Felt) -> Option<String> {
        self.forest.error_messages().get(&code.as_int()).cloned()
    }

    /// Applies one RPO permutation, taking hasher rows; returns the address and the output.
    pub(crate) fn permute(&mut self, mut state: [Felt; 12]) -> (Felt, [Felt; 12]) {
        let addr = self.hash_rows(1);
        Rpo256::apply_permutation(&mut state);
        (addr, state)
    }

    /// Executes a user operation (inside a basic block) and returns its helper registers.
    fn execute_op(&mut self, op: Operation) -> Result<[Felt; 6], ExecutionError> {
        crate::ops::execute(self, op)
    }
}
