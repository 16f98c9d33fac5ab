//! The host contract shared by every weft processor: what a program starts with (stack and
//! advice inputs), what it ends with (stack outputs), the advice provider it reads
//! non-deterministic data from, the events it emits and who handles them, the store of forests
//! that external nodes resolve through, execution options and the typed [`ExecutionError`].
//!
//! # Event contract
//!
//! `EMIT` leaves the event id on top of the stack. A processor then:
//! 1. handles it itself if the id is one of the [`SystemEvent`]s, by calling
//!    [`handle_system_event`] with a read-only [`ProcessView`] and the mutable
//!    [`AdviceProvider`];
//! 2. otherwise calls [`Host::on_event`] with the id, a read-only [`ProcessView`] and a shared
//!    reference to the advice provider. The host returns a list of [`AdviceMutation`]s, which
//!    the processor applies in order. A host never mutates the VM directly, so a processor can
//!    record exactly what an event changed.
//!
//! Both paths run during the `EMIT` cycle, after the row for that cycle has its stack state and
//! before the next cycle starts; the view shows the stack as it is at the `EMIT` (the id on top).

mod advice;
mod error;
mod events;
mod handlers;
mod host;
mod inputs;
mod options;
mod precompiles;
mod sys_events;

pub use advice::{AdviceError, AdviceMutation, AdviceProvider, MerkleOpening, PrecompileRequest};
pub use error::{AceError, ErrorKind, ExecutionError};
pub use events::{EventId, SystemEvent};
pub use handlers::{
    FALCON_DIV_EVENT_NAME, KECCAK_HASH_BYTES_EVENT_NAME, LOWERBOUND_ARRAY_EVENT_NAME,
    LOWERBOUND_KEY_VALUE_EVENT_NAME, SMT_PEEK_EVENT_NAME, U64_DIV_EVENT_NAME, handle_falcon_div,
    handle_keccak_hash_bytes, handle_lowerbound_array, handle_lowerbound_key_value,
    handle_smt_peek, handle_u64_div,
};
pub use host::{DefaultHost, EventError, EventHandler, Host, HostError, ProcessView};
pub use inputs::{AdviceInputs, InputError, StackInputs, StackOutputs};
pub use options::{ExecutionOptions, MAX_CYCLES};
pub use precompiles::{
    AEAD_DECRYPT_EVENT_NAME, ECDSA_VERIFY_EVENT_NAME, EDDSA_VERIFY_EVENT_NAME,
    SHA512_HASH_BYTES_EVENT_NAME, handle_aead_decrypt, handle_ecdsa_verify, handle_eddsa_verify,
    handle_sha512_hash_bytes,
};
pub use sys_events::handle_system_event;

/// The depth of the visible operand stack.
pub const MIN_STACK_DEPTH: usize = weft_core::trace::MIN_STACK_DEPTH;

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
