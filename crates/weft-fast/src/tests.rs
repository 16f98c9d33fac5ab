//! Differential tests of the fast processor against the reference processor on random valid
//! programs: random blocks of stack, field, u32, memory and hashing snippets, joins, splits,
//! calls and loops bounded by a counter kept in memory. Both the outcome (stack outputs and
//! cycle count) and failures (kind and clock cycle) must agree.

use std::sync::Arc;

use proptest::prelude::*;
use weft_core::{Felt, Operation};
use weft_host::{AdviceInputs, DefaultHost, ExecutionOptions, StackInputs};
use weft_mast::{Kernel, MastForestBuilder, MastNodeId, Program};

use crate::FastProcessor;

/// A random program shape.
#[derive(Clone, Debug)]
enum Tree {
    Block(Vec<(u8, u64)>),
    Join(Box<Tree>, Box<Tree>),
    Split(bool, Box<Tree>, Box<Tree>),
    Loop(u8, Box<Tree>),
    Call(Box<Tree>),
}

fn felt(v: u64) -> Felt {
    Felt::new(v)
}

/// The operations of snippet `kind` with parameter `p`.
fn snippet(kind: u8, p: u64, out: &mut Vec<Operation>) {
    use Operation as O;
    let small = p % 64;
    let ops: Vec<Operation> = match kind % 40 {
        0 => vec![O::Push(felt(p))],
        1 => vec![O::Pad],
        2 => vec![O::Drop],
        3 => vec![O::Dup0],
        4 => vec![O::Dup5],
        5 => vec![O::Dup15],
        6 => vec![O::Swap],
        7 => vec![O::SwapW],
        8 => vec![O::SwapDW],
        9 => vec![O::MovUp5],
        10 => vec![O::MovDn8],
        11 => vec![O::Add],
        12 => vec![O::Mul],
        13 => vec![O::Neg],
        14 => vec![O::Incr],
        15 => vec![O::Eq],
        16 => vec![O::Eqz],
        17 => vec![O::Inv],
        18 => vec![O::Push(felt(p & 1)), O::Not],
        19 => vec![O::Push(felt(p & 1)), O::Push(felt((p >> 1) & 1)), O::And],
        20 => vec![O::U32split],
        21 => vec![
            O::Push(felt(p as u32 as u64)),
            O::Push(felt(p >> 40)),
            O::U32add,
        ],
        22 => vec![
            O::Push(felt(p as u32 as u64)),
            O::Push(felt(p >> 40)),
            O::U32sub,
        ],
        23 => vec![
            O::Push(felt(p as u32 as u64)),
            O::Push(felt(p >> 40)),
            O::U32mul,
        ],
        24 => vec![
            O::Push(felt(p as u32 as u64)),
            O::Push(felt(p >> 40)),
            O::U32div,
        ],
        25 => vec![
            O::Push(felt(p as u32 as u64)),
            O::Push(felt(p >> 33)),
            O::U32xor,
        ],
        26 => vec![O::Push(felt(small)), O::MStore],
        27 => vec![O::Push(felt(small)), O::MLoad],
        28 => vec![O::Push(felt(small & !3)), O::MStoreW],
        29 => vec![O::Push(felt(small & !3)), O::MLoadW],
        30 => vec![O::HPerm],
        31 => vec![O::AdvPop],
        32 => vec![O::SDepth],
        33 => vec![O::Clk],
        34 => vec![O::Ext2Mul],
        35 => vec![O::Expacc],
        36 => vec![O::Push(felt(p & 1)), O::CSwapW],
        37 => vec![
            O::Push(felt(p)),
            O::Push(felt(p)),
            O::Push(felt(p)),
            O::Push(felt(p)),
        ],
        38 => vec![O::Drop, O::Drop, O::Drop],
        _ => vec![O::U32assert2(felt(7))],
    };
    out.extend(ops);
}

fn tree() -> impl Strategy<Value = Tree> {
    let leaf = prop::collection::vec((any::<u8>(), any::<u64>()), 1..40).prop_map(Tree::Block);
    leaf.prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Tree::Join(Box::new(a), Box::new(b))),
            (any::<bool>(), inner.clone(), inner.clone()).prop_map(|(c, a, b)| Tree::Split(
                c,
                Box::new(a),
                Box::new(b)
            )),
            (0u8..4, inner.clone()).prop_map(|(n, body)| Tree::Loop(n, Box::new(body))),
            inner.prop_map(|t| Tree::Call(Box::new(t))),
        ]
    })
}

