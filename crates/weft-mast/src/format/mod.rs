//! Serialized forms of a [`MastForest`]: a fast binary format, a compact binary format and a
//! readable text format, all read through one untrusted-then-validated path.
//!
//! # The three formats
//! - [`fast`]: a versioned header, fixed-width little-endian node records, every digest stored,
//!   sections with lengths and a checksum. Built to load with minimal work.
//! - [`compact`]: no stored digests but the roots' (everything is recomputed on load and the
//!   roots are checked), nodes in post-order with implicit children, operations packed at 7 bits,
//!   immediates as varint indices into a constant pool, and a checksum.
//! - [`text`]: a readable, round-trippable listing of the nodes, with errors at line and column.
//!
//! # Reading untrusted bytes
//! Every reader turns bytes into an [`UntrustedMastForest`], and only
//! [`UntrustedMastForest::validate`] turns that into a [`MastForest`], by replaying the nodes
//! through [`MastForestBuilder`], which recomputes every digest and enforces the forest's
//! invariants. Readers never panic, never loop longer than the input justifies, and check every
//! count against a limit of [`limits`] and against the remaining input before allocating. Errors
//! are [`FormatError`]s carrying the byte offset of the offending item.
//!
//! # Stored digests
//! The fast format stores all digests so that a trusted producer's file can be loaded without
//! hashing. Stored digests are never trusted on their own: [`UntrustedMastForest::validate`]
//! recomputes each one and rejects a mismatch. The only way to skip the recomputation is a
//! *sealed* fast file ([`fast::write_sealed`] / [`fast::read_sealed`]): it carries a keyed
//! BLAKE3 MAC over the whole file; when the reader holds the same key, a matching MAC proves the
//! file was written by a holder of the key, whose writer computed the digests itself (a forest
//! only exists through the builder), so the digests are verified at BLAKE3 speed rather than
//! RPO speed. Structure is still fully validated on that path (every length against its
//! limit, children before parents, opcodes, immediates, roots and map keys); the MAC also
//! stands in for the checksum, which is then computed only to tell a damaged file from a
//! foreign one.
//!
//! # Batching: eager, in parallel runs, or lazy
//! [`UntrustedMastForest::validate`] must hash every block, so it batches every block first: in
//! runs of consecutive blocks balanced by operation count, in parallel with the `concurrent`
//! feature (on by default). A sealed fast file needs no hashing, so its blocks are only
//! checked when it is read (not empty, every byte a non-control opcode, enough immediates),
//! which is everything the batcher can reject, and are batched the first time
//! [`BasicBlockNode::batches`](crate::BasicBlockNode::batches) is called: a program that runs
//! a few procedures of a large library pays for batching those only. The batches are the same
//! either way; the errors of a bad block are the same too, found when the file is read.
//!
//! # Integrity checksum
//! Both binary formats end with an 8-byte [`checksum`] over everything before it: four lanes
//! of `h = rotl((h ^ word) * K, 29)` over little-endian 64-bit words, folded together. Each step
//! is a bijection of the lane state for a fixed input word, and injective in the word for a fixed
//! state, so any change confined to one 8-byte word (in particular every single-byte change) is
//! detected with certainty; the fold keeps that property. It runs at several GB/s and needs no
//! dependency. It protects against accidental damage only; against tampering the digests are
//! what counts.
//!
//! # Decorators
//! The formats are defined on stripped forests: decorators are debugging data that never change
//! a digest, and a debug-info side file is left for later. Writers reject a forest that carries
//! decorators ([`WriteError::HasDecorators`]); [`strip`] is the `--strip` step: it drops the
//! decorators and rebuilds the forest through the builder so that nodes which differed only by
//! decorators are merged. Error messages and the advice map are carried.
//!
//! # Canonical forests
//! A forest that went through the builder has no two identical nodes. Readers reject an encoding
//! in which a node duplicates an earlier one ([`FormatError::DuplicateNode`]), so each decoded
//! node keeps its position. The fast and text formats keep node ids; the compact format renumbers
//! nodes into its emission order (shared nodes in id order, each followed by nothing, private
//! subtrees in post-order before their parent), which is a fixed point: encoding the decoded
//! forest again gives the same bytes.

