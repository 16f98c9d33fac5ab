//! The `weft` command line: runs Miden VM 0.20.6 programs with weft's fast processor, builds
//! their execution trace in parallel (and checks it against the reference processor), and
//! inspects and converts programs. This crate is the binary `weft` and the library behind it
//! ([`main`]); programs written by upstream (MASM, `.masb`, `.masl`) are read through
//! `weft-upstream`, the only upstream dependency.
//!
//! ```text
//! $ cargo run --release -p weft-cli -- trace examples/fib.masm --check
//! ```
//!
//! ```text
//! weft run FILE [--inputs F] [--max-cycles N] [--json]
//! weft bench FILE [--inputs F] [--max-cycles N] [--reps N] [--threads N] [--fragment-size N]
//!                 [--json]
//! weft trace FILE [--inputs F] [--max-cycles N] [--engine parallel|reference] [--fragment-size N]
//!                 [--threads N] [--csv OUT] [--check] [--max-trace-memory MIB] [--json]
//! weft inspect FILE [--json]
//! weft trace FILE --distributed --nats URL --store URL [--job-rows N] [--run-id ID] [--timeout-s S]
//!                 [...]                                       (with the `dist` feature)
//! weft worker --nats URL --store URL [--threads N] [--name NAME]  (with the `dist` feature)
//! weft convert IN OUT --format fast|compact|text [--strip]
//! ```
//!
//! # Program files
//! `FILE` is MASM source (`.masm`, assembled by upstream's assembler with the core library), an
//! upstream serialized program (`.masb`) or library (`.masl`), or a forest in one of weft's own
//! formats, recognised by its header whatever its extension: `WEFTFAST` (fast), `WEFTCMPT`
//! (compact) or a text file whose first token is `mast` (text). weft's formats store a forest,
//! not a program: its entry point is its **first procedure root** (`weft convert` puts a
//! program's entry point first) and it runs without a kernel. A library has no entry point, so
//! only `inspect` and `convert` accept one. A `.masm` program that makes syscalls is assembled
//! against `kernel.masm` beside it and runs with that kernel; other files carry no kernel code,
//! so their syscalls fail.
//!
//! Inputs are upstream's JSON inputs (see [`weft_upstream::inputs`]): `--inputs F`, or else the
//! `.inputs` file with the program's stem beside it (`fib.masm` reads `fib.inputs`), or none.
//!
//! # Limits
//! Before building a trace, `trace` checks that it fits: padded rows x 71 columns x 8 bytes (twice
//! with `--check`) must not exceed `--max-trace-memory`, by default the memory available now.
//!
//! # Output
//! Human-readable text by default; with `--json`, one JSON object on stdout whose fields are
//! listed in [`report`]. Errors are one line on stderr (`error: ...`) and a non-zero exit
//! status: 1 for every failure (a `--check` mismatch included), 2 for a usage error.

mod commands;
mod error;
mod link;
mod load;
mod progress;
pub mod report;
mod warm;

use std::{io::Write, path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand, ValueEnum};

pub use error::CliError;

/// Rows per fragment when `--fragment-size` is not given.
pub const DEFAULT_FRAGMENT_SIZE: u32 = 4096;

