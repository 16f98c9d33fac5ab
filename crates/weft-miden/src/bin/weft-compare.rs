//! `weft-compare`: runs upstream 0.20.6's fast processor and weft's fast processor on the same
//! programs in one process and prints a speed table (`cargo xtask compare` runs it in release
//! mode), then a second table for the trace pipeline: `execute_for_trace` followed by the
//! parallel `build_trace`, upstream's against weft's (on every core), and a third for weft's
//! build run one region at a time (`weft_tracegen::profile_build`): each region's rows per
//! second on one thread and on every core.
//!
//! Usage: `weft-compare [DIR_OR_FILE...] [--fragment-size N] [--min-time-ms T]`; by default the
//! programs of `crates/weft-miden/workloads` and, when present, of the shared corpus (see
//! `weft_miden::corpus`: `WEFT_SHARED_CORPUS`, or `shared/corpus` beside the repository); the
//! first lines say which. Each figure is the best of repeated runs; the six measurements of a
//! program (upstream and weft: execute, execute_for_trace, pipeline) run in turn, round after
//! round, for at least 6 × `T` milliseconds in total (default `T` 300), so that a slow spell of
//! the machine weighs on both sides of every ratio.

use std::{
    path::PathBuf,
    process::ExitCode,
    time::{Duration, Instant},
};

use weft_core::main_trace::ColumnBuffer;
use weft_miden::{
    corpus,
    upstream::{block_on, stack_bottom_first},
};
use weft_upstream::{LoadedProgram, host::weft_host, load_program};

/// The best time of each of `N` measurements, taken in rounds that run each once in turn, until
/// every one has run at least 3 times and the rounds have lasted `N × min_time` in total.
///
/// Interleaving matters on a shared machine: a slow spell of the host (a VM whose vCPU loses
/// half its speed for seconds at a time was measured here) then slows every measurement it
/// overlaps instead of one side of a ratio.
///
/// `setup(i)` runs before measurement `i`, untimed.
fn best_times<const N: usize>(
    min_time: Duration,
    mut setup: impl FnMut(usize),
    mut f: impl FnMut(usize),
) -> [Duration; N] {
    let mut best = [Duration::MAX; N];
    let start = Instant::now();
    let total = min_time * N as u32;
    let mut rounds = 0;
    while rounds < 3 || start.elapsed() < total {
        for (i, best) in best.iter_mut().enumerate() {
            setup(i);
            let t = Instant::now();
            f(i);
            *best = (*best).min(t.elapsed());
        }
        rounds += 1;
    }
    best
}

struct Row {
    name: String,
    n_cycles: u64,
    up_exec: Duration,
    weft_exec: Duration,
    up_e4t: Duration,
    weft_e4t: Duration,
    /// Upstream `execute_for_trace` + parallel `build_trace`.
    up_pipeline: Duration,
    /// weft `execute_for_trace` + `weft_tracegen::build_trace`.
    weft_pipeline: Duration,
    /// The same with weft-core's buffer cache off: every build's buffer fresh from the kernel.
    weft_pipeline_fresh: Duration,
    /// Upstream's trace length (core, range checker and chiplets).
    up_len: usize,
    /// weft's core trace length.
    weft_len: usize,
}

fn upstream_host(p: &LoadedProgram) -> miden_processor::DefaultHost {
    let mut host = weft_miden::upstream::upstream_host();
    if let Some(forest) = &p.kernel_forest {
        host.load_library(forest).expect("kernel loads");
    }
    host
}

/// Upstream's fast processor with the program's inputs (upstream takes the stack bottom first).
fn upstream_processor(p: &LoadedProgram) -> miden_processor::fast::FastProcessor {
    miden_processor::fast::FastProcessor::new_with_advice_inputs(
        &stack_bottom_first(&p.inputs),
        p.inputs.upstream_advice_inputs(),
    )
}

fn upstream_exec(
    p: &LoadedProgram,
    host: &mut miden_processor::DefaultHost,
    fragment: Option<usize>,
) -> u64 {
    let processor = upstream_processor(p);
    let out = match fragment {
        None => block_on(processor.execute(&p.upstream, host)).map(|o| o.stack),
        Some(size) => {
            block_on(processor.execute_for_trace(&p.upstream, host, size)).map(|o| o.0.stack)
        }
    };
    out.map(|s| s[0].as_int()).unwrap_or(u64::MAX)
}

