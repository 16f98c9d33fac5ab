//! Smoke tests of weft's reference processor against upstream's sequential processor on small
//! programs that exercise the exotic operations (FRI folding, Horner evaluation, Merkle paths,
//! streaming, precompile logging, circuit evaluation) and the error paths, each compared on all
//! 49 core columns (or on error kind and clock cycle).

use miden_core::{
    Felt, Word,
    crypto::merkle::{MerkleStore, MerkleTree},
};
use weft_miden::compare_program;
use weft_upstream::ProgramInputs;

fn felts(values: &[u64]) -> Vec<Felt> {
    values.iter().copied().map(Felt::new).collect()
}

/// Inputs with the operand stack given top first.
fn stack_top_first(values: &[u64]) -> ProgramInputs {
    let mut operand_stack = felts(values);
    operand_stack.reverse();
    ProgramInputs {
        operand_stack,
        ..ProgramInputs::default()
    }
}

/// Assembles `source`, runs it on both processors and returns the comparison's problems, plus
/// whether upstream succeeded.
fn check(name: &str, source: &str, inputs: ProgramInputs) -> (bool, Vec<String>) {
    let loaded = weft_upstream::load_source(source, None, inputs)
        .unwrap_or_else(|e| panic!("{name} does not assemble: {e}"));
    let comparison = compare_program(name, &loaded);
    if let Err(failure) = &comparison.upstream {
        println!(
            "{name}: upstream fails with {} at clk {}",
            failure.error, failure.clk
        );
    }
    (
        comparison.upstream.is_ok(),
        comparison
            .mismatches
            .iter()
            .map(ToString::to_string)
            .collect(),
    )
}

fn assert_matches(name: &str, source: &str, inputs: ProgramInputs, upstream_ok: bool) {
    let (ok, problems) = check(name, source, inputs);
    assert!(problems.is_empty(), "{name}: {problems:#?}");
    assert_eq!(ok, upstream_ok, "{name}: upstream outcome");
}

#[test]
fn simple_programs_match() {
    for source in [
        "begin push.12345678901234 u32split push.18446744069414584320 u32split drop drop drop drop end",
        "begin push.1 push.2 push.3 push.4 push.5 push.6 push.7 push.8 push.1 cswapw push.0 cswapw dropw dropw end",
        "begin push.1.2.3.4 push.5.6.7.8 log_precompile log_precompile dropw dropw dropw end",
        "begin push.1 push.2 push.3 hperm drop drop drop end",
        "begin push.3.4.5.6 ext2mul drop drop drop drop end",
        "begin push.1 push.2 push.3 drop push.4 drop drop drop add add end",
    ] {
        assert_matches(source, source, ProgramInputs::default(), true);
    }
}

#[test]
fn frie2f4_matches() {
    for d_seg in 0..4 {
        check_frie2f4(d_seg);
    }
}

fn check_frie2f4(d_seg: u64) {
    // s0..s7: query values v7..v0; values[d] = (v_{2d}, v_{2d+1}) = (s[7-2d], s[6-2d]).
    let mut top = vec![
        11, 12, 13, 14, 15, 16, 17, 18, 5, d_seg, 7, 0, 0, 21, 22, 64,
    ];
    let d = d_seg as usize;
    top[12] = top[7 - 2 * d];
    top[11] = top[6 - 2 * d];
    assert_matches(
        "frie2f4",
        "begin fri_ext2fold4 end",
        stack_top_first(&top),
        true,
    );
    // With an element in the overflow table, which the left shift pulls into s15.
    assert_matches(
        "frie2f4_overflow",
        "begin push.64 movdn.15 fri_ext2fold4 end",
        stack_top_first(&top[..15]),
        true,
    );
}

#[test]
fn frie2f4_errors_match() {
    let top = [11, 12, 13, 14, 15, 16, 17, 18, 5, 4, 7, 0, 0, 21, 22, 64];
    assert_matches(
        "frie2f4_bad_segment",
        "begin fri_ext2fold4 end",
        stack_top_first(&top),
        false,
    );
    let top = [11, 12, 13, 14, 15, 16, 17, 18, 5, 0, 7, 99, 0, 21, 22, 64];
    assert_matches(
        "frie2f4_bad_folding",
        "begin fri_ext2fold4 end",
        stack_top_first(&top),
        false,
    );
}

