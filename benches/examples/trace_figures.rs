//! The figures of the crate documentation: peak memory of a large trace against the trace's own
//! bytes, and `build_trace` speed on one thread and on two (wall and CPU time per build, rows per
//! second, scaling), into a fresh buffer (`build_trace`, page faults included) and into a reused
//! one (`build_trace_into`).
//!
//! `cargo run --release -p weft-benches --example trace_figures [ROWS] [BUILDS]`: a program of
//! about `ROWS` executed rows (default just under 2^21, so the trace is 2^21 rows), recorded in
//! fragments of 4096 rows; the timings are the best of `BUILDS` builds (default 5), the four
//! configurations alternating. The peak resident set (`VmHWM`, Linux only) is read after the
//! first build, before any timing run. Last, the build run one region at a time
//! ([`weft_tracegen::profile_build`], fresh buffers) gives each region's rows per second on one
//! thread and on two (the best of `BUILDS` builds per region).

use std::time::{Duration, Instant};

use weft_benches as support;
use weft_core::main_trace::{MainTrace, TRACE_WIDTH};
use weft_tracegen::{RegionTiming, build_trace, build_trace_into, profile_build};

const FRAGMENT_SIZE: u32 = 4096;

/// A field of `/proc/self/status` in bytes (`None` off Linux).
fn status_bytes(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// User plus system CPU time of this process so far (`None` off Linux).
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which ends with the last ')'): utime is the 12th, stime
    // the 13th, in clock ticks of 1/100 s.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1 << 20) as f64
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("a number"))
        .collect();
    let rows = args.first().copied().unwrap_or((1 << 21) - 2_000);
    let builds = args.get(1).copied().unwrap_or(5).max(1);

    let (forests, contexts) = support::contexts(rows / support::ROWS_PER_ITERATION, FRAGMENT_SIZE);
    let before = status_bytes("VmRSS:");
    let trace = build_trace(&forests, &contexts).expect("builds");
    let peak = status_bytes("VmHWM:");
    let n_rows = trace.num_rows();
    let trace_bytes = (n_rows * TRACE_WIDTH * size_of::<u64>()) as u64;
    drop(trace);
    println!(
        "{} executed rows, {n_rows} trace rows, {:.1} MiB of trace",
        contexts.n_cycles,
        mib(trace_bytes)
    );
    match (before, peak) {
        (Some(before), Some(peak)) => println!(
            "resident before build_trace {:.1} MiB (program, contexts), peak {:.1} MiB = {:.3} x the trace",
            mib(before),
            mib(peak),
            peak as f64 / trace_bytes as f64
        ),
        _ => println!("peak resident set: not available on this system"),
    }

    // One and two threads, fresh and reused buffers alternate, so that all four see the same
    // background load; each figure is the best of its builds, CPU time is the average.
    let pools: Vec<_> = [1usize, 2]
        .iter()
        .map(|&n| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .expect("pool")
        })
        .collect();
    let empty = || MainTrace::from_columns(vec![Vec::new(); TRACE_WIDTH]).expect("71 columns");
    let mut reused: Vec<MainTrace> = vec![empty(), empty()];
    let mut best = [[Duration::MAX; 2]; 2];
    let mut cpu = [[Duration::ZERO; 2]; 2];
    for round in 0..=builds {
        for mode in 0..2 {
            for (i, pool) in pools.iter().enumerate() {
                let cpu_start = cpu_time();
                let t = Instant::now();
                if mode == 0 {
                    let trace = pool.install(|| build_trace(&forests, &contexts).expect("builds"));
                    let elapsed = t.elapsed();
                    drop(trace);
                    best[mode][i] = best[mode][i].min(elapsed);
                } else {
                    pool.install(|| build_trace_into(&forests, &contexts, &mut reused[i]))
                        .expect("builds");
                    // The first build into an empty trace allocates: it is a warm-up.
                    if round > 0 {
                        best[mode][i] = best[mode][i].min(t.elapsed());
                    }
                }
                if let (Some(a), Some(b), true) = (cpu_start, cpu_time(), round > 0) {
                    cpu[mode][i] += b - a;
                }
            }
        }
    }
    for (mode, name) in ["fresh buffer", "reused buffer"].iter().enumerate() {
        for (i, threads) in [1, 2].iter().enumerate() {
            println!(
                "{name}, {threads} thread(s): best wall {:.1} ms, CPU {:.1} ms per build, {:.2} M executed rows/s",
                best[mode][i].as_secs_f64() * 1e3,
                cpu[mode][i].as_secs_f64() * 1e3 / builds as f64,
                f64::from(contexts.n_cycles) / best[mode][i].as_secs_f64() / 1e6
            );
        }
        println!(
            "{name}: scaling 1 -> 2 threads {:.2}x",
            best[mode][0].as_secs_f64() / best[mode][1].as_secs_f64()
        );
    }

    // Region by region, fresh buffers, 1 and 2 threads alternating.
    let mut fastest: [Vec<RegionTiming>; 2] = Default::default();
    for _ in 0..builds {
        for (i, pool) in pools.iter().enumerate() {
            let (trace, profile) =
                pool.install(|| profile_build(&forests, &contexts).expect("builds"));
            drop(trace);
            profile.fold_fastest_into(&mut fastest[i]);
        }
    }
    println!(
        "region by region (fresh buffer, best of {builds}): rows, ms and M rows/s at 1 / 2 threads"
    );
    for (one, two) in fastest[0].iter().zip(&fastest[1]) {
        println!(
            "  {:16} {:>9} rows  {:>8.2} / {:>8.2} ms  {:>8.1} / {:>8.1} M rows/s",
            one.region,
            one.rows,
            one.seconds * 1e3,
            two.seconds * 1e3,
            one.rows_per_s() / 1e6,
            two.rows_per_s() / 1e6
        );
    }
}