/// Command-line arguments.
#[derive(Debug, Parser)]
#[command(
    name = "weft",
    version,
    about = "Run Miden VM 0.20.6 programs fast and build their execution trace in parallel"
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Execute a program with the fast processor and print its stack outputs, cycles and speed.
    Run {
        #[command(flatten)]
        program: ProgramArgs,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Run a program several times in one process and report the median, minimum and first
    /// times of execute, execute_for_trace and build_trace.
    Bench(BenchArgs),
    /// Build the whole execution trace (71 columns: core, range checker, chiplets), with per-phase timings.
    Trace(TraceArgs),
    /// Take trace jobs from a NATS JetStream queue and build their core rows, until stopped
    /// (see docs/DISTRIBUTED.md).
    #[cfg(feature = "dist")]
    Worker(WorkerArgs),
    /// Print a program's digest, node counts by kind, procedures and text form.
    Inspect {
        /// The program or library.
        file: PathBuf,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Write a program or library in one of weft's formats.
    Convert {
        /// The program or library to read (any accepted kind).
        input: PathBuf,
        /// The file to write.
        output: PathBuf,
        /// The format to write.
        #[arg(long, value_enum)]
        format: OutputFormat,
        /// Drop decorators and debug info (weft's formats cannot store them).
        #[arg(long)]
        strip: bool,
    },
    /// Internal: decodes an upstream artifact read from stdin, in a child process, so that a
    /// corrupted file that makes upstream's decoder abort cannot abort the command itself. Exit
    /// status 0: it decodes; 1: a decoding error; anything else: the decoder aborted.
    #[command(name = "__probe-upstream", hide = true)]
    ProbeUpstream {
        /// `program` or `library`.
        #[arg(value_enum)]
        kind: ProbeKind,
    },
}

/// What `__probe-upstream` decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProbeKind {
    /// An upstream program (`.masb`).
    Program,
    /// An upstream library (`.masl`).
    Library,
}

/// The program a command runs and what it runs with: the arguments `weft run`, `trace` and
/// `bench` share, spelt as `miden-vm run` spells them too (`-i`, `-l`, `-m`).
#[derive(Debug, clap::Args)]
pub struct ProgramArgs {
    /// The program: .masm, .masb, or a weft fast/compact/text file.
    pub file: PathBuf,
    /// Inputs JSON (default: FILE's stem with the .inputs extension, if it exists).
    #[arg(short = 'i', long, visible_alias = "input", value_name = "F")]
    pub inputs: Option<PathBuf>,
    /// An upstream library (.masl) the program calls, as `miden-vm run -l`: a MASM program is
    /// assembled against it and its procedures are loaded into the host; repeat for several.
    #[arg(
        short = 'l',
        long = "library",
        visible_alias = "libraries",
        value_name = "LIB"
    )]
    pub libraries: Vec<PathBuf>,
    /// Stop with an error after this many cycles (default and most: 2^29).
    #[arg(short = 'm', long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_cycles: Option<u32>,
}

/// Arguments of `weft trace`.
#[derive(Debug, clap::Args)]
pub struct TraceArgs {
    /// The program and what it runs with.
    #[command(flatten)]
    pub program: ProgramArgs,
    /// Which trace builder to use.
    #[arg(long, value_enum, default_value_t = Engine::Parallel)]
    pub engine: Engine,
    /// Rows per fragment (parallel engine).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_FRAGMENT_SIZE,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub fragment_size: u32,
    /// Worker threads (parallel engine; default: one per core).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub threads: Option<u32>,
    /// Write every trace row (padding included) as CSV to OUT.
    #[arg(long, value_name = "OUT")]
    pub csv: Option<PathBuf>,
    /// Also build the trace with the other engine and compare them row by row.
    #[arg(long)]
    pub check: bool,
    /// Refuse to build traces taking more than this many MiB in all (default: the memory
    /// available; both traces count with --check).
    #[arg(long, value_name = "MIB")]
    pub max_trace_memory: Option<u64>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Distributed building (`--distributed`).
    #[cfg(feature = "dist")]
    #[command(flatten)]
    pub dist: DistArgs,
}

