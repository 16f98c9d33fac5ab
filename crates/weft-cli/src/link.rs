//! Preparing a program's code before it runs: the blocks it can reach, in its own forest and in
//! the forests its external nodes resolve to (the core library, a kernel), are batched while
//! loading rather than on first use during execution.
//!
//! weft's core library is read from a sealed fast file whose blocks are batched the first time
//! they are used ([`weft_mast::BasicBlockNode::batches`]), so that a program pays only for the
//! procedures it calls. Left to execution, that batching lands in the first run's time; upstream
//! batches every block when it deserializes its library, during loading. Linking the program
//! here puts the same work where upstream has it, and only for the reachable procedures: a
//! short program calling a few core-library procedures batches a few dozen blocks, not the 414
//! of the library.

use std::sync::Arc;

use weft_mast::{MastForest, MastNode, MastNodeId, Program};

/// Batches every block reachable from `program`'s entry point, following external nodes into
/// the first of `libraries` whose procedure roots hold their digest (as the host resolves
/// them), and every procedure root of the program's forest (its kernel's procedures, which
/// syscalls reach by digest). Also hashes the `DYN`/`DYNCALL` digests once if a reachable node
/// is dynamic.
///
/// Nothing here can fail the run: a block that does not batch (impossible for a validated
/// forest) is left for execution to report, and an external node no library resolves is left
/// for the host to report at the same cycle as ever.
pub fn prepare(program: &Program, libraries: &[Arc<MastForest>]) {
    let forests: Vec<&MastForest> = std::iter::once(&**program.forest())
        .chain(libraries.iter().map(|f| &**f))
        .collect();
    let mut seen: Vec<Vec<bool>> = forests
        .iter()
        .map(|f| vec![false; f.nodes().len()])
        .collect();
    let mut pending: Vec<(usize, MastNodeId)> = vec![(0, program.entrypoint())];
    pending.extend(
        program
            .forest()
            .procedure_roots()
            .iter()
            .map(|&root| (0, root)),
    );
    let mut has_dyn = false;
    while let Some((forest_idx, id)) = pending.pop() {
        let forest = forests[forest_idx];
        let Some(node) = forest.nodes().get(id.as_u32() as usize) else {
            continue;
        };
        let seen_node = &mut seen[forest_idx][id.as_u32() as usize];
        if std::mem::replace(seen_node, true) {
            continue;
        }
        match node {
            MastNode::Block(block) => {
                let _ = block.batches();
            }
            MastNode::External(_) => {
                let digest = node.digest();
                if let Some((library_idx, root)) = forests
                    .iter()
                    .enumerate()
                    .skip(1)
                    .find_map(|(idx, f)| Some((idx, f.find_procedure_root(&digest)?)))
                {
                    pending.push((library_idx, root));
                }
            }
            MastNode::Dyn(_) => has_dyn = true,
            _ => {}
        }
        pending.extend(node.children().iter().map(|&child| (forest_idx, child)));
    }
    if has_dyn {
        let _ = (
            weft_mast::node::dyn_digest(),
            weft_mast::node::dyncall_digest(),
        );
    }
}
