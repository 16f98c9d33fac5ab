//! `EVALCIRCUIT`: evaluation of an arithmetic circuit stored in memory, with the semantics of
//! upstream's ACE chiplet.
//!
//! The circuit at `ptr` is `n_read / 2` words of inputs (each word holds two quadratic-extension
//! values, `(w0, w1)` and `(w2, w3)`), followed by `n_eval` instruction elements. Every value
//! read or computed becomes a wire; the `k`-th wire created has id `n_wires - 1 - k`, where
//! `n_wires = n_read + n_eval`. An instruction packs `id_l` (bits 0..30), `id_r` (bits 30..60)
//! and the operation (bits 60.., 0 = sub, 1 = mul, 2 = add); it creates one wire. The circuit
//! must evaluate to zero: the last wire created must be zero.

use weft_core::{Felt, FieldElement};
use weft_host::{AceError, ExecutionError, Host};

use crate::{
    log::{AceEvaluation, QuadFelt},
    vm::Vm,
};

/// Wire ids have 30 bits.
const ID_BITS: u64 = 30;
const MAX_ID: u64 = (1 << ID_BITS) - 1;
/// Wires reserved before reading the circuit.
const INITIAL_WIRES: u64 = 1 << 12;

/// Evaluates the circuit at `ptr` with `n_read` input variables and `n_eval` gates, and logs the
/// evaluation for the ACE chiplet.
pub(crate) fn eval_circuit<H: Host>(
    p: &mut Vm<'_, H>,
    ptr: Felt,
    n_read: Felt,
    n_eval: Felt,
) -> Result<(), ExecutionError> {
    let clk = p.clk;
    let fail = |source| ExecutionError::Ace { clk, source };
    let (n_read, n_eval) = (n_read.as_int(), n_eval.as_int());
    let n_wires = n_read.saturating_add(n_eval);
    if n_wires > MAX_ID {
        return Err(fail(AceError::TooManyWires(n_wires)));
    }
    if n_read % 2 != 0 || n_read == 0 {
        return Err(fail(AceError::NumVarIsNotWordAlignedOrIsEmpty(n_read)));
    }
    if n_eval % 4 != 0 || n_eval == 0 {
        return Err(fail(AceError::NumEvalIsNotWordAlignedOrIsEmpty(n_eval)));
    }
    // The wire count is bounded by `MAX_ID`, but reserving that much up front (16 GiB) for a
    // circuit that fails early would be an allocation chosen by the program; grow instead.
    let mut wires: Vec<QuadFelt> = Vec::with_capacity(n_wires.min(INITIAL_WIRES) as usize);
    let mut gates = Vec::with_capacity(n_eval.min(INITIAL_WIRES) as usize);
    let mut addr = ptr;
    for _ in 0..n_read / 2 {
        let word = p.memory.read_word(p.ctx, addr, clk)?;
        wires.push(QuadFelt::new(word[0], word[1]));
        wires.push(QuadFelt::new(word[2], word[3]));
        addr += Felt::new(4);
    }
    let wire = |wires: &[QuadFelt], id: u64| -> Result<QuadFelt, ExecutionError> {
        n_wires
            .checked_sub(id + 1)
            .and_then(|k| wires.get(k as usize).copied())
            .ok_or(fail(AceError::FailedWireBusRead))
    };
    for _ in 0..n_eval {
        let instruction = p.memory.read(p.ctx, addr, clk)?.as_int();
        let id_l = instruction & MAX_ID;
        let id_r = (instruction >> ID_BITS) & MAX_ID;
        let op = instruction >> (2 * ID_BITS);
        if op > 2 {
            return Err(fail(AceError::FailedDecodeInstruction));
        }
        let left = wire(&wires, id_l)?;
        let right = wire(&wires, id_r)?;
        let out = match op {
            0 => left - right,
            1 => left * right,
            _ => left + right,
        };
        wires.push(out);
        gates.push((op, id_l, id_r));
        addr += Felt::new(1);
    }
    if wires.last() != Some(&QuadFelt::ZERO) {
        return Err(fail(AceError::CircuitNotEvaluateZero));
    }
    p.log.ace.push(AceEvaluation {
        ctx: p.ctx,
        clk,
        ptr,
        wires,
        gates,
    });
    Ok(())
}
