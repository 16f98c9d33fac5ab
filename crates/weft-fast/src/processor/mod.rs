//! The fast processor: the one driver ([`crate::driver::Driver`]) over [`HostBackend`], a real
//! memory, advice provider and host.

mod memory;
mod merkle;

use std::sync::Arc;

use weft_core::{Felt, Word, ZERO, rpo};
use weft_host::{
    AdviceInputs, AdviceProvider, EventId, ExecutionError, ExecutionOptions, Host, ProcessView,
    StackInputs, StackOutputs, SystemEvent, handle_system_event,
};
use weft_mast::{Decorator, Kernel, MastForest, MastNode, MastNodeId, Program};

use self::{
    memory::Memory,
    merkle::{merkle_root, opens_by_levels, update_by_levels},
};
use crate::{
    backend::{Backend, MerkleOutcome, ResolveKind, Resolved},
    driver::{Driver, DriverState, RunEnd},
    stack::{Stack, TOP},
    tracer::{NodeRef, NoopTracer, RowAt, Tracer},
};

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
    /// Any [`ExecutionError`], and the tracer's own failures.
    pub fn execute_with_tracer<H: Host, T: Tracer>(
        self,
        program: &Program,
        host: &mut H,
        tracer: &mut T,
    ) -> Result<ExecutionOutput, ExecutionError>
    where
        ExecutionError: From<T::Error>,
    {
        let mut advice = AdviceProvider::from(self.advice_inputs);
        advice
            .extend_map(program.forest().advice_map())
            .map_err(|e| ExecutionError::advice(0, e))?;
        let backend = HostBackend {
            memory: Memory::default(),
            advice,
            forests: vec![Arc::clone(program.forest())],
            kernel: program.kernel(),
            run_decorators: self.options.enable_debugging || self.options.enable_tracing,
            enable_tracing: self.options.enable_tracing,
            keep_path_rounds: tracer.wants_permutation_rounds(),
            host,
        };
        let state = DriverState {
            clk: 0,
            ctx: 0,
            fn_hash: Word::default(),
            pc_transcript: Word::default(),
            stack: Stack::new(self.stack_inputs.as_slice()),
            frames: Vec::new(),
            continuations: Vec::with_capacity(64),
        };
        let mut driver = Driver::new(state, self.options.max_cycles, backend, tracer);
        let entry = NodeRef {
            forest: 0,
            node: program.entrypoint().as_u32(),
        };
        if driver.run_from(RowAt::Start(entry))? != RunEnd::Finished {
            return Err(ExecutionError::FailedToExecuteProgram(
                "the tracer stopped the execution before its end",
            ));
        }
        if driver.stack().depth() > TOP || driver.has_frames() {
            return Err(ExecutionError::OutputStackOverflow {
                depth: driver.stack().depth(),
            });
        }
        let (stack_outputs, n_cycles, pc_transcript) = (
            StackOutputs::new(driver.stack().top16()),
            driver.clk(),
            driver.pc_transcript(),
        );
        let (backend, _) = driver.into_parts();
        Ok(ExecutionOutput {
            stack_outputs,
            n_cycles,
            advice: backend.advice,
            pc_transcript,
            forests: backend.forests,
        })
    }
}

// BACKEND
// ------------------------------------------------------------------------------------------------

/// The fast processor's services: memory, advice provider, host and the forest table that
/// resolutions through the host grow.
struct HostBackend<'a, H: Host> {
    memory: Memory,
    advice: AdviceProvider,
    forests: Vec<Arc<MastForest>>,
    kernel: &'a Kernel,
    run_decorators: bool,
    enable_tracing: bool,
    /// Whether Merkle paths keep their round states ([`MerkleOutcome::rounds`]): for a tracer
    /// that wants them, not for a plain execution.
    keep_path_rounds: bool,
    host: &'a mut H,
}

impl<H: Host> std::fmt::Debug for HostBackend<'_, H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostBackend")
            .field("n_forests", &self.forests.len())
            .finish_non_exhaustive()
    }
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

