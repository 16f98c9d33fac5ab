//! The [`RecordingTracer`]: a [`Tracer`] that cuts an execution into fragments and fills their
//! contexts, and [`execute_for_trace`], which runs the fast processor with it.

use weft_core::{Felt, Word};
use weft_fast::{
    BatchAt, BlockKind, Checkpoint, ExecutionOutput, FastProcessor, Never, NodeRef, NodeStart,
    Tracer,
};
use weft_host::{AdviceInputs, ExecutionError, ExecutionOptions, Host, StackInputs};
use weft_mast::{MastNode, Program};

use crate::chiplets::{
    BitwiseKind, BitwiseOp, ChipletsReplay, CircuitEvaluation, HasherRequest, MemoryAccess,
    MemoryAccessKind, MerkleUpdateRequest, MerkleVerifyRequest, PermuteRequest,
};
use crate::context::{
    AdviceReplay, BlockEntry, ExternalReplay, ForestOrigin, FragmentContext, FragmentState,
    FrameState, HasherReplay, MemoryReplay, Resolution, TraceContexts, word_to_u64s,
};

/// Hasher chiplet rows per permutation.
const HASH_CYCLE_LEN: u32 = 8;

/// Entries the busiest logs start with room for, so that a short program's do not grow
/// through a string of small reallocations.
const START_CAPACITY: usize = 1024;

/// The basic block being executed, as [`RecordingTracer`] keeps it.
#[derive(Clone, Copy, Debug)]
struct OpenBlock {
    node: NodeRef,
    n_batches: u32,
    /// Its hasher address, advanced by each `RESPAN`.
    addr: u32,
}

/// Records fragment contexts every `fragment_size` rows.
///
/// The open fragment's replay logs are fields of the tracer itself rather than of a
/// `FragmentContext` behind an `Option`, so that every hook is one push into a vector the tracer
/// owns; a checkpoint moves them into the finished context and starts new ones sized like the
/// last.
#[derive(Debug)]
pub struct RecordingTracer {
    fragment_size: u32,
    next_boundary: u32,
    /// The decoder's block stack of control nodes.
    block_stack: Vec<BlockEntry>,
    /// The basic block being executed, if any: it tops the block stack, but lives here so that
    /// entering and leaving a block (the commonest pair of hooks) writes one slot instead of
    /// pushing and popping (basic blocks have no children, so it is always the top). Its
    /// parent's address and kind are read from the block stack's top at a checkpoint.
    open_block: Option<OpenBlock>,
    hasher_addr: u32,
    forests: Vec<ForestOrigin>,
    fragments: Vec<FragmentContext>,
    /// The open fragment's start state (`None` before the first row).
    state: Option<FragmentState>,
    advice: AdviceReplay,
    memory: MemoryReplay,
    hasher: HasherReplay,
    external: ExternalReplay,
    /// The chiplet logs of the whole execution.
    chiplets: ChipletsReplay,
}

impl RecordingTracer {
    /// A tracer that starts a fragment every `fragment_size` rows (at least 1).
    pub fn new(fragment_size: u32) -> Self {
        let mut chiplets = ChipletsReplay::default();
        chiplets.hasher.requests.reserve(START_CAPACITY);
        chiplets.memory.accesses.reserve(START_CAPACITY);
        let mut hasher = HasherReplay::default();
        hasher.block_addrs.reserve(START_CAPACITY);
        Self {
            fragment_size: fragment_size.max(1),
            next_boundary: 0,
            block_stack: Vec::new(),
            open_block: None,
            hasher_addr: 1,
            forests: vec![ForestOrigin::Program],
            fragments: Vec::new(),
            state: None,
            advice: AdviceReplay::default(),
            memory: MemoryReplay::default(),
            hasher,
            external: ExternalReplay::default(),
            chiplets,
        }
    }

