//! Validation: an [`UntrustedMastForest`] becomes a [`MastForest`] by replaying its nodes through
//! [`MastForestBuilder`], which recomputes every digest and enforces the forest's invariants.

use std::sync::Arc;

use weft_core::{Felt, OpCode, Operation, Word, operations::ImmKind};

use super::{
    error::FormatError,
    program::MastFile,
    raw::{RawNode, UntrustedMastForest},
};
use crate::{
    MastForest, MastForestBuilder, MastNode, MastNodeId, Program,
    batch::{self, EncodedBlock},
    node::{BasicBlockNode, CallNode, DynNode, ExternalNode, JoinNode, LoopNode, SplitNode},
};

impl UntrustedMastForest {
    /// Returns the number of nodes read.
    pub fn num_nodes(&self) -> usize {
        self.nodes.len()
    }

    /// Validates the forest by replaying it through [`MastForestBuilder`]: every child must
    /// precede its parent, every block must hold valid non-control operations with the right
    /// immediates, no node may duplicate an earlier one, every recomputed digest must equal the
    /// stored one (where the format stores it), roots must be distinct nodes, and map keys must be
    /// strictly increasing.
    ///
    /// # Errors
    /// The first violation found, with the offset of the offending item.
    /// A program section, if the file has one, is validated too (see [`Self::validate_file`])
    /// and then dropped.
    pub fn validate(self) -> Result<MastForest, FormatError> {
        Ok(self.validate_file()?.into_forest())
    }

    /// Returns true if the file holds a program (an entry point and a kernel).
    pub fn holds_program(&self) -> bool {
        self.program.is_some()
    }

    /// Validates the forest as [`Self::validate`] does, then its program section, if any: the
    /// entry point must be a procedure root, the kernel at most
    /// [`MAX_KERNEL_PROCS`](crate::limits::MAX_KERNEL_PROCS) distinct digests.
    ///
    /// # Errors
    /// The first violation found, with the offset of the offending item.
    pub fn validate_file(self) -> Result<MastFile, FormatError> {
        self.build_file(false)
    }

    /// Validates a file that must hold a program.
    ///
    /// # Errors
    /// [`FormatError::NotAProgram`] for a forest-only file; otherwise as
    /// [`Self::validate_file`].
    pub fn validate_program(self) -> Result<Program, FormatError> {
        match self.validate_file()? {
            MastFile::Program(program) => Ok(program),
            MastFile::Forest(_) => Err(FormatError::NotAProgram { offset: 0 }),
        }
    }

    /// Validates structure as [`Self::validate_file`] does but takes the stored digests as
    /// given. Only [`super::fast::read_sealed`] calls it, after verifying the file's MAC.
    pub(crate) fn validate_trusting_digests(self) -> Result<MastFile, FormatError> {
        self.build_file(true)
    }

    fn build_file(mut self, trust_digests: bool) -> Result<MastFile, FormatError> {
        let program = self.program.take();
        let forest = self.build(trust_digests)?;
        match program {
            None => Ok(MastFile::Forest(forest)),
            Some(raw) => raw.validate(forest).map(MastFile::Program),
        }
    }

