//! Unit tests of the reference processor on hand-built forests: trace shape and padding, decoder
//! columns of simple blocks, stack overflow bookkeeping, and the error paths that need a host or
//! options (cycle limit, kernel, external nodes, dynamic targets, events, decorators).
//! Column-by-column agreement with upstream is tested in `weft-miden`.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use rstest::rstest;
use weft_core::{
    Felt, ONE, Operation, Word, ZERO,
    trace::{CLK_COL_IDX, CORE_TRACE_WIDTH, DECODER_TRACE_OFFSET, STACK_TRACE_OFFSET, decoder},
};
use weft_host::{
    AdviceInputs, AdviceMutation, AdviceProvider, DefaultHost, ErrorKind, EventError, EventId,
    ExecutionOptions, Host, ProcessView, StackInputs,
};
use weft_mast::{
    DebugOptions, Decorator, Kernel, MastForest, MastForestBuilder, MastNodeId, Program,
};

use crate::{ReferenceOutput, execute, padded_len};

fn felt(v: u64) -> Felt {
    Felt::new(v)
}

/// Builds a program whose entry is made by `build` (which also returns the entry node).
fn program(build: impl FnOnce(&mut MastForestBuilder) -> MastNodeId, kernel: Kernel) -> Program {
    let mut builder = MastForestBuilder::new();
    let entry = build(&mut builder);
    builder.make_root(entry).expect("root");
    Program::new(Arc::new(builder.build()), entry, kernel).expect("program")
}

fn block_program(ops: &[Operation]) -> Program {
    program(|b| b.add_block(ops).expect("block"), Kernel::default())
}

fn run(program: &Program, stack: &[u64]) -> Result<ReferenceOutput, weft_host::ExecutionError> {
    run_with(
        program,
        stack,
        &mut DefaultHost::new(),
        ExecutionOptions::default(),
    )
}

fn run_with(
    program: &Program,
    stack: &[u64],
    host: &mut impl Host,
    options: ExecutionOptions,
) -> Result<ReferenceOutput, weft_host::ExecutionError> {
    let stack: Vec<Felt> = stack.iter().copied().map(felt).collect();
    execute(
        program,
        StackInputs::new(&stack).expect("stack"),
        AdviceInputs::default(),
        host,
        options,
    )
}

fn dec(row: &[Felt; CORE_TRACE_WIDTH], col: usize) -> u64 {
    row[DECODER_TRACE_OFFSET + col].as_int()
}

fn opcode(row: &[Felt; CORE_TRACE_WIDTH]) -> u8 {
    (0..7).fold(0, |acc, i| {
        acc | ((dec(row, decoder::OP_BITS_OFFSET + i) as u8) << i)
    })
}

#[test]
fn single_block_trace_shape() {
    let program = block_program(&[Operation::Add, Operation::Push(felt(7)), Operation::Mul]);
    let out = run(&program, &[2, 3]).expect("runs");
    // SPAN, ADD, PUSH, MUL, END: one op group plus one group for the immediate.
    assert_eq!(out.n_cycles, 5);
    assert_eq!(out.core.num_rows(), 64);
    assert_eq!(out.trace.num_rows(), out.summary.trace_len());
    assert_eq!(
        out.trace.num_rows(),
        64,
        "a short program's whole trace is 64 rows"
    );
    assert_eq!(out.stack_outputs.get(0), Some(felt(35)));
    let codes: Vec<u8> = (0..8).map(|i| opcode(&out.core.row(i))).collect();
    assert_eq!(codes, vec![86, 34, 91, 35, 112, 124, 124, 124]);
    for i in 0..64 {
        assert_eq!(out.core.get(i, CLK_COL_IDX), felt(i as u64));
    }
    let span = out.core.row(0);
    assert_eq!(dec(&span, decoder::ADDR_COL_IDX), 0);
    assert_eq!(dec(&span, decoder::GROUP_COUNT_COL_IDX), 2);
    let add = out.core.row(1);
    assert_eq!(
        dec(&add, decoder::ADDR_COL_IDX),
        1,
        "first hashed block gets address 1"
    );
    assert_eq!(dec(&add, decoder::IN_SPAN_COL_IDX), 1);
    assert_eq!(dec(&add, decoder::GROUP_COUNT_COL_IDX), 1);
    let noop = out.core.row(3);
    assert_eq!(
        dec(&noop, decoder::GROUP_COUNT_COL_IDX),
        0,
        "the immediate's group is used"
    );
    let end = out.core.row(5);
    assert_eq!(
        &end[DECODER_TRACE_OFFSET + decoder::HASHER_STATE_OFFSET..][..4],
        program.hash().as_elements()
    );
    // HALT rows: final stack state, program hash in h0..h3, e1 = 1.
    let halt = out.core.row(5);
    assert_eq!(halt[STACK_TRACE_OFFSET], felt(35));
    assert_eq!(dec(&halt, decoder::OP_BITS_EXTRA_COLS_OFFSET + 1), 1);
    assert_eq!(
        &halt[DECODER_TRACE_OFFSET + decoder::HASHER_STATE_OFFSET..][..4],
        program.hash().as_elements()
    );
    assert_eq!(out.core.row(63)[STACK_TRACE_OFFSET], felt(35));
}

