//! The control flow: one method per node kind, each appending the rows of its start, its body
//! and its end exactly as upstream's sequential processor does, plus the resolution of external
//! nodes and dynamic call targets through the host.

use std::sync::Arc;

use weft_core::{
    Felt, ONE, OpCode, Word, ZERO,
    trace::{DECODER_TRACE_OFFSET, decoder, padded_len},
};
use weft_host::{ExecutionError, Host, StackOutputs};
use weft_mast::{MastForest, MastNode, MastNodeId, Program};

use crate::{
    blocks::{BlockKind, CallerContext},
    finish,
    log::HasherRequest,
    output::ReferenceOutput,
    processor::Processor,
    rows::{self, DecoderRow, words},
    vm::NO_HELPERS,
};

/// The hasher request of a control block's start: its two child digests (or zeros) and its
/// opcode as the domain.
fn control_request(h1: Word, h2: Word, op: OpCode) -> HasherRequest {
    HasherRequest::ControlBlock {
        h1,
        h2,
        domain: Felt::new(u64::from(op.as_u8())),
    }
}

/// The address where `CALL`/`DYNCALL` initialise the frame pointer of the new context.
const FMP_ADDR: u32 = u32::MAX - 1;
/// The initial frame pointer value.
const FMP_INIT_VALUE: u64 = 1 << 31;

