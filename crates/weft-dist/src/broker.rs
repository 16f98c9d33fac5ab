//! The broker side: the JetStream stream that holds the jobs, the pull consumer the workers
//! share, and the key-value bucket of completion records.
//!
//! | thing | name | what |
//! |---|---|---|
//! | stream | `<PREFIX>_JOBS`, subjects `<prefix>.jobs.>` | work queue (a message is removed once acked), file storage |
//! | job subject | `<prefix>.jobs.<run>.<job>` | one [`crate::JobSpec`] as JSON |
//! | consumer | `<prefix>-workers`, durable, pull | explicit ack, `ack_wait`, `max_deliver` |
//! | bucket | `<prefix>-jobs` | key `<run>.<job>`: a [`JobRecord`] as JSON, written once (create) |
//! | | | key `<run>.<job>.conflict`: a second, different completion |
//!
//! Job subjects carry the run and the job, so a worker can record a failure for a message whose
//! body does not decode.

use std::time::Duration;

use async_nats::jetstream::{
    self, consumer,
    kv::{self, CreateErrorKind},
    stream::{self, LastRawMessageErrorKind},
};
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::{Digest, DistError, JobError, wire::decode_json};

/// Where the broker is and how jobs are leased.
#[derive(Clone, Debug)]
pub struct BrokerConfig {
    /// The NATS server, e.g. `nats://127.0.0.1:4222`.
    pub nats_url: String,
    /// Names the stream, consumer, subjects and bucket (lowercase letters, digits, `-`), so
    /// that several deployments can share a server.
    pub prefix: String,
    /// How long a delivered job stays leased without an ack or a progress report.
    pub ack_wait: Duration,
    /// Deliveries of a job at most, the first included.
    pub max_deliver: i64,
}

impl BrokerConfig {
    /// The defaults for `nats_url`: prefix `weft`, a 30 s lease, 5 deliveries.
    pub fn new(nats_url: impl Into<String>) -> Self {
        Self {
            nats_url: nats_url.into(),
            prefix: "weft".into(),
            ack_wait: Duration::from_secs(30),
            max_deliver: 5,
        }
    }
}

/// A job's completion record, the value of key `<run>.<job>` (or `<run>.<job>.conflict`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
#[non_exhaustive]
pub enum JobRecord {
    /// The rows are in the store.
    Done {
        /// The digest of the job message it completes, so that a record left by another run
        /// of the same id is never taken for this one's.
        spec: Digest,
        /// The rows blob.
        rows: Digest,
        /// Its first row.
        first_row: u64,
        /// Its rows.
        n_rows: u64,
        /// The worker that built them.
        worker: String,
        /// Which delivery of the job it was (1 for the first).
        delivered: u64,
        /// Milliseconds from receiving the job to recording it.
        job_ms: u64,
    },
    /// The job cannot be done; it was terminated.
    Failed {
        /// The worker that gave up.
        worker: String,
        /// Which delivery of the job it was.
        delivered: u64,
        /// Why, as text.
        reason: String,
    },
    /// A completion whose rows differ from the recorded ones (key `<run>.<job>.conflict`).
    Conflict {
        /// The rows recorded first.
        first: Digest,
        /// The rows of this completion.
        second: Digest,
        /// The worker of this completion.
        worker: String,
    },
}

impl JobRecord {
    pub(crate) fn to_json(&self) -> Bytes {
        Bytes::from(serde_json::to_vec(self).expect("records always serialize"))
    }

    pub(crate) fn from_json(bytes: &[u8]) -> Result<Self, JobError> {
        decode_json("job record", bytes)
    }
}

/// A connection to the broker with the stream, consumer and bucket in place.
#[derive(Clone, Debug)]
pub struct Broker {
    pub(crate) config: BrokerConfig,
    pub(crate) js: jetstream::Context,
    pub(crate) stream: stream::Stream,
    pub(crate) kv: kv::Store,
}