#[rstest]
#[case(0, 64)]
#[case(62, 64)]
#[case(63, 64)]
#[case(64, 128)]
#[case(200, 256)]
fn padded_length_rule(#[case] n_cycles: usize, #[case] len: usize) {
    assert_eq!(padded_len(n_cycles), len);
}

#[test]
fn overflow_columns_track_pushes() {
    let program = block_program(&[
        Operation::Pad,
        Operation::Pad,
        Operation::Drop,
        Operation::Drop,
    ]);
    let out = run(&program, &[]).expect("runs");
    let b0 = |row: usize| out.core.get(row, STACK_TRACE_OFFSET + 16).as_int();
    let b1 = |row: usize| out.core.get(row, STACK_TRACE_OFFSET + 17).as_int();
    let h0 = |row: usize| out.core.get(row, STACK_TRACE_OFFSET + 18);
    // Rows: 0 SPAN, 1 PAD (clk 1), 2 PAD (clk 2), 3 DROP, 4 DROP, 5 END.
    assert_eq!((b0(1), b1(1)), (16, 0));
    assert_eq!((b0(2), b1(2)), (17, 1));
    assert_eq!((b0(3), b1(3)), (18, 2));
    assert_eq!((b0(4), b1(4)), (17, 1));
    assert_eq!((b0(5), b1(5)), (16, 0));
    assert_eq!(h0(3), felt(2).inv_or_zero());
    assert_eq!(h0(5), ZERO);
}

trait InvOrZero {
    fn inv_or_zero(self) -> Self;
}

impl InvOrZero for Felt {
    fn inv_or_zero(self) -> Self {
        weft_core::FieldElement::inv(self)
    }
}

#[test]
fn cycle_limit_is_enforced() {
    let program = block_program(&[Operation::Noop; 10]);
    let options = ExecutionOptions {
        max_cycles: 5,
        ..ExecutionOptions::default()
    };
    let err = run_with(&program, &[], &mut DefaultHost::new(), options).expect_err("too long");
    assert_eq!(err.kind(), ErrorKind::CycleLimitExceeded);
    let exact = ExecutionOptions {
        max_cycles: 12,
        ..ExecutionOptions::default()
    };
    assert!(run_with(&program, &[], &mut DefaultHost::new(), exact).is_ok());
}

#[rstest]
#[case::inv_zero(&[Operation::Pad, Operation::Inv], ErrorKind::DivideByZero, 2)]
#[case::assert(&[Operation::Pad, Operation::Assert(felt(9))], ErrorKind::FailedAssertion, 2)]
#[case::not_u32(&[Operation::Push(felt(1 << 40)), Operation::U32add], ErrorKind::NotU32Values, 2)]
#[case::advice(&[Operation::AdvPop], ErrorKind::AdviceStackReadFailed, 1)]
#[case::unaligned(&[Operation::Push(felt(1)), Operation::MLoadW], ErrorKind::UnalignedWordAccess, 2)]
#[case::output(&[Operation::Pad], ErrorKind::OutputStackOverflow, u32::MAX)]
fn op_errors_have_kind_and_clk(
    #[case] ops: &[Operation],
    #[case] kind: ErrorKind,
    #[case] clk: u32,
) {
    let err = run(&block_program(ops), &[]).expect_err("fails");
    assert_eq!(err.kind(), kind, "{err}");
    if clk != u32::MAX {
        assert_eq!(err.clk(), Some(clk), "{err}");
    }
}

