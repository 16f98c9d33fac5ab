//! ACE chiplet rows: per `EVALCIRCUIT`, one READ row per input word (two variables) and one
//! EVAL row per instruction. Evaluations are independent: each is placed by the prefix sums of
//! the row counts, re-evaluated from the values its memory reads logged (no memory, no host),
//! and written once its wires' fan-out (the multiplicity columns) is known.

use miden_crypto::QuadExtension;
#[cfg(feature = "concurrent")]
use rayon::prelude::*;
use weft_core::{
    Felt, FieldElement, ONE, ZERO,
    main_trace::{CHIPLETS_OFFSET, CHIPLETS_WIDTH},
    maybe_par,
};
use weft_replay::{ChipletsReplay, CircuitEvaluation, MemoryAccessKind};

use crate::{
    columns::{CellWriter, Columns},
    error::ChipletError,
};

type QuadFelt = QuadExtension<Felt>;

/// Main-trace column of ACE column `k` (after the four selector columns).
const fn col(k: usize) -> usize {
    CHIPLETS_OFFSET + 4 + k
}

/// Bits per wire id in an instruction.
const ID_BITS: u64 = 30;
const ID_MASK: u64 = (1 << ID_BITS) - 1;

/// Rows of one evaluation.
fn n_rows(eval: &CircuitEvaluation) -> usize {
    (eval.n_read / 2) as usize + eval.n_eval as usize
}

/// Checks every evaluation against the memory log; returns the ACE rows.
pub(super) fn check(replay: &ChipletsReplay) -> Result<usize, ChipletError> {
    let accesses = &replay.memory.accesses;
    let mut rows = 0usize;
    for (i, eval) in replay.ace.evaluations.iter().enumerate() {
        let bad = |what| ChipletError::Ace {
            evaluation: i,
            what,
        };
        if eval.n_read == 0 || eval.n_read % 2 != 0 || eval.n_eval == 0 {
            return Err(bad("variable or instruction count"));
        }
        if u64::from(eval.n_read) + u64::from(eval.n_eval) > ID_MASK {
            return Err(bad("too many wires"));
        }
        let n_words = (eval.n_read / 2) as usize;
        let first = usize::try_from(eval.first_access).map_err(|_| bad("access index"))?;
        let reads = first
            .checked_add(n_rows(eval))
            .and_then(|end| accesses.get(first..end))
            .ok_or(bad("memory reads outside the memory log"))?;
        let mut addr = u64::from(eval.ptr);
        for (j, access) in reads.iter().enumerate() {
            let kind = if j < n_words {
                MemoryAccessKind::ReadWord
            } else {
                MemoryAccessKind::ReadElement
            };
            if access.kind != kind
                || access.ctx != eval.ctx
                || access.clk != eval.clk
                || u64::from(access.addr) != addr
            {
                return Err(bad("memory reads that do not match the evaluation"));
            }
            addr += if j < n_words { 4 } else { 1 };
        }
        evaluate(eval, reads).map_err(bad)?;
        rows = rows
            .checked_add(n_rows(eval))
            .ok_or(ChipletError::TooManyRows)?;
    }
    Ok(rows)
}

/// The wires of an evaluation (in creation order) and their fan-out, with the decoded
/// instructions `(left id, right id, op)`.
type Evaluated = (Vec<(QuadFelt, u32)>, Vec<(u64, u64, u64)>);

