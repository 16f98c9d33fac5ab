//! Builder tests: invariants and typed errors.

use weft_core::{Felt, OpDecodeError, Operation, Rpo256, Word};

use crate::{Decorator, MastError, MastForestBuilder, MastNode, MastNodeId, NodeDecorators};

#[test]
fn builder_rejects_empty_block() {
    let mut b = MastForestBuilder::new();
    assert_eq!(b.add_block(&[]), Err(MastError::EmptyBasicBlock));
}

#[test]
fn builder_rejects_control_flow_in_block() {
    let mut b = MastForestBuilder::new();
    assert!(matches!(
        b.add_block(&[Operation::Add, Operation::Join]),
        Err(MastError::ControlFlowInBlock { op_idx: 1, .. })
    ));
}

#[test]
fn builder_rejects_bad_opcode_byte() {
    let mut b = MastForestBuilder::new();
    assert_eq!(
        b.add_block_from_opcodes(&[(34, None), (6, None)]),
        Err(MastError::InvalidOperation {
            op_idx: 1,
            source: OpDecodeError::InvalidOpCode { opcode: 6 }
        })
    );
    assert!(matches!(
        b.add_block_from_opcodes(&[(91, None)]),
        Err(MastError::InvalidOperation {
            source: OpDecodeError::MissingImmediate { .. },
            ..
        })
    ));
    let id = b
        .add_block_from_opcodes(&[(91, Some(Felt::new(3))), (34, None)])
        .expect("valid");
    assert_eq!(
        b.get(id).map(MastNode::kind),
        Some(crate::MastNodeKind::Block)
    );
}

#[test]
fn builder_rejects_dangling_children() {
    let mut other = MastForestBuilder::new();
    let a = other.add_block(&[Operation::Add]).expect("block");
    let b2 = other.add_block(&[Operation::Mul]).expect("block");
    let mut b = MastForestBuilder::new();
    let only = b.add_block(&[Operation::Add]).expect("block");
    assert_eq!(
        b.add_join(only, b2),
        Err(MastError::DanglingChild {
            child: 1,
            n_nodes: 1
        })
    );
    assert!(matches!(
        b.add_loop(b2),
        Err(MastError::DanglingChild { .. })
    ));
    assert!(matches!(
        b.add_call(b2),
        Err(MastError::DanglingChild { .. })
    ));
    assert!(matches!(
        b.add_split(b2, a),
        Err(MastError::DanglingChild { .. })
    ));
    assert!(matches!(
        b.make_root(b2),
        Err(MastError::DanglingChild { .. })
    ));
}

#[test]
fn ids_past_the_arena_are_rejected() {
    let mut b = MastForestBuilder::new();
    b.add_block(&[Operation::Add]).expect("block");
    let forest = b.build();
    assert!(MastNodeId::from_u32_checked(0, forest.num_nodes()).is_ok());
    assert_eq!(
        MastNodeId::from_u32_checked(1, forest.num_nodes()),
        Err(MastError::IdOutOfRange {
            kind: "node",
            id: 1,
            bound: 1
        })
    );
    assert!(MastNodeId::from_usize_checked(usize::MAX, 10).is_err());
}

#[test]
fn identical_nodes_are_stored_once() {
    let mut b = MastForestBuilder::new();
    let x = b.add_block(&[Operation::Add]).expect("block");
    let y = b.add_block(&[Operation::Add]).expect("block");
    assert_eq!(x, y);
    // Same digest, different error code: distinct nodes.
    let a1 = b
        .add_block(&[Operation::Assert(Felt::new(1))])
        .expect("block");
    let a2 = b
        .add_block(&[Operation::Assert(Felt::new(2))])
        .expect("block");
    assert_ne!(a1, a2);
    assert_eq!(
        b.get(a1).map(MastNode::digest),
        b.get(a2).map(MastNode::digest)
    );
    // Same ops, decorated: distinct.
    let dec = b.add_decorator(Decorator::Trace(7)).expect("decorator");
    let decorated = b
        .add_block_with_decorators(
            &[Operation::Add],
            NodeDecorators {
                ops: vec![(0, dec)],
                ..Default::default()
            },
        )
        .expect("block");
    assert_ne!(decorated, x);
    let j1 = b.add_join(x, a1).expect("join");
    let j2 = b.add_join(x, a1).expect("join");
    assert_eq!(j1, j2);
    assert_eq!(b.num_nodes(), 5);
}

