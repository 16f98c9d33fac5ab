//! Kernel ROM rows: for each kernel procedure in upstream's order (by the digest's bytes), one
//! row with `s_first` = 1, then one row with `s_first` = 0 per `SYSCALL` to it.

use weft_core::{
    ONE, Word, ZERO,
    main_trace::{CHIPLETS_OFFSET, CHIPLETS_WIDTH},
};

use crate::columns::CellWriter;

const fn col(c: usize) -> usize {
    CHIPLETS_OFFSET + c
}

/// The sort key of a digest: its little-endian bytes, element 0 first (upstream's
/// `Word::as_bytes` order).
pub(super) fn order_key(word: &Word) -> [u8; 32] {
    let mut key = [0u8; 32];
    for (i, e) in word.iter().enumerate() {
        key[8 * i..8 * i + 8].copy_from_slice(&e.as_int().to_le_bytes());
    }
    key
}

/// Writes the kernel ROM rows from `row`.
pub(super) fn fill(out: &mut CellWriter<'_>, mut row: usize, procedures: &[(Word, usize)]) {
    for (digest, n_calls) in procedures {
        for k in 0..=*n_calls {
            for c in 0..4 {
                out.set(row, col(c), ONE);
            }
            out.set(row, col(4), ZERO);
            out.set(row, col(5), if k == 0 { ONE } else { ZERO });
            for (j, e) in digest.iter().enumerate() {
                out.set(row, col(6 + j), *e);
            }
            for c in 10..CHIPLETS_WIDTH {
                out.set(row, col(c), ZERO);
            }
            row += 1;
        }
    }
}
