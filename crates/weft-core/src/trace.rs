//! Column layout of the core execution trace: system (6), decoder (24) and stack (19) columns, in
//! upstream's order and with upstream's names.

use core::ops::Range;

use crate::{Felt, ONE, ZERO};

const fn range(start: usize, len: usize) -> Range<usize> {
    start..start + len
}

/// The shortest trace upstream produces.
pub const MIN_TRACE_LEN: usize = 64;
/// The minimum depth of the operand stack (the visible top).
pub const MIN_STACK_DEPTH: usize = 16;

// SYSTEM
// ================================================================================================

/// First column of the system section.
pub const SYS_TRACE_OFFSET: usize = 0;
/// Number of system columns.
pub const SYS_TRACE_WIDTH: usize = 6;
/// Columns of the system section.
pub const SYS_TRACE_RANGE: Range<usize> = range(SYS_TRACE_OFFSET, SYS_TRACE_WIDTH);
/// The clock cycle column.
pub const CLK_COL_IDX: usize = SYS_TRACE_OFFSET;
/// The execution context column.
pub const CTX_COL_IDX: usize = SYS_TRACE_OFFSET + 1;
/// First of the four caller function hash columns.
pub const FN_HASH_OFFSET: usize = SYS_TRACE_OFFSET + 2;
/// The four caller function hash columns.
pub const FN_HASH_RANGE: Range<usize> = range(FN_HASH_OFFSET, 4);

// DECODER
// ================================================================================================

/// First column of the decoder section.
pub const DECODER_TRACE_OFFSET: usize = SYS_TRACE_RANGE.end;
/// Number of decoder columns.
pub const DECODER_TRACE_WIDTH: usize = 24;
/// Columns of the decoder section.
pub const DECODER_TRACE_RANGE: Range<usize> = range(DECODER_TRACE_OFFSET, DECODER_TRACE_WIDTH);

/// Column indices inside the decoder section (add [`DECODER_TRACE_OFFSET`] for the trace index).
pub mod decoder {
    use super::*;

    /// The block address column.
    pub const ADDR_COL_IDX: usize = 0;
    /// First of the seven op-bit columns (least significant bit first).
    pub const OP_BITS_OFFSET: usize = ADDR_COL_IDX + 1;
    /// Number of op-bit columns.
    pub const NUM_OP_BITS: usize = crate::operations::OP_BITS;
    /// The op-bit columns.
    pub const OP_BITS_RANGE: Range<usize> = range(OP_BITS_OFFSET, NUM_OP_BITS);
    /// First of the eight hasher-state columns `h0..h7`.
    pub const HASHER_STATE_OFFSET: usize = OP_BITS_RANGE.end;
    /// Number of hasher-state columns.
    pub const NUM_HASHER_COLUMNS: usize = 8;
    /// The hasher-state columns.
    pub const HASHER_STATE_RANGE: Range<usize> = range(HASHER_STATE_OFFSET, NUM_HASHER_COLUMNS);
    /// Number of user-operation helper registers (`h2..h7`).
    pub const NUM_USER_OP_HELPERS: usize = 6;
    /// First user-operation helper column (`h2`).
    pub const USER_OP_HELPERS_OFFSET: usize = HASHER_STATE_OFFSET + 2;
    /// The in-span flag column.
    pub const IN_SPAN_COL_IDX: usize = HASHER_STATE_RANGE.end;
    /// The group count column.
    pub const GROUP_COUNT_COL_IDX: usize = IN_SPAN_COL_IDX + 1;
    /// The op index column.
    pub const OP_INDEX_COL_IDX: usize = GROUP_COUNT_COL_IDX + 1;
    /// First of the three op-batch flag columns.
    pub const OP_BATCH_FLAGS_OFFSET: usize = OP_INDEX_COL_IDX + 1;
    /// Number of op-batch flag columns.
    pub const NUM_OP_BATCH_FLAGS: usize = 3;
    /// The op-batch flag columns.
    pub const OP_BATCH_FLAGS_RANGE: Range<usize> = range(OP_BATCH_FLAGS_OFFSET, NUM_OP_BATCH_FLAGS);
    /// Batch flags of a batch with 8 groups.
    pub const OP_BATCH_8_GROUPS: [Felt; NUM_OP_BATCH_FLAGS] = [ONE, ZERO, ZERO];
    /// Batch flags of a batch with 4 groups.
    pub const OP_BATCH_4_GROUPS: [Felt; NUM_OP_BATCH_FLAGS] = [ZERO, ONE, ZERO];
    /// Batch flags of a batch with 2 groups.
    pub const OP_BATCH_2_GROUPS: [Felt; NUM_OP_BATCH_FLAGS] = [ZERO, ZERO, ONE];
    /// Batch flags of a batch with 1 group.
    pub const OP_BATCH_1_GROUPS: [Felt; NUM_OP_BATCH_FLAGS] = [ZERO, ONE, ONE];
    /// First of the two op-bit extra columns (degree-reduction flags `e0`, `e1`).
    pub const OP_BITS_EXTRA_COLS_OFFSET: usize = OP_BATCH_FLAGS_RANGE.end;
    /// Number of op-bit extra columns.
    pub const NUM_OP_BITS_EXTRA_COLS: usize = 2;
    /// The op-bit extra columns.
    pub const OP_BITS_EXTRA_COLS_RANGE: Range<usize> =
        range(OP_BITS_EXTRA_COLS_OFFSET, NUM_OP_BITS_EXTRA_COLS);
    /// `h4` on an END row: the ended node was a loop body.
    pub const IS_LOOP_BODY_FLAG_COL_IDX: usize = HASHER_STATE_RANGE.start + 4;
    /// `h5` on an END row: the ended node was an entered loop.
    pub const IS_LOOP_FLAG_COL_IDX: usize = HASHER_STATE_RANGE.start + 5;
    /// `h6` on an END row: the ended node was a CALL or DYNCALL.
    pub const IS_CALL_FLAG_COL_IDX: usize = HASHER_STATE_RANGE.start + 6;
    /// `h7` on an END row: the ended node was a SYSCALL.
    pub const IS_SYSCALL_FLAG_COL_IDX: usize = HASHER_STATE_RANGE.start + 7;
}

