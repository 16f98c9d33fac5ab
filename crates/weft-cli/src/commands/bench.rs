//! `weft bench`: run a program several times in one process and report, for plain execution,
//! execution recording the trace contexts and building the trace, the median, the minimum and
//! the first repetition.
//!
//! Each repetition does what an API user does: it builds a fresh host (the core library is
//! read once per process, as [`weft_upstream::host::weft_core_library`] caches it) and a fresh
//! processor, then
//! 1. `execute`: [`FastProcessor::new`] and [`FastProcessor::execute`], timed together;
//! 2. `execute_for_trace`: [`weft_replay::execute_for_trace_with_options`] (processor
//!    construction included), with a fresh host;
//! 3. `build_trace`: [`weft_tracegen::build_trace`] on the rayon pool from that repetition's
//!    contexts, into a fresh trace, which is dropped before the next repetition.
//!
//! Host construction is not timed (it is `weft run`'s loading). The first repetition of each
//! phase is reported on its own: it carries the fixed costs a short-lived process pays once
//! (first use of lazily batched blocks, first allocations and page faults).

use std::{fmt::Write as _, time::Instant};

use serde_json::json;
use weft_fast::FastProcessor;

use super::{failure::execution_error, print, print_json, trace};
use crate::{
    BenchArgs, CliError,
    report::{cycles_per_s, digest_hex, seconds, stack_json, stack_text},
};

/// The times of one phase over every repetition, in seconds, in repetition order.
#[derive(Debug, Default)]
struct Timings(Vec<f64>);

impl Timings {
    fn push(&mut self, seconds: f64) {
        self.0.push(seconds);
    }

    /// The first repetition's time.
    fn first(&self) -> f64 {
        self.0.first().copied().unwrap_or(0.0)
    }

    /// The smallest time.
    fn min(&self) -> f64 {
        self.0.iter().copied().fold(f64::INFINITY, f64::min)
    }

    /// The median: the middle time, or the mean of the two middle ones for an even count.
    fn median(&self) -> f64 {
        let mut sorted = self.0.clone();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        match n {
            0 => 0.0,
            _ if n % 2 == 1 => sorted[n / 2],
            _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
        }
    }
}