    fn build(self, trust_digests: bool) -> Result<MastForest, FormatError> {
        let trusted = if trust_digests {
            self.digests.as_deref()
        } else {
            None
        };
        let mut builder = MastForestBuilder::with_capacity(self.nodes.len());
        let mut ops: Vec<Operation> = Vec::new();

        // With trusted digests (a sealed fast file) blocks are checked here and batched on first
        // use, from the forest's opcode and immediate arrays shared by every block.
        let lazy = trust_digests.then(|| (Arc::clone(&self.opcodes), Arc::clone(&self.imms)));
        // Otherwise, first pass: decode, batch and hash the blocks, in runs that run in
        // parallel, each run stopping at the first block the fast decoder rejects. The second
        // pass below makes the nodes in order and reports errors in node order, decoding a
        // rejected block again operation by operation to say what is wrong with it.
        let mut runs = if lazy.is_some() {
            Vec::new()
        } else {
            self.batch_runs()
        };
        let mut runs_iter = runs.iter_mut();
        let mut run = runs_iter.next();
        let mut run_block = 0usize;
        let mut imm_pos = 0usize;
        let mut fell_back = false;

        let mut op_pos = 0usize;
        let mut block_idx = 0usize;
        for (i, node) in self.nodes.iter().enumerate() {
            let offset = self.node_offsets.get(i).copied().unwrap_or(0) as usize;
            let (children, n_children) = node.children();
            let mut child_ids = [MastNodeId::new_unchecked(0); 2];
            for (slot, &child) in children[..n_children].iter().enumerate() {
                if child as usize >= i {
                    return Err(FormatError::ChildNotBefore {
                        offset,
                        node: i as u32,
                        child,
                    });
                }
                child_ids[slot] = MastNodeId::new_unchecked(child);
            }
            let [a, b] = child_ids;
            let invalid = |source| FormatError::InvalidNode { offset, source };
            let digest = trusted.map(|d| stored_digest(d, i, offset)).transpose()?;
            let result = match *node {
                RawNode::Block { n_ops } => {
                    let op_offset = self
                        .block_op_offsets
                        .get(block_idx)
                        .copied()
                        .unwrap_or(offset as u32) as usize;
                    block_idx += 1;
                    let n_ops = n_ops as usize;
                    let codes = self.opcodes.get(op_pos..op_pos + n_ops).ok_or(
                        FormatError::LengthMismatch {
                            offset,
                            what: "operations",
                            expected: op_pos + n_ops,
                            found: self.opcodes.len(),
                        },
                    )?;
                    op_pos += n_ops;
                    while let Some(r) = run.as_deref()
                        && run_block >= r.n_planned
                    {
                        run = runs_iter.next();
                        run_block = 0;
                    }
                    let batched = run.as_deref_mut().and_then(|r| {
                        let block = r.blocks.get_mut(run_block).and_then(Option::take);
                        if block.is_none() && !fell_back {
                            // The run stopped at this block: its immediates start where the
                            // run stopped taking them.
                            imm_pos = r.imm_pos;
                        }
                        block
                    });
                    run_block += 1;
                    let encoded = lazy
                        .as_ref()
                        .zip(digest)
                        .and_then(|((codes, imms), digest)| {
                            let (block, n_imms) =
                                EncodedBlock::new(codes, imms, op_pos - n_ops..op_pos, imm_pos)?;
                            imm_pos += n_imms;
                            Some(BasicBlockNode::lazy(block, digest))
                        });
                    let block = match (batched, encoded) {
                        (Some(block), _) | (None, Some(block)) => block,
                        (None, None) => {
                            // The first pass rejected this block (or stopped before it): decode
                            // it operation by operation to report which operation and why.
                            fell_back = true;
                            ops.clear();
                            for (k, &byte) in codes.iter().enumerate() {
                                let op = decode_op(byte, &self.imms, &mut imm_pos).map_err(
                                    |source| FormatError::InvalidOperation {
                                        offset: op_offset + k,
                                        source,
                                    },
                                )?;
                                ops.push(op);
                            }
                            builder.check_block_ops(&ops).map_err(invalid)?;
                            BasicBlockNode::from_batches(batch::batch_ops(&ops), digest)
                        }
                    };
                    if trusted.is_some() {
                        builder.push_trusted(MastNode::Block(block))
                    } else {
                        builder.add_block_node(block)
                    }
                }
                // With trusted digests (a sealed fast file) control nodes are pushed with their
                // stored digest; otherwise the builder computes it (and the caller compares).
                RawNode::Join(..) => match digest {
                    Some(digest) => builder.push_trusted(MastNode::Join(JoinNode {
                        children: [a, b],
                        digest,
                    })),
                    None => builder.add_join(a, b),
                },
                RawNode::Split(..) => match digest {
                    Some(digest) => builder.push_trusted(MastNode::Split(SplitNode {
                        branches: [a, b],
                        digest,
                    })),
                    None => builder.add_split(a, b),
                },
                RawNode::Loop(_) => match digest {
                    Some(digest) => {
                        builder.push_trusted(MastNode::Loop(LoopNode { body: a, digest }))
                    }
                    None => builder.add_loop(a),
                },
                RawNode::Call(_) | RawNode::Syscall(_) => {
                    let is_syscall = matches!(node, RawNode::Syscall(_));
                    match digest {
                        Some(digest) => builder.push_trusted(MastNode::Call(CallNode {
                            callee: a,
                            is_syscall,
                            digest,
                        })),
                        None if is_syscall => builder.add_syscall(a),
                        None => builder.add_call(a),
                    }
                }
                RawNode::Dyn | RawNode::Dyncall => {
                    let is_dyncall = matches!(node, RawNode::Dyncall);
                    match digest {
                        Some(_) => builder.push_trusted(MastNode::Dyn(DynNode { is_dyncall })),
                        None if is_dyncall => builder.add_dyncall(),
                        None => builder.add_dyn(),
                    }
                }
                RawNode::External(d) => match digest {
                    Some(_) => builder.push_trusted(MastNode::External(ExternalNode { digest: d })),
                    None => builder.add_external(d),
                },
            };
            finish_node(
                &mut builder,
                result.map_err(invalid),
                i,
                offset,
                &self.digests,
                trusted.is_none(),
            )?;
        }
        if lazy.is_none() && !fell_back {
            imm_pos = runs.last().map_or(0, |r| r.imm_pos);
        }
        if op_pos != self.opcodes.len() || imm_pos != self.imms.len() {
            return Err(FormatError::LengthMismatch {
                offset: 0,
                what: "operations and immediates",
                expected: op_pos + imm_pos,
                found: self.opcodes.len() + self.imms.len(),
            });
        }

        let n_nodes = self.nodes.len();
        builder.reserve_roots(self.roots.len());
        let mut is_root = vec![false; n_nodes];
        for (k, &(root, offset)) in self.roots.iter().enumerate() {
            let offset = offset as usize;
            let slot = is_root
                .get_mut(root as usize)
                .ok_or(FormatError::IndexOutOfRange {
                    offset,
                    what: "root",
                    index: u64::from(root),
                    bound: n_nodes,
                })?;
            if *slot {
                return Err(FormatError::DuplicateRoot { offset, root });
            }
            *slot = true;
            let id = MastNodeId::new_unchecked(root);
            if let Some(stored) = self.root_digests.as_ref().and_then(|d| d.get(k)) {
                let computed = node_digest(&builder, id, offset)?;
                if computed != *stored {
                    return Err(FormatError::DigestMismatch {
                        offset,
                        node: root,
                        stored: *stored,
                        computed,
                    });
                }
            }
            builder.push_root_unique(id);
        }

        let mut prev_key: Option<Word> = None;
        for (key, values, offset) in self.advice {
            if prev_key.is_some_and(|p| p >= key) {
                return Err(FormatError::UnorderedKey {
                    offset: offset as usize,
                    what: "advice map",
                });
            }
            prev_key = Some(key);
            builder.advice_map_mut().insert(key, values);
        }
        let mut prev_code: Option<u64> = None;
        for (code, message, offset) in self.errors {
            if prev_code.is_some_and(|p| p >= code) {
                return Err(FormatError::UnorderedKey {
                    offset: offset as usize,
                    what: "error message",
                });
            }
            prev_code = Some(code);
            builder.add_error_message(code, message);
        }
        Ok(builder.build())
    }
}