pub mod compact;
pub mod fast;
pub mod fuzz;
pub mod text;

/// The limits readers apply (they live at the crate root, which the forest shares).
pub use crate::limits;

mod cursor;
#[cfg(test)]
mod tests;

use std::{collections::HashMap, ops::Range, sync::Arc};

#[cfg(feature = "concurrent")]
use rayon::{current_num_threads, prelude::*};
use weft_core::{Felt, OpCode, Operation, Word, maybe_par, operations::ImmKind};

use crate::{
    MastError, MastForest, MastForestBuilder, MastNode, MastNodeId,
    batch::{self, EncodedBlock},
    node::{BasicBlockNode, CallNode, DynNode, ExternalNode, JoinNode, LoopNode, SplitNode},
};

// ERRORS
// ================================================================================================

/// Why bytes (or text) could not be read as a forest. Every variant carries the byte offset of
/// the offending item in the input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// The input ended inside an item.
    #[error("unexpected end of input at offset {offset}: {needed} more bytes needed")]
    UnexpectedEof {
        /// Where the truncated item starts.
        offset: usize,
        /// How many bytes it needs past the end.
        needed: usize,
    },
    /// The input does not start with the format's magic bytes.
    #[error("bad magic at offset {offset}")]
    BadMagic {
        /// Always 0.
        offset: usize,
    },
    /// A version this reader does not know.
    #[error("unsupported version {found} at offset {offset} (expected {expected})")]
    UnsupportedVersion {
        /// Where the version is.
        offset: usize,
        /// The version found.
        found: u32,
        /// The version this reader reads.
        expected: u32,
    },
    /// The checksum does not match the content.
    #[error(
        "checksum mismatch at offset {offset}: stored {stored:#018x}, computed {computed:#018x}"
    )]
    ChecksumMismatch {
        /// Where the checksum is.
        offset: usize,
        /// The stored checksum.
        stored: u64,
        /// The checksum of the content.
        computed: u64,
    },
    /// A sealed file whose MAC does not match under the reader's key.
    #[error("seal mismatch at offset {offset}: the file was not sealed with this key")]
    SealMismatch {
        /// Where the MAC is.
        offset: usize,
    },
    /// A count or length past its limit (see [`limits`]) or past what the rest of the input
    /// could hold.
    #[error("{what} {value} at offset {offset} exceeds the limit {limit}")]
    LimitExceeded {
        /// Where the count is.
        offset: usize,
        /// What is counted.
        what: &'static str,
        /// The count read.
        value: u64,
        /// The limit that applies.
        limit: u64,
    },
    /// Bytes left over after the last item, or a section whose length disagrees with its
    /// content.
    #[error("{what} at offset {offset}: {found} bytes where {expected} were expected")]
    LengthMismatch {
        /// Where the section starts.
        offset: usize,
        /// Which section.
        what: &'static str,
        /// The length stated or expected.
        expected: usize,
        /// The length found.
        found: usize,
    },
    /// Reserved bits or bytes that are not zero.
    #[error("reserved bits set at offset {offset}")]
    ReservedBits {
        /// Where the bits are.
        offset: usize,
    },
    /// An unknown node kind.
    #[error("invalid node kind {kind} at offset {offset}")]
    InvalidNodeKind {
        /// Where the node is.
        offset: usize,
        /// The kind found.
        kind: u32,
    },
    /// A field element that is not below the modulus.
    #[error("non-canonical field element {value:#x} at offset {offset}")]
    NonCanonicalFelt {
        /// Where the element is.
        offset: usize,
        /// The value found.
        value: u64,
    },
    /// A varint that is over-long or overflows 64 bits.
    #[error("invalid varint at offset {offset}")]
    InvalidVarint {
        /// Where the varint starts.
        offset: usize,
    },
    /// A string that is not UTF-8.
    #[error("invalid UTF-8 at offset {offset}")]
    InvalidUtf8 {
        /// Where the string starts.
        offset: usize,
    },
    /// An operation byte that is not an opcode, or an immediate missing or misplaced.
    #[error("invalid operation at offset {offset}: {source}")]
    InvalidOperation {
        /// Where the operation (or its block) is.
        offset: usize,
        /// Why.
        source: weft_core::OpDecodeError,
    },
    /// A child that does not precede its parent.
    #[error("node {node} at offset {offset} refers to node {child}, which does not precede it")]
    ChildNotBefore {
        /// Where the parent is.
        offset: usize,
        /// The parent's index.
        node: u32,
        /// The child's index.
        child: u32,
    },
    /// A reference to a node that does not exist.
    #[error("{what} {index} at offset {offset} is out of range (bound {bound})")]
    IndexOutOfRange {
        /// Where the reference is.
        offset: usize,
        /// What kind of reference.
        what: &'static str,
        /// The index found.
        index: u64,
        /// The number of referable items.
        bound: usize,
    },
    /// The builder rejected a node.
    #[error("invalid node at offset {offset}: {source}")]
    InvalidNode {
        /// Where the node is.
        offset: usize,
        /// The builder's reason.
        source: MastError,
    },
    /// A node identical to an earlier one (encodings are of deduplicated forests).
    #[error("node {node} at offset {offset} duplicates node {existing}")]
    DuplicateNode {
        /// Where the node is.
        offset: usize,
        /// Its index.
        node: u32,
        /// The index of the identical earlier node.
        existing: u32,
    },
    /// A stored digest that differs from the recomputed one.
    #[error(
        "digest mismatch for node {node} at offset {offset}: stored {stored}, computed {computed}"
    )]
    DigestMismatch {
        /// Where the digest is.
        offset: usize,
        /// The node's index.
        node: u32,
        /// The stored digest.
        stored: Word,
        /// The recomputed digest.
        computed: Word,
    },
    /// A root listed twice.
    #[error("root {root} at offset {offset} is listed twice")]
    DuplicateRoot {
        /// Where the second listing is.
        offset: usize,
        /// The root's index.
        root: u32,
    },
    /// Keys of a map (advice map, error messages) that are not strictly increasing.
    #[error("{what} key at offset {offset} is not greater than the previous one")]
    UnorderedKey {
        /// Where the key is.
        offset: usize,
        /// Which map.
        what: &'static str,
    },
    /// Compact format: the node stream's implicit-child stack is inconsistent.
    #[error("implicit child stack at offset {offset}: {what}")]
    ImplicitChildren {
        /// Where the problem shows.
        offset: usize,
        /// What went wrong.
        what: &'static str,
    },
    /// Text format: a token that does not fit the grammar.
    #[error("syntax error at offset {offset}: expected {expected}")]
    Syntax {
        /// Where the token starts.
        offset: usize,
        /// What the grammar expects there.
        expected: &'static str,
    },
}

