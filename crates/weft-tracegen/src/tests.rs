//! Trace generation against the reference processor on hand-built programs, at every fragment
//! size from 1 to 64 and at sizes beyond the trace, plus malformed contexts.

use std::sync::Arc;

use rstest::rstest;
use weft_core::{
    Felt, Operation,
    main_trace::{MainTrace, first_difference},
};
use weft_host::{AdviceInputs, DefaultHost, ExecutionOptions, StackInputs};
use weft_mast::{Kernel, MastForestBuilder, MastNodeId, Program};
use weft_replay::{TraceContexts, execute_for_trace};

use crate::{FragmentError, ReplayLog, TraceGenError, build_trace};

fn felt(v: u64) -> Felt {
    Felt::new(v)
}

/// A program with a multi-batch block, a loop over a memory counter whose body is a join, a
/// split, a call and a syscall into a kernel procedure, hashing and advice pops.
pub(crate) fn sample_program() -> Program {
    use Operation as O;
    let mut b = MastForestBuilder::new();
    let mut long = Vec::new();
    for i in 0..40u64 {
        long.push(O::Push(felt(i * 7 + 1)));
        long.push(O::Add);
        if i % 5 == 0 {
            long.push(O::Pad);
            long.push(O::Drop);
        }
    }
    let long = b.add_block(&long).expect("block");
    let cell = felt(64);
    let init = b
        .add_block(&[O::Push(felt(5)), O::Push(cell), O::MStore, O::Drop])
        .expect("block");
    let check = [O::Push(cell), O::MLoad, O::Eqz, O::Not];
    let test = b.add_block(&check).expect("block");
    let mut dec = vec![O::Push(cell), O::MLoad, O::Push(-felt(1)), O::Add];
    dec.extend([O::Push(cell), O::MStore, O::Drop]);
    dec.extend(check);
    let dec = b.add_block(&dec).expect("block");
    let work = b
        .add_block(&[O::HPerm, O::AdvPop, O::Add, O::U32split, O::Drop, O::Swap])
        .expect("block");
    let body = b.add_join(work, dec).expect("join");
    let lp = b.add_loop(body).expect("loop");
    let head = b.add_join(init, test).expect("join");
    let looped = b.add_join(head, lp).expect("join");

    let callee = b
        .add_block(&[O::Push(felt(3)), O::Mul, O::Pad, O::Drop, O::Clk, O::Drop])
        .expect("block");
    b.make_root(callee).expect("root");
    let call = b.add_call(callee).expect("call");
    let kernel_proc = b
        .add_block(&[O::Push(felt(9)), O::Add, O::Caller])
        .expect("block");
    b.make_root(kernel_proc).expect("root");
    let syscall = b.add_syscall(kernel_proc).expect("syscall");
    let t = b.add_block(&[O::Incr]).expect("block");
    let f = b.add_block(&[O::Neg]).expect("block");
    let split = b.add_split(t, f).expect("split");
    let cond = b.add_block(&[O::Push(felt(1))]).expect("block");
    let branch = b.add_join(cond, split).expect("join");

    let a = b.add_join(long, looped).expect("join");
    let c = b.add_join(call, syscall).expect("join");
    let d = b.add_join(c, branch).expect("join");
    let root = b.add_join(a, d).expect("join");
    let root = drain(&mut b, root);
    b.make_root(root).expect("root");
    let forest = b.build();
    let kernel_digest = forest[kernel_proc].digest();
    Program::new(
        Arc::new(forest),
        root,
        Kernel::new(&[kernel_digest]).expect("kernel"),
    )
    .expect("program")
}

/// `node` followed by a loop dropping elements until the depth is 16.
fn drain(b: &mut MastForestBuilder, node: MastNodeId) -> MastNodeId {
    use Operation as O;
    let check = [O::SDepth, O::Push(felt(16)), O::Eq, O::Not];
    let test = b.add_block(&check).expect("block");
    let mut body = vec![O::Drop];
    body.extend(check);
    let body = b.add_block(&body).expect("block");
    let lp = b.add_loop(body).expect("loop");
    let tail = b.add_join(test, lp).expect("join");
    b.add_join(node, tail).expect("join")
}

