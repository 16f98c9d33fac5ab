//! The [`Tracer`] contract: how the fast processor reports what trace generation needs.
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
//! 1. [`Tracer::start_clock_cycle`] with the row's clock cycle, before anything of the row has
//!    happened (except for operation rows the tracer declared quiet with
//!    [`Tracer::quiet_rows`]). If it returns `true`, [`Tracer::checkpoint`] follows at once with the full state
//!    *before* the row (the state a trace row shows in its system and stack columns).
//! 2. For a start row, [`Tracer::control_enter`]; for a `RESPAN` row, [`Tracer::respan`]; for an
//!    `END` row, [`Tracer::control_exit`]. For a `DYN`/`DYNCALL` start row, the memory read of
//!    the callee hash is reported (step 3) *before* `control_enter`.
//! 3. The non-deterministic inputs the row consumes, in the order the operation consumes them:
//!    [`Tracer::advice_popped`], [`Tracer::memory_read_element`],
//!    [`Tracer::memory_read_word`], [`Tracer::hasher_permuted`],
//!    [`Tracer::merkle_root_computed`]. Only successful reads are reported.
//!
//! After a `DYN`/`DYNCALL` row (the clock already advanced) and whenever an external node is
//! reached, a resolution through the host is reported by [`Tracer::forest_resolved`]; it comes
//! before the `start_clock_cycle` of the resolved node's start row, so it belongs to the row
//! before.
//!
//! Memory writes, events and decorators are not reported: the core trace does not need them
//! (writes are only read back through reported reads).
//!
//! # Hasher addresses
//! The hasher chiplet's row counter is deterministic: it starts at 1 and advances by 8 for each
//! control node started, 8 per batch for a basic block started, 8 for `HPERM` and
//! `LOGPRECOMPILE` and 8 per level (16 per level for `MRUPDATE`) for Merkle operations. A tracer
//! that needs addresses keeps the counter from the hooks above; the processor does not.
//!
//! # Cost
//! Every hook has an empty default, and the processor is generic over the tracer, so
//! [`NoopTracer`] compiles to nothing.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use weft_core::{Felt, Word};
use weft_mast::MastForest;

use crate::stack::SavedOverflow;

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

/// Observer of a fast execution. See the module documentation for when each hook fires.
#[allow(unused_variables, reason = "hooks have empty default bodies")]
pub trait Tracer {
    /// A row is about to execute at `clk`. Return `true` to receive a [`Tracer::checkpoint`].
    #[inline(always)]
    fn start_clock_cycle(&mut self, clk: u32) -> bool {
        false
    }

    /// How many rows, starting at `clk`, certainly need no checkpoint: `start_clock_cycle`
    /// would return `false` for each of them. The processor may then skip calling
    /// `start_clock_cycle` for those rows (it does so for whole batches of a basic block), so a
    /// tracer that wants to see every row must keep the default of 0.
    #[inline(always)]
    fn quiet_rows(&self, clk: u32) -> u32 {
        0
    }

    /// The state before the row announced by the preceding `start_clock_cycle`.
    #[inline(always)]
    fn checkpoint(&mut self, checkpoint: Checkpoint<'_>) {}

    /// A start row opens a block of kind `kind` for `node`.
    #[inline(always)]
    fn control_enter(&mut self, node: NodeRef, kind: BlockKind) {}

    /// A `RESPAN` row inside the innermost basic block.
    #[inline(always)]
    fn respan(&mut self) {}

    /// An `END` row closes the innermost block (`node`).
    #[inline(always)]
    fn control_exit(&mut self, node: NodeRef) {}

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
}

/// A tracer that observes nothing and costs nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoopTracer;

impl Tracer for NoopTracer {
    #[inline(always)]
    fn quiet_rows(&self, _clk: u32) -> u32 {
        u32::MAX
    }
}
