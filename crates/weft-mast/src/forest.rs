//! The MAST forest: an arena of nodes addressed by [`MastNodeId`], with side tables.
//!
//! # Invariants
//! A [`MastForest`] is produced only by [`MastForestBuilder`] (or by validation of foreign data
//! that goes through it), which guarantees:
//! 1. every child id of a node is smaller than the node's own id (children precede parents, so
//!    the node graph is acyclic and a forward scan visits children first);
//! 2. no basic block is empty;
//! 3. every node's stored digest is the digest of its contents (blocks) or of its children's
//!    digests in its domain (control nodes);
//! 4. structurally identical nodes carrying identical decorators are stored once;
//! 5. every procedure root is a node of the forest, listed once, and the digest lookup maps each
//!    root's digest to the first root with that digest;
//! 6. every decorator id in the side tables indexes the decorator table.
//!
//! The forest is immutable; [`MastForest::into_builder`] turns it back into a builder, and
//! [`MastForest::strip_decorators`] rebuilds it through the builder (dropping decorators can make
//! two nodes identical, which must then be merged). [`MastForestBuilder::decorate`] refuses a
//! decoration that would make a node identical to another (invariant 4). The sealed fast format
//! is the one path that appends nodes without recomputing their digests or deduplicating them:
//! its keyed MAC vouches that a builder made them.

use std::{
    collections::{BTreeMap, HashMap},
    ops::Index,
};

use weft_core::{OpCode, Operation, Word};

use crate::{
    AdviceMap, DecoratorId, MastError, MastNodeId,
    decorator::{Decorator, NodeDecorators},
    id::next_id,
    node::{
        BasicBlockNode, CallNode, DynNode, ExternalNode, JoinNode, LoopNode, MastNode, SplitNode,
        merge_in_domain,
    },
};

pub use crate::limits::{MAX_DECORATORS, MAX_NODES};

/// A validated forest of MAST nodes. See the module documentation for its invariants.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MastForest {
    nodes: Vec<MastNode>,
    roots: Vec<MastNodeId>,
    root_by_digest: HashMap<Word, MastNodeId>,
    advice_map: AdviceMap,
    decorators: Vec<Decorator>,
    node_decorators: BTreeMap<MastNodeId, NodeDecorators>,
    error_messages: BTreeMap<u64, String>,
}

impl MastForest {
    /// Returns the number of nodes.
    #[inline]
    pub fn num_nodes(&self) -> usize {
        self.nodes.len()
    }

    /// Returns all nodes; the node with id `i` is at index `i`.
    #[inline]
    pub fn nodes(&self) -> &[MastNode] {
        &self.nodes
    }

    /// Returns the node with `id`, or `None` if it is past the arena.
    #[inline]
    pub fn get(&self, id: MastNodeId) -> Option<&MastNode> {
        self.nodes.get(id.as_usize())
    }