#[test]
fn control_digests_use_their_domain() {
    let mut b = MastForestBuilder::new();
    let x = b.add_block(&[Operation::Add]).expect("block");
    let y = b.add_block(&[Operation::Mul]).expect("block");
    let join = b.add_join(x, y).expect("join");
    let split = b.add_split(x, y).expect("split");
    let dx = b.get(x).map(MastNode::digest).expect("x");
    let dy = b.get(y).map(MastNode::digest).expect("y");
    assert_eq!(
        b.get(join).map(MastNode::digest),
        Some(Rpo256::merge_in_domain(&[dx, dy], Felt::new(87)))
    );
    assert_eq!(
        b.get(split).map(MastNode::digest),
        Some(Rpo256::merge_in_domain(&[dx, dy], Felt::new(84)))
    );
    let lp = b.add_loop(x).expect("loop");
    assert_eq!(
        b.get(lp).map(MastNode::digest),
        Some(Rpo256::merge_in_domain(
            &[dx, Word::default()],
            Felt::new(85)
        ))
    );
    let dynamic = b.add_dyn().expect("dyn");
    let dyncall = b.add_dyncall().expect("dyncall");
    assert_ne!(
        b.get(dynamic).map(MastNode::digest),
        b.get(dyncall).map(MastNode::digest)
    );
    // A block's digest is the hash of its 8 group slots.
    let mut groups = vec![Felt::new(0); 8];
    groups[0] = Felt::new(34);
    assert_eq!(dx, Rpo256::hash_elements(&groups));
}

#[test]
fn roots_are_found_by_digest() {
    let mut b = MastForestBuilder::new();
    let x = b.add_block(&[Operation::Add]).expect("block");
    b.make_root(x).expect("root");
    b.make_root(x).expect("root twice is a no-op");
    let forest = b.build();
    assert_eq!(forest.procedure_roots(), &[x]);
    assert_eq!(forest.find_procedure_root(&forest[x].digest()), Some(x));
    assert_eq!(forest.find_procedure_root(&Word::default()), None);
}

// INVARIANTS OF EVERY CONSTRUCTOR AND TRANSFORM
// ================================================================================================

/// Checks the invariants of the forest module's documentation, each by its number.
fn check_invariants(forest: &crate::MastForest) {
    let nodes = forest.nodes();
    for (i, node) in nodes.iter().enumerate() {
        for child in node.children() {
            assert!(
                child.as_usize() < i,
                "1: child {child:?} of node {i} follows it"
            );
        }
        if let MastNode::Block(block) = node {
            assert!(
                block.num_ops().expect("batches") > 0,
                "2: node {i} is empty"
            );
            let batches = block.batches().expect("batches");
            assert_eq!(
                block.digest(),
                crate::batch::batches_digest(batches),
                "3: node {i}"
            );
        }
        for (j, earlier) in nodes[..i].iter().enumerate() {
            assert!(
                !(earlier == node
                    && forest.node_decorators(MastNodeId::new_unchecked(j as u32))
                        == forest.node_decorators(MastNodeId::new_unchecked(i as u32))),
                "4: node {i} duplicates node {j}"
            );
        }
    }
    let roots = forest.procedure_roots();
    for (k, &root) in roots.iter().enumerate() {
        assert!(forest.get(root).is_some(), "5: root {root:?} is not a node");
        assert!(!roots[..k].contains(&root), "5: root {root:?} listed twice");
        let first = roots
            .iter()
            .copied()
            .find(|&r| forest[r].digest() == forest[root].digest());
        assert_eq!(
            forest.find_procedure_root(&forest[root].digest()),
            first,
            "5"
        );
    }
    for id in forest.node_ids() {
        if let Some(d) = forest.node_decorators(id) {
            for dec in d
                .before_enter
                .iter()
                .chain(&d.after_exit)
                .chain(d.ops.iter().map(|(_, d)| d))
            {
                assert!(forest.decorator(*dec).is_some(), "6: dangling decorator");
            }
        }
    }
}

