//! The range checker's two columns: the multiplicity of every 16-bit value checked (the four
//! limbs of each range-checking u32 operation, read back from the decoder's helper columns of
//! the core rows, and the two halves of each memory row's delta), as a table sorted by value
//! with bridge rows so that each step of the value is 0 or a power of 3 up to 3^7, placed at
//! the bottom of the trace under zero padding, with a final `(0, 65535)` row.

#[cfg(feature = "concurrent")]
use rayon::prelude::*;
use weft_core::{
    Felt, OpCode, ZERO,
    main_trace::range::{M_COL_IDX, V_COL_IDX},
    maybe_par,
    trace::{DECODER_TRACE_OFFSET, decoder},
};

use crate::columns::Columns;

/// How often each 16-bit value was range-checked.
///
/// A dense table of 65,536 counts, with a bitmap of the values checked at least once so that
/// merging and listing the keys visit only those (a small trace checks a handful of values; a
/// walk of the whole table was most of its build). Both are allocated by the first check: a
/// trace with no u32 operation and no memory access never zeroes the table.
#[derive(Clone, Debug, Default)]
pub(crate) struct RangeCounts {
    /// Checks per value: empty, or 65,536 entries.
    counts: Vec<u32>,
    /// One bit per value with a nonzero count: empty, or 1,024 words.
    present: Vec<u64>,
}

impl RangeCounts {
    const VALUES: usize = 1 << 16;

    /// Counts one check of `value`.
    #[inline(always)]
    pub(crate) fn add(&mut self, value: u16) {
        if self.counts.is_empty() {
            self.counts = vec![0; Self::VALUES];
            self.present = vec![0; Self::VALUES / 64];
        }
        let v = usize::from(value);
        self.counts[v] += 1;
        self.present[v / 64] |= 1 << (v % 64);
    }

    /// The counts of both.
    pub(crate) fn merge(mut self, other: Self) -> Self {
        if other.counts.is_empty() {
            return self;
        }
        if self.counts.is_empty() {
            return other;
        }
        for (w, &bits) in other.present.iter().enumerate() {
            self.present[w] |= bits;
            let mut rest = bits;
            while rest != 0 {
                let v = w * 64 + rest.trailing_zeros() as usize;
                self.counts[v] += other.counts[v];
                rest &= rest - 1;
            }
        }
        self
    }

    /// How often `value` was checked.
    fn count(&self, value: usize) -> u32 {
        self.counts.get(value).copied().unwrap_or(0)
    }

    /// The keys of the table in increasing order: every value checked at least once, and 0 and
    /// 65535 (always present).
    fn keys(&self) -> impl Iterator<Item = usize> + '_ {
        let checked = self.present.iter().enumerate().flat_map(|(w, &bits)| {
            let mut rest = bits;
            core::iter::from_fn(move || {
                (rest != 0).then(|| {
                    let v = w * 64 + rest.trailing_zeros() as usize;
                    rest &= rest - 1;
                    v
                })
            })
        });
        core::iter::once(0)
            .chain(checked.filter(|&v| v != 0 && v != Self::VALUES - 1))
            .chain(core::iter::once(Self::VALUES - 1))
    }

    /// The table's rows: one per key, the bridges before it, and the final row.
    pub(crate) fn n_rows(&self) -> usize {
        let mut rows = 1;
        let mut prev = 0usize;
        for value in self.keys() {
            rows += 1 + bridges(value - prev);
            prev = value;
        }
        rows
    }
}

/// Bridge rows before a key `gap` above the previous one: greedy strides of powers of 3, at
/// most 3^7, the last stride landing on the key.
fn bridges(gap: usize) -> usize {
    let mut gap = gap;
    let mut stride = 2187;
    let mut rows = 0;
    while gap != stride {
        if gap > stride {
            rows += 1;
            gap -= stride;
        } else {
            stride /= 3;
        }
    }
    rows
}

