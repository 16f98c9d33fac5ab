//! Serialized forms of a [`MastForest`]: a fast binary format, a compact binary format and a
//! readable text format, all read through one untrusted-then-validated path.
//!
//! # The three formats
//! - [`fast`]: a versioned header, fixed-width little-endian node records, every digest stored,
//!   sections with lengths and a checksum. Built to load with minimal work.
//! - [`compact`]: no stored digests but the roots' (everything is recomputed on load and the
//!   roots are checked), nodes in post-order with implicit children, operations packed at 7 bits,
//!   immediates as varint indices into a constant pool, and a checksum.
//! - [`text`]: a readable, round-trippable listing of the nodes, with errors at line and column.
//!
//! # Reading untrusted bytes
//! Every reader turns bytes into an [`UntrustedMastForest`], and only
//! [`UntrustedMastForest::validate`] turns that into a [`MastForest`], by replaying the nodes
//! through [`MastForestBuilder`], which recomputes every digest and enforces the forest's
//! invariants. Readers never panic, never loop longer than the input justifies, and check every
//! count against a limit of [`limits`] and against the remaining input before allocating. Errors
//! are [`FormatError`]s carrying the byte offset of the offending item.
//!
//! # Stored digests
//! The fast format stores all digests so that a trusted producer's file can be loaded without
//! hashing. Stored digests are never trusted on their own: [`UntrustedMastForest::validate`]
//! recomputes each one and rejects a mismatch. The only way to skip the recomputation is a
//! *sealed* fast file ([`fast::write_sealed`] / [`fast::read_sealed`]): it carries a keyed
//! BLAKE3 MAC over the whole file; when the reader holds the same key, a matching MAC proves the
//! file was written by a holder of the key, whose writer computed the digests itself (a forest
//! only exists through the builder), so the digests are verified at BLAKE3 speed rather than
//! RPO speed. Structure is still fully validated on that path (every length against its
//! limit, children before parents, opcodes, immediates, roots and map keys); the MAC also
//! stands in for the checksum, which is then computed only to tell a damaged file from a
//! foreign one.
//!
//! # Batching: eager, in parallel runs, or lazy
//! [`UntrustedMastForest::validate`] must hash every block, so it batches every block first: in
//! runs of consecutive blocks balanced by operation count, in parallel with the `concurrent`
//! feature (on by default). A sealed fast file needs no hashing, so its blocks are only
//! checked when it is read (not empty, every byte a non-control opcode, enough immediates),
//! which is everything the batcher can reject, and are batched the first time
//! [`BasicBlockNode::batches`](crate::BasicBlockNode::batches) is called: a program that runs
//! a few procedures of a large library pays for batching those only. The batches are the same
//! either way; the errors of a bad block are the same too, found when the file is read.
//!
//! # Integrity checksum
//! Both binary formats end with an 8-byte [`checksum`] over everything before it: four lanes
//! of `h = rotl((h ^ word) * K, 29)` over little-endian 64-bit words, folded together. Each step
//! is a bijection of the lane state for a fixed input word, and injective in the word for a fixed
//! state, so any change confined to one 8-byte word (in particular every single-byte change) is
//! detected with certainty; the fold keeps that property. It runs at several GB/s and needs no
//! dependency. It protects against accidental damage only; against tampering the digests are
//! what counts.
//!
//! # Decorators
//! The formats are defined on stripped forests: decorators are debugging data that never change
//! a digest, and a debug-info side file is left for later. Writers reject a forest that carries
//! decorators ([`WriteError::HasDecorators`]); [`strip`] is the `--strip` step: it drops the
//! decorators and rebuilds the forest through the builder so that nodes which differed only by
//! decorators are merged. Error messages and the advice map are carried.
//!
//! # Canonical forests
//! A forest that went through the builder has no two identical nodes. Readers reject an encoding
//! in which a node duplicates an earlier one ([`FormatError::DuplicateNode`]), so each decoded
//! node keeps its position. The fast and text formats keep node ids; the compact format renumbers
//! nodes into its emission order (shared nodes in id order, each followed by nothing, private
//! subtrees in post-order before their parent), which is a fixed point: encoding the decoded
//! forest again gives the same bytes.
//!
//! # Modules
//! [`error`] holds the reading and writing errors; [`program`] the program section (entry
//! point and kernel) of a file that holds a program; `raw` the nodes and forest as read, before
//! validation, and the node tags the binary formats share; `validate` turns an untrusted
//! forest into a [`MastForest`], with `runs` batching and hashing its blocks in parallel runs
//! first; `writable` checks what the writers accept and strips decorators; [`checksum`] is the
//! binary formats' integrity checksum; `cursor` reads bounded items from bytes.

pub mod checksum;
pub mod compact;
pub mod error;
pub mod fast;
pub mod fuzz;
pub mod program;
pub mod text;

mod cursor;
#[cfg(test)]
mod program_tests;
mod raw;
mod runs;
#[cfg(test)]
mod tests;
mod validate;
mod writable;

/// The limits readers apply (they live at the crate root, which the forest shares).
pub use crate::limits;

pub use checksum::checksum;
pub use error::{FormatError, WriteError};
pub use program::MastFile;
pub use raw::UntrustedMastForest;
pub use writable::{strip, strip_program, strip_with_entry};

#[cfg(doc)]
use crate::MastForest;
