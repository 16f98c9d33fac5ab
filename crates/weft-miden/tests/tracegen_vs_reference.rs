//! The parallel trace (fast `execute_for_trace` + `weft_tracegen::build_trace`) against weft's
//! reference trace (itself equal to upstream's, see `trace_conformance`), on every program of
//! `programs/` and `workloads/` (and the shared corpus when present), with fragment boundaries placed at every kind of
//! position. The first difference is reported as (program, row, column name, expected, found).

mod common;

use std::collections::BTreeSet;

use rstest::rstest;
use weft_core::OpCode;
use weft_core::trace::{CoreTrace, DECODER_TRACE_OFFSET, decoder};
use weft_miden::equivalence::check_against_reference;
use weft_upstream::{LoadedProgram, host::weft_host, load_program};

fn load(name: &str) -> LoadedProgram {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("programs")
        .join(format!("{name}.masm"));
    load_program(&path).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn check(name: &str, program: &LoadedProgram, sizes: impl IntoIterator<Item = u32>) {
    let reference = weft_miden::conformance::run_reference(program);
    for size in sizes {
        if let Err(e) = check_against_reference(program, &reference, size) {
            panic!("{name}, fragment size {size}: {e}");
        }
    }
}

/// The opcode of every executed row of a trace.
fn opcodes(trace: &CoreTrace, n_cycles: usize) -> Vec<u8> {
    (0..n_cycles)
        .map(|row| {
            (0..7).fold(0u8, |acc, i| {
                let bit = trace.get(row, DECODER_TRACE_OFFSET + decoder::OP_BITS_OFFSET + i);
                acc | ((bit.as_int() as u8) << i)
            })
        })
        .collect()
}

/// Where a boundary falls: a predicate on (the row's opcode, the previous row's opcode, the
/// row's `in_span` and op index).
#[derive(Clone, Copy, Debug)]
enum Position {
    /// Inside a basic block, not at a group edge.
    InsideBlock,
    /// At the first operation of an op group other than the first of its batch.
    GroupEdge,
    /// Just before a `RESPAN` (the boundary row is the last op of a batch).
    BeforeRespan,
    /// The `RESPAN` row itself.
    AtRespan,
    /// Just after a `RESPAN`.
    AfterRespan,
    /// An `END` row.
    End,
    /// A loop's `REPEAT` row.
    Repeat,
    /// Entering a call, syscall, dyn or dyncall (their start rows).
    Enter(OpCode),
    /// The row after a call-like block's `END` (leaving it).
    AfterReturn,
    /// The last executed row.
    LastRow,
}

fn rows_at(trace: &CoreTrace, n_cycles: usize, pos: Position) -> Vec<usize> {
    let ops = opcodes(trace, n_cycles);
    let col = |row: usize, c: usize| trace.get(row, DECODER_TRACE_OFFSET + c).as_int();
    let end = OpCode::End.as_u8();
    let respan = OpCode::Respan.as_u8();
    (1..n_cycles)
        .filter(|&row| {
            let in_span = col(row, decoder::IN_SPAN_COL_IDX) == 1;
            let op_idx = col(row, decoder::OP_INDEX_COL_IDX);
            match pos {
                Position::InsideBlock => in_span && op_idx > 0,
                Position::GroupEdge => {
                    in_span && op_idx == 0 && col(row - 1, decoder::IN_SPAN_COL_IDX) == 1
                }
                Position::BeforeRespan => row + 1 < n_cycles && ops[row + 1] == respan,
                Position::AtRespan => ops[row] == respan,
                Position::AfterRespan => ops[row - 1] == respan,
                Position::End => ops[row] == end,
                Position::Repeat => ops[row] == OpCode::Repeat.as_u8(),
                Position::Enter(op) => ops[row] == op.as_u8(),
                Position::AfterReturn => {
                    ops[row - 1] == end
                        && (col(row - 1, decoder::HASHER_STATE_OFFSET + 6) == 1
                            || col(row - 1, decoder::HASHER_STATE_OFFSET + 7) == 1)
                }
                Position::LastRow => row == n_cycles - 1,
            }
        })
        .collect()
}

/// Boundaries placed at rows of the given kind: for each such row `r` (up to 12 per program),
/// fragment sizes that make `r` a fragment's first row (`r` itself, and `r`'s divisors near
/// its square root), so the boundary falls exactly there.
fn sizes_for(rows: &[usize]) -> BTreeSet<u32> {
    let mut sizes = BTreeSet::new();
    for &r in rows.iter().take(12) {
        sizes.insert(r as u32);
        let root = (r as f64).sqrt() as usize;
        if let Some(d) = (2..=root.max(2)).rev().find(|d| r % d == 0) {
            sizes.insert(d as u32);
        }
    }
    sizes
}

#[rstest]
#[case::inside_block("u32_ops", Position::InsideBlock)]
#[case::group_edge("block_many_pushes", Position::GroupEdge)]
#[case::before_respan("block_long_noops", Position::BeforeRespan)]
#[case::at_respan("block_long_noops", Position::AtRespan)]
#[case::after_respan("block_long_noops", Position::AfterRespan)]
#[case::end_of_nodes("cf_nested", Position::End)]
#[case::loop_repeat("cf_while_many", Position::Repeat)]
#[case::enter_call("call_nested", Position::Enter(OpCode::Call))]
#[case::enter_syscall("syscall_basic", Position::Enter(OpCode::SysCall))]
#[case::enter_dyn("cf_dynexec_local", Position::Enter(OpCode::Dyn))]
#[case::enter_dyncall("cf_dyncall_twice", Position::Enter(OpCode::Dyncall))]
#[case::leave_call("call_nested", Position::AfterReturn)]
#[case::leave_syscall("syscall_basic", Position::AfterReturn)]
#[case::leave_dyncall("cf_dyncall_twice", Position::AfterReturn)]
#[case::last_row("cf_nested", Position::LastRow)]
fn boundary_at(#[case] name: &str, #[case] pos: Position) {
    let program = load(name);
    let reference = weft_miden::conformance::run_reference(&program)
        .unwrap_or_else(|e| panic!("{name}: the reference fails: {e}"));
    let rows = rows_at(&reference.core, reference.n_cycles, pos);
    assert!(
        !rows.is_empty(),
        "{name} has no row at {pos:?}: pick another program"
    );
    let sizes = sizes_for(&rows);
    check(name, &program, sizes);
}

/// A procedure that the program reaches through an external node resolves into the core
/// library's forest: a boundary right after that resolution, and at every size around it.
#[test]
fn boundary_right_after_an_external_node_resolves() {
    let name = "u64_lib";
    let program = load(name);
    let reference =
        weft_miden::conformance::run_reference(&program).unwrap_or_else(|e| panic!("{name}: {e}"));
    // Find the rows where execution runs in another forest than the program's: the first row
    // of such a stretch is the resolved node's start row.
    let mut host = weft_host(program.weft_kernel_forest.as_ref()).expect("a host");
    let (output, contexts) = weft_replay::execute_for_trace(
        &program.weft,
        program.inputs.weft_stack_inputs(),
        program.inputs.weft_advice_inputs(),
        &mut host,
        1,
    )
    .expect("runs");
    assert!(
        output.forests.len() > 1,
        "{name} must resolve an external node"
    );
    let resolved_rows: Vec<usize> = contexts
        .fragments
        .windows(2)
        .enumerate()
        .filter(|(_, w)| !w[0].external.resolutions.is_empty())
        .map(|(i, _)| i + 1)
        .collect();
    assert!(!resolved_rows.is_empty());
    check(name, &program, sizes_for(&resolved_rows));
    let _ = reference;
}

#[rstest]
#[case("cf_nested")]
#[case("cf_while_many")]
#[case("call_nested")]
#[case("cf_dyncall_twice")]
#[case("block_long_noops")]
fn every_fragment_size_from_1_to_64(#[case] name: &str) {
    let program = load(name);
    check(name, &program, 1..=64);
}

#[test]
fn every_program_at_several_sizes_and_thread_counts() {
    let programs = common::all_programs();
    let mut n_rows = 0usize;
    let mut n_checked = 0usize;
    for p in &programs {
        let program = load_program(&p.path).unwrap_or_else(|e| panic!("{}: {e}", p.name));
        let reference = weft_miden::conformance::run_reference(&program);
        if let Ok(r) = &reference {
            n_rows += r.trace.num_rows();
        }
        for size in [7u32, 61, 4096] {
            if let Err(e) = check_against_reference(&program, &reference, size) {
                panic!("{}, fragment size {size}: {e}", p.name);
            }
        }
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .expect("pool");
        if let Err(e) = one.install(|| check_against_reference(&program, &reference, 61)) {
            panic!("{}, fragment size 61, 1 thread: {e}", p.name);
        }
        n_checked += 1;
    }
    println!(
        "parallel vs reference: {n_checked} programs, {n_rows} reference rows, sizes 7/61/4096, 1 and all threads: 0 mismatches"
    );
}
