//! The four commands: `run`, `trace`, `inspect` and `convert`.

use std::{fmt::Write as _, io::Write as _, path::Path, sync::Arc, time::Instant};

use serde_json::{Value, json};
use weft_core::trace::{CORE_TRACE_WIDTH, CoreTrace, first_difference, padded_len};
use weft_fast::{
    FastProcessor,
    tracer::{Checkpoint, Continuation, RowAt, Tracer},
};
use weft_host::{ExecutionError, ExecutionOptions, StackOutputs};
use weft_mast::{
    MastForest, MastNode, MastNodeKind, Program,
    format::{WriteError, compact, fast, text},
};
use weft_miden::ProgramInputs;

use super::{
    CliError, Command, Engine, OutputFormat, TraceArgs,
    load::{self, LoadedFile, canonical_forest, canonical_program},
    progress::Progress,
    report::{self, cycles_per_s, digest_hex, seconds, si, stack_json, stack_text},
};

/// Runs one command.
pub fn dispatch(command: Command) -> Result<(), CliError> {
    match command {
        Command::Run {
            file,
            inputs,
            max_cycles,
            json,
        } => run(&file, inputs.as_deref(), max_cycles, json),
        Command::Trace(args) => trace(&args),
        Command::Inspect { file, json } => inspect(&file, json),
        Command::Convert {
            input,
            output,
            format,
            strip,
        } => convert(&input, &output, format, strip),
        Command::ProbeUpstream { kind } => load::probe_child(kind),
    }
}

fn print(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(CliError::stdout)
}

fn print_json(value: &Value) -> Result<(), CliError> {
    print(&format!("{value}\n"))
}

// EXECUTION ERRORS
// ================================================================================================

/// A tracer that describes the rows at one clock cycle and the one before it.
struct Locator {
    target: u32,
    at_target: Option<String>,
    before_target: Option<String>,
    pending: Option<u32>,
}

impl Tracer for Locator {
    type Error = weft_fast::Never;

    fn start_clock_cycle(&mut self, clk: u32) -> bool {
        let wanted = clk == self.target || clk.checked_add(1) == Some(self.target);
        self.pending = wanted.then_some(clk);
        wanted
    }

    fn checkpoint(&mut self, checkpoint: Checkpoint<'_>) {
        let description = describe_row(checkpoint.row, checkpoint.forests);
        if self.pending == Some(self.target) {
            self.at_target = Some(description);
        } else {
            self.before_target = Some(description);
        }
    }
}

fn node_of(forests: &[Arc<MastForest>], node: weft_fast::tracer::NodeRef) -> Option<&MastNode> {
    forests
        .get(node.forest as usize)?
        .nodes()
        .get(node.node as usize)
}

fn kind_name(node: Option<&MastNode>) -> &'static str {
    match node.map(MastNode::kind) {
        Some(MastNodeKind::Block) => "basic block",
        Some(kind) => kind.name(),
        None => "unknown",
    }
}

/// Describes the row about to execute: the operation, or which control row of which node.
fn describe_row(row: RowAt, forests: &[Arc<MastForest>]) -> String {
    match row {
        RowAt::Op { block, batch, op } => node_of(forests, block)
            .and_then(MastNode::as_block)
            .and_then(|b| b.batches().ok()?.get(batch as usize))
            .and_then(|b| b.ops().get(op as usize))
            .map_or_else(
                || "an operation".to_string(),
                |op| format!("operation `{op}`"),
            ),
        RowAt::Start(node) => format!("the start of a {} node", kind_name(node_of(forests, node))),
        RowAt::Respan { .. } => "`respan`".to_string(),
        RowAt::BlockEnd(_) => "the `end` of a basic block".to_string(),
        RowAt::Finish(cont) => match cont {
            Continuation::FinishLoop { .. } => "the `repeat`/`end` of a loop".to_string(),
            Continuation::Start(node) => {
                format!("the start of a {} node", kind_name(node_of(forests, node)))
            }
            Continuation::FinishJoin(node)
            | Continuation::FinishSplit(node)
            | Continuation::FinishCall(node)
            | Continuation::FinishDyn(node) => {
                format!("the `end` of a {} node", kind_name(node_of(forests, node)))
            }
        },
    }
}

