//! Removing a forest's decorators while keeping its invariants.
//!
//! Decorators take part in deduplication (two identical nodes with different decorators are
//! both stored), so dropping them can leave two identical nodes. Stripping therefore replays
//! every node through [`MastForestBuilder`]: nodes that differed only by their decorators become
//! one, their parents' children are remapped, and roots that become the same node are listed
//! once.

use crate::{MastError, MastForest, MastForestBuilder, MastNode, MastNodeId};

impl MastForest {
    /// Returns the forest with every decorator removed, rebuilt through the builder so that it
    /// keeps the forest's invariants: nodes that differed only by decorators are merged (node
    /// ids can change), roots are deduplicated, and the advice map and error messages are
    /// carried over.
    ///
    /// # Errors
    /// [`MastError::Batch`] if a block of a sealed file cannot be batched (see
    /// [`crate::BasicBlockNode::batches`]).
    pub fn strip_decorators(self) -> Result<Self, MastError> {
        Ok(self.rebuild_stripped(None, &[])?.0)
    }

    /// Rebuilds the forest without decorators, with `entry` (if any) made the first procedure
    /// root, then the nodes of each of `extra` with their roots made roots too (to carry the
    /// procedures a program reaches by `SYSCALL` in its own file). Also returns, for each node
    /// of this forest, its id in the rebuilt forest.
    ///
    /// # Errors
    /// As [`Self::strip_decorators`], and [`MastError::DanglingChild`] if `entry` is not a node
    /// of the forest.
    pub(crate) fn rebuild_stripped(
        &self,
        entry: Option<MastNodeId>,
        extra: &[&MastForest],
    ) -> Result<(MastForest, Vec<MastNodeId>), MastError> {
        let mut builder = MastForestBuilder::with_capacity(self.num_nodes());
        let map = replay(&mut builder, self)?;
        let roots = entry
            .into_iter()
            .chain(self.procedure_roots().iter().copied());
        for root in roots {
            builder.make_root(remap(&map, root)?)?;
        }
        for forest in extra {
            let extra_map = replay(&mut builder, forest)?;
            for &root in forest.procedure_roots() {
                builder.make_root(remap(&extra_map, root)?)?;
            }
        }
        Ok((builder.build(), map))
    }
}

/// Replays every node of `forest`, without decorators, into `builder`, with its advice map and
/// error messages; returns each node's id in the builder.
fn replay(
    builder: &mut MastForestBuilder,
    forest: &MastForest,
) -> Result<Vec<MastNodeId>, MastError> {
    let mut map: Vec<MastNodeId> = Vec::with_capacity(forest.num_nodes());
    for node in forest.nodes() {
        let id = match node {
            MastNode::Block(b) => builder.add_block(&b.raw_ops()?.copied().collect::<Vec<_>>()),
            MastNode::Join(n) => {
                builder.add_join(remap(&map, n.first())?, remap(&map, n.second())?)
            }
            MastNode::Split(n) => {
                builder.add_split(remap(&map, n.on_true())?, remap(&map, n.on_false())?)
            }
            MastNode::Loop(n) => builder.add_loop(remap(&map, n.body())?),
            MastNode::Call(n) if n.is_syscall() => builder.add_syscall(remap(&map, n.callee())?),
            MastNode::Call(n) => builder.add_call(remap(&map, n.callee())?),
            MastNode::Dyn(n) if n.is_dyncall() => builder.add_dyncall(),
            MastNode::Dyn(_) => builder.add_dyn(),
            MastNode::External(n) => builder.add_external(n.digest),
        }?;
        map.push(id);
    }
    for (key, values) in forest.advice_map().iter() {
        builder.advice_map_mut().insert(*key, values.clone());
    }
    for (code, message) in forest.error_messages() {
        builder.add_error_message(*code, message.clone());
    }
    Ok(map)
}

/// Returns the new id of `id`, a node already replayed.
fn remap(map: &[MastNodeId], id: MastNodeId) -> Result<MastNodeId, MastError> {
    map.get(id.as_usize())
        .copied()
        .ok_or(MastError::DanglingChild {
            child: id.as_u32(),
            n_nodes: map.len(),
        })
}
