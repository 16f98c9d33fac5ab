//! The whole main trace of upstream miden-vm 0.20.6: the 49 core columns, the range checker's
//! two columns and the twenty chiplet columns (hasher, bitwise, memory, ACE and kernel ROM
//! stacked under one unary selector prefix), 71 columns in all.
//!
//! This module holds the layout (column indices, names, regions), the length rule, the random
//! last row, the [`MainTrace`] container and the comparison both engines are checked with. It
//! holds no trace-building logic: each engine builds the columns with its own code.
//!
//! # Layout
//! | columns | part |
//! |---|---|
//! | 0..49 | core: system, decoder, stack ([`crate::trace`]) |
//! | 49, 50 | range checker: multiplicity `m`, value `v` |
//! | 51..71 | chiplets `c0..c19` |
//!
//! Chiplet rows are stacked top to bottom: hasher (`c0` = 0), bitwise (`c0 c1` = 1 0), memory
//! (`c0..c2` = 1 1 0), ACE (`c0..c3` = 1 1 1 0), kernel ROM (`c0..c4` = 1 1 1 1 0), then padding
//! (`c0..c4` all 1, the rest zero), with at least one padding row. Each chiplet's own columns
//! start right after its selector prefix (see [`chiplets`]).
//!
//! # Length
//! [`main_trace_len`]: the longest of the core rows (cycles executed), the range checker's rows
//! and the chiplets' rows (plus their mandatory padding row), plus one random row, rounded up to
//! a power of two, and at least [`MIN_TRACE_LEN`] rows.
//!
//! # The last row
//! Upstream overwrites the last row of every column with values drawn from an RPO random coin
//! seeded with the program's digest ([`random_row`]), column 0 first. Upstream's prover pads the
//! trace with a 72nd all-zero column (the width rounded up to the hash rate); its sequential
//! processor draws 71 values, so that column stays zero on the last row too, while its parallel
//! `build_trace` draws a 72nd value for it. weft follows the sequential processor (the prover's
//! path): it builds 71 columns, and the 72nd is zero everywhere.

mod buffer;
mod container;

use core::ops::Range;

pub use self::{
    buffer::{
        ColumnBuffer, DEFAULT_BUFFER_CACHE_LIMIT, buffer_cache_limit, set_buffer_cache_limit,
    },
    container::MainTrace,
};
use crate::{
    Felt, ONE, Word,
    trace::{CORE_COLUMN_NAMES, CORE_TRACE_WIDTH, MIN_TRACE_LEN},
};

/// First column of the range checker.
pub const RANGE_CHECK_TRACE_OFFSET: usize = CORE_TRACE_WIDTH;
/// Number of range-checker columns.
pub const RANGE_CHECK_TRACE_WIDTH: usize = 2;

/// The range checker's columns (main-trace indices).
pub mod range {
    use super::RANGE_CHECK_TRACE_OFFSET;

    /// The multiplicity column `m`: how many lookups of the row's value were made.
    pub const M_COL_IDX: usize = RANGE_CHECK_TRACE_OFFSET;
    /// The value column `v`.
    pub const V_COL_IDX: usize = RANGE_CHECK_TRACE_OFFSET + 1;
}

/// First chiplet column (`c0`).
pub const CHIPLETS_OFFSET: usize = RANGE_CHECK_TRACE_OFFSET + RANGE_CHECK_TRACE_WIDTH;
/// Number of chiplet columns.
pub const CHIPLETS_WIDTH: usize = 20;

/// Number of columns of the main trace.
pub const TRACE_WIDTH: usize = CHIPLETS_OFFSET + CHIPLETS_WIDTH;
/// The width upstream's prover commits to: [`TRACE_WIDTH`] rounded up to the RPO rate (8). The
/// extra column is zero everywhere in weft (see the module documentation).
pub const PADDED_TRACE_WIDTH: usize = TRACE_WIDTH.next_multiple_of(8);
/// Number of rows of random values at the end of the trace.
pub const NUM_RAND_ROWS: usize = 1;

/// The chiplet columns. Indices inside a chiplet's submodule are chiplet-local (`cK` is main
/// column `CHIPLETS_OFFSET + K`); `OFFSET` is where the chiplet's own columns start after its
/// selector prefix.
pub mod chiplets {
    /// The hasher chiplet: 8 rows per permutation.
    pub mod hasher {
        use crate::{Felt, ONE, ZERO};

