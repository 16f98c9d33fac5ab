//! Basic blocks: the `SPAN` row, one row per operation (padding `NOOP`s included), a `RESPAN`
//! row before every further batch and the `END` row, with the decoder's group and operation
//! counters exactly as upstream's sequential processor writes them.
//!
//! The counters are derived from the block's batches; a `MastForest` guarantees they are
//! consistent, and an inconsistency is a typed error rather than a wrapped counter.

use weft_core::{Felt, OpCode, ZERO};
use weft_host::{ExecutionError, Host};
use weft_mast::{BasicBlockNode, DecoratorId, MastForest, OpBatch};

use crate::{
    blocks::{BlockKind, SpanState},
    log::HasherRequest,
    ops,
    processor::Processor,
    rows::{DecoderRow, batch_flags, flag},
    vm::HASH_CYCLE_LEN,
};

/// The error for decoder counters that do not match the block's batches.
fn inconsistent_batch(what: &'static str) -> ExecutionError {
    ExecutionError::FailedToExecuteProgram(what)
}

/// `n - 1`, or an error if a block starts more groups than it holds.
fn one_group_less(n: u64) -> Result<u64, ExecutionError> {
    n.checked_sub(1).ok_or(inconsistent_batch(
        "a basic block started more operation groups than it holds",
    ))
}

impl<H: Host> Processor<'_, H> {
    /// Executes a basic block; `decorators` are its `(executed op index, decorator)` pairs (empty
    /// when decorators do not run).
    pub(crate) fn execute_block(
        &mut self,
        forest: &MastForest,
        block: &BasicBlockNode,
        decorators: &[(usize, DecoratorId)],
    ) -> Result<(), ExecutionError> {
        let batches = block
            .batches()
            .map_err(|source| ExecutionError::BlockNotBatched {
                clk: self.vm.clk,
                source,
            })?;
        let (first, rest) = batches
            .split_first()
            .ok_or(inconsistent_batch("a basic block has no batch"))?;
        let addr = self.vm.hash_request(HasherRequest::BasicBlock {
            batches: batches.iter().map(|b| *b.groups()).collect(),
        });
        let n_groups = batches.iter().map(|b| b.num_groups() as u64).sum::<u64>();
        let parent = self.blocks.push(BlockKind::Basic, addr, None);
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
            groups_left: one_group_less(n_groups)?,
        });
        let mut op_offset = 0;
        self.execute_batch(forest, first, decorators, op_offset)?;
        op_offset += first.ops().len();
        for batch in rest {
            let span = self.span()?;
            let block_addr = self.blocks.last()?.addr;
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
            self.blocks.last_mut()?.addr += Felt::new(HASH_CYCLE_LEN);
            self.span = Some(SpanState {
                group_ops_left: batch.groups()[0].as_int(),
                groups_left: one_group_less(span.groups_left)?,
            });
            self.execute_batch(forest, batch, decorators, op_offset)?;
            op_offset += batch.ops().len();
        }
        let info = self.blocks.pop()?;
        self.span = None;
        let mut h = [ZERO; 8];
        h[..4].copy_from_slice(block.digest().as_elements());
        h[4] = flag(info.is_loop_body);
        self.control_noop(DecoderRow::control(info.addr, OpCode::End, h))?;
        // Decorators after the last operation run after the END row.
        self.run_op_decorators(forest, decorators, op_offset)
    }

    /// Executes the operations of one batch, `op_offset` being the block's op index of its
    /// first operation.
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
            let span = self.span()?;
            // The group's remaining opcodes hold this one in their low seven bits.
            let ops_left = span
                .group_ops_left
                .checked_sub(u64::from(op.op_code_u8()))
                .ok_or(inconsistent_batch(
                    "an operation does not match its group's packed opcodes",
                ))?
                >> 7;
            let block = *self.blocks.last()?;
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
                groups_left = one_group_less(groups_left)?;
                next_group += 1;
            }
            self.span = Some(SpanState {
                group_ops_left: ops_left,
                groups_left,
            });
            let op = *op;
            self.cycle(dec, |vm| ops::execute(vm, op))?;
            let group_end = indptr.get(group + 1).ok_or(inconsistent_batch(
                "a batch has more operations than its groups",
            ))?;
            if i + 1 == usize::from(*group_end) {
                group = next_group;
                next_group += 1;
                op_idx = 0;
                if group < n_groups {
                    self.span = Some(SpanState {
                        group_ops_left: batch.groups()[group].as_int(),
                        groups_left: one_group_less(self.span()?.groups_left)?,
                    });
                }
            } else {
                op_idx += 1;
            }
        }
        Ok(())
    }
}
