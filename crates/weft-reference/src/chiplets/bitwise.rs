//! The bitwise chiplet's rows: eight per `U32AND` / `U32XOR`, processing the operands four bits
//! at a time from the most significant end.

use weft_core::{
    Felt, ZERO,
    main_trace::chiplets::bitwise::{AND, CYCLE_LEN, WIDTH, XOR},
};

use crate::log::BitwiseOp;

/// One bitwise row: `s a b a0..a3 b0..b3 zp z`.
pub(crate) type BitwiseRow = [Felt; WIDTH];

/// The rows of every operation `(op, a, b)`, `a` being the operand below the top of the stack.
/// Row `i` of an operation holds the prefixes `a >> (28 - 4i)` and `b >> (28 - 4i)`, the four
/// low bits of each (least significant first), the result so far before (`zp`) and after (`z`)
/// this row's four bits.
pub(crate) fn rows(ops: &[(BitwiseOp, u64, u64)]) -> Vec<BitwiseRow> {
    let mut rows = Vec::with_capacity(CYCLE_LEN * ops.len());
    for &(op, a, b) in ops {
        let selector = match op {
            BitwiseOp::And => AND,
            BitwiseOp::Xor => XOR,
        };
        let mut result = 0u64;
        for i in 0..CYCLE_LEN {
            let shift = 28 - 4 * i;
            let (a, b) = (a >> shift, b >> shift);
            let bits = match op {
                BitwiseOp::And => a & b,
                BitwiseOp::Xor => a ^ b,
            } & 0xF;
            let mut row = [ZERO; WIDTH];
            row[0] = selector;
            row[1] = Felt::new(a);
            row[2] = Felt::new(b);
            for bit in 0..4 {
                row[3 + bit] = Felt::new((a >> bit) & 1);
                row[7 + bit] = Felt::new((b >> bit) & 1);
            }
            row[11] = Felt::new(result);
            result = (result << 4) | bits;
            row[12] = Felt::new(result);
            rows.push(row);
        }
    }
    rows
}