/// The arguments of `weft trace --distributed`.
#[cfg(feature = "dist")]
#[derive(Debug, clap::Args)]
pub struct DistArgs {
    /// Build the core rows on workers (`weft worker`) through a NATS JetStream queue; the
    /// range checker and chiplets are built here (parallel engine only).
    #[arg(long, requires_all = ["nats", "store"])]
    pub distributed: bool,
    /// The NATS server, with JetStream (e.g. nats://host:4222).
    #[arg(long, value_name = "URL", requires = "distributed")]
    pub nats: Option<String>,
    /// The blob store every machine reaches: a directory, or file:///path.
    #[arg(long, value_name = "URL", requires = "distributed")]
    pub store: Option<String>,
    /// Rows per job, rounded down to whole fragments.
    #[arg(long, value_name = "N", default_value_t = weft_dist::DEFAULT_JOB_ROWS)]
    pub job_rows: usize,
    /// The run's id (default: derived from the inputs, so running again resumes the run).
    #[arg(long, value_name = "ID")]
    pub run_id: Option<String>,
    /// Fail when the jobs are not all done after this many seconds.
    #[arg(long, value_name = "S", default_value_t = 3600)]
    pub timeout_s: u64,
}

/// Arguments of `weft worker`.
#[cfg(feature = "dist")]
#[derive(Debug, clap::Args)]
pub struct WorkerArgs {
    /// The NATS server, with JetStream (e.g. nats://host:4222).
    #[arg(long, value_name = "URL")]
    pub nats: String,
    /// The blob store every machine reaches: a directory, or file:///path.
    #[arg(long, value_name = "URL")]
    pub store: String,
    /// Threads building a job (default: one per core).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub threads: Option<u32>,
    /// The name its completion records carry (default: worker-PID).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Stop after this many jobs.
    #[arg(long, value_name = "N")]
    pub max_jobs: Option<usize>,
    /// Stop after this many seconds without a job.
    #[arg(long, value_name = "S")]
    pub idle_exit_s: Option<u64>,
}

/// Arguments of `weft bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// The program and what it runs with.
    #[command(flatten)]
    pub program: ProgramArgs,
    /// Repetitions of each phase.
    #[arg(long, value_name = "N", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub reps: u32,
    /// Worker threads building the trace (default: one per core).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub threads: Option<u32>,
    /// Rows per fragment.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_FRAGMENT_SIZE,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub fragment_size: u32,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// A trace builder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Engine {
    /// `execute_for_trace` (fast processor recording fragment contexts), then `build_trace` on a
    /// rayon pool.
    Parallel,
    /// The reference processor: one row per cycle, sequentially.
    Reference,
}

impl Engine {
    /// The engine's name as the command line spells it.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Parallel => "parallel",
            Engine::Reference => "reference",
        }
    }
}

/// A format `weft convert` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// weft's fast binary format.
    Fast,
    /// weft's compact binary format.
    Compact,
    /// weft's text format.
    Text,
}

/// The message of the last panic, kept by the panic hook for [`main`] to print.
static LAST_PANIC: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// Runs the command line with the process's arguments and returns its exit status.
///
/// A panic that escapes a command (a bug) is reported as one `internal error` line rather than
/// a backtrace. Panics caught on the way (upstream's decoders run under `catch_unwind`) print
/// nothing: the hook only records the message.
pub fn main() -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown".to_string());
        let place = info
            .location()
            .map(|l| format!(" ({}:{})", l.file(), l.line()))
            .unwrap_or_default();
        if let Ok(mut last) = LAST_PANIC.lock() {
            *last = Some(format!("{message}{place}"));
        }
    }));
    let cli = Cli::parse();
    let outcome = std::panic::catch_unwind(|| commands::dispatch(cli.command));
    match outcome {
        Ok(Ok(()) | Err(CliError::BrokenPipe)) => ExitCode::SUCCESS,
        Ok(Err(err)) => {
            let _ = writeln!(std::io::stderr(), "error: {err}");
            ExitCode::FAILURE
        }
        Err(_) => {
            let message = LAST_PANIC
                .lock()
                .ok()
                .and_then(|mut last| last.take())
                .unwrap_or_else(|| "unknown".to_string());
            let _ = writeln!(std::io::stderr(), "error: internal error: {message}");
            ExitCode::from(101)
        }
    }
}
