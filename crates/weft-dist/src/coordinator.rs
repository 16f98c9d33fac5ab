//! The coordinator: uploads a run's inputs, publishes its jobs, follows their records and
//! builds the trace around the rows they produced.
//!
//! A run is named by its id, by default a digest of everything that decides its jobs (fragment
//! size, cycles, fragments per job, the forests' and contexts' digests): running the same
//! command again finds the same run, skips the jobs recorded as done and the jobs still in the
//! stream, and publishes only the rest ([`Coordinator::submit`]). A job recorded as failed is
//! tried again on such a rerun (its inputs were uploaded again, which repairs a damaged blob).

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use futures::{StreamExt, TryStreamExt, stream};
use weft_core::main_trace::{MainTrace, TraceLenSummary};
use weft_mast::MastForest;
use weft_replay::TraceContexts;
use weft_tracegen::{CoreRows, build_trace_from_core};

use crate::{
    BlobStore, Broker, DEFAULT_JOB_ROWS, Digest, DistError, JobError, JobKind, JobRecord, JobSpec,
    wire::{WIRE_VERSION, decode_rows, encode_contexts, encode_forest, rows_blob_len},
};

/// Blob transfers in flight at once.
const TRANSFERS: usize = 8;

/// How a run is split and how long it may take.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Rows per job, rounded down to whole fragments (at least one fragment).
    pub job_rows: usize,
    /// The run's id (letters, digits, `-`, `_`); by default derived from the inputs.
    pub run_id: Option<String>,
    /// The longest the coordinator waits for the jobs, from publishing to the last record.
    pub timeout: Duration,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            job_rows: DEFAULT_JOB_ROWS,
            run_id: None,
            timeout: Duration::from_secs(3600),
        }
    }
}

/// A run's jobs, with their inputs in the store.
#[derive(Clone, Debug)]
pub struct RunPlan {
    /// The run's id.
    pub run: String,
    /// The jobs, in row order.
    pub jobs: Vec<JobSpec>,
    /// Bytes written to the store.
    pub bytes_uploaded: u64,
}

/// What [`Coordinator::submit`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SubmitReport {
    /// Jobs published.
    pub published: usize,
    /// Jobs already recorded as done.
    pub already_done: usize,
    /// Jobs still in the stream (queued or leased).
    pub still_queued: usize,
    /// Jobs recorded as failed (or done for another job under the same run id), published
    /// again.
    pub retried_failed: usize,
}

/// What a whole run did and how long each step took.
#[derive(Clone, Debug)]
pub struct RunReport {
    /// The run's id.
    pub run: String,
    /// The row counts that decided the trace's length.
    pub summary: TraceLenSummary,
    /// Its jobs' records, in job order.
    pub records: Vec<JobRecord>,
    /// What submitting did.
    pub submit: SubmitReport,
    /// Bytes written to the store (forests and contexts).
    pub bytes_uploaded: u64,
    /// Bytes of rows read back.
    pub bytes_downloaded: u64,
    /// Encoding and uploading.
    pub upload: Duration,
    /// Publishing and waiting for the records.
    pub wait: Duration,
    /// Reading and checking the rows.
    pub download: Duration,
    /// Building the trace around them.
    pub assemble: Duration,
}

/// The trace [`Coordinator::assemble`] built.
#[derive(Debug)]
pub struct Assembled {
    /// The main trace.
    pub trace: MainTrace,
    /// The row counts that decided its length.
    pub summary: TraceLenSummary,
    /// Bytes of rows read.
    pub bytes_downloaded: u64,
    /// Reading and checking the rows.
    pub download: Duration,
}

/// A coordinator on a broker and a store.
#[derive(Clone, Debug)]
pub struct Coordinator {
    broker: Broker,
    store: BlobStore,
}

impl Coordinator {
    /// A coordinator.
    pub fn new(broker: Broker, store: BlobStore) -> Self {
        Self { broker, store }
    }

    /// The broker it uses.
    pub fn broker(&self) -> &Broker {
        &self.broker
    }

