//! The fast processor: an iterative driver over a continuation stack, basic blocks as tight
//! loops over their pre-decoded operations, and the [`Machine`] implementation that backs the
//! shared operation semantics with a real memory, advice provider and hasher.

use std::{collections::HashMap, hash::BuildHasherDefault, sync::Arc};

use weft_core::{Felt, ONE, Rpo256, Word, ZERO};
use weft_host::{
    AdviceInputs, AdviceProvider, EventId, ExecutionError, ExecutionOptions, Host, ProcessView,
    StackInputs, StackOutputs, SystemEvent, handle_system_event,
};
use weft_mast::{DecoratorId, Kernel, MastForest, MastNode, MastNodeId, Program};

use crate::{
    machine::Machine,
    ops::execute_op,
    stack::{Stack, TOP},
    tracer::{BlockKind, CallFrame, Checkpoint, Continuation, NodeRef, NoopTracer, RowAt, Tracer},
};

/// The address where `CALL`/`DYNCALL` initialise the new context's frame pointer.
const FMP_ADDR: u64 = u32::MAX as u64 - 1;
/// The frame pointer's initial value.
const FMP_INIT_VALUE: u64 = 1 << 31;

// MEMORY
// ------------------------------------------------------------------------------------------------

/// A multiplicative hasher for the memory map's `u64` keys (`ctx << 32 | word address`).
#[derive(Default, Clone, Copy, Debug)]
struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 =
                (self.0.rotate_left(5) ^ u64::from(*b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_u64(&mut self, value: u64) {
        self.0 = (value ^ (value >> 29)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// Word-granular memory of every context; unwritten words read as zero.
#[derive(Debug, Default)]
pub(crate) struct Memory {
    words: HashMap<u64, [Felt; 4], BuildHasherDefault<KeyHasher>>,
}

#[inline(always)]
fn mem_key(ctx: u32, word_addr: u32) -> u64 {
    (u64::from(ctx) << 32) | u64::from(word_addr)
}

impl Memory {
    #[inline(always)]
    fn element(&self, ctx: u32, addr: u32) -> Option<Felt> {
        self.words
            .get(&mem_key(ctx, addr & !3))
            .map(|w| w[(addr & 3) as usize])
    }

    #[inline(always)]
    fn word(&self, ctx: u32, addr: u32) -> [Felt; 4] {
        self.words
            .get(&mem_key(ctx, addr))
            .copied()
            .unwrap_or([ZERO; 4])
    }

    #[inline(always)]
    fn write_element(&mut self, ctx: u32, addr: u32, value: Felt) {
        self.words
            .entry(mem_key(ctx, addr & !3))
            .or_insert([ZERO; 4])[(addr & 3) as usize] = value;
    }

    #[inline(always)]
    fn write_word(&mut self, ctx: u32, addr: u32, word: [Felt; 4]) {
        self.words.insert(mem_key(ctx, addr), word);
    }
}

#[inline(always)]
fn check_addr(addr: Felt, clk: u32) -> Result<u32, ExecutionError> {
    let a = addr.as_int();
    u32::try_from(a).map_err(|_| ExecutionError::MemoryAddressOutOfBounds { clk, addr: a })
}

#[inline(always)]
fn check_word_addr(addr: Felt, ctx: u32, clk: u32) -> Result<u32, ExecutionError> {
    let a = check_addr(addr, clk)?;
    if a & 3 != 0 {
        return Err(ExecutionError::UnalignedWordAccess { clk, ctx, addr: a });
    }
    Ok(a)
}

// OUTPUT
// ------------------------------------------------------------------------------------------------

/// What a successful fast execution produces.
#[derive(Debug)]
pub struct ExecutionOutput {
    /// The sixteen top stack elements at the end.
    pub stack_outputs: StackOutputs,
    /// The number of executed cycles (rows before the first `HALT`).
    pub n_cycles: u32,
    /// The advice provider at the end.
    pub advice: AdviceProvider,
    /// The precompile transcript state at the end.
    pub pc_transcript: Word,
    /// The forest table [`NodeRef::forest`] indexes: the program's forest first, then every
    /// forest resolved through the host, in the order it was first needed.
    pub forests: Vec<Arc<MastForest>>,
}

// PROCESSOR
// ------------------------------------------------------------------------------------------------

/// The fast processor. Build it with the inputs, then call [`FastProcessor::execute`] (or
/// [`FastProcessor::execute_with_tracer`]) once.
#[derive(Debug)]
pub struct FastProcessor {
    stack_inputs: StackInputs,
    advice_inputs: AdviceInputs,
    options: ExecutionOptions,
}

impl FastProcessor {
    /// A processor that will run with these inputs and options. `options.max_cycles` is
    /// enforced: running past it is [`ExecutionError::CycleLimitExceeded`].
    pub fn new(
        stack_inputs: StackInputs,
        advice_inputs: AdviceInputs,
        options: ExecutionOptions,
    ) -> Self {
        Self {
            stack_inputs,
            advice_inputs,
            options,
        }
    }

    /// Executes `program` against `host`.
    ///
    /// # Errors
    /// Any [`ExecutionError`], with the same kind and clock cycle as the reference processor.
    pub fn execute(
        self,
        program: &Program,
        host: &mut impl Host,
    ) -> Result<ExecutionOutput, ExecutionError> {
        self.execute_with_tracer(program, host, &mut NoopTracer)
    }

    /// Executes `program` against `host`, reporting to `tracer` as its contract says.
    ///
    /// # Errors
    /// Any [`ExecutionError`].
    pub fn execute_with_tracer<H: Host, T: Tracer>(
        self,
        program: &Program,
        host: &mut H,
        tracer: &mut T,
    ) -> Result<ExecutionOutput, ExecutionError> {
        let mut advice = AdviceProvider::from(self.advice_inputs);
        advice
            .extend_map(program.forest().advice_map())
            .map_err(|e| ExecutionError::advice(0, e))?;
        let mut run = Run {
            stack: Stack::new(self.stack_inputs.as_slice()),
            memory: Memory::default(),
            advice,
            clk: 0,
            ctx: 0,
            fn_hash: Word::default(),
            pc_transcript: Word::default(),
            frames: Vec::new(),
            conts: Vec::with_capacity(64),
            forests: vec![Arc::clone(program.forest())],
            forest_cache: None,
            cur_forest: 0,
            kernel: program.kernel(),
            max_cycles: self.options.max_cycles,
            run_decorators: self.options.enable_debugging || self.options.enable_tracing,
            enable_tracing: self.options.enable_tracing,
            host,
            tracer,
        };
        run.run(NodeRef {
            forest: 0,
            node: program.entrypoint().as_u32(),
        })?;
        if run.stack.depth() > TOP || !run.frames.is_empty() {
            return Err(ExecutionError::OutputStackOverflow {
                depth: run.stack.depth(),
            });
        }
        Ok(ExecutionOutput {
            stack_outputs: StackOutputs::new(run.stack.top16()),
            n_cycles: run.clk,
            advice: run.advice,
            pc_transcript: run.pc_transcript,
            forests: run.forests,
        })
    }
}

/// One execution in progress.
struct Run<'a, H: Host, T: Tracer> {
    stack: Stack,
    memory: Memory,
    advice: AdviceProvider,
    clk: u32,
    ctx: u32,
    fn_hash: Word,
    pc_transcript: Word,
    frames: Vec<CallFrame>,
    conts: Vec<Continuation>,
    forests: Vec<Arc<MastForest>>,
    /// The forest of the last node started, held between nodes so that starting a node of the
    /// same forest (nearly every node) costs no reference-count update: an atomic update is a
    /// full memory barrier, which made up a large part of a node's cost in loop-heavy programs.
    forest_cache: Option<(u32, Arc<MastForest>)>,
    /// The forest of the node being executed (for error messages).
    cur_forest: u32,
    kernel: &'a Kernel,
    max_cycles: u32,
    run_decorators: bool,
    enable_tracing: bool,
    host: &'a mut H,
    tracer: &'a mut T,
}

/// A read-only view for event handlers.
struct View<'v> {
    clk: u32,
    ctx: u32,
    stack: &'v Stack,
    memory: &'v Memory,
}

impl ProcessView for View<'_> {
    fn clk(&self) -> u32 {
        self.clk
    }
    fn ctx(&self) -> u32 {
        self.ctx
    }
    fn stack_item(&self, idx: usize) -> Felt {
        self.stack.get_any(idx)
    }
    fn stack_depth(&self) -> usize {
        self.stack.depth()
    }
    fn mem_element(&self, ctx: u32, addr: u32) -> Option<Felt> {
        self.memory.element(ctx, addr)
    }
}

fn node_id(forest: &MastForest, idx: u32) -> Result<MastNodeId, ExecutionError> {
    MastNodeId::from_u32_checked(idx, forest.num_nodes())
        .map_err(|_| ExecutionError::FailedToExecuteProgram("node id not in forest"))
}

impl<H: Host, T: Tracer> Run<'_, H, T> {
    // ROWS
    // --------------------------------------------------------------------------------------------

    /// Announces the row about to execute at the current clock cycle.
    #[inline(always)]
    fn begin_row(&mut self, row: RowAt) {
        if self.tracer.start_clock_cycle(self.clk) {
            self.checkpoint(row);
        }
    }

    #[cold]
    #[inline(never)]
    fn checkpoint(&mut self, row: RowAt) {
        let (overflow, overflow_clks) = self.stack.overflow();
        let checkpoint = Checkpoint {
            clk: self.clk,
            ctx: self.ctx,
            fn_hash: self.fn_hash,
            pc_transcript: self.pc_transcript,
            row,
            continuations: &self.conts,
            stack_top: self.stack.top16(),
            overflow,
            overflow_clks,
            frames: &self.frames,
            forests: &self.forests,
        };
        self.tracer.checkpoint(checkpoint);
    }

    /// Ends the current row: advances the clock and enforces the cycle limit.
    #[inline(always)]
    fn end_row(&mut self) -> Result<(), ExecutionError> {
        self.clk += 1;
        if self.clk > self.max_cycles {
            return Err(self.cycle_limit());
        }
        Ok(())
    }

    #[cold]
    fn cycle_limit(&self) -> ExecutionError {
        ExecutionError::CycleLimitExceeded {
            max_cycles: self.max_cycles,
        }
    }

    // DRIVER
    // --------------------------------------------------------------------------------------------

    fn run(&mut self, entry: NodeRef) -> Result<(), ExecutionError> {
        self.conts.push(Continuation::Start(entry));
        while let Some(cont) = self.conts.pop() {
            match cont {
                Continuation::Start(node) => self.start_node(node)?,
                Continuation::FinishJoin(node) | Continuation::FinishSplit(node) => {
                    self.end_control(node, cont)?;
                }
                Continuation::FinishLoop { node, entered } => self.finish_loop(node, entered)?,
                Continuation::FinishCall(node) => {
                    self.check_return_depth()?;
                    self.end_call(node, cont)?;
                }
                Continuation::FinishDyn(node) => {
                    let forest = Arc::clone(&self.forests[node.forest as usize]);
                    let is_dyncall = matches!(
                        forest.nodes()[node.node as usize],
                        MastNode::Dyn(ref d) if d.is_dyncall()
                    );
                    if is_dyncall {
                        self.check_return_depth()?;
                        self.end_call(node, cont)?;
                    } else {
                        self.end_control(node, cont)?;
                    }
                }
            }
        }
        Ok(())
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

    /// The `END` row of a join, split or dyn.
    fn end_control(&mut self, node: NodeRef, cont: Continuation) -> Result<(), ExecutionError> {
        self.begin_row(RowAt::Finish(cont));
        self.tracer.control_exit(node);
        self.end_row()?;
        self.after_exit(node)
    }

    /// The `END` row of a call, syscall or dyncall: the caller's context comes back.
    fn end_call(&mut self, node: NodeRef, cont: Continuation) -> Result<(), ExecutionError> {
        self.begin_row(RowAt::Finish(cont));
        self.tracer.control_exit(node);
        let frame = self
            .frames
            .pop()
            .ok_or(ExecutionError::FailedToExecuteProgram("call frame missing"))?;
        self.stack.end_context(&frame.overflow);
        self.ctx = frame.ctx;
        self.fn_hash = frame.fn_hash;
        self.end_row()?;
        self.after_exit(node)
    }

    fn finish_loop(&mut self, node: NodeRef, entered: bool) -> Result<(), ExecutionError> {
        let cont = Continuation::FinishLoop { node, entered };
        if !entered {
            return self.end_control(node, cont);
        }
        let top = self.stack.get(0);
        if top == ONE {
            self.begin_row(RowAt::Finish(cont));
            self.stack.pop();
            self.end_row()?;
            let forest = &self.forests[node.forest as usize];
            let MastNode::Loop(lp) = &forest.nodes()[node.node as usize] else {
                return Err(ExecutionError::FailedToExecuteProgram("loop node expected"));
            };
            let body = NodeRef {
                forest: node.forest,
                node: lp.body().as_u32(),
            };
            self.conts.push(cont);
            self.conts.push(Continuation::Start(body));
            Ok(())
        } else if top == ZERO {
            self.begin_row(RowAt::Finish(cont));
            self.tracer.control_exit(node);
            self.stack.pop();
            self.end_row()?;
            self.after_exit(node)
        } else {
            Err(ExecutionError::NotBinaryValueLoop {
                clk: self.clk,
                value: top,
            })
        }
    }

    fn start_node(&mut self, node: NodeRef) -> Result<(), ExecutionError> {
        let forest = match self.forest_cache.take() {
            Some((cached, forest)) if cached == node.forest => forest,
            _ => Arc::clone(&self.forests[node.forest as usize]),
        };
        let result = self.start_node_in(&forest, node);
        self.forest_cache = Some((node.forest, forest));
        result
    }

    fn start_node_in(
        &mut self,
        forest: &Arc<MastForest>,
        node: NodeRef,
    ) -> Result<(), ExecutionError> {
        let id = node_id(forest, node.node)?;
        self.cur_forest = node.forest;
        if self.run_decorators
            && let Some(d) = forest.node_decorators(id)
        {
            let ids = d.before_enter.clone();
            self.run_decorator_list(forest, &ids)?;
        }
        let child = |id: MastNodeId| NodeRef {
            forest: node.forest,
            node: id.as_u32(),
        };
        match &forest[id] {
            MastNode::Block(_) => self.execute_block(forest, id, node)?,
            MastNode::Join(join) => {
                self.begin_row(RowAt::Start(node));
                self.tracer.control_enter(node, BlockKind::Join);
                self.end_row()?;
                self.conts.push(Continuation::FinishJoin(node));
                self.conts.push(Continuation::Start(child(join.second())));
                self.conts.push(Continuation::Start(child(join.first())));
            }
            MastNode::Split(split) => {
                self.begin_row(RowAt::Start(node));
                self.tracer.control_enter(node, BlockKind::Split);
                let cond = self.stack.get(0);
                self.stack.pop();
                self.end_row()?;
                let branch = if cond == ONE {
                    split.on_true()
                } else if cond == ZERO {
                    split.on_false()
                } else {
                    return Err(ExecutionError::NotBinaryValueIf {
                        clk: self.clk,
                        value: cond,
                    });
                };
                self.conts.push(Continuation::FinishSplit(node));
                self.conts.push(Continuation::Start(child(branch)));
            }
            MastNode::Loop(lp) => {
                let cond = self.stack.get(0);
                self.begin_row(RowAt::Start(node));
                self.tracer.control_enter(
                    node,
                    BlockKind::Loop {
                        entered: cond == ONE,
                    },
                );
                self.stack.pop();
                self.end_row()?;
                if cond == ONE {
                    self.conts.push(Continuation::FinishLoop {
                        node,
                        entered: true,
                    });
                    self.conts.push(Continuation::Start(child(lp.body())));
                } else if cond == ZERO {
                    self.conts.push(Continuation::FinishLoop {
                        node,
                        entered: false,
                    });
                } else {
                    return Err(ExecutionError::NotBinaryValueLoop {
                        clk: self.clk,
                        value: cond,
                    });
                }
            }
            MastNode::Call(call) => {
                let callee = call.callee();
                let callee_digest = forest[callee].digest();
                if call.is_syscall() && !self.kernel.contains(&callee_digest) {
                    return Err(ExecutionError::SyscallTargetNotInKernel {
                        digest: callee_digest,
                    });
                }
                self.begin_row(RowAt::Start(node));
                let kind = if call.is_syscall() {
                    BlockKind::Syscall
                } else {
                    BlockKind::Call
                };
                self.tracer.control_enter(node, kind);
                self.push_frame();
                if call.is_syscall() {
                    self.ctx = 0;
                } else {
                    self.ctx = self.clk + 1;
                    self.fn_hash = callee_digest;
                    self.memory
                        .write_element(self.ctx, FMP_ADDR as u32, Felt::new(FMP_INIT_VALUE));
                }
                self.end_row()?;
                self.conts.push(Continuation::FinishCall(node));
                self.conts.push(Continuation::Start(child(callee)));
            }
            MastNode::Dyn(dyn_node) => {
                let is_dyncall = dyn_node.is_dyncall();
                self.begin_row(RowAt::Start(node));
                let callee_hash: Word = self.read_word_traced(self.stack.get(0))?.into();
                let kind = if is_dyncall {
                    BlockKind::Dyncall
                } else {
                    BlockKind::Dyn
                };
                self.tracer.control_enter(node, kind);
                self.stack.pop();
                if is_dyncall {
                    self.push_frame();
                    self.ctx = self.clk + 1;
                    self.fn_hash = callee_hash;
                    self.memory
                        .write_element(self.ctx, FMP_ADDR as u32, Felt::new(FMP_INIT_VALUE));
                }
                self.end_row()?;
                let target = match forest.find_procedure_root(&callee_hash) {
                    Some(root) => child(root),
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
                        self.adopt_forest(callee_hash, resolved, root)?
                    }
                };
                self.conts.push(Continuation::FinishDyn(node));
                self.conts.push(Continuation::Start(target));
            }
            MastNode::External(_) => {
                let digest = forest[id].digest();
                let resolved = self
                    .host
                    .get_mast_forest(&digest)
                    .ok_or(ExecutionError::NoMastForestWithProcedure { digest })?;
                let root = resolved
                    .find_procedure_root(&digest)
                    .ok_or(ExecutionError::MalformedMastForestInHost { digest })?;
                if matches!(resolved[root], MastNode::External(_)) {
                    return Err(ExecutionError::CircularExternalNode { digest });
                }
                let target = self.adopt_forest(digest, resolved, root)?;
                self.conts.push(Continuation::Start(target));
            }
        }
        Ok(())
    }

    /// Adds a forest resolved through the host to the forest table (once per forest) and merges
    /// its advice map; returns the node to run.
    #[cold]
    fn adopt_forest(
        &mut self,
        digest: Word,
        forest: Arc<MastForest>,
        root: MastNodeId,
    ) -> Result<NodeRef, ExecutionError> {
        self.advice
            .extend_map(forest.advice_map())
            .map_err(|e| ExecutionError::advice(self.clk, e))?;
        let existing = self.forests.iter().position(|f| Arc::ptr_eq(f, &forest));
        let (idx, is_new) = match existing {
            Some(idx) => (idx, false),
            None => {
                self.forests.push(forest);
                (self.forests.len() - 1, true)
            }
        };
        let idx = u32::try_from(idx)
            .map_err(|_| ExecutionError::FailedToExecuteProgram("too many forests"))?;
        self.tracer
            .forest_resolved(digest, idx, root.as_u32(), is_new);
        Ok(NodeRef {
            forest: idx,
            node: root.as_u32(),
        })
    }

    fn push_frame(&mut self) {
        let overflow = self.stack.start_context();
        self.frames.push(CallFrame {
            ctx: self.ctx,
            fn_hash: self.fn_hash,
            overflow,
        });
    }

    fn after_exit(&mut self, node: NodeRef) -> Result<(), ExecutionError> {
        if self.run_decorators {
            let forest = Arc::clone(&self.forests[node.forest as usize]);
            let id = node_id(&forest, node.node)?;
            if let Some(d) = forest.node_decorators(id) {
                let ids = d.after_exit.clone();
                self.run_decorator_list(&forest, &ids)?;
            }
        }
        Ok(())
    }

    // BASIC BLOCKS
    // --------------------------------------------------------------------------------------------

    fn execute_block(
        &mut self,
        forest: &MastForest,
        id: MastNodeId,
        node: NodeRef,
    ) -> Result<(), ExecutionError> {
        let MastNode::Block(block) = &forest[id] else {
            return Err(ExecutionError::FailedToExecuteProgram("block expected"));
        };
        let batches = block
            .batches()
            .map_err(|source| ExecutionError::BlockNotBatched {
                clk: self.clk,
                source,
            })?;
        self.begin_row(RowAt::Start(node));
        self.tracer.control_enter(
            node,
            BlockKind::Basic {
                n_batches: batches.len() as u32,
            },
        );
        self.end_row()?;
        let op_decorators = if self.run_decorators {
            forest
                .node_decorators(id)
                .map(|d| d.ops.clone())
                .filter(|ops| !ops.is_empty())
        } else {
            None
        };
        let mut op_offset = 0usize;
        for (batch_idx, batch) in batches.iter().enumerate() {
            if batch_idx > 0 {
                self.begin_row(RowAt::Respan {
                    block: node,
                    batch: batch_idx as u32,
                });
                self.tracer.respan();
                self.end_row()?;
            }
            let ops = batch.ops();
            if let Some(decorators) = &op_decorators {
                for (op_idx, op) in ops.iter().enumerate() {
                    self.run_op_decorators(forest, decorators, op_offset + op_idx)?;
                    self.begin_row(RowAt::Op {
                        block: node,
                        batch: batch_idx as u32,
                        op: op_idx as u32,
                    });
                    execute_op(self, op)?;
                    self.end_row()?;
                }
            } else if self.clk as u64 + ops.len() as u64 <= u64::from(self.max_cycles)
                && ops.len() as u64 <= u64::from(self.tracer.quiet_rows(self.clk))
            {
                // No cycle-limit check can fire and no checkpoint is due inside this batch.
                for op in ops {
                    execute_op(self, op)?;
                    self.clk += 1;
                }
            } else {
                for (op_idx, op) in ops.iter().enumerate() {
                    self.begin_row(RowAt::Op {
                        block: node,
                        batch: batch_idx as u32,
                        op: op_idx as u32,
                    });
                    execute_op(self, op)?;
                    self.end_row()?;
                }
            }
            op_offset += ops.len();
        }
        self.begin_row(RowAt::BlockEnd(node));
        self.tracer.control_exit(node);
        self.end_row()?;
        if let Some(decorators) = &op_decorators {
            self.run_op_decorators(forest, decorators, op_offset)?;
        }
        self.after_exit(node)
    }

    // DECORATORS
    // --------------------------------------------------------------------------------------------

    #[cold]
    fn run_op_decorators(
        &mut self,
        forest: &MastForest,
        decorators: &[(usize, DecoratorId)],
        op_idx: usize,
    ) -> Result<(), ExecutionError> {
        let start = decorators.partition_point(|(i, _)| *i < op_idx);
        for &(i, id) in &decorators[start..] {
            if i != op_idx {
                break;
            }
            self.run_decorator(forest, id)?;
        }
        Ok(())
    }

    #[cold]
    fn run_decorator_list(
        &mut self,
        forest: &MastForest,
        ids: &[DecoratorId],
    ) -> Result<(), ExecutionError> {
        for &id in ids {
            self.run_decorator(forest, id)?;
        }
        Ok(())
    }

    fn run_decorator(
        &mut self,
        forest: &MastForest,
        id: DecoratorId,
    ) -> Result<(), ExecutionError> {
        let clk = self.clk;
        let view = View {
            clk,
            ctx: self.ctx,
            stack: &self.stack,
            memory: &self.memory,
        };
        match forest.decorator(id) {
            Some(weft_mast::Decorator::Debug(options)) => self
                .host
                .on_debug(&view, options)
                .map_err(|source| ExecutionError::DebugHandlerError { clk, source }),
            Some(weft_mast::Decorator::Trace(trace_id)) if self.enable_tracing => self
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

    // HELPERS
    // --------------------------------------------------------------------------------------------

    #[inline(always)]
    fn read_word_traced(&mut self, addr: Felt) -> Result<[Felt; 4], ExecutionError> {
        let a = check_word_addr(addr, self.ctx, self.clk)?;
        let w = self.memory.word(self.ctx, a);
        self.tracer
            .memory_read_word(w.into(), a, self.ctx, self.clk);
        Ok(w)
    }

    #[cold]
    fn emit_event(&mut self) -> Result<(), ExecutionError> {
        let clk = self.clk;
        let event = EventId::from_felt(self.stack.get(0));
        let view = View {
            clk,
            ctx: self.ctx,
            stack: &self.stack,
            memory: &self.memory,
        };
        if let Some(sys) = SystemEvent::from_event_id(event) {
            return handle_system_event(sys, &view, &mut self.advice);
        }
        let mutations = self
            .host
            .on_event(event, &view, &self.advice)
            .map_err(|source| ExecutionError::EventError {
                clk,
                event_id: event,
                event_name: self.host.resolve_event(event),
                source,
            })?;
        self.advice
            .apply_mutations(mutations)
            .map_err(|e| ExecutionError::advice(clk, e))
    }
}

/// Hashes `node` up a Merkle path (leaf level first) at `index`.
fn merkle_root(node: Word, path: &[Word], mut index: u64) -> Word {
    let mut value = node;
    for sibling in path {
        value = if index & 1 == 0 {
            Rpo256::merge(&[value, *sibling])
        } else {
            Rpo256::merge(&[*sibling, value])
        };
        index >>= 1;
    }
    value
}

impl<H: Host, T: Tracer> Machine for Run<'_, H, T> {
    const RECORD_HELPERS: bool = false;

    #[inline(always)]
    fn clk(&self) -> u32 {
        self.clk
    }
    #[inline(always)]
    fn ctx(&self) -> u32 {
        self.ctx
    }
    #[inline(always)]
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

    #[inline(always)]
    fn mem_read(&mut self, addr: Felt) -> Result<Felt, ExecutionError> {
        let a = check_addr(addr, self.clk)?;
        let v = self.memory.element(self.ctx, a).unwrap_or(ZERO);
        self.tracer.memory_read_element(v, a, self.ctx, self.clk);
        Ok(v)
    }
    #[inline(always)]
    fn mem_read_word(&mut self, addr: Felt) -> Result<Word, ExecutionError> {
        self.read_word_traced(addr).map(Word::from)
    }
    #[inline(always)]
    fn mem_write(&mut self, addr: Felt, value: Felt) -> Result<(), ExecutionError> {
        let a = check_addr(addr, self.clk)?;
        self.memory.write_element(self.ctx, a, value);
        Ok(())
    }
    #[inline(always)]
    fn mem_write_word(&mut self, addr: Felt, word: Word) -> Result<(), ExecutionError> {
        let a = check_word_addr(addr, self.ctx, self.clk)?;
        self.memory.write_word(self.ctx, a, word.into());
        Ok(())
    }

    #[inline(always)]
    fn advice_pop(&mut self) -> Result<Felt, ExecutionError> {
        let v = self
            .advice
            .pop_stack()
            .map_err(|e| ExecutionError::advice(self.clk, e))?;
        self.tracer.advice_popped(&[v]);
        Ok(v)
    }
    #[inline(always)]
    fn advice_pop_word(&mut self) -> Result<Word, ExecutionError> {
        let w = self
            .advice
            .pop_stack_word()
            .map_err(|e| ExecutionError::advice(self.clk, e))?;
        self.tracer.advice_popped(w.as_elements());
        Ok(w)
    }
    #[inline(always)]
    fn advice_pop_dword(&mut self) -> Result<[Word; 2], ExecutionError> {
        let [a, b] = self
            .advice
            .pop_stack_dword()
            .map_err(|e| ExecutionError::advice(self.clk, e))?;
        self.tracer.advice_popped(a.as_elements());
        self.tracer.advice_popped(b.as_elements());
        Ok([a, b])
    }

    #[inline(always)]
    fn permute(&mut self, state: &mut [Felt; 12]) -> Felt {
        Rpo256::apply_permutation(state);
        self.tracer.hasher_permuted(state);
        ZERO
    }

    fn merkle_verify(
        &mut self,
        node: Word,
        depth: Felt,
        index: Felt,
        root: Word,
        err_code: Felt,
    ) -> Result<Felt, ExecutionError> {
        let clk = self.clk;
        let path = self
            .advice
            .get_merkle_path(root, depth, index)
            .map_err(|e| ExecutionError::advice(clk, e))?;
        if merkle_root(node, path.nodes(), index.as_int()) != root {
            return Err(ExecutionError::MerklePathVerificationFailed {
                clk,
                value: node,
                index,
                root,
                err_code: err_code.as_int(),
            });
        }
        self.tracer
            .merkle_root_computed(path.len() as u32, false, root);
        Ok(ZERO)
    }

    fn merkle_update(
        &mut self,
        old_node: Word,
        depth: Felt,
        index: Felt,
        old_root: Word,
        new_node: Word,
    ) -> Result<(Felt, Word), ExecutionError> {
        let (path, _) = self
            .advice
            .update_merkle_node(old_root, depth, index, new_node)
            .map_err(|e| ExecutionError::advice(self.clk, e))?;
        let idx = index.as_int();
        if path.len() as u64 != depth.as_int()
            || merkle_root(old_node, path.nodes(), idx) != old_root
        {
            return Err(ExecutionError::FailedToExecuteProgram(
                "MRUPDATE: old node does not match the Merkle store",
            ));
        }
        let new_root = merkle_root(new_node, path.nodes(), idx);
        self.tracer
            .merkle_root_computed(path.len() as u32, true, new_root);
        Ok((ZERO, new_root))
    }

    #[inline(always)]
    fn pc_transcript(&self) -> Word {
        self.pc_transcript
    }
    #[inline(always)]
    fn set_pc_transcript(&mut self, state: Word) {
        self.pc_transcript = state;
    }

    #[inline(always)]
    fn emit(&mut self) -> Result<(), ExecutionError> {
        self.emit_event()
    }

    fn error_message(&self, err_code: Felt) -> Option<String> {
        self.forests[self.cur_forest as usize]
            .error_messages()
            .get(&err_code.as_int())
            .cloned()
    }

    #[inline(always)]
    fn set_helpers(&mut self, _helpers: [Felt; 6]) {}
}
