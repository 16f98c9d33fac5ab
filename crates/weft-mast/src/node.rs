//! The node kinds of a MAST forest and their digests.
//!
//! Every node stores its digest, computed once when the node is made. Control nodes hash their
//! children's digests with RPO-256 `merge_in_domain`, the domain being the opcode of the node's
//! decoder operation (JOIN 87, SPLIT 84, LOOP 85, CALL 108, SYSCALL 104, DYN 88, DYNCALL 92).

use std::sync::OnceLock;

use weft_core::{Felt, OpCode, Operation, Rpo256, Word};

use crate::{
    MastNodeId,
    batch::{self, BatchError, EncodedBlock, OpBatch},
};

/// A straight-line sequence of operations, batched.
///
/// A block read from a sealed fast-format file is batched on first use: the reader checks that
/// its opcode bytes and immediates can be batched and keeps them, and [`Self::batches`] batches
/// them the first time it is called (once, whichever thread calls it). Every other block is
/// batched when made. Either way the batches are the same.
#[derive(Clone)]
pub struct BasicBlockNode {
    /// The batches; unset until first use for a block batched lazily.
    batches: OnceLock<Result<Vec<OpBatch>, BatchError>>,
    /// Where a lazily batched block's batches come from.
    encoded: Option<EncodedBlock>,
    digest: Word,
}

impl BasicBlockNode {
    /// Batches `ops` and computes the block's digest; `ops` must not be empty (the builder
    /// checks this).
    pub(crate) fn new(ops: &[Operation]) -> Self {
        let batches = batch::batch_ops(ops);
        let digest = batch::batches_digest(&batches);
        Self::from_batches(batches, Some(digest))
    }

    /// Makes a block of `batches` already produced by the batcher (for readers of serialized
    /// forests), hashing them unless `digest` is given; a given digest is taken as is, which
    /// readers do only for a digest they computed themselves or the sealed fast format vouches
    /// for.
    pub(crate) fn from_batches(batches: Vec<OpBatch>, digest: Option<Word>) -> Self {
        let digest = digest.unwrap_or_else(|| batch::batches_digest(&batches));
        Self {
            batches: OnceLock::from(Ok(batches)),
            encoded: None,
            digest,
        }
    }

    /// Makes a block that is batched from `encoded` on first use, with the digest the sealed
    /// fast format vouches for.
    pub(crate) fn lazy(encoded: EncodedBlock, digest: Word) -> Self {
        Self {
            batches: OnceLock::new(),
            encoded: Some(encoded),
            digest,
        }
    }

    /// Returns the block's batches (batching them first if the block was loaded lazily and
    /// this is their first use).
    ///
    /// # Errors
    /// [`BatchError`] only for a block of a sealed fast file (the only blocks batched on first
    /// use) whose operations the batcher rejects: the reader checks everything the batcher can
    /// reject, so this means those checks were wrong. Every call returns the same error.
    #[inline]
    pub fn batches(&self) -> Result<&[OpBatch], BatchError> {
        match self.batches.get_or_init(|| self.batch_encoded()) {
            Ok(batches) => Ok(batches),
            Err(err) => Err(err.clone()),
        }
    }

    /// Batches a lazily loaded block.
    #[cold]
    #[inline(never)]
    fn batch_encoded(&self) -> Result<Vec<OpBatch>, BatchError> {
        match &self.encoded {
            Some(encoded) => encoded.batch().ok_or(BatchError::LazyBlockRejected {
                digest: self.digest,
            }),
            None => Err(BatchError::NoOperations {
                digest: self.digest,
            }),
        }
    }

    /// Returns the block's digest.
    #[inline]
    pub fn digest(&self) -> Word {
        self.digest
    }

    /// Returns the total number of operation groups, as the decoder counts them on the SPAN row:
    /// 8 for every batch but the last, plus the last batch's (power-of-two) group count.
    ///
    /// # Errors
    /// As [`Self::batches`].
    pub fn num_op_groups(&self) -> Result<usize, BatchError> {
        Ok(self.batches()?.iter().map(OpBatch::num_groups).sum())
    }

    /// Returns the number of executed operations, padding `NOOP`s included.
    ///
    /// # Errors
    /// As [`Self::batches`].
    pub fn num_ops(&self) -> Result<usize, BatchError> {
        Ok(self.batches()?.iter().map(|b| b.ops().len()).sum())
    }