fn advice() -> AdviceInputs {
    AdviceInputs::default().with_stack((0..64).map(|i| felt(i * 3 + 2)))
}

fn reference_trace(program: &Program) -> MainTrace {
    weft_reference::execute(
        program,
        StackInputs::try_from_ints([1, 2, 3]).expect("inputs"),
        advice(),
        &mut DefaultHost::new(),
        ExecutionOptions::default(),
    )
    .expect("the reference runs the program")
    .trace
}

pub(crate) fn contexts(
    program: &Program,
    fragment_size: u32,
) -> (Vec<Arc<weft_mast::MastForest>>, TraceContexts) {
    let (output, contexts) = execute_for_trace(
        program,
        StackInputs::try_from_ints([1, 2, 3]).expect("inputs"),
        advice(),
        &mut DefaultHost::new(),
        fragment_size,
    )
    .expect("the fast processor runs the program");
    (output.forests, contexts)
}

fn check(program: &Program, expected: &MainTrace, fragment_size: u32) {
    let (forests, contexts) = contexts(program, fragment_size);
    let found = build_trace(&forests, &contexts).expect("trace builds");
    if let Some(diff) = first_difference(expected, &found) {
        panic!("fragment size {fragment_size}: {diff}");
    }
}

#[test]
fn every_fragment_size_up_to_64_matches_the_reference() {
    let program = sample_program();
    let expected = reference_trace(&program);
    for size in 1..=64 {
        check(&program, &expected, size);
    }
}

#[rstest]
#[case(127)]
#[case(1000)]
#[case(4096)]
#[case(1 << 20)]
fn large_fragment_sizes_match_the_reference(#[case] size: u32) {
    let program = sample_program();
    check(&program, &reference_trace(&program), size);
}

#[cfg(feature = "concurrent")]
#[test]
fn a_boundary_at_every_row_matches_on_a_second_thread_count() {
    let program = sample_program();
    let expected = reference_trace(&program);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool");
    pool.install(|| check(&program, &expected, 3));
}

/// A build into a reused buffer writes every cell, the zeros a fresh (zeroed) buffer may leave
/// alone included: over a buffer whose every cell holds another value, the reference's trace.
#[test]
fn a_build_into_a_buffer_full_of_other_values_matches_the_reference() {
    let program = sample_program();
    let expected = reference_trace(&program);
    let (forests, contexts) = contexts(&program, 16);
    let first = build_trace(&forests, &contexts).expect("trace builds");
    let rows = first.num_rows();
    let mut buffer = first.into_buffer().expect("built in one buffer");
    let cells = buffer.capacity();
    for cell in buffer.uninit_mut(0, cells) {
        cell.write(felt(0xdead_beef));
    }
    let stride = cells / weft_core::main_trace::TRACE_WIDTH;
    // SAFETY: every cell was written just now.
    let mut reused =
        unsafe { MainTrace::from_buffer(buffer, stride, rows) }.expect("the columns fit");
    crate::build_trace_into(&forests, &contexts, &mut reused).expect("trace builds");
    if let Some(diff) = first_difference(&expected, &reused) {
        panic!("{diff}");
    }
}

/// A count down from `n`: a loop of `n` iterations (a trace of about `7n` rows).
fn countdown(n: u64) -> Program {
    use Operation as O;
    let mut b = MastForestBuilder::new();
    let init = b
        .add_block(&[O::Push(felt(n)), O::Dup0, O::Eqz, O::Not])
        .expect("block");
    let body = b
        .add_block(&[O::Push(felt(1)), O::Neg, O::Add, O::Dup0, O::Eqz, O::Not])
        .expect("block");
    let lp = b.add_loop(body).expect("loop");
    let counted = b.add_join(init, lp).expect("join");
    let root = drain(&mut b, counted);
    b.make_root(root).expect("root");
    Program::new(Arc::new(b.build()), root, Kernel::default()).expect("program")
}

