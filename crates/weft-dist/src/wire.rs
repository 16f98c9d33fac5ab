//! What travels: job messages (JSON) and the three kinds of blob (contexts, forests, rows).
//!
//! # Contexts blob
//! A little-endian `u32` count, then that many [`FragmentContext`]s in their winter-utils
//! encoding (a `u64` length, then the bincode body), nothing after. Read with the context's own
//! untrusted decoder (size limit, complete decoding, canonical field elements).
//!
//! # Forest blob
//! One [`MastForest`] in its winter-utils encoding (weft's fast format), read through the
//! untrusted path: every limit checked and every digest recomputed.
//!
//! # Rows blob
//! | bytes | field |
//! |---|---|
//! | 8 | magic [`ROWS_MAGIC`] |
//! | 4 | version, `1` (little-endian `u32`, as every field) |
//! | 4 | flags: bit 0, the first row is a `REPEAT` still to be completed |
//! | 8 | first row |
//! | 8 | number of rows `n` |
//! | 4 | number of columns, `49` |
//! | 4 | zero |
//! | `49 * n * 8` | the columns one after the other, each `n` canonical field elements as `u64`s |
//!
//! Column-major, like the trace, so assembly copies whole columns. A core row is 392 bytes.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use weft_core::{
    Felt, StarkField,
    trace::CORE_TRACE_WIDTH,
    utils::{ByteReader, Deserializable, Serializable, SliceReader},
};
use weft_mast::MastForest;
use weft_replay::FragmentContext;
use weft_tracegen::CoreRows;

use crate::{Digest, JobError};

/// The version of job messages and rows blobs.
pub(crate) const WIRE_VERSION: u32 = 1;

/// The first bytes of a rows blob.
pub const ROWS_MAGIC: [u8; 8] = *b"WEFTROWS";

const ROWS_HEADER: usize = 40;

/// The largest job message or record read, in bytes.
pub(crate) const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// The largest forest blob read, in bytes.
pub(crate) const MAX_FOREST_BYTES: u64 = 1 << 30;

/// The largest contexts blob read, in bytes.
pub(crate) const MAX_CONTEXTS_BYTES: u64 = 1 << 30;

/// What a job computes. Only core rows for now; segments of the chiplets or proofs would be
/// further kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum JobKind {
    /// The 49 core columns of a range of fragments.
    CoreRows,
}

/// One job: a contiguous range of fragments of one run, and where its inputs lie.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobSpec {
    /// The message format's version ([`WIRE_VERSION`]).
    pub version: u32,
    /// The run it belongs to.
    pub run: String,
    /// The job's index in the run.
    pub job: u32,
    /// What to compute.
    pub kind: JobKind,
    /// Rows per fragment.
    pub fragment_size: u32,
    /// Executed rows of the whole execution.
    pub n_cycles: u32,
    /// The first fragment.
    pub first_fragment: u32,
    /// The number of fragments.
    pub n_fragments: u32,
    /// The contexts blob.
    pub contexts: Digest,
    /// The forest table, one blob per forest, in index order.
    pub forests: Vec<Digest>,
}

impl JobSpec {
    /// The rows the job produces: its first row and its number of rows (the execution's last
    /// fragment includes the `HALT` row).
    pub fn rows(&self) -> (u64, u64) {
        let size = u64::from(self.fragment_size);
        let first = u64::from(self.first_fragment) * size;
        let end = u64::from(self.first_fragment) + u64::from(self.n_fragments);
        let n_cycles = u64::from(self.n_cycles);
        let last_row = if end * size >= n_cycles {
            n_cycles + 1
        } else {
            end * size
        };
        (first, last_row.saturating_sub(first))
    }

    /// The message's bytes.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("job specs always serialize")
    }

    /// Decodes a message (untrusted).
    ///
    /// # Errors
    /// Too long, not JSON of a job, or another version.
    pub fn from_json(bytes: &[u8]) -> Result<Self, JobError> {
        let spec: Self = decode_json("job message", bytes)?;
        if spec.version != WIRE_VERSION {
            return Err(JobError::Message {
                what: "job message",
                message: format!("version {} (expected {WIRE_VERSION})", spec.version),
            });
        }
        Ok(spec)
    }
}

