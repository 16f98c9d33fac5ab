//! weft runs Miden VM programs (bit-compatible with upstream miden-vm 0.20.6) fast and builds
//! their execution trace in parallel.
//!
//! This crate is a thin facade: it re-exports the library crates under their own names, so that
//! one dependency brings them all. It depends on nothing else: no upstream `miden-*` crate (other
//! than `miden-crypto`, through `weft-core`) and no command-line code. Reading upstream's MASM,
//! `.masb` and `.masl` files is `weft-upstream`'s job; the `weft` command line is `weft-cli`.
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
//!
//! ```
//! use std::sync::Arc;
//!
//! use weft::{
//!     weft_host::{AdviceInputs, DefaultHost, ExecutionOptions, StackInputs},
//!     weft_mast::{Kernel, Program, format::text},
//! };
//!
//! // A program in weft's text format: its first procedure root is the entry point.
//! let source = "mast 1\nnode 0 block [push(3) push(4) add swap drop]\nroot 0\n";
//! let forest = Arc::new(text::parse(source)?);
//! let entry = forest.procedure_roots()[0];
//! let program = Program::new(forest, entry, Kernel::default())?;
//!
//! // Execute it, recording a fragment context every 16 rows, then build the trace in parallel.
//! let (output, contexts) = weft::weft_replay::execute_for_trace(
//!     &program,
//!     StackInputs::default(),
//!     AdviceInputs::default(),
//!     &mut DefaultHost::new(),
//!     16,
//! )?;
//! assert_eq!(output.stack_outputs.to_ints()[0], 7);
//! let trace = weft::weft_tracegen::build_trace(&output.forests, &contexts)?;
//!
//! // The reference processor builds the same trace, one row per cycle.
//! let reference = weft::weft_reference::execute(
//!     &program,
//!     StackInputs::default(),
//!     AdviceInputs::default(),
//!     &mut DefaultHost::new(),
//!     ExecutionOptions::default(),
//! )?;
//! // Both build the whole main trace (71 columns), cell for cell the same.
//! assert_eq!(weft::weft_core::main_trace::first_difference(&reference.trace, &trace), None);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub use weft_core;
pub use weft_fast;
pub use weft_host;
pub use weft_mast;
pub use weft_reference;
pub use weft_replay;
pub use weft_tracegen;