/// A fresh build takes a dropped buffer's mapping from the cache when one fits (here, the only
/// one of its size or more in this test's process, unless another test took it first): its
/// cells still hold the old values, and every one of them is written again.
#[test]
fn a_build_after_a_dropped_buffer_full_of_other_values_matches_the_reference() {
    let program = countdown(1500);
    let expected = reference_trace(&program);
    assert!(expected.num_rows() >= 8192, "large enough to be mapped");
    let cells = 2 * expected.num_rows() * weft_core::main_trace::TRACE_WIDTH;
    let mut old = weft_core::main_trace::ColumnBuffer::new(cells);
    for cell in old.uninit_mut(0, cells) {
        cell.write(felt(0xdead_beef));
    }
    drop(old);
    check(&program, &expected, 1024);
}

/// The build run region by region writes the reference's trace, and its timings cover every
/// region with the rows the summary gives.
#[test]
fn a_profiled_build_matches_the_reference_and_times_every_region() {
    let program = sample_program();
    let expected = reference_trace(&program);
    let (forests, contexts) = contexts(&program, 16);
    let (found, profile) = crate::profile_build(&forests, &contexts).expect("trace builds");
    if let Some(diff) = first_difference(&expected, &found) {
        panic!("{diff}");
    }
    let names: Vec<_> = profile.regions.iter().map(|r| r.region).collect();
    assert_eq!(
        names,
        [
            "first_touch",
            "core",
            "hasher",
            "bitwise",
            "memory",
            "ace+kernel_rom",
            "core_padding",
            "range",
            "chiplet_padding"
        ]
    );
    let s = profile.summary;
    let len = found.num_rows();
    assert_eq!(len, s.trace_len());
    let rows = |name: &str| {
        profile
            .regions
            .iter()
            .find(|r| r.region == name)
            .map(|r| r.rows)
    };
    assert_eq!(rows("core"), Some(s.core_rows + 1));
    assert_eq!(rows("hasher"), Some(s.hasher_rows));
    assert!(s.hasher_rows > 0, "the sample program hashes");
    assert_eq!(rows("memory"), Some(s.memory_rows));
    assert_eq!(rows("core_padding"), Some(len - s.core_rows - 1));
    assert_eq!(rows("range"), Some(len));
    assert_eq!(
        rows("chiplet_padding"),
        Some(len - 1 - s.chiplet_starts()[5])
    );
    let regions_s: f64 = profile.regions.iter().map(|r| r.seconds).sum();
    assert!(
        regions_s <= profile.total_s,
        "{regions_s} > {}",
        profile.total_s
    );

    // Folding keeps each region's least time: a slower copy changes nothing, a faster one
    // replaces it.
    let mut fastest = Vec::new();
    profile.fold_fastest_into(&mut fastest);
    assert_eq!(fastest, profile.regions);
    let mut other = profile.clone();
    for (k, r) in other.regions.iter_mut().enumerate() {
        r.seconds = if k % 2 == 0 {
            r.seconds + 1.0
        } else {
            r.seconds / 2.0
        };
    }
    other.fold_fastest_into(&mut fastest);
    for (k, (kept, first)) in fastest.iter().zip(&profile.regions).enumerate() {
        let expected = if k % 2 == 0 {
            first.seconds
        } else {
            first.seconds / 2.0
        };
        assert_eq!((kept.region, kept.seconds), (first.region, expected));
    }
}

/// Permutations whose round states the recording kept and permutations read back from bytes
/// (which have none and are computed again) give the same trace, the reference's.
#[test]
fn kept_and_recomputed_permutation_rounds_give_the_same_trace() {
    let program = sample_program();
    let expected = reference_trace(&program);
    let (forests, recorded) = contexts(&program, 16);
    let kept = recorded
        .chiplets
        .hasher
        .requests
        .iter()
        .filter(|r| matches!(r, weft_replay::HasherRequest::Permute(p) if p.rounds().is_some()))
        .count();
    assert!(kept > 0, "the sample program permutes");
    let mut read = recorded.clone();
    read.chiplets =
        weft_replay::ChipletsReplay::from_bytes(&recorded.chiplets.to_bytes()).expect("decodes");
    for contexts in [&recorded, &read] {
        let found = build_trace(&forests, contexts).expect("trace builds");
        if let Some(diff) = first_difference(&expected, &found) {
            panic!("{diff}");
        }
    }
}

