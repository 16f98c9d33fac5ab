//! Trace conformance: every program of the corpus and of `programs/` runs on upstream's processor
//! and on weft's reference processor; the 49 core columns must be equal on every row before
//! upstream's final random row, the stack outputs must be equal, and a failing program must fail
//! with the same error kind at the same clock cycle.
//!
//! Programs named `fail_*` are expected to fail upstream; all others to succeed. Every difference
//! is collected and reported together, as `(program, row, column name, upstream value, weft
//! value)` for traces. The test also prints, for each opcode, how many programs execute it (read
//! from the op-bit columns of upstream's trace, independently of weft) and fails if any opcode is
//! executed by none.

mod common;

use std::collections::BTreeMap;

use weft_core::OpCode;
use weft_miden::{UpstreamRun, compare_program, load_program};

/// What one program contributed.
#[derive(Default)]
struct Tally {
    n_programs: usize,
    n_failing_programs: usize,
    n_rows: usize,
    n_mismatches: usize,
    problems: Vec<String>,
    /// Opcode → names of the programs that execute it.
    op_programs: BTreeMap<u8, Vec<String>>,
}

impl Tally {
    fn record_ops(&mut self, name: &str, run: &UpstreamRun) {
        let mut seen = [false; 128];
        for row in 0..run.trace_len() - 1 {
            seen[usize::from(run.op_code_at(row))] = true;
        }
        for (code, _) in seen.iter().enumerate().filter(|(_, s)| **s) {
            let code = u8::try_from(code).expect("7-bit opcode");
            self.op_programs
                .entry(code)
                .or_default()
                .push(name.to_string());
        }
    }
}

fn print_op_table(tally: &Tally) -> Vec<String> {
    let mut missing = Vec::new();
    println!("opcode coverage (opcode, mnemonic, programs executing it):");
    for op in OpCode::ALL {
        let n = tally.op_programs.get(&op.as_u8()).map_or(0, Vec::len);
        println!("  {:>3} {:<18} {n}", op.as_u8(), op.mnemonic());
        if n == 0 {
            missing.push(op.mnemonic().to_string());
        }
    }
    missing
}

#[test]
fn traces_match_upstream() {
    let programs = common::all_programs();
    let mut tally = Tally::default();
    for program in &programs {
        let name = &program.name;
        let loaded = match load_program(&program.path) {
            Ok(loaded) => loaded,
            Err(err) => {
                tally.problems.push(format!("{name}: cannot load: {err}"));
                continue;
            }
        };
        tally.n_programs += 1;
        let expect_failure = program
            .path
            .file_stem()
            .is_some_and(|stem| stem.to_string_lossy().starts_with("fail_"));
        let comparison = compare_program(name, &loaded);
        match &comparison.upstream {
            Ok(run) => {
                if expect_failure {
                    tally
                        .problems
                        .push(format!("{name}: expected to fail upstream, but succeeded"));
                }
                tally.record_ops(name, run);
            }
            Err(failure) => {
                tally.n_failing_programs += 1;
                if !expect_failure {
                    tally.problems.push(format!(
                        "{name}: upstream failed at clk {}: {}",
                        failure.clk, failure.error
                    ));
                }
            }
        }
        tally.n_rows += comparison.n_rows_compared;
        tally.n_mismatches += comparison.mismatches.len();
        tally
            .problems
            .extend(comparison.mismatches.iter().map(ToString::to_string));
    }
    let missing = print_op_table(&tally);
    if !missing.is_empty() {
        tally.problems.push(format!(
            "opcodes executed by no program: {}",
            missing.join(", ")
        ));
    }
    println!(
        "programs compared: {} ({} failing), rows compared: {}, mismatches: {}",
        tally.n_programs, tally.n_failing_programs, tally.n_rows, tally.n_mismatches
    );
    assert!(
        tally.problems.is_empty(),
        "{} problems:\n{}",
        tally.problems.len(),
        tally.problems.join("\n")
    );
}