fn evaluate(
    eval: &CircuitEvaluation,
    reads: &[weft_replay::MemoryAccess],
) -> Result<Evaluated, &'static str> {
    let n_words = (eval.n_read / 2) as usize;
    let n_wires = u64::from(eval.n_read) + u64::from(eval.n_eval);
    let mut wires: Vec<(QuadFelt, u32)> = Vec::with_capacity(n_wires as usize);
    let mut instrs = Vec::with_capacity(eval.n_eval as usize);
    for w in &reads[..n_words] {
        let v = w.value.map(Felt::new);
        wires.push((QuadFelt::new(v[0], v[1]), 0));
        wires.push((QuadFelt::new(v[2], v[3]), 0));
    }
    for r in &reads[n_words..] {
        let instr = r.value[0];
        let (l, rr, op) = (
            instr & ID_MASK,
            (instr >> ID_BITS) & ID_MASK,
            instr >> (2 * ID_BITS),
        );
        if op > 2 {
            return Err("an instruction that does not decode");
        }
        let mut read = |id: u64| -> Result<QuadFelt, &'static str> {
            let k = n_wires
                .checked_sub(id + 1)
                .filter(|k| (*k as usize) < wires.len())
                .ok_or("an instruction that reads a wire not yet set")?;
            let wire = &mut wires[k as usize];
            wire.1 += 1;
            Ok(wire.0)
        };
        let (a, b) = (read(l)?, read(rr)?);
        let out = match op {
            0 => a - b,
            1 => a * b,
            _ => a + b,
        };
        wires.push((out, 0));
        instrs.push((l, rr, op));
    }
    if wires.last().map(|w| w.0) != Some(QuadFelt::ZERO) {
        return Err("a circuit that does not evaluate to zero");
    }
    Ok((wires, instrs))
}

/// Writes every evaluation's rows from `start`.
pub(super) fn fill(columns: &Columns, start: usize, replay: &ChipletsReplay) {
    let evals = &replay.ace.evaluations;
    let mut offsets = Vec::with_capacity(evals.len());
    let mut row = start;
    for eval in evals {
        offsets.push(row);
        row += n_rows(eval);
    }
    maybe_par!(evals.par_iter(), evals.iter())
        .zip(offsets)
        .for_each(|(eval, row)| {
            let n = n_rows(eval);
            let first = eval.first_access as usize;
            let reads = &replay.memory.accesses[first..first + n];
            let (wires, instrs) = evaluate(eval, reads).expect("checked when planning");
            let n_words = (eval.n_read / 2) as usize;
            let n_wires = wires.len() as u64;
            let id = |k: usize| Felt::new(n_wires - 1 - k as u64);
            // SAFETY: evaluations own disjoint row ranges of the ACE region.
            let mut out = unsafe {
                columns.cells(
                    row,
                    row + n,
                    CHIPLETS_OFFSET..CHIPLETS_OFFSET + CHIPLETS_WIDTH,
                )
            };
            for r in 0..n {
                let at = row + r;
                for c in 0..3 {
                    out.set(at, CHIPLETS_OFFSET + c, ONE);
                }
                out.set(at, CHIPLETS_OFFSET + 3, ZERO);
                out.set(at, col(0), if r == 0 { ONE } else { ZERO });
                out.set(at, col(2), Felt::new(u64::from(eval.ctx)));
                out.set(at, col(4), Felt::new(u64::from(eval.clk)));
                let wire = |out: &mut CellWriter<'_>, k0: usize, k: usize| {
                    let [v0, v1] = wires[k].0.to_base_elements();
                    out.set(at, col(k0), id(k));
                    out.set(at, col(k0 + 1), v0);
                    out.set(at, col(k0 + 2), v1);
                };
                if r < n_words {
                    out.set(at, col(1), ZERO);
                    out.set(at, col(3), Felt::new(u64::from(eval.ptr) + 4 * r as u64));
                    out.set(at, col(5), ZERO);
                    wire(&mut out, 6, 2 * r);
                    wire(&mut out, 9, 2 * r + 1);
                    out.set(at, col(12), Felt::new(u64::from(eval.n_eval) - 1));
                    out.set(at, col(13), ZERO);
                    out.set(at, col(14), Felt::new(u64::from(wires[2 * r + 1].1)));
                    out.set(at, col(15), Felt::new(u64::from(wires[2 * r].1)));
                } else {
                    let j = r - n_words;
                    let ptr = u64::from(eval.ptr) + 4 * n_words as u64 + j as u64;
                    let (l, rr, op) = instrs[j];
                    out.set(at, col(1), ONE);
                    out.set(at, col(3), Felt::new(ptr));
                    let op = match op {
                        0 => -ONE,
                        1 => ZERO,
                        _ => ONE,
                    };
                    out.set(at, col(5), op);
                    let k = 2 * n_words + j;
                    wire(&mut out, 6, k);
                    wire(&mut out, 9, (n_wires - 1 - l) as usize);
                    wire(&mut out, 12, (n_wires - 1 - rr) as usize);
                    out.set(at, col(15), Felt::new(u64::from(wires[k].1)));
                }
            }
        });
}
