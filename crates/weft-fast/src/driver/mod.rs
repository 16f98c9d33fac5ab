//! The one execution driver: how the continuation stack is pushed and popped, row by row.
//!
//! [`Driver`] holds the state every row shows (clock, context, caller hash, precompile
//! transcript, stack, call frames) and the continuation stack, and steps through a program one
//! row at a time: the start row of every node, the operations of basic blocks (`block.rs`),
//! `RESPAN`, `REPEAT` and `END` rows, call frames and the switch to forests resolved through the
//! host. It is generic over two things:
//! - its [`Backend`], the services it asks for (memory, advice, hasher, host resolutions);
//! - its [`Tracer`], what a row does besides executing: nothing ([`crate::NoopTracer`]),
//!   record a fragment context (`weft_replay`), or write a trace row (`weft_tracegen`).
//!
//! The fast processor, the recording execution and the trace builder all run this code, so
//! they agree on every row by construction. A run starts at any row a checkpoint can name
//! ([`Driver::run_from`]): the fast processor starts at the program's entry node, the trace
//! builder at the row a fragment context recorded (inside a block, at a `REPEAT`, at an `END`).
//!
//! The driver implements [`crate::Machine`] (`machine.rs`), so user operations run through
//! [`crate::ops`] against the same state.

mod block;
mod control;
mod conts;
mod machine;

use std::sync::Arc;

use weft_core::Word;
use weft_host::ExecutionError;
use weft_mast::{DecoratorId, MastForest, MastNode, MastNodeId};

use self::conts::ContStack;
use crate::{
    backend::Backend,
    stack::Stack,
    tracer::{CallFrame, Checkpoint, Continuation, NodeRef, NodeStart, RowAt, RowState, Tracer},
};

/// The address where `CALL`/`DYNCALL` initialise the new context's frame pointer.
const FMP_ADDR: u32 = u32::MAX - 1;
/// The frame pointer's initial value.
const FMP_INIT_VALUE: u64 = 1 << 31;

