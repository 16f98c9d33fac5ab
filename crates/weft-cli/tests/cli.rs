//! End-to-end tests of the `weft` binary: every command on the examples, the JSON and CSV
//! outputs as documented, round trips through every file kind, and every error case (non-zero
//! exit, one `error:` line, no panic).

use std::{
    path::{Path, PathBuf},
    process::Output,
};

use assert_cmd::Command;
use serde_json::Value;
use weft_core::main_trace::COLUMN_NAMES;

// HELPERS
// ================================================================================================

fn weft() -> Command {
    Command::cargo_bin("weft").expect("the weft binary is built")
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
}

/// A fresh scratch directory for one test.
fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("weft-cli")
        .join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

fn write(path: &Path, contents: impl AsRef<[u8]>) -> PathBuf {
    std::fs::write(path, contents).expect("write scratch file");
    path.to_path_buf()
}

/// Runs `weft ARGS`, requires success, and returns stdout.
fn ok(args: &[&str]) -> String {
    let output = weft().args(args).output().expect("runs");
    assert!(
        output.status.success(),
        "weft {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8 stdout")
}

/// Runs `weft ARGS --json`-style commands and parses stdout as one JSON object.
fn ok_json(args: &[&str]) -> Value {
    let stdout = ok(args);
    assert_eq!(stdout.lines().count(), 1, "one JSON line: {stdout}");
    serde_json::from_str(&stdout).expect("stdout is JSON")
}

