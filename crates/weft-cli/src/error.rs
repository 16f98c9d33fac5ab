//! The command line's error: every failure the `weft` binary reports, each printed as one line.

use weft_core::main_trace::MainTraceDiff;
use weft_host::ExecutionError;
use weft_mast::format::{FormatError, WriteError, text::TextError};
use weft_tracegen::TraceGenError;
use weft_upstream::{InputsError, LoadError, artifacts::ArtifactError, host::CoreLibError};

/// Why a `weft` command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Standard output was closed by its reader; nothing more to say.
    #[error("standard output closed")]
    BrokenPipe,
    /// The file is none of the accepted kinds.
    #[error(
        "{path}: unknown program format (expected .masm, .masb, .masl, or a weft fast, compact or \
         text file)"
    )]
    UnknownFormat {
        /// The file.
        path: String,
    },
    /// A MASM program could not be loaded (unreadable, does not assemble, bad inputs file).
    #[error(transparent)]
    Masm(#[from] LoadError),
    /// An upstream `.masb`/`.masl` file could not be read.
    #[error("{path}: {source}")]
    Artifact {
        /// The file.
        path: String,
        /// What is wrong with it.
        source: ArtifactError,
    },
    /// A weft fast or compact file is malformed.
    #[error("{path}: malformed weft {format} file: {source}")]
    Format {
        /// The file.
        path: String,
        /// `fast` or `compact`.
        format: &'static str,
        /// What is wrong with it.
        source: FormatError,
    },
    /// A weft text file is malformed.
    #[error("{path}: malformed weft text file: {source}")]
    Text {
        /// The file.
        path: String,
        /// What is wrong with it, at which line and column.
        source: TextError,
    },
    /// The file holds no program to run.
    #[error("{path}: {reason}")]
    NotRunnable {
        /// The file.
        path: String,
        /// Why.
        reason: &'static str,
    },
    /// The inputs file is invalid.
    #[error("inputs {path}: {source}")]
    Inputs {
        /// The inputs file.
        path: String,
        /// What is wrong with it.
        source: InputsError,
    },
    /// The program failed.
    #[error("execution failed{}: {source}{}", at(*.clk, .op.as_deref()), message(.source))]
    Execution {
        /// The clock cycle of the failure, when the error has one.
        clk: Option<u32>,
        /// The operation (or control row) at that cycle, when it could be located.
        op: Option<String>,
        /// The processor's error.
        source: ExecutionError,
    },
    /// The parallel trace builder rejected the contexts (a bug, as they come from the executor).
    #[error("trace generation failed: {0}")]
    TraceGen(#[from] TraceGenError),
    /// A distributed run or a worker failed.
    #[cfg(feature = "dist")]
    #[error("distributed: {0}")]
    Dist(#[from] weft_dist::DistError),
    /// The async runtime of a distributed run could not start.
    #[cfg(feature = "dist")]
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    /// The worker pool could not be started.
    #[error("cannot start {threads} worker threads: {reason}")]
    ThreadPool {
        /// Threads asked for.
        threads: u32,
        /// The pool's error.
        reason: String,
    },
    /// The traces would not fit in memory (`--max-trace-memory`, or the memory available).
    #[error(
        "the trace needs {needed_mib} MiB ({n_traces} x {rows} rows of 71 columns), more than the \
         limit of {limit_mib} MiB"
    )]
    TraceTooLarge {
        /// Rows of one trace, padding included.
        rows: u64,
        /// Traces held at once.
        n_traces: u64,
        /// MiB needed.
        needed_mib: u64,
        /// The limit, in MiB.
        limit_mib: u64,
    },
    /// `--check`: the two engines built different traces.
    #[error("trace check failed ({engine} vs reference): {diff}")]
    TraceMismatch {
        /// The engine checked against the reference.
        engine: &'static str,
        /// The first difference (expected = reference).
        diff: MainTraceDiff,
    },
    /// `--check`: the two engines disagree on an output.
    #[error(
        "trace check failed ({engine} vs reference): {what} differ: expected {expected}, found {found}"
    )]
    OutputMismatch {
        /// The engine checked against the reference.
        engine: &'static str,
        /// What differs.
        what: &'static str,
        /// The reference's value.
        expected: String,
        /// The engine's value.
        found: String,
    },
    /// weft's copy of the core library could not be read.
    #[error(transparent)]
    CoreLibrary(#[from] CoreLibError),
    /// `bench`: two repetitions of the same program disagree (a bug: execution is
    /// deterministic).
    #[error("repetitions disagree: {what} differ: first {expected}, then {found}")]
    RepetitionMismatch {
        /// What differs.
        what: &'static str,
        /// The first repetition's value.
        expected: String,
        /// The later repetition's value.
        found: String,
    },
    /// The forest could not be rebuilt without its decorators.
    #[error("{path}: cannot strip the forest: {source}")]
    Strip {
        /// The input file.
        path: String,
        /// Why.
        source: weft_mast::MastError,
    },
    /// The forest cannot be written in the chosen format.
    #[error("cannot write {path} as {format}: {source}{}", strip_hint(.source))]
    Convert {
        /// The output file.
        path: String,
        /// The format.
        format: &'static str,
        /// Why.
        source: WriteError,
    },
}

fn at(clk: Option<u32>, op: Option<&str>) -> String {
    match (clk, op) {
        (Some(clk), Some(op)) => format!(" at clock cycle {clk} ({op})"),
        (Some(clk), None) => format!(" at clock cycle {clk}"),
        (None, _) => String::new(),
    }
}

/// The program's own message for a failed assertion, if it has one.
fn message(error: &ExecutionError) -> String {
    match error {
        ExecutionError::FailedAssertion {
            err_msg: Some(msg), ..
        } => format!(": {msg:?}"),
        _ => String::new(),
    }
}

fn strip_hint(error: &WriteError) -> &'static str {
    match error {
        WriteError::HasDecorators | WriteError::DuplicateNode { .. } => {
            " (pass --strip to drop decorators and debug info)"
        }
        _ => "",
    }
}

impl CliError {
    /// Maps an I/O error while writing to standard output.
    pub(crate) fn stdout(err: std::io::Error) -> Self {
        if err.kind() == std::io::ErrorKind::BrokenPipe {
            CliError::BrokenPipe
        } else {
            CliError::Write {
                path: "standard output".to_string(),
                source: err,
            }
        }
    }
}
