//! weft's implementations of the core library's event handlers that conformance programs use:
//! `u64_div`, `falcon_div`, `smt_peek`, the two sorted-array lower-bound searches and the
//! Keccak-256 precompile (SHA-512, ECDSA, EdDSA and AEAD decryption are in `precompiles.rs`).
//! Positions are stack positions at the `EMIT` (0 holds the event id).

use miden_crypto::merkle::{EmptySubtreeRoots, smt::SMT_DEPTH};
use weft_core::{Felt, Word, ZERO};

use crate::{AdviceMutation, AdviceProvider, EventError, ProcessView};

/// The name of the core library's 64-bit division event.
pub const U64_DIV_EVENT_NAME: &str = "miden::core::math::u64::u64_div";
/// The name of the core library's division by the Falcon modulus.
pub const FALCON_DIV_EVENT_NAME: &str = "miden::core::crypto::dsa::falcon512rpo::falcon_div";
/// The name of the core library's lower-bound search in a sorted array of words.
pub const LOWERBOUND_ARRAY_EVENT_NAME: &str =
    "miden::core::collections::sorted_array::lowerbound_array";
/// The name of the core library's lower-bound search in a sorted array of key-value pairs.
pub const LOWERBOUND_KEY_VALUE_EVENT_NAME: &str =
    "miden::core::collections::sorted_array::lowerbound_key_value";
/// The name of the core library's Keccak-256 precompile event.
pub const KECCAK_HASH_BYTES_EVENT_NAME: &str = "miden::core::hash::keccak256::hash_bytes";
/// The name of the core library's sparse-Merkle-tree peek event.
pub const SMT_PEEK_EVENT_NAME: &str = "miden::core::collections::smt::smt_peek";

