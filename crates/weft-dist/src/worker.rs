//! The worker: pulls one job at a time, builds its core rows, stores them, records the
//! completion, then acks.
//!
//! Order matters for fault tolerance: the rows blob is written (atomically) before the record,
//! and the record before the ack. A worker that dies anywhere before the ack leaves the job to
//! be redelivered; the next worker writes the same bytes under the same name, and its record
//! finds the first one in place (equal digests: nothing to do).
//!
//! The lease is kept by a tokio task that sends `AckProgress` every third of the ack wait. The
//! build runs on the worker's own rayon pool, reached through `spawn_blocking`, so a saturated
//! pool never delays the lease.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use async_nats::jetstream::{self, AckKind};
use futures::StreamExt;
use weft_mast::MastForest;
use weft_tracegen::build_core_fragments;

use crate::{
    BlobStore, Broker, Digest, DistError, JobError, JobKind, JobRecord, JobSpec,
    wire::{MAX_CONTEXTS_BYTES, MAX_FOREST_BYTES, decode_contexts, decode_forest, encode_rows},
};

/// Forests kept decoded between jobs, at most.
const FOREST_CACHE: usize = 64;

/// How a worker runs.
#[derive(Clone, Debug)]
pub struct WorkerOptions {
    /// The name its records carry.
    pub name: String,
    /// Threads of its rayon pool (0: one per core).
    pub threads: usize,
    /// Stop after this many jobs (done or failed).
    pub max_jobs: Option<usize>,
    /// Stop after waiting this long for a job.
    pub idle_exit: Option<Duration>,
    /// How long a job that failed on I/O waits before it is delivered again.
    pub retry_delay: Duration,
    /// Send `AckProgress` while a job runs (tests turn it off to play a stalled worker).
    pub keep_lease: bool,
    /// Test hook: on receiving this job, say so on stderr and hold it forever.
    pub hold_job: Option<u32>,
    /// Test hook: on receiving this job, wait this long before building it.
    pub stall: Option<(u32, Duration)>,
    /// Test hook: change one cell of this job's rows (a nondeterministic worker).
    pub tamper: Option<u32>,
}

impl WorkerOptions {
    /// A worker named `name` with every core, no limits, no test hooks.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            threads: 0,
            max_jobs: None,
            idle_exit: None,
            retry_delay: Duration::from_secs(1),
            keep_lease: true,
            hold_job: None,
            stall: None,
            tamper: None,
        }
    }
}

/// What a worker did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkerReport {
    /// Jobs built and recorded (repeated deliveries included).
    pub done: usize,
    /// Jobs recorded as failed and terminated.
    pub failed: usize,
    /// Jobs handed back for a retry.
    pub retried: usize,
    /// Completions that found different rows recorded.
    pub conflicts: usize,
}

/// A worker.
#[derive(Debug)]
pub struct Worker {
    broker: Broker,
    store: BlobStore,
    options: WorkerOptions,
    pool: Arc<rayon::ThreadPool>,
    forests: Mutex<HashMap<Digest, Arc<MastForest>>>,
}

/// What a job produced.
struct Built {
    rows: Digest,
    first_row: u64,
    n_rows: u64,
}

