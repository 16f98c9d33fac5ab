//! `weft-check-equivalence`: every corpus and conformance program through weft's reference
//! processor and through the parallel path (fast `execute_for_trace` + `build_trace`), at
//! several fragment sizes and thread counts. Prints a table (program, rows, sizes, threads,
//! result) and exits non-zero at the first mismatch, naming (program, row, column name,
//! expected, found). `cargo xtask check-equivalence` runs it in release mode.
//!
//! Usage: `weft-check-equivalence [DIR_OR_FILE...] [--sizes 1,7,61,4096] [--threads 1,0]`
//! (thread count 0 = all cores). By default the programs of `crates/weft-miden/workloads` and
//! `crates/weft-miden/programs`, and those of the shared corpus when present (see
//! `weft_miden::corpus`: `WEFT_SHARED_CORPUS`, or `shared/corpus` beside the repository); the
//! first lines say which. With the `CI` environment variable set, traces above 2^21
//! rows are skipped (CI's memory is bounded); a local run checks them all. Traces of at most
//! 1024 rows are also checked at every fragment size from 1 to 64.

use std::{path::PathBuf, process::ExitCode, time::Instant};

use weft_miden::{corpus, equivalence::check_against_reference};
use weft_upstream::load_program;

/// Traces above this many rows are skipped in CI.
const CI_MAX_ROWS: usize = 1 << 21;
/// Fragment size 1 makes one context per row: used only on traces up to this many rows.
const SIZE_ONE_MAX_ROWS: usize = 1 << 16;
/// Small traces are also checked at every fragment size from 1 to this one, so that fragment
/// boundaries fall on every row of a short program (inside blocks, on `END`, `RESPAN`, calls).
const ALL_SIZES_UP_TO: usize = 64;
/// Traces up to this many rows count as small.
const ALL_SIZES_MAX_ROWS: usize = 1 << 10;

const USAGE: &str =
    "usage: weft-check-equivalence [DIR_OR_FILE...] [--sizes 1,7,61,4096] [--threads 1,0]
  DIR_OR_FILE  MASM programs (default: workloads/ and programs/ of weft-miden, and the shared
               corpus when present: $WEFT_SHARED_CORPUS, or shared/corpus beside the repository)
  --sizes      fragment sizes to check
  --threads    worker-thread counts (0: all cores)
With CI set, traces above 2^21 rows are skipped.";

fn programs(args: &[String]) -> Vec<PathBuf> {
    let roots: Vec<PathBuf> = if args.is_empty() {
        let (roots, line) = corpus::default_roots(true);
        println!("{line}\n");
        roots
    } else {
        args.iter().map(PathBuf::from).collect()
    };
    corpus::program_files(&roots)
}

fn parse_list(args: &mut Vec<String>, flag: &str, default: &[usize]) -> Result<Vec<usize>, String> {
    let Some(i) = args.iter().position(|a| a == flag) else {
        return Ok(default.to_vec());
    };
    let value = args
        .get(i + 1)
        .cloned()
        .ok_or_else(|| format!("{flag} needs a comma-separated list"))?;
    args.drain(i..i + 2);
    value
        .split(',')
        .map(|v| {
            v.trim()
                .parse::<usize>()
                .map_err(|e| format!("{flag} {v}: {e}"))
        })
        .collect()
}

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let parsed = parse_list(&mut args, "--sizes", &[1, 7, 61, 4096])
        .and_then(|s| parse_list(&mut args, "--threads", &[1, 0]).map(|t| (s, t)));
    let (sizes, threads) = match parsed {
        Ok(v) => v,
        Err(e) => {
            eprintln!("weft-check-equivalence: {e}");
            return ExitCode::from(2);
        }
    };
    if sizes.iter().any(|&s| s == 0 || s > u32::MAX as usize) {
        eprintln!("weft-check-equivalence: fragment sizes must be between 1 and 2^32 - 1");
        return ExitCode::from(2);
    }
    let in_ci = std::env::var_os("CI").is_some();
    let all_cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let pools: Vec<(usize, rayon::ThreadPool)> = threads
        .iter()
        .map(|&t| {
            let n = if t == 0 { all_cores } else { t };
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .expect("thread pool");
            (n, pool)
        })
        .collect();
    let thread_list = pools
        .iter()
        .map(|(n, _)| n.to_string())
        .collect::<Vec<_>>()
        .join(",");

    let start = Instant::now();
    let paths = programs(&args);
    println!("| program | rows | sizes | threads | result |");
    println!("|---|---:|---|---|---|");
    let (mut n_programs, mut n_rows, mut n_skipped, mut n_failing) =
        (0usize, 0usize, 0usize, 0usize);
    for path in paths {
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let program = match load_program(&path) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("{name}: cannot load: {e}");
                return ExitCode::FAILURE;
            }
        };
        let reference = weft_miden::conformance::run_reference(&program);
        let rows = reference.as_ref().map_or(0, |r| r.trace.num_rows());
        if in_ci && rows > CI_MAX_ROWS {
            println!("| {name} | {rows} | - | - | skipped in CI (over 2^21 rows) |");
            n_skipped += 1;
            continue;
        }
        let mut program_sizes: Vec<usize> = sizes
            .iter()
            .copied()
            .filter(|&s| s > 1 || rows <= SIZE_ONE_MAX_ROWS)
            .collect();
        if rows <= ALL_SIZES_MAX_ROWS {
            program_sizes.extend(1..=ALL_SIZES_UP_TO);
            program_sizes.sort_unstable();
            program_sizes.dedup();
        }
        for (n_threads, pool) in &pools {
            for &size in &program_sizes {
                let result =
                    pool.install(|| check_against_reference(&program, &reference, size as u32));
                if let Err(e) = result {
                    println!("| {name} | {rows} | {size} | {n_threads} | MISMATCH |");
                    eprintln!(
                        "weft-check-equivalence: mismatch in {name} (fragment size {size}, {n_threads} threads): {e}"
                    );
                    return ExitCode::FAILURE;
                }
            }
        }
        let outcome = match &reference {
            Ok(_) => "equal".to_string(),
            Err(e) => {
                n_failing += 1;
                format!("both fail: {:?} at {:?}", e.kind(), e.clk())
            }
        };
        let size_list = if rows <= ALL_SIZES_MAX_ROWS {
            let large = program_sizes
                .iter()
                .filter(|&&s| s > ALL_SIZES_UP_TO)
                .map(|s| format!(",{s}"))
                .collect::<String>();
            format!("1..={ALL_SIZES_UP_TO}{large}")
        } else {
            program_sizes
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(",")
        };
        println!("| {name} | {rows} | {size_list} | {thread_list} | {outcome} |");
        n_programs += 1;
        n_rows += rows;
    }
    println!(
        "\n{n_programs} programs ({n_failing} failing identically), {n_rows} trace rows, {n_skipped} skipped, 0 mismatches, {:.1} s",
        start.elapsed().as_secs_f64()
    );
    ExitCode::SUCCESS
}
