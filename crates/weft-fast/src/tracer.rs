//! The [`Tracer`] contract: what one execution driver ([`crate::driver::Driver`]) reports, row
//! by row, to whatever observes or rebuilds the execution.
//!
//! The same driver runs plain execution ([`NoopTracer`]), the recording execution of
//! `weft_replay::execute_for_trace` (a tracer that cuts fragments and keeps replay logs) and the
//! trace builder of `weft_tracegen` (a tracer that writes one trace row per row, over a
//! replay-backed [`crate::Backend`]). The hooks are the only thing that differs, so the three
//! agree on every row by construction.
//!
//! # Rows and cycles
//! A *row* is one clock cycle, exactly as the reference processor emits trace rows: the start
//! row of every node (`JOIN`, `SPLIT`, `LOOP`, `CALL`, `SYSCALL`, `DYN`, `DYNCALL`, `SPAN`),
//! every operation of a basic block (padding `NOOP`s included), `RESPAN` before every batch but
//! the first, `REPEAT` before every loop iteration but the first, and `END` for every node.
//! External nodes cost no row.
//!
//! # Order of hooks within a row
//! For every row, in this order:
//! 1. [`Tracer::stop_before`] with the row's clock cycle: if it returns `true`, the driver stops
//!    before the row, with the state before it (the run ends as stopped, not as finished).
//! 2. [`Tracer::start_clock_cycle`] with the row's clock cycle, before anything of the row has
//!    happened. If it returns `true`, [`Tracer::checkpoint`] follows at once with the full state
//!    *before* the row (the state a trace row shows in its system and stack columns).
//! 3. [`Tracer::row_started`] with that same state (clock, context, caller hash, stack).
//! 4. The non-deterministic inputs the row consumes, in the order the operation consumes them:
//!    [`Tracer::advice_popped`], [`Tracer::memory_read_element`],
//!    [`Tracer::memory_read_word`], [`Tracer::hasher_permuted`],
//!    [`Tracer::merkle_root_computed`]. Only successful reads are reported. For a
//!    `DYN`/`DYNCALL` start row this is the memory read of the callee hash.
//! 5. Exactly one hook that says what the row was: for a start row [`Tracer::control_enter`]
//!    (after the row's own pop of a condition or callee address, before a call's new context
//!    starts); for an operation row [`Tracer::op_executed`] (after the operation, with the
//!    helper registers already given to [`Tracer::helpers`] or [`Tracer::helpers_inverting`]);
//!    `RESPAN`: [`Tracer::respan`]; `REPEAT`: [`Tracer::repeat`]; `END`: [`Tracer::control_exit`].
//!
//! Steps 1 to 3 may be skipped for operation rows the tracer declared quiet with
//! [`Tracer::quiet_rows`]; steps 4 and 5 never are. Before the first operation row of each
//! batch the driver executes (after its `SPAN` or `RESPAN` row, or where a run resumes inside a
//! batch), [`Tracer::batch_started`] names the batch and the first operation to run.
//!
//! After a `DYN`/`DYNCALL` row (the clock already advanced) and whenever an external node is
//! reached, a resolution through the host is reported by [`Tracer::forest_resolved`]; it comes
//! before the hooks of the resolved node's start row, so it belongs to the row before.
//!
//! # Chiplet hooks
//! The range checker and chiplet columns need what the core trace does not: every memory write
//! ([`Tracer::memory_write_element`], [`Tracer::memory_write_word`], including the frame
//! pointer a `CALL`/`DYNCALL` start row writes into the new context), the input of every
//! permutation ([`Tracer::permutation_input`], just before [`Tracer::hasher_permuted`]), the
//! leaf, index and path of every Merkle operation ([`Tracer::merkle_path`], just before
//! [`Tracer::merkle_root_computed`]; for both, a tracer that says so with
//! [`Tracer::wants_permutation_rounds`] gets the round states from the backend that computed
//! them), the operands of `U32AND`/`U32XOR` ([`Tracer::u32_bitwise`], after the operands were
//! checked, before the result is pushed) and every `EVALCIRCUIT` that succeeded.
//! They fire in step 4 of their row, interleaved with the reads in the order the operation
//! performs its accesses, so a tracer that logs reads and writes in one list gets them in
//! execution order. Kernel procedure accesses need no hook: a `SYSCALL` start row's
//! [`Tracer::control_enter`] names the node, whose callee's digest is the procedure.
//!
//! Events and decorators are not reported: no trace column depends on them.
//!
//! # Errors
//! The row hooks of step 5 and [`Tracer::batch_started`] may fail with the tracer's
//! [`Tracer::Error`] (a trace writer whose context contradicts itself); the driver stops at
//! once with that error. Tracers that cannot fail use [`Never`].
//!
//! # Hasher addresses
//! The hasher chiplet's row counter is deterministic: it starts at 1 and advances by 8 for each
//! control node started, 8 per batch for a basic block started, 8 for `HPERM` and
//! `LOGPRECOMPILE` and 8 per level (16 per level for `MRUPDATE`) for Merkle operations. A tracer
//! that needs addresses keeps the counter from the hooks above; the driver does not.
//!
//! # Cost
//! Every hook has an empty default, and the driver is generic over the tracer, so
//! [`NoopTracer`] compiles to nothing.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use weft_core::{Felt, FieldElement, Operation, Word};
use weft_host::ExecutionError;
use weft_mast::{MastForest, MastNode, OpBatch};