    /// Returns the ids of all nodes, in arena order.
    pub fn node_ids(&self) -> impl Iterator<Item = MastNodeId> + '_ {
        (0..self.nodes.len()).map(|i| MastNodeId::new_unchecked(i as u32))
    }

    /// Returns the procedure roots, in the order they were made roots.
    #[inline]
    pub fn procedure_roots(&self) -> &[MastNodeId] {
        &self.roots
    }

    /// Returns the root whose digest is `digest`.
    #[inline]
    pub fn find_procedure_root(&self, digest: &Word) -> Option<MastNodeId> {
        self.root_by_digest.get(digest).copied()
    }

    /// Returns true if `id` is a procedure root.
    pub fn is_procedure_root(&self, id: MastNodeId) -> bool {
        self.roots.contains(&id)
    }

    /// Returns the advice map.
    #[inline]
    pub fn advice_map(&self) -> &AdviceMap {
        &self.advice_map
    }

    /// Returns the decorator table.
    #[inline]
    pub fn decorators(&self) -> &[Decorator] {
        &self.decorators
    }

    /// Returns the decorator with `id`.
    pub fn decorator(&self, id: DecoratorId) -> Option<&Decorator> {
        self.decorators.get(id.as_usize())
    }

    /// Returns the decorators attached to `id` (none if the node has none).
    pub fn node_decorators(&self, id: MastNodeId) -> Option<&NodeDecorators> {
        self.node_decorators.get(&id)
    }

    /// Returns the assertion error messages, keyed by error code.
    pub fn error_messages(&self) -> &BTreeMap<u64, String> {
        &self.error_messages
    }

    /// Turns the forest back into a builder that can add more nodes.
    pub fn into_builder(self) -> MastForestBuilder {
        let mut dedup: HashMap<Word, Vec<MastNodeId>> = HashMap::with_capacity(self.nodes.len());
        for (i, node) in self.nodes.iter().enumerate() {
            dedup
                .entry(node.digest())
                .or_default()
                .push(MastNodeId::new_unchecked(i as u32));
        }
        MastForestBuilder {
            forest: self,
            dedup,
        }
    }
}

impl Index<MastNodeId> for MastForest {
    type Output = MastNode;

    /// # Panics
    /// Panics if `id` does not belong to this forest (ids are only valid in the forest, or a
    /// clone of the forest, that issued them).
    #[inline]
    fn index(&self, id: MastNodeId) -> &MastNode {
        &self.nodes[id.as_usize()]
    }
}

// BUILDER
// ================================================================================================

/// Builds a [`MastForest`], enforcing its invariants on every insertion.
#[derive(Clone, Debug, Default)]
pub struct MastForestBuilder {
    forest: MastForest,
    /// Nodes by digest, for deduplication.
    dedup: HashMap<Word, Vec<MastNodeId>>,
}

impl MastForestBuilder {
    /// Creates an empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Creates an empty builder with room for `n_nodes` nodes (readers know the count).
    pub(crate) fn with_capacity(n_nodes: usize) -> Self {
        let mut builder = Self::default();
        builder.forest.nodes.reserve(n_nodes.min(MAX_NODES));
        builder
    }

    /// Returns the number of nodes added so far.
    pub fn num_nodes(&self) -> usize {
        self.forest.nodes.len()
    }

    /// Returns the node with `id`.
    pub fn get(&self, id: MastNodeId) -> Option<&MastNode> {
        self.forest.get(id)
    }

    /// Adds a basic block made of `ops`.
    ///
    /// # Errors
    /// [`MastError::EmptyBasicBlock`] if `ops` is empty; [`MastError::ControlFlowInBlock`] if an
    /// operation is a control-flow operation; [`MastError::ArenaFull`] past [`MAX_NODES`].
    pub fn add_block(&mut self, ops: &[Operation]) -> Result<MastNodeId, MastError> {
        self.add_block_with_decorators(ops, NodeDecorators::default())
    }