impl FormatError {
    /// Returns the byte offset the error points at.
    pub fn offset(&self) -> usize {
        match self {
            Self::UnexpectedEof { offset, .. }
            | Self::BadMagic { offset }
            | Self::UnsupportedVersion { offset, .. }
            | Self::ChecksumMismatch { offset, .. }
            | Self::SealMismatch { offset }
            | Self::LimitExceeded { offset, .. }
            | Self::LengthMismatch { offset, .. }
            | Self::ReservedBits { offset }
            | Self::InvalidNodeKind { offset, .. }
            | Self::NonCanonicalFelt { offset, .. }
            | Self::InvalidVarint { offset }
            | Self::InvalidUtf8 { offset }
            | Self::InvalidOperation { offset, .. }
            | Self::ChildNotBefore { offset, .. }
            | Self::IndexOutOfRange { offset, .. }
            | Self::InvalidNode { offset, .. }
            | Self::DuplicateNode { offset, .. }
            | Self::DigestMismatch { offset, .. }
            | Self::DuplicateRoot { offset, .. }
            | Self::UnorderedKey { offset, .. }
            | Self::ImplicitChildren { offset, .. }
            | Self::Syntax { offset, .. } => *offset,
        }
    }
}

/// Why a forest could not be written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// The formats are defined on stripped forests; call [`strip`] first.
    #[error("the forest carries decorators; strip them first")]
    HasDecorators,
    /// Two identical nodes (possible only after `strip_decorators`); call [`strip`] first.
    #[error("node {second} duplicates node {first}; rebuild the forest with `strip` first")]
    DuplicateNode {
        /// The first of the two.
        first: u32,
        /// The second.
        second: u32,
    },
    /// A block whose batches could not be made (a block of a sealed file; see
    /// [`crate::BasicBlockNode::batches`]).
    #[error(transparent)]
    Batch(#[from] crate::BatchError),
    /// The forest is too large for the format's fixed-width fields.
    #[error("the forest is too large for this format: {what}")]
    TooLarge {
        /// What overflowed.
        what: &'static str,
    },
}

