//! Test support: a `nats-server` on a random loopback port with JetStream in a temporary
//! directory (stopped on drop), test programs built with the forest builder, local builds to
//! compare with, and workers in this process or as child processes.
//!
//! Without `nats-server` (looked up in `WEFT_NATS_SERVER`, `PATH`, `/usr/sbin`), tests skip
//! with a message, or fail when `WEFT_REQUIRE_NATS=1` (CI sets it).

#![allow(dead_code, reason = "each test file uses part of the support")]

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use weft_core::{
    Felt, Operation,
    main_trace::{MainTrace, first_difference},
};
use weft_dist::{BlobStore, Broker, BrokerConfig, Worker, WorkerOptions, WorkerReport};
use weft_host::{AdviceInputs, DefaultHost, StackInputs};
use weft_mast::{Kernel, MastForest, MastForestBuilder, MastNodeId, Program};
use weft_replay::{TraceContexts, execute_for_trace};

/// A temporary directory, removed on drop.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "weft-dist-{tag}-{}-{n}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("clock")
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        Self(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn find_server() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("WEFT_NATS_SERVER") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/sbin")])
        .map(|dir| dir.join("nats-server"))
        .find(|p| p.is_file())
}

/// A running `nats-server`, killed on drop.
#[derive(Debug)]
pub struct NatsServer {
    child: Child,
    pub url: String,
    pub dir: TempDir,
}