/// Decodes a small JSON value, refusing long input before parsing.
pub(crate) fn decode_json<T: for<'de> Deserialize<'de>>(
    what: &'static str,
    bytes: &[u8],
) -> Result<T, JobError> {
    if bytes.len() > MAX_MESSAGE_BYTES {
        return Err(JobError::Message {
            what,
            message: format!("{} bytes (limit {MAX_MESSAGE_BYTES})", bytes.len()),
        });
    }
    serde_json::from_slice(bytes).map_err(|e| JobError::Message {
        what,
        message: e.to_string(),
    })
}

/// Encodes the contexts of one job.
pub(crate) fn encode_contexts(fragments: &[FragmentContext]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(fragments.len() as u32).to_le_bytes());
    for fragment in fragments {
        fragment.write_into(&mut out);
    }
    out
}

/// Decodes the contexts of a job of `expected` fragments (untrusted).
pub(crate) fn decode_contexts(
    bytes: &[u8],
    expected: u32,
) -> Result<Vec<FragmentContext>, JobError> {
    let bad = |message: String| JobError::Decode {
        what: "contexts",
        message,
    };
    let mut reader = SliceReader::new(bytes);
    let count = reader.read_u32().map_err(|e| bad(format!("count: {e}")))?;
    if count != expected {
        return Err(bad(format!(
            "{count} contexts, the job has {expected} fragments"
        )));
    }
    let mut fragments = Vec::new();
    for i in 0..count {
        let fragment = FragmentContext::read_from(&mut reader)
            .map_err(|e| bad(format!("context {i}: {e}")))?;
        fragments.push(fragment);
    }
    if reader.has_more_bytes() {
        return Err(bad("bytes after the last context".into()));
    }
    Ok(fragments)
}

/// Encodes a forest.
pub(crate) fn encode_forest(forest: &MastForest) -> Vec<u8> {
    forest.to_bytes()
}

/// Decodes and validates a forest (untrusted).
pub(crate) fn decode_forest(bytes: &[u8]) -> Result<Arc<MastForest>, JobError> {
    MastForest::read_from_bytes(bytes)
        .map(Arc::new)
        .map_err(|e| JobError::Decode {
            what: "forest",
            message: e.to_string(),
        })
}