/// Turns an execution error into the command's error, locating the operation at its clock
/// cycle by running the program again (deterministically) with a [`Locator`].
fn execution_error(
    source: ExecutionError,
    file: &LoadedFile,
    program: &Program,
    inputs: &ProgramInputs,
) -> CliError {
    let clk = source.clk();
    let op = clk.and_then(|target| {
        let mut locator = Locator {
            target,
            at_target: None,
            before_target: None,
            pending: None,
        };
        let mut host = file.host();
        // The run fails again, at the same cycle; only what the locator saw matters.
        let _ = FastProcessor::new(
            inputs.weft_stack_inputs(),
            inputs.weft_advice_inputs(),
            file.options,
        )
        .execute_with_tracer(program, &mut host, &mut locator);
        locator.at_target.or(locator.before_target)
    });
    CliError::Execution { clk, op, source }
}

// RUN
// ================================================================================================

fn run(
    path: &Path,
    inputs_path: Option<&Path>,
    max_cycles: Option<u32>,
    json: bool,
) -> Result<(), CliError> {
    let start = Instant::now();
    let mut file = load::load(path)?;
    if let Some(max_cycles) = max_cycles {
        file.options = ExecutionOptions::with_max_cycles(max_cycles);
    }
    let program = file.runnable(path)?;
    let inputs = load::inputs(path, inputs_path)?;
    let mut host = file.host();
    let load_s = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let output = FastProcessor::new(
        inputs.weft_stack_inputs(),
        inputs.weft_advice_inputs(),
        file.options,
    )
    .execute(program, &mut host);
    let execute_s = start.elapsed().as_secs_f64();
    let output = output.map_err(|e| execution_error(e, &file, program, &inputs))?;
    let cycles = u64::from(output.n_cycles);
    let rate = cycles_per_s(cycles, execute_s);
    if json {
        return print_json(&json!({
            "program_digest": digest_hex(&program.hash()),
            "cycles": cycles,
            "stack_outputs": stack_json(&output.stack_outputs),
            "execute_s": execute_s,
            "cycles_per_s": rate,
            "load_s": load_s,
        }));
    }
    print(&format!(
        "program  {}\nstack    {}\ncycles   {cycles}\ntime     {} (loading {})\nspeed    {}cycles/s\n",
        digest_hex(&program.hash()),
        stack_text(&output.stack_outputs),
        seconds(execute_s),
        seconds(load_s),
        si(rate),
    ))
}

// TRACE
// ================================================================================================

/// A trace built by one engine.
struct Built {
    trace: CoreTrace,
    stack_outputs: StackOutputs,
    n_cycles: u64,
    execute_s: f64,
    build_s: f64,
    fragments: Option<usize>,
}