        /// First hasher column (after the one-column selector prefix `c0` = 0).
        pub const OFFSET: usize = 1;
        /// Number of hasher columns: three selectors, the twelve state elements, the node index.
        pub const WIDTH: usize = 16;
        /// The three selector columns `s0 s1 s2`, relative to [`OFFSET`].
        pub const SELECTORS: core::ops::Range<usize> = 0..3;
        /// The twelve state columns `h0..h11`, relative to [`OFFSET`] (capacity `h0..h3`, rate
        /// `h4..h11`, digest `h4..h7`).
        pub const STATE: core::ops::Range<usize> = 3..15;
        /// The node index column, relative to [`OFFSET`].
        pub const IDX: usize = 15;
        /// Rows per permutation (seven rounds rounded up to a power of two).
        pub const CYCLE_LEN: usize = 8;

        /// Selector values of one hasher row.
        pub type Selectors = [Felt; 3];
        /// Start of a linear hash, or the last row of an absorption step.
        pub const LINEAR_HASH: Selectors = [ONE, ZERO, ZERO];
        /// Start of a Merkle path verification.
        pub const MP_VERIFY: Selectors = [ONE, ZERO, ONE];
        /// Start of the old-value path of a Merkle root update.
        pub const MR_UPDATE_OLD: Selectors = [ONE, ONE, ZERO];
        /// Start of the new-value path of a Merkle root update.
        pub const MR_UPDATE_NEW: Selectors = [ONE, ONE, ONE];
        /// Last row of a request that returns the digest.
        pub const RETURN_HASH: Selectors = [ZERO, ZERO, ZERO];
        /// Last row of a request that returns the whole state.
        pub const RETURN_STATE: Selectors = [ZERO, ZERO, ONE];
    }

    /// The bitwise chiplet: 8 rows per `U32AND` / `U32XOR`.
    pub mod bitwise {
        use crate::{Felt, ONE, ZERO};

        /// First bitwise column (after the selector prefix `c0 c1` = 1 0).
        pub const OFFSET: usize = 2;
        /// Number of bitwise columns: `s a b a0..a3 b0..b3 zp z`.
        pub const WIDTH: usize = 13;
        /// Rows per operation.
        pub const CYCLE_LEN: usize = 8;
        /// The operation selector's value for `U32AND`.
        pub const AND: Felt = ZERO;
        /// The operation selector's value for `U32XOR`.
        pub const XOR: Felt = ONE;
    }

    /// The memory chiplet: one row per element or word access.
    pub mod memory {
        /// First memory column (after the selector prefix `c0 c1 c2` = 1 1 0).
        pub const OFFSET: usize = 3;
        /// Number of memory columns:
        /// `rw ew ctx word_addr idx0 idx1 clk v0..v3 d0 d1 d_inv f_scw`.
        pub const WIDTH: usize = 15;
    }

    /// The arithmetic circuit evaluation (ACE) chiplet: per evaluation, one READ row per two
    /// inputs, then one EVAL row per gate.
    pub mod ace {
        /// First ACE column (after the selector prefix `c0..c3` = 1 1 1 0).
        pub const OFFSET: usize = 4;
        /// Number of ACE columns.
        pub const WIDTH: usize = 16;
    }

    /// The kernel ROM chiplet: per kernel procedure, one first row and one row per `SYSCALL`.
    pub mod kernel_rom {
        /// First kernel ROM column (after the selector prefix `c0..c4` = 1 1 1 1 0).
        pub const OFFSET: usize = 5;
        /// Number of kernel ROM columns: `s_first h0 h1 h2 h3`.
        pub const WIDTH: usize = 5;
    }

    /// Number of selector columns that are 1 on chiplet padding rows (`c0..c4`).
    pub const NUM_PADDING_SELECTORS: usize = 5;
}

/// Names of the 71 main-trace columns, in order: the core names of
/// [`crate::trace::CORE_COLUMN_NAMES`], then `range.m`, `range.v`, `chiplets.c0` ..
/// `chiplets.c19`.
pub const COLUMN_NAMES: [&str; TRACE_WIDTH] = {
    let mut names = [""; TRACE_WIDTH];
    let mut i = 0;
    while i < CORE_TRACE_WIDTH {
        names[i] = CORE_COLUMN_NAMES[i];
        i += 1;
    }
    names[range::M_COL_IDX] = "range.m";
    names[range::V_COL_IDX] = "range.v";
    let chiplets = [
        "chiplets.c0",
        "chiplets.c1",
        "chiplets.c2",
        "chiplets.c3",
        "chiplets.c4",
        "chiplets.c5",
        "chiplets.c6",
        "chiplets.c7",
        "chiplets.c8",
        "chiplets.c9",
        "chiplets.c10",
        "chiplets.c11",
        "chiplets.c12",
        "chiplets.c13",
        "chiplets.c14",
        "chiplets.c15",
        "chiplets.c16",
        "chiplets.c17",
        "chiplets.c18",
        "chiplets.c19",
    ];
    let mut k = 0;
    while k < CHIPLETS_WIDTH {
        names[CHIPLETS_OFFSET + k] = chiplets[k];
        k += 1;
    }
    names
};

