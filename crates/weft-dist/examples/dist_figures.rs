//! Figures for `docs/DISTRIBUTED.md`: one program's trace built locally and by two
//! `weft-dist-worker` processes (one thread each) through a `nats-server` on loopback and a
//! store in a temporary directory, at several job sizes.
//!
//! ```text
//! cargo build --release -p weft-dist --bin weft-dist-worker --example dist_figures
//! target/release/examples/dist_figures [arith|hash|call] [ITERATIONS]
//! ```

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use support::{Rig, arith_program, assert_same, call_program, case, hash_program};
use weft_dist::{Coordinator, JobRecord, RunOptions};

fn main() {
    let mut args = std::env::args().skip(1);
    let kind = args.next().unwrap_or_else(|| "hash".into());
    let n: u64 = args
        .next()
        .map_or(40_000, |v| v.parse().expect("iterations"));
    let program = match kind.as_str() {
        "arith" => arith_program(n),
        "call" => call_program(n),
        _ => hash_program(n),
    };
    let Some(rig) = Rig::start() else { return };
    let t = Instant::now();
    let case = case("figures", &program, 4096);
    let n_rows = case.contexts.n_cycles as u64 + 1;
    println!(
        "{kind}({n}): {} cycles, {} fragments of 4096, trace {} rows x 71 (execute + one local build {:?})",
        case.contexts.n_cycles,
        case.contexts.fragments.len(),
        case.local.num_rows(),
        t.elapsed()
    );
    let mut local = Duration::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        let trace = weft_tracegen::build_trace(&case.forests, &case.contexts).expect("local");
        local = local.min(t.elapsed());
        drop(trace);
    }
    println!("local build_trace (2 threads), best of 3: {local:?}");

    let mut workers: Vec<_> = ["a", "b"]
        .iter()
        .map(|name| rig.spawn_worker_process(name, None))
        .collect();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let coordinator = Coordinator::new(rig.broker().await, rig.store());
        let mut previous: Option<(usize, Duration)> = None;
        for (i, job_rows) in [1usize << 20, 1 << 18, 1 << 16, 4096]
            .into_iter()
            .enumerate()
        {
            let options = RunOptions {
                job_rows,
                run_id: Some(format!("figures-{i}")),
                timeout: Duration::from_secs(600),
            };
            let t = Instant::now();
            let (trace, report) = coordinator
                .run(&case.forests, &case.contexts, &options)
                .await
                .expect("distributed run");
            let total = t.elapsed();
            assert_same("figures", &case.local, &trace);
            let jobs = report.records.len();
            let by: Vec<String> = ["a", "b"]
                .iter()
                .map(|w| {
                    let k = report
                        .records
                        .iter()
                        .filter(|r| matches!(r, JobRecord::Done { worker, .. } if worker == w))
                        .count();
                    format!("{w}: {k}")
                })
                .collect();
            let job_ms: Vec<u64> = report
                .records
                .iter()
                .filter_map(|r| match r {
                    JobRecord::Done { job_ms, .. } => Some(*job_ms),
                    _ => None,
                })
                .collect();
            println!(
                "job_rows {job_rows:>8}: {jobs:>4} jobs ({}), total {total:?} = upload {:?} + \
                 publish/wait {:?} + download {:?} + assemble {:?}; {:.1} bytes/row back, {} \
                 bytes up; worker time per job: mean {} ms, max {} ms",
                by.join(", "),
                report.upload,
                report.wait,
                report.download,
                report.assemble,
                report.bytes_downloaded as f64 / n_rows as f64,
                report.bytes_uploaded,
                job_ms.iter().sum::<u64>() / jobs as u64,
                job_ms.iter().max().copied().unwrap_or(0),
            );
            if let Some((jobs_before, wait_before)) = previous
                && jobs > jobs_before
            {
                let extra = report.wait.saturating_sub(wait_before);
                println!(
                    "  per-job overhead vs the previous size: {:?} per extra job (wait time)",
                    extra / (jobs - jobs_before) as u32
                );
            }
            previous = Some((jobs, report.wait));
        }
    });
    for worker in &mut workers {
        let _ = worker.kill();
        let _ = worker.wait();
    }
}