#[test]
fn malformed_contexts_are_errors() {
    let program = sample_program();
    let (forests, good) = contexts(&program, 16);

    assert!(matches!(
        build_trace(&forests[..0], &good),
        Err(TraceGenError::ForestCount { .. })
    ));

    let mut c = good.clone();
    c.fragment_size = 0;
    assert!(matches!(
        build_trace(&forests, &c),
        Err(TraceGenError::ZeroFragmentSize)
    ));

    let mut c = good.clone();
    c.fragments.pop();
    assert!(matches!(
        build_trace(&forests, &c),
        Err(TraceGenError::FragmentCount { .. })
    ));

    let mut c = good.clone();
    c.n_cycles = u32::MAX;
    assert!(matches!(
        build_trace(&forests, &c),
        Err(TraceGenError::TooManyCycles { .. })
    ));

    let mut c = good.clone();
    c.fragments[1].state.clk += 1;
    assert!(matches!(
        build_trace(&forests, &c),
        Err(TraceGenError::FragmentStart { .. })
    ));

    // Every fragment with an emptied log must fail on that log, never panic.
    for i in 0..good.fragments.len() {
        let mut c = good.clone();
        let f = &mut c.fragments[i];
        let had_any = !f.advice.values.is_empty()
            || !f.memory.elements.is_empty()
            || !f.hasher.block_addrs.is_empty()
            || !f.hasher.permutations.is_empty();
        f.advice.values.clear();
        f.memory.elements.clear();
        f.hasher.block_addrs.clear();
        f.hasher.permutations.clear();
        let result = build_trace(&forests, &c);
        if had_any {
            assert!(
                matches!(
                    result,
                    Err(TraceGenError::Fragment {
                        source: FragmentError::ReplayExhausted(_),
                        ..
                    })
                ),
                "fragment {i}: {result:?}"
            );
        }
    }

    // Nodes outside their forest and broken stacks are inconsistencies.
    let mut c = good.clone();
    if let Some(weft_fast::Continuation::Start(node)) =
        c.fragments[2].state.continuations.last_mut()
    {
        node.node = u32::MAX;
    }
    c.fragments[2].state.row = weft_fast::RowAt::Start(weft_fast::NodeRef { forest: 7, node: 0 });
    assert!(matches!(
        build_trace(&forests, &c),
        Err(TraceGenError::Fragment {
            fragment: 2,
            source: FragmentError::Inconsistent(_)
        })
    ));
    let mut c = good;
    c.fragments[1].state.overflow_clks.push(3);
    assert!(matches!(
        build_trace(&forests, &c),
        Err(TraceGenError::Fragment {
            fragment: 1,
            source: FragmentError::Inconsistent(_)
        })
    ));
}

/// Contexts decoded from corrupted bytes build a trace or fail with an error, never panic.
#[test]
fn corrupted_serialized_contexts_never_panic() {
    let program = sample_program();
    let (forests, good) = contexts(&program, 8);
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let (mut decoded, mut built) = (0, 0);
    for _ in 0..3000 {
        let i = (next() % good.fragments.len() as u64) as usize;
        let mut bytes = good.fragments[i].to_bytes();
        for _ in 0..1 + next() % 3 {
            let at = (next() % bytes.len() as u64) as usize;
            bytes[at] ^= 1 << (next() % 8);
        }
        let Ok(fragment) = weft_replay::FragmentContext::from_bytes(&bytes) else {
            continue;
        };
        decoded += 1;
        let mut c = good.clone();
        c.fragments[i] = fragment;
        if build_trace(&forests, &c).is_ok() {
            built += 1;
        }
    }
    assert!(decoded > 100, "only {decoded} corrupted contexts decoded");
    println!("{decoded} corrupted contexts decoded, {built} still built a trace");
}

