//! Control nodes: the start rows of joins, splits, loops, calls, syscalls, dyns and
//! dyncalls, the switch to a forest resolved through the host for external nodes and dynamic
//! callees, and the `REPEAT` and `END` rows that finish them.

use std::sync::Arc;

use weft_core::{Felt, ONE, Word, ZERO};
use weft_host::ExecutionError;
use weft_mast::{MastForest, MastNode, MastNodeId};

use super::{
    BlockPos, Driver, FMP_ADDR, FMP_INIT_VALUE, Interrupt, Step, execution_error, node_id,
    node_start, tracer_error,
};
use crate::{
    backend::{Backend, ResolveKind},
    stack::TOP,
    tracer::{BlockKind, CallFrame, Continuation, NodeRef, NodeStart, RowAt, Tracer},
};

impl<B, T> Driver<B, T>
where
    B: Backend,
    T: Tracer,
    B::Error: From<T::Error>,
{
    /// A call-like node returns with at most 16 elements in its context.
    pub(super) fn check_return_depth(&self) -> Step<B::Error> {
        let depth = self.stack.depth();
        if depth > TOP {
            return Err(execution_error(ExecutionError::InvalidStackDepthOnReturn {
                clk: self.clk,
                depth,
            }));
        }
        Ok(())
    }

    /// The `END` row of a join, split, dyn or a loop that was not entered.
    #[inline(always)]
    pub(super) fn end_control(&mut self, node: NodeRef, cont: Continuation) -> Step<B::Error> {
        self.begin_row_with(|| RowAt::Finish(cont))?;
        self.tracer.control_exit(node).map_err(tracer_error)?;
        self.end_row()?;
        self.after_exit(node)
    }

    /// The `END` row of a call, syscall or dyncall: the caller's context comes back.
    pub(super) fn end_call(&mut self, node: NodeRef, cont: Continuation) -> Step<B::Error> {
        self.begin_row_with(|| RowAt::Finish(cont))?;
        self.tracer.control_exit(node).map_err(tracer_error)?;
        let frame = self
            .frames
            .pop()
            .ok_or_else(|| B::inconsistent("a call returns with no caller frame"))?;
        self.stack.end_context(&frame.overflow);
        self.ctx = frame.ctx;
        self.fn_hash = frame.fn_hash;
        self.end_row()?;
        self.after_exit(node)
    }

    #[inline(always)]
    pub(super) fn finish_loop(&mut self, node: NodeRef, entered: bool) -> Step<B::Error> {
        let cont = Continuation::FinishLoop { node, entered };
        if !entered {
            return self.end_control(node, cont);
        }
        let top = self.stack.get(0);
        if top == ONE {
            self.begin_row_with(|| RowAt::Finish(cont))?;
            self.tracer.repeat(node).map_err(tracer_error)?;
            self.stack.pop();
            self.end_row()?;
            let (forest, id) = self.lookup(node)?;
            let MastNode::Loop(lp) = &forest[id] else {
                return Err(Interrupt::Error(B::inconsistent(
                    "a loop continuation names a non-loop node",
                )));
            };
            let body = NodeRef {
                forest: node.forest,
                node: lp.body().as_u32(),
            };
            self.conts.push(cont);
            self.conts.push(Continuation::Start(body));
            Ok(())
        } else if top == ZERO {
            self.begin_row_with(|| RowAt::Finish(cont))?;
            self.tracer.control_exit(node).map_err(tracer_error)?;
            self.stack.pop();
            self.end_row()?;
            self.after_exit(node)
        } else {
            Err(execution_error(ExecutionError::NotBinaryValueLoop {
                clk: self.clk,
                value: top,
            }))
        }
    }

    #[inline(always)]
    pub(super) fn start_node(&mut self, node: NodeRef) -> Step<B::Error> {
        let forest = self.forest_of(node)?;
        // Each arm builds its own result: carrying one result across the store below made
        // every `Ok` a 64-byte copy of a mostly unwritten error, read back right after its
        // one-byte tag was stored (a store-forwarding stall at every node).
        match self.start_node_in(&forest, node) {
            Ok(()) => {
                self.forest_cache = Some((node.forest, forest));
                Ok(())
            }
            Err(e) => {
                self.forest_cache = Some((node.forest, forest));
                Err(e)
            }
        }
    }

    #[inline(always)]
    fn start_node_in(&mut self, forest: &Arc<MastForest>, node: NodeRef) -> Step<B::Error> {
        let id = node_id::<B>(forest, node.node)?;
        self.cur_forest = node.forest;
        if self.backend.run_decorators()
            && let Some(d) = forest.node_decorators(id)
        {
            let ids = d.before_enter.clone();
            self.run_decorator_list(forest, &ids)?;
        }
        let child = |id: MastNodeId| NodeRef {
            forest: node.forest,
            node: id.as_u32(),
        };
        let mast_node = &forest[id];
        match mast_node {
            MastNode::Block(_) => self.execute_block(forest, id, node, BlockPos::Start)?,
            MastNode::Join(join) => {
                self.begin_row(RowAt::Start(node))?;
                self.tracer
                    .control_enter(
                        node,
                        BlockKind::Join,
                        &node_start(forest, mast_node, &self.stack),
                    )
                    .map_err(tracer_error)?;
                self.end_row()?;
                self.conts.push(Continuation::FinishJoin(node));
                self.conts.push(Continuation::Start(child(join.second())));
                self.conts.push(Continuation::Start(child(join.first())));
            }
            MastNode::Split(split) => {
                self.begin_row(RowAt::Start(node))?;
                let cond = self.stack.get(0);
                self.stack.pop();
                self.tracer
                    .control_enter(
                        node,
                        BlockKind::Split,
                        &node_start(forest, mast_node, &self.stack),
                    )
                    .map_err(tracer_error)?;
                self.end_row()?;
                let branch = if cond == ONE {
                    split.on_true()
                } else if cond == ZERO {
                    split.on_false()
                } else {
                    return Err(execution_error(ExecutionError::NotBinaryValueIf {
                        clk: self.clk,
                        value: cond,
                    }));
                };
                self.conts.push(Continuation::FinishSplit(node));
                self.conts.push(Continuation::Start(child(branch)));
            }
            MastNode::Loop(lp) => {
                let cond = self.stack.get(0);
                self.begin_row(RowAt::Start(node))?;
                self.stack.pop();
                let kind = BlockKind::Loop {
                    entered: cond == ONE,
                };
                self.tracer
                    .control_enter(node, kind, &node_start(forest, mast_node, &self.stack))
                    .map_err(tracer_error)?;
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
                    return Err(execution_error(ExecutionError::NotBinaryValueLoop {
                        clk: self.clk,
                        value: cond,
                    }));
                }
            }
            MastNode::Call(call) => {
                let callee = call.callee();
                let callee_digest = forest[callee].digest();
                if call.is_syscall() {
                    self.backend.check_syscall(callee_digest)?;
                }
                self.begin_row(RowAt::Start(node))?;
                let kind = if call.is_syscall() {
                    BlockKind::Syscall
                } else {
                    BlockKind::Call
                };
                self.tracer
                    .control_enter(node, kind, &node_start(forest, mast_node, &self.stack))
                    .map_err(tracer_error)?;
                self.push_frame();
                if call.is_syscall() {
                    self.ctx = 0;
                } else {
                    self.ctx = self.clk + 1;
                    self.fn_hash = callee_digest;
                    self.backend
                        .write_element(self.ctx, FMP_ADDR, Felt::new(FMP_INIT_VALUE));
                    self.tracer.memory_write_element(
                        Felt::new(FMP_INIT_VALUE),
                        FMP_ADDR,
                        self.ctx,
                        self.clk,
                    );
                }
                self.end_row()?;
                self.conts.push(Continuation::FinishCall(node));
                self.conts.push(Continuation::Start(child(callee)));
            }
            MastNode::Dyn(dyn_node) => {
                let is_dyncall = dyn_node.is_dyncall();
                self.begin_row(RowAt::Start(node))?;
                let callee_hash = self.read_word_checked(self.stack.get(0))?;
                self.stack.pop();
                let kind = if is_dyncall {
                    BlockKind::Dyncall
                } else {
                    BlockKind::Dyn
                };
                let start = NodeStart {
                    callee: callee_hash,
                    ..node_start(forest, mast_node, &self.stack)
                };
                self.tracer
                    .control_enter(node, kind, &start)
                    .map_err(tracer_error)?;
                if is_dyncall {
                    self.push_frame();
                    self.ctx = self.clk + 1;
                    self.fn_hash = callee_hash;
                    self.backend
                        .write_element(self.ctx, FMP_ADDR, Felt::new(FMP_INIT_VALUE));
                    self.tracer.memory_write_element(
                        Felt::new(FMP_INIT_VALUE),
                        FMP_ADDR,
                        self.ctx,
                        self.clk,
                    );
                }
                self.end_row()?;
                let target = match forest.find_procedure_root(&callee_hash) {
                    Some(root) => child(root),
                    None => self.resolve(callee_hash, ResolveKind::Dynamic)?,
                };
                self.conts.push(Continuation::FinishDyn(node));
                self.conts.push(Continuation::Start(target));
            }
            MastNode::External(_) => {
                let target = self.resolve(mast_node.digest(), ResolveKind::External)?;
                self.conts.push(Continuation::Start(target));
            }
        }
        Ok(())
    }

    /// Resolves `digest` through the backend and reports it; returns the node to run.
    #[cold]
    fn resolve(&mut self, digest: Word, kind: ResolveKind) -> Result<NodeRef, Interrupt<B::Error>> {
        let resolved = self.backend.resolve(digest, kind, self.clk)?;
        self.tracer.forest_resolved(
            digest,
            resolved.node.forest,
            resolved.node.node,
            resolved.is_new,
        );
        Ok(resolved.node)
    }

    fn push_frame(&mut self) {
        let overflow = self.stack.start_context();
        self.frames.push(CallFrame {
            ctx: self.ctx,
            fn_hash: self.fn_hash,
            overflow,
        });
    }

    pub(super) fn after_exit(&mut self, node: NodeRef) -> Step<B::Error> {
        if self.backend.run_decorators() {
            let forest = self.forest_of(node)?;
            let result = match node_id::<B>(&forest, node.node) {
                Ok(id) => match forest.node_decorators(id) {
                    Some(d) => {
                        let ids = d.after_exit.clone();
                        self.run_decorator_list(&forest, &ids)
                    }
                    None => Ok(()),
                },
                Err(e) => Err(Interrupt::Error(e)),
            };
            self.forest_cache = Some((node.forest, forest));
            return result;
        }
        Ok(())
    }
}
