//! `weft trace`: build the whole 71-column main trace with the parallel engine (`execute_for_trace`,
//! then `build_trace` on a rayon pool) or the reference processor, with per-phase timings, an
//! optional check against the other engine, a memory limit checked before building, and a CSV
//! dump.

use std::{fmt::Write as _, time::Instant};

use serde_json::json;
use weft_core::main_trace::{MainTrace, TRACE_WIDTH, TraceLenSummary, first_difference};
use weft_host::StackOutputs;
use weft_mast::Program;
use weft_upstream::ProgramInputs;

use super::{failure::execution_error, print, print_json};
use crate::{
    CliError, Engine, TraceArgs,
    load::LoadedFile,
    progress::Progress,
    report::{self, cycles_per_s, digest_hex, seconds, si, stack_json, stack_text},
};

/// A trace built by one engine.
struct Built {
    trace: MainTrace,
    summary: TraceLenSummary,
    stack_outputs: StackOutputs,
    n_cycles: u64,
    execute_s: f64,
    build_s: f64,
    fragments: Option<usize>,
    /// What the distributed run did (`--distributed`).
    distributed: Option<serde_json::Value>,
}

/// How the parallel engine builds (`--distributed` with the `dist` feature).
#[cfg(feature = "dist")]
type Distributed<'a> = Option<&'a crate::DistArgs>;
/// How the parallel engine builds (always locally without the `dist` feature).
#[cfg(not(feature = "dist"))]
type Distributed<'a> = Option<&'a std::convert::Infallible>;

pub(super) fn thread_pool(threads: Option<u32>) -> Result<rayon::ThreadPool, CliError> {
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        builder = builder.num_threads(n as usize);
    }
    builder.build().map_err(|e| CliError::ThreadPool {
        threads: threads.unwrap_or(0),
        reason: e.to_string(),
    })
}

/// Bytes of memory currently available (Linux `MemAvailable`), if known.
fn available_memory() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// Checks that `n_traces` main traces of `rows` rows (all 71 columns) fit in `limit` bytes
/// (default: the memory available now).
pub(super) fn check_trace_memory(rows: u64, memory: &MemoryLimit) -> Result<(), CliError> {
    const MIB: u64 = 1 << 20;
    let Some(limit) = memory.limit_bytes.or_else(available_memory) else {
        return Ok(());
    };
    let needed = rows
        .saturating_mul(TRACE_WIDTH as u64 * 8)
        .saturating_mul(memory.n_traces);
    if needed > limit {
        return Err(CliError::TraceTooLarge {
            rows,
            n_traces: memory.n_traces,
            needed_mib: needed.div_ceil(MIB),
            limit_mib: limit / MIB,
        });
    }
    Ok(())
}

/// How much memory the traces of one command may take.
pub(super) struct MemoryLimit {
    /// `--max-trace-memory`, in bytes; `None`: the memory available.
    pub(super) limit_bytes: Option<u64>,
    /// How many traces are held at once (2 with `--check`).
    pub(super) n_traces: u64,
}

#[expect(
    clippy::too_many_arguments,
    reason = "the inputs of one build, each used once"
)]
fn build_parallel(
    file: &LoadedFile,
    program: &Program,
    inputs: &ProgramInputs,
    fragment_size: u32,
    pool: &rayon::ThreadPool,
    memory: &MemoryLimit,
    progress: &Progress,
    distributed: Distributed<'_>,
) -> Result<Built, CliError> {
    let mut host = file.host()?;
    progress.phase("executing (recording fragment contexts)");
    let start = Instant::now();
    let executed = weft_replay::execute_for_trace_with_options(
        program,
        inputs.weft_stack_inputs(),
        inputs.weft_advice_inputs(),
        &mut host,
        fragment_size,
        file.options,
    );
    let execute_s = start.elapsed().as_secs_f64();
    let (output, contexts) = executed.map_err(|e| execution_error(e, file, program, inputs))?;
    let rows = weft_tracegen::trace_len_bound(&output.forests, &contexts)?;
    check_trace_memory(rows as u64, memory)?;
    let start = Instant::now();
    let (trace, summary, dist_summary) = match distributed {
        #[cfg(feature = "dist")]
        Some(args) => {
            progress.phase("building the core rows on workers, the rest here");
            let (trace, summary, run) = super::dist::build(args, &output.forests, &contexts, pool)?;
            (trace, summary, Some(run))
        }
        #[cfg(not(feature = "dist"))]
        Some(never) => match *never {},
        None => {
            progress.phase("building the trace in parallel");
            let (trace, summary) = pool
                .install(|| weft_tracegen::build_trace_with_summary(&output.forests, &contexts))?;
            (trace, summary, None)
        }
    };
    let build_s = start.elapsed().as_secs_f64();
    Ok(Built {
        trace,
        summary,
        stack_outputs: output.stack_outputs,
        n_cycles: u64::from(output.n_cycles),
        execute_s,
        build_s,
        fragments: Some(contexts.fragments.len()),
        distributed: dist_summary,
    })
}