/// Runs `weft ARGS`, requires failure with one clear error line, and returns stderr.
fn fails(args: &[&str]) -> String {
    let output: Output = weft().args(args).output().expect("runs");
    let stderr = String::from_utf8(output.stderr).expect("utf-8 stderr");
    assert!(!output.status.success(), "weft {args:?} should fail");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "weft {args:?} panicked: {stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    stderr
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Checks the fields every `run`/`trace` report has; returns the 16 stack outputs.
fn check_common(report: &Value) -> Vec<u64> {
    let digest = report["program_digest"].as_str().expect("digest string");
    assert_eq!(digest.len(), 64, "{digest}");
    assert!(
        digest
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
        "lowercase hex: {digest}"
    );
    assert!(report["cycles"].as_u64().expect("cycles") > 0);
    assert!(report["execute_s"].as_f64().expect("execute_s") >= 0.0);
    let stack: Vec<u64> = report["stack_outputs"]
        .as_array()
        .expect("stack array")
        .iter()
        .map(|v| v.as_u64().expect("decimal integer"))
        .collect();
    assert_eq!(stack.len(), 16);
    stack
}

/// Checks the fields of a `trace` report; returns (rows, padded_rows).
fn check_trace(report: &Value) -> (u64, u64) {
    check_common(report);
    let rows = report["rows"].as_u64().expect("rows");
    let padded = report["padded_rows"].as_u64().expect("padded_rows");
    assert!(rows <= padded, "{rows} > {padded}");
    assert!(padded.is_power_of_two() && padded >= 64, "{padded}");
    let cycles = report["cycles"].as_u64().expect("cycles");
    assert_eq!(rows, cycles + 1);
    // The whole main trace: its length is set by the longest of its three parts.
    assert_eq!(report["trace_rows"].as_u64(), Some(padded));
    assert_eq!(report["trace_cols"].as_u64(), Some(71));
    assert_eq!(report["core_rows"].as_u64(), Some(cycles));
    let range = report["range_rows"].as_u64().expect("range_rows");
    let chiplets = report["chiplets_rows"].as_u64().expect("chiplets_rows");
    let longest = cycles.max(range).max(chiplets);
    assert!(
        longest < padded && padded <= (2 * longest + 2).max(64),
        "{report}"
    );
    assert!(report["build_s"].as_f64().expect("build_s") >= 0.0);
    (rows, padded)
}

// RUN
// ================================================================================================

#[test]
fn run_each_example() {
    for name in ["fib.masm", "u32_memory.masm", "hash.masm"] {
        let report = ok_json(&["run", path(&example(name)), "--json"]);
        check_common(&report);
        let text = ok(&["run", path(&example(name))]);
        assert!(text.contains("cycles/s"), "{text}");
        assert!(
            text.contains(report["program_digest"].as_str().expect("digest")),
            "{text}"
        );
    }
    let stack = check_common(&ok_json(&[
        "run",
        path(&example("u32_memory.masm")),
        "--json",
    ]));
    // The sum of the squares of 1..=1000, and that sum mod 7.
    assert_eq!(stack[..3], [0, 333_833_500, 0]);
}

#[test]
fn run_reads_explicit_inputs() {
    let dir = scratch("run_reads_explicit_inputs");
    let inputs = write(&dir.join("ten.json"), r#"{"operand_stack": ["10"]}"#);
    let report = ok_json(&[
        "run",
        path(&example("fib.masm")),
        "--inputs",
        path(&inputs),
        "--json",
    ]);
    assert_eq!(check_common(&report)[0], 55);
    // Without --inputs, the .inputs file beside the program (n = 20000) is used.
    let default = ok_json(&["run", path(&example("fib.masm")), "--json"]);
    assert!(default["cycles"].as_u64() > report["cycles"].as_u64());
    // `miden-vm run`'s spellings: -i / --input, and -m for the cycle limit.
    for flag in ["-i", "--input"] {
        let same = ok_json(&[
            "run",
            path(&example("fib.masm")),
            flag,
            path(&inputs),
            "--json",
        ]);
        assert_eq!(same["cycles"], report["cycles"], "{flag}");
    }
    let limited = fails(&[
        "run",
        path(&example("fib.masm")),
        "-i",
        path(&inputs),
        "-m",
        "10",
    ]);
    assert!(limited.contains("10"), "{limited}");
}

#[test]
fn run_links_libraries_like_miden_vm() {
    let dir = scratch("run_links_libraries_like_miden_vm");
    let math = write(
        &dir.join("math.masl"),
        weft_upstream::artifacts::library_bytes(
            "demo::math",
            "pub proc triple\n    push.3 mul\nend\n",
        )
        .expect("assembles"),
    );
    let other = write(
        &dir.join("other.masl"),
        weft_upstream::artifacts::library_bytes("demo::other", "pub proc inc\n    add.1\nend\n")
            .expect("assembles"),
    );
    let program = write(
        &dir.join("uses_libs.masm"),
        "use demo::math\nuse demo::other\nbegin\n    push.5 exec.math::triple exec.other::inc swap drop\nend\n",
    );
    let report = ok_json(&[
        "run",
        path(&program),
        "-l",
        path(&math),
        "--library",
        path(&other),
        "--json",
    ]);
    assert_eq!(check_common(&report)[0], 16);
    // Without the libraries the program does not assemble; a missing or malformed library is
    // an error of its own.
    let stderr = fails(&["run", path(&program)]);
    assert!(stderr.contains("uses_libs.masm"), "{stderr}");
    let stderr = fails(&["run", path(&program), "-l", path(&dir.join("none.masl"))]);
    assert!(stderr.contains("none.masl"), "{stderr}");
    let garbage = write(&dir.join("garbage.masl"), [0xffu8; 40]);
    let stderr = fails(&["run", path(&program), "-l", path(&garbage)]);
    assert!(stderr.contains("malformed upstream library"), "{stderr}");
    // The trace builders find the libraries' code through the host too.
    let trace = ok_json(&[
        "trace",
        path(&program),
        "-l",
        path(&math),
        "-l",
        path(&other),
        "--check",
        "--json",
    ]);
    assert_eq!(trace["check"]["ok"], true, "{trace}");
}

// TRACE
// ================================================================================================

#[test]
fn trace_parallel_with_check() {
    let report = ok_json(&[
        "trace",
        path(&example("u32_memory.masm")),
        "--check",
        "--fragment-size",
        "1000",
        "--threads",
        "2",
        "--json",
    ]);
    check_trace(&report);
    assert_eq!(report["engine"], "parallel");
    assert_eq!(report["threads"], 2);
    let cycles = report["cycles"].as_u64().expect("cycles");
    assert_eq!(report["fragments"].as_u64(), Some(cycles.div_ceil(1000)));
    assert_eq!(report["check"]["ok"], true, "{report}");
    assert_eq!(report["check"]["engine"], "reference");
    let text = ok(&["trace", path(&example("hash.masm")), "--check"]);
    assert!(text.contains("check    ok"), "{text}");
}

#[test]
fn trace_csv_has_header_and_every_padded_row() {
    let dir = scratch("trace_csv");
    let csv = dir.join("hash.csv");
    let report = ok_json(&[
        "trace",
        path(&example("hash.masm")),
        "--engine",
        "reference",
        "--check",
        "--csv",
        path(&csv),
        "--json",
    ]);
    let (_, padded) = check_trace(&report);
    assert_eq!(report["check"]["ok"], true, "{report}");
    assert_eq!(report["check"]["engine"], "parallel");
    let text = std::fs::read_to_string(&csv).expect("csv written");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(COLUMN_NAMES.join(",").as_str()));
    let mut n_rows = 0;
    for (row, line) in lines.enumerate() {
        let values: Vec<u64> = line
            .split(',')
            .map(|v| v.parse().expect("decimal integer"))
            .collect();
        assert_eq!(values.len(), COLUMN_NAMES.len());
        // Every row but the last (random) one counts clock cycles.
        if row + 1 < padded as usize {
            assert_eq!(values[0], row as u64, "clk column");
        }
        n_rows += 1;
    }
    assert_eq!(n_rows, padded);
}

#[test]
fn engines_build_the_same_trace() {
    let dir = scratch("engines_agree");
    let inputs = write(
        &dir.join("fib.inputs.json"),
        r#"{"operand_stack": ["300"]}"#,
    );
    let mut reports = Vec::new();
    for engine in ["parallel", "reference"] {
        let csv = dir.join(format!("{engine}.csv"));
        reports.push(ok_json(&[
            "trace",
            path(&example("fib.masm")),
            "--inputs",
            path(&inputs),
            "--engine",
            engine,
            "--fragment-size",
            "64",
            "--csv",
            path(&csv),
            "--json",
        ]));
    }
    for field in [
        "program_digest",
        "cycles",
        "stack_outputs",
        "rows",
        "padded_rows",
        "trace_rows",
        "core_rows",
        "range_rows",
        "chiplets_rows",
    ] {
        assert_eq!(reports[0][field], reports[1][field], "{field}");
    }
    let read = |engine: &str| std::fs::read(dir.join(format!("{engine}.csv"))).expect("csv");
    assert!(read("parallel") == read("reference"), "CSV dumps differ");
}

// INSPECT AND CONVERT
// ================================================================================================

#[test]
fn inspect_lists_nodes_procedures_and_text() {
    let program = example("hash.masm");
    let report = ok_json(&["inspect", path(&program), "--json"]);
    let run = ok_json(&["run", path(&program), "--json"]);
    assert_eq!(report["program_digest"], run["program_digest"]);
    let counts = report["node_counts"].as_object().expect("counts");
    let total: u64 = counts.values().map(|v| v.as_u64().expect("count")).sum();
    assert_eq!(Some(total), report["nodes"].as_u64());
    assert!(counts["external"].as_u64() > Some(0), "core-library calls");
    let procedures = report["procedures"].as_array().expect("procedures");
    let entries: Vec<&Value> = procedures.iter().filter(|p| p["entry"] == true).collect();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["digest"], report["program_digest"]);
    assert!(
        report["text"]
            .as_str()
            .expect("text")
            .contains("\nmast 1\n")
    );
    let text = ok(&["inspect", path(&program)]);
    assert!(
        text.contains("procedures") && text.contains("entry"),
        "{text}"
    );
}

