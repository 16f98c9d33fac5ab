//! The memory chiplet's rows: one per element or word access, sorted by context, then by word
//! address, keeping execution order within a word.
//!
//! Each row shows the whole word after the access. The delta column pair `d0 d1` (low and high
//! sixteen bits) holds the context difference when the context changes, else the word address
//! difference when the word changes, else the clock difference (zero for two accesses in one
//! cycle); `d_inv` is its inverse (zero for zero) and `f_scw` is 1 when the context and word are
//! those of the row before. The first row is compared with its own context and word at the
//! cycle before its own, so its delta is 1.

use weft_core::{Felt, FieldElement, ONE, ZERO, main_trace::chiplets::memory::WIDTH};

use crate::log::MemoryAccess;

/// One memory row: `rw ew ctx word_addr idx0 idx1 clk v0..v3 d0 d1 d_inv f_scw`.
pub(crate) type MemoryRow = [Felt; WIDTH];

/// Column of `d0` within a memory row.
pub(crate) const D0: usize = 11;
/// Column of `d1` within a memory row.
pub(crate) const D1: usize = 12;

/// The rows of `accesses` (given in execution order).
pub(crate) fn rows(accesses: &[MemoryAccess]) -> Vec<MemoryRow> {
    let mut sorted = accesses.to_vec();
    // A stable sort keeps execution order within a word.
    sorted.sort_by_key(|a| (a.ctx, a.word_addr));
    let Some(first) = sorted.first() else {
        return Vec::new();
    };
    let felt = |v: u32| Felt::new(u64::from(v));
    let (mut prev_ctx, mut prev_addr, mut prev_clk) = (
        felt(first.ctx),
        felt(first.word_addr),
        felt(first.clk) - ONE,
    );
    let mut rows = Vec::with_capacity(sorted.len());
    for access in &sorted {
        let (ctx, addr, clk) = (felt(access.ctx), felt(access.word_addr), felt(access.clk));
        let delta = if ctx != prev_ctx {
            ctx - prev_ctx
        } else if addr != prev_addr {
            addr - prev_addr
        } else {
            clk - prev_clk
        };
        let (idx0, idx1) = match access.element {
            Some(i) => (u64::from(i & 1), u64::from(i >> 1)),
            None => (0, 0),
        };
        let mut row = [ZERO; WIDTH];
        row[0] = if access.is_read { ONE } else { ZERO };
        row[1] = if access.element.is_none() { ONE } else { ZERO };
        row[2] = ctx;
        row[3] = addr;
        row[4] = Felt::new(idx0);
        row[5] = Felt::new(idx1);
        row[6] = clk;
        row[7..11].copy_from_slice(access.word.as_elements());
        let d = delta.as_int();
        row[D0] = Felt::new(u64::from(d as u16));
        row[D1] = Felt::new(u64::from((d >> 16) as u16));
        row[13] = delta.inv();
        row[14] = if ctx == prev_ctx && addr == prev_addr {
            ONE
        } else {
            ZERO
        };
        rows.push(row);
        (prev_ctx, prev_addr, prev_clk) = (ctx, addr, clk);
    }
    rows
}
