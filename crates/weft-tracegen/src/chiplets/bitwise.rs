//! Bitwise chiplet rows: eight per `U32AND`/`U32XOR`, four bits of each operand per row from
//! the most significant end.

use weft_core::{
    Felt, ONE, ZERO,
    main_trace::{CHIPLETS_OFFSET, CHIPLETS_WIDTH, chiplets::bitwise},
};
use weft_replay::{BitwiseKind, BitwiseOp};

use crate::columns::CellWriter;

const fn col(c: usize) -> usize {
    CHIPLETS_OFFSET + c
}

/// Writes the eight rows of `op` from `row`.
pub(super) fn fill(out: &mut CellWriter<'_>, row: usize, op: &BitwiseOp) {
    let (a_all, b_all) = (u64::from(op.a), u64::from(op.b));
    let selector = match op.kind {
        BitwiseKind::And => bitwise::AND,
        BitwiseKind::Xor => bitwise::XOR,
    };
    let mut result = 0u64;
    for i in 0..bitwise::CYCLE_LEN {
        let r = row + i;
        let shift = 28 - 4 * i;
        let (a, b) = (a_all >> shift, b_all >> shift);
        out.set(r, col(0), ONE);
        out.set(r, col(1), ZERO);
        out.set(r, col(2), selector);
        out.set(r, col(3), Felt::new(a));
        out.set(r, col(4), Felt::new(b));
        for k in 0..4 {
            out.set(r, col(5 + k), Felt::new((a >> k) & 1));
            out.set(r, col(9 + k), Felt::new((b >> k) & 1));
        }
        out.set(r, col(13), Felt::new(result));
        let nibble = match op.kind {
            BitwiseKind::And => (a & b) & 0xF,
            BitwiseKind::Xor => (a ^ b) & 0xF,
        };
        result = (result << 4) | nibble;
        out.set(r, col(14), Felt::new(result));
        for c in 15..CHIPLETS_WIDTH {
            out.set(r, col(c), ZERO);
        }
    }
}