/// Returns the name of main-trace column `col`, or `None` past [`TRACE_WIDTH`].
pub fn column_name(col: usize) -> Option<&'static str> {
    COLUMN_NAMES.get(col).copied()
}

/// The length of the main trace: `max(64, next_power_of_two(max(core_rows, range_rows,
/// chiplets_rows) + 1))`, where `core_rows` is the number of executed cycles, `range_rows` the
/// range checker's rows (its table with bridges and the final row) and `chiplets_rows` the
/// chiplets' rows including their one mandatory padding row.
pub fn main_trace_len(core_rows: usize, range_rows: usize, chiplets_rows: usize) -> usize {
    (core_rows.max(range_rows).max(chiplets_rows) + NUM_RAND_ROWS)
        .next_power_of_two()
        .max(MIN_TRACE_LEN)
}

/// The row counts that decide a main trace's length, as upstream's `TraceLenSummary` reports
/// them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TraceLenSummary {
    /// Executed cycles (the `HALT` row is not counted).
    pub core_rows: usize,
    /// Range-checker rows.
    pub range_rows: usize,
    /// Hasher chiplet rows.
    pub hasher_rows: usize,
    /// Bitwise chiplet rows.
    pub bitwise_rows: usize,
    /// Memory chiplet rows.
    pub memory_rows: usize,
    /// ACE chiplet rows.
    pub ace_rows: usize,
    /// Kernel ROM chiplet rows.
    pub kernel_rom_rows: usize,
}

impl TraceLenSummary {
    /// Rows of the chiplets, including their mandatory padding row.
    pub fn chiplets_rows(&self) -> usize {
        self.hasher_rows
            + self.bitwise_rows
            + self.memory_rows
            + self.ace_rows
            + self.kernel_rom_rows
            + 1
    }

    /// The padded length of the main trace ([`main_trace_len`]).
    pub fn trace_len(&self) -> usize {
        main_trace_len(self.core_rows, self.range_rows, self.chiplets_rows())
    }

    /// The first row of each chiplet region and of the chiplet padding, in stacking order:
    /// hasher, bitwise, memory, ACE, kernel ROM, padding.
    pub fn chiplet_starts(&self) -> [usize; 6] {
        let bitwise = self.hasher_rows;
        let memory = bitwise + self.bitwise_rows;
        let ace = memory + self.memory_rows;
        let kernel_rom = ace + self.ace_rows;
        let padding = kernel_rom + self.kernel_rom_rows;
        [0, bitwise, memory, ace, kernel_rom, padding]
    }
}

/// The last row of a main trace of a program with digest `program_hash`: 71 values drawn from
/// an RPO random coin seeded with the digest, column 0 first (upstream's sequential
/// convention; see the module documentation).
///
/// The coin is `miden-crypto`'s `RpoRandomCoin` (the digest added to rate elements 4-7 of a zero
/// state, one permutation, then rate elements 4-11 drawn in order, the state permuted again
/// each time they run out), run here on [`crate::rpo::permute`]: nine permutations, about 40 %
/// of the coin's own time. The tests compare the two on many seeds.
pub fn random_row(program_hash: Word) -> [Felt; TRACE_WIDTH] {
    const RATE: core::ops::Range<usize> = 4..12;
    let mut state = [crate::ZERO; crate::rpo::STATE_WIDTH];
    for (s, d) in state[RATE.start..]
        .iter_mut()
        .zip(program_hash.as_elements())
    {
        *s += *d;
    }
    crate::rpo::permute(&mut state);
    let mut next = RATE.start;
    core::array::from_fn(|_| {
        if next == RATE.end {
            crate::rpo::permute(&mut state);
            next = RATE.start;
        }
        next += 1;
        state[next - 1]
    })
}

/// Where a cell of the main trace lies: which part of the trace, and for chiplet columns which
/// chiplet's rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Region {
    /// The system columns (`clk`, `ctx`, `fn_hash`).
    System,
    /// The decoder columns.
    Decoder,
    /// The stack columns.
    Stack,
    /// The range checker's columns.
    RangeChecker,
    /// Chiplet columns on a hasher row.
    Hasher,
    /// Chiplet columns on a bitwise row.
    Bitwise,
    /// Chiplet columns on a memory row.
    Memory,
    /// Chiplet columns on an ACE row.
    Ace,
    /// Chiplet columns on a kernel ROM row.
    KernelRom,
    /// Chiplet columns on a padding row.
    ChipletsPadding,
    /// The random last row.
    RandomRow,
}