// STRIPPING
// ================================================================================================

/// Returns `forest` without decorators, rebuilt through the builder (the `--strip` step): nodes
/// that differed only by their decorators become one, node order is otherwise kept, and roots,
/// advice map and error messages are carried over. The same as
/// [`MastForest::strip_decorators`] on a clone.
///
/// # Errors
/// [`MastError::Batch`] if a block of a sealed file cannot be batched.
pub fn strip(forest: &MastForest) -> Result<MastForest, MastError> {
    Ok(forest.rebuild_stripped(None)?.0)
}

/// As [`strip`], with `entry` (if any) made the first procedure root, so that formats that store
/// no entry point keep it as "the first root". Also returns, for each node of `forest`, its id
/// in the stripped forest.
///
/// # Errors
/// As [`strip`], and [`MastError::DanglingChild`] if `entry` is not a node of `forest`.
pub fn strip_with_entry(
    forest: &MastForest,
    entry: Option<MastNodeId>,
) -> Result<(MastForest, Vec<MastNodeId>), MastError> {
    forest.rebuild_stripped(entry)
}

/// Checks that `forest` can be written: no decorators, no duplicate nodes.
pub(crate) fn check_writable(forest: &MastForest) -> Result<(), WriteError> {
    if !forest.decorators().is_empty()
        || forest
            .node_ids()
            .any(|id| forest.node_decorators(id).is_some_and(|d| !d.is_empty()))
    {
        return Err(WriteError::HasDecorators);
    }
    let mut by_digest: HashMap<Word, Vec<usize>> = HashMap::with_capacity(forest.num_nodes());
    for (i, node) in forest.nodes().iter().enumerate() {
        let same = by_digest.entry(node.digest()).or_default();
        if let Some(&first) = same.iter().find(|&&j| forest.nodes()[j] == *node) {
            return Err(WriteError::DuplicateNode {
                first: first as u32,
                second: i as u32,
            });
        }
        same.push(i);
    }
    if forest.num_nodes() > limits::MAX_NODES {
        return Err(WriteError::TooLarge { what: "node count" });
    }
    Ok(())
}

// UNTRUSTED FOREST
// ================================================================================================

/// A node as read, before validation: children are plain indices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RawNode {
    /// A basic block of `n_ops` operations, the next ones of the op table.
    Block {
        n_ops: u32,
    },
    Join(u32, u32),
    Split(u32, u32),
    Loop(u32),
    Call(u32),
    Syscall(u32),
    Dyn,
    Dyncall,
    External(Word),
}

impl RawNode {
    fn children(&self) -> ([u32; 2], usize) {
        match *self {
            RawNode::Join(a, b) | RawNode::Split(a, b) => ([a, b], 2),
            RawNode::Loop(a) | RawNode::Call(a) | RawNode::Syscall(a) => ([a, 0], 1),
            RawNode::Block { .. } | RawNode::Dyn | RawNode::Dyncall | RawNode::External(_) => {
                ([0, 0], 0)
            }
        }
    }
}

