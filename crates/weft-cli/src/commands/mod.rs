//! The commands: `run`, `bench`, `trace`, `inspect`, `convert` (and `worker`, with the `dist`
//! feature), one module each, plus how an execution failure is located and how results reach
//! standard output.

mod bench;
mod convert;
#[cfg(feature = "dist")]
mod dist;
mod failure;
mod inspect;
mod run;
mod trace;

use std::io::Write as _;

use serde_json::Value;

use super::{CliError, Command, load};

/// Runs one command.
pub fn dispatch(command: Command) -> Result<(), CliError> {
    match command {
        Command::Run { program, json } => run::run(&program, json),
        Command::Bench(args) => bench::bench(&args),
        Command::Trace(args) => trace::trace(&args),
        #[cfg(feature = "dist")]
        Command::Worker(args) => dist::worker(&args),
        Command::Inspect { file, json } => inspect::inspect(&file, json),
        Command::Convert {
            input,
            output,
            format,
            strip,
        } => convert::convert(&input, &output, format, strip),
        Command::ProbeUpstream { kind } => load::probe_child(kind),
    }
}

/// Writes `text` to standard output (a closed pipe is [`CliError::BrokenPipe`]).
fn print(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(CliError::stdout)
}

/// Writes `value` as one JSON line.
fn print_json(value: &Value) -> Result<(), CliError> {
    print(&format!("{value}\n"))
}