    /// Splits the execution into jobs and uploads the forests and each job's contexts.
    ///
    /// # Errors
    /// [`DistError::Store`] from the store, [`DistError::Broker`] for a malformed run id.
    pub async fn prepare(
        &self,
        forests: &[Arc<MastForest>],
        contexts: &TraceContexts,
        options: &RunOptions,
    ) -> Result<RunPlan, DistError> {
        let size = contexts.fragment_size.max(1) as usize;
        let per_job = (options.job_rows / size).max(1);
        let mut blobs: Vec<Vec<u8>> = forests.iter().map(|f| encode_forest(f)).collect();
        let n_forests = blobs.len();
        blobs.extend(contexts.fragments.chunks(per_job).map(encode_contexts));
        let bytes_uploaded = blobs.iter().map(|b| b.len() as u64).sum();
        let digests: Vec<Digest> = stream::iter(blobs.into_iter().map(|b| self.store.put(b)))
            .buffered(TRANSFERS)
            .try_collect()
            .await?;
        let (forest_digests, context_digests) = digests.split_at(n_forests);

        let run = match &options.run_id {
            Some(run) => {
                if run.is_empty()
                    || !run
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                {
                    return Err(DistError::broker(
                        "run id",
                        "use letters, digits, '-' and '_'",
                    ));
                }
                run.clone()
            }
            None => {
                let mut hasher = blake3::Hasher::new();
                hasher.update(b"weft-dist run v1");
                for v in [contexts.fragment_size, contexts.n_cycles, per_job as u32] {
                    hasher.update(&v.to_le_bytes());
                }
                for digest in &digests {
                    hasher.update(digest.as_bytes());
                }
                hasher.finalize().to_hex()[..16].to_owned()
            }
        };
        let jobs = context_digests
            .iter()
            .enumerate()
            .map(|(i, digest)| {
                let first = i * per_job;
                let n = per_job.min(contexts.fragments.len() - first);
                JobSpec {
                    version: WIRE_VERSION,
                    run: run.clone(),
                    job: i as u32,
                    kind: JobKind::CoreRows,
                    fragment_size: contexts.fragment_size,
                    n_cycles: contexts.n_cycles,
                    first_fragment: first as u32,
                    n_fragments: n as u32,
                    contexts: *digest,
                    forests: forest_digests.to_vec(),
                }
            })
            .collect();
        Ok(RunPlan {
            run,
            jobs,
            bytes_uploaded,
        })
    }

    /// Publishes the jobs of `plan` that are neither recorded as done nor still in the stream.
    ///
    /// # Errors
    /// [`DistError::Broker`] from the broker.
    pub async fn submit(&self, plan: &RunPlan) -> Result<SubmitReport, DistError> {
        let mut report = SubmitReport::default();
        for spec in &plan.jobs {
            let mut record = self.broker.record(&plan.run, spec.job).await?;
            if record.is_none() {
                if self.broker.job_queued(&plan.run, spec.job).await? {
                    report.still_queued += 1;
                    continue;
                }
                // A worker records a job before it acks it (which takes it off the stream), so
                // a job neither recorded a moment ago nor queued now may have been finished in
                // between: look again rather than publish it twice.
                record = self.broker.record(&plan.run, spec.job).await?;
            }
            match record {
                Some(JobRecord::Done { spec: done, .. }) if done == Digest::of(&spec.to_json()) => {
                    report.already_done += 1;
                    continue;
                }
                // A failed (or foreign) record: its message was terminated, or is about to be,
                // so the job is published again whatever the stream holds.
                Some(_) => {
                    self.broker.delete_record(&plan.run, spec.job).await?;
                    report.retried_failed += 1;
                }
                None => {}
            }
            self.broker
                .js
                .publish(
                    self.broker.job_subject(&plan.run, spec.job),
                    spec.to_json().into(),
                )
                .await
                .map_err(|e| DistError::broker("publish a job", e))?
                .await
                .map_err(|e| DistError::broker("publish a job", e))?;
            report.published += 1;
        }
        Ok(report)
    }