#[test]
fn horner_matches() {
    let top = [1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 1000, 9, 10];
    let base = "begin push.7 push.1000 mem_store push.9 push.1001 mem_store horner_eval_base end";
    assert_matches("horner_base", base, stack_top_first(&top), true);
    let ext = "begin push.5.6.7.8 push.1000 mem_storew_be dropw horner_eval_ext end";
    assert_matches("horner_ext", ext, stack_top_first(&top), true);
    let unaligned = [1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 1001, 9, 10];
    assert_matches(
        "horner_ext_unaligned",
        "begin horner_eval_ext end",
        stack_top_first(&unaligned),
        false,
    );
}

#[test]
fn streams_match() {
    let mut top: Vec<u64> = (1..=12).collect();
    top.extend([8, 40, 0, 0]);
    let store =
        "begin push.1.2.3.4 push.8 mem_storew_be dropw push.5.6.7.8 push.12 mem_storew_be dropw";
    assert_matches(
        "crypto_stream",
        &format!("{store} crypto_stream crypto_stream end"),
        stack_top_first(&top),
        true,
    );
    assert_matches(
        "mem_stream",
        &format!("{store} mem_stream mem_stream end"),
        stack_top_first(&top),
        true,
    );
    let mut inputs = stack_top_first(&top);
    inputs.advice_stack = felts(&(100..116).collect::<Vec<_>>());
    assert_matches("adv_pipe", "begin adv_pipe adv_pipe end", inputs, true);
    let mut overlapping = top.clone();
    overlapping[13] = 12;
    assert_matches(
        "crypto_stream_overlap",
        "begin crypto_stream end",
        stack_top_first(&overlapping),
        false,
    );
}

fn merkle_inputs(bottom_first_prefix: &[Felt], tail: &[u64]) -> (ProgramInputs, MerkleTree) {
    let leaves: Vec<Word> = (0..8u64)
        .map(|i| {
            Word::from([
                Felt::new(i),
                Felt::new(i * 3),
                Felt::new(7),
                Felt::new(i + 100),
            ])
        })
        .collect();
    let tree = MerkleTree::new(leaves).expect("tree");
    let mut store = MerkleStore::default();
    store.extend(tree.inner_nodes());
    let mut operand_stack = bottom_first_prefix.to_vec();
    operand_stack.extend(tree.root().iter().copied());
    operand_stack.extend(felts(tail));
    (
        ProgramInputs {
            operand_stack,
            merkle_store: store,
            ..ProgramInputs::default()
        },
        tree,
    )
}

#[test]
fn merkle_ops_match() {
    // mtree_get: [d, i, R] -> [V, R].
    let (inputs, _) = merkle_inputs(&[], &[5, 3]);
    assert_matches("mtree_get", "begin mtree_get dropw end", inputs, true);
    // mtree_verify: [V, d, i, R] (MPVERIFY).
    let (probe, tree) = merkle_inputs(&[], &[]);
    let leaf = tree
        .get_node(miden_core::crypto::merkle::NodeIndex::new(3, 5).expect("index"))
        .expect("leaf");
    let mut tail = vec![5, 3];
    tail.extend(leaf.iter().map(|f| f.as_int()));
    let (inputs, _) = merkle_inputs(&[], &tail);
    assert_matches("mtree_verify", "begin mtree_verify end", inputs, true);
    let mut bad_tail = vec![5, 3];
    bad_tail.extend([1, 2, 3, 4]);
    let (inputs, _) = merkle_inputs(&[], &bad_tail);
    assert_matches(
        "mtree_verify_fails",
        "begin mtree_verify end",
        inputs,
        false,
    );
    drop(probe);
    // mtree_set: [d, i, R, V_new] -> [V_old, R_new] (MRUPDATE).
    let (inputs, _) = merkle_inputs(&felts(&[41, 42, 43, 44]), &[2, 3]);
    assert_matches("mtree_set", "begin mtree_set end", inputs, true);
    // A root that is not in the store.
    assert_matches(
        "mtree_get_missing",
        "begin mtree_get end",
        stack_top_first(&[3, 2, 1, 1, 1, 1]),
        false,
    );
}