/// Opcodes of the operations that range-check four 16-bit limbs (their helper registers 0..3).
const RANGE_CHECKED: [OpCode; 8] = [
    OpCode::U32add,
    OpCode::U32sub,
    OpCode::U32mul,
    OpCode::U32div,
    OpCode::U32split,
    OpCode::U32assert2,
    OpCode::U32add3,
    OpCode::U32madd,
];

/// Counts the limbs of every range-checking u32 operation among core rows `0..n_rows`.
pub(crate) fn count_u32_limbs(columns: &Columns, n_rows: usize) -> RangeCounts {
    let mut is_checked = [false; 128];
    for op in RANGE_CHECKED {
        is_checked[usize::from(op.as_u8())] = true;
    }
    let bit = |row: usize, i: usize| {
        // SAFETY: core rows below `n_rows` were written and no task writes them any more.
        unsafe { columns.read(row, DECODER_TRACE_OFFSET + decoder::OP_BITS_OFFSET + i) }
    };
    let scan = |counts: &mut RangeCounts, start: usize, end: usize| {
        for row in start..end {
            let opcode = (0..decoder::NUM_OP_BITS)
                .map(|i| (bit(row, i).as_int() as usize) << i)
                .sum::<usize>();
            if is_checked.get(opcode).copied().unwrap_or(false) {
                for h in 0..4 {
                    let col = DECODER_TRACE_OFFSET + decoder::USER_OP_HELPERS_OFFSET + h;
                    // SAFETY: as above.
                    let limb = unsafe { columns.read(row, col) }.as_int();
                    counts.add(limb as u16);
                }
            }
        }
    };
    #[cfg(feature = "concurrent")]
    const CHUNK: usize = 1 << 16;
    #[cfg(feature = "concurrent")]
    let counts = (0..n_rows.div_ceil(CHUNK))
        .into_par_iter()
        .fold(RangeCounts::default, |mut counts, c| {
            scan(&mut counts, c * CHUNK, ((c + 1) * CHUNK).min(n_rows));
            counts
        })
        .reduce(RangeCounts::default, RangeCounts::merge);
    #[cfg(not(feature = "concurrent"))]
    let counts = {
        let mut counts = RangeCounts::default();
        scan(&mut counts, 0, n_rows);
        counts
    };
    counts
}

/// Writes the range checker's columns over rows `0..len - 1` (the last row is the random
/// row): zero padding, then the table, then `(0, 65535)`.
pub(crate) fn fill(columns: &Columns, counts: &RangeCounts, len: usize) {
    let table_rows = counts.n_rows();
    let padding = len - 1 - table_rows;
    let pad = || {
        maybe_par!((0..padding).into_par_iter(), 0..padding)
            .step_by(1 << 14)
            .for_each(|s| {
                let e = (s + (1 << 14)).min(padding);
                // SAFETY: disjoint chunks of the range checker's padding rows.
                let mut out = unsafe { columns.cells(s, e, M_COL_IDX..V_COL_IDX + 1) };
                out.fill_unwritten(M_COL_IDX, s, e, ZERO);
                out.fill_unwritten(V_COL_IDX, s, e, ZERO);
            });
    };
    let table = || {
        // SAFETY: the table's rows are this task's alone.
        let mut out = unsafe { columns.cells(padding, len - 1, M_COL_IDX..V_COL_IDX + 1) };
        let mut row = padding;
        let mut write = |m: u32, v: usize| {
            out.set(row, M_COL_IDX, Felt::new(u64::from(m)));
            out.set(row, V_COL_IDX, Felt::new(v as u64));
            row += 1;
        };
        let mut prev = 0usize;
        for value in counts.keys() {
            let mut gap = value - prev;
            let mut stride = 2187;
            let mut at = prev;
            while gap != stride {
                if gap > stride {
                    gap -= stride;
                    at += stride;
                    write(0, at);
                } else {
                    stride /= 3;
                }
            }
            write(counts.count(value), value);
            prev = value;
        }
        write(0, usize::from(u16::MAX));
    };
    #[cfg(feature = "concurrent")]
    rayon::join(pad, table);
    #[cfg(not(feature = "concurrent"))]
    {
        pad();
        table();
    }
}