    /// Returns every executed operation, padding `NOOP`s included.
    ///
    /// # Errors
    /// As [`Self::batches`].
    pub fn ops(&self) -> Result<impl Iterator<Item = &Operation> + '_, BatchError> {
        Ok(self.batches()?.iter().flat_map(|b| b.ops().iter()))
    }

    /// Returns the operations as written, without padding `NOOP`s.
    ///
    /// # Errors
    /// As [`Self::batches`].
    pub fn raw_ops(&self) -> Result<impl Iterator<Item = &Operation> + '_, BatchError> {
        Ok(self.batches()?.iter().flat_map(OpBatch::raw_ops))
    }
}

/// Blocks are equal when their digests and batches are (however they were loaded).
impl PartialEq for BasicBlockNode {
    fn eq(&self, other: &Self) -> bool {
        self.digest == other.digest && self.batches() == other.batches()
    }
}

impl Eq for BasicBlockNode {}

impl core::fmt::Debug for BasicBlockNode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("BasicBlockNode")
            .field("batches", &self.batches())
            .field("digest", &self.digest)
            .finish()
    }
}

/// Runs two nodes one after the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JoinNode {
    pub(crate) children: [MastNodeId; 2],
    pub(crate) digest: Word,
}

impl JoinNode {
    /// Returns the first child.
    pub fn first(&self) -> MastNodeId {
        self.children[0]
    }
    /// Returns the second child.
    pub fn second(&self) -> MastNodeId {
        self.children[1]
    }
}

/// Runs one of two nodes depending on the popped top of the stack (1: true branch, 0: false).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SplitNode {
    pub(crate) branches: [MastNodeId; 2],
    pub(crate) digest: Word,
}

impl SplitNode {
    /// Returns the branch taken when the condition is 1.
    pub fn on_true(&self) -> MastNodeId {
        self.branches[0]
    }
    /// Returns the branch taken when the condition is 0.
    pub fn on_false(&self) -> MastNodeId {
        self.branches[1]
    }
}

/// Runs its body while the popped top of the stack is 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoopNode {
    pub(crate) body: MastNodeId,
    pub(crate) digest: Word,
}

impl LoopNode {
    /// Returns the loop body.
    pub fn body(&self) -> MastNodeId {
        self.body
    }
}

/// Calls a procedure in a new context (`CALL`) or in the kernel context (`SYSCALL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallNode {
    pub(crate) callee: MastNodeId,
    pub(crate) is_syscall: bool,
    pub(crate) digest: Word,
}

impl CallNode {
    /// Returns the called node.
    pub fn callee(&self) -> MastNodeId {
        self.callee
    }
    /// Returns true for a `SYSCALL`.
    pub fn is_syscall(&self) -> bool {
        self.is_syscall
    }
}

/// Runs the procedure whose digest is in memory at the address on top of the stack, in the same
/// context (`DYN`) or in a new one (`DYNCALL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DynNode {
    pub(crate) is_dyncall: bool,
}

impl DynNode {
    /// Returns true for a `DYNCALL`.
    pub fn is_dyncall(&self) -> bool {
        self.is_dyncall
    }

    /// Returns the constant digest of this node kind.
    pub fn digest(&self) -> Word {
        if self.is_dyncall {
            dyncall_digest()
        } else {
            dyn_digest()
        }
    }
}

/// A reference, by digest, to a procedure of another forest; it is resolved through the host and
/// costs no trace row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExternalNode {
    pub(crate) digest: Word,
}

/// A node of a MAST forest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MastNode {
    /// A basic block.
    Block(BasicBlockNode),
    /// A sequence of two nodes.
    Join(JoinNode),
    /// A conditional.
    Split(SplitNode),
    /// A while loop.
    Loop(LoopNode),
    /// A `CALL` or `SYSCALL`.
    Call(CallNode),
    /// A `DYN` or `DYNCALL`.
    Dyn(DynNode),
    /// A reference to a procedure of another forest.
    External(ExternalNode),
}

/// The nine kinds of node, as counted by tools.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MastNodeKind {
    /// A basic block.
    Block,
    /// A join.
    Join,
    /// A split.
    Split,
    /// A loop.
    Loop,
    /// A call.
    Call,
    /// A syscall.
    Syscall,
    /// A dyn.
    Dyn,
    /// A dyncall.
    Dyncall,
    /// An external reference.
    External,
}