#[test]
fn syscall_checks_the_kernel() {
    let build = |b: &mut MastForestBuilder| {
        let callee = b.add_block(&[Operation::Noop]).expect("block");
        b.make_root(callee).expect("root");
        b.add_syscall(callee).expect("syscall")
    };
    let err = run(&program(build, Kernel::default()), &[]).expect_err("not in kernel");
    assert_eq!(err.kind(), ErrorKind::SyscallTargetNotInKernel);
    let mut probe = MastForestBuilder::new();
    let callee = probe.add_block(&[Operation::Noop]).expect("block");
    let digest = probe.build()[callee].digest();
    let kernel = Kernel::new(&[digest]).expect("kernel");
    let out = run(&program(build, kernel), &[]).expect("in kernel");
    // SYSCALL, SPAN, NOOP, END, END.
    assert_eq!(out.n_cycles, 5);
}

#[test]
fn call_switches_context_and_restores_it() {
    let build = |b: &mut MastForestBuilder| {
        let callee = b
            .add_block(&[Operation::Push(felt(5)), Operation::Drop])
            .expect("block");
        b.make_root(callee).expect("root");
        let call = b.add_call(callee).expect("call");
        let after = b.add_block(&[Operation::Incr]).expect("block");
        b.add_join(call, after).expect("join")
    };
    let out = run(&program(build, Kernel::default()), &[1, 2]).expect("runs");
    let ctx = |row: usize| out.core.get(row, 1).as_int();
    // Rows: 0 JOIN, 1 CALL, 2 SPAN, 3 PUSH, 4 DROP, 5 END, 6 END (of the call), 7 SPAN...
    assert_eq!(ctx(1), 0);
    assert_eq!(ctx(2), 2, "the new context is the CALL row's clk + 1");
    assert_eq!(ctx(6), 2);
    assert_eq!(ctx(7), 0);
    assert_eq!(out.stack_outputs.get(0), Some(felt(2)));
}

#[test]
fn external_nodes_resolve_through_the_host() {
    let mut lib = MastForestBuilder::new();
    let proc_id = lib.add_block(&[Operation::Incr]).expect("block");
    lib.make_root(proc_id).expect("root");
    let lib = Arc::new(lib.build());
    let digest = lib[proc_id].digest();

    let external = program(
        |b| b.add_external(digest).expect("external"),
        Kernel::default(),
    );
    let err = run(&external, &[]).expect_err("unknown procedure");
    assert_eq!(err.kind(), ErrorKind::NoMastForestWithProcedure);

    let mut host = DefaultHost::new();
    host.load_forest(Arc::clone(&lib));
    let out = run_with(&external, &[4], &mut host, ExecutionOptions::default()).expect("runs");
    let inline = run(
        &Program::new(lib, proc_id, Kernel::default()).expect("program"),
        &[4],
    )
    .expect("runs");
    assert_eq!(
        out.n_cycles, inline.n_cycles,
        "an external node costs no row"
    );
    assert_eq!(out.stack_outputs, inline.stack_outputs);
}

#[test]
fn circular_external_node_is_an_error() {
    let target = Word::from([felt(1), felt(2), felt(3), felt(4)]);
    let mut lib = MastForestBuilder::new();
    let ext = lib.add_external(target).expect("external");
    lib.make_root(ext).expect("root");
    let mut host = DefaultHost::new();
    host.load_forest(Arc::new(lib.build()));
    let program = program(
        |b| b.add_external(target).expect("external"),
        Kernel::default(),
    );
    let err =
        run_with(&program, &[], &mut host, ExecutionOptions::default()).expect_err("circular");
    assert_eq!(err.kind(), ErrorKind::CircularExternalNode);
}

#[test]
fn dyn_target_must_exist() {
    let build = |b: &mut MastForestBuilder| {
        let store = b
            .add_block(&[
                Operation::Push(felt(9)),
                Operation::Pad,
                Operation::MStore,
                Operation::Drop,
                Operation::Pad,
            ])
            .expect("block");
        let dyn_node = b.add_dyn().expect("dyn");
        b.add_join(store, dyn_node).expect("join")
    };
    let err = run(&program(build, Kernel::default()), &[]).expect_err("no such target");
    assert_eq!(err.kind(), ErrorKind::DynamicNodeNotFound);
}

/// A host that counts events and debug/trace callbacks, and pushes 42 on every event.
#[derive(Default)]
struct CountingHost {
    events: AtomicUsize,
    debugs: usize,
    traces: usize,
}

impl Host for CountingHost {
    fn get_mast_forest(&self, _digest: &Word) -> Option<Arc<MastForest>> {
        None
    }

