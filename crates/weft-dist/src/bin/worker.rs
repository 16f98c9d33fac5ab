//! `weft-dist-worker --nats URL --store URL [--threads N] [--name NAME] [--prefix P]
//! [--ack-wait-ms MS] [--max-deliver N] [--idle-exit-ms MS] [--max-jobs N]`: a worker as its
//! own process (the `weft worker` command runs the same loop).
//!
//! The environment variable `WEFT_TEST_HOLD_JOB=<job>` makes it hold that job forever, lease
//! kept, after printing `holding job <job>` on stderr: the fault tests kill it there.

use std::{process::ExitCode, time::Duration};

use weft_dist::{BlobStore, Broker, BrokerConfig, Worker, WorkerOptions};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("weft-dist-worker: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let mut nats = None;
    let mut store = None;
    let mut config_prefix = None;
    let mut ack_wait = None;
    let mut max_deliver = None;
    let mut options = WorkerOptions::new(format!("worker-{}", std::process::id()));
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        let number = |v: String| v.parse::<u64>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--nats" => nats = Some(value()?),
            "--store" => store = Some(value()?),
            "--prefix" => config_prefix = Some(value()?),
            "--name" => options.name = value()?,
            "--threads" => options.threads = number(value()?)? as usize,
            "--ack-wait-ms" => ack_wait = Some(Duration::from_millis(number(value()?)?)),
            "--max-deliver" => max_deliver = Some(number(value()?)? as i64),
            "--idle-exit-ms" => {
                options.idle_exit = Some(Duration::from_millis(number(value()?)?));
            }
            "--max-jobs" => options.max_jobs = Some(number(value()?)? as usize),
            _ => return Err(format!("unknown argument {flag}")),
        }
    }
    if let Ok(job) = std::env::var("WEFT_TEST_HOLD_JOB") {
        options.hold_job = Some(
            job.parse()
                .map_err(|e| format!("WEFT_TEST_HOLD_JOB: {e}"))?,
        );
    }
    let mut config = BrokerConfig::new(nats.ok_or("--nats is required")?);
    if let Some(prefix) = config_prefix {
        config.prefix = prefix;
    }
    if let Some(ack_wait) = ack_wait {
        config.ack_wait = ack_wait;
    }
    if let Some(max_deliver) = max_deliver {
        config.max_deliver = max_deliver;
    }
    let store = store.ok_or("--store is required")?;
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let store = BlobStore::open(&store).map_err(|e| e.to_string())?;
        let broker = Broker::connect(config).await.map_err(|e| e.to_string())?;
        let worker = Worker::new(broker, store, options).map_err(|e| e.to_string())?;
        let report = worker.run().await.map_err(|e| e.to_string())?;
        eprintln!(
            "weft-dist-worker: {} done, {} failed, {} retried, {} conflicts",
            report.done, report.failed, report.retried, report.conflicts
        );
        Ok(())
    })
}
