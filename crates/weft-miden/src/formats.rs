//! Upstream's own MAST serialization, for the format benchmark (`cargo bench -p weft-benches
//! --bench formats`) to measure weft's formats against: the benchmark package reaches upstream
//! only through this harness.

use miden_core::{
    mast::MastForest,
    utils::{Deserializable, DeserializationError, Serializable},
};

/// `forest` with its decorators stripped and compacted, in upstream's serialization (the bytes
/// weft's stripped formats are compared with).
pub fn stripped_upstream_bytes(forest: &MastForest) -> Vec<u8> {
    let mut stripped = forest.clone();
    stripped.strip_decorators();
    stripped.compact();
    stripped.to_bytes()
}

/// Reads a forest with upstream's deserializer (digests recomputed, as upstream loads).
///
/// # Errors
/// Upstream's error for bytes it rejects.
pub fn read_upstream_forest(bytes: &[u8]) -> Result<MastForest, DeserializationError> {
    MastForest::read_from_bytes(bytes)
}
