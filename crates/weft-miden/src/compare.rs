//! Node-by-node comparison of a converted forest with its upstream original: digests and, for
//! basic blocks, the exact batching (groups, group counts, executed operations, padding).

use miden_core::mast as up;
use weft_mast::{MastForest, MastNode};

use weft_upstream::{ConvertedForest, convert_operation};

/// The first difference found between an upstream forest and its conversion.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("upstream node {node}: {what} differs (upstream {upstream}, weft {weft})")]
pub struct ForestMismatch {
    /// The upstream node index.
    pub node: usize,
    /// What differs.
    pub what: String,
    /// Upstream's value, rendered.
    pub upstream: String,
    /// weft's value, rendered.
    pub weft: String,
}

fn mismatch(
    node: usize,
    what: impl Into<String>,
    upstream: impl core::fmt::Debug,
    weft: impl core::fmt::Debug,
) -> ForestMismatch {
    ForestMismatch {
        node,
        what: what.into(),
        upstream: format!("{upstream:?}"),
        weft: format!("{weft:?}"),
    }
}

/// Compares every node of `upstream` with its image in `converted`.
///
/// Returns the number of nodes compared.
///
/// # Errors
/// Returns the first difference.
pub fn compare_forests(
    upstream: &up::MastForest,
    converted: &ConvertedForest,
) -> Result<usize, ForestMismatch> {
    compare_with(upstream, &converted.forest, &converted.node_map)
}

/// Compares every node of `upstream` with node `node_map[i]` of `weft`.
///
/// # Errors
/// Returns the first difference.
pub fn compare_with(
    upstream: &up::MastForest,
    weft: &MastForest,
    node_map: &[weft_mast::MastNodeId],
) -> Result<usize, ForestMismatch> {
    use up::MastNodeExt;
    for (idx, up_node) in upstream.nodes().iter().enumerate() {
        let Some(node) = node_map.get(idx).and_then(|&id| weft.get(id)) else {
            return Err(mismatch(idx, "presence", "node", "missing"));
        };
        if up_node.digest() != node.digest() {
            return Err(mismatch(idx, "digest", up_node.digest(), node.digest()));
        }
        match (up_node, node) {
            (up::MastNode::Block(ub), MastNode::Block(wb)) => {
                let ubs = ub.op_batches();
                let wbs = wb
                    .batches()
                    .map_err(|e| mismatch(idx, "batches", "batched", e))?;
                let w_groups: usize = wbs.iter().map(|b| b.num_groups()).sum();
                let w_ops: usize = wbs.iter().map(|b| b.ops().len()).sum();
                if ubs.len() != wbs.len() {
                    return Err(mismatch(idx, "batch count", ubs.len(), wbs.len()));
                }
                if ub.num_op_groups() != w_groups {
                    return Err(mismatch(
                        idx,
                        "op group count",
                        ub.num_op_groups(),
                        w_groups,
                    ));
                }
                for (b, (ubatch, wbatch)) in ubs.iter().zip(wbs).enumerate() {
                    if ubatch.groups() != wbatch.groups() {
                        return Err(mismatch(
                            idx,
                            format!("batch {b} groups"),
                            ubatch.groups(),
                            wbatch.groups(),
                        ));
                    }
                    if ubatch.num_groups() != wbatch.num_groups() {
                        return Err(mismatch(
                            idx,
                            format!("batch {b} num_groups"),
                            ubatch.num_groups(),
                            wbatch.num_groups(),
                        ));
                    }
                    let u_ops: Vec<u8> = ubatch.ops().iter().map(|op| op.op_code()).collect();
                    let w_ops: Vec<u8> = wbatch.ops().iter().map(|op| op.op_code_u8()).collect();
                    if u_ops != w_ops {
                        return Err(mismatch(idx, format!("batch {b} ops"), u_ops, w_ops));
                    }
                    let u_ind: Vec<usize> = ubatch.indptr()[..=ubatch.num_groups()].to_vec();
                    let w_ind: Vec<usize> = wbatch.indptr()[..=wbatch.num_groups()]
                        .iter()
                        .map(|&v| usize::from(v))
                        .collect();
                    if u_ind != w_ind {
                        return Err(mismatch(idx, format!("batch {b} indptr"), u_ind, w_ind));
                    }
                    if ubatch.padding()[..ubatch.num_groups()]
                        != wbatch.padding()[..wbatch.num_groups()]
                    {
                        return Err(mismatch(
                            idx,
                            format!("batch {b} padding"),
                            ubatch.padding(),
                            wbatch.padding(),
                        ));
                    }
                }
                if ub.operations().count() != w_ops {
                    return Err(mismatch(
                        idx,
                        "executed op count",
                        ub.operations().count(),
                        w_ops,
                    ));
                }
                for (i, (uop, wop)) in ub
                    .operations()
                    .zip(wbs.iter().flat_map(|b| b.ops()))
                    .enumerate()
                {
                    let converted = convert_operation(uop)
                        .map_err(|e| mismatch(idx, format!("op {i}"), uop, e.to_string()))?;
                    if converted != *wop {
                        return Err(mismatch(idx, format!("op {i}"), uop, wop));
                    }
                }
            }
            (up::MastNode::Block(_), other) => {
                return Err(mismatch(idx, "kind", "block", other.kind()));
            }
            _ => {
                let mut up_children = Vec::new();
                up_node.append_children_to(&mut up_children);
                let mapped: Vec<_> = up_children
                    .iter()
                    .map(|c| node_map[u32::from(*c) as usize])
                    .collect();
                if mapped != node.children() {
                    return Err(mismatch(idx, "children", mapped, node.children()));
                }
                let has_domain = !matches!(up_node, up::MastNode::External(_));
                if has_domain && up_node.domain() != node.domain() {
                    return Err(mismatch(idx, "domain", up_node.domain(), node.domain()));
                }
            }
        }
    }
    Ok(upstream.nodes().len())
}
