//! Distributed trace generation against a real `nats-server` on loopback: the trace equals the
//! local build, and the failures the design promises to survive (a killed worker, a slow one, a
//! zombie, a damaged blob, a restarted coordinator, a nondeterministic worker) end as promised.
//! Every test runs under [`support::TEST_LIMIT`].

mod support;

use std::{
    io::{BufRead, BufReader},
    time::{Duration, Instant},
};

use support::{
    Case, Rig, TEST_LIMIT, arith_program, assert_same, call_program, case, hash_program,
};
use weft_dist::{Coordinator, DistError, JobRecord, RunOptions, WorkerOptions};

fn options(job_rows: usize) -> RunOptions {
    RunOptions {
        job_rows,
        run_id: None,
        timeout: Duration::from_secs(60),
    }
}

async fn bounded<F: std::future::Future>(body: F) -> F::Output {
    tokio::time::timeout(TEST_LIMIT, body)
        .await
        .expect("the test finishes within its limit")
}

/// A run whose job 0 went first to a worker that stalls on it, then a live worker.
struct StalledRun {
    case: Case,
    coordinator: Coordinator,
    plan: weft_dist::RunPlan,
    stalled: tokio::task::JoinHandle<weft_dist::WorkerReport>,
    live: tokio::task::JoinHandle<weft_dist::WorkerReport>,
}

/// Options of a worker that takes one job and stalls on it for 2.5 lease periods without
/// renewing its lease (its rows tampered with when `tamper`).
fn lapsing(rig: &Rig, name: &str, tamper: bool) -> WorkerOptions {
    let mut options = WorkerOptions::new(name);
    options.stall = Some((0, rig.config.ack_wait * 5 / 2));
    options.keep_lease = false;
    options.tamper = tamper.then_some(0);
    options.max_jobs = Some(1);
    options
}

/// Starts the worker `first` (waiting before there is a job, so it gets job 0), submits a
/// 300-iteration arithmetic program in 512-row jobs, then starts worker `live`: the setup shared
/// by the slow-worker, zombie and nondeterminism tests.
async fn stalled_then_live(rig: &Rig, first: WorkerOptions, live: &str) -> StalledRun {
    let case = case("arith", &arith_program(300), 256);
    let stalled = rig.spawn_worker(first).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let coordinator = Coordinator::new(rig.broker().await, rig.store());
    let plan = coordinator
        .prepare(&case.forests, &case.contexts, &options(512))
        .await
        .expect("prepare");
    coordinator.submit(&plan).await.expect("submit");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let live = rig.spawn_worker(WorkerOptions::new(live)).await;
    StalledRun {
        case,
        coordinator,
        plan,
        stalled,
        live,
    }
}

