//! The semantics of every user operation (the operations that appear inside basic blocks),
//! written once against [`Machine`].
//!
//! Each operation reads its operands, checks them (an error leaves the machine as it was before
//! the operation, apart from replay logs), then changes the stack with [`Machine::push`],
//! [`Machine::pop`] and [`Machine::set`]. A binary operation is "pop, then overwrite the new
//! top"; a ternary one that leaves two results is "pop, then overwrite the two new top
//! positions": both give exactly the left shifts of the VM's stack, including which overflow
//! element refills position 15. Helper registers are computed only when
//! [`Machine::RECORD_HELPERS`] is true.

mod verifier;

use miden_crypto::QuadExtension;
use weft_core::{Felt, FieldElement, ONE, OpCode, Operation, Word, ZERO};
use weft_host::ExecutionError;

use crate::machine::Machine;

use self::verifier::{eval_circuit, fri_fold4, horner_base, horner_ext};

type QuadFelt = QuadExtension<Felt>;

const U32_MAX: u64 = u32::MAX as u64;

#[inline(always)]
fn felt(value: u64) -> Felt {
    Felt::new(value)
}

#[inline(always)]
fn helpers<M: Machine>(m: &mut M, values: impl FnOnce() -> [Felt; 6]) {
    if M::RECORD_HELPERS {
        m.set_helpers(values());
    }
}

/// [`helpers`] with `values()[slot]` still to be inverted (zero stays zero): the tracer
/// inverts it, at once or batched with others ([`crate::Tracer::helpers_inverting`]).
#[inline(always)]
fn helpers_inverting<M: Machine>(m: &mut M, slot: usize, values: impl FnOnce() -> [Felt; 6]) {
    if M::RECORD_HELPERS {
        m.set_helpers_inverting(values(), slot);
    }
}

/// Helper slot of a u32 operation's element check.
const ELEMENT_CHECK: usize = 4;

/// The helper registers of a u32 operation: the 16-bit limbs of `lo` and `hi`, and where the
/// pair must form a canonical field element, `2^32 - 1 - hi` in slot [`ELEMENT_CHECK`], whose
/// inverse the register holds (see [`helpers_inverting`]).
fn limbs(lo: u64, hi: u64, element_check: bool) -> [Felt; 6] {
    let m = if element_check {
        felt(U32_MAX) - felt(hi)
    } else {
        ZERO
    };
    [
        felt(lo & 0xffff),
        felt(lo >> 16),
        felt(hi & 0xffff),
        felt(hi >> 16),
        m,
        ZERO,
    ]
}

#[inline(always)]
fn bit<M: Machine>(m: &M, idx: usize, op: OpCode) -> Result<Felt, ExecutionError> {
    let value = m.get(idx);
    if value == ZERO || value == ONE {
        Ok(value)
    } else {
        Err(ExecutionError::NotBinaryValueOp {
            clk: m.clk(),
            op,
            value,
        })
    }
}

/// Reads the stack positions `idxs` as u32 values; the error lists every offender in the order
/// of `idxs`.
#[inline(always)]
fn u32s<M: Machine, const N: usize>(
    m: &M,
    idxs: [usize; N],
    op: OpCode,
    err_code: Felt,
) -> Result<[u64; N], ExecutionError> {
    // An explicit loop rather than `array::map`, which the compiler may leave out of line in
    // large callers (it did in the recording instance of `execute_block`).
    let mut values = [0u64; N];
    let mut any_over = false;
    for k in 0..N {
        let value = m.get(idxs[k]).as_int();
        values[k] = value;
        any_over |= value > U32_MAX;
    }
    if any_over {
        return Err(ExecutionError::NotU32Values {
            clk: m.clk(),
            op,
            values: values.into_iter().filter(|&v| v > U32_MAX).collect(),
            err_code: err_code.as_int(),
        });
    }
    Ok(values)
}

/// The word at stack positions `idx..idx + 4`, position `idx + 3` as element 0.
#[inline(always)]
fn stack_word<M: Machine>(m: &M, idx: usize) -> Word {
    [m.get(idx + 3), m.get(idx + 2), m.get(idx + 1), m.get(idx)].into()
}

