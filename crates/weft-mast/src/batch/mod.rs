//! Basic-block batching: operations packed into groups and batches exactly as upstream does it.
//!
//! - An operation group is one field element holding up to [`GROUP_SIZE`] (9) opcodes, packed
//!   least-significant first, 7 bits each.
//! - A batch holds [`BATCH_SIZE`] (8) group slots. A `PUSH` immediate takes the next free slot of
//!   the current batch, after the slot of the op group that holds the `PUSH` itself.
//! - A group never ends with a `PUSH`: if a `PUSH` would be the ninth opcode of a group, the group
//!   is closed first with a `NOOP` in its place. A group closed with no opcodes, or whose last
//!   opcode is a `PUSH`, receives a padding `NOOP` (which is executed and costs a cycle).
//! - The group count of the last batch is rounded up to a power of two (1, 2, 4 or 8) with
//!   padding groups that each hold one `NOOP`; every batch but the last holds 8 groups.
//!
//! The block's digest is the RPO-256 hash of all 8 slots of every batch, in order.
//!
//! # Representation
//! A block's executed operations (padding `NOOP`s included) live in one shared array; each
//! [`OpBatch`] holds a reference-counted handle to it plus the batch's own offset, group
//! boundaries, padding flags and group values. Batching a block therefore allocates three times
//! (the operation array, its handle, the batch list), however many batches it has.
//!
//! One batcher, `BlockBatcher`, implements the rules above. [`batch_ops`] feeds it decoded
//! operations (the forest builder); [`batch_encoded`] feeds it opcode bytes and an immediate
//! stream straight from a serialized forest, decoding through a 256-entry table so that loading
//! a block costs a table lookup and a few compares per operation.

mod batcher;
mod encoded;
mod op_batch;
#[cfg(test)]
mod tests;

pub use weft_core::operations::{BATCH_SIZE, GROUP_SIZE, OP_BITS};
use weft_core::{Operation, Word};

pub(crate) use batcher::BlockBatcher;
pub use encoded::batch_encoded;
pub(crate) use encoded::{EncodedBlock, count_immediates};
pub use op_batch::{BatchError, OpBatch};

/// Packs `ops` into batches.
///
/// An empty input yields no batches (the forest builder rejects empty blocks before this).
pub fn batch_ops(ops: &[Operation]) -> Vec<OpBatch> {
    let mut batcher = BlockBatcher::with_capacity(ops.len());
    for &op in ops {
        match op.imm_value() {
            Some(value) => batcher.push_value(op, value),
            None => batcher.push(op, op.op_code_u8()),
        }
    }
    batcher.finish()
}

/// Returns the digest of a block made of `batches`.
pub fn batches_digest(batches: &[OpBatch]) -> Word {
    batcher::groups_digest(batches.iter().map(|b| &b.groups))
}