#[test]
fn convert_round_trips_through_every_format() {
    let dir = scratch("convert");
    let program = example("u32_memory.masm");
    let inputs = example("u32_memory.inputs");
    let original = ok_json(&["run", path(&program), "--json"]);
    for format in ["fast", "compact", "text"] {
        let out = dir.join(format!("u32_memory.{format}"));
        let message = ok(&[
            "convert",
            path(&program),
            path(&out),
            "--format",
            format,
            "--strip",
        ]);
        assert!(message.starts_with("wrote "), "{message}");
        // A converted file has no `.inputs` beside it: pass them.
        let run = ok_json(&["run", path(&out), "--inputs", path(&inputs), "--json"]);
        for field in ["program_digest", "cycles", "stack_outputs"] {
            assert_eq!(run[field], original[field], "{format}: {field}");
        }
        let inspect = ok_json(&["inspect", path(&out), "--json"]);
        assert_eq!(inspect["kind"], format);
        assert_eq!(inspect["program_digest"], original["program_digest"]);
        // Converting a converted file again gives the same bytes.
        let again = dir.join(format!("again.{format}"));
        ok(&["convert", path(&out), path(&again), "--format", format]);
        assert!(
            std::fs::read(&out).ok() == std::fs::read(&again).ok(),
            "{format}"
        );
    }
    let trace = ok_json(&[
        "trace",
        path(&dir.join("u32_memory.compact")),
        "--inputs",
        path(&inputs),
        "--check",
        "--json",
    ]);
    assert_eq!(trace["check"]["ok"], true);
}

