//! The compact format's constants and its zigzag encoding of field elements, shared by its
//! writer and its reader.

use weft_core::{Felt, StarkField};

use crate::format::error::FormatError;

/// The magic bytes the format starts with.
pub const MAGIC: [u8; 8] = *b"WEFTCMPT";
/// The version this module writes and reads.
pub const VERSION: u8 = 1;
/// Flag bit of a file that holds a program (a program section follows the roots).
pub const FLAG_PROGRAM: u8 = 1;

pub(super) const EXPLICIT_0: u8 = 1 << 4;
pub(super) const EXPLICIT_1: u8 = 1 << 5;
pub(super) const SHARED: u8 = 1 << 6;

/// Half the modulus, rounded down: the largest value whose zigzag form is even.
const HALF: u64 = (Felt::MODULUS - 1) / 2;

pub(super) fn zigzag(v: u64) -> u64 {
    if v <= HALF {
        2 * v
    } else {
        2 * (Felt::MODULUS - v) - 1
    }
}

pub(super) fn unzigzag(z: u64, offset: usize) -> Result<Felt, FormatError> {
    let v = if z.is_multiple_of(2) {
        z / 2
    } else {
        // n = (z + 1) / 2 without overflow; n >= 1.
        let n = z / 2 + 1;
        Felt::MODULUS.saturating_sub(n)
    };
    // Only the canonical form is accepted: each felt has exactly one zigzag value.
    if v < Felt::MODULUS && zigzag(v) == z {
        Ok(Felt::new(v))
    } else {
        Err(FormatError::NonCanonicalFelt { offset, value: z })
    }
}