impl<H: Host> Processor<'_, H> {
    /// Executes `program`'s entry point and finishes the trace: the first `HALT` row, `HALT`
    /// padding to the main trace's length, the range checker's and chiplets' columns, and the
    /// random last row.
    ///
    /// # Errors
    /// Any [`ExecutionError`] of the execution, or [`ExecutionError::OutputStackOverflow`] if
    /// more than sixteen elements are left on the stack.
    pub(crate) fn run(mut self, program: &Program) -> Result<ReferenceOutput, ExecutionError> {
        self.vm
            .advice
            .extend_map(program.forest().advice_map())
            .map_err(|e| ExecutionError::advice(0, e))?;
        let forest = Arc::clone(program.forest());
        self.execute_node(&forest, program.entrypoint())?;

        if self.vm.stack.total_overflow() != 0 {
            return Err(ExecutionError::OutputStackOverflow {
                depth: self.vm.stack.depth(),
            });
        }
        let n_cycles = self.vm.clk as usize;
        // The first HALT row carries the final state; HALT padding follows.
        let halt = rows::halt_row(&self.vm, &self.last_row()?);
        self.trace.push_row(&halt);
        let mut core = self.trace.clone();
        core.pad_to(padded_len(n_cycles));
        let (trace, summary) = finish::main_trace(
            self.trace,
            n_cycles,
            &self.vm.log,
            &self.vm.memory.accesses,
            program.kernel().proc_hashes(),
            program.hash(),
        )?;

        Ok(ReferenceOutput {
            trace,
            summary,
            core,
            stack_outputs: StackOutputs::new(self.vm.stack.top),
            n_cycles,
            advice: self.vm.advice,
            n_hasher_rows: summary.hasher_rows,
        })
    }

    /// Executes node `id` of `forest`, with its decorators; `forest` describes the running code
    /// (its error messages) until the node ends.
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
        let previous = std::mem::replace(&mut self.vm.forest, Arc::clone(forest));
        let result = self.execute_node_with_decorators(forest, id, node);
        self.vm.forest = previous;
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
            _ => self.execute_control_node(forest, node)?,
        }
        if let Some(d) = decorators {
            self.run_decorator_list(forest, &d.after_exit)?;
        }
        Ok(())
    }

    /// Executes a control node (every kind but a basic block).
    fn execute_control_node(
        &mut self,
        forest: &Arc<MastForest>,
        node: &MastNode,
    ) -> Result<(), ExecutionError> {
        match node {
            MastNode::Block(block) => self.execute_block(forest, block, &[]),
            MastNode::Join(join) => {
                let (a, b) = (join.first(), join.second());
                let (da, db) = (Self::digest_of(forest, a)?, Self::digest_of(forest, b)?);
                let h = words(da, db);
                let addr = self.vm.hash_request(control_request(da, db, OpCode::Join));
                let parent = self.blocks.push(BlockKind::Join, addr, None);
                self.control_noop(DecoderRow::control(parent, OpCode::Join, h))?;
                self.execute_node(forest, a)?;
                self.execute_node(forest, b)?;
                self.end_control(node.digest(), false).map(|_| ())
            }
            MastNode::Split(split) => {
                let (t, f) = (split.on_true(), split.on_false());
                let (dt, df) = (Self::digest_of(forest, t)?, Self::digest_of(forest, f)?);
                let h = words(dt, df);
                let addr = self.vm.hash_request(control_request(dt, df, OpCode::Split));
                let parent = self.blocks.push(BlockKind::Split, addr, None);
                let condition = self.vm.stack.get(0);
                self.control_drop(DecoderRow::control(parent, OpCode::Split, h))?;
                if condition == ONE {
                    self.execute_node(forest, t)?;
                } else if condition == ZERO {
                    self.execute_node(forest, f)?;
                } else {
                    return Err(ExecutionError::NotBinaryValueIf {
                        clk: self.vm.clk,
                        value: condition,
                    });
                }
                self.end_control(node.digest(), false).map(|_| ())
            }
            MastNode::Loop(lp) => {
                let body = lp.body();
                let body_digest = Self::digest_of(forest, body)?;
                let h = words(body_digest, Word::default());
                let addr = self.vm.hash_request(control_request(
                    body_digest,
                    Word::default(),
                    OpCode::Loop,
                ));
                let condition = self.vm.stack.get(0);
                let parent = self.blocks.push(
                    BlockKind::Loop {
                        entered: condition == ONE,
                    },
                    addr,
                    None,
                );
                self.control_drop(DecoderRow::control(parent, OpCode::Loop, h))?;
                if condition == ONE {
                    self.execute_node(forest, body)?;
                    while self.vm.stack.get(0) == ONE {
                        // REPEAT copies the hasher columns of the previous row (the body's END).
                        let last = self.last_row()?;
                        let off = DECODER_TRACE_OFFSET + decoder::HASHER_STATE_OFFSET;
                        let mut h = [ZERO; 8];
                        h.copy_from_slice(&last[off..off + 8]);
                        self.control_drop(DecoderRow::control(addr, OpCode::Repeat, h))?;
                        self.execute_node(forest, body)?;
                    }
                    let top = self.vm.stack.get(0);
                    if top != ZERO {
                        return Err(ExecutionError::NotBinaryValueLoop {
                            clk: self.vm.clk,
                            value: top,
                        });
                    }
                    self.end_control(node.digest(), true).map(|_| ())
                } else if condition == ZERO {
                    self.end_control(node.digest(), false).map(|_| ())
                } else {
                    Err(ExecutionError::NotBinaryValueLoop {
                        clk: self.vm.clk,
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
                let op = if call.is_syscall() {
                    // The kernel ROM is told of the call before the hasher.
                    self.vm.log.kernel_calls.push(callee_digest);
                    OpCode::SysCall
                } else {
                    OpCode::Call
                };
                let addr =
                    self.vm
                        .hash_request(control_request(callee_digest, Word::default(), op));
                let caller = CallerContext {
                    ctx: self.vm.ctx,
                    fn_hash: self.vm.fn_hash,
                };
                let kind = if call.is_syscall() {
                    BlockKind::Syscall
                } else {
                    BlockKind::Call
                };
                let new_ctx = self.next_clk()?;
                let parent = self.blocks.push(kind, addr, Some(caller));
                self.cycle(DecoderRow::control(parent, op, h), |vm| {
                    vm.stack.start_context();
                    if call.is_syscall() {
                        vm.ctx = 0;
                    } else {
                        vm.ctx = new_ctx;
                        vm.fn_hash = callee_digest;
                        vm.memory.write(
                            vm.ctx,
                            Felt::new(u64::from(FMP_ADDR)),
                            vm.clk,
                            Felt::new(FMP_INIT_VALUE),
                        )?;
                    }
                    Ok(NO_HELPERS)
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

    /// Finds the procedure `digest` of an external node in the host's forests.
    fn resolve_external(
        &mut self,
        digest: Word,
    ) -> Result<(MastNodeId, Arc<MastForest>), ExecutionError> {
        let forest = self
            .vm
            .host
            .get_mast_forest(&digest)
            .ok_or(ExecutionError::NoMastForestWithProcedure { digest })?;
        let root = forest
            .find_procedure_root(&digest)
            .ok_or(ExecutionError::MalformedMastForestInHost { digest })?;
        if matches!(forest[root], MastNode::External(_)) {
            return Err(ExecutionError::CircularExternalNode { digest });
        }
        self.vm
            .advice
            .extend_map(forest.advice_map())
            .map_err(|e| ExecutionError::advice(self.vm.clk, e))?;
        Ok((root, forest))
    }

    /// `DYN` / `DYNCALL`: reads the callee digest from memory and runs it.
    fn execute_dyn(
        &mut self,
        forest: &Arc<MastForest>,
        node: &MastNode,
        is_dyncall: bool,
    ) -> Result<(), ExecutionError> {
        let callee_hash =
            self.vm
                .memory
                .read_word(self.vm.ctx, self.vm.stack.get(0), self.vm.clk)?;
        let op = if is_dyncall {
            OpCode::Dyncall
        } else {
            OpCode::Dyn
        };
        let addr = self
            .vm
            .hash_request(control_request(Word::default(), Word::default(), op));
        if is_dyncall {
            let caller = CallerContext {
                ctx: self.vm.ctx,
                fn_hash: self.vm.fn_hash,
            };
            let new_ctx = self.next_clk()?;
            self.vm.memory.write(
                new_ctx,
                Felt::new(u64::from(FMP_ADDR)),
                self.vm.clk,
                Felt::new(FMP_INIT_VALUE),
            )?;
            // h4, h5: the caller's depth and overflow address after dropping the address.
            let mut after = self.vm.stack.clone();
            after.pop();
            let h4 = Felt::new(after.depth() as u64);
            let h5 = after.overflow_addr();
            let parent = self.blocks.push(BlockKind::Dyncall, addr, Some(caller));
            let h = words(callee_hash, [h4, h5, ZERO, ZERO].into());
            self.cycle(DecoderRow::control(parent, OpCode::Dyncall, h), |vm| {
                vm.stack.pop();
                vm.stack.start_context();
                vm.ctx = new_ctx;
                vm.fn_hash = callee_hash;
                Ok(NO_HELPERS)
            })?;
        } else {
            let parent = self.blocks.push(BlockKind::Dyn, addr, None);
            let h = words(callee_hash, Word::default());
            self.control_drop(DecoderRow::control(parent, OpCode::Dyn, h))?;
        }
        match forest.find_procedure_root(&callee_hash) {
            Some(root) => self.execute_node(forest, root)?,
            None => {
                let resolved = self.vm.host.get_mast_forest(&callee_hash).ok_or(
                    ExecutionError::DynamicNodeNotFound {
                        clk: self.vm.clk,
                        digest: callee_hash,
                    },
                )?;
                let root = resolved.find_procedure_root(&callee_hash).ok_or(
                    ExecutionError::MalformedMastForestInHost {
                        digest: callee_hash,
                    },
                )?;
                self.vm
                    .advice
                    .extend_map(resolved.advice_map())
                    .map_err(|e| ExecutionError::advice(self.vm.clk, e))?;
                self.execute_node(&resolved, root)?;
            }
        }
        if is_dyncall {
            self.check_return_depth()?;
        }
        self.end_control(node.digest(), false).map(|_| ())
    }
}