// STACK
// ================================================================================================

/// First column of the stack section.
pub const STACK_TRACE_OFFSET: usize = DECODER_TRACE_RANGE.end;
/// Number of stack columns.
pub const STACK_TRACE_WIDTH: usize = 19;
/// Columns of the stack section.
pub const STACK_TRACE_RANGE: Range<usize> = range(STACK_TRACE_OFFSET, STACK_TRACE_WIDTH);

/// Column indices inside the stack section (add [`STACK_TRACE_OFFSET`] for the trace index).
pub mod stack {
    use super::*;

    /// First of the sixteen visible stack-top columns (`s0` is the top).
    pub const STACK_TOP_OFFSET: usize = 0;
    /// The sixteen stack-top columns.
    pub const STACK_TOP_RANGE: Range<usize> = range(STACK_TOP_OFFSET, MIN_STACK_DEPTH);
    /// The stack depth column `b0`.
    pub const B0_COL_IDX: usize = STACK_TOP_RANGE.end;
    /// The overflow address column `b1`.
    pub const B1_COL_IDX: usize = B0_COL_IDX + 1;
    /// The helper column `h0` = 1 / (b0 - 16), or 0.
    pub const H0_COL_IDX: usize = B1_COL_IDX + 1;
}

/// Number of columns in the core trace (system, decoder and stack).
pub const CORE_TRACE_WIDTH: usize = STACK_TRACE_RANGE.end;

/// Returns the name of a core-trace column, as used in diffs and CSV headers.
///
/// Returns `None` for an index past [`CORE_TRACE_WIDTH`].
pub fn column_name(col_idx: usize) -> Option<&'static str> {
    CORE_COLUMN_NAMES.get(col_idx).copied()
}