fn build_reference(
    file: &LoadedFile,
    program: &Program,
    inputs: &ProgramInputs,
    memory: &MemoryLimit,
    progress: &Progress,
) -> Result<Built, CliError> {
    // The reference grows its trace as it runs: learn the length first from the fast
    // processor (much faster than the reference) and its chiplet log, so that a trace too
    // large fails cleanly.
    progress.phase("executing (sizing the trace)");
    let (sized, contexts) = weft_replay::execute_for_trace_with_options(
        program,
        inputs.weft_stack_inputs(),
        inputs.weft_advice_inputs(),
        &mut file.host()?,
        u32::MAX,
        file.options,
    )
    .map_err(|e| execution_error(e, file, program, inputs))?;
    let rows = weft_tracegen::trace_len_bound(&sized.forests, &contexts)?;
    drop(contexts);
    check_trace_memory(rows as u64, memory)?;
    let mut host = file.host()?;
    progress.phase("executing and building the trace (reference)");
    let start = Instant::now();
    let output = weft_reference::execute(
        program,
        inputs.weft_stack_inputs(),
        inputs.weft_advice_inputs(),
        &mut host,
        file.options,
    );
    let execute_s = start.elapsed().as_secs_f64();
    let output = output.map_err(|e| execution_error(e, file, program, inputs))?;
    Ok(Built {
        trace: output.trace,
        summary: output.summary,
        stack_outputs: output.stack_outputs,
        n_cycles: output.n_cycles as u64,
        execute_s,
        build_s: 0.0,
        fragments: None,
        distributed: None,
    })
}

/// Compares the parallel engine's build with the reference's.
fn compare(reference: &Built, parallel: &Built) -> Result<(), CliError> {
    let engine = Engine::Parallel.name();
    if let Some(diff) = first_difference(&reference.trace, &parallel.trace) {
        return Err(CliError::TraceMismatch { engine, diff });
    }
    if reference.n_cycles != parallel.n_cycles {
        return Err(CliError::OutputMismatch {
            engine,
            what: "cycle counts",
            expected: reference.n_cycles.to_string(),
            found: parallel.n_cycles.to_string(),
        });
    }
    if reference.stack_outputs != parallel.stack_outputs {
        return Err(CliError::OutputMismatch {
            engine,
            what: "stack outputs",
            expected: stack_text(&reference.stack_outputs),
            found: stack_text(&parallel.stack_outputs),
        });
    }
    Ok(())
}

