//! Core types shared by every weft crate: the field, words and the RPO-256 hash (re-exported from
//! `miden-crypto` at the version upstream miden-vm 0.20.6 uses), the 93 VM operations with their
//! exact opcodes, the column layout of the core execution trace ([`trace`]) and of the whole
//! 71-column main trace ([`main_trace`]).
//!
//! This is the lowest crate of the workspace: it knows nothing of programs, processors or traces
//! beyond their shared vocabulary.

pub mod main_trace;
pub mod operations;
pub mod rpo;
pub mod trace;

pub use miden_crypto::{FieldElement, StarkField, Word, WordError, hash::rpo::Rpo256};
pub use operations::{OpCode, OpDecodeError, Operation};

/// An element of the 64-bit prime field `p = 2^64 - 2^32 + 1` used by the VM.
pub type Felt = miden_crypto::Felt;

/// The additive identity of the field.
pub const ZERO: Felt = Felt::ZERO;
/// The multiplicative identity of the field.
pub const ONE: Felt = Felt::ONE;

/// The number of elements in an RPO-256 permutation state.
pub const HASH_STATE_WIDTH: usize = Rpo256::STATE_WIDTH;

/// Picks the parallel iterator (first form) when the calling crate's `concurrent` feature is
/// on and the sequential one (second form) when it is off, so that the code after it is
/// written once for both. The feature tested is the caller's: the macro expands in its crate.
///
/// ```text
/// let sums: Vec<u64> = weft_core::maybe_par!(rows.par_iter(), rows.iter())
///     .map(|row| row.iter().sum())
///     .collect();
/// ```
#[macro_export]
macro_rules! maybe_par {
    ($par:expr, $seq:expr) => {{
        #[cfg(feature = "concurrent")]
        let iter = $par;
        #[cfg(not(feature = "concurrent"))]
        let iter = $seq;
        iter
    }};
}

/// Byte-level IO helpers re-exported from `miden-crypto` (winter-utils' reader/writer traits).
pub mod utils {
    pub use miden_crypto::utils::{
        ByteReader, ByteWriter, Deserializable, DeserializationError, Serializable, SliceReader,
    };
}

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