/// Names of the 49 core-trace columns, in order.
pub const CORE_COLUMN_NAMES: [&str; CORE_TRACE_WIDTH] = [
    "clk",
    "ctx",
    "fn_hash[0]",
    "fn_hash[1]",
    "fn_hash[2]",
    "fn_hash[3]",
    "decoder.addr",
    "decoder.b0",
    "decoder.b1",
    "decoder.b2",
    "decoder.b3",
    "decoder.b4",
    "decoder.b5",
    "decoder.b6",
    "decoder.h0",
    "decoder.h1",
    "decoder.h2",
    "decoder.h3",
    "decoder.h4",
    "decoder.h5",
    "decoder.h6",
    "decoder.h7",
    "decoder.in_span",
    "decoder.group_count",
    "decoder.op_idx",
    "decoder.c0",
    "decoder.c1",
    "decoder.c2",
    "decoder.e0",
    "decoder.e1",
    "stack.s0",
    "stack.s1",
    "stack.s2",
    "stack.s3",
    "stack.s4",
    "stack.s5",
    "stack.s6",
    "stack.s7",
    "stack.s8",
    "stack.s9",
    "stack.s10",
    "stack.s11",
    "stack.s12",
    "stack.s13",
    "stack.s14",
    "stack.s15",
    "stack.b0",
    "stack.b1",
    "stack.h0",
];

// CORE TRACE
// ================================================================================================

/// The length of a trace of `n_cycles` executed rows: one `HALT` row after them, then `HALT`
/// padding up to a power of two, and never fewer than [`MIN_TRACE_LEN`] rows.
pub fn padded_len(n_cycles: usize) -> usize {
    (n_cycles + 1).next_power_of_two().max(MIN_TRACE_LEN)
}

/// The opcode of `HALT`, whose bits fill the decoder's op-bit columns on padding rows.
const HALT_OPCODE: u8 = crate::OpCode::Halt.as_u8();

/// The 49 core columns (system, decoder, stack) of an execution trace, stored column by column.
///
/// Every column has the same length, [`CoreTrace::num_rows`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoreTrace {
    columns: Vec<Vec<Felt>>,
}

impl Default for CoreTrace {
    fn default() -> Self {
        Self::new()
    }
}

impl CoreTrace {
    /// Creates an empty trace.
    pub fn new() -> Self {
        Self {
            columns: vec![Vec::new(); CORE_TRACE_WIDTH],
        }
    }

    /// Creates an empty trace with room for `n_rows` rows.
    pub fn with_capacity(n_rows: usize) -> Self {
        Self {
            columns: (0..CORE_TRACE_WIDTH)
                .map(|_| Vec::with_capacity(n_rows))
                .collect(),
        }
    }

    /// Builds a trace from 49 columns.
    ///
    /// Returns `None` unless there are exactly [`CORE_TRACE_WIDTH`] columns of equal length.
    pub fn from_columns(columns: Vec<Vec<Felt>>) -> Option<Self> {
        if columns.len() != CORE_TRACE_WIDTH {
            return None;
        }
        let n_rows = columns[0].len();
        if columns.iter().any(|c| c.len() != n_rows) {
            return None;
        }
        Some(Self { columns })
    }

    /// Returns the number of rows.
    pub fn num_rows(&self) -> usize {
        self.columns[0].len()
    }

    /// Returns the value at `row` of column `col`.
    ///
    /// # Panics
    /// If `row` or `col` is out of range.
    pub fn get(&self, row: usize, col: usize) -> Felt {
        self.columns[col][row]
    }

    /// Returns the value at `row` of column `col`, or `None` out of range.
    pub fn try_get(&self, row: usize, col: usize) -> Option<Felt> {
        self.columns.get(col)?.get(row).copied()
    }

    /// Returns column `col`.
    ///
    /// # Panics
    /// If `col` is not below [`CORE_TRACE_WIDTH`].
    pub fn column(&self, col: usize) -> &[Felt] {
        &self.columns[col]
    }

    /// Returns every column.
    pub fn columns(&self) -> &[Vec<Felt>] {
        &self.columns
    }

    /// Gives up the columns (for instance to reuse their allocations for another trace).
    pub fn into_columns(self) -> Vec<Vec<Felt>> {
        self.columns
    }

    /// Returns row `i` as an array.
    ///
    /// # Panics
    /// If `i` is not below [`Self::num_rows`].
    pub fn row(&self, i: usize) -> [Felt; CORE_TRACE_WIDTH] {
        core::array::from_fn(|col| self.columns[col][i])
    }

