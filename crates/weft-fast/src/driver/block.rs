//! Basic blocks: the `SPAN` row, the operations of each batch as a tight loop, `RESPAN` before
//! every batch but the first, and the `END` row; entered at the start or, where a run resumes
//! from a checkpoint, at any operation, `RESPAN` or `END` row.

use std::sync::Arc;

use weft_host::ExecutionError;
use weft_mast::{DecoratorId, MastForest, MastNode, MastNodeId, OpBatch};

use super::{BlockPos, Driver, Interrupt, Step, node_id, node_start, tracer_error};
use crate::{
    backend::Backend,
    ops::execute_op,
    tracer::{BatchAt, BlockKind, NodeRef, NodeStart, RowAt, Tracer},
};

impl<B, T> Driver<B, T>
where
    B: Backend,
    T: Tracer,
    B::Error: From<T::Error>,
{
    /// Continues the basic block `node` from `pos` (a run that starts inside it).
    pub(super) fn resume_block(&mut self, node: NodeRef, pos: BlockPos) -> Step<B::Error> {
        let forest = self.forest_of(node)?;
        let id = node_id::<B>(&forest, node.node)?;
        self.cur_forest = node.forest;
        let result = self.execute_block(&forest, id, node, pos);
        self.forest_cache = Some((node.forest, forest));
        result
    }

    /// Runs the basic block `id` (`node`) from `pos` to its `END` row.
    pub(super) fn execute_block(
        &mut self,
        forest: &Arc<MastForest>,
        id: MastNodeId,
        node: NodeRef,
        pos: BlockPos,
    ) -> Step<B::Error> {
        let MastNode::Block(block) = &forest[id] else {
            return Err(Interrupt::Error(B::inconsistent(
                "a block row names a non-block node",
            )));
        };
        let batches = block.batches().map_err(|source| {
            Interrupt::Error(<B::Error as From<ExecutionError>>::from(
                ExecutionError::BlockNotBatched {
                    clk: self.clk,
                    source,
                },
            ))
        })?;
        let (first_batch, mut first_op) = match pos {
            BlockPos::Start => {
                self.begin_row(RowAt::Start(node))?;
                let start = NodeStart {
                    batches,
                    ..node_start(forest, &forest[id], &self.stack)
                };
                let kind = BlockKind::Basic {
                    n_batches: batches.len() as u32,
                };
                self.tracer
                    .control_enter(node, kind, &start)
                    .map_err(tracer_error)?;
                self.end_row()?;
                (0, Some(0))
            }
            BlockPos::Op { batch, op } if batch < batches.len() => (batch, Some(op)),
            BlockPos::Respan { batch } if batch >= 1 && batch < batches.len() => (batch, None),
            BlockPos::End => (batches.len(), None),
            BlockPos::Op { .. } | BlockPos::Respan { .. } => {
                return Err(Interrupt::Error(B::inconsistent(
                    "a batch index is outside its block",
                )));
            }
        };
        let op_decorators = if self.backend.run_decorators() {
            forest
                .node_decorators(id)
                .map(|d| d.ops.clone())
                .filter(|ops| !ops.is_empty())
        } else {
            None
        };
        // Operation indices of the decorators count from the block's first operation.
        let mut op_offset = match &op_decorators {
            Some(_) => batches[..first_batch].iter().map(|b| b.ops().len()).sum(),
            None => 0,
        };
        for batch_idx in first_batch..batches.len() {
            let at = BatchAt {
                block: node,
                batches,
                idx: batch_idx,
            };
            let start_op = match first_op.take() {
                Some(op) => op,
                None => {
                    self.begin_row(RowAt::Respan {
                        block: node,
                        batch: batch_idx as u32,
                    })?;
                    self.tracer.respan(&at).map_err(tracer_error)?;
                    self.end_row()?;
                    0
                }
            };
            let ops = batches[batch_idx].ops();
            if start_op > ops.len() {
                return Err(Interrupt::Error(B::inconsistent(
                    "an op index is outside its batch",
                )));
            }
            self.tracer
                .batch_started(&at, start_op)
                .map_err(tracer_error)?;
            match &op_decorators {
                Some(decorators) => {
                    self.run_batch_decorated(forest, decorators, op_offset, &at, start_op)?;
                }
                None => self.run_batch(&at, start_op)?,
            }
            op_offset += ops.len();
        }
        self.begin_row(RowAt::BlockEnd(node))?;
        self.tracer.control_exit(node).map_err(tracer_error)?;
        self.end_row()?;
        if let Some(decorators) = &op_decorators {
            self.run_op_decorators(forest, decorators, op_offset)?;
        }
        self.after_exit(node)
    }

    /// The operation rows of batch `at` from `start_op` on.
    #[inline(always)]
    fn run_batch(&mut self, at: &BatchAt<'_>, start_op: usize) -> Step<B::Error> {
        let batch: &OpBatch = at.batch();
        let ops = &batch.ops()[start_op..];
        let n_ops = ops.len() as u64;
        if u64::from(self.clk) + n_ops <= u64::from(self.max_cycles)
            && n_ops <= u64::from(self.tracer.quiet_rows(self.clk))
        {
            // No cycle-limit check can fire and no stop, checkpoint or row state is due inside
            // this batch.
            for (i, op) in ops.iter().enumerate() {
                execute_op(self, op)?;
                self.tracer
                    .op_executed(at, start_op + i, op)
                    .map_err(tracer_error)?;
                self.clk += 1;
            }
        } else {
            for (i, op) in ops.iter().enumerate() {
                let op_idx = start_op + i;
                self.begin_row(RowAt::Op {
                    block: at.block,
                    batch: at.idx as u32,
                    op: op_idx as u32,
                })?;
                execute_op(self, op)?;
                self.tracer
                    .op_executed(at, op_idx, op)
                    .map_err(tracer_error)?;
                self.end_row()?;
            }
        }
        Ok(())
    }

    /// [`Driver::run_batch`] with the operations' decorators run before each operation.
    #[cold]
    fn run_batch_decorated(
        &mut self,
        forest: &MastForest,
        decorators: &[(usize, DecoratorId)],
        op_offset: usize,
        at: &BatchAt<'_>,
        start_op: usize,
    ) -> Step<B::Error> {
        let ops = at.batch().ops();
        for (op_idx, op) in ops.iter().enumerate().skip(start_op) {
            self.run_op_decorators(forest, decorators, op_offset + op_idx)?;
            self.begin_row(RowAt::Op {
                block: at.block,
                batch: at.idx as u32,
                op: op_idx as u32,
            })?;
            execute_op(self, op)?;
            self.tracer
                .op_executed(at, op_idx, op)
                .map_err(tracer_error)?;
            self.end_row()?;
        }
        Ok(())
    }
}