    /// Finishes recording after an execution of `n_cycles` rows of `program`.
    pub fn finish(mut self, program: &Program, n_cycles: u32) -> TraceContexts {
        self.close_fragment();
        self.chiplets.program_hash = word_to_u64s(&program.hash());
        self.chiplets.kernel.procedures = program
            .kernel()
            .proc_hashes()
            .iter()
            .map(word_to_u64s)
            .collect();
        TraceContexts {
            fragment_size: self.fragment_size,
            n_cycles,
            forests: self.forests,
            fragments: self.fragments,
            chiplets: self.chiplets,
        }
    }

    #[inline(always)]
    fn access(&mut self, kind: MemoryAccessKind, ctx: u32, addr: u32, clk: u32, value: [u64; 4]) {
        self.chiplets.memory.accesses.push(MemoryAccess {
            kind,
            ctx,
            addr,
            clk,
            value,
        });
    }

    /// Moves the open fragment (if any) with its logs into the finished ones; the next logs
    /// start with the capacity the closed ones needed.
    fn close_fragment(&mut self) {
        let Some(state) = self.state.take() else {
            return;
        };
        let advice = AdviceReplay {
            values: Vec::with_capacity(self.advice.values.len()),
        };
        let memory = MemoryReplay {
            elements: Vec::with_capacity(self.memory.elements.len()),
            words: Vec::with_capacity(self.memory.words.len()),
        };
        let hasher = HasherReplay {
            block_addrs: Vec::with_capacity(self.hasher.block_addrs.len()),
            permutations: Vec::with_capacity(self.hasher.permutations.len()),
            merkle_roots: Vec::with_capacity(self.hasher.merkle_roots.len()),
        };
        let external = ExternalReplay {
            resolutions: Vec::with_capacity(self.external.resolutions.len()),
        };
        self.fragments.push(FragmentContext {
            state,
            advice: std::mem::replace(&mut self.advice, advice),
            memory: std::mem::replace(&mut self.memory, memory),
            hasher: std::mem::replace(&mut self.hasher, hasher),
            external: std::mem::replace(&mut self.external, external),
        });
    }

    /// The decoder's block stack now, the open basic block included.
    fn block_stack_now(&self) -> Vec<BlockEntry> {
        let mut stack = self.block_stack.clone();
        if let Some(open) = self.open_block {
            stack.push(self.entry(
                open.node,
                BlockKind::Basic {
                    n_batches: open.n_batches,
                },
                open.addr,
            ));
        }
        stack
    }

    /// The block stack entry of a block entered now (under the block stack's top).
    #[inline(always)]
    fn entry(&self, node: NodeRef, kind: BlockKind, addr: u32) -> BlockEntry {
        let (parent_addr, is_loop_body) = self.block_stack.last().map_or((0, false), |p| {
            (p.addr, p.kind == BlockKind::Loop { entered: true })
        });
        BlockEntry {
            node,
            kind,
            addr,
            parent_addr,
            is_loop_body,
        }
    }

    /// [`Tracer::control_enter`] for a control node (not a basic block).
    #[inline(never)]
    fn enter_control(&mut self, node: NodeRef, kind: BlockKind, start: &NodeStart<'_>) {
        self.chiplets
            .hasher
            .requests
            .push(HasherRequest::Node(node));
        if kind == BlockKind::Syscall
            && let MastNode::Call(call) = start.node
        {
            let digest = start.forest[call.callee()].digest();
            self.chiplets.kernel.accesses.push(word_to_u64s(&digest));
        }
        let addr = self.take_hasher_rows(HASH_CYCLE_LEN);
        let entry = self.entry(node, kind, addr);
        self.block_stack.push(entry);
        self.hasher.block_addrs.push(addr);
    }

    #[inline(always)]
    fn take_hasher_rows(&mut self, n_rows: u32) -> u32 {
        let addr = self.hasher_addr;
        self.hasher_addr += n_rows;
        addr
    }
}

impl Tracer for RecordingTracer {
    type Error = Never;

    #[inline(always)]
    fn start_clock_cycle(&mut self, clk: u32) -> bool {
        clk == self.next_boundary
    }

    #[inline(always)]
    fn quiet_rows(&self, clk: u32) -> u32 {
        self.next_boundary.saturating_sub(clk)
    }