fn block(b: &mut MastForestBuilder, ops: &[Operation]) -> MastNodeId {
    b.add_block(ops).expect("non-empty block")
}

/// Builds `tree`; `level` picks the memory cell of loop counters so nested loops don't clash.
fn build(b: &mut MastForestBuilder, tree: &Tree, level: u64) -> MastNodeId {
    use Operation as O;
    match tree {
        Tree::Block(snippets) => {
            let mut ops = Vec::new();
            for &(k, p) in snippets {
                snippet(k, p, &mut ops);
            }
            block(b, &ops)
        }
        Tree::Join(x, y) => {
            let (x, y) = (build(b, x, level), build(b, y, level));
            b.add_join(x, y).expect("join")
        }
        Tree::Split(c, x, y) => {
            let (x, y) = (build(b, x, level), build(b, y, level));
            let split = b.add_split(x, y).expect("split");
            let cond = block(b, &[O::Push(felt(u64::from(*c)))]);
            b.add_join(cond, split).expect("join")
        }
        Tree::Loop(n, body) => {
            let cell = felt(1000 + level);
            let init = block(
                b,
                &[
                    O::Push(felt(u64::from(*n))),
                    O::Push(cell),
                    O::MStore,
                    O::Drop,
                ],
            );
            // cond = (counter != 0), then the body decrements the counter.
            let check = [O::Push(cell), O::MLoad, O::Eqz, O::Not];
            let test = block(b, &check);
            let body = build(b, body, level + 1);
            let mut dec = vec![O::Push(cell), O::MLoad, O::Push(-Felt::new(1)), O::Add];
            dec.extend([O::Push(cell), O::MStore, O::Drop]);
            dec.extend(check);
            let dec = block(b, &dec);
            let body = b.add_join(body, dec).expect("join");
            let lp = b.add_loop(body).expect("loop");
            let head = b.add_join(init, test).expect("join");
            b.add_join(head, lp).expect("join")
        }
        Tree::Call(callee) => {
            let callee = build(b, callee, level);
            let callee = drain(b, callee);
            b.make_root(callee).expect("root");
            b.add_call(callee).expect("call")
        }
    }
}

/// `node` followed by a loop that drops elements until the depth is 16, so that programs (and
/// callees) usually end with a valid depth.
fn drain(b: &mut MastForestBuilder, node: MastNodeId) -> MastNodeId {
    use Operation as O;
    let check = [O::SDepth, O::Push(felt(16)), O::Eq, O::Not];
    let test = block(b, &check);
    let mut body = vec![O::Drop];
    body.extend(check);
    let body = block(b, &body);
    let lp = b.add_loop(body).expect("loop");
    let tail = b.add_join(test, lp).expect("join");
    b.add_join(node, tail).expect("join")
}

fn program_of(tree: &Tree) -> Program {
    let mut b = MastForestBuilder::new();
    let root = build(&mut b, tree, 0);
    let root = drain(&mut b, root);
    b.make_root(root).expect("root");
    let forest = Arc::new(b.build());
    Program::new(forest, root, Kernel::default()).expect("valid program")
}

/// Compares both processors; returns whether the program succeeded.
fn compare(tree: &Tree, inputs: &[u64], max_cycles: u32) -> Result<bool, String> {
    let program = program_of(tree);
    let stack =
        StackInputs::new(&inputs.iter().copied().map(felt).collect::<Vec<_>>()).expect("16 inputs");
    let advice = AdviceInputs::default().with_stack((0..64).map(felt));
    let options = ExecutionOptions::with_max_cycles(max_cycles);
    let fast = FastProcessor::new(stack, advice.clone(), options)
        .execute(&program, &mut DefaultHost::new());
    let reference =
        weft_reference::execute(&program, stack, advice, &mut DefaultHost::new(), options);
    match (fast, reference) {
        (Ok(f), Ok(r)) => {
            if f.stack_outputs != r.stack_outputs || f.n_cycles as usize != r.n_cycles {
                return Err(format!(
                    "outputs differ: fast {:?} in {}, reference {:?} in {}",
                    f.stack_outputs, f.n_cycles, r.stack_outputs, r.n_cycles
                ));
            }
            return Ok(true);
        }
        (Err(f), Err(r)) => {
            if f.kind() != r.kind() || f.clk() != r.clk() {
                return Err(format!("errors differ: fast {f:?}, reference {r:?}"));
            }
        }
        (f, r) => {
            return Err(format!(
                "outcomes differ: fast {:?}, reference {:?}",
                f.map(|o| o.n_cycles),
                r.map(|o| o.n_cycles)
            ));
        }
    }
    Ok(false)
}

