//! The whole main trace (71 columns) built in parallel (fast `execute_for_trace` +
//! `weft_tracegen::build_trace`) against upstream's sequential `miden_processor::execute`, on
//! every program that upstream runs: every cell of every row, the random last row included, and
//! the row counts of every part. The first difference of each program is reported as
//! (program, fragment size, row, column name, region, expected, found).
//!
//! Fragment sizes: 4096 on every program, 7 on programs up to 100,000 cycles and 1 on programs
//! up to 5,000 cycles (test builds of weft's crates are unoptimized; a fragment of one row
//! costs a whole context).

mod common;

use weft_core::main_trace::first_difference;
use weft_miden::run_upstream;
use weft_upstream::{host::weft_host, load_program};

/// The fragment sizes a program of `n_cycles` cycles is built at.
fn sizes(n_cycles: usize) -> Vec<u32> {
    let mut sizes = vec![4096];
    if n_cycles <= 100_000 {
        sizes.push(7);
    }
    if n_cycles <= 5_000 {
        sizes.push(1);
    }
    sizes
}

#[test]
fn every_column_of_every_row_matches_upstream() {
    let programs = common::all_programs();
    let mut checked = 0;
    let mut builds = 0;
    let mut problems = Vec::new();
    for program in &programs {
        let name = &program.name;
        let loaded = match load_program(&program.path) {
            Ok(loaded) => loaded,
            Err(e) => {
                problems.push(format!("{name}: does not load: {e}"));
                continue;
            }
        };
        let extra: Vec<_> = loaded.kernel_forest.iter().cloned().collect();
        let Ok(run) = run_upstream(&loaded.upstream, &loaded.inputs, &extra) else {
            continue;
        };
        checked += 1;
        for size in sizes(run.n_cycles) {
            let mut host =
                weft_host(loaded.weft_kernel_forest.as_ref()).expect("the core library loads");
            let executed = weft_replay::execute_for_trace(
                &loaded.weft,
                loaded.inputs.weft_stack_inputs(),
                loaded.inputs.weft_advice_inputs(),
                &mut host,
                size,
            );
            let (output, contexts) = match executed {
                Ok(done) => done,
                Err(e) => {
                    problems.push(format!(
                        "{name}, size {size}: weft fails where upstream runs: {e}"
                    ));
                    break;
                }
            };
            let built = weft_tracegen::build_trace_with_summary(&output.forests, &contexts);
            let (trace, summary) = match built {
                Ok(built) => built,
                Err(e) => {
                    problems.push(format!("{name}, size {size}: build_trace fails: {e}"));
                    break;
                }
            };
            builds += 1;
            if summary != run.summary {
                problems.push(format!(
                    "{name}, size {size}: row counts {summary:?}, upstream {:?}",
                    run.summary
                ));
                break;
            }
            if let Some(diff) = first_difference(&run.main, &trace) {
                problems.push(format!(
                    "{name}, size {size}: row {}, column {}, region {}: expected {}, found {}",
                    diff.row, diff.column, diff.region, diff.expected, diff.found
                ));
                break;
            }
        }
    }
    println!(
        "{checked} programs ran upstream, {builds} weft builds compared, {} mismatches",
        problems.len()
    );
    assert!(checked >= 50, "only {checked} programs ran upstream");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A malformed chiplet log is a typed error, never a panic or a wrong trace.
#[test]
fn malformed_chiplet_logs_are_typed_errors() {
    use weft_replay::{BitwiseKind, BitwiseOp, HasherRequest, MemoryAccessKind, PermuteRequest};
    use weft_tracegen::{ChipletError, TraceGenError};

    let programs = common::own_programs();
    let program = programs
        .iter()
        .find(|p| p.name.ends_with("u32_bitwise"))
        .expect("u32_bitwise is an own program");
    let loaded = load_program(&program.path).expect("loads");
    let mut host = weft_host(loaded.weft_kernel_forest.as_ref()).expect("the core library loads");
    let (output, good) = weft_replay::execute_for_trace(
        &loaded.weft,
        loaded.inputs.weft_stack_inputs(),
        loaded.inputs.weft_advice_inputs(),
        &mut host,
        64,
    )
    .expect("runs");
    let forests = &output.forests;
    weft_tracegen::build_trace(forests, &good).expect("the recorded logs build");
    let chiplet_error =
        |contexts: &weft_replay::TraceContexts| match weft_tracegen::build_trace(forests, contexts)
        {
            Err(TraceGenError::Chiplets(e)) => e,
            other => panic!("expected a chiplet error, got {other:?}"),
        };

    let mut c = good.clone();
    c.chiplets
        .hasher
        .requests
        .push(HasherRequest::Node(weft_fast::NodeRef {
            forest: 0,
            node: u32::MAX,
        }));
    assert!(matches!(
        chiplet_error(&c),
        ChipletError::UnknownNode { .. }
    ));

    let mut c = good.clone();
    c.chiplets
        .hasher
        .requests
        .push(HasherRequest::Permute(Box::new(PermuteRequest::new(
            [u64::MAX; 12],
        ))));
    assert!(matches!(
        chiplet_error(&c),
        ChipletError::NonCanonical { .. }
    ));

    let mut c = good.clone();
    c.chiplets
        .hasher
        .requests
        .push(HasherRequest::MerkleVerify(Box::new(
            weft_replay::MerkleVerifyRequest::new([0; 4], 4, vec![[0; 4]; 2]),
        )));
    assert!(matches!(
        chiplet_error(&c),
        ChipletError::MerkleIndex { index: 4, depth: 2 }
    ));

    let mut c = good.clone();
    c.chiplets
        .hasher
        .requests
        .push(HasherRequest::MerkleUpdate(Box::new(
            weft_replay::MerkleUpdateRequest::new([0; 4], [0; 4], 0, Vec::new()),
        )));
    assert!(matches!(
        chiplet_error(&c),
        ChipletError::MerkleIndex { depth: 0, .. }
    ));

    let mut c = good.clone();
    let access = c.chiplets.memory.accesses.first().copied();
    if let Some(mut access) = access {
        access.kind = MemoryAccessKind::ReadWord;
        access.addr = 1;
        c.chiplets.memory.accesses.push(access);
        assert!(matches!(
            chiplet_error(&c),
            ChipletError::UnalignedWord { addr: 1, .. }
        ));
    }

    let mut c = good.clone();
    c.chiplets.kernel.accesses.push([1, 2, 3, 4]);
    assert!(matches!(
        chiplet_error(&c),
        ChipletError::NotInKernel { .. }
    ));

    let mut c = good.clone();
    c.chiplets
        .ace
        .evaluations
        .push(weft_replay::CircuitEvaluation {
            ctx: 0,
            clk: 0,
            ptr: 0,
            n_read: 2,
            n_eval: 4,
            first_access: u64::MAX,
        });
    assert!(matches!(chiplet_error(&c), ChipletError::Ace { .. }));

    // A valid but different bitwise log builds a different trace, never the recorded one.
    let mut c = good.clone();
    c.chiplets.bitwise.ops.push(BitwiseOp {
        kind: BitwiseKind::Xor,
        a: 5,
        b: 3,
    });
    let other = weft_tracegen::build_trace(forests, &c).expect("a valid log builds");
    let recorded = weft_tracegen::build_trace(forests, &good).expect("builds");
    assert!(first_difference(&recorded, &other).is_some());

    // Bytes: an unknown access kind does not decode.
    let mut bytes = good.chiplets.to_bytes();
    let back = weft_replay::ChipletsReplay::from_bytes(&bytes).expect("round trip");
    assert_eq!(back, good.chiplets);
    bytes.truncate(bytes.len() / 2);
    assert!(weft_replay::ChipletsReplay::from_bytes(&bytes).is_err());
}