/// Why a core library handler failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum HandlerError {
    #[error("division by zero")]
    DivideByZero,
    #[error("value {value} at {position} is not a valid u32")]
    NotU32Value { value: u64, position: &'static str },
    #[error("smt node {node:?} not found")]
    SmtNodeNotFound { node: Word },
    #[error("invalid smt leaf preimage length {len} for node {node:?}")]
    InvalidSmtNodePreimage { node: Word, len: usize },
    #[error("memory address {addr} out of bounds")]
    AddressOutOfBounds { addr: u64 },
    #[error("memory range start {start} is past its end {end}")]
    InvalidMemoryRange { start: u64, end: u64 },
    #[error("array start address {addr} is not word aligned")]
    UnalignedArray { addr: u32 },
    #[error("array size {size} is not a multiple of {stride}")]
    InvalidArraySize { size: u32, stride: u32 },
    #[error("array element at address {addr} is smaller than its predecessor")]
    NotAscendingOrder { addr: u32 },
    #[error("use_full_key must be 0 or 1, was {value}")]
    InvalidKeyFlag { value: u64 },
    #[error("bad byte range: start {start}, {len_bytes} bytes")]
    BadByteRange { start: u64, len_bytes: u64 },
    #[error("memory at address {addr} was never written")]
    UnwrittenMemory { addr: u32 },
    #[error("memory value {value} at address {addr} is not a u32")]
    NotU32Memory { value: u64, addr: u32 },
    #[error("non-zero padding byte at position {position}")]
    NonZeroPadding { position: usize },
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

/// `falcon_div`: with a u64 dividend `(hi, lo)` at positions 1, 2, pushes `[r, q_lo, q_hi]` for
/// the division by the Falcon modulus 12289 (so `q_hi` ends on top).
///
/// # Errors
/// A limb that is not u32.
pub fn handle_falcon_div(
    process: &dyn ProcessView,
    _advice: &AdviceProvider,
) -> Result<Vec<AdviceMutation>, EventError> {
    const FALCON_MODULUS: u64 = 12289;
    let lo = u32_at(process, 2, "dividend_lo")?;
    let hi = u32_at(process, 1, "dividend_hi")?;
    let dividend = (hi << 32) + lo;
    let (q, r) = (dividend / FALCON_MODULUS, dividend % FALCON_MODULUS);
    Ok(vec![AdviceMutation::extend_stack([
        Felt::new(r),
        Felt::new(q & 0xFFFF_FFFF),
        Felt::new(q >> 32),
    ])])
}

/// Compares words as upstream's lexicographic order does: the last element is the most
/// significant.
fn lexicographic(word: &Word) -> [u64; 4] {
    [
        word[3].as_int(),
        word[2].as_int(),
        word[1].as_int(),
        word[0].as_int(),
    ]
}

/// Lower-bound search over the words at `[start, end)` (positions 5, 6) taken every `stride`
/// elements, for the key at positions 1..5. Pushes `[found, addr]` (the address of the first
/// element not less than the key, or `end`), so `addr` ends on top.
fn lower_bound(
    process: &dyn ProcessView,
    stride: u32,
    half_key: bool,
) -> Result<Vec<AdviceMutation>, EventError> {
    let key = lexicographic(&process.stack_word_be(1));
    let (start, end) = (
        process.stack_item(5).as_int(),
        process.stack_item(6).as_int(),
    );
    for addr in [start, end] {
        if addr > u64::from(u32::MAX) {
            return Err(HandlerError::AddressOutOfBounds { addr }.into());
        }
    }
    if start > end {
        return Err(HandlerError::InvalidMemoryRange { start, end }.into());
    }
    let (start, end) = (start as u32, end as u32);
    if start % 4 != 0 {
        return Err(HandlerError::UnalignedArray { addr: start }.into());
    }
    if (end - start) % stride != 0 {
        return Err(HandlerError::InvalidArraySize {
            size: end - start,
            stride,
        }
        .into());
    }
    let ctx = process.ctx();
    let search_key = |addr: u32| {
        let mut word: [Felt; 4] =
            core::array::from_fn(|i| process.mem_element(ctx, addr + i as u32).unwrap_or(ZERO));
        if half_key {
            word[0] = ZERO;
            word[1] = ZERO;
        }
        lexicographic(&word.into())
    };
    let mut found = false;
    let mut result = None;
    let mut previous: Option<[u64; 4]> = None;
    for addr in (start..end).step_by(stride as usize) {
        let current = search_key(addr);
        if previous.is_some_and(|p| current < p) {
            return Err(HandlerError::NotAscendingOrder { addr }.into());
        }
        if result.is_none() && current >= key {
            found = current == key;
            result = Some(addr);
        }
        previous = Some(current);
    }
    Ok(vec![AdviceMutation::extend_stack([
        Felt::new(u64::from(found)),
        Felt::new(u64::from(result.unwrap_or(end))),
    ])])
}

/// `lowerbound_array`: lower-bound search in a sorted array of words.
///
/// # Errors
/// A bad or unaligned range, or an array that is not sorted.
pub fn handle_lowerbound_array(
    process: &dyn ProcessView,
    _advice: &AdviceProvider,
) -> Result<Vec<AdviceMutation>, EventError> {
    lower_bound(process, 4, false)
}

/// `lowerbound_key_value`: lower-bound search in a sorted array of key-value word pairs; the
/// flag at position 7 selects a full-word key (1) or only its two last elements (0).
///
/// # Errors
/// A bad flag, a bad or unaligned range, or keys that are not sorted.
pub fn handle_lowerbound_key_value(
    process: &dyn ProcessView,
    _advice: &AdviceProvider,
) -> Result<Vec<AdviceMutation>, EventError> {
    match process.stack_item(7).as_int() {
        0 => lower_bound(process, 8, true),
        1 => lower_bound(process, 8, false),
        value => Err(HandlerError::InvalidKeyFlag { value }.into()),
    }
}

/// The most elements [`read_packed_bytes`] reserves room for before reading them.
const READ_CAPACITY: u64 = 1 << 12;

/// Reads `len_bytes` bytes packed four per element (little-endian u32s) from memory at the
/// word-aligned address `start` of the current context. Every element read must have been
/// written, hold a u32, and the bytes past `len_bytes` in the last element must be zero.
pub(crate) fn read_packed_bytes(
    process: &dyn ProcessView,
    start: u64,
    len_bytes: u64,
) -> Result<Vec<u8>, HandlerError> {
    let bad = HandlerError::BadByteRange { start, len_bytes };
    if !start.is_multiple_of(4) {
        return Err(bad);
    }
    let n_elements = len_bytes.div_ceil(4);
    let end = start.checked_add(n_elements).ok_or(bad.clone())?;
    let (start32, end32) = (
        u32::try_from(start).map_err(|_| bad.clone())?,
        u32::try_from(end).map_err(|_| bad)?,
    );
    let ctx = process.ctx();
    // The length is the program's word: up to 2^34 bytes fit the address checks above. Only
    // written memory is read (an unwritten element ends the read with an error), and what a
    // run writes is bounded by its cycles, so the buffer grows with what is there instead of
    // being sized from the length.
    let mut bytes = Vec::with_capacity(4 * n_elements.min(READ_CAPACITY) as usize);
    for addr in start32..end32 {
        let value = process
            .mem_element(ctx, addr)
            .ok_or(HandlerError::UnwrittenMemory { addr })?
            .as_int();
        let packed =
            u32::try_from(value).map_err(|_| HandlerError::NotU32Memory { value, addr })?;
        bytes.extend(packed.to_le_bytes());
    }
    let len = len_bytes as usize;
    if let Some(offset) = bytes[len..].iter().position(|&b| b != 0) {
        return Err(HandlerError::NonZeroPadding {
            position: len + offset,
        });
    }
    bytes.truncate(len);
    Ok(bytes)
}

/// `keccak256::hash_bytes`: with a pointer at position 1 and a byte length at position 2,
/// hashes the packed bytes in memory with Keccak-256, pushes the digest as eight little-endian
/// u32 elements (the last one ends on top) and logs a precompile request with the bytes.
///
/// # Errors
/// A bad range or memory contents (see the packing rules above).
pub fn handle_keccak_hash_bytes(
    process: &dyn ProcessView,
    _advice: &AdviceProvider,
) -> Result<Vec<AdviceMutation>, EventError> {
    let ptr = process.stack_item(1).as_int();
    let len_bytes = process.stack_item(2).as_int();
    let bytes = read_packed_bytes(process, ptr, len_bytes)?;
    let digest = miden_crypto::hash::keccak::Keccak256::hash(&bytes);
    let digest: &[u8] = digest.as_ref();
    let felts: Vec<Felt> = digest
        .chunks_exact(4)
        .map(|c| Felt::new(u64::from(u32::from_le_bytes([c[0], c[1], c[2], c[3]]))))
        .collect();
    Ok(vec![
        AdviceMutation::extend_stack(felts),
        AdviceMutation::ExtendPrecompileRequests {
            data: vec![crate::PrecompileRequest {
                event_id: crate::EventId::from_name(KECCAK_HASH_BYTES_EVENT_NAME),
                calldata: bytes,
            }],
        },
    ])
}