fn thread_pool(threads: Option<u32>) -> Result<rayon::ThreadPool, CliError> {
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

/// Checks that `n_traces` traces of `n_cycles` executed cycles fit in `limit` bytes (default:
/// the memory available now).
fn check_trace_memory(n_cycles: u64, memory: &MemoryLimit) -> Result<(), CliError> {
    const MIB: u64 = 1 << 20;
    let Some(limit) = memory.limit_bytes.or_else(available_memory) else {
        return Ok(());
    };
    let rows = padded_len(usize::try_from(n_cycles).unwrap_or(usize::MAX)) as u64;
    let needed = rows
        .saturating_mul(CORE_TRACE_WIDTH as u64 * 8)
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
struct MemoryLimit {
    /// `--max-trace-memory`, in bytes; `None`: the memory available.
    limit_bytes: Option<u64>,
    /// How many traces are held at once (2 with `--check`).
    n_traces: u64,
}

fn build_parallel(
    file: &LoadedFile,
    program: &Program,
    inputs: &ProgramInputs,
    fragment_size: u32,
    pool: &rayon::ThreadPool,
    memory: &MemoryLimit,
    progress: &Progress,
) -> Result<Built, CliError> {
    let mut host = file.host();
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
    check_trace_memory(u64::from(output.n_cycles), memory)?;
    progress.phase("building the trace in parallel");
    let start = Instant::now();
    let trace = pool.install(|| weft_tracegen::build_trace(&output.forests, &contexts))?;
    let build_s = start.elapsed().as_secs_f64();
    Ok(Built {
        trace,
        stack_outputs: output.stack_outputs,
        n_cycles: u64::from(output.n_cycles),
        execute_s,
        build_s,
        fragments: Some(contexts.fragments.len()),
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
    // processor (much faster than the reference), so that a trace too large fails cleanly.
    progress.phase("executing (sizing the trace)");
    let sized = FastProcessor::new(
        inputs.weft_stack_inputs(),
        inputs.weft_advice_inputs(),
        file.options,
    )
    .execute(program, &mut file.host())
    .map_err(|e| execution_error(e, file, program, inputs))?;
    check_trace_memory(u64::from(sized.n_cycles), memory)?;
    let mut host = file.host();
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
        stack_outputs: output.stack_outputs,
        n_cycles: output.n_cycles as u64,
        execute_s,
        build_s: 0.0,
        fragments: None,
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

fn trace(args: &TraceArgs) -> Result<(), CliError> {
    let progress = Progress::start();
    progress.phase("loading");
    let start = Instant::now();
    let mut file = load::load(&args.file)?;
    if let Some(max_cycles) = args.max_cycles {
        file.options = ExecutionOptions::with_max_cycles(max_cycles);
    }
    let program = file.runnable(&args.file)?;
    let inputs = load::inputs(&args.file, args.inputs.as_deref())?;
    // The first host converts the core library (once per process): count it as loading.
    drop(file.host());
    let load_s = start.elapsed().as_secs_f64();
    let pool = thread_pool(args.threads)?;
    let memory = MemoryLimit {
        limit_bytes: args.max_trace_memory.map(|mib| mib.saturating_mul(1 << 20)),
        n_traces: if args.check { 2 } else { 1 },
    };
    let parallel = |progress: &Progress| {
        build_parallel(
            &file,
            program,
            &inputs,
            args.fragment_size,
            &pool,
            &memory,
            progress,
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
            "build_s": built.build_s,
            "fragment_size": is_parallel.then_some(args.fragment_size),
            "threads": is_parallel.then_some(threads),
            "fragments": built.fragments,
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
        let _ = writeln!(text, "stack    {}", stack_text(&built.stack_outputs));
        let _ = writeln!(text, "cycles   {cycles}");
        let _ = writeln!(text, "rows     {rows} (padded to {padded_rows})");
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
                    "ok: identical to the {} trace ({padded_rows} rows x 49 columns)",
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

// INSPECT
// ================================================================================================

fn inspect(path: &Path, json: bool) -> Result<(), CliError> {
    let file = load::load(path)?;
    let entry = file.program.as_ref().map(Program::entrypoint);
    let (forest, map) = canonical_forest(path, &file.forest, entry)?;
    let digest = file.program.as_ref().map(|p| digest_hex(&p.hash()));
    let text_form = text::print(&forest).map_err(|source| CliError::Convert {
        path: "the text form".to_string(),
        format: "text",
        source,
    })?;
    let mut counts = [0usize; MastNodeKind::ALL.len()];
    for node in forest.nodes() {
        if let Some(i) = MastNodeKind::ALL.iter().position(|&k| k == node.kind()) {
            counts[i] += 1;
        }
    }
    let name_of = |id| {
        file.names
            .iter()
            .find(|(node, _)| map[node.as_usize()] == id)
            .map(|(_, name)| name.clone())
    };
    let entry = entry.map(|id| map[id.as_usize()]);
    let procedures: Vec<(u32, String, Option<String>, bool)> = forest
        .procedure_roots()
        .iter()
        .map(|&id| {
            (
                id.as_u32(),
                digest_hex(&forest[id].digest()),
                name_of(id),
                Some(id) == entry,
            )
        })
        .collect();
    if json {
        let node_counts: serde_json::Map<String, Value> = MastNodeKind::ALL
            .iter()
            .zip(counts)
            .map(|(kind, n)| (kind.name().to_string(), json!(n)))
            .collect();
        return print_json(&json!({
            "kind": file.kind.name(),
            "program_digest": digest,
            "nodes": forest.num_nodes(),
            "node_counts": node_counts,
            "procedures": procedures.iter().map(|(node, digest, name, entry)| json!({
                "node": node,
                "digest": digest,
                "name": name,
                "entry": entry,
            })).collect::<Vec<_>>(),
            "text": text_form,
        }));
    }
    let mut out = String::new();
    let _ = writeln!(out, "file        {} ({})", path.display(), file.kind.name());
    let _ = writeln!(
        out,
        "digest      {}",
        digest.as_deref().unwrap_or("none (no entry point)")
    );
    let by_kind: Vec<String> = MastNodeKind::ALL
        .iter()
        .zip(counts)
        .filter(|(_, n)| *n > 0)
        .map(|(kind, n)| format!("{} {n}", kind.name()))
        .collect();
    let _ = writeln!(
        out,
        "nodes       {} ({})",
        forest.num_nodes(),
        by_kind.join(", ")
    );
    let _ = writeln!(out, "procedures  {}", procedures.len());
    for (node, digest, name, is_entry) in &procedures {
        let _ = writeln!(
            out,
            "  node {node:<6} {digest}{}{}",
            if *is_entry { "  entry" } else { "" },
            name.as_deref()
                .map(|n| format!("  {n}"))
                .unwrap_or_default()
        );
    }
    let _ = writeln!(out, "\n{text_form}");
    print(&out)
}

// CONVERT
// ================================================================================================

fn has_decorators(forest: &MastForest) -> bool {
    !forest.decorators().is_empty()
        || forest
            .node_ids()
            .any(|id| forest.node_decorators(id).is_some_and(|d| !d.is_empty()))
}

fn convert(input: &Path, output: &Path, format: OutputFormat, strip: bool) -> Result<(), CliError> {
    let file = load::load(input)?;
    let format_name = match format {
        OutputFormat::Fast => "fast",
        OutputFormat::Compact => "compact",
        OutputFormat::Text => "text",
    };
    let convert_error = |source| CliError::Convert {
        path: output.display().to_string(),
        format: format_name,
        source,
    };
    if !strip && has_decorators(&file.forest) {
        return Err(convert_error(WriteError::HasDecorators));
    }
    // A program is written with its entry point and kernel (and the kernel's code, when the
    // input came with it); a library as a forest.
    let program = match &file.program {
        Some(program) => Some(canonical_program(
            input,
            program,
            file.kernel_forest.as_ref(),
        )?),
        None => None,
    };
    let library;
    let forest: &MastForest = match &program {
        Some(program) => program.forest(),
        None => {
            library = canonical_forest(input, &file.forest, None)?.0;
            &library
        }
    };
    let bytes = match (format, &program) {
        (OutputFormat::Fast, Some(p)) => fast::write_program(p),
        (OutputFormat::Fast, None) => fast::write(forest),
        (OutputFormat::Compact, Some(p)) => compact::write_program(p),
        (OutputFormat::Compact, None) => compact::write(forest),
        (OutputFormat::Text, Some(p)) => text::print_program(p).map(String::into_bytes),
        (OutputFormat::Text, None) => text::print(forest).map(String::into_bytes),
    }
    .map_err(convert_error)?;
    std::fs::write(output, &bytes).map_err(|source| CliError::Write {
        path: output.display().to_string(),
        source,
    })?;
    print(&format!(
        "wrote {} ({format_name}, {} bytes, {} nodes, {} procedures{})\n",
        output.display(),
        bytes.len(),
        forest.num_nodes(),
        forest.procedure_roots().len(),
        file.program
            .as_ref()
            .map(|p| {
                let n_kernel = p.kernel().proc_hashes().len();
                let kernel = if n_kernel > 0 {
                    format!(", kernel of {n_kernel} procedures")
                } else {
                    String::new()
                };
                format!(", entry {}{kernel}", digest_hex(&p.hash()))
            })
            .unwrap_or_default(),
    ))
}

#[cfg(test)]
mod tests {
    use weft_core::{
        Felt,
        trace::{CORE_TRACE_WIDTH, CoreTrace},
    };

    use super::*;

    fn built(trace: CoreTrace, top: u64) -> Built {
        let mut stack = [Felt::new(0); 16];
        stack[0] = Felt::new(top);
        Built {
            n_cycles: trace.num_rows() as u64 - 1,
            trace,
            stack_outputs: StackOutputs::new(stack),
            execute_s: 0.0,
            build_s: 0.0,
            fragments: None,
        }
    }

    fn trace_with(row: usize, col: usize, value: u64) -> CoreTrace {
        let mut trace = CoreTrace::new();
        for r in 0..8 {
            let mut cells = [Felt::new(0); CORE_TRACE_WIDTH];
            cells[0] = Felt::new(r as u64);
            if r == row {
                cells[col] = Felt::new(value);
            }
            trace.push_row(&cells);
        }
        trace
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
        assert_eq!(diff.column, weft_core::trace::CORE_COLUMN_NAMES[7]);
        assert!(err.to_string().contains("row 3"), "{err}");
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