/// The generator is not degenerate: a fair share of random programs run to completion (the
/// others fail on operand checks, which are compared too).
#[test]
fn generator_produces_successful_programs() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut n_ok, n) = (0, 300);
    for _ in 0..n {
        let t = tree().new_tree(&mut runner).expect("tree").current();
        if compare(&t, &[1, 2, 3], 1 << 20).expect("processors agree") {
            n_ok += 1;
        }
    }
    println!("random programs: {n_ok} of {n} succeed");
    assert!(n_ok * 5 >= n, "only {n_ok} of {n} random programs succeed");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn random_programs_match_reference(
        tree in tree(),
        inputs in prop::collection::vec(0u64..(1 << 40), 0..16),
    ) {
        compare(&tree, &inputs, 1 << 20).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn random_programs_match_reference_under_cycle_limits(
        tree in tree(),
        limit in 1u32..400,
    ) {
        compare(&tree, &[], limit).map_err(TestCaseError::fail)?;
    }
}

#[test]
fn deep_stack_and_calls_match_reference() {
    use Operation as O;
    let mut ops = vec![O::Push(felt(3)); 3000];
    ops.extend(vec![O::Add; 2990]);
    let pushes = Tree::Block((0..200).map(|i| (0, i)).collect());
    let drops = Tree::Block((0..300).map(|_| (2, 0)).collect());
    let tree = Tree::Join(
        Box::new(pushes),
        Box::new(Tree::Call(Box::new(Tree::Join(
            Box::new(drops),
            Box::new(Tree::Block(vec![(0, 5)])),
        )))),
    );
    compare(&tree, &[1, 2, 3], 1 << 20).expect("deep stack with a call");
    let mut b = MastForestBuilder::new();
    let root = b.add_block(&ops).expect("block");
    b.make_root(root).expect("root");
    let program = Program::new(Arc::new(b.build()), root, Kernel::default()).expect("program");
    let out = FastProcessor::new(
        StackInputs::default(),
        AdviceInputs::default(),
        ExecutionOptions::default(),
    )
    .execute(&program, &mut DefaultHost::new());
    assert!(matches!(
        out,
        Err(weft_host::ExecutionError::OutputStackOverflow { depth: 26 })
    ));
}

/// A tracer that fails at the first `END` row, or stops the run before clock cycle `stop`.
struct FailingTracer {
    stop: Option<u32>,
    n_rows: u32,
}

impl crate::Tracer for FailingTracer {
    type Error = weft_host::ExecutionError;

    fn stop_before(&self, clk: u32) -> bool {
        self.stop == Some(clk)
    }

    fn row_started(&mut self, _state: crate::RowState<'_>) {
        self.n_rows += 1;
    }

    fn control_exit(&mut self, _node: crate::NodeRef) -> Result<(), Self::Error> {
        Err(weft_host::ExecutionError::FailedToExecuteProgram(
            "the tracer failed",
        ))
    }
}

/// A tracer's failure ends the run with that failure, and a tracer that stops a plain
/// execution makes it an error, not a result of a partial run.
#[test]
fn a_failing_or_stopping_tracer_ends_the_execution_with_an_error() {
    use weft_host::ExecutionError;
    let program = program_of(&Tree::Block(vec![(0, 5), (0, 7)]));
    let run = |stop| {
        let mut tracer = FailingTracer { stop, n_rows: 0 };
        let result = FastProcessor::new(
            StackInputs::default(),
            AdviceInputs::default(),
            ExecutionOptions::default(),
        )
        .execute_with_tracer(&program, &mut DefaultHost::new(), &mut tracer);
        (result.map(|o| o.n_cycles), tracer.n_rows)
    };
    let (result, n_rows) = run(None);
    assert!(
        matches!(
            result,
            Err(ExecutionError::FailedToExecuteProgram("the tracer failed"))
        ),
        "{result:?}"
    );
    // The outer join's start row, the block's SPAN row, its operations (two pushes and padding)
    // and its END row, where the tracer fails.
    assert!(n_rows >= 4, "{n_rows} rows");
    let (result, n_rows) = run(Some(2));
    assert!(
        matches!(
            result,
            Err(ExecutionError::FailedToExecuteProgram(
                "the tracer stopped the execution before its end"
            ))
        ),
        "{result:?}"
    );
    assert_eq!(n_rows, 2, "rows started before the stop");
}