#[test]
fn failures_match() {
    for source in [
        "begin push.0 inv end",
        "begin push.5 push.0 u32div end",
        "begin push.4294967296 push.1 u32assert2 end",
        "begin push.4294967296 push.1 u32overflowing_add end",
        "begin push.0 assert end",
        "begin push.2 push.1 and end",
        "begin push.2 if.true push.1 else push.2 end end",
        "begin push.3 while.true push.0 end end",
        "begin push.2 push.1 while.true nop end end",
        "begin push.2 mem_loadw_be end",
        "begin push.4294967296 mem_load end",
        "begin adv_push.1 end",
        "begin push.1 end",
        "begin push.1 push.2 push.3 cswap end",
    ] {
        assert_matches(source, source, ProgramInputs::default(), false);
    }
}

/// A circuit with inputs `a`, `b` (one word at address 0) and four gates at addresses 4..8:
/// `g1 = a - b`, `g2 = g1 * a`, `g3 = g2 + g1`, `g4 = g3 * b`; it evaluates to zero iff `a = b`.
fn circuit_program(a: u64, b: u64, n_read: u64, n_eval: u64, ptr: u64) -> String {
    let gate = |id_l: u64, id_r: u64, op: u64| id_l | (id_r << 30) | (op << 60);
    let gates = [gate(5, 4, 0), gate(3, 5, 1), gate(2, 3, 2), gate(1, 4, 1)];
    let mut source = format!("begin push.{a}.0.{b}.0 push.0 mem_storew_be dropw");
    for (i, g) in gates.iter().enumerate() {
        source.push_str(&format!(" push.{g} push.{} mem_store", 4 + i));
    }
    source.push_str(&format!(
        " push.{n_eval} push.{n_read} push.{ptr} eval_circuit drop drop drop end"
    ));
    source
}

#[test]
fn eval_circuit_matches() {
    let ok = circuit_program(3, 3, 2, 4, 0);
    assert_matches("eval_circuit", &ok, ProgramInputs::default(), true);
    for (name, source) in [
        ("eval_circuit_nonzero", circuit_program(3, 4, 2, 4, 0)),
        ("eval_circuit_odd_vars", circuit_program(3, 3, 3, 4, 0)),
        ("eval_circuit_bad_eval", circuit_program(3, 3, 2, 3, 0)),
        ("eval_circuit_unaligned", circuit_program(3, 3, 2, 4, 2)),
        ("eval_circuit_bad_wire", circuit_program(3, 3, 2, 8, 0)),
    ] {
        assert_matches(name, &source, ProgramInputs::default(), false);
    }
}

#[test]
fn core_library_handlers_match() {
    let falcon = "use miden::core::crypto::dsa::falcon512rpo
        begin push.5 push.123456 exec.falcon512rpo::mod_12289 drop end";
    assert_matches("falcon_div", falcon, ProgramInputs::default(), true);
    for value in [2, 3, 0, 9] {
        let find = format!(
            "use miden::core::collections::sorted_array
            begin
                push.1.1.1.1 push.0 mem_storew_be dropw
                push.2.2.2.2 push.4 mem_storew_be dropw
                push.5.5.5.5 push.8 mem_storew_be dropw
                push.12 push.0 push.{value}.{value}.{value}.{value}
                exec.sorted_array::find_word
                drop drop drop drop
            end"
        );
        assert_matches("find_word", &find, ProgramInputs::default(), true);
    }
}

#[test]
fn keccak_precompile_matches() {
    // Five bytes leave non-zero padding in the second element: the handler fails on both sides.
    for (n_bytes, ok) in [(0, true), (5, false), (32, true), (36, true), (37, true)] {
        let keccak = format!(
            "use miden::core::crypto::hashes::keccak256
            begin
                push.67305985.134678021.202050057.269422093 push.0 mem_storew_be dropw
                push.336794129.404166165.471538201.538910237 push.4 mem_storew_be dropw
                push.16843009.0.0.0 push.8 mem_storew_be dropw
                push.{n_bytes} push.0
                exec.keccak256::hash_bytes
                dropw dropw
            end"
        );
        assert_matches("keccak", &keccak, ProgramInputs::default(), ok);
    }
}
