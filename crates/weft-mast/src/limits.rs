//! Limits on a forest's size and on what readers accept from untrusted bytes, each with the
//! reason for its value. The forest and the formats both depend on this module (it depends on
//! nothing); it is also reachable as `format::limits`.
//!
//! Every count read from an input is checked twice before anything is allocated for it: against
//! the limit below, and against the number of bytes left in the input (each element takes at
//! least one byte, so a count larger than the rest of the input is rejected without allocating).
//! Together these bound memory by a small constant factor of the input size.

/// The largest input any reader accepts: 4 GiB minus one byte. Byte offsets in errors and in the
/// fast format's section lengths are `u32`.
pub const MAX_INPUT_LEN: usize = u32::MAX as usize;

/// The largest number of nodes a forest may hold, and readers accept: upstream's limit (children
/// are 30-bit ids in its serialized layout).
pub const MAX_NODES: usize = (1 << 30) - 1;

/// The largest number of decorators a forest may hold: decorator ids are `u32`.
pub const MAX_DECORATORS: usize = u32::MAX as usize;

/// The largest number of procedure roots: every root is a distinct node.
pub const MAX_ROOTS: usize = MAX_NODES;

/// The largest number of operations in one basic block: 2^24. Upstream's assembler splits
/// procedures long before this; the limit keeps one record from describing an absurd block.
pub const MAX_BLOCK_OPS: usize = 1 << 24;

/// The largest number of operations in a forest: 2^30, as many as node ids.
pub const MAX_TOTAL_OPS: usize = 1 << 30;

/// The largest number of distinct immediate constants in the compact format's constant pool:
/// at most one per operation.
pub const MAX_CONSTANTS: usize = MAX_TOTAL_OPS;

/// The largest number of advice-map entries: 2^24 (an advice map is loaded wholesale by the
/// host; sixteen million keys is far beyond any real program).
pub const MAX_ADVICE_ENTRIES: usize = 1 << 24;

/// The largest number of field elements under one advice-map key: 2^26 (512 MiB of elements).
pub const MAX_ADVICE_VALUES: usize = 1 << 26;

/// The largest number of error messages: 2^20 (one per distinct assertion message).
pub const MAX_ERROR_MESSAGES: usize = 1 << 20;

/// The longest error message, in bytes: 64 KiB (messages are single human-readable lines).
pub const MAX_ERROR_MESSAGE_LEN: usize = 1 << 16;

/// The largest number of procedures a program's kernel may export: 255, upstream's
/// `Kernel::MAX_NUM_PROCEDURES` (a kernel procedure is named by a one-byte index in upstream's
/// kernel ROM trace), and also [`Kernel::MAX_NUM_PROCEDURES`](crate::Kernel::MAX_NUM_PROCEDURES).
pub const MAX_KERNEL_PROCS: usize = u8::MAX as usize;