impl MastNodeKind {
    /// Every kind, in the order above.
    pub const ALL: [MastNodeKind; 9] = [
        Self::Block,
        Self::Join,
        Self::Split,
        Self::Loop,
        Self::Call,
        Self::Syscall,
        Self::Dyn,
        Self::Dyncall,
        Self::External,
    ];

    /// Returns the kind's lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Block => "block",
            Self::Join => "join",
            Self::Split => "split",
            Self::Loop => "loop",
            Self::Call => "call",
            Self::Syscall => "syscall",
            Self::Dyn => "dyn",
            Self::Dyncall => "dyncall",
            Self::External => "external",
        }
    }
}

impl MastNode {
    /// Returns the node's digest.
    #[inline]
    pub fn digest(&self) -> Word {
        match self {
            MastNode::Block(n) => n.digest,
            MastNode::Join(n) => n.digest,
            MastNode::Split(n) => n.digest,
            MastNode::Loop(n) => n.digest,
            MastNode::Call(n) => n.digest,
            MastNode::Dyn(n) => n.digest(),
            MastNode::External(n) => n.digest,
        }
    }

    /// Returns the node's kind.
    pub fn kind(&self) -> MastNodeKind {
        match self {
            MastNode::Block(_) => MastNodeKind::Block,
            MastNode::Join(_) => MastNodeKind::Join,
            MastNode::Split(_) => MastNodeKind::Split,
            MastNode::Loop(_) => MastNodeKind::Loop,
            MastNode::Call(n) if n.is_syscall => MastNodeKind::Syscall,
            MastNode::Call(_) => MastNodeKind::Call,
            MastNode::Dyn(n) if n.is_dyncall => MastNodeKind::Dyncall,
            MastNode::Dyn(_) => MastNodeKind::Dyn,
            MastNode::External(_) => MastNodeKind::External,
        }
    }

    /// Returns the domain the node's digest was hashed in (zero for blocks and externals).
    pub fn domain(&self) -> Felt {
        let code = match self.kind() {
            MastNodeKind::Block | MastNodeKind::External => return Felt::new(0),
            MastNodeKind::Join => OpCode::Join,
            MastNodeKind::Split => OpCode::Split,
            MastNodeKind::Loop => OpCode::Loop,
            MastNodeKind::Call => OpCode::Call,
            MastNodeKind::Syscall => OpCode::SysCall,
            MastNodeKind::Dyn => OpCode::Dyn,
            MastNodeKind::Dyncall => OpCode::Dyncall,
        };
        Felt::new(u64::from(code.as_u8()))
    }

    /// Returns the node's children, in execution order.
    pub fn children(&self) -> &[MastNodeId] {
        match self {
            MastNode::Join(n) => &n.children,
            MastNode::Split(n) => &n.branches,
            MastNode::Loop(n) => core::slice::from_ref(&n.body),
            MastNode::Call(n) => core::slice::from_ref(&n.callee),
            MastNode::Block(_) | MastNode::Dyn(_) | MastNode::External(_) => &[],
        }
    }

    /// Returns the basic block, if this node is one.
    pub fn as_block(&self) -> Option<&BasicBlockNode> {
        match self {
            MastNode::Block(b) => Some(b),
            _ => None,
        }
    }
}

/// Hashes two digests in the domain of `op`.
pub(crate) fn merge_in_domain(a: Word, b: Word, op: OpCode) -> Word {
    Rpo256::merge_in_domain(&[a, b], Felt::new(u64::from(op.as_u8())))
}

/// The constant digest of every `DYN` node (hashed once per process).
pub fn dyn_digest() -> Word {
    static DIGEST: OnceLock<Word> = OnceLock::new();
    *DIGEST.get_or_init(|| merge_in_domain(Word::default(), Word::default(), OpCode::Dyn))
}

/// The constant digest of every `DYNCALL` node (hashed once per process).
pub fn dyncall_digest() -> Word {
    static DIGEST: OnceLock<Word> = OnceLock::new();
    *DIGEST.get_or_init(|| merge_in_domain(Word::default(), Word::default(), OpCode::Dyncall))
}