use crate::stack::{SavedOverflow, Stack};

/// A node of a forest of the processor's forest table: index 0 is the program's forest, the
/// others were resolved through the host in the order they were first needed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NodeRef {
    /// Index into the forest table.
    pub forest: u32,
    /// Node index in that forest.
    pub node: u32,
}

/// What remains to be done for an open node: the processor's continuation stack holds these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Continuation {
    /// Start the node (its start row, or a resolution for an external node).
    Start(NodeRef),
    /// The `END` row of a join.
    FinishJoin(NodeRef),
    /// The `END` row of a split.
    FinishSplit(NodeRef),
    /// After a loop body: `REPEAT` if the top is 1, `END` (popping) if it is 0. A loop that was
    /// not entered (`entered == false`) has only its `END` row, which pops nothing.
    FinishLoop {
        /// The loop node.
        node: NodeRef,
        /// Whether the body ran at least once.
        entered: bool,
    },
    /// The `END` row of a call or syscall (after the return-depth check).
    FinishCall(NodeRef),
    /// The `END` row of a dyn or dyncall (a dyncall checks the return depth first).
    FinishDyn(NodeRef),
}

/// The row about to execute at a checkpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RowAt {
    /// The start row of a (non-external) node.
    Start(NodeRef),
    /// Operation `op` of batch `batch` of a basic block.
    Op {
        /// The basic block.
        block: NodeRef,
        /// Batch index.
        batch: u32,
        /// Operation index within the batch (padding `NOOP`s counted).
        op: u32,
    },
    /// The `RESPAN` row before batch `batch` (at least 1) of a basic block.
    Respan {
        /// The basic block.
        block: NodeRef,
        /// Batch index.
        batch: u32,
    },
    /// The `END` row of a basic block.
    BlockEnd(NodeRef),
    /// The row of a continuation that was just taken off the continuation stack.
    Finish(Continuation),
}

/// The kind of block a start row opens (the decoder's block stack entry).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BlockKind {
    /// A join.
    Join,
    /// A split.
    Split,
    /// A loop, and whether its body is entered.
    Loop {
        /// Whether the condition was 1.
        entered: bool,
    },
    /// A call.
    Call,
    /// A syscall.
    Syscall,
    /// A dyn.
    Dyn,
    /// A dyncall.
    Dyncall,
    /// A basic block with `n_batches` batches.
    Basic {
        /// Number of batches.
        n_batches: u32,
    },
}

/// A caller's state set aside by a `CALL`, `SYSCALL` or `DYNCALL` until its `END`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallFrame {
    /// The caller's context.
    pub ctx: u32,
    /// The caller's `fn_hash`.
    pub fn_hash: Word,
    /// The caller's stack overflow.
    pub overflow: SavedOverflow,
}