/// Encodes core rows.
pub(crate) fn encode_rows(rows: &CoreRows) -> Vec<u8> {
    let n = rows.n_rows();
    let mut out = Vec::with_capacity(ROWS_HEADER + CORE_TRACE_WIDTH * n * 8);
    out.extend_from_slice(&ROWS_MAGIC);
    out.extend_from_slice(&WIRE_VERSION.to_le_bytes());
    out.extend_from_slice(&u32::from(rows.starts_with_repeat()).to_le_bytes());
    out.extend_from_slice(&(rows.first_row() as u64).to_le_bytes());
    out.extend_from_slice(&(n as u64).to_le_bytes());
    out.extend_from_slice(&(CORE_TRACE_WIDTH as u32).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    for column in rows.columns() {
        for value in column {
            out.extend_from_slice(&value.as_int().to_le_bytes());
        }
    }
    out
}

/// The size of the rows blob of `n_rows` rows.
pub(crate) fn rows_blob_len(n_rows: u64) -> u64 {
    ROWS_HEADER as u64 + CORE_TRACE_WIDTH as u64 * n_rows * 8
}

/// Decodes the rows blob of a job expected to hold rows `first..first + n` (untrusted).
pub(crate) fn decode_rows(bytes: &[u8], first: u64, n: u64) -> Result<CoreRows, JobError> {
    let bad = |message: String| JobError::Decode {
        what: "rows",
        message,
    };
    if bytes.len() < ROWS_HEADER {
        return Err(bad(format!(
            "{} bytes, shorter than the header",
            bytes.len()
        )));
    }
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
    let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
    if bytes[..8] != ROWS_MAGIC || u32_at(8) != WIRE_VERSION {
        return Err(bad("not a version-1 rows blob".into()));
    }
    let flags = u32_at(12);
    if flags > 1 || u32_at(32) as usize != CORE_TRACE_WIDTH || u32_at(36) != 0 {
        return Err(bad("unknown flags or column count".into()));
    }
    let (found_first, found_rows) = (u64_at(16), u64_at(24));
    if (found_first, found_rows) != (first, n) {
        return Err(JobError::RowsShape {
            expected_first: first,
            expected_rows: n,
            found_first,
            found_rows,
        });
    }
    if bytes.len() as u64 != rows_blob_len(n) {
        return Err(bad(format!(
            "{} bytes, expected {}",
            bytes.len(),
            rows_blob_len(n)
        )));
    }
    let n = n as usize;
    let mut columns = Vec::with_capacity(CORE_TRACE_WIDTH);
    for (c, chunk) in bytes[ROWS_HEADER..].chunks_exact(n * 8).enumerate() {
        let mut column = Vec::with_capacity(n);
        for (r, value) in chunk.chunks_exact(8).enumerate() {
            let value = u64::from_le_bytes(value.try_into().expect("8 bytes"));
            if value >= Felt::MODULUS {
                return Err(bad(format!("row {r} of column {c} is not a field element")));
            }
            column.push(Felt::new(value));
        }
        columns.push(column);
    }
    CoreRows::from_columns(first as usize, columns, flags == 1).map_err(JobError::Build)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(first_fragment: u32, n_fragments: u32) -> JobSpec {
        JobSpec {
            version: WIRE_VERSION,
            run: "r".into(),
            job: 0,
            kind: JobKind::CoreRows,
            fragment_size: 10,
            n_cycles: 35,
            first_fragment,
            n_fragments,
            contexts: Digest::of(b""),
            forests: vec![],
        }
    }

    #[test]
    fn job_rows_include_the_halt_row_at_the_end() {
        assert_eq!(spec(0, 2).rows(), (0, 20));
        assert_eq!(spec(2, 2).rows(), (20, 16));
        assert_eq!(spec(3, 1).rows(), (30, 6));
    }

    #[test]
    fn job_messages_round_trip_and_junk_is_an_error() {
        let s = spec(1, 2);
        assert_eq!(JobSpec::from_json(&s.to_json()).expect("decodes"), s);
        assert!(JobSpec::from_json(b"{\"version\": 1}").is_err());
        assert!(JobSpec::from_json(&vec![b' '; MAX_MESSAGE_BYTES + 1]).is_err());
        let mut v = s.clone();
        v.version = 2;
        assert!(JobSpec::from_json(&v.to_json()).is_err());
    }

    #[test]
    fn rows_round_trip_and_bad_rows_are_errors() {
        let columns: Vec<Vec<Felt>> = (0..CORE_TRACE_WIDTH)
            .map(|c| (0..5).map(|r| Felt::new((c * 100 + r) as u64)).collect())
            .collect();
        let rows = CoreRows::from_columns(20, columns, true).expect("shape");
        let bytes = encode_rows(&rows);
        assert_eq!(bytes.len() as u64, rows_blob_len(5));
        assert_eq!(decode_rows(&bytes, 20, 5).expect("decodes"), rows);
        assert!(matches!(
            decode_rows(&bytes, 25, 5),
            Err(JobError::RowsShape { .. })
        ));
        assert!(decode_rows(&bytes[..bytes.len() - 1], 20, 5).is_err());
        let mut bad = bytes.clone();
        bad[ROWS_HEADER..ROWS_HEADER + 8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(decode_rows(&bad, 20, 5).is_err());
        assert!(decode_rows(&bytes[..10], 20, 5).is_err());
    }
}
