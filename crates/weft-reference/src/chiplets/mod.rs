//! The chiplets' rows, built from the chiplet log once execution ends, and their twenty columns
//! in the main trace: hasher, bitwise, memory, ACE and kernel ROM rows stacked top to bottom
//! under the unary selector prefix (`c0` = 0 on hasher rows, `c0 c1` = 1 0 on bitwise rows, and
//! so on), then padding rows whose five selectors are 1 and whose other columns are zero.
//!
//! Each chiplet lives in its own module and knows only its own columns.

pub(crate) mod ace;
pub(crate) mod bitwise;
pub(crate) mod hasher;
pub(crate) mod kernel_rom;
pub(crate) mod memory;

use weft_core::{
    Felt, ONE, Word, ZERO,
    main_trace::{CHIPLETS_WIDTH, chiplets},
};

use crate::log::{ChipletLog, MemoryAccess};

/// The rows of every chiplet.
#[derive(Clone, Debug)]
pub(crate) struct ChipletRows {
    pub(crate) hasher: Vec<hasher::HasherRow>,
    pub(crate) bitwise: Vec<bitwise::BitwiseRow>,
    pub(crate) memory: Vec<memory::MemoryRow>,
    pub(crate) ace: Vec<ace::AceRow>,
    pub(crate) kernel_rom: Vec<kernel_rom::KernelRomRow>,
}

impl ChipletRows {
    /// Builds every chiplet's rows from the log, the memory accesses and the kernel's
    /// procedures.
    pub(crate) fn new(log: &ChipletLog, memory: &[MemoryAccess], kernel_procs: &[Word]) -> Self {
        Self {
            hasher: hasher::rows(&log.hasher),
            bitwise: bitwise::rows(&log.bitwise),
            memory: memory::rows(memory),
            ace: ace::rows(&log.ace),
            kernel_rom: kernel_rom::rows(kernel_procs, &log.kernel_calls),
        }
    }

    /// The sixteen-bit values the memory rows ask the range checker for: `d0` and `d1` of
    /// every row.
    pub(crate) fn memory_range_checks(&self) -> impl Iterator<Item = u16> + '_ {
        self.memory
            .iter()
            .flat_map(|row| [row[memory::D0], row[memory::D1]])
            .map(|d| d.as_int() as u16)
    }

    /// The twenty chiplet columns of a trace of `trace_len` rows (the last row left for the
    /// random row).
    ///
    /// Returns `None` if the chiplets and their padding row do not fit.
    pub(crate) fn columns(&self, trace_len: usize) -> Option<Vec<Vec<Felt>>> {
        let n_rows = self.hasher.len()
            + self.bitwise.len()
            + self.memory.len()
            + self.ace.len()
            + self.kernel_rom.len();
        if n_rows + 2 > trace_len {
            return None;
        }
        let mut columns = vec![vec![ZERO; trace_len]; CHIPLETS_WIDTH];
        let mut start = 0;
        let mut place = |prefix: usize, offset: usize, rows: &mut dyn Iterator<Item = &[Felt]>| {
            for row in rows {
                for column in &mut columns[..prefix] {
                    column[start] = ONE;
                }
                for (k, value) in row.iter().enumerate() {
                    columns[offset + k][start] = *value;
                }
                start += 1;
            }
        };
        use chiplets::{ace as a, bitwise as b, hasher as h, kernel_rom as k, memory as m};
        place(0, h::OFFSET, &mut self.hasher.iter().map(|r| &r[..]));
        place(1, b::OFFSET, &mut self.bitwise.iter().map(|r| &r[..]));
        place(2, m::OFFSET, &mut self.memory.iter().map(|r| &r[..]));
        place(3, a::OFFSET, &mut self.ace.iter().map(|r| &r[..]));
        place(4, k::OFFSET, &mut self.kernel_rom.iter().map(|r| &r[..]));
        for column in columns.iter_mut().take(chiplets::NUM_PADDING_SELECTORS) {
            column[n_rows..].fill(ONE);
        }
        Some(columns)
    }
}

#[cfg(test)]
mod tests;