/// Runs `weft bench`.
pub(super) fn bench(args: &BenchArgs) -> Result<(), CliError> {
    let start = Instant::now();
    let (file, inputs) = args.program.load(|_| {})?;
    let program = file.runnable(&args.program.file)?;
    // The first host reads the core library (once per process): count it as loading.
    drop(file.host()?);
    file.link(program)?;
    let load_s = start.elapsed().as_secs_f64();
    let pool = trace::thread_pool(args.threads)?;
    let memory = trace::MemoryLimit {
        limit_bytes: None,
        n_traces: 1,
    };

    let (mut execute, mut record, mut build) =
        (Timings::default(), Timings::default(), Timings::default());
    let mut first_output = None;
    let mut trace_shape = (0, 0);
    let mut n_fragments = 0;
    for _ in 0..args.reps {
        // Hosts and converted inputs are built before each clock starts, as `weft run` does.
        let mut host = file.host()?;
        let (stack_inputs, advice_inputs) =
            (inputs.weft_stack_inputs(), inputs.weft_advice_inputs());
        let start = Instant::now();
        let output = FastProcessor::new(stack_inputs, advice_inputs, file.options)
            .execute(program, &mut host);
        execute.push(start.elapsed().as_secs_f64());
        let output = output.map_err(|e| execution_error(e, &file, program, &inputs))?;

        let mut host = file.host()?;
        let (stack_inputs, advice_inputs) =
            (inputs.weft_stack_inputs(), inputs.weft_advice_inputs());
        let start = Instant::now();
        let recorded = weft_replay::execute_for_trace_with_options(
            program,
            stack_inputs,
            advice_inputs,
            &mut host,
            args.fragment_size,
            file.options,
        );
        record.push(start.elapsed().as_secs_f64());
        let (recorded, contexts) =
            recorded.map_err(|e| execution_error(e, &file, program, &inputs))?;
        check_same(&output, &recorded)?;
        trace::check_trace_memory(u64::from(recorded.n_cycles), &memory)?;

        let start = Instant::now();
        let built = pool.install(|| weft_tracegen::build_trace(&recorded.forests, &contexts))?;
        build.push(start.elapsed().as_secs_f64());
        trace_shape = (built.num_rows(), built.columns().len());
        n_fragments = contexts.fragments.len();
        drop(built);

        match &first_output {
            None => first_output = Some(output),
            Some(first) => check_same(first, &output)?,
        }
    }
    // `reps` is at least 1 (clap enforces it), so there is a first output.
    let Some(output) = first_output else {
        return Ok(());
    };
    let cycles = u64::from(output.n_cycles);
    let (trace_rows, trace_cols) = trace_shape;
    let threads = pool.current_num_threads();
    if args.json {
        return print_json(&json!({
            "program_digest": digest_hex(&program.hash()),
            "cycles": cycles,
            "stack_outputs": stack_json(&output.stack_outputs),
            "reps": args.reps,
            "threads": threads,
            "fragment_size": args.fragment_size,
            "fragments": n_fragments,
            "load_s": load_s,
            "execute_s": execute.median(),
            "execute_min_s": execute.min(),
            "first_execute_s": execute.first(),
            "execute_for_trace_s": record.median(),
            "execute_for_trace_min_s": record.min(),
            "first_execute_for_trace_s": record.first(),
            "build_trace_s": build.median(),
            "build_trace_min_s": build.min(),
            "first_build_trace_s": build.first(),
            "cycles_per_s": cycles_per_s(cycles, execute.median()),
            "trace_rows": trace_rows,
            "trace_cols": trace_cols,
        }));
    }
    let mut text = String::new();
    let _ = writeln!(text, "program  {}", digest_hex(&program.hash()));
    let _ = writeln!(text, "stack    {}", stack_text(&output.stack_outputs));
    let _ = writeln!(text, "cycles   {cycles}");
    let _ = writeln!(
        text,
        "trace    {trace_rows} rows x {trace_cols} columns ({n_fragments} fragments of {} rows, \
         {threads} threads)",
        args.fragment_size
    );
    let _ = writeln!(text, "load     {}", seconds(load_s));
    let _ = writeln!(
        text,
        "{} repetitions: {:>12} {:>12} {:>12}",
        args.reps, "median", "min", "first"
    );
    for (name, timings) in [
        ("execute", &execute),
        ("execute_for_trace", &record),
        ("build_trace", &build),
    ] {
        let _ = writeln!(
            text,
            "  {name:<17} {:>12} {:>12} {:>12}",
            seconds(timings.median()),
            seconds(timings.min()),
            seconds(timings.first())
        );
    }
    print(&text)
}

/// Checks that two runs of the same program agree (they must: execution is deterministic).
fn check_same(
    expected: &weft_fast::ExecutionOutput,
    found: &weft_fast::ExecutionOutput,
) -> Result<(), CliError> {
    if expected.n_cycles != found.n_cycles {
        return Err(CliError::RepetitionMismatch {
            what: "cycle counts",
            expected: expected.n_cycles.to_string(),
            found: found.n_cycles.to_string(),
        });
    }
    if expected.stack_outputs != found.stack_outputs {
        return Err(CliError::RepetitionMismatch {
            what: "stack outputs",
            expected: stack_text(&expected.stack_outputs),
            found: stack_text(&found.stack_outputs),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Timings;

    #[test]
    fn median_min_and_first() {
        let odd = Timings(vec![3.0, 1.0, 2.0]);
        assert_eq!((odd.median(), odd.min(), odd.first()), (2.0, 1.0, 3.0));
        let even = Timings(vec![4.0, 1.0, 3.0, 2.0]);
        assert_eq!((even.median(), even.min(), even.first()), (2.5, 1.0, 4.0));
        let one = Timings(vec![5.0]);
        assert_eq!((one.median(), one.min(), one.first()), (5.0, 5.0, 5.0));
    }
}
