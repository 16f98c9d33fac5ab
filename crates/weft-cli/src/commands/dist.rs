//! `weft worker` and the distributed build of `weft trace --distributed` (the `dist` feature):
//! thin wrappers over `weft-dist` on a tokio runtime of their own (see docs/DISTRIBUTED.md).

use std::{sync::Arc, time::Duration};

use serde_json::{Value, json};
use weft_core::main_trace::{MainTrace, TraceLenSummary};
use weft_dist::{BlobStore, Broker, BrokerConfig, Coordinator, RunOptions, Worker, WorkerOptions};
use weft_mast::MastForest;
use weft_replay::TraceContexts;

use crate::{CliError, DistArgs, WorkerArgs};

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)
}

/// Runs `weft worker` until it is stopped (or `--max-jobs` / `--idle-exit-s` say so).
pub(super) fn worker(args: &WorkerArgs) -> Result<(), CliError> {
    let mut options = WorkerOptions::new(
        args.name
            .clone()
            .unwrap_or_else(|| format!("worker-{}", std::process::id())),
    );
    options.threads = args.threads.unwrap_or(0) as usize;
    options.max_jobs = args.max_jobs;
    options.idle_exit = args.idle_exit_s.map(Duration::from_secs);
    let report = runtime()?.block_on(async {
        let store = BlobStore::open(&args.store)?;
        let broker = Broker::connect(BrokerConfig::new(args.nats.clone())).await?;
        Worker::new(broker, store, options)?.run().await
    })?;
    eprintln!(
        "weft worker: {} jobs done, {} failed, {} handed back, {} conflicts",
        report.done, report.failed, report.retried, report.conflicts
    );
    Ok(())
}

/// Builds the trace with the core rows from workers, on `pool` for the parts built here.
/// Returns the trace, its length summary and a JSON summary of the run.
pub(super) fn build(
    args: &DistArgs,
    forests: &[Arc<MastForest>],
    contexts: &TraceContexts,
    pool: &rayon::ThreadPool,
) -> Result<(MainTrace, TraceLenSummary, Value), CliError> {
    // `requires_all` makes clap refuse `--distributed` without them.
    let nats = args.nats.clone().unwrap_or_default();
    let store = args.store.clone().unwrap_or_default();
    let options = RunOptions {
        job_rows: args.job_rows,
        run_id: args.run_id.clone(),
        timeout: Duration::from_secs(args.timeout_s),
    };
    let runtime = runtime()?;
    let (trace, report) = pool.install(|| {
        runtime.block_on(async {
            let store = BlobStore::open(&store)?;
            let broker = Broker::connect(BrokerConfig::new(nats)).await?;
            Coordinator::new(broker, store)
                .run(forests, contexts, &options)
                .await
        })
    })?;
    let redelivered = report
        .records
        .iter()
        .filter(|r| matches!(r, weft_dist::JobRecord::Done { delivered, .. } if *delivered > 1))
        .count();
    let summary = json!({
        "run": report.run,
        "jobs": report.records.len(),
        "published": report.submit.published,
        "already_done": report.submit.already_done,
        "still_queued": report.submit.still_queued,
        "redelivered": redelivered,
        "bytes_uploaded": report.bytes_uploaded,
        "bytes_downloaded": report.bytes_downloaded,
        "upload_s": report.upload.as_secs_f64(),
        "wait_s": report.wait.as_secs_f64(),
        "download_s": report.download.as_secs_f64(),
        "assemble_s": report.assemble.as_secs_f64(),
    });
    Ok((trace, report.summary, summary))
}