#[test]
fn programs_with_a_kernel_run_from_every_format() {
    let dir = scratch("kernel_programs");
    let kernel = Path::new(env!("CARGO_MANIFEST_DIR")).join("../weft-miden/programs/kernel.masm");
    std::fs::copy(&kernel, dir.join("kernel.masm")).expect("copy the kernel");
    // Syscalls at the root, in a loop and from a called procedure, and a kernel procedure that
    // uses its own memory: the outputs depend on every one of them.
    // A syscall's callee sees the top 16 elements, and the caller gets its depth back with a
    // zero where the kernel procedure's stack grew at the bottom; `movup.15 drop` drops it.
    let source = "proc callee\n    push.4 syscall.kadd movup.15 drop\nend\n\n\
                  begin\n    push.2 push.3 syscall.kadd movup.15 drop\n    \
                  push.1 push.1\n    \
                  while.true push.7 syscall.kadd movup.15 drop push.0 end\n    \
                  call.callee\n    syscall.kmem\n    movup.2 drop movup.2 drop\nend\n";
    let masm = write(&dir.join("sys.masm"), source);
    let original = ok_json(&["run", path(&masm), "--json"]);
    assert_eq!(check_common(&original)[..3], [12, 5, 0], "{original}");
    for format in ["fast", "compact", "text"] {
        let out = dir.join(format!("sys.{format}"));
        let message = ok(&[
            "convert",
            path(&masm),
            path(&out),
            "--format",
            format,
            "--strip",
        ]);
        assert!(message.contains("kernel of 5 procedures"), "{message}");
        // The converted file sits beside no kernel source: it holds its kernel itself.
        let moved = dir.join(format!("alone-{format}"));
        std::fs::create_dir_all(&moved).expect("dir");
        let alone = moved.join(format!("sys.{format}"));
        std::fs::rename(&out, &alone).expect("move");
        let run = ok_json(&["run", path(&alone), "--json"]);
        for field in ["program_digest", "cycles", "stack_outputs"] {
            assert_eq!(run[field], original[field], "{format}: {field}");
        }
        let trace = ok_json(&["trace", path(&alone), "--check", "--json"]);
        assert_eq!(trace["check"]["ok"], true, "{format}");
        // Converting the converted file again gives the same bytes.
        let again = dir.join(format!("again.{format}"));
        ok(&["convert", path(&alone), path(&again), "--format", format]);
        assert!(
            std::fs::read(&alone).ok() == std::fs::read(&again).ok(),
            "{format}"
        );
    }
    // A program file whose kernel does not list the procedure it calls fails as upstream does.
    let fast_file = dir.join("alone-fast/sys.fast");
    let text_file = dir.join("sys-no-kernel.txt");
    ok(&[
        "convert",
        path(&fast_file),
        path(&text_file),
        "--format",
        "text",
    ]);
    let printed = std::fs::read_to_string(&text_file).expect("text");
    let kept: String = printed
        .lines()
        .filter(|line| !line.starts_with("kernel "))
        .map(|line| format!("{line}\n"))
        .collect();
    assert_ne!(kept, printed, "the text form lists the kernel");
    write(&text_file, kept);
    let stderr = fails(&["run", path(&text_file)]);
    assert!(stderr.contains("kernel"), "{stderr}");

    // The same program as an upstream `.masb`, which names its kernel's procedures by digest:
    // their code comes from the `kernel.masm` beside it; converted, the file holds it.
    let kernel_source = std::fs::read_to_string(&kernel).expect("kernel source");
    let masb = write(
        &dir.join("sys.masb"),
        weft_upstream::artifacts::program_bytes_with_kernel(source, &kernel_source)
            .expect("assembles"),
    );
    let from_masb = ok_json(&["run", path(&masb), "--json"]);
    for field in ["program_digest", "cycles", "stack_outputs"] {
        assert_eq!(from_masb[field], original[field], "masb: {field}");
    }
    let converted = dir.join("alone-fast/from-masb.fast");
    ok(&[
        "convert",
        path(&masb),
        path(&converted),
        "--format",
        "fast",
        "--strip",
    ]);
    let run = ok_json(&["run", path(&converted), "--json"]);
    for field in ["program_digest", "cycles", "stack_outputs"] {
        assert_eq!(run[field], original[field], "masb to fast: {field}");
    }
}

