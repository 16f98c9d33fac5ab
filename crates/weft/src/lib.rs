//! weft runs Miden VM programs (bit-compatible with upstream miden-vm 0.20.6) fast and builds
//! their execution trace in parallel.
//!
//! This crate is a thin facade: it re-exports the library crates under their own names and holds
//! the `weft` command line ([`cli`]). It reaches upstream (MASM assembly, upstream's `.masb` and
//! `.masl` files, the core library) only through `weft-miden`.
//!
//! | re-export | what it holds |
//! |---|---|
//! | [`weft_core`] | field, words, RPO-256, operations, trace layout |
//! | [`weft_mast`] | the MAST forest, programs and the fast/compact/text formats |
//! | [`weft_host`] | inputs, advice provider, events, execution errors |
//! | [`weft_fast`] | the fast processor |
//! | [`weft_replay`] | fragment contexts and `execute_for_trace` |
//! | [`weft_tracegen`] | the parallel trace builder |
//! | [`weft_reference`] | the reference processor and trace |
//! | [`weft_miden`] | the conformance bridge to upstream |

pub use weft_core;
pub use weft_fast;
pub use weft_host;
pub use weft_mast;
pub use weft_miden;
pub use weft_reference;
pub use weft_replay;
pub use weft_tracegen;

pub mod cli;
