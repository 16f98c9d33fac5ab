//! weft's trace generation across machines: the core rows of a trace built by workers on other
//! machines, handed out as jobs on NATS JetStream, with the bytes in an object store.
//!
//! # Design
//! One machine (the *coordinator*) executes the program and records its fragment contexts
//! ([`weft_replay::execute_for_trace`]), as for a local build. It then
//! - uploads the forest table and, per *job*, the contexts of a contiguous range of fragments
//!   worth about [`DEFAULT_JOB_ROWS`] rows, to the blob store ([`BlobStore`]: the
//!   [`object_store`] crate, a local or shared directory as `file://`, blobs named by their
//!   BLAKE3 digest, every put atomic);
//! - publishes one small message per job ([`JobSpec`], JSON, a few hundred bytes: the run, the
//!   fragment range, and the digests of the context blob and of every forest) on a JetStream
//!   work-queue stream, unless the job is already done or still queued (so running the same
//!   command again resumes the run: [`Coordinator::submit`]);
//! - follows the completion records in a JetStream key-value bucket ([`JobRecord`]: one key per
//!   job, written once), downloads each job's rows blob, checks its digest and shape, and builds
//!   the main trace around those core rows ([`weft_tracegen::build_trace_from_core`]): the range
//!   checker and the chiplets come from the logs of the whole execution, which only the
//!   coordinator has, so they are built there.
//!
//! A *worker* ([`Worker`]) pulls one job at a time from a durable, explicit-ack pull consumer,
//! fetches and checks the blobs (digest, size limit, untrusted decoding and validation), builds
//! the job's core rows on its own rayon pool ([`weft_tracegen::build_core_fragments`]), writes
//! the rows blob, records completion with a create-if-absent, and only then acks. Meanwhile a
//! tokio task, not a rayon thread, sends `AckProgress` every third of the ack wait, so a live
//! worker keeps its lease however busy its pool is.
//!
//! # Failures
//! - A worker that dies: its lease lapses, the server redelivers the job to another worker after
//!   the ack wait, at most `max_deliver` times in all.
//! - A job that is malformed (a blob whose digest or shape is wrong, contexts that do not
//!   validate, a message that does not decode): the worker records a [`JobRecord::Failed`] and
//!   terminates the message (`AckTerm`, never retried); the coordinator reports
//!   [`DistError::JobFailed`].
//! - An I/O error (store or broker): the job is retried after a delay (`Nak`), and recorded as
//!   failed on its last allowed delivery.
//! - Rows are a pure function of (contexts, forests), so a job done twice writes the same
//!   bytes; a second completion with another digest is recorded beside the first and reported as
//!   [`DistError::Nondeterminism`].
//! - Every wait of the coordinator is bounded ([`RunOptions::timeout`]):
//!   [`DistError::Timeout`] names the jobs still missing.
//!
//! # Trust
//! Nothing read from the broker or the store is trusted: messages and records are size-checked
//! before decoding, blobs are size-checked before download and digest-checked after, contexts
//! and forests go through their crates' untrusted decoders, and the core rows' shape (rows,
//! columns, canonical field elements) is checked before assembly.

mod blob;
mod broker;
mod coordinator;
mod digest;
mod error;
mod wire;
mod worker;

pub use blob::BlobStore;
pub use broker::{Broker, BrokerConfig, JobRecord};
pub use coordinator::{Assembled, Coordinator, RunOptions, RunPlan, RunReport, SubmitReport};
pub use digest::Digest;
pub use error::{DistError, JobError};
pub use wire::{JobKind, JobSpec, ROWS_MAGIC};
pub use worker::{Worker, WorkerOptions, WorkerReport};

/// Rows per job the coordinator aims at by default (jobs hold whole fragments).
pub const DEFAULT_JOB_ROWS: usize = 1 << 20;