    /// Adds a basic block decoded from `(opcode byte, immediate)` pairs.
    ///
    /// # Errors
    /// As [`Self::add_block`], plus [`MastError::InvalidOperation`] for an unknown opcode or an
    /// immediate that does not match the opcode.
    pub fn add_block_from_opcodes(
        &mut self,
        ops: &[(u8, Option<weft_core::Felt>)],
    ) -> Result<MastNodeId, MastError> {
        let decoded = ops
            .iter()
            .enumerate()
            .map(|(op_idx, &(byte, imm))| {
                OpCode::try_from(byte)
                    .and_then(|code| Operation::from_parts(code, imm))
                    .map_err(|source| MastError::InvalidOperation { op_idx, source })
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.add_block(&decoded)
    }

    /// Adds a basic block with decorators attached.
    ///
    /// # Errors
    /// As [`Self::add_block`], plus [`MastError::DanglingDecorator`] for an unknown decorator id
    /// and [`MastError::DecoratorOpIndex`] for an op index past the block's end.
    pub fn add_block_with_decorators(
        &mut self,
        ops: &[Operation],
        decorators: NodeDecorators,
    ) -> Result<MastNodeId, MastError> {
        self.check_block_ops(ops)?;
        let block = BasicBlockNode::new(ops);
        let n_ops = block.num_ops()?;
        if let Some(&(op_idx, _)) = decorators.ops.iter().find(|(i, _)| *i > n_ops) {
            return Err(MastError::DecoratorOpIndex { op_idx, n_ops });
        }
        self.insert(MastNode::Block(block), decorators)
    }

    /// Checks that `ops` can make a basic block: not empty, no control-flow operation.
    pub(crate) fn check_block_ops(&self, ops: &[Operation]) -> Result<(), MastError> {
        if ops.is_empty() {
            return Err(MastError::EmptyBasicBlock);
        }
        if let Some((op_idx, op)) = ops
            .iter()
            .enumerate()
            .find(|(_, op)| op.op_code().is_control_flow())
        {
            return Err(MastError::ControlFlowInBlock {
                op_idx,
                op: op.op_code(),
            });
        }
        Ok(())
    }

    /// Adds a block batched by a reader (its operations were checked as [`Self::add_block`]
    /// checks them), deduplicating it like any other node.
    pub(crate) fn add_block_node(
        &mut self,
        block: BasicBlockNode,
    ) -> Result<MastNodeId, MastError> {
        self.insert(MastNode::Block(block), NodeDecorators::default())
    }

    /// Adds a join of `first` then `second`.
    ///
    /// # Errors
    /// [`MastError::DanglingChild`] if a child is not in this builder.
    pub fn add_join(
        &mut self,
        first: MastNodeId,
        second: MastNodeId,
    ) -> Result<MastNodeId, MastError> {
        let [a, b] = [self.child_digest(first)?, self.child_digest(second)?];
        let digest = merge_in_domain(a, b, OpCode::Join);
        self.insert(
            MastNode::Join(JoinNode {
                children: [first, second],
                digest,
            }),
            NodeDecorators::default(),
        )
    }

    /// Adds a split between `on_true` and `on_false`.
    ///
    /// # Errors
    /// [`MastError::DanglingChild`] if a branch is not in this builder.
    pub fn add_split(
        &mut self,
        on_true: MastNodeId,
        on_false: MastNodeId,
    ) -> Result<MastNodeId, MastError> {
        let [a, b] = [self.child_digest(on_true)?, self.child_digest(on_false)?];
        let digest = merge_in_domain(a, b, OpCode::Split);
        self.insert(
            MastNode::Split(SplitNode {
                branches: [on_true, on_false],
                digest,
            }),
            NodeDecorators::default(),
        )
    }

    /// Adds a loop around `body`.
    ///
    /// # Errors
    /// [`MastError::DanglingChild`] if the body is not in this builder.
    pub fn add_loop(&mut self, body: MastNodeId) -> Result<MastNodeId, MastError> {
        let digest = merge_in_domain(self.child_digest(body)?, Word::default(), OpCode::Loop);
        self.insert(
            MastNode::Loop(LoopNode { body, digest }),
            NodeDecorators::default(),
        )
    }

    /// Adds a `CALL` of `callee`.
    ///
    /// # Errors
    /// [`MastError::DanglingChild`] if the callee is not in this builder.
    pub fn add_call(&mut self, callee: MastNodeId) -> Result<MastNodeId, MastError> {
        self.add_call_like(callee, false)
    }

    /// Adds a `SYSCALL` of `callee`.
    ///
    /// # Errors
    /// [`MastError::DanglingChild`] if the callee is not in this builder.
    pub fn add_syscall(&mut self, callee: MastNodeId) -> Result<MastNodeId, MastError> {
        self.add_call_like(callee, true)
    }

    fn add_call_like(
        &mut self,
        callee: MastNodeId,
        is_syscall: bool,
    ) -> Result<MastNodeId, MastError> {
        let op = if is_syscall {
            OpCode::SysCall
        } else {
            OpCode::Call
        };
        let digest = merge_in_domain(self.child_digest(callee)?, Word::default(), op);
        self.insert(
            MastNode::Call(CallNode {
                callee,
                is_syscall,
                digest,
            }),
            NodeDecorators::default(),
        )
    }

    /// Adds a `DYN` node.
    ///
    /// # Errors
    /// [`MastError::ArenaFull`] past [`MAX_NODES`].
    pub fn add_dyn(&mut self) -> Result<MastNodeId, MastError> {
        self.insert(
            MastNode::Dyn(DynNode { is_dyncall: false }),
            NodeDecorators::default(),
        )
    }

    /// Adds a `DYNCALL` node.
    ///
    /// # Errors
    /// [`MastError::ArenaFull`] past [`MAX_NODES`].
    pub fn add_dyncall(&mut self) -> Result<MastNodeId, MastError> {
        self.insert(
            MastNode::Dyn(DynNode { is_dyncall: true }),
            NodeDecorators::default(),
        )
    }

    /// Adds a reference to the procedure with `digest` in another forest.
    ///
    /// # Errors
    /// [`MastError::ArenaFull`] past [`MAX_NODES`].
    pub fn add_external(&mut self, digest: Word) -> Result<MastNodeId, MastError> {
        self.insert(
            MastNode::External(ExternalNode { digest }),
            NodeDecorators::default(),
        )
    }

    /// Attaches decorators to run before entering / after exiting an existing node.
    ///
    /// Decorators make a node distinct for deduplication only when given at insertion; this
    /// method decorates the stored node in place (all its users see the decorators).
    ///
    /// # Errors
    /// [`MastError::DanglingChild`] for an unknown node, [`MastError::DanglingDecorator`] for an
    /// unknown decorator.
    pub fn decorate(
        &mut self,
        node: MastNodeId,
        before_enter: &[DecoratorId],
        after_exit: &[DecoratorId],
    ) -> Result<(), MastError> {
        let digest = self.child_digest(node)?;
        for &id in before_enter.iter().chain(after_exit) {
            self.check_decorator(id)?;
        }
        if before_enter.is_empty() && after_exit.is_empty() {
            return Ok(());
        }
        let mut decorated = self
            .forest
            .node_decorators
            .get(&node)
            .cloned()
            .unwrap_or_default();
        decorated.before_enter.extend_from_slice(before_enter);
        decorated.after_exit.extend_from_slice(after_exit);
        // Invariant 4: the decorated node must not become identical, decorators included, to
        // another stored node.
        if let Some(existing) =
            self.find_identical(digest, &self.forest.nodes[node.as_usize()], &decorated)
            && existing != node
        {
            return Err(MastError::DecoratedDuplicate {
                node: node.as_u32(),
                existing: existing.as_u32(),
            });
        }
        self.forest.node_decorators.insert(node, decorated);
        Ok(())
    }

    /// Adds a decorator to the decorator table.
    ///
    /// # Errors
    /// [`MastError::ArenaFull`] past [`MAX_DECORATORS`].
    pub fn add_decorator(&mut self, decorator: Decorator) -> Result<DecoratorId, MastError> {
        let id = next_id(self.forest.decorators.len(), MAX_DECORATORS, "decorator")?;
        self.forest.decorators.push(decorator);
        Ok(DecoratorId::new_unchecked(id))
    }

    /// Makes `id` a procedure root (a no-op if it already is one).
    ///
    /// # Errors
    /// [`MastError::DanglingChild`] if the node is not in this builder.
    pub fn make_root(&mut self, id: MastNodeId) -> Result<(), MastError> {
        let digest = self.child_digest(id)?;
        if !self.forest.roots.contains(&id) {
            self.forest.roots.push(id);
            self.forest.root_by_digest.entry(digest).or_insert(id);
        }
        Ok(())
    }

    /// Returns the advice map, for adding entries.
    pub fn advice_map_mut(&mut self) -> &mut AdviceMap {
        &mut self.forest.advice_map
    }

    /// Registers the message of an assertion error code.
    pub fn add_error_message(&mut self, code: u64, message: impl Into<String>) {
        self.forest.error_messages.insert(code, message.into());
    }

    /// Freezes the forest.
    pub fn build(self) -> MastForest {
        self.forest
    }

    fn child_digest(&self, id: MastNodeId) -> Result<Word, MastError> {
        self.forest
            .get(id)
            .map(MastNode::digest)
            .ok_or(MastError::DanglingChild {
                child: id.as_u32(),
                n_nodes: self.forest.nodes.len(),
            })
    }

    fn check_decorator(&self, id: DecoratorId) -> Result<(), MastError> {
        if id.as_usize() < self.forest.decorators.len() {
            Ok(())
        } else {
            Err(MastError::DanglingDecorator {
                id: id.as_u32(),
                n_decorators: self.forest.decorators.len(),
            })
        }
    }

    /// Appends `node` as is, without recomputing its digest or deduplicating it; for the sealed
    /// fast format only, whose MAC vouches for digests and uniqueness. Children must precede it.
    /// The deduplication table is not updated, so the builder must be built right after.
    pub(crate) fn push_trusted(&mut self, node: MastNode) -> Result<MastNodeId, MastError> {
        for &child in node.children() {
            self.child_digest(child)?;
        }
        let id = MastNodeId::new_unchecked(next_id(self.forest.nodes.len(), MAX_NODES, "node")?);
        self.forest.nodes.push(node);
        Ok(id)
    }

    /// Makes room for `n` more procedure roots (readers know the count).
    pub(crate) fn reserve_roots(&mut self, n: usize) {
        self.forest.roots.reserve(n);
        self.forest.root_by_digest.reserve(n);
    }

    /// Makes `id`, an existing node the caller knows is not a root yet, a procedure root
    /// (skipping [`Self::make_root`]'s linear duplicate check).
    pub(crate) fn push_root_unique(&mut self, id: MastNodeId) {
        if let Some(digest) = self.forest.get(id).map(MastNode::digest) {
            self.forest.roots.push(id);
            self.forest.root_by_digest.entry(digest).or_insert(id);
        }
    }

    /// Returns a stored node identical to `node` (whose digest is `digest`) carrying exactly
    /// `decorators`, if there is one.
    fn find_identical(
        &self,
        digest: Word,
        node: &MastNode,
        decorators: &NodeDecorators,
    ) -> Option<MastNodeId> {
        self.dedup.get(&digest)?.iter().copied().find(|&id| {
            let same_decorators = match self.forest.node_decorators.get(&id) {
                Some(existing) => existing == decorators,
                None => decorators.is_empty(),
            };
            same_decorators && self.forest.nodes.get(id.as_usize()) == Some(node)
        })
    }

    /// Stores `node` unless an identical node with identical decorators is stored already.
    fn insert(
        &mut self,
        node: MastNode,
        decorators: NodeDecorators,
    ) -> Result<MastNodeId, MastError> {
        for &id in decorators.before_enter.iter().chain(&decorators.after_exit) {
            self.check_decorator(id)?;
        }
        for &(_, id) in &decorators.ops {
            self.check_decorator(id)?;
        }
        let digest = node.digest();
        if let Some(id) = self.find_identical(digest, &node, &decorators) {
            return Ok(id);
        }
        let id = MastNodeId::new_unchecked(next_id(self.forest.nodes.len(), MAX_NODES, "node")?);
        self.forest.nodes.push(node);
        if !decorators.is_empty() {
            self.forest.node_decorators.insert(id, decorators);
        }
        self.dedup.entry(digest).or_default().push(id);
        Ok(id)
    }
}