#[test]
fn upstream_program_and_library_files() {
    let dir = scratch("upstream_files");
    let source = "begin push.6 push.7 mul push.2 u32div swap drop end";
    let masm = write(&dir.join("p.masm"), source);
    let masb = write(
        &dir.join("p.masb"),
        weft_upstream::artifacts::program_bytes(source).expect("assembles"),
    );
    let from_masm = ok_json(&["run", path(&masm), "--json"]);
    let from_masb = ok_json(&["run", path(&masb), "--json"]);
    for field in ["program_digest", "cycles", "stack_outputs"] {
        assert_eq!(from_masm[field], from_masb[field], "{field}");
    }
    assert_eq!(check_common(&from_masb)[0], 21);

    let library =
        "pub proc double\n    dup add\nend\n\npub proc triple\n    dup dup add add\nend\n";
    let masl = write(
        &dir.join("math.masl"),
        weft_upstream::artifacts::library_bytes("demo::math", library).expect("assembles"),
    );
    let report = ok_json(&["inspect", path(&masl), "--json"]);
    assert_eq!(report["kind"], "masl");
    assert!(report["program_digest"].is_null());
    let names: Vec<&str> = report["procedures"]
        .as_array()
        .expect("procedures")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(names.iter().any(|n| n.ends_with("double")), "{names:?}");
    assert!(names.iter().any(|n| n.ends_with("triple")), "{names:?}");
    let stderr = fails(&["run", path(&masl)]);
    assert!(stderr.contains("no entry point"), "{stderr}");
    let converted = dir.join("math.txt");
    ok(&[
        "convert",
        path(&masl),
        path(&converted),
        "--format",
        "text",
        "--strip",
    ]);
    let text = ok_json(&["inspect", path(&converted), "--json"]);
    assert_eq!(text["kind"], "text");
}

// ERRORS
// ================================================================================================