impl Worker {
    /// A worker on `broker` and `store`.
    ///
    /// # Errors
    /// [`DistError::Broker`] if its thread pool cannot start.
    pub fn new(
        broker: Broker,
        store: BlobStore,
        options: WorkerOptions,
    ) -> Result<Self, DistError> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(options.threads)
            .thread_name(|i| format!("weft-worker-{i}"))
            .build()
            .map_err(|e| DistError::broker("start the thread pool", e))?;
        Ok(Self {
            broker,
            store,
            options,
            pool: Arc::new(pool),
            forests: Mutex::new(HashMap::new()),
        })
    }

    /// Takes jobs until `max_jobs` or `idle_exit` says stop (forever without them).
    ///
    /// # Errors
    /// [`DistError::Broker`] when the broker fails outside a job.
    pub async fn run(&self) -> Result<WorkerReport, DistError> {
        let consumer = self.broker.consumer().await?;
        let mut report = WorkerReport::default();
        let mut idle_since = Instant::now();
        loop {
            let handled = report.done + report.failed + report.retried;
            if self.options.max_jobs.is_some_and(|max| handled >= max) {
                return Ok(report);
            }
            let mut batch = consumer
                .fetch()
                .max_messages(1)
                .expires(Duration::from_millis(500))
                .messages()
                .await
                .map_err(|e| DistError::broker("fetch a job", e))?;
            let mut got = false;
            while let Some(message) = batch.next().await {
                let message = message.map_err(|e| DistError::broker("receive a job", e))?;
                got = true;
                self.handle(message, &mut report).await;
            }
            if got {
                idle_since = Instant::now();
            } else if self
                .options
                .idle_exit
                .is_some_and(|idle| idle_since.elapsed() >= idle)
            {
                return Ok(report);
            }
        }
    }

    /// Handles one delivery; every outcome ends in an ack, a nak or a term.
    async fn handle(&self, message: jetstream::Message, report: &mut WorkerReport) {
        let started = Instant::now();
        let delivered = message.info().map_or(1, |i| i.delivered.max(1) as u64);
        let name = &self.options.name;
        let Some((run, job)) = self.broker.parse_job_subject(&message.subject) else {
            eprintln!(
                "weft worker {name}: a message on {} is no job; terminated",
                message.subject
            );
            let _ = message.ack_with(AckKind::Term).await;
            report.failed += 1;
            return;
        };
        let message = Arc::new(message);
        let keeper = self.options.keep_lease.then(|| {
            let message = Arc::clone(&message);
            let every = self.broker.config.ack_wait / 3;
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(every).await;
                    // A failed progress report is not fatal: the next one may pass, and at
                    // worst the job is redelivered.
                    let _ = message.ack_with(AckKind::Progress).await;
                }
            })
        });
        if self.options.hold_job == Some(job) {
            eprintln!("weft worker {name}: holding job {job} of run {run}");
            std::future::pending::<()>().await;
        }
        if let Some((stalled, pause)) = self.options.stall
            && stalled == job
        {
            tokio::time::sleep(pause).await;
        }
        let outcome = self.build(&message.payload, &run, job).await;
        let spec = Digest::of(&message.payload);
        let outcome = match outcome {
            Ok(built) => {
                self.complete(&run, job, spec, built, delivered, started)
                    .await
            }
            Err(e) => Err(e),
        };
        if let Some(keeper) = keeper {
            keeper.abort();
        }
        match outcome {
            Ok(conflict) => {
                report.done += 1;
                report.conflicts += usize::from(conflict);
                if let Err(e) = message.double_ack().await {
                    eprintln!(
                        "weft worker {name}: ack of job {job} failed ({e}); it may run again"
                    );
                }
            }
            Err(e) if e.is_retryable() && (delivered as i64) < self.broker.config.max_deliver => {
                eprintln!("weft worker {name}: job {job} of run {run}: {e}; retried later");
                report.retried += 1;
                let _ = message
                    .ack_with(AckKind::Nak(Some(self.options.retry_delay)))
                    .await;
            }
            Err(e) => {
                eprintln!("weft worker {name}: job {job} of run {run} failed: {e}");
                report.failed += 1;
                let record = JobRecord::Failed {
                    worker: name.clone(),
                    delivered,
                    reason: e.to_string(),
                };
                if let Err(e) = self.broker.record_once(&run, job, &record).await {
                    eprintln!("weft worker {name}: could not record the failure: {e}");
                }
                let _ = message.ack_with(AckKind::Term).await;
            }
        }
    }

    /// Records a built job. Returns whether the rows conflict with a previous completion.
    async fn complete(
        &self,
        run: &str,
        job: u32,
        spec: Digest,
        built: Built,
        delivered: u64,
        started: Instant,
    ) -> Result<bool, JobError> {
        let record = JobRecord::Done {
            spec,
            rows: built.rows,
            first_row: built.first_row,
            n_rows: built.n_rows,
            worker: self.options.name.clone(),
            delivered,
            job_ms: started.elapsed().as_millis() as u64,
        };
        match self.broker.record_once(run, job, &record).await? {
            JobRecord::Done { rows, .. } if rows != built.rows => {
                let conflict = JobRecord::Conflict {
                    first: rows,
                    second: built.rows,
                    worker: self.options.name.clone(),
                };
                self.broker.record_conflict(run, job, &conflict).await?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Fetches, checks and builds one job, and stores its rows.
    async fn build(&self, payload: &[u8], run: &str, job: u32) -> Result<Built, JobError> {
        let spec = JobSpec::from_json(payload)?;
        if spec.run != run || spec.job != job || spec.kind != JobKind::CoreRows {
            return Err(JobError::Message {
                what: "job message",
                message: format!(
                    "names job {} of run {} ({:?}) on the subject of job {job} of run {run}",
                    spec.job, spec.run, spec.kind
                ),
            });
        }
        let mut forests = Vec::with_capacity(spec.forests.len());
        for digest in &spec.forests {
            forests.push(self.forest(digest).await?);
        }
        let contexts = self.store.get(&spec.contexts, MAX_CONTEXTS_BYTES).await?;
        let pool = Arc::clone(&self.pool);
        let tamper = self.options.tamper == Some(job);
        let (first_row, n_rows) = spec.rows();
        let spec_for_build = spec.clone();
        let bytes = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, JobError> {
            let spec = spec_for_build;
            let fragments = decode_contexts(&contexts, spec.n_fragments)?;
            let rows = pool.install(|| {
                build_core_fragments(
                    &forests,
                    spec.fragment_size,
                    spec.n_cycles,
                    spec.first_fragment as usize,
                    &fragments,
                )
            })?;
            let mut bytes = encode_rows(&rows);
            if tamper {
                // The low byte of the last cell: still a field element, another digest.
                let at = bytes.len() - 8;
                bytes[at] ^= 1;
            }
            Ok(bytes)
        })
        .await
        .map_err(|e| JobError::Broker(format!("build task: {e}")))??;
        let rows = self.store.put(bytes).await?;
        Ok(Built {
            rows,
            first_row,
            n_rows,
        })
    }

    /// A forest, from the cache or the store.
    async fn forest(&self, digest: &Digest) -> Result<Arc<MastForest>, JobError> {
        if let Some(forest) = self.forests.lock().expect("cache lock").get(digest) {
            return Ok(Arc::clone(forest));
        }
        let bytes = self.store.get(digest, MAX_FOREST_BYTES).await?;
        let forest = tokio::task::spawn_blocking(move || decode_forest(&bytes))
            .await
            .map_err(|e| JobError::Broker(format!("decode task: {e}")))??;
        let mut cache = self.forests.lock().expect("cache lock");
        if cache.len() >= FOREST_CACHE {
            cache.clear();
        }
        cache.insert(*digest, Arc::clone(&forest));
        Ok(forest)
    }
}
