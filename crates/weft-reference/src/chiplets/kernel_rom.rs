//! The kernel ROM chiplet's rows: for every kernel procedure, ordered by the bytes of its
//! digest (`Word::as_bytes`, little-endian limbs, as upstream's `BTreeMap<[u8; 32], _>`), one
//! row with `s_first` = 1, then one row with `s_first` = 0 per `SYSCALL` to it. Procedures never
//! called still get their first row.

use weft_core::{Felt, ONE, Word, ZERO, main_trace::chiplets::kernel_rom::WIDTH};

/// One kernel ROM row: `s_first h0 h1 h2 h3`.
pub(crate) type KernelRomRow = [Felt; WIDTH];

/// The rows of a kernel exporting `procs`, after `SYSCALL`s to the procedures `calls`.
pub(crate) fn rows(procs: &[Word], calls: &[Word]) -> Vec<KernelRomRow> {
    let mut sorted: Vec<Word> = procs.to_vec();
    sorted.sort_by_key(Word::as_bytes);
    let mut rows = Vec::with_capacity(procs.len() + calls.len());
    for digest in sorted {
        let n_calls = calls.iter().filter(|&&c| c == digest).count();
        for k in 0..=n_calls {
            let mut row = [ZERO; WIDTH];
            row[0] = if k == 0 { ONE } else { ZERO };
            row[1..].copy_from_slice(digest.as_elements());
            rows.push(row);
        }
    }
    rows
}
