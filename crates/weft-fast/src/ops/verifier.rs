//! The operations recursive STARK verification uses: FRI folding (`FRIE2F4`), Horner
//! evaluation (`HORNERBASE`, `HORNEREXT`) and arithmetic circuit evaluation (`EVALCIRCUIT`),
//! over the quadratic extension field.

use weft_core::{Felt, FieldElement, ONE, StarkField, ZERO};
use weft_host::{AceError, ExecutionError};

use super::{QuadFelt, felt, helpers};
use crate::machine::Machine;

// FRI FOLDING
// ------------------------------------------------------------------------------------------------

/// `(a + b + (a - b) * ep) / 2`: one fold-by-2 step.
fn fold2(a: QuadFelt, b: QuadFelt, ep: QuadFelt) -> QuadFelt {
    let half = QuadFelt::from(felt(2).inv());
    (a + b + (a - b) * ep) * half
}

pub(super) fn fri_fold4<M: Machine>(m: &mut M) -> Result<(), M::Error> {
    let clk = m.clk();
    let q = |hi: usize, lo: usize| QuadFelt::new(m.get(hi), m.get(lo));
    let values = [q(7, 6), q(5, 4), q(3, 2), q(1, 0)];
    let prev = q(12, 11);
    let alpha = q(14, 13);
    let (f_pos, segment, poe, layer_ptr) = (m.get(8), m.get(9).as_int(), m.get(10), m.get(15));
    if segment > 3 {
        return Err(ExecutionError::InvalidFriDomainSegment { clk, segment }.into());
    }
    let d = segment as usize;
    if values[d] != prev {
        return Err(ExecutionError::InvalidFriLayerFolding { clk }.into());
    }
    // The inverses of the fourth roots of unity 1, tau, tau^2, tau^3, where tau^-1 = -2^48.
    let two48 = felt(1 << 48);
    let tau_inv = [ONE, -two48, -ONE, two48];
    let x = poe * tau_inv[d] * Felt::GENERATOR;
    let x_inv = x.inv();
    let ev = alpha * QuadFelt::from(x_inv);
    let es = ev * ev;
    let t0 = fold2(values[0], values[2], ev);
    let t1 = fold2(values[1], values[3], ev * QuadFelt::from(tau_inv[1]));
    let folded = fold2(t0, t1, es);
    let [t0_0, t0_1] = t0.to_base_elements();
    let [t1_0, t1_1] = t1.to_base_elements();
    let [f0, f1] = folded.to_base_elements();
    helpers(m, || {
        let [ev0, ev1] = ev.to_base_elements();
        let [es0, es1] = es.to_base_elements();
        [ev0, ev1, es0, es1, x, x_inv]
    });
    let poe2 = poe.square();
    let seg_flag = |i: usize| if d == i { ONE } else { ZERO };
    let out = [
        t0_1,
        t0_0,
        t1_1,
        t1_0,
        seg_flag(3),
        seg_flag(2),
        seg_flag(1),
        seg_flag(0),
        poe2,
        tau_inv[d],
        layer_ptr + felt(8),
        poe2.square(),
        f_pos,
        f1,
        f0,
    ];
    m.pop();
    for (i, v) in out.iter().enumerate() {
        m.set(i, *v);
    }
    Ok(())
}

// HORNER EVALUATION
// ------------------------------------------------------------------------------------------------

pub(super) fn horner_base<M: Machine>(m: &mut M) -> Result<(), M::Error> {
    let addr = m.get(13);
    let a0 = m.mem_read(addr)?;
    let a1 = m.mem_read(addr + ONE)?;
    let alpha = QuadFelt::new(a0, a1);
    let c = |i: usize| QuadFelt::from(m.get(7 - i));
    let acc = QuadFelt::new(m.get(15), m.get(14));
    let t0 = (acc * alpha + c(0)) * alpha + c(1);
    let t1 = ((t0 * alpha + c(2)) * alpha + c(3)) * alpha + c(4);
    let acc = ((t1 * alpha + c(5)) * alpha + c(6)) * alpha + c(7);
    helpers(m, || {
        let [t1_0, t1_1] = t1.to_base_elements();
        let [t0_0, t0_1] = t0.to_base_elements();
        [a0, a1, t1_0, t1_1, t0_0, t0_1]
    });
    let [n0, n1] = acc.to_base_elements();
    m.set(14, n1);
    m.set(15, n0);
    Ok(())
}

