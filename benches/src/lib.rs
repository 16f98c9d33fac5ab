//! Shared by weft's criterion benchmarks (`benches/`: `build_trace`, `formats`) and the
//! `trace_figures` example. The program `build_trace` and `trace_figures` measure: a counting loop whose
//! body mixes arithmetic, u32 operations, hashing, memory and advice pops across several op
//! groups, with a call every iteration (56 rows per iteration).

use std::sync::Arc;

use weft_core::{Felt, Operation};
use weft_host::{AdviceInputs, DefaultHost, StackInputs};
use weft_mast::{Kernel, MastForest, MastForestBuilder, Program};
use weft_replay::{TraceContexts, execute_for_trace};

/// Rows per loop iteration.
pub const ROWS_PER_ITERATION: u64 = 56;

fn felt(v: u64) -> Felt {
    Felt::new(v)
}

/// A counting loop of `iterations` iterations (counter in memory cell 8) whose body does mixed
/// work and calls a procedure.
pub fn program(iterations: u64) -> Program {
    use Operation as O;
    let mut b = MastForestBuilder::new();
    let cell = felt(8);
    let init = b
        .add_block(&[
            O::Push(felt(iterations)),
            O::Push(cell),
            O::MStore,
            O::Drop,
            O::Push(felt(1)),
        ])
        .expect("block");
    let mut work = vec![
        O::Push(felt(3)),
        O::Push(felt(5)),
        O::Mul,
        O::Add,
        O::U32split,
        O::U32add,
        O::Drop,
        O::HPerm,
        O::AdvPop,
        O::Add,
        O::Swap,
        O::Dup4,
        O::Drop,
        O::Dup0,
        O::Mul,
    ];
    work.extend([O::Pad, O::Drop, O::Noop, O::Incr, O::Neg, O::Neg]);
    let work = b.add_block(&work).expect("block");
    let callee = b
        .add_block(&[O::Push(felt(7)), O::Mul, O::Clk, O::Drop, O::Pad, O::Drop])
        .expect("block");
    b.make_root(callee).expect("root");
    let call = b.add_call(callee).expect("call");
    let dec = b
        .add_block(&[
            O::Push(cell),
            O::MLoad,
            O::Push(-felt(1)),
            O::Add,
            O::Dup0,
            O::Push(cell),
            O::MStore,
            O::Drop,
            O::Eqz,
            O::Not,
        ])
        .expect("block");
    let body = b.add_join(work, call).expect("join");
    let body = b.add_join(body, dec).expect("join");
    let lp = b.add_loop(body).expect("loop");
    let root = b.add_join(init, lp).expect("join");
    b.make_root(root).expect("root");
    Program::new(Arc::new(b.build()), root, Kernel::default()).expect("program")
}

/// The forest table and contexts of a run of `iterations` iterations.
pub fn contexts(iterations: u64, fragment_size: u32) -> (Vec<Arc<MastForest>>, TraceContexts) {
    let advice = AdviceInputs::default().with_stack((0..iterations).map(|i| felt(i * 31 + 7)));
    let (output, contexts) = execute_for_trace(
        &program(iterations),
        StackInputs::try_from_ints([1, 2, 3, 4]).expect("inputs"),
        advice,
        &mut DefaultHost::new(),
        fragment_size,
    )
    .expect("the program runs");
    (output.forests, contexts)
}
