//! The layout of one trace row: the system and stack columns of a [`Vm`] state, the decoder
//! columns of the operation executed at that cycle, and the first `HALT` row.

use weft_core::{
    Felt, ONE, OpCode, ZERO,
    trace::{CORE_TRACE_WIDTH, DECODER_TRACE_OFFSET, STACK_TRACE_OFFSET, decoder},
};
use weft_host::Host;

use crate::{
    state::TOP,
    vm::{Helpers, Vm},
};

/// One full trace row.
pub(crate) type Row = [Felt; CORE_TRACE_WIDTH];

/// The decoder columns of one row, before helpers.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DecoderRow {
    pub(crate) addr: Felt,
    pub(crate) op: OpCode,
    pub(crate) hasher: [Felt; 8],
    pub(crate) in_span: bool,
    pub(crate) group_count: Felt,
    pub(crate) op_idx: Felt,
    pub(crate) batch_flags: [Felt; 3],
}

impl DecoderRow {
    /// The decoder columns of a control-flow row (outside any basic block's operations).
    pub(crate) fn control(addr: Felt, op: OpCode, hasher: [Felt; 8]) -> Self {
        Self {
            addr,
            op,
            hasher,
            in_span: false,
            group_count: ZERO,
            op_idx: ZERO,
            batch_flags: [ZERO; 3],
        }
    }
}

/// Two words side by side, as the eight hasher columns show them.
pub(crate) fn words(a: weft_core::Word, b: weft_core::Word) -> [Felt; 8] {
    [a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3]]
}

/// A boolean as a field element.
pub(crate) fn flag(b: bool) -> Felt {
    if b { ONE } else { ZERO }
}

/// The batch flag columns of a `SPAN`/`RESPAN` row whose batch starts with `groups_left`
/// groups still to run.
pub(crate) fn batch_flags(groups_left: u64) -> [Felt; 3] {
    use decoder::*;
    match groups_left.min(8) {
        8 => OP_BATCH_8_GROUPS,
        4 => OP_BATCH_4_GROUPS,
        2 => OP_BATCH_2_GROUPS,
        _ => OP_BATCH_1_GROUPS,
    }
}

/// The system and stack columns of the current state (decoder columns zero).
pub(crate) fn state_columns<H: Host>(vm: &Vm<'_, H>) -> Row {
    let mut row = [ZERO; CORE_TRACE_WIDTH];
    row[0] = Felt::new(u64::from(vm.clk));
    row[1] = Felt::new(u64::from(vm.ctx));
    row[2..6].copy_from_slice(vm.fn_hash.as_elements());
    row[STACK_TRACE_OFFSET..STACK_TRACE_OFFSET + TOP].copy_from_slice(&vm.stack.top);
    let depth = vm.stack.depth() as u64;
    row[STACK_TRACE_OFFSET + TOP] = Felt::new(depth);
    row[STACK_TRACE_OFFSET + TOP + 1] = vm.stack.overflow_addr();
    row[STACK_TRACE_OFFSET + TOP + 2] = if depth == TOP as u64 {
        ZERO
    } else {
        weft_core::FieldElement::inv(Felt::new(depth - TOP as u64))
    };
    row
}

/// Writes the decoder columns of `dec` into `row`; inside a basic block the operation's
/// `helpers` fill hasher columns 2..8.
pub(crate) fn write_decoder(row: &mut Row, dec: DecoderRow, helpers: Helpers) {
    let d = DECODER_TRACE_OFFSET;
    row[d + decoder::ADDR_COL_IDX] = dec.addr;
    write_op_bits(row, dec.op);
    let mut hasher = dec.hasher;
    if dec.in_span {
        hasher[2..8].copy_from_slice(&helpers);
    }
    row[d + decoder::HASHER_STATE_OFFSET..d + decoder::HASHER_STATE_OFFSET + 8]
        .copy_from_slice(&hasher);
    row[d + decoder::IN_SPAN_COL_IDX] = flag(dec.in_span);
    row[d + decoder::GROUP_COUNT_COL_IDX] = dec.group_count;
    row[d + decoder::OP_INDEX_COL_IDX] = dec.op_idx;
    row[d + decoder::OP_BATCH_FLAGS_OFFSET..d + decoder::OP_BATCH_FLAGS_OFFSET + 3]
        .copy_from_slice(&dec.batch_flags);
}

/// Writes the seven opcode bits of `op` and the two degree-reduction columns derived from them.
fn write_op_bits(row: &mut Row, op: OpCode) {
    let d = DECODER_TRACE_OFFSET;
    let code = op.as_u8();
    for i in 0..7 {
        row[d + decoder::OP_BITS_OFFSET + i] = Felt::new(u64::from((code >> i) & 1));
    }
    let (b6, b5, b4) = ((code >> 6) & 1, (code >> 5) & 1, (code >> 4) & 1);
    row[d + decoder::OP_BITS_EXTRA_COLS_OFFSET] = flag(b6 == 1 && b5 == 0 && b4 == 1);
    row[d + decoder::OP_BITS_EXTRA_COLS_OFFSET + 1] = flag(b6 == 1 && b5 == 1);
}

/// The first `HALT` row: the final state, the `HALT` opcode, and the first four hasher columns
/// (the entry node's digest) copied from `last`, the `END` row before it.
pub(crate) fn halt_row<H: Host>(vm: &Vm<'_, H>, last: &[Felt]) -> Row {
    let mut halt = state_columns(vm);
    let off = DECODER_TRACE_OFFSET + decoder::HASHER_STATE_OFFSET;
    halt[off..off + 4].copy_from_slice(&last[off..off + 4]);
    write_op_bits(&mut halt, OpCode::Halt);
    halt
}
