//! The first pass of validation: the blocks of an untrusted forest decoded, batched and hashed
//! in runs of consecutive blocks balanced by operation count, in parallel with the `concurrent`
//! feature.

use std::ops::Range;

#[cfg(feature = "concurrent")]
use rayon::{current_num_threads, prelude::*};
use weft_core::maybe_par;

use super::raw::{RawNode, UntrustedMastForest};
use crate::{batch, node::BasicBlockNode};

/// Operations per run of the first pass of [`UntrustedMastForest::validate`] at the least: a
/// run costs a few allocations and one task, which this many operations (tens of microseconds of
/// batching) dwarf. Unit tests use runs of a few operations so that their small forests cross
/// run boundaries (an error in a later run, immediates counted across runs).
const MIN_RUN_OPS: usize = if cfg!(test) { 16 } else { 8192 };

/// Consecutive blocks decoded, batched and hashed together by the first pass of
/// [`UntrustedMastForest::validate`], into one shared operation array.
pub(super) struct BlockRun {
    /// The blocks the run was given.
    pub(super) n_planned: usize,
    /// The blocks made, in order, up to the first one rejected (each taken by the second pass).
    pub(super) blocks: Vec<Option<BasicBlockNode>>,
    /// Position in the immediates after the last block made.
    pub(super) imm_pos: usize,
}

impl UntrustedMastForest {
    /// Decodes, batches and hashes the blocks, in runs of consecutive blocks balanced by
    /// operation count. Each run finds its first immediate by counting the immediates of the
    /// runs before it, so runs are independent and run in parallel with the `concurrent`
    /// feature. The blocks end at the first one whose operations overrun the op table (the
    /// second pass reports it).
    pub(super) fn batch_runs(&self) -> Vec<BlockRun> {
        let mut blocks: Vec<Range<usize>> = Vec::new();
        let mut op_pos = 0usize;
        for node in &self.nodes {
            if let RawNode::Block { n_ops } = *node {
                let end = op_pos + n_ops as usize;
                if end > self.opcodes.len() {
                    break;
                }
                blocks.push(op_pos..end);
                op_pos = end;
            }
        }
        // A forest too small for two runs never asks for the thread pool, so loading a short
        // program does not start one: its threads would still be spinning down when the
        // program runs, on the same cores.
        let n_threads = if op_pos < 2 * MIN_RUN_OPS {
            1
        } else {
            current_num_threads()
        };
        let run_ops = (op_pos / (4 * n_threads)).max(MIN_RUN_OPS);
        let mut plans: Vec<(Range<usize>, Range<usize>)> = Vec::new();
        let (mut first_block, mut first_op) = (0usize, 0usize);
        for (k, ops) in blocks.iter().enumerate() {
            if ops.end - first_op >= run_ops || k + 1 == blocks.len() {
                plans.push((first_block..k + 1, first_op..ops.end));
                (first_block, first_op) = (k + 1, ops.end);
            }
        }
        if let [(run_blocks, run_ops)] = plans.as_slice() {
            return vec![self.batch_run(&blocks[run_blocks.clone()], run_ops.clone(), 0)];
        }
        let counts: Vec<usize> = maybe_par!(plans.par_iter(), plans.iter())
            .map(|(_, ops)| batch::count_immediates(&self.opcodes[ops.clone()]))
            .collect();
        let imm_starts: Vec<usize> = counts
            .iter()
            .scan(0usize, |taken, &n| {
                let start = *taken;
                *taken += n;
                Some(start)
            })
            .collect();
        maybe_par!(
            plans.par_iter().zip(imm_starts.par_iter()),
            plans.iter().zip(imm_starts.iter())
        )
        .map(|((run_blocks, run_ops), &imm_start)| {
            self.batch_run(&blocks[run_blocks.clone()], run_ops.clone(), imm_start)
        })
        .collect()
    }

    /// Decodes, batches and hashes one run of consecutive blocks (`run_blocks`, operations
    /// `run_ops`), whose first immediate is at `imm_start`.
    fn batch_run(
        &self,
        run_blocks: &[Range<usize>],
        run_ops: Range<usize>,
        imm_start: usize,
    ) -> BlockRun {
        let mut batcher = batch::BlockBatcher::for_blocks(run_ops.len(), run_blocks.len());
        let mut imm_pos = imm_start;
        let mut ranges = Vec::with_capacity(run_blocks.len());
        for ops in run_blocks {
            match batcher.add_encoded(&self.opcodes[ops.clone()], &self.imms, &mut imm_pos) {
                Some(range) => ranges.push(range),
                None => break,
            }
        }
        let shared = batcher.share();
        let blocks: Option<Vec<_>> = ranges
            .into_iter()
            .map(|range| {
                let digest = shared.digest(range.clone())?;
                let batches = shared.batches(range)?;
                Some(Some(BasicBlockNode::from_batches(batches, Some(digest))))
            })
            .collect();
        match blocks {
            Some(blocks) => BlockRun {
                n_planned: run_blocks.len(),
                blocks,
                imm_pos,
            },
            // The batcher gave a range it does not hold (a bug in the batcher): the run makes
            // no block, so the second pass decodes each of its blocks itself.
            None => BlockRun {
                n_planned: run_blocks.len(),
                blocks: Vec::new(),
                imm_pos: imm_start,
            },
        }
    }
}

/// The number of threads the first pass balances its runs for: one without `concurrent`.
#[cfg(not(feature = "concurrent"))]
fn current_num_threads() -> usize {
    1
}