/// Checks the id the builder gave node `i` (a smaller one means it duplicates an earlier node)
/// and, when digests are verified, the stored digest against the computed one.
fn finish_node(
    builder: &mut MastForestBuilder,
    result: Result<MastNodeId, FormatError>,
    i: usize,
    offset: usize,
    digests: &Option<Vec<Word>>,
    verify_digest: bool,
) -> Result<(), FormatError> {
    let id = result?;
    if id.as_usize() != i {
        return Err(FormatError::DuplicateNode {
            offset,
            node: i as u32,
            existing: id.as_u32(),
        });
    }
    if verify_digest && let Some(digests) = digests {
        let computed = node_digest(builder, id, offset)?;
        let stored = stored_digest(digests, i, offset)?;
        if computed != stored {
            return Err(FormatError::DigestMismatch {
                offset,
                node: i as u32,
                stored,
                computed,
            });
        }
    }
    Ok(())
}

/// Returns the digest of node `id` of `builder`, which the caller made.
fn node_digest(
    builder: &MastForestBuilder,
    id: MastNodeId,
    offset: usize,
) -> Result<Word, FormatError> {
    builder
        .get(id)
        .map(MastNode::digest)
        .ok_or(FormatError::IndexOutOfRange {
            offset,
            what: "node",
            index: u64::from(id.as_u32()),
            bound: builder.num_nodes(),
        })
}

/// Returns the stored digest of node `i`; readers store one per node, so a missing one is a
/// length mismatch of the digest section.
fn stored_digest(digests: &[Word], i: usize, offset: usize) -> Result<Word, FormatError> {
    digests.get(i).copied().ok_or(FormatError::LengthMismatch {
        offset,
        what: "node digests",
        expected: i + 1,
        found: digests.len(),
    })
}

/// Decodes one operation from its opcode byte, taking its immediate (if it has one) from `imms`.
#[inline]
fn decode_op(
    byte: u8,
    imms: &[u64],
    imm_pos: &mut usize,
) -> Result<Operation, weft_core::OpDecodeError> {
    let code = OpCode::try_from(byte)?;
    let imm = match code.imm_kind() {
        ImmKind::None => None,
        ImmKind::Value | ImmKind::ErrorCode => {
            let imm = imms
                .get(*imm_pos)
                .copied()
                .ok_or(weft_core::OpDecodeError::MissingImmediate { op: code })?;
            *imm_pos += 1;
            Some(Felt::new(imm))
        }
    };
    Operation::from_parts(code, imm)
}
