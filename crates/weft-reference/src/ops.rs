//! The user operations (those inside basic blocks), one arm each, with upstream's semantics and
//! decoder helper registers. Each returns the six user-op helper registers `h2..h7`.
//!
//! Stack effects are written with three primitives of [`crate::state::Stack`]: writing `top[i]`,
//! `remove(i)` (a left shift from position `i + 1`, refilling `s15` from the overflow table) and
//! `insert(i, v, clk)` (a right shift from position `i`, spilling `s15` into it). These match
//! upstream's left and right shifts exactly, including the overflow bookkeeping that `b1` shows.

use miden_crypto::QuadExtension;
use weft_core::{Felt, FieldElement, ONE, OpCode, Operation, StarkField, Word, ZERO};
use weft_host::{EventId, ExecutionError, Host, SystemEvent, handle_system_event};

use crate::{processor::Processor, state::View};

type QuadFelt = QuadExtension<Felt>;
type Helpers = [Felt; 6];

const NONE: Helpers = [ZERO; 6];
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
    p: &Processor<'_, H>,
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
fn range_helpers(lo: u64, hi: u64, element_check: bool) -> Helpers {
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
    p: &mut Processor<'_, H>,
    op: Operation,
) -> Result<Helpers, ExecutionError> {
    let clk = p.clk;
    let code = op.op_code();
    let s = |p: &Processor<'_, H>, i: usize| p.stack.get(i);
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
            return Ok(range_helpers(lo, hi, true));
        }
        Operation::U32assert2(err_code) => {
            let [b, a] = u32_operands(p, [0, 1], code, err_code)?;
            return Ok(range_helpers(a, b, false));
        }
        Operation::U32add => {
            let [b, a] = u32_operands(p, [0, 1], code, ZERO)?;
            let r = a + b;
            let (hi, lo) = (r >> 32, r & U32_MAX);
            p.stack.top[0] = felt(hi);
            p.stack.top[1] = felt(lo);
            return Ok(range_helpers(lo, hi, false));
        }
        Operation::U32add3 => {
            let [c, b, a] = u32_operands(p, [0, 1, 2], code, ZERO)?;
            let r = a + b + c;
            let (hi, lo) = (r >> 32, r & U32_MAX);
            p.stack.top[0] = felt(hi);
            p.stack.top[1] = felt(lo);
            p.stack.remove(2);
            return Ok(range_helpers(lo, hi, false));
        }
        Operation::U32sub => {
            let [b, a] = u32_operands(p, [0, 1], code, ZERO)?;
            let r = a.wrapping_sub(b);
            let (borrow, c) = (r >> 63, r & U32_MAX);
            p.stack.top[0] = felt(borrow);
            p.stack.top[1] = felt(c);
            return Ok(range_helpers(c, 0, false));
        }
        Operation::U32mul => {
            let [b, a] = u32_operands(p, [0, 1], code, ZERO)?;
            let r = felt(a * b).as_int();
            let (hi, lo) = (r >> 32, r & U32_MAX);
            p.stack.top[0] = felt(hi);
            p.stack.top[1] = felt(lo);
            return Ok(range_helpers(lo, hi, true));
        }
        Operation::U32madd => {
            let [b, a, c] = u32_operands(p, [0, 1, 2], code, ZERO)?;
            let r = felt(a * b + c).as_int();
            let (hi, lo) = (r >> 32, r & U32_MAX);
            p.stack.top[0] = felt(hi);
            p.stack.top[1] = felt(lo);
            p.stack.remove(2);
            return Ok(range_helpers(lo, hi, true));
        }
        Operation::U32div => {
            let [b, a] = u32_operands(p, [0, 1], code, ZERO)?;
            if b == 0 {
                return Err(ExecutionError::DivideByZero { clk, op: code });
            }
            let (q, r) = (a / b, a % b);
            p.stack.top[0] = felt(r);
            p.stack.top[1] = felt(q);
            return Ok(range_helpers(a - q, b - r - 1, false));
        }
        Operation::U32and | Operation::U32xor => {
            let [b, a] = u32_operands(p, [0, 1], code, ZERO)?;
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
            set_dword(p, w0, w1);
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
            set_dword(p, w0, w1);
            p.stack.top[12] = addr + felt(8);
        }
        Operation::CryptoStream => crypto_stream(p)?,

        // CRYPTO
        Operation::HPerm => {
            let state: [Felt; 12] = core::array::from_fn(|i| s(p, 11 - i));
            let (addr, out) = p.permute(state);
            for i in 0..12 {
                p.stack.top[i] = out[11 - i];
            }
            return Ok([addr, ZERO, ZERO, ZERO, ZERO, ZERO]);
        }
        Operation::MpVerify(err_code) => {
            let node: Word = [s(p, 3), s(p, 2), s(p, 1), s(p, 0)].into();
            let (depth, index) = (s(p, 4), s(p, 5));
            let root: Word = [s(p, 9), s(p, 8), s(p, 7), s(p, 6)].into();
            let path = p
                .advice
                .get_merkle_path(root, depth, index)
                .map_err(|e| ExecutionError::advice(clk, e))?;
            let addr = p.hash_rows(path.len() as u64);
            let computed = compute_root(node, &path, index.as_int());
            if computed != root {
                return Err(ExecutionError::MerklePathVerificationFailed {
                    clk,
                    value: node,
                    index,
                    root,
                    err_code: err_code.as_int(),
                });
            }
            return Ok([addr, ZERO, ZERO, ZERO, ZERO, ZERO]);
        }
        Operation::MrUpdate => {
            let old_node: Word = [s(p, 3), s(p, 2), s(p, 1), s(p, 0)].into();
            let (depth, index) = (s(p, 4), s(p, 5));
            let old_root: Word = [s(p, 9), s(p, 8), s(p, 7), s(p, 6)].into();
            let new_node: Word = [s(p, 13), s(p, 12), s(p, 11), s(p, 10)].into();
            let (path, _) = p
                .advice
                .update_merkle_node(old_root, depth, index, new_node)
                .map_err(|e| ExecutionError::advice(clk, e))?;
            if path.len() as u64 != depth.as_int()
                || compute_root(old_node, &path, index.as_int()) != old_root
            {
                return Err(ExecutionError::FailedToExecuteProgram(
                    "MRUPDATE: old node does not match the Merkle store",
                ));
            }
            let addr = p.hash_rows(2 * path.len() as u64);
            let new_root = compute_root(new_node, &path, index.as_int());
            p.stack.top[..4].copy_from_slice(&[new_root[3], new_root[2], new_root[1], new_root[0]]);
            return Ok([addr, ZERO, ZERO, ZERO, ZERO, ZERO]);
        }
        Operation::LogPrecompile => {
            let comm = [s(p, 3), s(p, 2), s(p, 1), s(p, 0)];
            let tag = [s(p, 7), s(p, 6), s(p, 5), s(p, 4)];
            let cap = p.pc_transcript;
            let mut state = [ZERO; 12];
            state[..4].copy_from_slice(cap.as_elements());
            state[4..8].copy_from_slice(&tag);
            state[8..].copy_from_slice(&comm);
            let (addr, out) = p.permute(state);
            p.pc_transcript = [out[0], out[1], out[2], out[3]].into();
            for i in 0..12 {
                p.stack.top[i] = out[11 - i];
            }
            return Ok([addr, cap[0], cap[1], cap[2], cap[3], ZERO]);
        }
        Operation::FriE2F4 => return fri_ext2fold4(p),
        Operation::HornerBase => return horner_base(p),
        Operation::HornerExt => return horner_ext(p),
        Operation::EvalCircuit => {
            let (ptr, n_read, n_eval) = (s(p, 0), s(p, 1), s(p, 2));
            crate::ace::eval_circuit(p, ptr, n_read, n_eval)?;
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
    Ok(NONE)
}

