//! Memory chiplet rows: one parallel stable sort of the accesses by (context, word), which
//! keeps execution order within a word, then one scan per word (words in parallel) that
//! carries the word's value from access to access; every row's delta needs only the row
//! before it.

#[cfg(feature = "concurrent")]
use rayon::prelude::*;
use weft_core::maybe_par;
use weft_core::{
    Felt, FieldElement, ONE, ZERO,
    main_trace::{CHIPLETS_OFFSET, CHIPLETS_WIDTH},
};
use weft_replay::MemoryAccess;

use super::RangeCounts;
use crate::columns::Columns;

const fn col(c: usize) -> usize {
    CHIPLETS_OFFSET + c
}

/// The accesses' indices sorted by (context, word address), execution order kept within a
/// word.
pub(super) fn sort(accesses: &[MemoryAccess]) -> Vec<u32> {
    let mut order: Vec<u32> = (0..accesses.len() as u32).collect();
    let key = |i: &u32| {
        let a = &accesses[*i as usize];
        (a.ctx, a.addr & !3)
    };
    maybe_par!(order.par_sort_by_key(key), order.sort_by_key(key));
    order
}

/// Writes the memory rows from `start` (one per access, in `order`) and returns the counts of
/// the deltas' 16-bit halves for the range checker.
pub(super) fn fill(
    columns: &Columns,
    start: usize,
    accesses: &[MemoryAccess],
    order: &[u32],
) -> RangeCounts {
    let key = |i: usize| {
        let a = &accesses[order[i] as usize];
        (a.ctx, a.addr & !3)
    };
    // The first row of every word.
    let firsts: Vec<usize> = (0..order.len())
        .filter(|&i| i == 0 || key(i) != key(i - 1))
        .collect();
    let n = order.len();
    let word = |counts: &mut RangeCounts, g: usize| {
        let first = firsts[g];
        let end = firsts.get(g + 1).copied().unwrap_or(n);
        // SAFETY: words own disjoint row ranges of the memory region, which no other task
        // writes.
        let mut out = unsafe {
            columns.cells(
                start + first,
                start + end,
                CHIPLETS_OFFSET..CHIPLETS_OFFSET + CHIPLETS_WIDTH,
            )
        };
        let (ctx, word) = key(first);
        let (mut prev_ctx, mut prev_word, mut prev_clk) = if first == 0 {
            let a = &accesses[order[0] as usize];
            (ctx, word, u64::from(a.clk).wrapping_sub(1))
        } else {
            let p = &accesses[order[first - 1] as usize];
            (p.ctx, p.addr & !3, u64::from(p.clk))
        };
        let mut value = [ZERO; 4];
        for i in first..end {
            let a = &accesses[order[i] as usize];
            let row = start + i;
            let k = (a.addr & 3) as usize;
            match a.kind {
                weft_replay::MemoryAccessKind::WriteElement => value[k] = Felt::new(a.value[0]),
                weft_replay::MemoryAccessKind::WriteWord => value = a.value.map(Felt::new),
                _ => {}
            }
            out.set(row, col(0), ONE);
            out.set(row, col(1), ONE);
            out.set(row, col(2), ZERO);
            out.set(row, col(3), if a.kind.is_read() { ONE } else { ZERO });
            out.set(row, col(4), if a.kind.is_word() { ONE } else { ZERO });
            out.set(row, col(5), Felt::new(u64::from(ctx)));
            out.set(row, col(6), Felt::new(u64::from(word)));
            let (idx0, idx1) = if a.kind.is_word() {
                (ZERO, ZERO)
            } else {
                (Felt::new((k & 1) as u64), Felt::new((k >> 1) as u64))
            };
            out.set(row, col(7), idx0);
            out.set(row, col(8), idx1);
            out.set(row, col(9), Felt::new(u64::from(a.clk)));
            for (j, v) in value.iter().enumerate() {
                out.set(row, col(10 + j), *v);
            }
            let delta = if prev_ctx != ctx {
                u64::from(ctx - prev_ctx)
            } else if prev_word != word {
                u64::from(word - prev_word)
            } else {
                u64::from(a.clk).wrapping_sub(prev_clk) & 0xFFFF_FFFF
            };
            let (lo, hi) = ((delta & 0xFFFF) as u16, (delta >> 16) as u16);
            counts.add(lo);
            counts.add(hi);
            out.set(row, col(14), Felt::new(u64::from(lo)));
            out.set(row, col(15), Felt::new(u64::from(hi)));
            // Column 16 (the delta's inverse) is written afterwards, batch-inverted.
            out.set(row, col(16), Felt::new(delta));
            let same = prev_ctx == ctx && prev_word == word;
            out.set(row, col(17), if same { ONE } else { ZERO });
            out.set(row, col(18), ZERO);
            out.set(row, col(19), ZERO);
            (prev_ctx, prev_word, prev_clk) = (ctx, word, u64::from(a.clk));
        }
    };
    #[cfg(feature = "concurrent")]
    // Each fold accumulator is a 65,536-entry table zeroed and later merged: at least
    // `MIN_WORDS` words per accumulator keeps their number near the thread count.
    #[cfg(feature = "concurrent")]
    const MIN_WORDS: usize = 1 << 12;
    #[cfg(feature = "concurrent")]
    let counts = (0..firsts.len())
        .into_par_iter()
        .with_min_len(MIN_WORDS)
        .fold(RangeCounts::default, |mut counts, g| {
            word(&mut counts, g);
            counts
        })
        .reduce(RangeCounts::default, RangeCounts::merge);
    #[cfg(not(feature = "concurrent"))]
    let counts = (0..firsts.len()).fold(RangeCounts::default(), |mut counts, g| {
        word(&mut counts, g);
        counts
    });
    invert_deltas(columns, start, n);
    counts
}

/// Replaces the deltas in column 16 of rows `start..start + n` by their inverses (zero stays
/// zero), in chunks that each pay one field inversion and three products per row (Montgomery's
/// trick) instead of an inversion per row.
fn invert_deltas(columns: &Columns, start: usize, n: usize) {
    const CHUNK: usize = 1 << 10;
    let chunk = |c: usize| {
        let (first, end) = (start + c * CHUNK, (start + (c + 1) * CHUNK).min(start + n));
        // SAFETY: the memory rows were all written by `fill` above, and chunks are disjoint row
        // ranges of the memory region that no other task reads or writes now.
        let mut out = unsafe { columns.cells(first, end, col(16)..col(17)) };
        let mut prefix = Vec::with_capacity(end - first);
        let mut acc = ONE;
        for row in first..end {
            // SAFETY: as above; this task writes the row only below, through `out`.
            let delta = unsafe { columns.read(row, col(16)) };
            prefix.push(acc);
            if delta != ZERO {
                acc *= delta;
            }
        }
        let mut inv = acc.inv();
        for row in (first..end).rev() {
            // SAFETY: as above.
            let delta = unsafe { columns.read(row, col(16)) };
            if delta == ZERO {
                continue;
            }
            out.set(row, col(16), prefix[row - first] * inv);
            inv *= delta;
        }
    };
    maybe_par!((0..n.div_ceil(CHUNK)).into_par_iter(), 0..n.div_ceil(CHUNK)).for_each(chunk);
}