/// A loop whose body writes and reads back a memory word, hashes and pops its next condition
/// from the advice stack (run with the advice `1, 1, 1, 0`: three iterations).
fn word_reading_program() -> Program {
    use Operation as O;
    let mut b = MastForestBuilder::new();
    let cell = felt(8);
    let mut ops = vec![
        O::Push(felt(1)),
        O::Push(felt(2)),
        O::Push(felt(3)),
        O::Push(felt(4)),
    ];
    ops.extend([O::Push(cell), O::MStoreW, O::Push(cell), O::MLoadW]);
    ops.extend([O::Drop, O::Drop, O::Drop, O::Drop]);
    ops.extend([O::Pad; 12]);
    ops.push(O::HPerm);
    ops.extend([O::Drop; 12]);
    ops.push(O::AdvPop);
    let body = b.add_block(&ops).expect("block");
    let lp = b.add_loop(body).expect("loop");
    let enter = b.add_block(&[O::AdvPop]).expect("block");
    let root = b.add_join(enter, lp).expect("join");
    let root = drain(&mut b, root);
    b.make_root(root).expect("root");
    Program::new(Arc::new(b.build()), root, Kernel::default()).expect("program")
}

/// Cuts the last entry off `log` of `fragment`; returns whether there was one.
fn cut_log(fragment: &mut weft_replay::FragmentContext, log: ReplayLog) -> bool {
    match log {
        ReplayLog::Advice => fragment.advice.values.pop().is_some(),
        ReplayLog::MemoryElement => fragment.memory.elements.pop().is_some(),
        ReplayLog::MemoryWord => fragment.memory.words.pop().is_some(),
        ReplayLog::BlockAddress => fragment.hasher.block_addrs.pop().is_some(),
        ReplayLog::Permutation => fragment.hasher.permutations.pop().is_some(),
        ReplayLog::MerkleRoot => fragment.hasher.merkle_roots.pop().is_some(),
        ReplayLog::Resolution => fragment.external.resolutions.pop().is_some(),
    }
}

/// A log cut short by one entry in any fragment is that log's typed replay error, from the
/// fragment that needed the entry: no panic, no trace.
#[rstest]
#[case::sample(
    sample_program(),
    advice(),
    &[ReplayLog::Advice, ReplayLog::MemoryElement, ReplayLog::BlockAddress, ReplayLog::Permutation]
)]
#[case::words(
    word_reading_program(),
    AdviceInputs::default().with_stack([1, 1, 1, 0].map(felt)),
    &[ReplayLog::Advice, ReplayLog::MemoryWord, ReplayLog::BlockAddress, ReplayLog::Permutation]
)]
fn a_log_cut_short_is_a_replay_error_of_that_log(
    #[case] program: Program,
    #[case] advice: AdviceInputs,
    #[case] logs: &[ReplayLog],
) {
    let inputs = |fragment_size| {
        execute_for_trace(
            &program,
            StackInputs::try_from_ints([1, 2, 3]).expect("inputs"),
            advice.clone(),
            &mut DefaultHost::new(),
            fragment_size,
        )
    };
    for fragment_size in [5, 16, 1 << 20] {
        let (output, good) = match inputs(fragment_size) {
            Ok(run) => run,
            Err(e) => panic!("the program runs: {e}"),
        };
        let forests = output.forests;
        build_trace(&forests, &good).expect("the uncut contexts build");
        for &log in logs {
            let mut n_cut = 0;
            for i in 0..good.fragments.len() {
                let mut c = good.clone();
                if !cut_log(&mut c.fragments[i], log) {
                    continue;
                }
                n_cut += 1;
                let result = build_trace(&forests, &c);
                assert!(
                    matches!(
                        &result,
                        Err(TraceGenError::Fragment {
                            fragment,
                            source: FragmentError::ReplayExhausted(found),
                        }) if *fragment == i && *found == log
                    ),
                    "size {fragment_size}, fragment {i}, {log} log cut: {result:?}"
                );
            }
            assert!(
                n_cut > 0,
                "size {fragment_size}: no fragment uses the {log} log"
            );
        }
    }
}