fn dup<H: Host>(p: &mut Processor<'_, H>, n: usize) {
    let v = p.stack.get(n);
    let clk = p.clk;
    p.stack.push(v, clk);
}

/// Swaps the `len` elements at `a` with the `len` elements at `b`.
fn swap_ranges<H: Host>(p: &mut Processor<'_, H>, a: usize, b: usize, len: usize) {
    for i in 0..len {
        p.stack.top.swap(a + i, b + i);
    }
}

/// Writes two words onto `s0..s7` the way `MSTREAM`/`PIPE` do: `s7` = `w0[0]`, `s0` = `w1[3]`.
fn set_dword<H: Host>(p: &mut Processor<'_, H>, w0: Word, w1: Word) {
    let flat: Vec<Felt> = w0.iter().chain(w1.iter()).copied().collect();
    for (i, v) in flat.iter().rev().enumerate() {
        p.stack.top[i] = *v;
    }
}

/// Computes the root of the tree where `node` sits at `index` under `path` (leaf level first).
fn compute_root(node: Word, path: &miden_crypto::merkle::MerklePath, mut index: u64) -> Word {
    let mut value = node;
    for sibling in path.iter() {
        value = if index & 1 == 0 {
            weft_core::Rpo256::merge(&[value, *sibling])
        } else {
            weft_core::Rpo256::merge(&[*sibling, value])
        };
        index >>= 1;
    }
    value
}

fn emit<H: Host>(p: &mut Processor<'_, H>) -> Result<(), ExecutionError> {
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

fn crypto_stream<H: Host>(p: &mut Processor<'_, H>) -> Result<(), ExecutionError> {
    let clk = p.clk;
    let (src, dst) = (p.stack.get(12), p.stack.get(13));
    let range = |addr: Felt| -> Result<(u32, u32), ExecutionError> {
        let a =
            u32::try_from(addr.as_int()).map_err(|_| ExecutionError::MemoryAddressOutOfBounds {
                clk,
                addr: addr.as_int(),
            })?;
        let end = a
            .checked_add(8)
            .ok_or(ExecutionError::MemoryAddressOutOfBounds {
                clk,
                addr: addr.as_int(),
            })?;
        Ok((a, end))
    };
    let (src_start, src_end) = range(src)?;
    let (dst_start, dst_end) = range(dst)?;
    if src_start < dst_end && dst_start < src_end {
        return Err(ExecutionError::OverlappingMemoryRanges { clk });
    }
    let plain0 = p.memory.read_word(p.ctx, src, clk)?;
    let plain1 = p.memory.read_word(p.ctx, src + felt(4), clk)?;
    let rate: [Felt; 8] = core::array::from_fn(|i| p.stack.get(7 - i));
    let c0: Word = core::array::from_fn::<_, 4, _>(|i| plain0[i] + rate[i]).into();
    let c1: Word = core::array::from_fn::<_, 4, _>(|i| plain1[i] + rate[4 + i]).into();
    p.memory.write_word(p.ctx, dst, clk, c0)?;
    p.memory.write_word(p.ctx, dst + felt(4), clk, c1)?;
    set_dword(p, c0, c1);
    p.stack.top[12] = src + felt(8);
    p.stack.top[13] = dst + felt(8);
    Ok(())
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

fn fri_ext2fold4<H: Host>(p: &mut Processor<'_, H>) -> Result<Helpers, ExecutionError> {
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

fn horner_base<H: Host>(p: &mut Processor<'_, H>) -> Result<Helpers, ExecutionError> {
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

fn horner_ext<H: Host>(p: &mut Processor<'_, H>) -> Result<Helpers, ExecutionError> {
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