/// The full processor state before a row, handed to [`Tracer::checkpoint`].
#[derive(Debug)]
pub struct Checkpoint<'a> {
    /// The row's clock cycle.
    pub clk: u32,
    /// The execution context.
    pub ctx: u32,
    /// The caller's procedure hash.
    pub fn_hash: Word,
    /// The precompile transcript state.
    pub pc_transcript: Word,
    /// The row about to execute.
    pub row: RowAt,
    /// The continuation stack (the next one to run last).
    pub continuations: &'a [Continuation],
    /// The top 16 stack elements, top first.
    pub stack_top: [Felt; 16],
    /// The current context's overflow, bottom first.
    pub overflow: &'a [Felt],
    /// The push clock of every overflow element, bottom first.
    pub overflow_clks: &'a [u32],
    /// The callers' frames, outermost first.
    pub frames: &'a [CallFrame],
    /// The forest table [`NodeRef::forest`] indexes.
    pub forests: &'a [Arc<MastForest>],
}

/// The state a row shows in its system and stack columns: the state before the row.
#[derive(Clone, Copy, Debug)]
pub struct RowState<'a> {
    /// The row's clock cycle.
    pub clk: u32,
    /// The execution context.
    pub ctx: u32,
    /// The caller's procedure hash.
    pub fn_hash: Word,
    /// The stack.
    pub stack: &'a Stack,
}

/// What a start row knows besides its node and kind, for tracers that write rows.
#[derive(Clone, Copy, Debug)]
pub struct NodeStart<'a> {
    /// The forest of the node.
    pub forest: &'a MastForest,
    /// The node.
    pub node: &'a MastNode,
    /// A basic block's batches (empty for other nodes).
    pub batches: &'a [OpBatch],
    /// The callee hash a `DYN`/`DYNCALL` row read from memory (zero for other nodes).
    pub callee: Word,
    /// The stack after the row's own pop (`SPLIT`, `LOOP`, `DYN`, `DYNCALL`) and before a
    /// call's new context starts (`CALL`, `SYSCALL`, `DYNCALL`).
    pub stack: &'a Stack,
}

/// A batch of a basic block, as the block-stepping hooks name it.
#[derive(Clone, Copy, Debug)]
pub struct BatchAt<'a> {
    /// The basic block.
    pub block: NodeRef,
    /// All batches of the block.
    pub batches: &'a [OpBatch],
    /// The batch's index (below `batches.len()`).
    pub idx: usize,
}

impl<'a> BatchAt<'a> {
    /// The batch itself.
    ///
    /// # Panics
    /// If `idx` is out of range, which the driver never passes.
    #[inline(always)]
    pub fn batch(&self) -> &'a OpBatch {
        &self.batches[self.idx]
    }
}

/// The error type of tracers that cannot fail: it has no value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Never {}

impl From<Never> for ExecutionError {
    fn from(never: Never) -> Self {
        match never {}
    }
}

/// Observer of an execution. See the module documentation for when each hook fires.
#[allow(unused_variables, reason = "hooks have empty default bodies")]
pub trait Tracer {
    /// Why a row hook failed ([`Never`] for tracers that cannot fail).
    type Error;

    /// Whether [`Tracer::helpers`] keeps its argument. When false, operations skip computing
    /// helper values (inversions, limbs) altogether.
    const RECORD_HELPERS: bool = false;

    /// Whether the run ends before the row at `clk` (see the module documentation).
    #[inline(always)]
    fn stop_before(&self, clk: u32) -> bool {
        false
    }

    /// A row is about to execute at `clk`. Return `true` to receive a [`Tracer::checkpoint`].
    #[inline(always)]
    fn start_clock_cycle(&mut self, clk: u32) -> bool {
        false
    }

    /// How many rows, starting at `clk`, certainly need neither a stop nor a checkpoint nor
    /// their state: `stop_before` and `start_clock_cycle` would return `false` for each of
    /// them and `row_started` would do nothing. The driver may then skip those three hooks for
    /// those rows (it does so for whole batches of a basic block), so a tracer that wants to see
    /// every row must keep the default of 0.
    #[inline(always)]
    fn quiet_rows(&self, clk: u32) -> u32 {
        0
    }

