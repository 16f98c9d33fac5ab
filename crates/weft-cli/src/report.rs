//! What the commands print: the machine-readable forms of digests and stacks, the JSON reports
//! and the CSV trace dump.
//!
//! # JSON fields
//! `--json` prints one object on stdout.
//! - `run` and `trace`: `program_digest` (the program's four digest elements in order, each as
//!   16 lowercase hex digits of its canonical value, concatenated: 64 characters), `cycles`,
//!   `stack_outputs` (the top 16 elements, top first, as decimal integers), `execute_s` (seconds
//!   of execution alone: processor construction and the run; loading excluded), `cycles_per_s`
//!   and `load_s` (reading, assembling or decoding the program, its inputs, and the core
//!   library, building the host, and batching the blocks the program can reach).
//! - `trace` adds `engine`, `rows` (the executed cycles plus the first `HALT` row, which holds
//!   the final stack), `trace_rows` (the main trace's length, upstream's: a power of two, at
//!   least 64, set by the longest of the core, range checker and chiplet parts; `padded_rows` is
//!   the same number, kept for older readers), `trace_cols` (71), `core_rows` (executed cycles),
//!   `range_rows` and `chiplets_rows` (upstream's counts),
//!   `build_s` (seconds building the trace from the execution's contexts; the reference engine
//!   builds while it executes, so its time is all in `execute_s` and `build_s` is 0),
//!   `fragment_size`, `threads` and `fragments` (parallel engine; `null` otherwise), `check`
//!   (`null` without `--check`, else `{"ok", "engine", "check_s", "difference"}`: the other
//!   engine's run and the comparison), `csv` (the path written, or `null`), `csv_s`, and
//!   `distributed` (`null` unless `--distributed`, else `{"run", "jobs", "published",
//!   "already_done", "still_queued", "redelivered", "bytes_uploaded", "bytes_downloaded",
//!   "upload_s", "wait_s", "download_s", "assemble_s"}`).
//! - `bench`: `program_digest`, `cycles`, `stack_outputs` and `load_s` as for `run`; `reps`,
//!   `threads` (of the pool building the trace), `fragment_size`, `fragments`; for each phase
//!   `execute`, `execute_for_trace` and `build_trace`: `{phase}_s` (the median over the
//!   repetitions: the middle one, or the mean of the two middle ones), `{phase}_min_s` and
//!   `first_{phase}_s` (the first repetition); `cycles_per_s` (from the median execute);
//!   `trace_rows` and `trace_cols` (the built trace's rows, padding included, and columns).
//! - `inspect`: `kind`, `program_digest` (`null` for a library), `nodes`, `node_counts` (by
//!   kind), `procedures` (`{"node", "digest", "name", "entry"}` per procedure root) and `text`.
//!
//! # CSV
//! A header line with the 71 main-trace column names, upstream's ([`COLUMN_NAMES`]: the 49 core
//! columns, `range.m`, `range.v`, `chiplets.c0` to `chiplets.c19`), then one line per trace row,
//! padding and the random last row included, values as canonical decimal integers.

use std::io::{self, Write};

use serde_json::{Value, json};
use weft_core::{
    Felt, Word,
    main_trace::{COLUMN_NAMES, MainTrace, TRACE_WIDTH},
};
use weft_host::StackOutputs;

/// The 64-character form of a digest: each element as 16 lowercase hex digits, in order.
pub fn digest_hex(word: &Word) -> String {
    word.as_elements()
        .iter()
        .map(|felt| format!("{:016x}", felt.as_int()))
        .collect()
}

/// The stack outputs, top first, as JSON integers.
pub fn stack_json(outputs: &StackOutputs) -> Value {
    Value::Array(
        outputs
            .as_slice()
            .iter()
            .map(|felt| json!(felt.as_int()))
            .collect(),
    )
}

/// The stack outputs, top first, as text (`[1, 2, 0, ...]`).
pub fn stack_text(outputs: &StackOutputs) -> String {
    let values: Vec<String> = outputs
        .as_slice()
        .iter()
        .map(|felt| felt.as_int().to_string())
        .collect();
    format!("[{}]", values.join(", "))
}

/// Cycles per second, or 0 for an immeasurably short run.
pub fn cycles_per_s(cycles: u64, seconds: f64) -> f64 {
    if seconds > 0.0 {
        cycles as f64 / seconds
    } else {
        0.0
    }
}

/// A rate with an SI prefix (`12.3 M`).
pub fn si(rate: f64) -> String {
    if rate >= 1e9 {
        format!("{:.2} G", rate / 1e9)
    } else if rate >= 1e6 {
        format!("{:.2} M", rate / 1e6)
    } else if rate >= 1e3 {
        format!("{:.2} k", rate / 1e3)
    } else {
        format!("{rate:.0} ")
    }
}

/// A duration in seconds, in the most readable unit.
pub fn seconds(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.3} s")
    } else if s >= 1e-3 {
        format!("{:.3} ms", s * 1e3)
    } else {
        format!("{:.1} µs", s * 1e6)
    }
}

/// Writes `trace` as CSV, calling `progress` with the number of rows written every so often.
///
/// # Errors
/// The writer's error.
pub fn write_csv(
    out: &mut impl Write,
    trace: &MainTrace,
    mut progress: impl FnMut(u64),
) -> io::Result<()> {
    writeln!(out, "{}", COLUMN_NAMES.join(","))?;
    let columns: Vec<&[Felt]> = trace.columns().collect();
    let mut line = String::with_capacity(TRACE_WIDTH * 21);
    const STEP: usize = 1 << 14;
    for row in 0..trace.num_rows() {
        line.clear();
        for (col, column) in columns.iter().enumerate() {
            if col > 0 {
                line.push(',');
            }
            push_felt(&mut line, column[row]);
        }
        line.push('\n');
        out.write_all(line.as_bytes())?;
        if (row + 1) % STEP == 0 {
            progress(STEP as u64);
        }
    }
    progress((trace.num_rows() % STEP) as u64);
    out.flush()
}

fn push_felt(line: &mut String, felt: Felt) {
    use std::fmt::Write as _;
    // Writing to a String cannot fail.
    let _ = write!(line, "{}", felt.as_int());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_hex_is_elements_in_order() {
        // The last element is written above the modulus: its canonical value is 2.
        let word = Word::from([
            Felt::new(1),
            Felt::new(0xabc),
            Felt::new(0xffff_ffff_0000_0000),
            Felt::new(0xffff_ffff_0000_0001 + 2),
        ]);
        let hex = digest_hex(&word);
        assert_eq!(hex.len(), 64);
        assert_eq!(&hex[..16], "0000000000000001");
        assert_eq!(&hex[16..32], "0000000000000abc");
        assert_eq!(&hex[32..48], "ffffffff00000000");
        assert_eq!(&hex[48..], "0000000000000002");
    }

    #[test]
    fn csv_has_header_and_every_row() {
        let mut columns = vec![vec![Felt::new(0); 4]; TRACE_WIDTH];
        columns[0][0] = Felt::new(7);
        let trace = MainTrace::from_columns(columns).expect("71 columns");
        let mut out = Vec::new();
        let mut reported = 0;
        write_csv(&mut out, &trace, |n| reported += n).expect("writes");
        let text = String::from_utf8(out).expect("utf-8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5);
        assert_eq!(lines[0].split(',').count(), TRACE_WIDTH);
        assert!(lines[0].ends_with("chiplets.c19"), "{}", lines[0]);
        assert!(lines[1].starts_with("7,"));
        assert_eq!(reported, 4);
    }
}
