//! Conformance bridge between weft and upstream miden-vm 0.20.6.
//!
//! This is the only crate of the workspace that depends on the upstream crates. It converts
//! upstream programs and forests into weft's own types, assembles MASM with upstream's assembler
//! and core library, and (in its tests) compares weft with upstream.

pub mod compare;
pub mod convert;

pub use convert::{
    ConvertError, ConvertedForest, convert_forest, convert_operation, convert_program,
};

use std::sync::Arc;

use miden_assembly::{Assembler, DefaultSourceManager};

/// Why MASM source could not be assembled.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AssembleError {
    /// The upstream assembler reported an error (its report, rendered as text).
    #[error("assembly failed: {0}")]
    Assembly(String),
    /// The assembled program could not be converted.
    #[error(transparent)]
    Convert(#[from] ConvertError),
}

fn report(report: impl core::fmt::Display) -> AssembleError {
    AssembleError::Assembly(report.to_string())
}

/// Returns an upstream assembler with the core library (`miden::core`) linked dynamically and,
/// if given, a kernel assembled from `kernel_source`.
///
/// # Errors
/// Returns an error if the kernel does not assemble or the core library cannot be linked.
pub fn assembler_with_core_lib(kernel_source: Option<&str>) -> Result<Assembler, AssembleError> {
    let source_manager = Arc::new(DefaultSourceManager::default());
    let assembler = match kernel_source {
        Some(kernel) => {
            let kernel_lib = Assembler::new(source_manager.clone())
                .assemble_kernel(kernel.to_string())
                .map_err(report)?;
            Assembler::with_kernel(source_manager, kernel_lib)
        }
        None => Assembler::new(source_manager),
    };
    assembler
        .with_dynamic_library(miden_core_lib::CoreLibrary::default())
        .map_err(report)
}

/// Assembles MASM program source with upstream's assembler and the core library.
///
/// # Errors
/// Returns an error if the source does not assemble.
pub fn assemble_upstream(source: &str) -> Result<miden_core::Program, AssembleError> {
    assemble_upstream_with_kernel(source, None)
}

/// Assembles MASM program source against a kernel (given as MASM source).
///
/// # Errors
/// Returns an error if the kernel or the program does not assemble.
pub fn assemble_upstream_with_kernel(
    source: &str,
    kernel_source: Option<&str>,
) -> Result<miden_core::Program, AssembleError> {
    assembler_with_core_lib(kernel_source)?
        .assemble_program(source.to_string())
        .map_err(report)
}

/// Returns the upstream core library's forest.
pub fn upstream_core_lib_forest() -> Arc<miden_core::mast::MastForest> {
    miden_core_lib::CoreLibrary::default().mast_forest().clone()
}
