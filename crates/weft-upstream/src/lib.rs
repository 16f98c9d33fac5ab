//! weft's adapter to upstream miden-vm 0.20.6: what a tool built on weft needs from upstream.
//!
//! weft's library crates never depend on upstream. This crate is the bridge a tool takes when it
//! must read what upstream produces: MASM source assembled by upstream's assembler with the core
//! library (`miden::core`) and, for programs that make syscalls, a kernel ([`load_program`],
//! [`assemble_upstream`]); upstream's serialized programs (`.masb`) and libraries (`.masl`),
//! decoded from untrusted bytes ([`artifacts`]); upstream's JSON inputs files ([`inputs`]); and
//! the conversion of upstream forests and programs into weft's ([`convert`]). [`host`] builds a
//! weft host with the core library loaded: weft's own copy of it, embedded in the sealed fast
//! format, read in a fraction of a millisecond.
//!
//! The `weft` command line (crate `weft-cli`) reaches upstream only through this crate; the
//! conformance harness (`weft-miden`) uses it too and adds upstream's processor as the oracle.
//!
//! ```
//! use weft_fast::FastProcessor;
//! use weft_host::ExecutionOptions;
//! use weft_upstream::{ProgramInputs, assemble_upstream, convert_program, host::weft_host};
//!
//! // Assemble with upstream, convert to weft, run on weft's fast processor.
//! let upstream = assemble_upstream("begin push.3 push.4 add swap drop end")?;
//! let program = convert_program(&upstream)?;
//! let inputs = ProgramInputs::default();
//! let output = FastProcessor::new(
//!     inputs.weft_stack_inputs(),
//!     inputs.weft_advice_inputs(),
//!     ExecutionOptions::default(),
//! )
//! .execute(&program, &mut weft_host(None)?)
//! .expect("the program runs");
//! assert_eq!(output.stack_outputs.to_ints()[0], 7);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod artifacts;
pub mod convert;
pub mod host;
pub mod inputs;

pub use convert::{
    ConvertError, ConvertedForest, convert_forest, convert_operation, convert_program,
};
pub use inputs::{InputsError, ProgramInputs};

use std::sync::Arc;

use miden_assembly::{Assembler, DefaultSourceManager, KernelLibrary};

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

fn report(report: miden_assembly::diagnostics::Report) -> AssembleError {
    AssembleError::Assembly(one_line(&report))
}

/// Renders an assembler report as one line: its message, then each label with its line and
/// column in the source (when the report carries the source), then the related diagnostics the
/// same way, then its help.
fn one_line(report: &miden_assembly::diagnostics::Report) -> String {
    let mut text = String::new();
    describe_diagnostic(report.as_ref(), None, &mut text);
    text
}

fn describe_diagnostic(
    diagnostic: &dyn miden_assembly::diagnostics::Diagnostic,
    outer_source: Option<&dyn miden_assembly::diagnostics::SourceCode>,
    text: &mut String,
) {
    use core::fmt::Write;
    // Writing to a String cannot fail.
    let _ = write!(text, "{diagnostic}");
    let source = diagnostic.source_code().or(outer_source);
    for label in diagnostic.labels().into_iter().flatten() {
        let place = source
            .and_then(|code| code.read_span(label.inner(), 0, 0).ok())
            .map(|span| format!(" (line {}, column {})", span.line() + 1, span.column() + 1))
            .unwrap_or_default();
        let _ = write!(text, "; {}{place}", label.label().unwrap_or("here"));
    }
    let mut related = diagnostic.related().into_iter().flatten().peekable();
    let has_related = related.peek().is_some();
    for inner in related {
        text.push_str(": ");
        describe_diagnostic(inner, source, text);
    }
    if let Some(help) = diagnostic.help().filter(|_| !has_related) {
        let _ = write!(text, "; help: {help}");
    }
}

/// Assembles a kernel from MASM source with upstream's assembler.
///
/// # Errors
/// Returns an error if the kernel does not assemble.
pub fn assemble_upstream_kernel(kernel_source: &str) -> Result<KernelLibrary, AssembleError> {
    Assembler::new(Arc::new(DefaultSourceManager::default()))
        .assemble_kernel(kernel_source.to_string())
        .map_err(report)
}

/// Returns an upstream assembler with the core library (`miden::core`) linked dynamically and,
/// if given, `kernel`.
///
/// # Errors
/// Returns an error if the core library cannot be linked.
pub fn assembler_for_kernel(kernel: Option<KernelLibrary>) -> Result<Assembler, AssembleError> {
    let source_manager = Arc::new(DefaultSourceManager::default());
    let assembler = match kernel {
        Some(kernel_lib) => Assembler::with_kernel(source_manager, kernel_lib),
        None => Assembler::new(source_manager),
    };
    assembler
        // The library deserialized once per process, not once per assembler.
        .with_dynamic_library(host::core_library().clone())
        .map_err(report)
}

/// Returns an upstream assembler with the core library (`miden::core`) linked dynamically and,
/// if given, a kernel assembled from `kernel_source`.
///
/// # Errors
/// Returns an error if the kernel does not assemble or the core library cannot be linked.
pub fn assembler_with_core_lib(kernel_source: Option<&str>) -> Result<Assembler, AssembleError> {
    let kernel = kernel_source.map(assemble_upstream_kernel).transpose()?;
    assembler_for_kernel(kernel)
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
    host::core_library().mast_forest().clone()
}