impl NatsServer {
    /// Starts a server, or `None` (after saying so) when there is none and it is not required.
    pub fn start() -> Option<Self> {
        let Some(binary) = find_server() else {
            if std::env::var("WEFT_REQUIRE_NATS").as_deref() == Ok("1") {
                panic!(
                    "nats-server not found (WEFT_REQUIRE_NATS=1): install it (apt-get install \
                     nats-server) or set WEFT_NATS_SERVER"
                );
            }
            eprintln!("skipped: nats-server not found (set WEFT_REQUIRE_NATS=1 to fail instead)");
            return None;
        };
        let dir = TempDir::new("nats");
        let conf = dir.path().join("nats.conf");
        std::fs::write(&conf, "max_payload: 8MB\n").expect("config");
        let child = Command::new(&binary)
            .arg("-c")
            .arg(&conf)
            .args(["-js", "-a", "127.0.0.1", "-p", "-1", "-sd"])
            .arg(dir.path().join("js"))
            .arg("--ports_file_dir")
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
        let ports = dir.path().join(format!("nats-server_{}.ports", child.id()));
        let mut server = Self {
            child,
            url: String::new(),
            dir,
        };
        let started = Instant::now();
        loop {
            if let Ok(text) = std::fs::read_to_string(&ports)
                && let Some(at) = text.find("nats://")
            {
                let rest = &text[at..];
                let end = rest.find('"').expect("a quoted URL");
                server.url = rest[..end].to_owned();
                return Some(server);
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "nats-server wrote no ports file in 10 s"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A server, a store directory and the broker settings of one test.
#[derive(Debug)]
pub struct Rig {
    pub server: NatsServer,
    pub store_dir: TempDir,
    pub config: BrokerConfig,
}

impl Rig {
    /// A rig with a 1 s lease and 4 deliveries, or `None` to skip.
    pub fn start() -> Option<Self> {
        let server = NatsServer::start()?;
        let mut config = BrokerConfig::new(server.url.clone());
        config.ack_wait = Duration::from_secs(1);
        config.max_deliver = 4;
        Some(Self {
            server,
            store_dir: TempDir::new("store"),
            config,
        })
    }

    pub fn store_url(&self) -> String {
        format!("file://{}", self.store_dir.path().display())
    }

    pub fn store(&self) -> BlobStore {
        BlobStore::open(&self.store_url()).expect("store opens")
    }

    pub async fn broker(&self) -> Broker {
        Broker::connect(self.config.clone())
            .await
            .expect("broker connects")
    }

    /// A worker in this process, on one thread.
    pub async fn spawn_worker(
        &self,
        mut options: WorkerOptions,
    ) -> tokio::task::JoinHandle<WorkerReport> {
        options.threads = 1;
        let worker = Worker::new(self.broker().await, self.store(), options).expect("worker");
        tokio::spawn(async move { worker.run().await.expect("worker runs") })
    }

    /// A worker as a child process, on one thread, its stderr piped.
    pub fn spawn_worker_process(&self, name: &str, hold_job: Option<u32>) -> Child {
        let mut command = Command::new(worker_binary());
        command
            .args(["--nats", &self.server.url, "--store", &self.store_url()])
            .args(["--name", name, "--threads", "1"])
            .args([
                "--ack-wait-ms",
                &self.config.ack_wait.as_millis().to_string(),
            ])
            .args(["--max-deliver", &self.config.max_deliver.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(job) = hold_job {
            command.env("WEFT_TEST_HOLD_JOB", job.to_string());
        }
        command.spawn().expect("worker process starts")
    }
}

/// The `weft-dist-worker` binary: Cargo names it to tests; an example finds it beside itself.
pub fn worker_binary() -> PathBuf {
    match option_env!("CARGO_BIN_EXE_weft-dist-worker") {
        Some(path) => PathBuf::from(path),
        None => {
            let exe = std::env::current_exe().expect("own path");
            let dir = exe
                .parent()
                .and_then(Path::parent)
                .expect("target directory");
            dir.join("weft-dist-worker")
        }
    }
}

/// A built program with its local trace.
#[derive(Debug)]
pub struct Case {
    pub name: &'static str,
    pub forests: Vec<Arc<MastForest>>,
    pub contexts: TraceContexts,
    pub local: MainTrace,
}

fn felt(v: u64) -> Felt {
    Felt::new(v)
}

/// A loop of `n` iterations: `body_work` (which must leave the stack as it found it) and a
/// decrement of the counter on top of the stack.
fn counting_loop(b: &mut MastForestBuilder, n: u64, body_work: MastNodeId) -> MastNodeId {
    use Operation as O;
    let head = b
        .add_block(&[O::Push(felt(n)), O::Push(felt(1))])
        .expect("block");
    let step = b
        .add_block(&[O::Push(-felt(1)), O::Add, O::Dup0, O::Eqz, O::Not])
        .expect("block");
    let body = b.add_join(body_work, step).expect("join");
    let lp = b.add_loop(body).expect("loop");
    let tail = b.add_block(&[O::Drop]).expect("block");
    let looped = b.add_join(head, lp).expect("join");
    b.add_join(looped, tail).expect("join")
}

fn program(b: MastForestBuilder, root: MastNodeId) -> Program {
    let mut b = b;
    b.make_root(root).expect("root");
    Program::new(Arc::new(b.build()), root, Kernel::default()).expect("program")
}

/// Arithmetic and u32 operations in a loop (about 20 rows per iteration).
pub fn arith_program(n: u64) -> Program {
    use Operation as O;
    let mut b = MastForestBuilder::new();
    let work = b
        .add_block(&[
            O::Dup0,
            O::Push(felt(7)),
            O::Mul,
            O::Push(felt(3)),
            O::Add,
            O::U32split,
            O::Drop,
            O::Drop,
            O::Dup0,
            O::Push(felt(1_000_003)),
            O::U32add,
            O::Drop,
            O::Drop,
        ])
        .expect("block");
    let root = counting_loop(&mut b, n, work);
    program(b, root)
}

/// Hashing and memory in a loop.
pub fn hash_program(n: u64) -> Program {
    use Operation as O;
    let mut b = MastForestBuilder::new();
    let mut ops = vec![O::Pad; 12];
    ops.push(O::HPerm);
    ops.extend([O::Drop; 11]);
    ops.extend([O::Push(felt(40)), O::MStore, O::Drop]);
    ops.extend([O::Dup0, O::Push(felt(44)), O::MStore, O::Drop]);
    ops.extend([O::Push(felt(44)), O::MLoad, O::Drop]);
    let work = b.add_block(&ops).expect("block");
    let root = counting_loop(&mut b, n, work);
    program(b, root)
}

/// A call and a split in a loop.
pub fn call_program(n: u64) -> Program {
    use Operation as O;
    let mut b = MastForestBuilder::new();
    let callee = b
        .add_block(&[O::Pad, O::Push(felt(3)), O::Mul, O::Drop, O::Clk, O::Drop])
        .expect("block");
    b.make_root(callee).expect("root");
    let call = b.add_call(callee).expect("call");
    let cond = b
        .add_block(&[O::Dup0, O::U32split, O::Drop, O::Push(felt(1)), O::U32and])
        .expect("block");
    let t = b.add_block(&[O::Pad, O::Incr, O::Drop]).expect("block");
    let f = b.add_block(&[O::Pad, O::Neg, O::Drop]).expect("block");
    let split = b.add_split(t, f).expect("split");
    let branch = b.add_join(cond, split).expect("join");
    let work = b.add_join(call, branch).expect("join");
    let root = counting_loop(&mut b, n, work);
    program(b, root)
}

/// Executes `program` with fragments of `fragment_size` rows and builds its trace locally.
pub fn case(name: &'static str, program: &Program, fragment_size: u32) -> Case {
    let (output, contexts) = execute_for_trace(
        program,
        StackInputs::default(),
        AdviceInputs::default(),
        &mut DefaultHost::new(),
        fragment_size,
    )
    .unwrap_or_else(|e| panic!("{name} runs: {e}"));
    let local = weft_tracegen::build_trace(&output.forests, &contexts).expect("local trace");
    Case {
        name,
        forests: output.forests,
        contexts,
        local,
    }
}

/// Panics with the first difference unless the traces are equal.
pub fn assert_same(name: &str, expected: &MainTrace, found: &MainTrace) {
    if let Some(diff) = first_difference(expected, found) {
        panic!("{name}: the distributed trace differs from the local one: {diff}");
    }
}

/// The test's deadline: every test body runs under it.
pub const TEST_LIMIT: Duration = Duration::from_secs(120);