/// Runs `weft trace`.
pub(super) fn trace(args: &TraceArgs) -> Result<(), CliError> {
    let progress = Progress::start();
    progress.phase("loading");
    let start = Instant::now();
    let (file, inputs) = args.program.load(|_| {})?;
    let program = file.runnable(&args.program.file)?;
    // The first host reads the core library (once per process): count it as loading.
    drop(file.host()?);
    file.link(program)?;
    let load_s = start.elapsed().as_secs_f64();
    let pool = thread_pool(args.threads)?;
    let memory = MemoryLimit {
        limit_bytes: args.max_trace_memory.map(|mib| mib.saturating_mul(1 << 20)),
        n_traces: if args.check { 2 } else { 1 },
    };
    #[cfg(feature = "dist")]
    let distributed = args.dist.distributed.then_some(&args.dist);
    #[cfg(not(feature = "dist"))]
    let distributed = None;
    let parallel = |progress: &Progress| {
        build_parallel(
            &file,
            program,
            &inputs,
            args.fragment_size,
            &pool,
            &memory,
            progress,
            distributed,
        )
    };
    let built = match args.engine {
        Engine::Parallel => parallel(&progress)?,
        Engine::Reference => build_reference(&file, program, &inputs, &memory, &progress)?,
    };

    // The check: the other engine, then the comparison (reference = expected).
    let mut check = None;
    if args.check {
        let start = Instant::now();
        let result = match args.engine {
            Engine::Parallel => {
                let reference = build_reference(&file, program, &inputs, &memory, &progress)?;
                progress.phase("comparing");
                compare(&reference, &built)
            }
            Engine::Reference => {
                let other = parallel(&progress)?;
                progress.phase("comparing");
                compare(&built, &other)
            }
        };
        check = Some((result, start.elapsed().as_secs_f64()));
    }

    let mut csv_s = None;
    if let Some(path) = &args.csv {
        let start = Instant::now();
        let write_error = |source| CliError::Write {
            path: path.display().to_string(),
            source,
        };
        progress.counted_phase("writing CSV", built.trace.num_rows() as u64);
        let file = std::fs::File::create(path).map_err(write_error)?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        report::write_csv(&mut out, &built.trace, |n| progress.advance(n)).map_err(write_error)?;
        csv_s = Some(start.elapsed().as_secs_f64());
    }
    drop(progress);

    let cycles = built.n_cycles;
    let rows = cycles + 1;
    let padded_rows = built.trace.num_rows() as u64;
    let summary = &built.summary;
    let other_engine = match args.engine {
        Engine::Parallel => Engine::Reference,
        Engine::Reference => Engine::Parallel,
    };
    let is_parallel = args.engine == Engine::Parallel;
    let threads = pool.current_num_threads();
    if args.json {
        let check_json = check.as_ref().map(|(result, check_s)| {
            json!({
                "ok": result.is_ok(),
                "engine": other_engine.name(),
                "check_s": check_s,
                "difference": result.as_ref().err().map(ToString::to_string),
            })
        });
        print_json(&json!({
            "program_digest": digest_hex(&program.hash()),
            "cycles": cycles,
            "stack_outputs": stack_json(&built.stack_outputs),
            "execute_s": built.execute_s,
            "cycles_per_s": cycles_per_s(cycles, built.execute_s),
            "engine": args.engine.name(),
            "rows": rows,
            "padded_rows": padded_rows,
            "trace_rows": padded_rows,
            "trace_cols": TRACE_WIDTH,
            "core_rows": summary.core_rows,
            "range_rows": summary.range_rows,
            "chiplets_rows": summary.chiplets_rows(),
            "build_s": built.build_s,
            "fragment_size": is_parallel.then_some(args.fragment_size),
            "threads": is_parallel.then_some(threads),
            "fragments": built.fragments,
            "distributed": built.distributed,
            "check": check_json,
            "csv": args.csv.as_ref().map(|p| p.display().to_string()),
            "csv_s": csv_s,
            "load_s": load_s,
        }))?;
    } else {
        let mut text = String::new();
        let _ = writeln!(text, "program  {}", digest_hex(&program.hash()));
        match built.fragments {
            Some(n) => {
                let _ = writeln!(
                    text,
                    "engine   parallel ({n} fragments of {} rows, {threads} threads)",
                    args.fragment_size
                );
            }
            None => {
                let _ = writeln!(text, "engine   reference");
            }
        }
        if let Some(run) = &built.distributed {
            let _ = writeln!(
                text,
                "workers  run {}: {} jobs ({} published, {} already done, {} redelivered), {} \
                 bytes of core rows back",
                run["run"].as_str().unwrap_or_default(),
                run["jobs"],
                run["published"],
                run["already_done"],
                run["redelivered"],
                run["bytes_downloaded"]
            );
        }
        let _ = writeln!(text, "stack    {}", stack_text(&built.stack_outputs));
        let _ = writeln!(text, "cycles   {cycles}");
        let _ = writeln!(
            text,
            "rows     {padded_rows} x {TRACE_WIDTH} columns (core {}, range checker {}, chiplets {})",
            summary.core_rows,
            summary.range_rows,
            summary.chiplets_rows()
        );
        let _ = writeln!(text, "load     {}", seconds(load_s));
        let _ = writeln!(
            text,
            "execute  {} ({}cycles/s)",
            seconds(built.execute_s),
            si(cycles_per_s(cycles, built.execute_s))
        );
        if is_parallel {
            let _ = writeln!(
                text,
                "build    {} ({}rows/s)",
                seconds(built.build_s),
                si(cycles_per_s(padded_rows, built.build_s))
            );
        } else {
            let _ = writeln!(text, "build    (during execution)");
        }
        if let Some((result, check_s)) = &check {
            let verdict = match result {
                Ok(()) => format!(
                    "ok: identical to the {} trace ({padded_rows} rows x {TRACE_WIDTH} columns)",
                    other_engine.name()
                ),
                Err(_) => "MISMATCH".to_string(),
            };
            let _ = writeln!(text, "check    {verdict}, {}", seconds(*check_s));
        }
        if let Some(path) = &args.csv {
            let _ = writeln!(
                text,
                "csv      {} ({padded_rows} rows), {}",
                path.display(),
                seconds(csv_s.unwrap_or_default())
            );
        }
        print(&text)?;
    }
    match check {
        Some((Err(err), _)) => Err(err),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use weft_core::{Felt, main_trace::COLUMN_NAMES};

    use super::*;

    fn built(trace: MainTrace, top: u64) -> Built {
        let mut stack = [Felt::new(0); 16];
        stack[0] = Felt::new(top);
        Built {
            n_cycles: trace.num_rows() as u64 - 1,
            trace,
            summary: TraceLenSummary::default(),
            stack_outputs: StackOutputs::new(stack),
            execute_s: 0.0,
            build_s: 0.0,
            fragments: None,
            distributed: None,
        }
    }

    fn trace_with(row: usize, col: usize, value: u64) -> MainTrace {
        trace_with_cells(&[(row, col, value)])
    }

    fn trace_with_cells(cells: &[(usize, usize, u64)]) -> MainTrace {
        let mut columns = vec![vec![Felt::new(0); 8]; TRACE_WIDTH];
        for (r, cell) in columns[0].iter_mut().enumerate() {
            *cell = Felt::new(r as u64);
        }
        for &(row, col, value) in cells {
            columns[col][row] = Felt::new(value);
        }
        MainTrace::from_columns(columns).expect("71 columns")
    }

    #[test]
    fn check_reports_the_first_difference() {
        let reference = built(trace_with(3, 7, 1), 5);
        assert!(compare(&reference, &built(trace_with(3, 7, 1), 5)).is_ok());
        let err = compare(&reference, &built(trace_with(3, 7, 2), 5)).expect_err("differs");
        let CliError::TraceMismatch { diff, .. } = &err else {
            panic!("not a trace mismatch: {err}");
        };
        assert_eq!((diff.row, diff.expected, diff.found), (3, 1, 2));
        assert_eq!(diff.column, COLUMN_NAMES[7]);
        assert!(err.to_string().contains("row 3"), "{err}");
        // A chiplet column is compared too, and named.
        let chiplet_differs = trace_with_cells(&[(3, 7, 1), (6, 60, 9)]);
        let err = compare(&reference, &built(chiplet_differs, 5)).expect_err("differs");
        let CliError::TraceMismatch { diff, .. } = &err else {
            panic!("not a trace mismatch: {err}");
        };
        assert_eq!((diff.row, diff.column), (6, COLUMN_NAMES[60]));
        let err = compare(&reference, &built(trace_with(3, 7, 1), 6)).expect_err("differs");
        assert!(
            matches!(
                err,
                CliError::OutputMismatch {
                    what: "stack outputs",
                    ..
                }
            ),
            "{err}"
        );
    }
}