impl Region {
    /// A short lower-case name (`"hasher"`, `"range"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::Decoder => "decoder",
            Self::Stack => "stack",
            Self::RangeChecker => "range",
            Self::Hasher => "hasher",
            Self::Bitwise => "bitwise",
            Self::Memory => "memory",
            Self::Ace => "ace",
            Self::KernelRom => "kernel_rom",
            Self::ChipletsPadding => "chiplets_padding",
            Self::RandomRow => "random_row",
        }
    }

    /// The chiplet region a row with the selector columns `c0..c4` = `selectors` belongs to
    /// (the first zero selector decides; all ones is padding).
    pub fn of_chiplet_selectors(selectors: [Felt; chiplets::NUM_PADDING_SELECTORS]) -> Self {
        const BY_FIRST_ZERO: [Region; 5] = [
            Region::Hasher,
            Region::Bitwise,
            Region::Memory,
            Region::Ace,
            Region::KernelRom,
        ];
        selectors
            .iter()
            .position(|s| *s != ONE)
            .map_or(Self::ChipletsPadding, |i| BY_FIRST_ZERO[i])
    }
}

impl core::fmt::Display for Region {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// The region of cell (`row`, `col`) in a trace of `num_rows` rows whose cell values on `row`
/// are given by `value_at(col)` (only the chiplet selector columns are read).
fn region_of_cell(
    num_rows: usize,
    row: usize,
    col: usize,
    value_at: impl Fn(usize) -> Felt,
) -> Region {
    use crate::trace::{DECODER_TRACE_RANGE, STACK_TRACE_RANGE, SYS_TRACE_RANGE};
    if row + NUM_RAND_ROWS >= num_rows {
        return Region::RandomRow;
    }
    if SYS_TRACE_RANGE.contains(&col) {
        Region::System
    } else if DECODER_TRACE_RANGE.contains(&col) {
        Region::Decoder
    } else if STACK_TRACE_RANGE.contains(&col) {
        Region::Stack
    } else if col < CHIPLETS_OFFSET {
        Region::RangeChecker
    } else {
        Region::of_chiplet_selectors(core::array::from_fn(|i| value_at(CHIPLETS_OFFSET + i)))
    }
}

/// The first place where two main traces differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MainTraceDiff {
    /// The row.
    pub row: usize,
    /// The column's name (from [`COLUMN_NAMES`]), or [`MainTraceDiff::NUM_ROWS`] when the
    /// traces agree on every common row but differ in length.
    pub column: &'static str,
    /// The cell's region in the expected trace.
    pub region: Region,
    /// The expected value (or row count).
    pub expected: u64,
    /// The value found (or row count).
    pub found: u64,
}

impl MainTraceDiff {
    /// The pseudo column name of a length difference.
    pub const NUM_ROWS: &'static str = "<num_rows>";
}

impl core::fmt::Display for MainTraceDiff {
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
                "first difference at row {}, column {} ({} region): expected {}, found {}",
                self.row, self.column, self.region, self.expected, self.found
            )
        }
    }
}

/// Returns the first difference between two main traces over `cols`, scanning row by row (and
/// within a row, column by column), or `None` if they agree there. Traces of different lengths
/// that agree on their common rows differ in the pseudo column [`MainTraceDiff::NUM_ROWS`].
pub fn first_difference_in_columns(
    expected: &MainTrace,
    found: &MainTrace,
    cols: Range<usize>,
) -> Option<MainTraceDiff> {
    let common = expected.num_rows().min(found.num_rows());
    let cols = cols.start..cols.end.min(TRACE_WIDTH);
    // Compare column by column first (fast, cache-friendly), then locate the first row.
    let first_row = cols
        .clone()
        .filter_map(|c| {
            expected.column(c)[..common]
                .iter()
                .zip(&found.column(c)[..common])
                .position(|(e, f)| e != f)
        })
        .min();
    if let Some(row) = first_row {
        let col = cols
            .clone()
            .find(|&c| expected.column(c)[row] != found.column(c)[row])
            .expect("some column differs on the first differing row");
        return Some(MainTraceDiff {
            row,
            column: COLUMN_NAMES[col],
            region: expected.region(row, col),
            expected: expected.column(col)[row].as_int(),
            found: found.column(col)[row].as_int(),
        });
    }
    (expected.num_rows() != found.num_rows()).then(|| MainTraceDiff {
        row: common,
        column: MainTraceDiff::NUM_ROWS,
        region: Region::RandomRow,
        expected: expected.num_rows() as u64,
        found: found.num_rows() as u64,
    })
}

/// Returns the first difference between two main traces over all 71 columns (see
/// [`first_difference_in_columns`]).
pub fn first_difference(expected: &MainTrace, found: &MainTrace) -> Option<MainTraceDiff> {
    first_difference_in_columns(expected, found, 0..TRACE_WIDTH)
}

#[cfg(test)]
mod tests;