    fn on_event(
        &mut self,
        event: EventId,
        process: &dyn ProcessView,
        _advice: &AdviceProvider,
    ) -> Result<Vec<AdviceMutation>, EventError> {
        assert_eq!(process.stack_item(0), event.as_felt());
        self.events.fetch_add(1, Ordering::Relaxed);
        Ok(vec![AdviceMutation::extend_stack([felt(42)])])
    }

    fn on_debug(
        &mut self,
        _process: &dyn ProcessView,
        _options: &DebugOptions,
    ) -> Result<(), EventError> {
        self.debugs += 1;
        Ok(())
    }

    fn on_trace(&mut self, _process: &dyn ProcessView, _trace_id: u32) -> Result<(), EventError> {
        self.traces += 1;
        Ok(())
    }
}

#[test]
fn events_go_to_the_host_and_mutate_advice() {
    let program = block_program(&[
        Operation::Push(felt(12345)),
        Operation::Emit,
        Operation::Drop,
        Operation::AdvPop,
        Operation::Swap,
        Operation::Drop,
    ]);
    let mut host = CountingHost::default();
    let out = run_with(&program, &[], &mut host, ExecutionOptions::default()).expect("runs");
    assert_eq!(host.events.load(Ordering::Relaxed), 1);
    assert_eq!(out.stack_outputs.get(0), Some(felt(42)));
    let err = run(&program, &[]).expect_err("no handler in the default host");
    assert_eq!(err.kind(), ErrorKind::EventError);
}

#[test]
fn system_events_are_handled_by_the_vm() {
    let id = weft_host::SystemEvent::U32Clz.event_id().as_felt();
    let program = block_program(&[
        Operation::Push(felt(1 << 20)),
        Operation::Push(id),
        Operation::Emit,
        Operation::Drop,
        Operation::Drop,
        Operation::AdvPop,
        Operation::Swap,
        Operation::Drop,
    ]);
    let out = run(&program, &[]).expect("runs");
    assert_eq!(out.stack_outputs.get(0), Some(felt(11)));
}

#[test]
fn decorators_run_only_when_enabled() {
    let build = |b: &mut MastForestBuilder| {
        let debug = b
            .add_decorator(Decorator::Debug(DebugOptions::StackAll))
            .expect("decorator");
        let trace = b.add_decorator(Decorator::Trace(3)).expect("decorator");
        let block = b.add_block(&[Operation::Noop]).expect("block");
        b.decorate(block, &[debug], &[trace]).expect("decorate");
        block
    };
    let program = program(build, Kernel::default());
    let mut host = CountingHost::default();
    run_with(&program, &[], &mut host, ExecutionOptions::default()).expect("runs");
    assert_eq!((host.debugs, host.traces), (0, 0));
    let options = ExecutionOptions {
        enable_debugging: true,
        ..ExecutionOptions::default()
    };
    run_with(&program, &[], &mut host, options).expect("runs");
    assert_eq!((host.debugs, host.traces), (1, 0));
    let options = ExecutionOptions {
        enable_tracing: true,
        ..ExecutionOptions::default()
    };
    run_with(&program, &[], &mut host, options).expect("runs");
    assert_eq!((host.debugs, host.traces), (2, 1));
}

#[test]
fn loops_repeat_and_split_branches() {
    // An if.true that pushes the loop condition, then while (top) { counter -= 1; top = counter != 0 }
    // with a counter of 3: LOOP, body x3, REPEAT x2, END.
    let build = |b: &mut MastForestBuilder| {
        let body = b
            .add_block(&[
                Operation::Push(felt(1)),
                Operation::Neg,
                Operation::Add,
                Operation::Dup0,
                Operation::Eqz,
                Operation::Not,
            ])
            .expect("block");
        let lp = b.add_loop(body).expect("loop");
        let t = b.add_block(&[Operation::Push(ONE)]).expect("block");
        let f = b.add_block(&[Operation::Pad]).expect("block");
        let split = b.add_split(t, f).expect("split");
        let prep = b.add_block(&[Operation::Push(ONE)]).expect("block");
        let tail = b.add_join(split, lp).expect("join");
        b.add_join(prep, tail).expect("join")
    };
    let out = run(&program(build, Kernel::default()), &[3, 1]).expect("runs");
    let repeats = (0..out.n_cycles)
        .filter(|&i| opcode(&out.core.row(i)) == 116)
        .count();
    assert_eq!(repeats, 2);
    assert_eq!(out.stack_outputs.get(0), Some(felt(0)));
}
