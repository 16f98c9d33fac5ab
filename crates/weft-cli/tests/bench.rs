//! End-to-end tests of `weft bench`: the JSON report's fields and their consistency with each
//! other and with `weft run` (not timings), the arguments honoured, and clear errors; and of
//! `weft run` on a program in weft's fast format that calls into the core library.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn weft() -> Command {
    Command::cargo_bin("weft").expect("the weft binary is built")
}

fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
        .to_str()
        .expect("utf-8 path")
        .to_string()
}

fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("weft-cli-bench")
        .join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

fn ok_json(args: &[&str]) -> Value {
    let output = weft().args(args).output().expect("runs");
    assert!(
        output.status.success(),
        "weft {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("utf-8 stdout");
    assert_eq!(stdout.lines().count(), 1, "one JSON line: {stdout}");
    serde_json::from_str(&stdout).expect("stdout is JSON")
}

/// Runs `weft ARGS`, requires failure with an `error:` line and no panic; returns stderr.
fn fails(args: &[&str]) -> String {
    let output = weft().args(args).output().expect("runs");
    let stderr = String::from_utf8(output.stderr).expect("utf-8 stderr");
    assert!(!output.status.success(), "weft {args:?} should fail");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "weft {args:?} panicked: {stderr}"
    );
    assert!(stderr.starts_with("error: "), "{stderr}");
    stderr
}

fn seconds(report: &Value, field: &str) -> f64 {
    let value = report[field]
        .as_f64()
        .unwrap_or_else(|| panic!("{field} is a number: {report}"));
    assert!(value.is_finite() && value >= 0.0, "{field} = {value}");
    value
}

/// Checks every field `bench --json` documents and how they relate.
fn check_bench(report: &Value, reps: u64) {
    assert_eq!(report["reps"], reps, "{report}");
    assert!(report["threads"].as_u64().expect("threads") >= 1);
    let digest = report["program_digest"].as_str().expect("digest");
    assert_eq!(digest.len(), 64);
    assert!(digest.bytes().all(|b| b.is_ascii_hexdigit()));
    let cycles = report["cycles"].as_u64().expect("cycles");
    assert!(cycles > 0);
    for phase in ["execute", "execute_for_trace", "build_trace"] {
        let median = seconds(report, &format!("{phase}_s"));
        let min = seconds(report, &format!("{phase}_min_s"));
        let first = seconds(report, &format!("first_{phase}_s"));
        assert!(min <= median, "{phase}: min {min} > median {median}");
        assert!(min <= first, "{phase}: min {min} > first {first}");
        if reps == 1 {
            assert_eq!((min, median), (first, first), "{phase} with one repetition");
        }
    }
    let rows = report["trace_rows"].as_u64().expect("trace_rows");
    assert!(
        rows.is_power_of_two() && rows > cycles,
        "{rows} rows, {cycles} cycles"
    );
    assert!(report["trace_cols"].as_u64().expect("trace_cols") > 0);
    assert!(report["fragments"].as_u64().expect("fragments") >= 1);
    assert_eq!(report["stack_outputs"].as_array().expect("stack").len(), 16);
}

#[test]
fn bench_json_reports_every_field_consistently_with_run() {
    let fib = example("fib.masm");
    let report = ok_json(&["bench", &fib, "--reps", "3", "--json"]);
    check_bench(&report, 3);
    let run = ok_json(&["run", &fib, "--json"]);
    assert_eq!(report["program_digest"], run["program_digest"]);
    assert_eq!(report["cycles"], run["cycles"]);
    assert_eq!(report["stack_outputs"], run["stack_outputs"]);
    let trace = ok_json(&["trace", &fib, "--json"]);
    assert_eq!(report["trace_rows"], trace["padded_rows"]);
}

#[test]
fn bench_honours_reps_threads_and_fragment_size() {
    let hash = example("hash.masm");
    let report = ok_json(&[
        "bench",
        &hash,
        "--reps",
        "1",
        "--threads",
        "1",
        "--fragment-size",
        "64",
        "--json",
    ]);
    check_bench(&report, 1);
    assert_eq!(report["threads"], 1);
    assert_eq!(report["fragment_size"], 64);
    let cycles = report["cycles"].as_u64().expect("cycles");
    // One fragment per 64 cycles started (the final HALT row may open one more).
    let fragments = report["fragments"].as_u64().expect("fragments");
    assert!(
        fragments == cycles.div_ceil(64) || fragments == (cycles + 1).div_ceil(64),
        "{fragments} fragments of 64 for {cycles} cycles"
    );
}

#[test]
fn bench_text_lists_the_three_phases() {
    let output = weft()
        .args(["bench", &example("fib.masm"), "--reps", "2"])
        .output()
        .expect("runs");
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).expect("utf-8");
    for phase in [
        "execute ",
        "execute_for_trace",
        "build_trace",
        "2 repetitions",
    ] {
        assert!(text.contains(phase), "{phase} missing: {text}");
    }
}

#[test]
fn bench_rejects_bad_arguments_and_inputs() {
    let fib = example("fib.masm");
    for bad in [
        vec!["bench", fib.as_str(), "--reps", "0"],
        vec!["bench", fib.as_str(), "--reps", "many"],
        vec!["bench", fib.as_str(), "--threads", "0"],
        vec!["bench", fib.as_str(), "--fragment-size", "0"],
    ] {
        let output = weft().args(&bad).output().expect("runs");
        assert_eq!(output.status.code(), Some(2), "usage error for {bad:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.starts_with("error: "), "{stderr}");
    }
    let stderr = fails(&["bench", "no/such/file.masm", "--json"]);
    assert!(stderr.contains("no/such/file.masm"), "{stderr}");
    let dir = scratch("bad_inputs");
    let inputs = dir.join("bad.inputs");
    std::fs::write(&inputs, "{ not json").expect("write");
    let stderr = fails(&["bench", &fib, "--inputs", inputs.to_str().expect("utf-8")]);
    assert!(stderr.contains("bad.inputs"), "{stderr}");
    let stderr = fails(&["bench", &fib, "--max-cycles", "5", "--json"]);
    assert!(stderr.contains("execution failed"), "{stderr}");
}

#[test]
fn fast_file_calling_the_core_library_runs_like_its_source() {
    let source = example("short_corelib.masm");
    let dir = scratch("short_corelib");
    let fast = dir.join("short_corelib.fast");
    let fast = fast.to_str().expect("utf-8");
    let output = weft()
        .args(["convert", &source, fast, "--format", "fast", "--strip"])
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let from_source = ok_json(&["run", &source, "--json"]);
    let from_fast = ok_json(&["run", fast, "--json"]);
    for field in ["program_digest", "cycles", "stack_outputs"] {
        assert_eq!(from_source[field], from_fast[field], "{field}");
    }
    // The hash is not all zeros: the core-library procedures ran.
    assert!(
        from_fast["stack_outputs"]
            .as_array()
            .expect("stack")
            .iter()
            .take(4)
            .any(|v| v != 0),
        "{from_fast}"
    );
    let report = ok_json(&["bench", fast, "--reps", "2", "--json"]);
    check_bench(&report, 2);
    assert_eq!(report["cycles"], from_source["cycles"]);
}