/// A forest read from bytes or text that has not been validated: node references, operations,
/// immediates and digests are as the input stated them. Only [`Self::validate`] makes a
/// [`MastForest`] of it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UntrustedMastForest {
    /// The nodes, in the order they will get ids.
    pub(crate) nodes: Vec<RawNode>,
    /// Offset of each node's record in the input.
    pub(crate) node_offsets: Vec<u32>,
    /// Stored digest of every node (fast format), checked against the recomputed ones.
    pub(crate) digests: Option<Vec<Word>>,
    /// Opcode bytes of all blocks, in node order (shared with the lazily batched blocks of a
    /// sealed fast file).
    pub(crate) opcodes: Arc<[u8]>,
    /// Input offset of each block's first operation (parallel to the blocks, in node order).
    pub(crate) block_op_offsets: Vec<u32>,
    /// Immediates of all operations that carry one, in operation order, as canonical field
    /// element values (readers check them; shared as the opcodes).
    pub(crate) imms: Arc<[u64]>,
    /// Procedure roots with the offset of each.
    pub(crate) roots: Vec<(u32, u32)>,
    /// Digest of each root (compact format), checked against the recomputed ones.
    pub(crate) root_digests: Option<Vec<Word>>,
    /// Advice-map entries with the offset of each key.
    pub(crate) advice: Vec<(Word, Vec<Felt>, u32)>,
    /// Error messages with the offset of each code.
    pub(crate) errors: Vec<(u64, String, u32)>,
}

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
    pub fn validate(self) -> Result<MastForest, FormatError> {
        self.build(false)
    }

    /// Validates structure as [`Self::validate`] does but takes the stored digests as given.
    /// Only [`fast::read_sealed`] calls it, after verifying the file's MAC.
    pub(crate) fn validate_trusting_digests(self) -> Result<MastForest, FormatError> {
        self.build(true)
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

/// Operations per run of the first pass of [`UntrustedMastForest::validate`] at the least: a
/// run costs a few allocations and one task, which this many operations (tens of microseconds of
/// batching) dwarf. Unit tests use runs of a few operations so that their small forests cross
/// run boundaries (an error in a later run, immediates counted across runs).
const MIN_RUN_OPS: usize = if cfg!(test) { 16 } else { 8192 };

/// Consecutive blocks decoded, batched and hashed together by the first pass of
/// [`UntrustedMastForest::validate`], into one shared operation array.
struct BlockRun {
    /// The blocks the run was given.
    n_planned: usize,
    /// The blocks made, in order, up to the first one rejected (each taken by the second pass).
    blocks: Vec<Option<BasicBlockNode>>,
    /// Position in the immediates after the last block made.
    imm_pos: usize,
}

impl UntrustedMastForest {
    /// Decodes, batches and hashes the blocks, in runs of consecutive blocks balanced by
    /// operation count. Each run finds its first immediate by counting the immediates of the
    /// runs before it, so runs are independent and run in parallel with the `concurrent`
    /// feature. The blocks end at the first one whose operations overrun the op table (the
    /// second pass reports it).
    fn batch_runs(&self) -> Vec<BlockRun> {
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
        let n_threads = current_num_threads();
        let run_ops = (op_pos / (4 * n_threads)).max(MIN_RUN_OPS);
        let mut plans: Vec<(Range<usize>, Range<usize>)> = Vec::new();
        let (mut first_block, mut first_op) = (0usize, 0usize);
        for (k, ops) in blocks.iter().enumerate() {
            if ops.end - first_op >= run_ops || k + 1 == blocks.len() {
                plans.push((first_block..k + 1, first_op..ops.end));
                (first_block, first_op) = (k + 1, ops.end);
            }
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
            let run_blocks = &blocks[run_blocks.clone()];
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
                // The batcher gave a range it does not hold (a bug in the batcher): the run
                // makes no block, so the second pass decodes each of its blocks itself.
                None => BlockRun {
                    n_planned: run_blocks.len(),
                    blocks: Vec::new(),
                    imm_pos: imm_start,
                },
            }
        })
        .collect()
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

/// The number of threads the first pass balances its runs for: one without `concurrent`.
#[cfg(not(feature = "concurrent"))]
fn current_num_threads() -> usize {
    1
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

// CHECKSUM
// ================================================================================================

const CHECKSUM_K: u64 = 0x9E37_79B9_7F4A_7C15;

#[inline(always)]
fn mix(h: u64, w: u64) -> u64 {
    (h ^ w).wrapping_mul(CHECKSUM_K).rotate_left(29)
}

/// The integrity checksum of both binary formats (see the module documentation for why it
/// detects every single-byte change).
pub fn checksum(bytes: &[u8]) -> u64 {
    let mut lanes: [u64; 4] = [
        0x243F_6A88_85A3_08D3,
        0x1319_8A2E_0370_7344,
        0xA409_3822_299F_31D0,
        0x082E_FA98_EC4E_6C89,
    ];
    let mut chunks = bytes.chunks_exact(32);
    for chunk in &mut chunks {
        for (lane, word) in lanes.iter_mut().zip(chunk.chunks_exact(8)) {
            if let Some(w) = word.first_chunk::<8>() {
                *lane = mix(*lane, u64::from_le_bytes(*w));
            }
        }
    }
    let rest = chunks.remainder();
    for (lane, word) in lanes.iter_mut().zip(rest.chunks(8)) {
        let mut w = [0u8; 8];
        w[..word.len()].copy_from_slice(word);
        *lane = mix(*lane, u64::from_le_bytes(w));
    }
    let mut h = mix(lanes[0], bytes.len() as u64);
    for lane in &lanes[1..] {
        h = mix(h, *lane);
    }
    h ^= h >> 31;
    h.wrapping_mul(CHECKSUM_K)
}

// SHARED HELPERS
// ================================================================================================

/// Node kind tags shared by the binary formats.
pub(crate) mod tag {
    pub const BLOCK: u8 = 0;
    pub const JOIN: u8 = 1;
    pub const SPLIT: u8 = 2;
    pub const LOOP: u8 = 3;
    pub const CALL: u8 = 4;
    pub const SYSCALL: u8 = 5;
    pub const DYN: u8 = 6;
    pub const DYNCALL: u8 = 7;
    pub const EXTERNAL: u8 = 8;
}

/// Returns the kind tag of `node`.
pub(crate) fn node_tag(node: &MastNode) -> u8 {
    match node {
        MastNode::Block(_) => tag::BLOCK,
        MastNode::Join(_) => tag::JOIN,
        MastNode::Split(_) => tag::SPLIT,
        MastNode::Loop(_) => tag::LOOP,
        MastNode::Call(n) if n.is_syscall() => tag::SYSCALL,
        MastNode::Call(_) => tag::CALL,
        MastNode::Dyn(n) if n.is_dyncall() => tag::DYNCALL,
        MastNode::Dyn(_) => tag::DYN,
        MastNode::External(_) => tag::EXTERNAL,
    }
}

/// Builds a raw node from its tag and children.
pub(crate) fn raw_node(tag: u8, a: u32, b: u32, digest: Word, n_ops: u32) -> Option<RawNode> {
    Some(match tag {
        tag::BLOCK => RawNode::Block { n_ops },
        tag::JOIN => RawNode::Join(a, b),
        tag::SPLIT => RawNode::Split(a, b),
        tag::LOOP => RawNode::Loop(a),
        tag::CALL => RawNode::Call(a),
        tag::SYSCALL => RawNode::Syscall(a),
        tag::DYN => RawNode::Dyn,
        tag::DYNCALL => RawNode::Dyncall,
        tag::EXTERNAL => RawNode::External(digest),
        _ => return None,
    })
}

/// Writes a word as four little-endian u64s.
pub(crate) fn put_word(out: &mut Vec<u8>, word: &Word) {
    for felt in word.iter() {
        out.extend_from_slice(&felt.as_int().to_le_bytes());
    }
}