    fn checkpoint(&mut self, cp: Checkpoint<'_>) {
        self.next_boundary = cp.clk + self.fragment_size;
        self.close_fragment();
        let state = FragmentState {
            clk: cp.clk,
            ctx: cp.ctx,
            fn_hash: word_to_u64s(&cp.fn_hash),
            pc_transcript: word_to_u64s(&cp.pc_transcript),
            stack_top: cp.stack_top.map(|f| f.as_int()),
            overflow: cp.overflow.iter().map(|f| f.as_int()).collect(),
            overflow_clks: cp.overflow_clks.to_vec(),
            frames: cp
                .frames
                .iter()
                .map(|f| FrameState {
                    ctx: f.ctx,
                    fn_hash: word_to_u64s(&f.fn_hash),
                    overflow: f.overflow.values.iter().map(|v| v.as_int()).collect(),
                    overflow_clks: f.overflow.clks.clone(),
                })
                .collect(),
            block_stack: self.block_stack_now(),
            hasher_addr: self.hasher_addr,
            row: cp.row,
            continuations: cp.continuations.to_vec(),
            n_forests: cp.forests.len() as u32,
        };
        self.state = Some(state);
    }

    /// A basic block (the commonest) is entered inline; other nodes out of line.
    #[inline(always)]
    fn control_enter(
        &mut self,
        node: NodeRef,
        kind: BlockKind,
        start: &NodeStart<'_>,
    ) -> Result<(), Never> {
        if let BlockKind::Basic { n_batches } = kind {
            self.chiplets
                .hasher
                .requests
                .push(HasherRequest::Node(node));
            let addr = self.take_hasher_rows(HASH_CYCLE_LEN * n_batches);
            self.open_block = Some(OpenBlock {
                node,
                n_batches,
                addr,
            });
            self.hasher.block_addrs.push(addr);
        } else {
            self.enter_control(node, kind, start);
        }
        Ok(())
    }

    #[inline]
    fn respan(&mut self, _at: &BatchAt<'_>) -> Result<(), Never> {
        if let Some(top) = self.open_block.as_mut() {
            top.addr += HASH_CYCLE_LEN;
        }
        Ok(())
    }

    #[inline]
    fn control_exit(&mut self, _node: NodeRef) -> Result<(), Never> {
        if self.open_block.take().is_none() {
            self.block_stack.pop();
        }
        Ok(())
    }

    #[inline]
    fn advice_popped(&mut self, values: &[Felt]) {
        self.advice.values.extend(values.iter().map(|v| v.as_int()));
    }

    #[inline]
    fn memory_read_element(&mut self, value: Felt, addr: u32, ctx: u32, clk: u32) {
        self.memory.elements.push(value.as_int());
        let value = [value.as_int(), 0, 0, 0];
        self.access(MemoryAccessKind::ReadElement, ctx, addr, clk, value);
    }

    #[inline]
    fn memory_read_word(&mut self, value: Word, addr: u32, ctx: u32, clk: u32) {
        let value = word_to_u64s(&value);
        self.memory.words.push(value);
        self.access(MemoryAccessKind::ReadWord, ctx, addr, clk, value);
    }

    #[inline]
    fn memory_write_element(&mut self, value: Felt, addr: u32, ctx: u32, clk: u32) {
        let value = [value.as_int(), 0, 0, 0];
        self.access(MemoryAccessKind::WriteElement, ctx, addr, clk, value);
    }

    #[inline]
    fn memory_write_word(&mut self, value: Word, addr: u32, ctx: u32, clk: u32) {
        let value = word_to_u64s(&value);
        self.access(MemoryAccessKind::WriteWord, ctx, addr, clk, value);
    }

    #[inline]
    fn permutation_input(&mut self, input: &[Felt; 12]) {
        let state = input.map(|f| f.as_int());
        self.chiplets
            .hasher
            .requests
            .push(HasherRequest::Permute(Box::new(PermuteRequest::new(state))));
    }

    #[inline(always)]
    fn wants_permutation_rounds(&self) -> bool {
        true
    }