    /// Appends one row.
    pub fn push_row(&mut self, row: &[Felt; CORE_TRACE_WIDTH]) {
        for (column, value) in self.columns.iter_mut().zip(row) {
            column.push(*value);
        }
    }

    /// Keeps only the first `n_rows` rows.
    pub fn truncate(&mut self, n_rows: usize) {
        for column in &mut self.columns {
            column.truncate(n_rows);
        }
    }

    /// Appends `HALT` padding rows until the trace has `len` rows, exactly as upstream pads the
    /// core trace: `clk` keeps counting (it equals the row index), `ctx` and `fn_hash` are zero,
    /// the decoder shows a `HALT` row (address 0, `HALT`'s op bits, `h0..h3` copied from the
    /// last row, every other decoder column zero except `e1` = 1), and every stack column
    /// repeats its last value. Does nothing if the trace already has `len` rows or more, or if
    /// it is empty.
    pub fn pad_to(&mut self, len: usize) {
        let n_rows = self.num_rows();
        if n_rows == 0 || n_rows >= len {
            return;
        }
        let mut pad = halt_padding_row(&self.row(n_rows - 1));
        for row in n_rows..len {
            pad[CLK_COL_IDX] = Felt::new(row as u64);
            self.push_row(&pad);
        }
    }
}

/// The padding row that follows `last` (the trace's last row), with `clk` left at zero for the
/// caller to set per row: `ctx` and `fn_hash` zero, the decoder a `HALT` row (address 0,
/// `HALT`'s op bits, `h0..h3` copied from `last`, every other decoder column zero except
/// `e1` = 1), every stack column as in `last`.
pub fn halt_padding_row(last: &[Felt; CORE_TRACE_WIDTH]) -> [Felt; CORE_TRACE_WIDTH] {
    let mut pad = [ZERO; CORE_TRACE_WIDTH];
    for i in 0..decoder::NUM_OP_BITS {
        pad[DECODER_TRACE_OFFSET + decoder::OP_BITS_OFFSET + i] =
            Felt::new(u64::from((HALT_OPCODE >> i) & 1));
    }
    for i in 0..4 {
        let col = DECODER_TRACE_OFFSET + decoder::HASHER_STATE_OFFSET + i;
        pad[col] = last[col];
    }
    pad[DECODER_TRACE_OFFSET + decoder::OP_BITS_EXTRA_COLS_OFFSET + 1] = ONE;
    pad[STACK_TRACE_RANGE].copy_from_slice(&last[STACK_TRACE_RANGE]);
    pad
}

/// The first place where two core traces differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceDiff {
    /// The row.
    pub row: usize,
    /// The column's name (from [`CORE_COLUMN_NAMES`]), or [`TraceDiff::NUM_ROWS`] when the
    /// traces agree on every common row but differ in length.
    pub column: &'static str,
    /// The expected value (or row count).
    pub expected: u64,
    /// The value found (or row count).
    pub found: u64,
}

impl TraceDiff {
    /// The pseudo column name of a length difference.
    pub const NUM_ROWS: &'static str = "<num_rows>";
}

impl core::fmt::Display for TraceDiff {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if self.column == Self::NUM_ROWS {
            write!(
                f,
                "traces agree on their first {} rows but have {} rows (expected) vs {} (found)",
                self.row, self.expected, self.found
            )
        } else {
            write!(
                f,
                "first difference at row {}, column {}: expected {}, found {}",
                self.row, self.column, self.expected, self.found
            )
        }
    }
}

/// Returns the first difference between two core traces, scanning row by row (and within a row,
/// column by column), or `None` if they are identical. Traces of different lengths that agree on
/// their common rows differ in the pseudo column [`TraceDiff::NUM_ROWS`].
pub fn first_difference(expected: &CoreTrace, found: &CoreTrace) -> Option<TraceDiff> {
    let common = expected.num_rows().min(found.num_rows());
    if let Some(diff) = first_difference_in_rows(expected, found, 0..common) {
        return Some(diff);
    }
    (expected.num_rows() != found.num_rows()).then(|| TraceDiff {
        row: common,
        column: TraceDiff::NUM_ROWS,
        expected: expected.num_rows() as u64,
        found: found.num_rows() as u64,
    })
}