pub(super) fn horner_ext<M: Machine>(m: &mut M) -> Result<(), M::Error> {
    let w = m.mem_read_word(m.get(13))?;
    let q = |hi: usize, lo: usize| QuadFelt::new(m.get(hi), m.get(lo));
    let coef = [q(1, 0), q(3, 2), q(5, 4), q(7, 6)];
    let alpha = QuadFelt::new(w[0], w[1]);
    let acc = q(15, 14);
    let tmp = coef[2] + alpha * (coef[3] + alpha * acc);
    let acc = coef[0] + alpha * (coef[1] + alpha * tmp);
    helpers(m, || {
        let [t0, t1] = tmp.to_base_elements();
        [w[0], w[1], w[2], w[3], t0, t1]
    });
    let [n0, n1] = acc.to_base_elements();
    m.set(14, n1);
    m.set(15, n0);
    Ok(())
}

// CIRCUIT EVALUATION
// ------------------------------------------------------------------------------------------------

/// Bits per wire id in an instruction.
const WIRE_ID_BITS: u64 = 30;
const WIRE_ID_MASK: u64 = (1 << WIRE_ID_BITS) - 1;

/// `EVALCIRCUIT` with `[ptr, n_read, n_eval]` on top: `n_read / 2` input words (two extension
/// values each) then `n_eval` packed instructions; wire `k` (0-based, in creation order) has id
/// `n_read + n_eval - 1 - k`; the last wire must be zero.
pub(super) fn eval_circuit<M: Machine>(m: &mut M) -> Result<(), M::Error> {
    let clk = m.clk();
    let fail = |source| ExecutionError::Ace { clk, source };
    let (ptr, n_read, n_eval) = (m.get(0), m.get(1).as_int(), m.get(2).as_int());
    let n_wires = n_read.saturating_add(n_eval);
    if n_wires > WIRE_ID_MASK {
        return Err(fail(AceError::TooManyWires(n_wires)).into());
    }
    if n_read == 0 || n_read % 2 != 0 {
        return Err(fail(AceError::NumVarIsNotWordAlignedOrIsEmpty(n_read)).into());
    }
    if n_eval == 0 || n_eval % 4 != 0 {
        return Err(fail(AceError::NumEvalIsNotWordAlignedOrIsEmpty(n_eval)).into());
    }
    let mut wires: Vec<QuadFelt> = Vec::with_capacity(n_wires as usize);
    let mut addr = ptr;
    for _ in 0..n_read / 2 {
        let w = m.mem_read_word(addr)?;
        wires.push(QuadFelt::new(w[0], w[1]));
        wires.push(QuadFelt::new(w[2], w[3]));
        addr += felt(4);
    }
    for _ in 0..n_eval {
        let instr = m.mem_read(addr)?.as_int();
        addr += ONE;
        let wire = |id: u64| {
            n_wires
                .checked_sub(id + 1)
                .and_then(|k| wires.get(k as usize).copied())
                .ok_or(fail(AceError::FailedWireBusRead))
        };
        let kind = instr >> (2 * WIRE_ID_BITS);
        if kind > 2 {
            return Err(fail(AceError::FailedDecodeInstruction).into());
        }
        let left = wire(instr & WIRE_ID_MASK)?;
        let right = wire((instr >> WIRE_ID_BITS) & WIRE_ID_MASK)?;
        wires.push(match kind {
            0 => left - right,
            1 => left * right,
            _ => left + right,
        });
    }
    if wires.last() != Some(&QuadFelt::ZERO) {
        return Err(fail(AceError::CircuitNotEvaluateZero).into());
    }
    // The reads succeeded, so `ptr` is a u32 address and both counts are below 2^30.
    m.circuit_evaluated(ptr.as_int() as u32, n_read as u32, n_eval as u32);
    Ok(())
}
