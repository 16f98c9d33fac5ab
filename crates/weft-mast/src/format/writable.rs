//! What the writers accept: stripped forests (decorators removed, rebuilt through the builder)
//! with no duplicate node, small enough for the formats' fields; and byte helpers they share.

use std::{collections::HashMap, sync::Arc};

use weft_core::Word;

use super::error::WriteError;
use crate::{MastError, MastForest, MastNodeId, Program, limits};

/// Returns `forest` without decorators, rebuilt through the builder (the `--strip` step): nodes
/// that differed only by their decorators become one, node order is otherwise kept, and roots,
/// advice map and error messages are carried over. The same as
/// [`MastForest::strip_decorators`] on a clone.
///
/// # Errors
/// [`MastError::Batch`] if a block of a sealed file cannot be batched.
pub fn strip(forest: &MastForest) -> Result<MastForest, MastError> {
    Ok(forest.rebuild_stripped(None, &[])?.0)
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
    forest.rebuild_stripped(entry, &[])
}

/// Returns `program` without decorators, ready to be written: its forest rebuilt as [`strip`]
/// does with the entry point as the first procedure root (so that a reader that knows no program
/// section still finds it there), the kernel kept, and, if `kernel_forest` is given, the
/// kernel's procedures added as roots, so that the file alone holds the code its syscalls run.
///
/// # Errors
/// As [`strip`].
pub fn strip_program(
    program: &Program,
    kernel_forest: Option<&MastForest>,
) -> Result<Program, MastError> {
    let extra: Vec<&MastForest> = kernel_forest.into_iter().collect();
    let entry = program.entrypoint();
    let (forest, map) = program.forest().rebuild_stripped(Some(entry), &extra)?;
    let entry = *map.get(entry.as_usize()).ok_or(MastError::DanglingChild {
        child: entry.as_u32(),
        n_nodes: map.len(),
    })?;
    Program::new(Arc::new(forest), entry, program.kernel().clone())
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

/// Writes a word as four little-endian u64s.
pub(crate) fn put_word(out: &mut Vec<u8>, word: &Word) {
    for felt in word.iter() {
        out.extend_from_slice(&felt.as_int().to_le_bytes());
    }
}
