//! Conformance harness: weft checked against upstream miden-vm 0.20.6 as the oracle.
//!
//! Not published. It runs programs on upstream's processor ([`upstream::run_upstream`]) and on
//! weft's, and compares: traces, stack outputs and errors ([`conformance`]), converted forests
//! node by node ([`compare`]), and weft's reference trace against its parallel one
//! ([`equivalence`]). Its tests run every program the repository holds ([`corpus`]: the
//! conformance programs of `programs/` and the longer `workloads/`) plus the shared corpus when it
//! is present; its binaries are `weft-check-equivalence` and `weft-compare` (run by
//! `cargo xtask check-equivalence` and `cargo xtask compare`), and its bench `formats` measures
//! weft's formats on the core library against upstream's serialization. Assembly, upstream files,
//! inputs and forest conversion come from `weft-upstream`.
//!
//! ```no_run
//! use weft_miden::{compare_program, corpus};
//!
//! // Compare weft's reference processor with upstream on one workload program.
//! let path = corpus::workloads_dir().join("pell_loop.masm");
//! let program = weft_upstream::load_program(&path)?;
//! let comparison = compare_program("pell_loop", &program);
//! assert!(comparison.mismatches.is_empty(), "{:?}", comparison.mismatches);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The trace conformance suite is `cargo test -p weft-miden --test trace_conformance --
//! --nocapture` (it prints the programs and rows compared, the mismatches, and the error-path
//! and opcode coverage tables).

pub mod compare;
pub mod conformance;
pub mod corpus;
pub mod equivalence;
pub mod formats;
pub mod upstream;

pub use conformance::{Mismatch, ProgramComparison, compare_program, compare_runs};
pub use upstream::{UpstreamFailure, UpstreamRun, run_upstream};