// PROGRAM FILES
// ================================================================================================

/// Why a program file could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The program or its kernel could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file's path.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The program did not assemble or convert.
    #[error("{path}: {source}")]
    Assemble {
        /// The program's path.
        path: String,
        /// The underlying error.
        #[source]
        source: AssembleError,
    },
    /// The program's inputs file is invalid.
    #[error(transparent)]
    Inputs(#[from] InputsError),
}

/// A MASM program file assembled by upstream, converted to weft, with its inputs.
#[derive(Debug, Clone)]
pub struct LoadedProgram {
    /// Upstream's program.
    pub upstream: miden_core::Program,
    /// The same program converted to weft.
    pub weft: weft_mast::Program,
    /// The program's inputs (empty if it has no `.inputs` file).
    pub inputs: ProgramInputs,
    /// The forest of the program's kernel, if it has one: the host must provide its procedures
    /// to the program's syscalls.
    pub kernel_forest: Option<Arc<miden_core::mast::MastForest>>,
    /// The kernel's forest converted to weft.
    pub weft_kernel_forest: Option<weft_mast::MastForest>,
}

fn read_text(path: &std::path::Path) -> Result<String, LoadError> {
    std::fs::read_to_string(path).map_err(|source| LoadError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// Loads the MASM program at `path`: assembles it with upstream's assembler and the core library,
/// converts it to weft, and reads its inputs from the `.inputs` file beside it, if any.
///
/// A program whose source contains `syscall.` is assembled against the kernel in `kernel.masm`
/// in the same directory.
///
/// # Errors
/// Returns an error if a file cannot be read, the program does not assemble or convert, or its
/// inputs are invalid.
pub fn load_program(path: &std::path::Path) -> Result<LoadedProgram, LoadError> {
    load_program_with_libraries(path, &[])
}

/// [`load_program`] with `libraries` linked dynamically, as `miden-vm run -l` links them: the
/// program may call their procedures, whose code a host must then provide.
///
/// # Errors
/// As [`load_program`]; also a library that cannot be linked.
pub fn load_program_with_libraries(
    path: &std::path::Path,
    libraries: &[miden_assembly::Library],
) -> Result<LoadedProgram, LoadError> {
    let source = read_text(path)?;
    let kernel_source = if source.contains("syscall.") {
        Some(read_text(&path.with_file_name("kernel.masm"))?)
    } else {
        None
    };
    let mut loaded = assemble_loaded(
        &source,
        kernel_source.as_deref(),
        libraries,
        ProgramInputs::default(),
    )
    .map_err(|source| LoadError::Assemble {
        path: path.display().to_string(),
        source,
    })?;
    loaded.inputs = ProgramInputs::for_program(path)?;
    Ok(loaded)
}

/// Assembles `source` (against a kernel assembled from `kernel_source`, if given, and
/// `libraries`) and converts it and the kernel to weft: what every loader here shares.
fn assemble_loaded(
    source: &str,
    kernel_source: Option<&str>,
    libraries: &[miden_assembly::Library],
    inputs: ProgramInputs,
) -> Result<LoadedProgram, AssembleError> {
    let kernel = kernel_source.map(assemble_upstream_kernel).transpose()?;
    let kernel_forest = kernel.as_ref().map(|lib| lib.mast_forest().clone());
    let weft_kernel_forest = match &kernel_forest {
        Some(forest) => Some(convert_forest(forest)?.forest),
        None => None,
    };
    let upstream = libraries
        .iter()
        .try_fold(assembler_for_kernel(kernel)?, |assembler, library| {
            assembler.with_dynamic_library(library).map_err(report)
        })?
        .assemble_program(source.to_string())
        .map_err(report)?;
    let weft = convert_program(&upstream)?;
    Ok(LoadedProgram {
        upstream,
        weft,
        inputs,
        kernel_forest,
        weft_kernel_forest,
    })
}

/// A MASM program given as source text, with `inputs`: assembled by upstream's assembler with
/// the core library (and against a kernel assembled from `kernel_source`, if given) and
/// converted to weft, as [`load_program`] does for a file.
///
/// # Errors
/// Returns an error if the source or the kernel does not assemble or convert.
pub fn load_source(
    source: &str,
    kernel_source: Option<&str>,
    inputs: ProgramInputs,
) -> Result<LoadedProgram, AssembleError> {
    assemble_loaded(source, kernel_source, &[], inputs)
}

/// Assembles the kernel in the `kernel.masm` beside `path` (the file [`load_program`] assembles
/// a MASM program's syscalls against) and converts its forest to weft: the procedures a host
/// must provide to the syscalls of an upstream program file (`.masb`), which holds its kernel's
/// digests but not their code.
///
/// # Errors
/// Returns an error if the kernel cannot be read, does not assemble or does not convert.
pub fn load_kernel_beside(path: &std::path::Path) -> Result<weft_mast::MastForest, LoadError> {
    let kernel_path = path.with_file_name("kernel.masm");
    let assemble_error = |source: AssembleError| LoadError::Assemble {
        path: kernel_path.display().to_string(),
        source,
    };
    let kernel = assemble_upstream_kernel(&read_text(&kernel_path)?).map_err(assemble_error)?;
    Ok(convert_forest(kernel.mast_forest())
        .map_err(|e| assemble_error(e.into()))?
        .forest)
}
