//! The ACE chiplet's rows: per `EVALCIRCUIT`, in execution order, one READ row per two input
//! wires, then one EVAL row per gate.
//!
//! Wire `k` (in creation order) of a circuit with `n` wires has id `n - 1 - k`; its multiplicity
//! is the number of times a gate reads it. Columns (chiplet-local): 0 first-row flag, 1 block
//! (READ 0, EVAL 1), 2 ctx, 3 ptr, 4 clk, 5 gate operation (sub −1, mul 0, add 1; 0 on READ
//! rows), 6..9 wire 0 (id, value), 9..12 wire 1, 12..15 wire 2 (EVAL rows: the right input; READ
//! rows hold the number of gates minus one in column 12 and wire 1's multiplicity in column
//! 14), 15 wire 0's multiplicity.

use weft_core::{Felt, ONE, ZERO, main_trace::chiplets::ace::WIDTH};

use crate::log::AceEvaluation;

/// One ACE row.
pub(crate) type AceRow = [Felt; WIDTH];

/// The rows of every evaluation, in execution order.
pub(crate) fn rows(evaluations: &[AceEvaluation]) -> Vec<AceRow> {
    let mut rows = Vec::new();
    for evaluation in evaluations {
        section(&mut rows, evaluation);
    }
    rows
}

fn section(rows: &mut Vec<AceRow>, e: &AceEvaluation) {
    let n_wires = e.wires.len() as u64;
    let n_inputs = e.wires.len() - e.gates.len();
    let id = |k: usize| n_wires - 1 - k as u64;
    let mut multiplicity = vec![0u64; e.wires.len()];
    for &(_, id_l, id_r) in &e.gates {
        for read in [id_l, id_r] {
            multiplicity[(n_wires - 1 - read) as usize] += 1;
        }
    }
    let wire = |row: &mut AceRow, col: usize, k: usize| {
        let [v0, v1] = e.wires[k].to_base_elements();
        row[col] = Felt::new(id(k));
        row[col + 1] = v0;
        row[col + 2] = v1;
    };
    let (ctx, clk) = (Felt::new(u64::from(e.ctx)), Felt::new(u64::from(e.clk)));
    let n_gates = Felt::new(e.gates.len() as u64);
    let mut ptr = e.ptr;
    for pair in 0..n_inputs / 2 {
        let (k0, k1) = (2 * pair, 2 * pair + 1);
        let mut row = [ZERO; WIDTH];
        row[0] = if pair == 0 { ONE } else { ZERO };
        row[2] = ctx;
        row[3] = ptr;
        row[4] = clk;
        wire(&mut row, 6, k0);
        wire(&mut row, 9, k1);
        row[12] = n_gates - ONE;
        row[14] = Felt::new(multiplicity[k1]);
        row[15] = Felt::new(multiplicity[k0]);
        rows.push(row);
        ptr += Felt::new(4);
    }
    for (g, &(op, id_l, id_r)) in e.gates.iter().enumerate() {
        let k = n_inputs + g;
        let mut row = [ZERO; WIDTH];
        row[1] = ONE;
        row[2] = ctx;
        row[3] = ptr;
        row[4] = clk;
        row[5] = match op {
            0 => -ONE,
            1 => ZERO,
            _ => ONE,
        };
        wire(&mut row, 6, k);
        wire(&mut row, 9, (n_wires - 1 - id_l) as usize);
        wire(&mut row, 12, (n_wires - 1 - id_r) as usize);
        row[15] = Felt::new(multiplicity[k]);
        rows.push(row);
        ptr += ONE;
    }
}
