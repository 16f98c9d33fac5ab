//! The user operations (those inside basic blocks), one arm each, with upstream's semantics and
//! decoder helper registers. Each returns the six user-op helper registers `h2..h7`. The larger
//! families live in their own modules: hashing in [`crate::crypto`], FRI and Horner steps in
//! [`crate::verifier`], `EVALCIRCUIT` in [`crate::ace`].
//!
//! Stack effects are written with three primitives of [`crate::state::Stack`]: writing `top[i]`,
//! `remove(i)` (a left shift from position `i + 1`, refilling `s15` from the overflow table) and
//! `insert(i, v, clk)` (a right shift from position `i`, spilling `s15` into it). These match
//! upstream's left and right shifts exactly, including the overflow bookkeeping that `b1` shows.

use weft_core::{Felt, FieldElement, ONE, OpCode, Operation, Word, ZERO};
use weft_host::{EventId, ExecutionError, Host, SystemEvent, handle_system_event};

use crate::{
    ace, crypto,
    log::BitwiseOp,
    state::View,
    verifier,
    vm::{Helpers, NO_HELPERS, Vm},
};

const U32_MAX: u64 = u32::MAX as u64;

fn felt(v: u64) -> Felt {
    Felt::new(v)
}

fn binary(value: Felt, op: OpCode, clk: u32) -> Result<Felt, ExecutionError> {
    if value == ZERO || value == ONE {
        Ok(value)
    } else {
        Err(ExecutionError::NotBinaryValueOp { clk, op, value })
    }
}

/// Checks that the stack elements at `positions` are u32 values, listing the offenders in the
/// order of `positions`.
fn u32_operands<H: Host, const N: usize>(
    p: &Vm<'_, H>,
    positions: [usize; N],
    op: OpCode,
    err_code: Felt,
) -> Result<[u64; N], ExecutionError> {
    let values = positions.map(|i| p.stack.get(i).as_int());
    let bad: Vec<u64> = values.iter().copied().filter(|&v| v > U32_MAX).collect();
    if !bad.is_empty() {
        return Err(ExecutionError::NotU32Values {
            clk: p.clk,
            op,
            values: bad,
            err_code: err_code.as_int(),
        });
    }
    Ok(values)
}

/// The helper registers of an operation that range-checks `lo` and `hi` (both u32): their
/// 16-bit limbs, and for ops that must prove the pair is a valid field element, the inverse of
/// `2^32 - 1 - hi`.
///
/// The four limbs are logged for the range checker.
fn range_helpers<H: Host>(p: &mut Vm<'_, H>, lo: u64, hi: u64, element_check: bool) -> Helpers {
    p.log
        .u32_range_checks
        .extend([lo & 0xFFFF, lo >> 16, hi & 0xFFFF, hi >> 16].map(|v| v as u16));
    let m = if element_check {
        (felt(U32_MAX) - felt(hi)).inv()
    } else {
        ZERO
    };
    [
        felt(lo & 0xFFFF),
        felt(lo >> 16),
        felt(hi & 0xFFFF),
        felt(hi >> 16),
        m,
        ZERO,
    ]
}