fn weft_exec(
    p: &LoadedProgram,
    host: &mut weft_host::DefaultHost,
    fragment: Option<u32>,
) -> (u64, u64) {
    let out = match fragment {
        None => weft_fast::FastProcessor::new(
            p.inputs.weft_stack_inputs(),
            p.inputs.weft_advice_inputs(),
            weft_host::ExecutionOptions::default(),
        )
        .execute(&p.weft, host),
        Some(size) => weft_replay::execute_for_trace(
            &p.weft,
            p.inputs.weft_stack_inputs(),
            p.inputs.weft_advice_inputs(),
            host,
            size,
        )
        .map(|(o, _)| o),
    };
    out.map(|o| {
        (
            o.stack_outputs.as_slice()[0].as_int(),
            u64::from(o.n_cycles),
        )
    })
    .unwrap_or((u64::MAX, 0))
}

/// Upstream's trace pipeline: `execute_for_trace`, then its parallel `build_trace` (all
/// columns: core, range checker, chiplets). Returns the trace length.
fn upstream_pipeline(
    p: &LoadedProgram,
    host: &mut miden_processor::DefaultHost,
    fragment: usize,
) -> usize {
    let processor = upstream_processor(p);
    let Ok((output, context)) = block_on(processor.execute_for_trace(&p.upstream, host, fragment))
    else {
        return 0;
    };
    let trace = miden_processor::parallel::build_trace(
        output,
        context,
        p.upstream.hash(),
        p.upstream.kernel().clone(),
    );
    trace.get_trace_len()
}

/// weft's trace pipeline: `execute_for_trace`, then `weft_tracegen::build_trace` (all 71
/// columns: core, range checker, chiplets). Returns the trace length.
fn weft_pipeline(p: &LoadedProgram, host: &mut weft_host::DefaultHost, fragment: u32) -> usize {
    let Some((output, contexts)) = weft_record(p, host, fragment) else {
        return 0;
    };
    weft_tracegen::build_trace(&output.forests, &contexts).map_or(0, |t| t.num_rows())
}

/// weft's `execute_for_trace` of `p` (`None` if the program fails).
fn weft_record(
    p: &LoadedProgram,
    host: &mut weft_host::DefaultHost,
    fragment: u32,
) -> Option<(weft_fast::ExecutionOutput, weft_replay::TraceContexts)> {
    weft_replay::execute_for_trace(
        &p.weft,
        p.inputs.weft_stack_inputs(),
        p.inputs.weft_advice_inputs(),
        host,
        fragment,
    )
    .ok()
}

/// One region of weft's build: its name, rows, and best seconds on one thread and on the
/// whole pool.
type RegionRow = (&'static str, usize, [f64; 2]);

/// weft's build of `p`'s trace run region by region ([`weft_tracegen::profile_build`], fresh
/// buffers) on one thread and on the global pool, alternating, over runs lasting at least
/// `min_time`: each region's best time on each.
fn weft_regions(
    p: &LoadedProgram,
    host: &mut weft_host::DefaultHost,
    fragment: u32,
    min_time: Duration,
) -> Vec<RegionRow> {
    let Some((output, contexts)) = weft_record(p, host, fragment) else {
        return Vec::new();
    };
    let Ok(one) = rayon::ThreadPoolBuilder::new().num_threads(1).build() else {
        return Vec::new();
    };
    let mut fastest: [Vec<weft_tracegen::RegionTiming>; 2] = Default::default();
    let start = Instant::now();
    let mut runs = 0;
    while runs < 3 || start.elapsed() < min_time {
        for (i, fastest) in fastest.iter_mut().enumerate() {
            let profile = || weft_tracegen::profile_build(&output.forests, &contexts);
            let Ok((trace, profile)) = (if i == 0 {
                one.install(profile)
            } else {
                profile()
            }) else {
                return Vec::new();
            };
            drop(trace);
            profile.fold_fastest_into(fastest);
        }
        runs += 1;
    }
    fastest[0]
        .iter()
        .zip(&fastest[1])
        .map(|(one, all)| (one.region, one.rows, [one.seconds, all.seconds]))
        .collect()
}

/// Prints the region table: M rows/s per region, one thread / every core.
fn print_regions(rows: &[(String, Vec<RegionRow>)]) {
    let Some((_, first)) = rows.iter().find(|(_, r)| !r.is_empty()) else {
        return;
    };
    println!(
        "
weft build_trace region by region (one region at a time, fresh buffers): M rows/s on 1 / {} threads
",
        rayon::current_num_threads()
    );
    let names: Vec<&str> = first.iter().map(|r| r.0).collect();
    println!("| program | {} |", names.join(" | "));
    println!("|---|{}", "---:|".repeat(names.len()));
    for (name, regions) in rows {
        let cells: Vec<String> = regions
            .iter()
            .map(|(_, n_rows, best)| {
                if *n_rows == 0 {
                    "-".to_string()
                } else {
                    // Three significant digits: small regions run at well under 1 M rows/s.
                    let rate = |s: f64| {
                        let r = *n_rows as f64 / s / 1e6;
                        let decimals = if r >= 100.0 {
                            0
                        } else if r >= 10.0 {
                            1
                        } else {
                            2
                        };
                        format!("{r:.decimals$}")
                    };
                    format!("{} / {}", rate(best[0]), rate(best[1]))
                }
            })
            .collect();
        println!("| {name} | {} |", cells.join(" | "));
    }
}

const USAGE: &str = "usage: weft-compare [DIR_OR_FILE...] [--fragment-size N] [--min-time-ms T]
  DIR_OR_FILE      MASM programs (default: workloads/ of weft-miden, and the shared corpus when
                   present: $WEFT_SHARED_CORPUS, or shared/corpus beside the repository)
  --fragment-size  rows per fragment of the trace pipelines (default 4096)
  --min-time-ms    each figure is the best of runs lasting at least this long (default 300)";

fn programs(args: &[String]) -> Vec<PathBuf> {
    let roots: Vec<PathBuf> = if args.is_empty() {
        let (roots, line) = corpus::default_roots(false);
        println!("{line}\n");
        roots
    } else {
        args.iter().map(PathBuf::from).collect()
    };
    corpus::program_files(&roots)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn geomean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v.ln(), n + 1));
    (sum / n.max(1) as f64).exp()
}

