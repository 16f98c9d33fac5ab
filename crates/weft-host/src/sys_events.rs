//! weft's implementations of the system events (`sys::*`), which the VM handles itself at an
//! `EMIT` without calling the host. Positions below are stack positions at the `EMIT` (0 holds
//! the event id).

use miden_crypto::QuadExtension;
use weft_core::{Felt, FieldElement, OpCode, Rpo256, Word, ZERO};

use crate::{AdviceProvider, ExecutionError, ProcessView, SystemEvent};

/// The stack position of the domain of `sys::hdword_to_map_with_domain`.
const HDWORD_DOMAIN_POSITION: usize = 9;

/// Handles a system event.
///
/// # Errors
/// Advice failures, a non-u32 operand of the bit-counting events, a zero argument of
/// `ilog2`/`ext2_inv`, and bad memory ranges of `mem_to_map`; all at `process.clk()`.
pub fn handle_system_event(
    event: SystemEvent,
    process: &dyn ProcessView,
    advice: &mut AdviceProvider,
) -> Result<(), ExecutionError> {
    let clk = process.clk();
    let adv = |err| ExecutionError::advice(clk, err);
    match event {
        SystemEvent::MerkleNodeMerge => {
            let lhs = process.stack_word_be(5);
            let rhs = process.stack_word_be(1);
            advice.merge_roots(lhs, rhs).map_err(adv)?;
        }
        SystemEvent::MerkleNodeToStack => {
            let depth = process.stack_item(1);
            let index = process.stack_item(2);
            let root = process.stack_word_be(3);
            let node = advice.get_tree_node(root, depth, index).map_err(adv)?;
            advice.push_stack_word(&node);
        }
        SystemEvent::MapValueToStack => {
            advice
                .push_from_map(process.stack_word_be(1), false, 0)
                .map_err(adv)?;
        }
        SystemEvent::MapValueToStackN0 => {
            advice
                .push_from_map(process.stack_word_be(1), true, 0)
                .map_err(adv)?;
        }
        SystemEvent::MapValueToStackN4 => {
            advice
                .push_from_map(process.stack_word_be(1), true, 4)
                .map_err(adv)?;
        }
        SystemEvent::MapValueToStackN8 => {
            advice
                .push_from_map(process.stack_word_be(1), true, 8)
                .map_err(adv)?;
        }
        SystemEvent::MapValueCountToStack => {
            let key = process.stack_word_be(1);
            let n = advice
                .get_mapped_values(&key)
                .ok_or(crate::AdviceError::MapKeyNotFound { key })
                .map_err(adv)?
                .len();
            advice.push_stack(Felt::new(n as u64));
        }
        SystemEvent::HasMapKey => {
            let present = advice.contains_map_key(&process.stack_word_be(1));
            advice.push_stack(Felt::new(u64::from(present)));
        }
        SystemEvent::Ext2Inv => {
            let element = QuadExtension::<Felt>::new(process.stack_item(2), process.stack_item(1));
            if element == QuadExtension::<Felt>::ZERO {
                return Err(ExecutionError::DivideByZero {
                    clk,
                    op: OpCode::Emit,
                });
            }
            let inv = element.inv().to_base_elements();
            advice.push_stack(inv[1]);
            advice.push_stack(inv[0]);
        }
        SystemEvent::U32Clz => push_u32_fn(process, advice, |v| v.leading_zeros())?,
        SystemEvent::U32Ctz => push_u32_fn(process, advice, |v| v.trailing_zeros())?,
        SystemEvent::U32Clo => push_u32_fn(process, advice, |v| v.leading_ones())?,
        SystemEvent::U32Cto => push_u32_fn(process, advice, |v| v.trailing_ones())?,
        SystemEvent::ILog2 => {
            let n = process.stack_item(1).as_int();
            if n == 0 {
                return Err(ExecutionError::LogArgumentZero { clk });
            }
            advice.push_stack(Felt::new(u64::from(n.ilog2())));
        }
        SystemEvent::MemToMap => {
            let start = process.stack_item(5).as_int();
            let end = process.stack_item(6).as_int();
            for addr in [start, end] {
                if addr > u64::from(u32::MAX) {
                    return Err(ExecutionError::MemoryAddressOutOfBounds { clk, addr });
                }
            }
            if start > end {
                return Err(ExecutionError::InvalidMemoryRange {
                    clk,
                    start_addr: start,
                    end_addr: end,
                });
            }
            let ctx = process.ctx();
            let values = (start as u32..end as u32)
                .map(|addr| process.mem_element(ctx, addr).unwrap_or(ZERO))
                .collect();
            advice
                .insert_into_map(process.stack_word_be(1), values)
                .map_err(adv)?;
        }
        SystemEvent::HdwordToMap => hdword_to_map(process, advice, ZERO)?,
        SystemEvent::HdwordToMapWithDomain => {
            let domain = process.stack_item(HDWORD_DOMAIN_POSITION);
            hdword_to_map(process, advice, domain)?;
        }
        SystemEvent::HqwordToMap => {
            let words: Vec<Word> = [13, 9, 5, 1]
                .into_iter()
                .map(|i| process.stack_word_be(i))
                .collect();
            let values: Vec<Felt> = words.iter().flat_map(|w| w.iter().copied()).collect();
            let key = Rpo256::hash_elements(&values);
            advice.insert_into_map(key, values).map_err(adv)?;
        }
        SystemEvent::HpermToMap => {
            let mut state: [Felt; 12] = core::array::from_fn(|i| process.stack_item(12 - i));
            let values = state[4..12].to_vec();
            weft_core::rpo::permute(&mut state);
            let key: Word = [state[4], state[5], state[6], state[7]].into();
            advice.insert_into_map(key, values).map_err(adv)?;
        }
    }
    Ok(())
}

fn hdword_to_map(
    process: &dyn ProcessView,
    advice: &mut AdviceProvider,
    domain: Felt,
) -> Result<(), ExecutionError> {
    let word0 = process.stack_word_be(1);
    let word1 = process.stack_word_be(5);
    let key = weft_core::rpo::merge_in_domain(&[word1, word0], domain);
    let values: Vec<Felt> = word1.iter().chain(word0.iter()).copied().collect();
    advice
        .insert_into_map(key, values)
        .map_err(|err| ExecutionError::advice(process.clk(), err))
}

fn push_u32_fn(
    process: &dyn ProcessView,
    advice: &mut AdviceProvider,
    f: impl FnOnce(u32) -> u32,
) -> Result<(), ExecutionError> {
    let top = process.stack_item(1).as_int();
    let value = u32::try_from(top).map_err(|_| ExecutionError::NotU32Values {
        clk: process.clk(),
        op: OpCode::Emit,
        values: vec![top],
        err_code: 0,
    })?;
    advice.push_stack(Felt::new(u64::from(f(value))));
    Ok(())
}