/// Executes `op`.
pub(crate) fn execute<H: Host>(
    p: &mut Vm<'_, H>,
    op: Operation,
) -> Result<Helpers, ExecutionError> {
    let clk = p.clk;
    let code = op.op_code();
    let s = |p: &Vm<'_, H>, i: usize| p.stack.get(i);
    match op {
        // SYSTEM
        Operation::Noop => {}
        Operation::Assert(err_code) => {
            if s(p, 0) != ONE {
                return Err(ExecutionError::FailedAssertion {
                    clk,
                    err_code: err_code.as_int(),
                    err_msg: p.error_message(err_code),
                });
            }
            p.stack.pop();
        }
        Operation::SDepth => {
            let depth = p.stack.depth() as u64;
            p.stack.push(felt(depth), clk);
        }
        Operation::Caller => {
            let h = p.fn_hash;
            p.stack.top[..4].copy_from_slice(&[h[3], h[2], h[1], h[0]]);
        }
        Operation::Clk => p.stack.push(felt(u64::from(clk)), clk),
        Operation::Emit => emit(p)?,

        // FIELD
        Operation::Add => {
            p.stack.top[0] = s(p, 1) + s(p, 0);
            p.stack.remove(1);
        }
        Operation::Neg => p.stack.top[0] = -s(p, 0),
        Operation::Mul => {
            p.stack.top[0] = s(p, 1) * s(p, 0);
            p.stack.remove(1);
        }
        Operation::Inv => {
            let a = s(p, 0);
            if a == ZERO {
                return Err(ExecutionError::DivideByZero { clk, op: code });
            }
            p.stack.top[0] = a.inv();
        }
        Operation::Incr => p.stack.top[0] = s(p, 0) + ONE,
        Operation::And | Operation::Or => {
            let b = binary(s(p, 0), code, clk)?;
            let a = binary(s(p, 1), code, clk)?;
            p.stack.top[0] = if code == OpCode::And {
                a * b
            } else {
                a + b - a * b
            };
            p.stack.remove(1);
        }
        Operation::Not => {
            let a = binary(s(p, 0), code, clk)?;
            p.stack.top[0] = ONE - a;
        }
        Operation::Eq => {
            let (b, a) = (s(p, 0), s(p, 1));
            let (result, h) = if a == b {
                (ONE, ZERO)
            } else {
                (ZERO, (b - a).inv())
            };
            p.stack.top[0] = result;
            p.stack.remove(1);
            return Ok([h, ZERO, ZERO, ZERO, ZERO, ZERO]);
        }
        Operation::Eqz => {
            let a = s(p, 0);
            let (result, h) = if a == ZERO {
                (ONE, ZERO)
            } else {
                (ZERO, a.inv())
            };
            p.stack.top[0] = result;
            return Ok([h, ZERO, ZERO, ZERO, ZERO, ZERO]);
        }
        Operation::Expacc => {
            let (base, acc, exp) = (s(p, 1), s(p, 2), s(p, 3).as_int());
            let bit = exp & 1;
            let factor = if bit == 1 { base } else { ONE };
            p.stack.top[0] = felt(bit);
            p.stack.top[1] = base * base;
            p.stack.top[2] = acc * factor;
            p.stack.top[3] = felt(exp >> 1);
            return Ok([factor, ZERO, ZERO, ZERO, ZERO, ZERO]);
        }
        Operation::Ext2Mul => {
            let (b1, b0, a1, a0) = (s(p, 0), s(p, 1), s(p, 2), s(p, 3));
            p.stack.top[2] = (b0 + b1) * (a1 + a0) - b0 * a0;
            p.stack.top[3] = b0 * a0 - felt(2) * b1 * a1;
        }

        // U32
        Operation::U32split => {
            let a = s(p, 0).as_int();
            let (hi, lo) = (a >> 32, a & U32_MAX);
            p.stack.top[0] = felt(hi);
            p.stack.insert(1, felt(lo), clk);
            return Ok(range_helpers(p, lo, hi, true));
        }
        Operation::U32assert2(err_code) => {
            let [b, a] = u32_operands(p, [0, 1], code, err_code)?;
            return Ok(range_helpers(p, a, b, false));
        }
        Operation::U32add => {
            let [b, a] = u32_operands(p, [0, 1], code, ZERO)?;
            let r = a + b;
            let (hi, lo) = (r >> 32, r & U32_MAX);
            p.stack.top[0] = felt(hi);
            p.stack.top[1] = felt(lo);
            return Ok(range_helpers(p, lo, hi, false));
        }
        Operation::U32add3 => {
            let [c, b, a] = u32_operands(p, [0, 1, 2], code, ZERO)?;
            let r = a + b + c;
            let (hi, lo) = (r >> 32, r & U32_MAX);
            p.stack.top[0] = felt(hi);
            p.stack.top[1] = felt(lo);
            p.stack.remove(2);
            return Ok(range_helpers(p, lo, hi, false));
        }
        Operation::U32sub => {
            let [b, a] = u32_operands(p, [0, 1], code, ZERO)?;
            let r = a.wrapping_sub(b);
            let (borrow, c) = (r >> 63, r & U32_MAX);
            p.stack.top[0] = felt(borrow);
            p.stack.top[1] = felt(c);
            return Ok(range_helpers(p, c, 0, false));
        }
        Operation::U32mul => {
            let [b, a] = u32_operands(p, [0, 1], code, ZERO)?;
            let r = felt(a * b).as_int();
            let (hi, lo) = (r >> 32, r & U32_MAX);
            p.stack.top[0] = felt(hi);
            p.stack.top[1] = felt(lo);
            return Ok(range_helpers(p, lo, hi, true));
        }
        Operation::U32madd => {
            let [b, a, c] = u32_operands(p, [0, 1, 2], code, ZERO)?;
            let r = felt(a * b + c).as_int();
            let (hi, lo) = (r >> 32, r & U32_MAX);
            p.stack.top[0] = felt(hi);
            p.stack.top[1] = felt(lo);
            p.stack.remove(2);
            return Ok(range_helpers(p, lo, hi, true));
        }
        Operation::U32div => {
            let [b, a] = u32_operands(p, [0, 1], code, ZERO)?;
            if b == 0 {
                return Err(ExecutionError::DivideByZero { clk, op: code });
            }
            let (q, r) = (a / b, a % b);
            p.stack.top[0] = felt(r);
            p.stack.top[1] = felt(q);
            return Ok(range_helpers(p, a - q, b - r - 1, false));
        }
        Operation::U32and | Operation::U32xor => {
            let [b, a] = u32_operands(p, [0, 1], code, ZERO)?;
            let bitwise_op = if code == OpCode::U32and {
                BitwiseOp::And
            } else {
                BitwiseOp::Xor
            };
            p.log.bitwise.push((bitwise_op, a, b));
            p.stack.top[0] = felt(if code == OpCode::U32and { a & b } else { a ^ b });
            p.stack.remove(1);
        }

        // STACK
        Operation::Pad => p.stack.push(ZERO, clk),
        Operation::Drop => {
            p.stack.pop();
        }
        Operation::Dup0 => dup(p, 0),
        Operation::Dup1 => dup(p, 1),
        Operation::Dup2 => dup(p, 2),
        Operation::Dup3 => dup(p, 3),
        Operation::Dup4 => dup(p, 4),
        Operation::Dup5 => dup(p, 5),
        Operation::Dup6 => dup(p, 6),
        Operation::Dup7 => dup(p, 7),
        Operation::Dup9 => dup(p, 9),
        Operation::Dup11 => dup(p, 11),
        Operation::Dup13 => dup(p, 13),
        Operation::Dup15 => dup(p, 15),
        Operation::Swap => p.stack.top.swap(0, 1),
        Operation::SwapW => swap_ranges(p, 0, 4, 4),
        Operation::SwapW2 => swap_ranges(p, 0, 8, 4),
        Operation::SwapW3 => swap_ranges(p, 0, 12, 4),
        Operation::SwapDW => swap_ranges(p, 0, 8, 8),
        Operation::MovUp2 => p.stack.top[..3].rotate_right(1),
        Operation::MovUp3 => p.stack.top[..4].rotate_right(1),
        Operation::MovUp4 => p.stack.top[..5].rotate_right(1),
        Operation::MovUp5 => p.stack.top[..6].rotate_right(1),
        Operation::MovUp6 => p.stack.top[..7].rotate_right(1),
        Operation::MovUp7 => p.stack.top[..8].rotate_right(1),
        Operation::MovUp8 => p.stack.top[..9].rotate_right(1),
        Operation::MovDn2 => p.stack.top[..3].rotate_left(1),
        Operation::MovDn3 => p.stack.top[..4].rotate_left(1),
        Operation::MovDn4 => p.stack.top[..5].rotate_left(1),
        Operation::MovDn5 => p.stack.top[..6].rotate_left(1),
        Operation::MovDn6 => p.stack.top[..7].rotate_left(1),
        Operation::MovDn7 => p.stack.top[..8].rotate_left(1),
        Operation::MovDn8 => p.stack.top[..9].rotate_left(1),
        Operation::CSwap => {
            let c = s(p, 0);
            let (b, a) = (s(p, 1), s(p, 2));
            let (x, y) = match c.as_int() {
                0 => (b, a),
                1 => (a, b),
                _ => {
                    return Err(ExecutionError::NotBinaryValueOp {
                        clk,
                        op: code,
                        value: c,
                    });
                }
            };
            p.stack.top[1] = x;
            p.stack.top[2] = y;
            p.stack.pop();
        }
        Operation::CSwapW => {
            let c = s(p, 0);
            match c.as_int() {
                0 => {}
                1 => swap_ranges(p, 1, 5, 4),
                _ => {
                    return Err(ExecutionError::NotBinaryValueOp {
                        clk,
                        op: code,
                        value: c,
                    });
                }
            }
            p.stack.pop();
        }

        // INPUT / OUTPUT
        Operation::Push(value) => p.stack.push(value, clk),
        Operation::AdvPop => {
            let v = p
                .advice
                .pop_stack()
                .map_err(|e| ExecutionError::advice(clk, e))?;
            p.stack.push(v, clk);
        }
        Operation::AdvPopW => {
            let w = p
                .advice
                .pop_stack_word()
                .map_err(|e| ExecutionError::advice(clk, e))?;
            p.stack.top[..4].copy_from_slice(&[w[3], w[2], w[1], w[0]]);
        }
        Operation::MLoadW => {
            let w = p.memory.read_word(p.ctx, s(p, 0), clk)?;
            p.stack.top[1..5].copy_from_slice(&[w[3], w[2], w[1], w[0]]);
            p.stack.pop();
        }
        Operation::MStoreW => {
            let w: Word = [s(p, 4), s(p, 3), s(p, 2), s(p, 1)].into();
            p.memory.write_word(p.ctx, s(p, 0), clk, w)?;
            p.stack.pop();
        }
        Operation::MLoad => {
            p.stack.top[0] = p.memory.read(p.ctx, s(p, 0), clk)?;
        }
        Operation::MStore => {
            let (addr, value) = (s(p, 0), s(p, 1));
            p.memory.write(p.ctx, addr, clk, value)?;
            p.stack.pop();
        }
        Operation::MStream => {
            let addr = s(p, 12);
            let w0 = p.memory.read_word(p.ctx, addr, clk)?;
            let w1 = p.memory.read_word(p.ctx, addr + felt(4), clk)?;
            p.stack.set_dword(w0, w1);
            p.stack.top[12] = addr + felt(8);
        }
        Operation::Pipe => {
            let addr = s(p, 12);
            let [w0, w1] = p
                .advice
                .pop_stack_dword()
                .map_err(|e| ExecutionError::advice(clk, e))?;
            p.memory.write_word(p.ctx, addr, clk, w0)?;
            p.memory.write_word(p.ctx, addr + felt(4), clk, w1)?;
            p.stack.set_dword(w0, w1);
            p.stack.top[12] = addr + felt(8);
        }
        Operation::CryptoStream => crypto::crypto_stream(p)?,

        // CRYPTO
        Operation::HPerm => return Ok(crypto::hperm(p)),
        Operation::MpVerify(err_code) => return crypto::mp_verify(p, err_code),
        Operation::MrUpdate => return crypto::mr_update(p),
        Operation::LogPrecompile => return Ok(crypto::log_precompile(p)),
        Operation::FriE2F4 => return verifier::fri_ext2fold4(p),
        Operation::HornerBase => return verifier::horner_base(p),
        Operation::HornerExt => return verifier::horner_ext(p),
        Operation::EvalCircuit => {
            let (ptr, n_read, n_eval) = (s(p, 0), s(p, 1), s(p, 2));
            ace::eval_circuit(p, ptr, n_read, n_eval)?;
        }
        // CONTROL FLOW: never inside a basic block.
        Operation::Join
        | Operation::Split
        | Operation::Loop
        | Operation::Call
        | Operation::SysCall
        | Operation::Dyn
        | Operation::Dyncall
        | Operation::Span
        | Operation::Respan
        | Operation::Repeat
        | Operation::End
        | Operation::Halt => {
            return Err(ExecutionError::FailedToExecuteProgram(
                "control-flow operation inside a basic block",
            ));
        }
    }
    Ok(NO_HELPERS)
}