/// Two blocks equal but for their decorators, both roots and both children of a join, and a
/// second join that differs from the first only in which of the two it takes first.
fn twins_differing_in_decorators() -> crate::MastForest {
    let mut b = MastForestBuilder::new();
    let dec = b.add_decorator(Decorator::Trace(1)).expect("decorator");
    let plain = b
        .add_block(&[Operation::Add, Operation::Mul])
        .expect("block");
    let decorated = b
        .add_block_with_decorators(
            &[Operation::Add, Operation::Mul],
            NodeDecorators {
                ops: vec![(1, dec)],
                ..NodeDecorators::default()
            },
        )
        .expect("block");
    assert_ne!(plain, decorated);
    let j1 = b.add_join(plain, decorated).expect("join");
    let j2 = b.add_join(decorated, plain).expect("join");
    let lp = b.add_loop(j2).expect("loop");
    for root in [plain, decorated, j1, lp, j2] {
        b.make_root(root).expect("root");
    }
    b.advice_map_mut()
        .insert(Word::default(), vec![Felt::new(3)]);
    b.add_error_message(9, "nine");
    let forest = b.build();
    check_invariants(&forest);
    forest
}

#[test]
fn stripping_merges_nodes_that_differed_only_in_decorators() {
    let forest = twins_differing_in_decorators();
    assert_eq!(forest.num_nodes(), 5);
    let stripped = forest.clone().strip_decorators().expect("strips");
    check_invariants(&stripped);
    assert!(stripped.decorators().is_empty());
    // The twins are one block; the two joins, now identical, are one join; the loop remains.
    assert_eq!(stripped.num_nodes(), 3);
    let block = MastNodeId::new_unchecked(0);
    let join = MastNodeId::new_unchecked(1);
    assert_eq!(stripped[join].children(), &[block, block]);
    assert_eq!(stripped[MastNodeId::new_unchecked(2)].children(), &[join]);
    // Five roots became three distinct nodes, listed once each, in first-seen order.
    assert_eq!(
        stripped.procedure_roots(),
        &[block, join, MastNodeId::new_unchecked(2)]
    );
    for &root in forest.procedure_roots() {
        let digest = forest[root].digest();
        assert!(stripped.find_procedure_root(&digest).is_some());
    }
    assert_eq!(stripped.advice_map(), forest.advice_map());
    assert_eq!(stripped.error_messages(), forest.error_messages());
    assert_eq!(crate::format::strip(&forest), Ok(stripped.clone()));

    let (with_entry, map) =
        crate::format::strip_with_entry(&forest, Some(MastNodeId::new_unchecked(4)))
            .expect("strips");
    check_invariants(&with_entry);
    assert_eq!(with_entry.num_nodes(), 3);
    assert_eq!(with_entry.procedure_roots()[0], map[4]);
    assert_eq!(with_entry.procedure_roots().len(), 3);
    assert_eq!(map, [0, 0, 1, 1, 2].map(MastNodeId::new_unchecked));
}

#[test]
fn stripping_with_an_entry_past_the_forest_is_an_error() {
    let forest = twins_differing_in_decorators();
    assert!(matches!(
        crate::format::strip_with_entry(&forest, Some(MastNodeId::new_unchecked(5))),
        Err(MastError::DanglingChild { child: 5, .. })
    ));
}

#[test]
fn decorating_a_node_into_a_duplicate_is_rejected() {
    let mut b = MastForestBuilder::new();
    let dec = b.add_decorator(Decorator::Trace(1)).expect("decorator");
    let plain = b.add_block(&[Operation::Add]).expect("block");
    let decorated = b
        .add_block_with_decorators(
            &[Operation::Add],
            NodeDecorators {
                before_enter: vec![dec],
                ..NodeDecorators::default()
            },
        )
        .expect("block");
    assert_eq!(
        b.decorate(plain, &[dec], &[]),
        Err(MastError::DecoratedDuplicate {
            node: plain.as_u32(),
            existing: decorated.as_u32()
        })
    );
    // A decoration that keeps the nodes apart is fine, and decorating with nothing is a no-op.
    b.decorate(plain, &[], &[dec])
        .expect("distinct decorations");
    b.decorate(decorated, &[], &[]).expect("no-op");
    let forest = b.build();
    check_invariants(&forest);
    assert_eq!(forest.num_nodes(), 2);
}

#[test]
fn the_builder_and_into_builder_keep_the_invariants() {
    let forest = twins_differing_in_decorators();
    let mut b = forest.clone().into_builder();
    let again = b
        .add_block(&[Operation::Add, Operation::Mul])
        .expect("block");
    assert_eq!(again, MastNodeId::new_unchecked(0));
    let mul = b.add_block(&[Operation::Mul]).expect("block");
    let call = b.add_call(mul).expect("call");
    b.make_root(call).expect("root");
    let extended = b.build();
    check_invariants(&extended);
    assert_eq!(extended.num_nodes(), forest.num_nodes() + 2);
}