/// The state a run starts from.
#[derive(Clone, Debug)]
pub struct DriverState {
    /// The clock cycle of the first row.
    pub clk: u32,
    /// The execution context.
    pub ctx: u32,
    /// The caller's procedure hash.
    pub fn_hash: Word,
    /// The precompile transcript state.
    pub pc_transcript: Word,
    /// The stack.
    pub stack: Stack,
    /// The callers' frames, outermost first.
    pub frames: Vec<CallFrame>,
    /// The continuation stack (the next one to run last).
    pub continuations: Vec<Continuation>,
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunEnd {
    /// Nothing is left to run.
    Finished,
    /// The tracer stopped the run before a row ([`Tracer::stop_before`]).
    Stopped,
}

/// Why the driver left its loop early: the tracer's stop, or an error.
#[derive(Debug)]
pub(crate) enum Interrupt<E> {
    /// The tracer asked to stop before the current row.
    Stop,
    /// A failure.
    Error(E),
}

impl<E> From<E> for Interrupt<E> {
    #[inline(always)]
    fn from(error: E) -> Self {
        Self::Error(error)
    }
}

/// A driver step's result.
pub(crate) type Step<E> = Result<(), Interrupt<E>>;

/// One execution in progress. See the module documentation.
#[derive(Debug)]
pub struct Driver<B: Backend, T: Tracer> {
    stack: Stack,
    clk: u32,
    ctx: u32,
    fn_hash: Word,
    pc_transcript: Word,
    frames: Vec<CallFrame>,
    conts: ContStack,
    /// The continuation stack as checkpoints show it, rewritten at each (kept for its capacity).
    conts_view: Vec<Continuation>,
    /// The forest of the last node started, held between nodes so that starting a node of the
    /// same forest (nearly every node) costs no reference-count update: an atomic update is a
    /// full memory barrier, which made up a large part of a node's cost in loop-heavy programs.
    forest_cache: Option<(u32, Arc<MastForest>)>,
    /// The forest of the node being executed (for error messages).
    cur_forest: u32,
    max_cycles: u32,
    backend: B,
    tracer: T,
}

impl<B, T> Driver<B, T>
where
    B: Backend,
    T: Tracer,
    B::Error: From<T::Error>,
{
    /// A driver at `state`. Running past clock cycle `max_cycles` is
    /// [`ExecutionError::CycleLimitExceeded`].
    pub fn new(state: DriverState, max_cycles: u32, backend: B, tracer: T) -> Self {
        Self {
            stack: state.stack,
            clk: state.clk,
            ctx: state.ctx,
            fn_hash: state.fn_hash,
            pc_transcript: state.pc_transcript,
            frames: state.frames,
            conts: ContStack::new(&state.continuations),
            conts_view: state.continuations,
            forest_cache: None,
            cur_forest: 0,
            max_cycles,
            backend,
            tracer,
        }
    }

    /// Runs from the row `first` (whose work is not on the continuation stack) until nothing
    /// is left or the tracer stops the run.
    ///
    /// # Errors
    /// The program's [`ExecutionError`] (converted), a backend's or tracer's own failure, or
    /// an inconsistency of the state ([`Backend::inconsistent`]).
    pub fn run_from(&mut self, first: RowAt) -> Result<RunEnd, B::Error> {
        match self.drive(first) {
            Ok(()) => Ok(RunEnd::Finished),
            Err(Interrupt::Stop) => Ok(RunEnd::Stopped),
            Err(Interrupt::Error(e)) => Err(e),
        }
    }

    /// The clock cycle of the next row.
    pub fn clk(&self) -> u32 {
        self.clk
    }

    /// The stack.
    pub fn stack(&self) -> &Stack {
        &self.stack
    }

    /// The precompile transcript state.
    pub fn pc_transcript(&self) -> Word {
        self.pc_transcript
    }

    /// Whether callers' frames are still open.
    pub fn has_frames(&self) -> bool {
        !self.frames.is_empty()
    }

    /// The tracer.
    pub fn tracer(&self) -> &T {
        &self.tracer
    }

    /// The tracer, to change.
    pub fn tracer_mut(&mut self) -> &mut T {
        &mut self.tracer
    }

    /// The tracer and the state the next row would show, together.
    pub fn tracer_and_state(&mut self) -> (&mut T, RowState<'_>) {
        let state = RowState {
            clk: self.clk,
            ctx: self.ctx,
            fn_hash: self.fn_hash,
            stack: &self.stack,
        };
        (&mut self.tracer, state)
    }

    /// Ends the run: its backend and tracer.
    pub fn into_parts(self) -> (B, T) {
        (self.backend, self.tracer)
    }

    // ROWS
    // --------------------------------------------------------------------------------------------

    /// Announces the row about to execute at the current clock cycle (steps 1 to 3 of the
    /// tracer contract).
    #[inline(always)]
    fn begin_row(&mut self, row: RowAt) -> Step<B::Error> {
        self.begin_row_with(|| row)
    }

    /// [`Driver::begin_row`] with the row built only for a checkpoint. Built up front, a
    /// `Finish` row's continuation was copied whole from where its parts had just been stored,
    /// a store-forwarding stall at every control node's `END` (a third of the node loop's
    /// samples in `execute_for_trace` of masm-examples' `nprime`, Intel Xeon); the other rows
    /// keep the plain form, which measured faster for them.
    #[inline(always)]
    fn begin_row_with(&mut self, row: impl FnOnce() -> RowAt) -> Step<B::Error> {
        if self.tracer.stop_before(self.clk) {
            return Err(Interrupt::Stop);
        }
        if self.tracer.start_clock_cycle(self.clk) {
            self.checkpoint(row());
        }
        self.tracer.row_started(RowState {
            clk: self.clk,
            ctx: self.ctx,
            fn_hash: self.fn_hash,
            stack: &self.stack,
        });
        Ok(())
    }

    #[cold]
    #[inline(never)]
    fn checkpoint(&mut self, row: RowAt) {
        let (overflow, overflow_clks) = self.stack.overflow();
        self.conts.write_to(&mut self.conts_view);
        let checkpoint = Checkpoint {
            clk: self.clk,
            ctx: self.ctx,
            fn_hash: self.fn_hash,
            pc_transcript: self.pc_transcript,
            row,
            continuations: &self.conts_view,
            stack_top: self.stack.top16(),
            overflow,
            overflow_clks,
            frames: &self.frames,
            forests: self.backend.forests(),
        };
        self.tracer.checkpoint(checkpoint);
    }

    /// Ends the current row: advances the clock and enforces the cycle limit.
    #[inline(always)]
    fn end_row(&mut self) -> Step<B::Error> {
        self.clk += 1;
        if self.clk > self.max_cycles {
            return Err(self.cycle_limit());
        }
        Ok(())
    }

    #[cold]
    fn cycle_limit(&self) -> Interrupt<B::Error> {
        Interrupt::Error(
            ExecutionError::CycleLimitExceeded {
                max_cycles: self.max_cycles,
            }
            .into(),
        )
    }

    // DRIVER
    // --------------------------------------------------------------------------------------------

    fn drive(&mut self, first: RowAt) -> Step<B::Error> {
        // A first row that a continuation names goes through the stack, so that the loop below
        // holds the only inlined copy of the continuation steps.
        match first {
            RowAt::Start(node) => self.conts.push(Continuation::Start(node)),
            RowAt::Op { block, batch, op } => self.resume_block(
                block,
                BlockPos::Op {
                    batch: batch as usize,
                    op: op as usize,
                },
            )?,
            RowAt::Respan { block, batch } => self.resume_block(
                block,
                BlockPos::Respan {
                    batch: batch as usize,
                },
            )?,
            RowAt::BlockEnd(block) => self.resume_block(block, BlockPos::End)?,
            RowAt::Finish(cont) => self.conts.push(cont),
        }
        while let Some(cont) = self.conts.pop() {
            self.step(cont)?;
        }
        Ok(())
    }

    /// Runs one continuation taken off the stack.
    #[inline(always)]
    fn step(&mut self, cont: Continuation) -> Step<B::Error> {
        match cont {
            Continuation::Start(node) => self.start_node(node),
            Continuation::FinishJoin(node) | Continuation::FinishSplit(node) => {
                self.end_control(node, cont)
            }
            Continuation::FinishLoop { node, entered } => self.finish_loop(node, entered),
            Continuation::FinishCall(node) => {
                self.check_return_depth()?;
                self.end_call(node, cont)
            }
            Continuation::FinishDyn(node) => {
                let (forest, id) = self.lookup(node)?;
                let is_dyncall = matches!(&forest[id], MastNode::Dyn(d) if d.is_dyncall());
                if is_dyncall {
                    self.check_return_depth()?;
                    self.end_call(node, cont)
                } else {
                    self.end_control(node, cont)
                }
            }
        }
    }

    /// The forest and id of `node`, checked against the forest table.
    fn lookup(&self, node: NodeRef) -> Result<(&MastForest, MastNodeId), Interrupt<B::Error>> {
        let forest = self
            .backend
            .forests()
            .get(node.forest as usize)
            .ok_or_else(|| B::inconsistent("a node names a forest outside the forest table"))?;
        Ok((forest, node_id::<B>(forest, node.node)?))
    }

    /// The forest of `node` (from the cache when it is the last one used).
    #[inline(always)]
    fn forest_of(&mut self, node: NodeRef) -> Result<Arc<MastForest>, Interrupt<B::Error>> {
        match self.forest_cache.take() {
            Some((cached, forest)) if cached == node.forest => Ok(forest),
            _ => self
                .backend
                .forests()
                .get(node.forest as usize)
                .cloned()
                .ok_or_else(|| {
                    Interrupt::Error(B::inconsistent(
                        "a node names a forest outside the forest table",
                    ))
                }),
        }
    }

    // DECORATORS
    // --------------------------------------------------------------------------------------------

    #[cold]
    fn run_op_decorators(
        &mut self,
        forest: &MastForest,
        decorators: &[(usize, DecoratorId)],
        op_idx: usize,
    ) -> Step<B::Error> {
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
    fn run_decorator_list(&mut self, forest: &MastForest, ids: &[DecoratorId]) -> Step<B::Error> {
        for &id in ids {
            self.run_decorator(forest, id)?;
        }
        Ok(())
    }

    fn run_decorator(&mut self, forest: &MastForest, id: DecoratorId) -> Step<B::Error> {
        if let Some(decorator) = forest.decorator(id) {
            self.backend
                .decorator(decorator, self.clk, self.ctx, &self.stack)?;
        }
        Ok(())
    }
}

/// Where a basic block is entered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BlockPos {
    /// At its `SPAN` row.
    Start,
    /// At operation `op` of batch `batch`.
    Op {
        /// Batch index.
        batch: usize,
        /// Operation index within the batch.
        op: usize,
    },
    /// At the `RESPAN` row before batch `batch` (at least 1).
    Respan {
        /// Batch index.
        batch: usize,
    },
    /// At its `END` row.
    End,
}

/// A start row's [`NodeStart`] with no batches and no callee.
#[inline(always)]
fn node_start<'a>(forest: &'a MastForest, node: &'a MastNode, stack: &'a Stack) -> NodeStart<'a> {
    NodeStart {
        forest,
        node,
        batches: &[],
        callee: Word::default(),
        stack,
    }
}

/// The id of node `idx` of `forest`, checked.
fn node_id<B: Backend>(forest: &MastForest, idx: u32) -> Result<MastNodeId, B::Error> {
    MastNodeId::from_u32_checked(idx, forest.num_nodes())
        .map_err(|_| B::inconsistent("a node index is outside its forest"))
}

/// A tracer's failure as the driver's.
#[inline(always)]
fn tracer_error<E: From<TE>, TE>(error: TE) -> Interrupt<E> {
    Interrupt::Error(E::from(error))
}

/// A program's failure as the driver's.
#[cold]
fn execution_error<E: From<ExecutionError>>(error: ExecutionError) -> Interrupt<E> {
    Interrupt::Error(E::from(error))
}
