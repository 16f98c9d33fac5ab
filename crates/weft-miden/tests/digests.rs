//! Digest and batching conformance: every node of every assembled program, and of the whole core
//! library, converted to weft must have upstream's digest and upstream's batching.

mod common;

use weft_core::Operation;
use weft_mast::{MastForestBuilder, MastNode};
use weft_miden::compare::compare_forests;
use weft_upstream::{
    assemble_upstream_with_kernel, convert_forest, convert_program, upstream_core_lib_forest,
};

#[test]
fn every_program_node_matches_upstream() {
    let programs = common::all_programs();
    assert!(
        programs.len() >= 35,
        "expected the workloads plus at least 30 own programs"
    );
    let mut n_nodes = 0;
    for program in &programs {
        let upstream = assemble_upstream_with_kernel(&program.source, program.kernel.as_deref())
            .unwrap_or_else(|e| panic!("{}: {e}", program.name));
        let converted = convert_forest(upstream.mast_forest())
            .unwrap_or_else(|e| panic!("{}: {e}", program.name));
        n_nodes += compare_forests(upstream.mast_forest(), &converted)
            .unwrap_or_else(|e| panic!("{}: {e}", program.name));
        let weft_program = convert_program(&upstream).expect("program converts");
        assert_eq!(
            weft_program.hash(),
            upstream.hash(),
            "{}: program hash",
            program.name
        );
        assert_eq!(
            weft_program.kernel().proc_hashes(),
            upstream.kernel().proc_hashes(),
            "{}: kernel",
            program.name
        );
    }
    println!(
        "compared {n_nodes} nodes of {} programs: 0 mismatches",
        programs.len()
    );
}

#[test]
fn every_core_library_node_matches_upstream() {
    let forest = upstream_core_lib_forest();
    let converted = convert_forest(&forest).expect("core library converts");
    let n_nodes = compare_forests(&forest, &converted).expect("core library matches");
    assert_eq!(n_nodes, forest.nodes().len());
    assert!(
        n_nodes > 500,
        "the core library has hundreds of nodes, got {n_nodes}"
    );
    for root in forest.procedure_roots() {
        let digest = miden_core::mast::MastNodeExt::digest(&forest[*root]);
        assert!(
            converted.forest.find_procedure_root(&digest).is_some(),
            "root {digest} missing"
        );
    }
    println!("compared {n_nodes} core library nodes: 0 mismatches");
}

/// The comparison must be able to fail: a converted forest whose one block has an altered
/// operation is reported, at that node, as a digest mismatch.
#[test]
fn an_altered_operation_is_detected() {
    let program = common::own_programs()
        .into_iter()
        .find(|p| p.name == "own/long_block")
        .expect("program");
    let upstream = assemble_upstream_with_kernel(&program.source, None).expect("assembles");
    let converted = convert_forest(upstream.mast_forest()).expect("converts");
    assert!(compare_forests(upstream.mast_forest(), &converted).is_ok());

    // Rebuild the forest with one operation of the biggest block changed.
    let (block_idx, _) = upstream
        .mast_forest()
        .nodes()
        .iter()
        .enumerate()
        .filter_map(|(i, n)| match n {
            miden_core::mast::MastNode::Block(b) => Some((i, b.num_operations())),
            _ => None,
        })
        .max_by_key(|(_, n)| *n)
        .expect("a block");
    let target = converted.node_map[block_idx];
    let mut builder = MastForestBuilder::new();
    let mut node_map = Vec::new();
    for node in converted.forest.nodes() {
        let id = match node {
            MastNode::Block(b) => {
                let mut ops: Vec<Operation> = b.raw_ops().expect("batches").copied().collect();
                if node_map.len() == target.as_usize() {
                    let pos = ops
                        .iter()
                        .position(|op| op.imm_value().is_none())
                        .expect("an op");
                    ops[pos] = if ops[pos] == Operation::Neg {
                        Operation::Incr
                    } else {
                        Operation::Neg
                    };
                }
                builder.add_block(&ops).expect("block")
            }
            MastNode::Join(j) => builder
                .add_join(
                    node_map[j.first().as_usize()],
                    node_map[j.second().as_usize()],
                )
                .expect("join"),
            other => panic!("unexpected node kind {:?} in this program", other.kind()),
        };
        node_map.push(id);
    }
    let altered = builder.build();
    let remapped: Vec<_> = converted
        .node_map
        .iter()
        .map(|id| node_map[id.as_usize()])
        .collect();
    let err = weft_miden::compare::compare_with(upstream.mast_forest(), &altered, &remapped)
        .expect_err("the altered operation must be detected");
    assert_eq!(
        err.node, block_idx,
        "the first mismatch is the altered block itself"
    );
    assert_eq!(err.what, "digest");
}
