//! Batching tests: the packing rules on small blocks, and the byte-driven batcher against the
//! operation-driven one.

use weft_core::ONE;

use super::*;
use weft_core::{Felt, OpCode, Operation};

fn push(v: u64) -> Operation {
    Operation::Push(Felt::new(v))
}

#[test]
fn single_op_is_one_group_one_batch() {
    let batches = batch_ops(&[Operation::Add]);
    assert_eq!(batches.len(), 1);
    assert_eq!(batches[0].num_groups(), 1);
    assert_eq!(batches[0].ops(), &[Operation::Add]);
    assert_eq!(batches[0].groups()[0], Felt::new(34));
}

#[test]
fn push_takes_next_slot_and_rounds_groups_to_pow2() {
    let batches = batch_ops(&[push(5), Operation::Add]);
    let b = &batches[0];
    assert_eq!(b.num_groups(), 2);
    assert_eq!(b.groups()[1], Felt::new(5));
    assert_eq!(b.groups()[0], Felt::new(91 | (34 << 7)));
    assert_eq!(b.ops(), &[push(5), Operation::Add]);

    // Two pushes: slots 1 and 2 hold immediates, rounded to 4 with one padding group.
    let batches = batch_ops(&[push(1), push(2)]);
    let b = &batches[0];
    assert_eq!(b.num_groups(), 4);
    assert_eq!(
        b.ops(),
        &[push(1), push(2), Operation::Noop, Operation::Noop]
    );
    assert_eq!(
        b.padding(),
        &[true, false, false, true, false, false, false, false]
    );
    assert_eq!(
        b.raw_ops().copied().collect::<Vec<_>>(),
        vec![push(1), push(2)]
    );
    assert_eq!(b.indptr()[..5], [0, 3, 3, 3, 4]);
}

#[test]
fn ninth_op_push_moves_to_next_group() {
    let mut ops = vec![Operation::Add; 8];
    ops.push(push(9));
    let b = &batch_ops(&ops)[0];
    // Group 0: 8 adds (closed early, no pad); group 1: push + NOOP pad; slot 2: the
    // immediate; slot 3: a padding group.
    assert_eq!(b.num_groups(), 4);
    assert_eq!(b.ops().len(), 8 + 2 + 1);
    assert_eq!(b.indptr()[..5], [0, 8, 10, 10, 11]);
    assert_eq!(b.groups()[2], Felt::new(9));
}

/// The byte-driven batcher used by the readers agrees with the operation-driven one on
/// blocks dense with `PUSH`es and assertions (every slot-filling corner case).
#[test]
fn batch_encoded_matches_batch_ops() {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..3000 {
        let n = (next() % 200) as usize + 1;
        let ops: Vec<Operation> = (0..n)
            .map(|_| match next() % 6 {
                0 | 1 => push(next() % 1000),
                2 => Operation::Assert(Felt::new(next() % 7)),
                3 => Operation::Noop,
                4 => Operation::Swap,
                _ => Operation::Add,
            })
            .collect();
        let codes: Vec<u8> = ops.iter().map(Operation::op_code_u8).collect();
        let imms: Vec<u64> = ops
            .iter()
            .filter_map(Operation::immediate)
            .map(|f| f.as_int())
            .collect();
        let mut pos = 0;
        let encoded = batch_encoded(&codes, &imms, &mut pos).expect("valid block");
        assert_eq!(encoded, batch_ops(&ops), "{ops:?}");
        assert_eq!(pos, imms.len());
    }
    let mut pos = 0;
    assert_eq!(batch_encoded(&[], &[], &mut pos), None);
    assert_eq!(batch_encoded(&[0xff], &[], &mut pos), None);
    assert_eq!(batch_encoded(&[OpCode::Push.as_u8()], &[], &mut pos), None);
    assert_eq!(batch_encoded(&[OpCode::Join.as_u8()], &[], &mut pos), None);
}

#[test]
fn long_blocks_split_into_full_batches() {
    let ops = vec![Operation::Noop; 2018];
    let batches = batch_ops(&ops);
    assert_eq!(batches.len(), 29);
    assert!(
        batches[..28]
            .iter()
            .all(|b| b.num_groups() == 8 && b.ops().len() == 72)
    );
    let _ = ONE;
}