/// Writes `word` at stack positions `idx..idx + 4`, element 0 at `idx + 3`.
#[inline(always)]
fn set_stack_word<M: Machine>(m: &mut M, idx: usize, word: &Word) {
    for i in 0..4 {
        m.set(idx + i, word[3 - i]);
    }
}

#[inline(always)]
fn swap<M: Machine>(m: &mut M, a: usize, b: usize) {
    let (x, y) = (m.get(a), m.get(b));
    m.set(a, y);
    m.set(b, x);
}

#[inline(always)]
fn swap_runs<M: Machine>(m: &mut M, a: usize, b: usize, len: usize) {
    for i in 0..len {
        swap(m, a + i, b + i);
    }
}

/// Moves position `n` to the top, shifting positions `0..n` down by one.
#[inline(always)]
fn move_up<M: Machine>(m: &mut M, n: usize) {
    let v = m.get(n);
    for i in (0..n).rev() {
        let x = m.get(i);
        m.set(i + 1, x);
    }
    m.set(0, v);
}

/// Moves the top to position `n`, shifting positions `1..=n` up by one.
#[inline(always)]
fn move_down<M: Machine>(m: &mut M, n: usize) {
    let v = m.get(0);
    for i in 0..n {
        let x = m.get(i + 1);
        m.set(i, x);
    }
    m.set(n, v);
}

#[inline(always)]
fn dup<M: Machine>(m: &mut M, n: usize) {
    let v = m.get(n);
    m.push(v);
}

/// Writes two words over positions 0..8: position 7 holds `a[0]`, position 0 holds `b[3]`.
#[inline(always)]
fn set_two_words<M: Machine>(m: &mut M, a: &Word, b: &Word) {
    set_stack_word(m, 4, a);
    set_stack_word(m, 0, b);
}