    /// The state before the row announced by the preceding `start_clock_cycle`.
    #[inline(always)]
    fn checkpoint(&mut self, checkpoint: Checkpoint<'_>) {}

    /// The state before the row (after `start_clock_cycle` and any checkpoint).
    #[inline(always)]
    fn row_started(&mut self, state: RowState<'_>) {}

    /// A start row opens a block of kind `kind` for `node`.
    ///
    /// # Errors
    /// The tracer's own failure.
    #[inline(always)]
    fn control_enter(
        &mut self,
        node: NodeRef,
        kind: BlockKind,
        start: &NodeStart<'_>,
    ) -> Result<(), Self::Error> {
        Ok(())
    }

    /// The `RESPAN` row before batch `at` (at least the second) of the innermost basic block.
    ///
    /// # Errors
    /// The tracer's own failure.
    #[inline(always)]
    fn respan(&mut self, at: &BatchAt<'_>) -> Result<(), Self::Error> {
        Ok(())
    }

    /// The operations of batch `at` run from operation `first_op` on (0 except where a run
    /// resumes inside the batch).
    ///
    /// # Errors
    /// The tracer's own failure.
    #[inline(always)]
    fn batch_started(&mut self, at: &BatchAt<'_>, first_op: usize) -> Result<(), Self::Error> {
        Ok(())
    }

    /// The helper registers of the operation being executed. Only called when
    /// [`Tracer::RECORD_HELPERS`] is true, and only by operations that have helpers.
    #[inline(always)]
    fn helpers(&mut self, helpers: [Felt; 6]) {}

    /// [`Tracer::helpers`] with `helpers[slot]` still to invert (0 stays 0; a tracer may batch).
    #[inline(always)]
    fn helpers_inverting(&mut self, mut helpers: [Felt; 6], slot: usize) {
        helpers[slot] = helpers[slot].inv();
        self.helpers(helpers);
    }

    /// Operation `op_idx` (`op`) of batch `at` was executed.
    ///
    /// # Errors
    /// The tracer's own failure.
    #[inline(always)]
    fn op_executed(
        &mut self,
        at: &BatchAt<'_>,
        op_idx: usize,
        op: &Operation,
    ) -> Result<(), Self::Error> {
        Ok(())
    }

    /// A `REPEAT` row of the loop `node` starts another iteration.
    ///
    /// # Errors
    /// The tracer's own failure.
    #[inline(always)]
    fn repeat(&mut self, node: NodeRef) -> Result<(), Self::Error> {
        Ok(())
    }

    /// An `END` row closes the innermost block (`node`).
    ///
    /// # Errors
    /// The tracer's own failure.
    #[inline(always)]
    fn control_exit(&mut self, node: NodeRef) -> Result<(), Self::Error> {
        Ok(())
    }

    /// Elements popped from the advice stack, in the order they were popped (1, 4 or 8).
    #[inline(always)]
    fn advice_popped(&mut self, values: &[Felt]) {}

    /// A memory element was read.
    #[inline(always)]
    fn memory_read_element(&mut self, value: Felt, addr: u32, ctx: u32, clk: u32) {}

    /// A memory word was read.
    #[inline(always)]
    fn memory_read_word(&mut self, value: Word, addr: u32, ctx: u32, clk: u32) {}

    /// An `HPERM` or `LOGPRECOMPILE` permutation produced `output`.
    #[inline(always)]
    fn hasher_permuted(&mut self, output: &[Felt; 12]) {}

    /// A Merkle operation hashed a path of `depth` levels (`update`: `MRUPDATE`, which uses two
    /// hasher rows groups per level) and produced `root` (the verified root for `MPVERIFY`, the
    /// new root for `MRUPDATE`).
    #[inline(always)]
    fn merkle_root_computed(&mut self, depth: u32, update: bool, root: Word) {}

    /// The procedure `digest` resolved through the host to node `root` of forest table entry
    /// `forest` (`is_new`: the forest was appended to the table by this resolution).
    #[inline(always)]
    fn forest_resolved(&mut self, digest: Word, forest: u32, root: u32, is_new: bool) {}

    /// A memory element was written (after the write; `ctx` is the context written, which for
    /// the frame pointer of a `CALL`/`DYNCALL` start row is the new context).
    #[inline(always)]
    fn memory_write_element(&mut self, value: Felt, addr: u32, ctx: u32, clk: u32) {}

    /// A memory word was written at the word-aligned `addr` (after the write).
    #[inline(always)]
    fn memory_write_word(&mut self, value: Word, addr: u32, ctx: u32, clk: u32) {}

    /// An `HPERM` or `LOGPRECOMPILE` permutation is about to run on `input` (the hasher
    /// chiplet's input state); [`Tracer::hasher_permuted`] follows with its output.
    #[inline(always)]
    fn permutation_input(&mut self, input: &[Felt; 12]) {}

    /// Whether this tracer wants each permutation's round states
    /// ([`Tracer::permutation_rounds`]). When it does, the backend is asked for them
    /// ([`crate::Backend::permute_rounds`]): a backend that computes the permutation gets them
    /// at no extra cost, so a trace builder need not compute the permutation a second time.
    #[inline(always)]
    fn wants_permutation_rounds(&self) -> bool {
        false
    }

    /// The seven round states (the last is the output) of the permutation that
    /// [`Tracer::permutation_input`] announced, before [`Tracer::hasher_permuted`], or of each
    /// level of the path [`Tracer::merkle_path`] just reported (an `MRUPDATE`'s old path) leaf
    /// first; only where [`Tracer::wants_permutation_rounds`] and the backend computed them.
    #[inline(always)]
    fn permutation_rounds(&mut self, rounds: &[[Felt; 12]; 7]) {}

    /// A Merkle operation hashed `path` (siblings from the leaf up) at `index`, starting from
    /// `node` (`MPVERIFY`'s leaf, `MRUPDATE`'s old leaf); `new_node` is `MRUPDATE`'s new leaf.
    /// Fires only when the operation succeeded, just before [`Tracer::merkle_root_computed`].
    #[inline(always)]
    fn merkle_path(&mut self, node: Word, new_node: Option<Word>, index: Felt, path: &[Word]) {}

    /// A `U32AND` (`xor` false) or `U32XOR` (`xor` true) of `a` (stack position 1) and `b`
    /// (the top), after both were checked to be u32 values.
    #[inline(always)]
    fn u32_bitwise(&mut self, xor: bool, a: u32, b: u32) {}

    /// An `EVALCIRCUIT` in context `ctx` at `clk` read `n_read` variables (in `n_read / 2`
    /// word reads from `ptr`) and `n_eval` instructions (element reads after them) and
    /// evaluated to zero. Fires after its reads were reported.
    #[inline(always)]
    fn circuit_evaluated(&mut self, ctx: u32, clk: u32, ptr: u32, n_read: u32, n_eval: u32) {}
}

/// A tracer that observes nothing and costs nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoopTracer;

impl Tracer for NoopTracer {
    type Error = Never;

    #[inline(always)]
    fn quiet_rows(&self, _clk: u32) -> u32 {
        u32::MAX
    }
}

/// A tracer borrowed for one run: every hook goes to the borrowed tracer.
impl<T: Tracer + ?Sized> Tracer for &mut T {
    type Error = T::Error;
    const RECORD_HELPERS: bool = T::RECORD_HELPERS;

    #[inline(always)]
    fn stop_before(&self, clk: u32) -> bool {
        (**self).stop_before(clk)
    }
    #[inline(always)]
    fn start_clock_cycle(&mut self, clk: u32) -> bool {
        (**self).start_clock_cycle(clk)
    }
    #[inline(always)]
    fn quiet_rows(&self, clk: u32) -> u32 {
        (**self).quiet_rows(clk)
    }
    #[inline(always)]
    fn checkpoint(&mut self, checkpoint: Checkpoint<'_>) {
        (**self).checkpoint(checkpoint);
    }
    #[inline(always)]
    fn row_started(&mut self, state: RowState<'_>) {
        (**self).row_started(state);
    }
    #[inline(always)]
    fn control_enter(
        &mut self,
        node: NodeRef,
        kind: BlockKind,
        start: &NodeStart<'_>,
    ) -> Result<(), Self::Error> {
        (**self).control_enter(node, kind, start)
    }
    #[inline(always)]
    fn respan(&mut self, at: &BatchAt<'_>) -> Result<(), Self::Error> {
        (**self).respan(at)
    }
    #[inline(always)]
    fn batch_started(&mut self, at: &BatchAt<'_>, first_op: usize) -> Result<(), Self::Error> {
        (**self).batch_started(at, first_op)
    }
    #[inline(always)]
    fn helpers(&mut self, helpers: [Felt; 6]) {
        (**self).helpers(helpers);
    }
    #[inline(always)]
    fn helpers_inverting(&mut self, helpers: [Felt; 6], slot: usize) {
        (**self).helpers_inverting(helpers, slot);
    }
    #[inline(always)]
    fn op_executed(
        &mut self,
        at: &BatchAt<'_>,
        op_idx: usize,
        op: &Operation,
    ) -> Result<(), Self::Error> {
        (**self).op_executed(at, op_idx, op)
    }
    #[inline(always)]
    fn repeat(&mut self, node: NodeRef) -> Result<(), Self::Error> {
        (**self).repeat(node)
    }
    #[inline(always)]
    fn control_exit(&mut self, node: NodeRef) -> Result<(), Self::Error> {
        (**self).control_exit(node)
    }
    #[inline(always)]
    fn advice_popped(&mut self, values: &[Felt]) {
        (**self).advice_popped(values);
    }
    #[inline(always)]
    fn memory_read_element(&mut self, value: Felt, addr: u32, ctx: u32, clk: u32) {
        (**self).memory_read_element(value, addr, ctx, clk);
    }
    #[inline(always)]
    fn memory_read_word(&mut self, value: Word, addr: u32, ctx: u32, clk: u32) {
        (**self).memory_read_word(value, addr, ctx, clk);
    }
    #[inline(always)]
    fn hasher_permuted(&mut self, output: &[Felt; 12]) {
        (**self).hasher_permuted(output);
    }
    #[inline(always)]
    fn wants_permutation_rounds(&self) -> bool {
        (**self).wants_permutation_rounds()
    }
    #[inline(always)]
    fn permutation_rounds(&mut self, rounds: &[[Felt; 12]; 7]) {
        (**self).permutation_rounds(rounds);
    }
    #[inline(always)]
    fn merkle_root_computed(&mut self, depth: u32, update: bool, root: Word) {
        (**self).merkle_root_computed(depth, update, root);
    }
    #[inline(always)]
    fn forest_resolved(&mut self, digest: Word, forest: u32, root: u32, is_new: bool) {
        (**self).forest_resolved(digest, forest, root, is_new);
    }
    #[inline(always)]
    fn memory_write_element(&mut self, value: Felt, addr: u32, ctx: u32, clk: u32) {
        (**self).memory_write_element(value, addr, ctx, clk);
    }
    #[inline(always)]
    fn memory_write_word(&mut self, value: Word, addr: u32, ctx: u32, clk: u32) {
        (**self).memory_write_word(value, addr, ctx, clk);
    }
    #[inline(always)]
    fn permutation_input(&mut self, input: &[Felt; 12]) {
        (**self).permutation_input(input);
    }
    #[inline(always)]
    fn merkle_path(&mut self, node: Word, new_node: Option<Word>, index: Felt, path: &[Word]) {
        (**self).merkle_path(node, new_node, index, path);
    }
    #[inline(always)]
    fn u32_bitwise(&mut self, xor: bool, a: u32, b: u32) {
        (**self).u32_bitwise(xor, a, b);
    }
    #[inline(always)]
    fn circuit_evaluated(&mut self, ctx: u32, clk: u32, ptr: u32, n_read: u32, n_eval: u32) {
        (**self).circuit_evaluated(ctx, clk, ptr, n_read, n_eval);
    }
}
