//! The errors of a distributed run: [`DistError`] for the coordinator and the worker as a whole,
//! [`JobError`] for one job.

use std::time::Duration;

use weft_tracegen::TraceGenError;

use crate::Digest;

/// Why a distributed run (or a worker) stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DistError {
    /// The broker refused or could not be reached.
    #[error("nats: {action}: {message}")]
    Broker {
        /// What was being done.
        action: &'static str,
        /// The client's error.
        message: String,
    },
    /// The blob store could not be opened.
    #[error("blob store {url}: {message}")]
    StoreUrl {
        /// The store's URL.
        url: String,
        /// Why it could not be opened.
        message: String,
    },
    /// The blob store failed outside any job.
    #[error("blob store: {0}")]
    Store(#[from] JobError),
    /// A worker gave up on a job and recorded why.
    #[error("job {job} of run {run} failed on worker {worker} (delivery {delivered}): {reason}")]
    JobFailed {
        /// The run.
        run: String,
        /// The job's index.
        job: u32,
        /// The worker that recorded the failure.
        worker: String,
        /// Which delivery of the job it was.
        delivered: u64,
        /// The worker's error, as text.
        reason: String,
    },
    /// Two completions of one job produced different rows.
    #[error("job {job} of run {run} is not deterministic: rows {first} and rows {second}")]
    Nondeterminism {
        /// The run.
        run: String,
        /// The job's index.
        job: u32,
        /// The digest recorded first.
        first: Digest,
        /// The digest of the second completion.
        second: Digest,
    },
    /// The run did not finish in time.
    #[error("run {run}: {} of {n_jobs} jobs not done after {waited:?} (first missing: {:?})", missing.len(), missing.first())]
    Timeout {
        /// The run.
        run: String,
        /// Jobs in the run.
        n_jobs: usize,
        /// The jobs without a completion record.
        missing: Vec<u32>,
        /// How long the coordinator waited.
        waited: Duration,
    },
    /// A completed job's record or rows are unusable.
    #[error("job {job}: {source}")]
    Job {
        /// The job's index.
        job: u32,
        /// What was wrong.
        #[source]
        source: JobError,
    },
    /// The trace could not be built around the jobs' core rows.
    #[error("trace: {0}")]
    TraceGen(#[from] TraceGenError),
}

impl DistError {
    pub(crate) fn broker(action: &'static str, error: impl std::fmt::Display) -> Self {
        Self::Broker {
            action,
            message: error.to_string(),
        }
    }
}

/// Why one job could not be done.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JobError {
    /// A blob larger than its kind allows.
    #[error("blob {digest}: {size} bytes exceed the limit of {limit}")]
    BlobTooLarge {
        /// The blob.
        digest: Digest,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A blob whose bytes do not hash to its name.
    #[error("blob {expected}: its bytes hash to {found}")]
    DigestMismatch {
        /// The digest the blob is named by.
        expected: Digest,
        /// The digest of the bytes read.
        found: Digest,
    },
    /// The store failed (retried).
    #[error("blob store: {0}")]
    Store(String),
    /// The broker failed (retried).
    #[error("broker: {0}")]
    Broker(String),
    /// A job message or record that does not decode.
    #[error("malformed {what}: {message}")]
    Message {
        /// What it was.
        what: &'static str,
        /// Why it does not decode.
        message: String,
    },
    /// A blob that does not decode.
    #[error("malformed {what} blob: {message}")]
    Decode {
        /// The blob's kind.
        what: &'static str,
        /// Why it does not decode.
        message: String,
    },
    /// A rows blob of the wrong shape.
    #[error(
        "rows blob holds rows {found_first}..+{found_rows}, expected {expected_first}..+{expected_rows}"
    )]
    RowsShape {
        /// The job's first row.
        expected_first: u64,
        /// The job's rows.
        expected_rows: u64,
        /// The blob's first row.
        found_first: u64,
        /// The blob's rows.
        found_rows: u64,
    },
    /// The contexts do not describe the job's rows.
    #[error("core rows: {0}")]
    Build(#[from] TraceGenError),
}

impl JobError {
    /// Whether trying again may help (I/O), as opposed to a job that is malformed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Store(_) | Self::Broker(_))
    }
}