/// Executes one user operation on `m`.
///
/// # Errors
/// The operation's failure (operand checks, memory, advice, hasher, events). Control-flow
/// operations are not user operations and fail with
/// [`ExecutionError::FailedToExecuteProgram`].
#[inline(always)]
pub fn execute_op<M: Machine>(m: &mut M, op: &Operation) -> Result<(), M::Error> {
    match *op {
        Operation::Noop => {}
        Operation::Push(value) => m.push(value),
        Operation::Pad => m.push(ZERO),
        Operation::Drop => m.pop(),
        Operation::Dup0 => dup(m, 0),
        Operation::Dup1 => dup(m, 1),
        Operation::Dup2 => dup(m, 2),
        Operation::Dup3 => dup(m, 3),
        Operation::Dup4 => dup(m, 4),
        Operation::Dup5 => dup(m, 5),
        Operation::Dup6 => dup(m, 6),
        Operation::Dup7 => dup(m, 7),
        Operation::Dup9 => dup(m, 9),
        Operation::Dup11 => dup(m, 11),
        Operation::Dup13 => dup(m, 13),
        Operation::Dup15 => dup(m, 15),
        Operation::Swap => swap(m, 0, 1),
        Operation::SwapW => swap_runs(m, 0, 4, 4),
        Operation::SwapW2 => swap_runs(m, 0, 8, 4),
        Operation::SwapW3 => swap_runs(m, 0, 12, 4),
        Operation::SwapDW => swap_runs(m, 0, 8, 8),
        Operation::MovUp2 => move_up(m, 2),
        Operation::MovUp3 => move_up(m, 3),
        Operation::MovUp4 => move_up(m, 4),
        Operation::MovUp5 => move_up(m, 5),
        Operation::MovUp6 => move_up(m, 6),
        Operation::MovUp7 => move_up(m, 7),
        Operation::MovUp8 => move_up(m, 8),
        Operation::MovDn2 => move_down(m, 2),
        Operation::MovDn3 => move_down(m, 3),
        Operation::MovDn4 => move_down(m, 4),
        Operation::MovDn5 => move_down(m, 5),
        Operation::MovDn6 => move_down(m, 6),
        Operation::MovDn7 => move_down(m, 7),
        Operation::MovDn8 => move_down(m, 8),
        Operation::CSwap => {
            let c = bit(m, 0, OpCode::CSwap)?;
            if c == ONE {
                swap(m, 1, 2);
            }
            m.pop();
        }
        Operation::CSwapW => {
            let c = bit(m, 0, OpCode::CSwapW)?;
            if c == ONE {
                swap_runs(m, 1, 5, 4);
            }
            m.pop();
        }

        // Field operations.
        Operation::Add => {
            let r = m.get(0) + m.get(1);
            m.pop();
            m.set(0, r);
        }
        Operation::Mul => {
            let r = m.get(0) * m.get(1);
            m.pop();
            m.set(0, r);
        }
        Operation::Neg => {
            let r = -m.get(0);
            m.set(0, r);
        }
        Operation::Incr => {
            let r = m.get(0) + ONE;
            m.set(0, r);
        }
        Operation::Inv => {
            let a = m.get(0);
            if a == ZERO {
                return Err(ExecutionError::DivideByZero {
                    clk: m.clk(),
                    op: OpCode::Inv,
                }
                .into());
            }
            m.set(0, a.inv());
        }
        Operation::Not => {
            let a = bit(m, 0, OpCode::Not)?;
            m.set(0, ONE - a);
        }
        Operation::And => {
            let b = bit(m, 0, OpCode::And)?;
            let a = bit(m, 1, OpCode::And)?;
            m.pop();
            m.set(0, a * b);
        }
        Operation::Or => {
            let b = bit(m, 0, OpCode::Or)?;
            let a = bit(m, 1, OpCode::Or)?;
            m.pop();
            m.set(0, a + b - a * b);
        }
        Operation::Eq => {
            let (b, a) = (m.get(0), m.get(1));
            // `b - a` is zero exactly when the two are equal, and its inverse stays zero.
            helpers_inverting(m, 0, || [b - a, ZERO, ZERO, ZERO, ZERO, ZERO]);
            m.pop();
            m.set(0, if a == b { ONE } else { ZERO });
        }
        Operation::Eqz => {
            let a = m.get(0);
            helpers_inverting(m, 0, || [a, ZERO, ZERO, ZERO, ZERO, ZERO]);
            m.set(0, if a == ZERO { ONE } else { ZERO });
        }
        Operation::Expacc => {
            let (base, acc, exp) = (m.get(1), m.get(2), m.get(3).as_int());
            let factor = if exp & 1 == 1 { base } else { ONE };
            helpers(m, || [factor, ZERO, ZERO, ZERO, ZERO, ZERO]);
            m.set(0, felt(exp & 1));
            m.set(1, base.square());
            m.set(2, acc * factor);
            m.set(3, felt(exp >> 1));
        }
        Operation::Ext2Mul => {
            let (b1, b0, a1, a0) = (m.get(0), m.get(1), m.get(2), m.get(3));
            let b0a0 = b0 * a0;
            m.set(2, (b0 + b1) * (a1 + a0) - b0a0);
            m.set(3, b0a0 - felt(2) * b1 * a1);
        }

        // System operations.
        Operation::Assert(err_code) => {
            if m.get(0) != ONE {
                return Err(ExecutionError::FailedAssertion {
                    clk: m.clk(),
                    err_code: err_code.as_int(),
                    err_msg: m.error_message(err_code),
                }
                .into());
            }
            m.pop();
        }
        Operation::SDepth => {
            let depth = m.depth() as u64;
            m.push(felt(depth));
        }
        Operation::Clk => {
            let clk = m.clk();
            m.push(felt(u64::from(clk)));
        }
        Operation::Caller => {
            let h = m.fn_hash();
            set_stack_word(m, 0, &h);
        }
        Operation::Emit => m.emit()?,

        // u32 operations.
        Operation::U32split => {
            let a = m.get(0).as_int();
            let (hi, lo) = (a >> 32, a & U32_MAX);
            helpers_inverting(m, ELEMENT_CHECK, || limbs(lo, hi, true));
            m.set(0, felt(lo));
            m.push(felt(hi));
        }
        Operation::U32assert2(err_code) => {
            let [b, a] = u32s(m, [0, 1], OpCode::U32assert2, err_code)?;
            helpers(m, || limbs(a, b, false));
        }
        Operation::U32add => {
            let [b, a] = u32s(m, [0, 1], OpCode::U32add, ZERO)?;
            let r = a + b;
            let (hi, lo) = (r >> 32, r & U32_MAX);
            helpers(m, || limbs(lo, hi, false));
            m.set(0, felt(hi));
            m.set(1, felt(lo));
        }
        Operation::U32add3 => {
            let [c, b, a] = u32s(m, [0, 1, 2], OpCode::U32add3, ZERO)?;
            let r = a + b + c;
            let (hi, lo) = (r >> 32, r & U32_MAX);
            helpers(m, || limbs(lo, hi, false));
            m.pop();
            m.set(0, felt(hi));
            m.set(1, felt(lo));
        }
        Operation::U32sub => {
            let [b, a] = u32s(m, [0, 1], OpCode::U32sub, ZERO)?;
            let r = a.wrapping_sub(b);
            let (borrow, c) = (r >> 63, r & U32_MAX);
            helpers(m, || limbs(c, 0, false));
            m.set(0, felt(borrow));
            m.set(1, felt(c));
        }
        Operation::U32mul => {
            let [b, a] = u32s(m, [0, 1], OpCode::U32mul, ZERO)?;
            let r = a * b;
            let (hi, lo) = (r >> 32, r & U32_MAX);
            helpers_inverting(m, ELEMENT_CHECK, || limbs(lo, hi, true));
            m.set(0, felt(hi));
            m.set(1, felt(lo));
        }
        Operation::U32madd => {
            let [b, a, c] = u32s(m, [0, 1, 2], OpCode::U32madd, ZERO)?;
            let r = a * b + c;
            let (hi, lo) = (r >> 32, r & U32_MAX);
            helpers_inverting(m, ELEMENT_CHECK, || limbs(lo, hi, true));
            m.pop();
            m.set(0, felt(hi));
            m.set(1, felt(lo));
        }
        Operation::U32div => {
            let [b, a] = u32s(m, [0, 1], OpCode::U32div, ZERO)?;
            if b == 0 {
                return Err(ExecutionError::DivideByZero {
                    clk: m.clk(),
                    op: OpCode::U32div,
                }
                .into());
            }
            let (q, r) = (a / b, a % b);
            helpers(m, || limbs(a - q, b - r - 1, false));
            m.set(0, felt(r));
            m.set(1, felt(q));
        }
        Operation::U32and => {
            let [b, a] = u32s(m, [0, 1], OpCode::U32and, ZERO)?;
            m.u32_bitwise(false, a as u32, b as u32);
            m.pop();
            m.set(0, felt(a & b));
        }
        Operation::U32xor => {
            let [b, a] = u32s(m, [0, 1], OpCode::U32xor, ZERO)?;
            m.u32_bitwise(true, a as u32, b as u32);
            m.pop();
            m.set(0, felt(a ^ b));
        }

        // Input and output.
        Operation::AdvPop => {
            let v = m.advice_pop()?;
            m.push(v);
        }
        Operation::AdvPopW => {
            let w = m.advice_pop_word()?;
            set_stack_word(m, 0, &w);
        }
        Operation::MLoad => {
            let v = m.mem_read(m.get(0))?;
            m.set(0, v);
        }
        Operation::MLoadW => {
            let w = m.mem_read_word(m.get(0))?;
            m.pop();
            set_stack_word(m, 0, &w);
        }
        Operation::MStore => {
            let (addr, value) = (m.get(0), m.get(1));
            m.mem_write(addr, value)?;
            m.pop();
        }
        Operation::MStoreW => {
            let addr = m.get(0);
            let w = stack_word(m, 1);
            m.mem_write_word(addr, w)?;
            m.pop();
        }
        Operation::MStream => {
            let addr = m.get(12);
            let a = m.mem_read_word(addr)?;
            let b = m.mem_read_word(addr + felt(4))?;
            set_two_words(m, &a, &b);
            m.set(12, addr + felt(8));
        }
        Operation::Pipe => {
            let addr = m.get(12);
            let [a, b] = m.advice_pop_dword()?;
            m.mem_write_word(addr, a)?;
            m.mem_write_word(addr + felt(4), b)?;
            set_two_words(m, &a, &b);
            m.set(12, addr + felt(8));
        }
        Operation::CryptoStream => crypto_stream(m)?,

        // Cryptographic operations.
        Operation::HPerm => {
            let mut state: [Felt; 12] = core::array::from_fn(|i| m.get(11 - i));
            let addr = m.permute(&mut state)?;
            helpers(m, || [addr, ZERO, ZERO, ZERO, ZERO, ZERO]);
            for (i, v) in state.iter().enumerate() {
                m.set(11 - i, *v);
            }
        }
        Operation::MpVerify(err_code) => {
            let node = stack_word(m, 0);
            let (depth, index) = (m.get(4), m.get(5));
            let root = stack_word(m, 6);
            let addr = m.merkle_verify(node, depth, index, root, err_code)?;
            helpers(m, || [addr, ZERO, ZERO, ZERO, ZERO, ZERO]);
        }
        Operation::MrUpdate => {
            let old_node = stack_word(m, 0);
            let (depth, index) = (m.get(4), m.get(5));
            let old_root = stack_word(m, 6);
            let new_node = stack_word(m, 10);
            let (addr, new_root) = m.merkle_update(old_node, depth, index, old_root, new_node)?;
            helpers(m, || [addr, ZERO, ZERO, ZERO, ZERO, ZERO]);
            set_stack_word(m, 0, &new_root);
        }
        Operation::LogPrecompile => {
            let cap = m.pc_transcript();
            let mut state = [ZERO; 12];
            state[..4].copy_from_slice(cap.as_elements());
            for i in 0..8 {
                state[4 + i] = m.get(7 - i);
            }
            let addr = m.permute(&mut state)?;
            helpers(m, || [addr, cap[0], cap[1], cap[2], cap[3], ZERO]);
            m.set_pc_transcript([state[0], state[1], state[2], state[3]].into());
            for (i, v) in state.iter().enumerate() {
                m.set(11 - i, *v);
            }
        }
        Operation::FriE2F4 => fri_fold4(m)?,
        Operation::HornerBase => horner_base(m)?,
        Operation::HornerExt => horner_ext(m)?,
        Operation::EvalCircuit => eval_circuit(m)?,

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
            )
            .into());
        }
    }
    Ok(())
}