/// Like [`first_difference`], but compares only `rows` (which must exist in both traces; rows
/// missing from either are reported as a [`TraceDiff::NUM_ROWS`] difference).
///
/// Use it to skip upstream's last row, which holds random values rather than trace data.
pub fn first_difference_in_rows(
    expected: &CoreTrace,
    found: &CoreTrace,
    rows: Range<usize>,
) -> Option<TraceDiff> {
    let available = expected.num_rows().min(found.num_rows());
    for row in rows.start..rows.end.min(available) {
        for (col, name) in CORE_COLUMN_NAMES.iter().enumerate() {
            let (e, f) = (expected.get(row, col), found.get(row, col));
            if e != f {
                return Some(TraceDiff {
                    row,
                    column: name,
                    expected: e.as_int(),
                    found: f.as_int(),
                });
            }
        }
    }
    (rows.end > available).then(|| TraceDiff {
        row: available,
        column: TraceDiff::NUM_ROWS,
        expected: expected.num_rows() as u64,
        found: found.num_rows() as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_upstream_widths() {
        assert_eq!(DECODER_TRACE_OFFSET, 6);
        assert_eq!(STACK_TRACE_OFFSET, 30);
        assert_eq!(CORE_TRACE_WIDTH, 49);
        assert_eq!(
            DECODER_TRACE_OFFSET + decoder::OP_BITS_EXTRA_COLS_RANGE.end,
            STACK_TRACE_OFFSET
        );
        assert_eq!(STACK_TRACE_OFFSET + stack::H0_COL_IDX + 1, CORE_TRACE_WIDTH);
        assert_eq!(
            column_name(DECODER_TRACE_OFFSET + decoder::GROUP_COUNT_COL_IDX),
            Some("decoder.group_count")
        );
        assert_eq!(
            column_name(STACK_TRACE_OFFSET + stack::B1_COL_IDX),
            Some("stack.b1")
        );
        assert_eq!(column_name(49), None);
    }
    #[test]
    fn pad_and_diff() {
        let mut row = [ZERO; CORE_TRACE_WIDTH];
        row[DECODER_TRACE_OFFSET + decoder::HASHER_STATE_OFFSET] = Felt::new(9);
        row[STACK_TRACE_OFFSET] = Felt::new(5);
        row[DECODER_TRACE_OFFSET + decoder::HASHER_STATE_OFFSET + 5] = Felt::new(3);
        let mut trace = CoreTrace::new();
        trace.push_row(&row);
        trace.pad_to(4);
        assert_eq!(trace.num_rows(), 4);
        let last = trace.row(3);
        assert_eq!(last[CLK_COL_IDX], Felt::new(3));
        assert_eq!(last[STACK_TRACE_OFFSET], Felt::new(5));
        assert_eq!(
            last[DECODER_TRACE_OFFSET + decoder::HASHER_STATE_OFFSET],
            Felt::new(9)
        );
        assert_eq!(
            last[DECODER_TRACE_OFFSET + decoder::HASHER_STATE_OFFSET + 5],
            ZERO
        );
        let bits: Vec<u64> = (0..7)
            .map(|i| last[DECODER_TRACE_OFFSET + decoder::OP_BITS_OFFSET + i].as_int())
            .collect();
        assert_eq!(bits, vec![0, 0, 1, 1, 1, 1, 1]);
        assert_eq!(
            last[DECODER_TRACE_OFFSET + decoder::OP_BITS_EXTRA_COLS_OFFSET + 1],
            ONE
        );

        let mut other = trace.clone();
        assert_eq!(first_difference(&trace, &other), None);
        other.columns[STACK_TRACE_OFFSET + 1][2] = ONE;
        let diff = first_difference(&trace, &other).expect("differs");
        assert_eq!(
            (diff.row, diff.column, diff.expected, diff.found),
            (2, "stack.s1", 0, 1)
        );
        assert!(diff.to_string().contains("stack.s1"));
        assert_eq!(first_difference_in_rows(&trace, &other, 0..2), None);
        other.truncate(2);
        let diff = first_difference(&trace, &other).expect("length");
        assert_eq!(diff.column, TraceDiff::NUM_ROWS);
    }
}