/// Removes `flag` and its value from `args`; `default` if the flag is absent.
fn take(args: &mut Vec<String>, flag: &str, default: u64) -> Result<u64, String> {
    let Some(i) = args.iter().position(|a| a == flag) else {
        return Ok(default);
    };
    let value = args
        .get(i + 1)
        .ok_or_else(|| format!("{flag} needs a value"))?
        .parse::<u64>()
        .map_err(|e| format!("{flag}: {e}"))?;
    args.drain(i..i + 2);
    Ok(value)
}

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let parsed = take(&mut args, "--fragment-size", 4096)
        .and_then(|f| take(&mut args, "--min-time-ms", 300).map(|t| (f, t)));
    let (fragment, min_time) = match parsed {
        Ok((f, _)) if f == 0 || f > u64::from(u32::MAX) => {
            eprintln!("weft-compare: --fragment-size must be between 1 and 2^32 - 1\n{USAGE}");
            return ExitCode::from(2);
        }
        Ok((f, t)) => (f, Duration::from_millis(t)),
        Err(e) => {
            eprintln!("weft-compare: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let cache_limit = weft_core::main_trace::buffer_cache_limit();
    let mut rows = Vec::new();
    let mut region_rows = Vec::new();
    for path in programs(&args) {
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let p = match load_program(&path) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("skipping {name}: {e}");
                continue;
            }
        };
        let mut up_host = upstream_host(&p);
        let mut weft_host = match weft_host(p.weft_kernel_forest.as_ref()) {
            Ok(host) => host,
            Err(e) => {
                eprintln!("skipping {name}: {e}");
                continue;
            }
        };
        let (weft_top, n_cycles) = weft_exec(&p, &mut weft_host, None);
        let up_top = upstream_exec(&p, &mut up_host, None);
        if weft_top != up_top || n_cycles == 0 {
            eprintln!("skipping {name}: outcomes differ or the program fails");
            continue;
        }
        let mut set_aside = Vec::new();
        let [
            up_exec,
            weft_exec_t,
            up_e4t,
            weft_e4t,
            up_pipeline,
            weft_pipeline_t,
            weft_pipeline_fresh,
        ] = best_times(
            min_time,
            // The last measurement's builds find weft-core's buffer cache empty: its buffers
            // are set aside (untimed) before it, and given back after.
            |i| {
                if i == 6 {
                    set_aside = ColumnBuffer::take_cached();
                } else {
                    set_aside.clear();
                }
            },
            |i| match i {
                0 => drop(std::hint::black_box(upstream_exec(&p, &mut up_host, None))),
                1 => drop(std::hint::black_box(weft_exec(&p, &mut weft_host, None))),
                2 => drop(std::hint::black_box(upstream_exec(
                    &p,
                    &mut up_host,
                    Some(fragment as usize),
                ))),
                3 => drop(std::hint::black_box(weft_exec(
                    &p,
                    &mut weft_host,
                    Some(fragment as u32),
                ))),
                4 => drop(std::hint::black_box(upstream_pipeline(
                    &p,
                    &mut up_host,
                    fragment as usize,
                ))),
                _ => drop(std::hint::black_box(weft_pipeline(
                    &p,
                    &mut weft_host,
                    fragment as u32,
                ))),
            },
        );
        drop(set_aside);
        rows.push(Row {
            name,
            n_cycles,
            up_exec,
            weft_exec: weft_exec_t,
            up_e4t,
            weft_e4t,
            up_pipeline,
            weft_pipeline: weft_pipeline_t,
            weft_pipeline_fresh,
            up_len: upstream_pipeline(&p, &mut up_host, fragment as usize),
            weft_len: weft_pipeline(&p, &mut weft_host, fragment as u32),
        });
        let regions = weft_regions(&p, &mut weft_host, fragment as u32, min_time);
        region_rows.push((rows[rows.len() - 1].name.clone(), regions));
    }
    println!(
        "fragment size {fragment}; times are the best of repeated, interleaved runs (hosts built once per program)\n"
    );
    println!(
        "| program | cycles | upstream exec ms | weft exec ms | upstream MHz | weft MHz | exec speedup | upstream e4t ms | weft e4t ms | e4t speedup | weft e4t/exec |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        let mhz = |d: Duration| r.n_cycles as f64 / d.as_secs_f64() / 1e6;
        println!(
            "| {} | {} | {:.3} | {:.3} | {:.1} | {:.1} | {:.2}x | {:.3} | {:.3} | {:.2}x | {:.2} |",
            r.name,
            r.n_cycles,
            ms(r.up_exec),
            ms(r.weft_exec),
            mhz(r.up_exec),
            mhz(r.weft_exec),
            r.up_exec.as_secs_f64() / r.weft_exec.as_secs_f64(),
            ms(r.up_e4t),
            ms(r.weft_e4t),
            r.up_e4t.as_secs_f64() / r.weft_e4t.as_secs_f64(),
            r.weft_e4t.as_secs_f64() / r.weft_exec.as_secs_f64(),
        );
    }
    println!(
        "\ntrace pipeline: execute_for_trace + build_trace on {} threads (both build the whole 71-column main trace, each trace a new one from the library's own allocation: upstream's columns from glibc, which serves them from memory it kept when it can; weft's buffer from weft-core's cache of dropped buffers, up to {} MiB, when one fits, else fresh from the kernel; \"cache off\": always fresh)\n",
        rayon::current_num_threads(),
        cache_limit >> 20,
    );
    println!(
        "| program | cycles | upstream trace rows | weft trace rows | upstream ms | weft ms | speedup | weft M rows/s | weft ms, cache off | speedup, cache off |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {} | {:.3} | {:.3} | {:.2}x | {:.1} | {:.3} | {:.2}x |",
            r.name,
            r.n_cycles,
            r.up_len,
            r.weft_len,
            ms(r.up_pipeline),
            ms(r.weft_pipeline),
            r.up_pipeline.as_secs_f64() / r.weft_pipeline.as_secs_f64(),
            r.weft_len as f64 / r.weft_pipeline.as_secs_f64() / 1e6,
            ms(r.weft_pipeline_fresh),
            r.up_pipeline.as_secs_f64() / r.weft_pipeline_fresh.as_secs_f64(),
        );
    }
    let g = |f: &dyn Fn(&Row) -> f64| geomean(rows.iter().map(f));
    println!(
        "\ngeomean: exec speedup {:.2}x, execute_for_trace speedup {:.2}x, weft e4t/exec {:.2}",
        g(&|r| r.up_exec.as_secs_f64() / r.weft_exec.as_secs_f64()),
        g(&|r| r.up_e4t.as_secs_f64() / r.weft_e4t.as_secs_f64()),
        g(&|r| r.weft_e4t.as_secs_f64() / r.weft_exec.as_secs_f64()),
    );
    println!(
        "geomean: trace pipeline speedup {:.2}x ({:.2}x with weft's buffer cache off)",
        g(&|r| r.up_pipeline.as_secs_f64() / r.weft_pipeline.as_secs_f64()),
        g(&|r| r.up_pipeline.as_secs_f64() / r.weft_pipeline_fresh.as_secs_f64()),
    );
    let long = rows.iter().filter(|r| r.n_cycles > 100_000);
    if let Some(worst) = long.min_by(|a, b| {
        let speedup = |r: &Row| r.up_pipeline.as_secs_f64() / r.weft_pipeline.as_secs_f64();
        speedup(a).total_cmp(&speedup(b))
    }) {
        println!(
            "lowest trace pipeline speedup above 100k cycles: {:.2}x ({})",
            worst.up_pipeline.as_secs_f64() / worst.weft_pipeline.as_secs_f64(),
            worst.name
        );
    }
    print_regions(&region_rows);
    ExitCode::SUCCESS
}