// MEMORY STREAMS
// ------------------------------------------------------------------------------------------------

fn crypto_stream<M: Machine>(m: &mut M) -> Result<(), M::Error> {
    let clk = m.clk();
    let (src, dst) = (m.get(12), m.get(13));
    let span = |addr: Felt| -> Result<(u64, u64), ExecutionError> {
        let start = addr.as_int();
        if start + 8 > U32_MAX {
            return Err(ExecutionError::MemoryAddressOutOfBounds { clk, addr: start });
        }
        Ok((start, start + 8))
    };
    let (src_start, src_end) = span(src)?;
    let (dst_start, dst_end) = span(dst)?;
    if src_start < dst_end && dst_start < src_end {
        return Err(ExecutionError::OverlappingMemoryRanges { clk }.into());
    }
    let plain_a = m.mem_read_word(src)?;
    let plain_b = m.mem_read_word(src + felt(4))?;
    let cipher_a: Word = core::array::from_fn::<_, 4, _>(|i| plain_a[i] + m.get(7 - i)).into();
    let cipher_b: Word = core::array::from_fn::<_, 4, _>(|i| plain_b[i] + m.get(3 - i)).into();
    m.mem_write_word(dst, cipher_a)?;
    m.mem_write_word(dst + felt(4), cipher_b)?;
    set_two_words(m, &cipher_a, &cipher_b);
    m.set(12, src + felt(8));
    m.set(13, dst + felt(8));
    Ok(())
}