    fn permutation_rounds(&mut self, rounds: &[[Felt; 12]; 7]) {
        // The request `permutation_input` or `merkle_path` just pushed, for this very
        // permutation (a path's levels come in order).
        if let Some(request) = self.chiplets.hasher.requests.last_mut() {
            request.push_rounds(rounds);
        }
    }

    fn merkle_path(&mut self, node: Word, new_node: Option<Word>, index: Felt, path: &[Word]) {
        let path = path.iter().map(word_to_u64s).collect();
        let index = index.as_int();
        let request = match new_node {
            None => HasherRequest::MerkleVerify(Box::new(MerkleVerifyRequest::new(
                word_to_u64s(&node),
                index,
                path,
            ))),
            Some(new) => HasherRequest::MerkleUpdate(Box::new(MerkleUpdateRequest::new(
                word_to_u64s(&node),
                word_to_u64s(&new),
                index,
                path,
            ))),
        };
        self.chiplets.hasher.requests.push(request);
    }

    #[inline]
    fn u32_bitwise(&mut self, xor: bool, a: u32, b: u32) {
        let kind = if xor {
            BitwiseKind::Xor
        } else {
            BitwiseKind::And
        };
        self.chiplets.bitwise.ops.push(BitwiseOp { kind, a, b });
    }

    fn circuit_evaluated(&mut self, ctx: u32, clk: u32, ptr: u32, n_read: u32, n_eval: u32) {
        let n_accesses = u64::from(n_read / 2) + u64::from(n_eval);
        let first_access = self.chiplets.memory.accesses.len() as u64 - n_accesses;
        self.chiplets.ace.evaluations.push(CircuitEvaluation {
            ctx,
            clk,
            ptr,
            n_read,
            n_eval,
            first_access,
        });
    }

    #[inline]
    fn hasher_permuted(&mut self, output: &[Felt; 12]) {
        let addr = self.take_hasher_rows(HASH_CYCLE_LEN);
        self.hasher
            .permutations
            .push((addr, output.map(|f| f.as_int())));
    }

    #[inline]
    fn merkle_root_computed(&mut self, depth: u32, update: bool, root: Word) {
        let per_level = if update { 2 } else { 1 };
        let addr = self.take_hasher_rows(HASH_CYCLE_LEN * depth * per_level);
        self.hasher.merkle_roots.push((addr, word_to_u64s(&root)));
    }

    fn forest_resolved(&mut self, digest: Word, forest: u32, root: u32, is_new: bool) {
        let digest = word_to_u64s(&digest);
        if is_new {
            self.forests.push(ForestOrigin::Host { digest });
        }
        self.external.resolutions.push(Resolution {
            digest,
            forest,
            root,
        });
    }
}

/// Executes `program` with default options, recording a fragment context every
/// `fragment_size` rows.
///
/// # Errors
/// The execution's error.
pub fn execute_for_trace(
    program: &Program,
    stack_inputs: StackInputs,
    advice_inputs: AdviceInputs,
    host: &mut impl Host,
    fragment_size: u32,
) -> Result<(ExecutionOutput, TraceContexts), ExecutionError> {
    execute_for_trace_with_options(
        program,
        stack_inputs,
        advice_inputs,
        host,
        fragment_size,
        ExecutionOptions::default(),
    )
}

/// [`execute_for_trace`] with explicit options.
///
/// # Errors
/// The execution's error.
pub fn execute_for_trace_with_options(
    program: &Program,
    stack_inputs: StackInputs,
    advice_inputs: AdviceInputs,
    host: &mut impl Host,
    fragment_size: u32,
    options: ExecutionOptions,
) -> Result<(ExecutionOutput, TraceContexts), ExecutionError> {
    let mut tracer = RecordingTracer::new(fragment_size);
    let output = FastProcessor::new(stack_inputs, advice_inputs, options).execute_with_tracer(
        program,
        host,
        &mut tracer,
    )?;
    let contexts = tracer.finish(program, output.n_cycles);
    Ok((output, contexts))
}
