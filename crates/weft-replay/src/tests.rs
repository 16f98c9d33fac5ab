//! Fragment structure, serialization round trips and the hasher replay decision.

use std::sync::Arc;

use weft_core::{Felt, Operation};
use weft_fast::{FastProcessor, RowAt};
use weft_host::{AdviceInputs, DefaultHost, ExecutionOptions, StackInputs};
use weft_mast::{Kernel, MastForestBuilder, Program};

use crate::{FragmentContext, execute_for_trace};

fn felt(v: u64) -> Felt {
    Felt::new(v)
}

/// A program with a loop (counter in memory), memory reads, advice pops, permutations, a call
/// and a multi-batch block.
fn sample_program() -> Program {
    use Operation as O;
    let mut b = MastForestBuilder::new();
    let init = b
        .add_block(&[
            O::Push(felt(5)),
            O::Push(felt(100)),
            O::MStore,
            O::Drop,
            O::Push(felt(1)),
        ])
        .expect("block");
    let mut body_ops = vec![O::AdvPop, O::HPerm, O::Drop];
    body_ops.extend(vec![O::Push(felt(9)); 70]);
    body_ops.extend(vec![O::Drop; 70]);
    body_ops.extend([
        O::Push(felt(100)),
        O::MLoad,
        O::Push(-felt(1)),
        O::Add,
        O::Push(felt(100)),
        O::MStore,
        O::Drop,
        O::Push(felt(100)),
        O::MLoad,
        O::Eqz,
        O::Not,
    ]);
    let body = b.add_block(&body_ops).expect("block");
    let lp = b.add_loop(body).expect("loop");
    let callee = b
        .add_block(&[
            O::Push(felt(0)),
            O::MLoadW,
            O::Drop,
            O::Drop,
            O::Drop,
            O::Drop,
        ])
        .expect("block");
    b.make_root(callee).expect("root");
    let call = b.add_call(callee).expect("call");
    let head = b.add_join(init, lp).expect("join");
    let root = b.add_join(head, call).expect("join");
    b.make_root(root).expect("root");
    Program::new(Arc::new(b.build()), root, Kernel::default()).expect("program")
}

fn advice() -> AdviceInputs {
    AdviceInputs::default().with_stack((0..32).map(felt))
}

#[test]
fn fragments_cover_every_row_and_round_trip() {
    let program = sample_program();
    let plain = FastProcessor::new(
        StackInputs::default(),
        advice(),
        ExecutionOptions::default(),
    )
    .execute(&program, &mut DefaultHost::new())
    .expect("runs");
    for size in [1u32, 2, 3, 7, 16, 64, 1 << 16] {
        let (out, contexts) = execute_for_trace(
            &program,
            StackInputs::default(),
            advice(),
            &mut DefaultHost::new(),
            size,
        )
        .expect("runs");
        assert_eq!(out.stack_outputs, plain.stack_outputs);
        assert_eq!(out.n_cycles, plain.n_cycles);
        let n = plain.n_cycles.div_ceil(size);
        assert_eq!(contexts.fragments.len() as u32, n, "size {size}");
        for (i, fragment) in contexts.fragments.iter().enumerate() {
            assert_eq!(fragment.state.clk, i as u32 * size);
            let bytes = fragment.to_bytes();
            let back = FragmentContext::from_bytes(&bytes).expect("decodes");
            assert_eq!(&back, fragment);
        }
        let advice_total: usize = contexts
            .fragments
            .iter()
            .map(|f| f.advice.values.len())
            .sum();
        assert_eq!(advice_total, 5);
        let perms: usize = contexts
            .fragments
            .iter()
            .map(|f| f.hasher.permutations.len())
            .sum();
        assert_eq!(perms, 5);
        assert_eq!(
            contexts.fragments[0].state.row,
            RowAt::Start(weft_fast::NodeRef {
                forest: 0,
                node: program.entrypoint().as_u32(),
            })
        );
    }
}

#[test]
fn truncated_bytes_are_an_error() {
    let program = sample_program();
    let (_, contexts) = execute_for_trace(
        &program,
        StackInputs::default(),
        advice(),
        &mut DefaultHost::new(),
        8,
    )
    .expect("runs");
    let bytes = contexts.fragments[3].to_bytes();
    assert!(FragmentContext::from_bytes(&bytes[..bytes.len() / 2]).is_err());
}

#[test]
fn permutations_keep_their_round_states_until_serialized() {
    use crate::{ChipletsReplay, HasherRequest};
    let (_, contexts) = execute_for_trace(
        &sample_program(),
        StackInputs::default(),
        advice(),
        &mut DefaultHost::new(),
        64,
    )
    .expect("runs");
    let permutations = |chiplets: &ChipletsReplay| -> Vec<_> {
        chiplets
            .hasher
            .requests
            .iter()
            .filter_map(|r| match r {
                HasherRequest::Permute(p) => Some((**p).clone()),
                _ => None,
            })
            .collect()
    };
    let recorded = permutations(&contexts.chiplets);
    assert!(recorded.len() >= 5, "the loop permutes on every iteration");
    for request in &recorded {
        let mut state = request.input().map(felt);
        let mut rounds = [[felt(0); 12]; 7];
        weft_core::rpo::permute_rounds(&mut state, &mut rounds);
        assert_eq!(request.rounds(), Some(&rounds));
    }
    let read = ChipletsReplay::from_bytes(&contexts.chiplets.to_bytes()).expect("decodes");
    let read = permutations(&read);
    assert_eq!(read, recorded, "the same requests");
    assert!(
        read.iter().all(|r| r.rounds().is_none()),
        "round states are not serialized"
    );
}