fn dup<H: Host>(p: &mut Vm<'_, H>, n: usize) {
    let v = p.stack.get(n);
    let clk = p.clk;
    p.stack.push(v, clk);
}

/// Swaps the `len` elements at `a` with the `len` elements at `b`.
fn swap_ranges<H: Host>(p: &mut Vm<'_, H>, a: usize, b: usize, len: usize) {
    for i in 0..len {
        p.stack.top.swap(a + i, b + i);
    }
}

fn emit<H: Host>(p: &mut Vm<'_, H>) -> Result<(), ExecutionError> {
    let clk = p.clk;
    let event = EventId::from_felt(p.stack.get(0));
    let view = View {
        clk,
        ctx: p.ctx,
        stack: &p.stack,
        memory: &p.memory,
    };
    if let Some(sys) = SystemEvent::from_event_id(event) {
        return handle_system_event(sys, &view, &mut p.advice);
    }
    let mutations = match p.host.on_event(event, &view, &p.advice) {
        Ok(m) => m,
        Err(source) => {
            return Err(ExecutionError::EventError {
                clk,
                event_id: event,
                event_name: p.host.resolve_event(event),
                source,
            });
        }
    };
    p.advice
        .apply_mutations(mutations)
        .map_err(|e| ExecutionError::advice(clk, e))
}