#[test]
fn unreadable_or_malformed_programs_fail_cleanly() {
    let dir = scratch("malformed_programs");
    let missing = dir.join("missing.masm");
    assert!(fails(&["run", path(&missing)]).contains("cannot read"));
    assert!(fails(&["trace", path(&missing)]).contains("cannot read"));
    assert!(fails(&["inspect", path(&missing)]).contains("cannot read"));

    let bad_masm = write(&dir.join("bad.masm"), "begin\n    push.1 frobnicate\nend\n");
    let stderr = fails(&["run", path(&bad_masm)]);
    assert!(stderr.contains("line 2"), "{stderr}");

    let unknown = write(&dir.join("prog.bin"), "hello");
    assert!(fails(&["inspect", path(&unknown)]).contains("unknown program format"));

    let masb = write(&dir.join("garbage.masb"), [1u8, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert!(fails(&["run", path(&masb)]).contains("malformed upstream program"));
    let masl = write(&dir.join("garbage.masl"), [0xffu8; 40]);
    assert!(fails(&["inspect", path(&masl)]).contains("malformed upstream library"));

    let fast = dir.join("ok.fast");
    ok(&[
        "convert",
        path(&example("fib.masm")),
        path(&fast),
        "--format",
        "fast",
        "--strip",
    ]);
    let bytes = std::fs::read(&fast).expect("fast file");
    let truncated = write(&dir.join("truncated.fast"), &bytes[..bytes.len() / 2]);
    assert!(fails(&["run", path(&truncated)]).contains("malformed weft fast file"));
    let mut flipped = bytes.clone();
    flipped[bytes.len() / 2] ^= 0x40;
    let flipped = write(&dir.join("flipped.fast"), flipped);
    assert!(fails(&["inspect", path(&flipped)]).contains("malformed weft fast file"));

    let text = write(&dir.join("bad.txt"), "mast 1\nnode 0 block [frob]\n");
    let stderr = fails(&["run", path(&text)]);
    assert!(stderr.contains("line 2, column"), "{stderr}");
}

/// Seeded mutations (bit flips, truncations) of upstream program and library files: each one
/// is inspected or rejected with one error line; none panics or kills the process, even when
/// upstream's decoder would abort on it.
#[test]
fn mutated_upstream_files_never_crash() {
    let dir = scratch("mutated_upstream");
    let program = weft_upstream::artifacts::program_bytes(
        "proc helper\n  push.3 mul\nend\nbegin push.1 exec.helper if.true push.2 else push.3 \
         end repeat.3 dup add end call.helper drop end",
    )
    .expect("assembles");
    let library =
        weft_upstream::artifacts::library_bytes("demo::m", "pub proc f\n  dup add\nend\n")
            .expect("assembles");
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut n_ok, mut n_rejected) = (0, 0);
    for round in 0..120 {
        let (original, name) = if round % 2 == 0 {
            (&program, format!("m{round}.masb"))
        } else {
            (&library, format!("m{round}.masl"))
        };
        let mut bytes = original.clone();
        for _ in 0..1 + next() % 4 {
            let i = (next() % bytes.len() as u64) as usize;
            bytes[i] ^= 1 << (next() % 8);
        }
        if next() % 4 == 0 {
            bytes.truncate((next() % bytes.len() as u64) as usize);
        }
        let file = write(&dir.join(name), &bytes);
        let output = weft()
            .args(["inspect", path(&file), "--json"])
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.code().is_some(), "killed: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        if output.status.success() {
            n_ok += 1;
        } else {
            assert_eq!(stderr.lines().count(), 1, "{stderr}");
            assert!(stderr.starts_with("error: "), "{stderr}");
            n_rejected += 1;
        }
    }
    assert!(
        n_rejected > 0,
        "mutations must be rejected sometimes ({n_ok} accepted)"
    );
}

/// A program file whose corrupted count makes upstream's decoder ask for ~59 TB: the decoder
/// aborts in the child process and the command reports the file as malformed.
#[test]
fn decoder_abort_is_a_malformed_file() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/huge_count.masb");
    for command in ["inspect", "run", "trace"] {
        let stderr = fails(&[command, path(&file)]);
        // Where the allocation happens to succeed (overcommit), decoding fails later instead.
        assert!(stderr.contains("malformed upstream program"), "{stderr}");
    }
}

