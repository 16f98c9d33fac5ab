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
