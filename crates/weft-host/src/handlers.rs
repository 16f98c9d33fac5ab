//! weft's implementations of the core library's event handlers that conformance programs use:
//! `u64_div` and `smt_peek`. Positions are stack positions at the `EMIT` (0 holds the event id).

use miden_crypto::merkle::{EmptySubtreeRoots, smt::SMT_DEPTH};
use weft_core::{Felt, Word, ZERO};

use crate::{AdviceMutation, AdviceProvider, EventError, ProcessView};

/// The name of the core library's 64-bit division event.
pub const U64_DIV_EVENT_NAME: &str = "miden::core::math::u64::u64_div";
/// The name of the core library's sparse-Merkle-tree peek event.
pub const SMT_PEEK_EVENT_NAME: &str = "miden::core::collections::smt::smt_peek";

/// Why a core library handler failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
enum HandlerError {
    #[error("division by zero")]
    DivideByZero,
    #[error("value {value} at {position} is not a valid u32")]
    NotU32Value { value: u64, position: &'static str },
    #[error("smt node {node:?} not found")]
    SmtNodeNotFound { node: Word },
    #[error("invalid smt leaf preimage length {len} for node {node:?}")]
    InvalidSmtNodePreimage { node: Word, len: usize },
}

fn u32_at(
    process: &dyn ProcessView,
    idx: usize,
    position: &'static str,
) -> Result<u64, HandlerError> {
    let value = process.stack_item(idx).as_int();
    if value > u64::from(u32::MAX) {
        return Err(HandlerError::NotU32Value { value, position });
    }
    Ok(value)
}

/// `u64_div`: with the divisor `(hi, lo)` at positions 1, 2 and the dividend at 3, 4, pushes
/// `[r_hi, r_lo, q_hi, q_lo]` onto the advice stack (so `q_lo` ends on top).
///
/// # Errors
/// A limb that is not u32, or a zero divisor.
pub fn handle_u64_div(
    process: &dyn ProcessView,
    _advice: &AdviceProvider,
) -> Result<Vec<AdviceMutation>, EventError> {
    let divisor = (u32_at(process, 1, "divisor_hi")? << 32) + u32_at(process, 2, "divisor_lo")?;
    if divisor == 0 {
        return Err(HandlerError::DivideByZero.into());
    }
    let dividend = (u32_at(process, 3, "dividend_hi")? << 32) + u32_at(process, 4, "dividend_lo")?;
    let q = dividend / divisor;
    let r = dividend % divisor;
    let split = |v: u64| (Felt::new(v >> 32), Felt::new(v & 0xFFFF_FFFF));
    let (q_hi, q_lo) = split(q);
    let (r_hi, r_lo) = split(r);
    Ok(vec![AdviceMutation::extend_stack([r_hi, r_lo, q_hi, q_lo])])
}

/// `smt_peek`: with a key word at positions 1..5 and a root at 5..9 (big-endian words), pushes
/// the value stored under the key (or the empty word) onto the advice stack.
///
/// # Errors
/// The leaf is not in the Merkle store, or its preimage is missing or malformed.
pub fn handle_smt_peek(
    process: &dyn ProcessView,
    advice: &AdviceProvider,
) -> Result<Vec<AdviceMutation>, EventError> {
    let empty_leaf = *EmptySubtreeRoots::entry(SMT_DEPTH, SMT_DEPTH);
    let key = process.stack_word_be(1);
    let root = process.stack_word_be(5);
    let node = advice.get_tree_node(root, Felt::new(u64::from(SMT_DEPTH)), key[3])?;
    let empty = [ZERO; 4];
    let push_word = |w: [Felt; 4]| vec![AdviceMutation::extend_stack(w.into_iter().rev())];
    if node == empty_leaf {
        return Ok(push_word(empty));
    }
    let pairs = advice
        .get_mapped_values(&node)
        .ok_or(HandlerError::SmtNodeNotFound { node })?;
    if pairs.len() % 8 != 0 {
        return Err(HandlerError::InvalidSmtNodePreimage {
            node,
            len: pairs.len(),
        }
        .into());
    }
    for chunk in pairs.chunks_exact(8) {
        let k: Word = [chunk[0], chunk[1], chunk[2], chunk[3]].into();
        if k == key {
            return Ok(push_word([chunk[4], chunk[5], chunk[6], chunk[7]]));
        }
    }
    Ok(push_word(empty))
}