#[test]
fn malformed_inputs_fail_cleanly() {
    let dir = scratch("malformed_inputs");
    for (name, json) in [
        ("truncated", r#"{"operand_stack": [1,"#),
        ("array", "[1, 2]"),
        ("unknown_field", r#"{"operand_stak": [1]}"#),
        (
            "not_a_felt",
            r#"{"operand_stack": ["18446744069414584321"]}"#,
        ),
        (
            "too_many",
            r#"{"operand_stack": [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]}"#,
        ),
    ] {
        let inputs = write(&dir.join(format!("{name}.json")), json);
        for command in ["run", "trace"] {
            let stderr = fails(&[
                command,
                path(&example("fib.masm")),
                "--inputs",
                path(&inputs),
            ]);
            assert!(stderr.contains("inputs"), "{name}: {stderr}");
        }
    }
    let missing = dir.join("missing.json");
    fails(&[
        "run",
        path(&example("fib.masm")),
        "--inputs",
        path(&missing),
    ]);
    // A malformed .inputs file beside the program is found and reported.
    let program = write(&dir.join("p.masm"), "begin push.1 drop end");
    write(&dir.join("p.inputs"), "{");
    assert!(fails(&["run", path(&program)]).contains("malformed inputs"));
}

#[test]
fn execution_errors_name_the_cycle_and_operation() {
    let dir = scratch("execution_errors");
    let assert = write(
        &dir.join("assert.masm"),
        "begin\n    push.1 push.2 add push.4 assert_eq.err=\"sum is not four\"\nend\n",
    );
    for args in [
        vec!["run", path(&assert)],
        vec!["trace", path(&assert)],
        vec!["trace", path(&assert), "--engine", "reference", "--json"],
    ] {
        let stderr = fails(&args);
        assert!(stderr.contains("clock cycle"), "{stderr}");
        assert!(stderr.contains("operation `assert"), "{stderr}");
        assert!(stderr.contains("sum is not four"), "{stderr}");
    }
    let div = write(&dir.join("div.masm"), "begin push.7 push.0 u32div end");
    let stderr = fails(&["run", path(&div)]);
    assert!(stderr.contains("(operation `u32div`)"), "{stderr}");
    let split = write(
        &dir.join("split.masm"),
        "begin push.2 if.true push.1 else push.0 end end",
    );
    let stderr = fails(&["trace", path(&split), "--check"]);
    assert!(stderr.contains("split node"), "{stderr}");
    for command in ["run", "trace"] {
        let stderr = fails(&[command, path(&example("fib.masm")), "--max-cycles", "1000"]);
        assert!(stderr.contains("max cycles 1000"), "{stderr}");
    }
    let stderr = fails(&[
        "trace",
        path(&example("fib.masm")),
        "--engine",
        "reference",
        "--max-cycles",
        "1000",
    ]);
    assert!(stderr.contains("max cycles 1000"), "{stderr}");
    let overflow = write(&dir.join("overflow.masm"), "begin push.1 end");
    assert!(fails(&["run", path(&overflow)]).contains("17 elements"));
}

#[test]
fn output_and_argument_errors_fail_cleanly() {
    let dir = scratch("output_errors");
    let unwritable = dir.join("no-such-dir").join("out.csv");
    let stderr = fails(&[
        "trace",
        path(&example("hash.masm")),
        "--csv",
        path(&unwritable),
    ]);
    assert!(stderr.contains("cannot write"), "{stderr}");
    let stderr = fails(&[
        "convert",
        path(&example("fib.masm")),
        path(&dir.join("fib.fast")),
        "--format",
        "fast",
    ]);
    assert!(stderr.contains("--strip"), "{stderr}");
    // 2 x 524288 rows x 71 columns x 8 bytes is 568 MiB.
    for engine in ["parallel", "reference"] {
        let stderr = fails(&[
            "trace",
            path(&example("fib.masm")),
            "--engine",
            engine,
            "--check",
            "--max-trace-memory",
            "300",
        ]);
        assert!(stderr.contains("needs 568 MiB"), "{stderr}");
    }
    ok(&[
        "trace",
        path(&example("fib.masm")),
        "--max-trace-memory",
        "300",
    ]);
    // Usage errors are clap's: exit status 2, no panic.
    let output = weft()
        .args(["trace", path(&example("fib.masm")), "--fragment-size", "0"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&output.stderr).contains("panicked"));
    let output = weft()
        .args(["convert", "a", "b", "--format", "yaml"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
}
