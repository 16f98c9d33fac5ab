//! The operations that speed up STARK verification inside the VM: `FRIE2F4` (a degree-4 FRI
//! folding step) and `HORNERBASE` / `HORNEREXT` (Horner evaluation steps over the quadratic
//! extension), with upstream's stack effects and helper registers.

use miden_crypto::QuadExtension;
use weft_core::{Felt, FieldElement, ONE, StarkField, ZERO};
use weft_host::{ExecutionError, Host};

use crate::vm::{Helpers, Vm};

type QuadFelt = QuadExtension<Felt>;

fn felt(v: u64) -> Felt {
    Felt::new(v)
}

// FRI
// ------------------------------------------------------------------------------------------------

const TWO_INV: u64 = 9223372034707292161;
const TAU_INV: u64 = 18446462594437873665;
const TAU2_INV: u64 = 18446744069414584320;
const TAU3_INV: u64 = 281474976710656;

fn fold2(f_x: QuadFelt, f_neg_x: QuadFelt, ep: QuadFelt) -> QuadFelt {
    (f_x + f_neg_x + (f_x - f_neg_x) * ep) * QuadFelt::from(felt(TWO_INV))
}

/// `FRIE2F4`: folds four query values of a degree-4 FRI layer into one.
pub(crate) fn fri_ext2fold4<H: Host>(p: &mut Vm<'_, H>) -> Result<Helpers, ExecutionError> {
    let clk = p.clk;
    let s = |i: usize| p.stack.get(i);
    let values = [
        QuadFelt::new(s(7), s(6)),
        QuadFelt::new(s(5), s(4)),
        QuadFelt::new(s(3), s(2)),
        QuadFelt::new(s(1), s(0)),
    ];
    let f_pos = s(8);
    let d_seg = s(9).as_int();
    let poe = s(10);
    let prev = QuadFelt::new(s(12), s(11));
    let alpha = QuadFelt::new(s(14), s(13));
    let layer_ptr = s(15);
    if d_seg > 3 {
        return Err(ExecutionError::InvalidFriDomainSegment {
            clk,
            segment: d_seg,
        });
    }
    let d = d_seg as usize;
    if values[d] != prev {
        return Err(ExecutionError::InvalidFriLayerFolding { clk });
    }
    let tau = [ONE, felt(TAU_INV), felt(TAU2_INV), felt(TAU3_INV)][d];
    let x = poe * tau * Felt::GENERATOR;
    let x_inv = x.inv();
    let ev = alpha * QuadFelt::from(x_inv);
    let es = ev * ev;
    let tmp0 = fold2(values[0], values[2], ev);
    let tmp1 = fold2(values[1], values[3], ev * QuadFelt::from(felt(TAU_INV)));
    let folded = fold2(tmp0, tmp1, es);
    let [t0_0, t0_1] = tmp0.to_base_elements();
    let [t1_0, t1_1] = tmp1.to_base_elements();
    let [f0, f1] = folded.to_base_elements();
    let mut ds = [ZERO; 4];
    ds[d] = ONE;
    let poe2 = poe * poe;
    let poe4 = poe2 * poe2;
    let new_top = [
        t0_1,
        t0_0,
        t1_1,
        t1_0,
        ds[3],
        ds[2],
        ds[1],
        ds[0],
        poe2,
        tau,
        layer_ptr + felt(8),
        poe4,
        f_pos,
        f1,
        f0,
    ];
    p.stack.top[..15].copy_from_slice(&new_top);
    p.stack.remove(15);
    let [ev0, ev1] = ev.to_base_elements();
    let [es0, es1] = es.to_base_elements();
    Ok([ev0, ev1, es0, es1, x, x_inv])
}

// HORNER
// ------------------------------------------------------------------------------------------------

/// `HORNERBASE`: eight Horner steps with base-field coefficients from the stack and `alpha`
/// from memory.
pub(crate) fn horner_base<H: Host>(p: &mut Vm<'_, H>) -> Result<Helpers, ExecutionError> {
    let clk = p.clk;
    let addr = p.stack.get(13);
    let a0 = p.memory.read(p.ctx, addr, clk)?;
    let a1 = p.memory.read(p.ctx, addr + ONE, clk)?;
    let alpha = QuadFelt::new(a0, a1);
    let acc = QuadFelt::new(p.stack.get(15), p.stack.get(14));
    let c = |i: usize| QuadFelt::from(p.stack.get(7 - i));
    let tmp0 = (acc * alpha + c(0)) * alpha + c(1);
    let tmp1 = ((tmp0 * alpha + c(2)) * alpha + c(3)) * alpha + c(4);
    let acc_new = ((tmp1 * alpha + c(5)) * alpha + c(6)) * alpha + c(7);
    let [n0, n1] = acc_new.to_base_elements();
    p.stack.top[14] = n1;
    p.stack.top[15] = n0;
    let [t1_0, t1_1] = tmp1.to_base_elements();
    let [t0_0, t0_1] = tmp0.to_base_elements();
    Ok([a0, a1, t1_0, t1_1, t0_0, t0_1])
}

/// `HORNEREXT`: four Horner steps with extension-field coefficients from the stack and `alpha`
/// from memory.
pub(crate) fn horner_ext<H: Host>(p: &mut Vm<'_, H>) -> Result<Helpers, ExecutionError> {
    let clk = p.clk;
    let s = |i: usize| p.stack.get(i);
    let coef = [
        QuadFelt::new(s(1), s(0)),
        QuadFelt::new(s(3), s(2)),
        QuadFelt::new(s(5), s(4)),
        QuadFelt::new(s(7), s(6)),
    ];
    let word = p.memory.read_word(p.ctx, s(13), clk)?;
    let alpha = QuadFelt::new(word[0], word[1]);
    let acc = QuadFelt::new(s(15), s(14));
    let acc_tmp = coef[2] + alpha * (coef[3] + alpha * acc);
    let acc_new = coef[0] + alpha * (coef[1] + alpha * acc_tmp);
    let [n0, n1] = acc_new.to_base_elements();
    p.stack.top[14] = n1;
    p.stack.top[15] = n0;
    let [t0, t1] = acc_tmp.to_base_elements();
    Ok([word[0], word[1], word[2], word[3], t0, t1])
}