impl<H: Host> HostBackend<'_, H> {
    /// Adds a forest resolved through the host to the forest table (once per forest) and merges
    /// its advice map; returns the node to run.
    #[cold]
    fn adopt_forest(
        &mut self,
        forest: Arc<MastForest>,
        root: MastNodeId,
        clk: u32,
    ) -> Result<Resolved, ExecutionError> {
        self.advice
            .extend_map(forest.advice_map())
            .map_err(|e| ExecutionError::advice(clk, e))?;
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
        Ok(Resolved {
            node: NodeRef {
                forest: idx,
                node: root.as_u32(),
            },
            is_new,
        })
    }
}

impl<H: Host> Backend for HostBackend<'_, H> {
    type Error = ExecutionError;

    #[cold]
    fn inconsistent(what: &'static str) -> ExecutionError {
        ExecutionError::FailedToExecuteProgram(what)
    }

    #[inline(always)]
    fn forests(&self) -> &[Arc<MastForest>] {
        &self.forests
    }

    fn check_syscall(&self, callee: Word) -> Result<(), ExecutionError> {
        if self.kernel.contains(&callee) {
            Ok(())
        } else {
            Err(ExecutionError::SyscallTargetNotInKernel { digest: callee })
        }
    }

    #[inline(always)]
    fn run_decorators(&self) -> bool {
        self.run_decorators
    }

    fn decorator(
        &mut self,
        decorator: &Decorator,
        clk: u32,
        ctx: u32,
        stack: &Stack,
    ) -> Result<(), ExecutionError> {
        let view = View {
            clk,
            ctx,
            stack,
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

    #[inline(always)]
    fn read_element(&mut self, ctx: u32, addr: u32, _clk: u32) -> Result<Felt, ExecutionError> {
        Ok(self.memory.element(ctx, addr).unwrap_or(ZERO))
    }

    #[inline(always)]
    fn read_word(&mut self, ctx: u32, addr: u32, _clk: u32) -> Result<Word, ExecutionError> {
        Ok(self.memory.word(ctx, addr).into())
    }

    #[inline(always)]
    fn write_element(&mut self, ctx: u32, addr: u32, value: Felt) {
        self.memory.write_element(ctx, addr, value);
    }

    #[inline(always)]
    fn write_word(&mut self, ctx: u32, addr: u32, word: Word) {
        self.memory.write_word(ctx, addr, word.into());
    }

    #[inline(always)]
    fn advice_pop(&mut self, clk: u32) -> Result<Felt, ExecutionError> {
        self.advice
            .pop_stack()
            .map_err(|e| ExecutionError::advice(clk, e))
    }

    #[inline(always)]
    fn advice_pop_word(&mut self, clk: u32) -> Result<Word, ExecutionError> {
        self.advice
            .pop_stack_word()
            .map_err(|e| ExecutionError::advice(clk, e))
    }

    #[inline(always)]
    fn advice_pop_dword(&mut self, clk: u32) -> Result<[Word; 2], ExecutionError> {
        self.advice
            .pop_stack_dword()
            .map_err(|e| ExecutionError::advice(clk, e))
    }

    /// The fast processor keeps no hasher chiplet: the address is zero.
    #[inline(always)]
    fn permute(&mut self, state: &mut [Felt; 12]) -> Result<Felt, ExecutionError> {
        rpo::permute(state);
        Ok(ZERO)
    }

    #[inline(always)]
    fn permute_rounds(
        &mut self,
        state: &mut [Felt; 12],
        rounds: &mut [[Felt; 12]; 7],
    ) -> Result<(Felt, bool), ExecutionError> {
        rpo::permute_rounds(state, rounds);
        Ok((ZERO, true))
    }

    fn merkle_verify(
        &mut self,
        node: Word,
        depth: Felt,
        index: Felt,
        root: Word,
        err_code: Felt,
        clk: u32,
    ) -> Result<MerkleOutcome, ExecutionError> {
        let opening = self
            .advice
            .merkle_opening(root, depth, index)
            .map_err(|e| ExecutionError::advice(clk, e))?;
        let keep = self.keep_path_rounds;
        if let Some(rounds) = opens_by_levels(node, &opening, index.as_int(), keep) {
            return Ok(MerkleOutcome {
                addr: ZERO,
                depth: opening.siblings.len() as u32,
                root,
                path: opening.siblings,
                rounds,
            });
        }
        // The levels did not all check out: the chain decides, on the same path.
        let (computed, rounds) = merkle_root(node, &opening.siblings, index.as_int(), keep);
        if computed != root {
            return Err(ExecutionError::MerklePathVerificationFailed {
                clk,
                value: node,
                index,
                root,
                err_code: err_code.as_int(),
            });
        }
        Ok(MerkleOutcome {
            addr: ZERO,
            depth: opening.siblings.len() as u32,
            root,
            path: opening.siblings,
            rounds,
        })
    }

    fn merkle_update(
        &mut self,
        old_node: Word,
        depth: Felt,
        index: Felt,
        old_root: Word,
        new_node: Word,
        clk: u32,
    ) -> Result<MerkleOutcome, ExecutionError> {
        if let Some((path, root, rounds)) = update_by_levels(
            &mut self.advice,
            (old_node, new_node),
            (depth, index),
            old_root,
            self.keep_path_rounds,
        ) {
            return Ok(MerkleOutcome {
                addr: ZERO,
                depth: path.len() as u32,
                root,
                path,
                rounds,
            });
        }
        // The store hashes the new path itself (with miden-crypto's permutation); its new root is
        // the one the path gives once the old node checks out, so it is not hashed twice.
        let (path, new_root) = self
            .advice
            .update_merkle_node(old_root, depth, index, new_node)
            .map_err(|e| ExecutionError::advice(clk, e))?;
        if path.len() as u64 != depth.as_int() {
            return Err(ExecutionError::FailedToExecuteProgram(
                "MRUPDATE: the store's path is not as long as the depth",
            ));
        }
        let (computed, rounds) = merkle_root(
            old_node,
            path.nodes(),
            index.as_int(),
            self.keep_path_rounds,
        );
        if computed != old_root {
            return Err(ExecutionError::MerklePathVerificationFailed {
                clk,
                value: old_node,
                index,
                root: old_root,
                err_code: 0,
            });
        }
        // The store changes nothing where the new node is the one it holds, and returns the old
        // root then; upstream's processor hashes the new node up the path all the same, which
        // gives another root where the store's nodes are not their children's hashes.
        let new_root = if new_root == old_root {
            merkle_root(new_node, path.nodes(), index.as_int(), false).0
        } else {
            new_root
        };
        Ok(MerkleOutcome {
            addr: ZERO,
            depth: path.len() as u32,
            root: new_root,
            path: path.nodes().to_vec(),
            rounds,
        })
    }

    #[cold]
    fn emit(&mut self, clk: u32, ctx: u32, stack: &Stack) -> Result<(), ExecutionError> {
        let event = EventId::from_felt(stack.get(0));
        let view = View {
            clk,
            ctx,
            stack,
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

    #[cold]
    fn resolve(
        &mut self,
        digest: Word,
        kind: ResolveKind,
        clk: u32,
    ) -> Result<Resolved, ExecutionError> {
        let resolved = self.host.get_mast_forest(&digest).ok_or(match kind {
            ResolveKind::External => ExecutionError::NoMastForestWithProcedure { digest },
            ResolveKind::Dynamic => ExecutionError::DynamicNodeNotFound { clk, digest },
        })?;
        let root = resolved
            .find_procedure_root(&digest)
            .ok_or(ExecutionError::MalformedMastForestInHost { digest })?;
        if kind == ResolveKind::External && matches!(resolved[root], MastNode::External(_)) {
            return Err(ExecutionError::CircularExternalNode { digest });
        }
        self.adopt_forest(resolved, root, clk)
    }
}
