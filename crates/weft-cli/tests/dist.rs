//! `weft worker` and `weft trace --distributed` end to end (the `dist` feature): two worker
//! processes and a coordinator process against a real `nats-server` on loopback (weft-dist's
//! test support starts it; without one the test skips, or fails when `WEFT_REQUIRE_NATS=1`).

#![cfg(feature = "dist")]

#[path = "../../weft-dist/tests/support/mod.rs"]
mod support;

use std::process::{Command, Stdio};

use assert_cmd::cargo::CommandCargoExt;

fn weft() -> Command {
    Command::cargo_bin("weft").expect("the weft binary is built")
}

#[test]
fn distributed_trace_checks_against_the_reference_and_resumes() {
    let Some(server) = support::NatsServer::start() else {
        return;
    };
    let store = support::TempDir::new("cli-store");
    let store = store.path().display().to_string();
    let mut workers: Vec<_> = ["a", "b"]
        .iter()
        .map(|name| {
            weft()
                .args(["worker", "--nats", &server.url, "--store", &store])
                .args(["--threads", "1", "--name", name, "--idle-exit-s", "60"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("worker starts")
        })
        .collect();
    let program = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/u32_memory.masm"
    );
    let run = || {
        let output = weft()
            .args(["trace", program, "--distributed", "--nats", &server.url])
            .args([
                "--store",
                &store,
                "--fragment-size",
                "256",
                "--job-rows",
                "1024",
            ])
            .args(["--timeout-s", "60", "--check", "--json"])
            .output()
            .expect("coordinator runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
        assert_eq!(json["check"]["ok"], true, "{json}");
        json["distributed"].clone()
    };
    let first = run();
    assert!(first["jobs"].as_u64().expect("jobs") > 1, "{first}");
    assert_eq!(first["published"], first["jobs"]);
    // The same command again finds its run done.
    let again = run();
    assert_eq!(again["run"], first["run"]);
    assert_eq!(again["published"], 0);
    assert_eq!(again["already_done"], first["jobs"]);
    for worker in &mut workers {
        let _ = worker.kill();
        let _ = worker.wait();
    }
}
