//! A forest as read from bytes or text, before validation: raw nodes whose children are plain
//! indices, and the node kind tags the binary formats share.

use std::sync::Arc;

use weft_core::{Felt, Word};

use super::program::RawProgram;
use crate::MastNode;

#[cfg(doc)]
use crate::MastForest;

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
    pub(crate) fn children(&self) -> ([u32; 2], usize) {
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
    /// The program section: the entry point and kernel of a file that holds a program.
    pub(crate) program: Option<RawProgram>,
}

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