    /// Waits until every job of `plan` is recorded as done, at most `timeout`; returns the
    /// records in job order.
    ///
    /// # Errors
    /// [`DistError::JobFailed`] for a job recorded as failed, [`DistError::Nondeterminism`] for
    /// a conflicting completion, [`DistError::Timeout`] naming the jobs still missing,
    /// [`DistError::Job`] for a record that does not decode, [`DistError::Broker`].
    pub async fn wait(
        &self,
        plan: &RunPlan,
        timeout: Duration,
    ) -> Result<Vec<JobRecord>, DistError> {
        let started = Instant::now();
        let n_jobs = plan.jobs.len();
        let mut watch = self
            .broker
            .kv
            .watch_with_history(format!("{}.>", plan.run))
            .await
            .map_err(|e| DistError::broker("watch the records", e))?;
        let mut done: HashMap<u32, JobRecord> = HashMap::new();
        // The records already there come first (the latest of each key); `delta == 0` marks the
        // last of them. Waiting for it as well means a conflict recorded after the last
        // completion is still seen.
        let mut caught_up = false;
        while done.len() < n_jobs || !caught_up {
            let left = timeout.saturating_sub(started.elapsed());
            let next = tokio::time::timeout(left, watch.next()).await;
            let entry = match next {
                Err(_) => {
                    let missing = (0..n_jobs as u32)
                        .filter(|j| !done.contains_key(j))
                        .collect();
                    return Err(DistError::Timeout {
                        run: plan.run.clone(),
                        n_jobs,
                        missing,
                        waited: started.elapsed(),
                    });
                }
                Ok(None) => return Err(DistError::broker("watch the records", "watch ended")),
                Ok(Some(entry)) => entry.map_err(|e| DistError::broker("watch the records", e))?,
            };
            caught_up |= entry.delta == 0;
            if entry.operation != async_nats::jetstream::kv::Operation::Put {
                continue;
            }
            let mut parts = entry.key.split('.').skip(1);
            let Some(job) = parts.next().and_then(|j| j.parse::<u32>().ok()) else {
                continue;
            };
            if job as usize >= n_jobs {
                continue;
            }
            let record = JobRecord::from_json(&entry.value)
                .map_err(|source| DistError::Job { job, source })?;
            match record {
                JobRecord::Failed {
                    worker,
                    delivered,
                    reason,
                } => {
                    return Err(DistError::JobFailed {
                        run: plan.run.clone(),
                        job,
                        worker,
                        delivered,
                        reason,
                    });
                }
                JobRecord::Conflict { first, second, .. } => {
                    return Err(DistError::Nondeterminism {
                        run: plan.run.clone(),
                        job,
                        first,
                        second,
                    });
                }
                JobRecord::Done { spec, .. }
                    if spec != Digest::of(&plan.jobs[job as usize].to_json()) =>
                {
                    return Err(DistError::Job {
                        job,
                        source: JobError::Message {
                            what: "job record",
                            message: format!("completes job message {spec}, not this run's"),
                        },
                    });
                }
                record @ JobRecord::Done { .. } => {
                    done.insert(job, record);
                }
            }
        }
        Ok((0..n_jobs as u32)
            .map(|j| done.remove(&j).expect("every job is done"))
            .collect())
    }

    /// Reads every job's rows (checking digest and shape) and builds the main trace around
    /// them. Returns the trace and the bytes read.
    ///
    /// # Errors
    /// [`DistError::Job`] for rows that are missing or malformed, [`DistError::TraceGen`].
    pub async fn assemble(
        &self,
        forests: &[Arc<MastForest>],
        contexts: &TraceContexts,
        plan: &RunPlan,
        records: &[JobRecord],
    ) -> Result<Assembled, DistError> {
        let started = Instant::now();
        let downloads = plan.jobs.iter().zip(records).map(|(spec, record)| {
            let job = spec.job;
            let (first, n) = spec.rows();
            let rows = match record {
                JobRecord::Done { rows, .. } => Ok(*rows),
                _ => Err(DistError::Job {
                    job,
                    source: JobError::Message {
                        what: "job record",
                        message: "not a completion".into(),
                    },
                }),
            };
            let store = self.store.clone();
            async move {
                let wrap = |source| DistError::Job { job, source };
                let bytes = store.get(&rows?, rows_blob_len(n)).await.map_err(wrap)?;
                let len = bytes.len() as u64;
                let part = tokio::task::spawn_blocking(move || decode_rows(&bytes, first, n))
                    .await
                    .map_err(|e| DistError::broker("decode task", e))?
                    .map_err(wrap)?;
                Ok::<(CoreRows, u64), DistError>((part, len))
            }
        });
        let parts: Vec<(CoreRows, u64)> = stream::iter(downloads)
            .buffered(TRANSFERS)
            .try_collect()
            .await?;
        let bytes = parts.iter().map(|(_, len)| len).sum();
        let parts: Vec<CoreRows> = parts.into_iter().map(|(part, _)| part).collect();
        let download = started.elapsed();
        let (trace, summary) = build_trace_from_core(forests, contexts, &parts)?;
        Ok(Assembled {
            trace,
            summary,
            bytes_downloaded: bytes,
            download,
        })
    }

    /// The whole run: [`prepare`](Self::prepare), [`submit`](Self::submit),
    /// [`wait`](Self::wait), [`assemble`](Self::assemble).
    ///
    /// # Errors
    /// Those of the four steps.
    pub async fn run(
        &self,
        forests: &[Arc<MastForest>],
        contexts: &TraceContexts,
        options: &RunOptions,
    ) -> Result<(MainTrace, RunReport), DistError> {
        let t0 = Instant::now();
        let plan = self.prepare(forests, contexts, options).await?;
        let t1 = Instant::now();
        let submit = self.submit(&plan).await?;
        let records = self.wait(&plan, options.timeout).await?;
        let t2 = Instant::now();
        let Assembled {
            trace,
            summary,
            bytes_downloaded,
            download,
        } = self.assemble(forests, contexts, &plan, &records).await?;
        let t3 = Instant::now();
        Ok((
            trace,
            RunReport {
                summary,
                run: plan.run,
                records,
                submit,
                bytes_uploaded: plan.bytes_uploaded,
                bytes_downloaded,
                upload: t1 - t0,
                wait: t2 - t1,
                download,
                assemble: (t3 - t2).saturating_sub(download),
            },
        ))
    }
}