fn record_of(records: &[JobRecord], job: usize) -> (String, u64) {
    match &records[job] {
        JobRecord::Done {
            worker, delivered, ..
        } => (worker.clone(), *delivered),
        other => panic!("job {job}: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn distributed_equals_local() {
    let Some(rig) = Rig::start() else { return };
    bounded(async {
        let a = rig.spawn_worker(WorkerOptions::new("a")).await;
        let b = rig.spawn_worker(WorkerOptions::new("b")).await;
        let coordinator = Coordinator::new(rig.broker().await, rig.store());
        let cases: Vec<(Case, usize)> = vec![
            // One fragment per job, fragments of a prime size.
            (case("arith, fragments of 37", &arith_program(40), 37), 37),
            (
                case("arith, fragments of 37", &arith_program(600), 37),
                37 * 16,
            ),
            (case("hash, fragments of 64", &hash_program(300), 64), 1000),
            (
                case("call, fragments of 256", &call_program(500), 256),
                1024,
            ),
            // One job for the whole trace.
            (
                case("call, fragments of 4096", &call_program(500), 4096),
                1 << 20,
            ),
        ];
        for (case, job_rows) in &cases {
            let started = Instant::now();
            let (trace, report) = coordinator
                .run(&case.forests, &case.contexts, &options(*job_rows))
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", case.name));
            assert_same(case.name, &case.local, &trace);
            assert_eq!(report.submit.published, report.records.len());
            eprintln!(
                "{}: {} cycles, {} jobs, {:?} in all (wait {:?}), {} bytes up, {} bytes of rows",
                case.name,
                case.contexts.n_cycles,
                report.records.len(),
                started.elapsed(),
                report.wait,
                report.bytes_uploaded,
                report.bytes_downloaded,
            );
            // The same run again is found done: nothing is published.
            let (again, report) = coordinator
                .run(&case.forests, &case.contexts, &options(*job_rows))
                .await
                .expect("rerun");
            assert_eq!(report.submit.published, 0);
            assert_eq!(report.submit.already_done, report.records.len());
            assert_same(case.name, &case.local, &again);
        }
        a.abort();
        b.abort();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn worker_killed_mid_job_is_redelivered() {
    let Some(rig) = Rig::start() else { return };
    bounded(async {
        let case = case("hash", &hash_program(400), 128);
        let coordinator = Coordinator::new(rig.broker().await, rig.store());
        let plan = coordinator
            .prepare(&case.forests, &case.contexts, &options(512))
            .await
            .expect("prepare");
        assert!(plan.jobs.len() >= 3, "{} jobs", plan.jobs.len());
        let t0 = Instant::now();
        coordinator.submit(&plan).await.expect("submit");

        // Worker A does job 0, then holds job 1 with its lease kept, and is killed there.
        let mut a = rig.spawn_worker_process("a", Some(1));
        let stderr = a.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("holding job 1") {
                    let _ = tx.send(());
                }
            }
        });
        tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(30)))
            .await
            .expect("reader")
            .expect("worker A reports holding job 1");
        let held = t0.elapsed();
        // Held past one lease: the progress reports kept it.
        tokio::time::sleep(rig.config.ack_wait * 2).await;
        assert_eq!(
            coordinator.broker().record(&plan.run, 1).await.expect("kv"),
            None
        );
        a.kill().expect("SIGKILL worker A");
        a.wait().expect("reaped");
        let killed = t0.elapsed();

        let b = rig.spawn_worker(WorkerOptions::new("b")).await;
        let records = coordinator
            .wait(&plan, Duration::from_secs(60))
            .await
            .expect("the run completes");
        let finished = t0.elapsed();
        let trace = coordinator
            .assemble(&case.forests, &case.contexts, &plan, &records)
            .await
            .expect("assemble")
            .trace;
        assert_same(case.name, &case.local, &trace);
        assert_eq!(record_of(&records, 0), ("a".into(), 1));
        assert_eq!(record_of(&records, 1), ("b".into(), 2));
        for job in 2..records.len() {
            assert_eq!(record_of(&records, job).1, 1, "job {job}");
        }
        eprintln!(
            "timeline: job 1 held by A at {held:?}, A killed at {killed:?}, job 1 redelivered to \
             B and the run done at {finished:?} ({:?} after the kill; ack wait {:?}; B did the \
             other {} jobs meanwhile)",
            finished - killed,
            rig.config.ack_wait,
            records.len() - 2,
        );
        b.abort();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn live_slow_worker_is_not_duplicated() {
    let Some(rig) = Rig::start() else { return };
    bounded(async {
        let mut slow = WorkerOptions::new("slow");
        slow.stall = Some((0, rig.config.ack_wait * 3));
        slow.max_jobs = Some(1);
        // The slow worker is waiting for a job before there is one, so it gets job 0.
        let StalledRun {
            coordinator,
            plan,
            stalled: slow,
            live: fast,
            ..
        } = stalled_then_live(&rig, slow, "fast").await;
        let records = coordinator
            .wait(&plan, Duration::from_secs(60))
            .await
            .expect("the run completes");
        assert_eq!(record_of(&records, 0), ("slow".into(), 1));
        let report = slow.await.expect("slow worker");
        assert_eq!(report.done, 1);
        fast.abort();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn zombie_duplicate_is_idempotent() {
    let Some(rig) = Rig::start() else { return };
    bounded(async {
        let StalledRun {
            case,
            coordinator,
            plan,
            stalled: zombie,
            live,
        } = stalled_then_live(&rig, lapsing(&rig, "zombie", false), "live").await;
        let records = coordinator
            .wait(&plan, Duration::from_secs(60))
            .await
            .expect("the run completes");
        // The lease lapsed: the live worker did job 0 on its second delivery.
        assert_eq!(record_of(&records, 0), ("live".into(), 2));
        // The zombie finishes later, writes the same bytes, and finds them recorded.
        let report = zombie.await.expect("zombie");
        assert_eq!((report.done, report.conflicts), (1, 0));
        let records = coordinator
            .wait(&plan, Duration::from_secs(10))
            .await
            .expect("no conflict");
        let trace = coordinator
            .assemble(&case.forests, &case.contexts, &plan, &records)
            .await
            .expect("assemble")
            .trace;
        assert_same(case.name, &case.local, &trace);
        live.abort();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn corrupted_context_blob_is_a_typed_error() {
    let Some(rig) = Rig::start() else { return };
    bounded(async {
        let case = case("call", &call_program(300), 128);
        let coordinator = Coordinator::new(rig.broker().await, rig.store());
        let plan = coordinator
            .prepare(&case.forests, &case.contexts, &options(256))
            .await
            .expect("prepare");
        // A `file://` store's locations are relative to the root directory.
        let blob = std::path::Path::new("/").join(rig.store().location(&plan.jobs[1].contexts));
        let mut bytes = std::fs::read(&blob).expect("contexts blob");
        bytes[20] ^= 0x40;
        std::fs::write(&blob, bytes).expect("damaged");
        coordinator.submit(&plan).await.expect("submit");
        let worker = rig.spawn_worker(WorkerOptions::new("w")).await;
        let started = Instant::now();
        let error = coordinator
            .wait(&plan, Duration::from_secs(30))
            .await
            .expect_err("a damaged blob fails the run");
        match &error {
            DistError::JobFailed {
                job: 1,
                reason,
                delivered: 1,
                ..
            } if reason.contains("hash to") => {}
            other => panic!("unexpected: {other}"),
        }
        eprintln!("damaged blob reported in {:?}: {error}", started.elapsed());

        // Repaired by uploading again: the rerun retries the failed job and completes.
        let (trace, report) = coordinator
            .run(&case.forests, &case.contexts, &options(256))
            .await
            .expect("rerun");
        assert_eq!(report.submit.retried_failed, 1);
        assert_eq!(report.submit.published, 1);
        assert_same(case.name, &case.local, &trace);
        worker.abort();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn restarted_coordinator_resumes() {
    let Some(rig) = Rig::start() else { return };
    bounded(async {
        let case = case("arith", &arith_program(500), 128);
        let first = Coordinator::new(rig.broker().await, rig.store());
        let plan = first
            .prepare(&case.forests, &case.contexts, &options(256))
            .await
            .expect("prepare");
        let n_jobs = plan.jobs.len();
        assert!(n_jobs > 3);
        first.submit(&plan).await.expect("submit");
        // Two jobs get done, then the first coordinator is gone.
        let mut two = WorkerOptions::new("early");
        two.max_jobs = Some(2);
        let report = rig.spawn_worker(two).await.await.expect("worker");
        assert_eq!(report.done, 2);
        drop(first);

        let second = Coordinator::new(rig.broker().await, rig.store());
        let again = second
            .prepare(&case.forests, &case.contexts, &options(256))
            .await
            .expect("prepare again");
        assert_eq!(again.run, plan.run);
        let report = second.submit(&again).await.expect("submit again");
        assert_eq!(report.already_done, 2);
        assert_eq!(report.still_queued, n_jobs - 2);
        assert_eq!(report.published, 0);
        let worker = rig.spawn_worker(WorkerOptions::new("late")).await;
        let records = second
            .wait(&again, Duration::from_secs(60))
            .await
            .expect("resumed run");
        let trace = second
            .assemble(&case.forests, &case.contexts, &again, &records)
            .await
            .expect("assemble")
            .trace;
        assert_same(case.name, &case.local, &trace);
        // A third time, everything is done: nothing is published, no worker is needed.
        worker.abort();
        let (trace, report) = second
            .run(&case.forests, &case.contexts, &options(256))
            .await
            .expect("finished run");
        assert_eq!(report.submit.already_done, n_jobs);
        assert_same(case.name, &case.local, &trace);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nondeterministic_completion_is_reported() {
    let Some(rig) = Rig::start() else { return };
    bounded(async {
        let StalledRun {
            coordinator,
            plan,
            stalled: liar,
            live: honest,
            ..
        } = stalled_then_live(&rig, lapsing(&rig, "liar", true), "honest").await;
        let first = coordinator.wait(&plan, Duration::from_secs(60)).await;
        let report = liar.await.expect("liar");
        assert_eq!(report.conflicts, 1);
        let second = coordinator.wait(&plan, Duration::from_secs(10)).await;
        for outcome in [first.err(), second.err()].into_iter().flatten() {
            assert!(
                matches!(outcome, DistError::Nondeterminism { job: 0, .. }),
                "unexpected: {outcome}"
            );
        }
        assert!(matches!(
            coordinator.wait(&plan, Duration::from_secs(10)).await,
            Err(DistError::Nondeterminism { job: 0, .. })
        ));
        honest.abort();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_worker_is_a_timeout_naming_the_jobs() {
    let Some(rig) = Rig::start() else { return };
    bounded(async {
        let case = case("arith", &arith_program(100), 128);
        let coordinator = Coordinator::new(rig.broker().await, rig.store());
        let mut options = options(256);
        options.timeout = Duration::from_millis(500);
        match coordinator
            .run(&case.forests, &case.contexts, &options)
            .await
        {
            Err(DistError::Timeout {
                missing, n_jobs, ..
            }) => {
                assert_eq!(missing.len(), n_jobs);
            }
            other => panic!("unexpected: {:?}", other.map(|_| ())),
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn missing_blob_is_retried_then_recorded_as_failed() {
    let Some(rig) = Rig::start() else { return };
    bounded(async {
        let case = case("arith", &arith_program(100), 128);
        let coordinator = Coordinator::new(rig.broker().await, rig.store());
        let plan = coordinator
            .prepare(&case.forests, &case.contexts, &options(1 << 20))
            .await
            .expect("prepare");
        let blob = std::path::Path::new("/").join(rig.store().location(&plan.jobs[0].contexts));
        std::fs::remove_file(&blob).expect("blob removed");
        coordinator.submit(&plan).await.expect("submit");
        let mut options = WorkerOptions::new("w");
        options.retry_delay = Duration::from_millis(100);
        let worker = rig.spawn_worker(options).await;
        let started = Instant::now();
        // An I/O error: handed back and retried, then recorded on the last delivery.
        match coordinator.wait(&plan, Duration::from_secs(30)).await {
            Err(DistError::JobFailed {
                job: 0, delivered, ..
            }) => assert_eq!(delivered as i64, rig.config.max_deliver),
            other => panic!("unexpected: {:?}", other.map(|_| ())),
        }
        eprintln!(
            "missing blob: {} deliveries, failure recorded after {:?}",
            rig.config.max_deliver,
            started.elapsed()
        );
        worker.abort();
    })
    .await;
}