impl Broker {
    /// Connects and creates the stream, the consumer and the bucket where missing (existing
    /// ones are used as they are).
    ///
    /// # Errors
    /// [`DistError::Broker`] when the server cannot be reached or refuses.
    pub async fn connect(config: BrokerConfig) -> Result<Self, DistError> {
        if config.prefix.is_empty()
            || !config
                .prefix
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(DistError::broker(
                "prefix",
                "use lowercase letters, digits and '-'",
            ));
        }
        let client = async_nats::ConnectOptions::new()
            .connection_timeout(Duration::from_secs(5))
            .connect(&config.nats_url)
            .await
            .map_err(|e| DistError::broker("connect", e))?;
        let js = jetstream::new(client);
        let stream = js
            .get_or_create_stream(stream::Config {
                name: format!("{}_JOBS", config.prefix.to_uppercase().replace('-', "_")),
                subjects: vec![format!("{}.jobs.>", config.prefix)],
                retention: stream::RetentionPolicy::WorkQueue,
                storage: stream::StorageType::File,
                ..Default::default()
            })
            .await
            .map_err(|e| DistError::broker("create the job stream", e))?;
        // The bucket's stream is created directly, with the settings `create_key_value` would
        // use: that call first reads the account's information, which async-nats 0.51 cannot
        // parse from a 2.9 server (Debian bookworm's).
        let bucket = format!("{}-jobs", config.prefix);
        js.get_or_create_stream(stream::Config {
            name: format!("KV_{bucket}"),
            subjects: vec![format!("$KV.{bucket}.>")],
            max_messages_per_subject: 1,
            storage: stream::StorageType::File,
            allow_rollup: true,
            deny_delete: true,
            allow_direct: true,
            num_replicas: 1,
            discard: stream::DiscardPolicy::New,
            ..Default::default()
        })
        .await
        .map_err(|e| DistError::broker("create the record bucket", e))?;
        let kv = js
            .get_key_value(bucket)
            .await
            .map_err(|e| DistError::broker("open the record bucket", e))?;
        let broker = Self {
            config,
            js,
            stream,
            kv,
        };
        broker.consumer().await?;
        Ok(broker)
    }

    /// The workers' consumer, created if missing.
    pub(crate) async fn consumer(&self) -> Result<consumer::PullConsumer, DistError> {
        let name = format!("{}-workers", self.config.prefix);
        self.stream
            .get_or_create_consumer(
                &name,
                consumer::pull::Config {
                    durable_name: Some(name.clone()),
                    ack_policy: consumer::AckPolicy::Explicit,
                    ack_wait: self.config.ack_wait,
                    max_deliver: self.config.max_deliver,
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| DistError::broker("create the worker consumer", e))
    }

    /// The subject of a job.
    pub(crate) fn job_subject(&self, run: &str, job: u32) -> String {
        format!("{}.jobs.{run}.{job}", self.config.prefix)
    }

    /// The run and job a job subject names.
    pub(crate) fn parse_job_subject(&self, subject: &str) -> Option<(String, u32)> {
        let rest = subject.strip_prefix(&format!("{}.jobs.", self.config.prefix))?;
        let (run, job) = rest.split_once('.')?;
        Some((run.to_owned(), job.parse().ok()?))
    }

    /// Whether a message for this job is still in the stream (queued or leased).
    pub(crate) async fn job_queued(&self, run: &str, job: u32) -> Result<bool, DistError> {
        match self
            .stream
            .get_last_raw_message_by_subject(&self.job_subject(run, job))
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if matches!(e.kind(), LastRawMessageErrorKind::NoMessageFound) => Ok(false),
            Err(e) => Err(DistError::broker("look up a queued job", e)),
        }
    }

    /// The record of a job, if any.
    ///
    /// # Errors
    /// The broker's, or a record that does not decode.
    pub async fn record(&self, run: &str, job: u32) -> Result<Option<JobRecord>, DistError> {
        let value = self
            .kv
            .get(format!("{run}.{job}"))
            .await
            .map_err(|e| DistError::broker("read a record", e))?;
        value
            .map(|v| JobRecord::from_json(&v).map_err(|source| DistError::Job { job, source }))
            .transpose()
    }

    /// Deletes a job's record (a failed job, before it is tried again).
    pub(crate) async fn delete_record(&self, run: &str, job: u32) -> Result<(), DistError> {
        self.kv
            .delete(format!("{run}.{job}"))
            .await
            .map_err(|e| DistError::broker("delete a record", e))
    }

    /// Records a completion if none is recorded yet. Returns the record that stands: `record`
    /// itself, or the one that was there first.
    pub(crate) async fn record_once(
        &self,
        run: &str,
        job: u32,
        record: &JobRecord,
    ) -> Result<JobRecord, JobError> {
        let key = format!("{run}.{job}");
        match self.kv.create(&key, record.to_json()).await {
            Ok(_) => Ok(record.clone()),
            Err(e) if matches!(e.kind(), CreateErrorKind::AlreadyExists) => {
                let value = self
                    .kv
                    .get(&key)
                    .await
                    .map_err(|e| JobError::Broker(e.to_string()))?
                    .ok_or_else(|| JobError::Broker("record vanished".into()))?;
                JobRecord::from_json(&value)
            }
            Err(e) => Err(JobError::Broker(e.to_string())),
        }
    }

    /// Records a conflicting completion beside the first.
    pub(crate) async fn record_conflict(
        &self,
        run: &str,
        job: u32,
        record: &JobRecord,
    ) -> Result<(), JobError> {
        self.kv
            .put(format!("{run}.{job}.conflict"), record.to_json())
            .await
            .map(|_| ())
            .map_err(|e| JobError::Broker(e.to_string()))
    }
}
