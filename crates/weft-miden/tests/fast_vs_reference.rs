//! Differential tests of weft's fast processor against weft's reference processor and upstream
//! 0.20.6, on every program of `programs/` and `workloads/` (and the shared corpus when present): the same stack outputs and
//! cycle counts on success, the same error kind and clock cycle on failure.

mod common;

use weft_fast::FastProcessor;
use weft_host::{ExecutionError, ExecutionOptions};
use weft_upstream::{LoadedProgram, ProgramInputs, host::weft_host, load_program};

/// The outcome of one run, reduced to what the processors are compared on.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Ok {
        stack: [u64; 16],
        n_cycles: u64,
    },
    Err {
        kind: weft_host::ErrorKind,
        clk: Option<u32>,
    },
}

fn reduce_err(e: &ExecutionError) -> Outcome {
    Outcome::Err {
        kind: e.kind(),
        clk: e.clk(),
    }
}

fn run_fast(program: &LoadedProgram, options: ExecutionOptions) -> Outcome {
    let mut host = weft_host(program.weft_kernel_forest.as_ref()).expect("a host");
    let processor = FastProcessor::new(
        program.inputs.weft_stack_inputs(),
        program.inputs.weft_advice_inputs(),
        options,
    );
    match processor.execute(&program.weft, &mut host) {
        Ok(out) => Outcome::Ok {
            stack: out.stack_outputs.to_ints(),
            n_cycles: u64::from(out.n_cycles),
        },
        Err(e) => reduce_err(&e),
    }
}

fn run_reference(program: &LoadedProgram, options: ExecutionOptions) -> Outcome {
    let mut host = weft_host(program.weft_kernel_forest.as_ref()).expect("a host");
    match weft_reference::execute(
        &program.weft,
        program.inputs.weft_stack_inputs(),
        program.inputs.weft_advice_inputs(),
        &mut host,
        options,
    ) {
        Ok(out) => Outcome::Ok {
            stack: out.stack_outputs.to_ints(),
            n_cycles: out.n_cycles as u64,
        },
        Err(e) => reduce_err(&e),
    }
}

fn load_all() -> Vec<(String, LoadedProgram)> {
    common::all_programs()
        .into_iter()
        .map(|p| {
            let loaded = load_program(&p.path).unwrap_or_else(|e| panic!("{}: {e}", p.name));
            (p.name, loaded)
        })
        .collect()
}

#[test]
fn fast_matches_reference_and_upstream_on_every_program() {
    let programs = load_all();
    let mut problems = Vec::new();
    let (mut n_ok, mut n_err) = (0, 0);
    for (name, program) in &programs {
        let options = ExecutionOptions::default();
        let fast = run_fast(program, options);
        let reference = run_reference(program, options);
        if fast != reference {
            problems.push(format!("{name}: fast {fast:?} vs reference {reference:?}"));
        }
        let extra: Vec<_> = program.kernel_forest.iter().cloned().collect();
        let upstream = weft_miden::run_upstream(&program.upstream, &program.inputs, &extra);
        match (&upstream, &fast) {
            (Ok(run), Outcome::Ok { stack, n_cycles }) => {
                n_ok += 1;
                let up: Vec<u64> = run.stack_outputs.iter().map(|f| f.as_int()).collect();
                if up != stack.to_vec() {
                    problems.push(format!("{name}: stack {stack:?} vs upstream {up:?}"));
                }
                let _ = n_cycles;
            }
            (Err(_), Outcome::Err { .. }) => n_err += 1,
            (up, fast) => problems.push(format!(
                "{name}: outcome differs from upstream: fast {fast:?}, upstream ok = {}",
                up.is_ok()
            )),
        }
    }
    println!(
        "fast vs reference vs upstream: {} programs ({n_ok} succeed, {n_err} fail), {} problems",
        programs.len(),
        problems.len()
    );
    assert!(problems.is_empty(), "{problems:#?}");
}

/// A loaded program from MASM source with `inputs`.
fn from_source(source: &str, inputs: ProgramInputs) -> LoadedProgram {
    weft_upstream::load_source(source, None, inputs)
        .unwrap_or_else(|e| panic!("{source} does not assemble: {e}"))
}

/// The Merkle operations on a sound store and on one with a forged parent (a node whose
/// children in the store do not hash to it): the fast processor checks paths level by level
/// where it can, and must give upstream's answer (which hashes the whole chain) everywhere. The
/// reference is compared with upstream on all columns (or error kind and cycle), the fast
/// processor with the reference.
#[test]
fn merkle_operations_match_on_sound_and_forged_stores() {
    use miden_core::{
        Felt, Word,
        crypto::{
            hash::Rpo256,
            merkle::{InnerNodeInfo, MerkleStore, MerkleTree},
        },
    };
    let word = |v: u64| {
        Word::new([
            Felt::new(v),
            Felt::new(v + 1),
            Felt::new(v + 2),
            Felt::new(v + 3),
        ])
    };
    let tree = MerkleTree::new((0..8).map(|i| word(10 * i)).collect::<Vec<_>>()).expect("tree");
    let mut sound = MerkleStore::default();
    sound.extend(tree.inner_nodes());
    // The store says root = (forged, b), but root is the hash of (a, b).
    let (a, forged, b) = (word(1), word(100), word(7));
    let forged_root = Rpo256::merge(&[a, b]);
    let mut forged_store = MerkleStore::default();
    forged_store.extend([InnerNodeInfo {
        value: forged_root,
        left: forged,
        right: b,
    }]);
    // Operand stacks bottom first: the word below, the root, then the top elements.
    let stack = |below: &[Word], root: Word, top: &[u64]| {
        let mut values: Vec<Felt> = below.iter().flat_map(|w| w.iter().copied()).collect();
        values.extend(root.iter().copied());
        values.extend(top.iter().copied().map(Felt::new));
        values
    };
    let words = |w: Word| w.iter().map(|f| f.as_int()).collect::<Vec<_>>();
    let mut cases: Vec<(String, &str, MerkleStore, Vec<Felt>)> = Vec::new();
    for (depth, index) in [(1, 1), (2, 2), (3, 0), (3, 5), (3, 7)] {
        cases.push((
            format!("sound mtree_get d{depth} i{index}"),
            "begin mtree_get swapw dropw end",
            sound.clone(),
            stack(&[], tree.root(), &[index, depth]),
        ));
        let node = sound
            .get_node(
                tree.root(),
                miden_core::crypto::merkle::NodeIndex::new(depth as u8, index).expect("index"),
            )
            .expect("node");
        for (what, value) in [("its node", node), ("another node", word(3))] {
            let mut top = vec![index, depth];
            top.extend(words(value));
            cases.push((
                format!("sound mtree_verify d{depth} i{index} {what}"),
                "begin mtree_verify end",
                sound.clone(),
                stack(&[], tree.root(), &top),
            ));
        }
        if depth > 0 {
            for (what, value) in [("a new value", word(77)), ("the same value", node)] {
                // Below the operands, the depth and index again, for a lookup in the new tree.
                let mut operands = vec![Felt::new(depth), Felt::new(index)];
                operands.extend(stack(&[value], tree.root(), &[index, depth]));
                cases.push((
                    format!("sound mtree_set d{depth} i{index} {what}, then mtree_get"),
                    "begin mtree_set dropw movup.5 movup.5 swap mtree_get swapw dropw end",
                    sound.clone(),
                    operands,
                ));
            }
        }
    }
    for index in [0, 1] {
        cases.push((
            format!("forged mtree_get i{index}"),
            "begin mtree_get swapw dropw end",
            forged_store.clone(),
            stack(&[], forged_root, &[index, 1]),
        ));
    }
    for (what, value) in [("the hashed child", a), ("the stored child", forged)] {
        let mut top = vec![0, 1];
        top.extend(words(value));
        cases.push((
            format!("forged mtree_verify {what}"),
            "begin mtree_verify end",
            forged_store.clone(),
            stack(&[], forged_root, &top),
        ));
    }
    let mut problems = Vec::new();
    // Upstream's sequential processor asserts that an update's old path reaches the root (it
    // panics on a forged store), where its fast processor fails with a path verification error:
    // weft follows the latter, so these are compared with the reference only.
    for index in [0, 1] {
        let inputs = ProgramInputs {
            operand_stack: stack(&[word(77)], forged_root, &[index, 1]),
            merkle_store: forged_store.clone(),
            ..ProgramInputs::default()
        };
        let program = from_source("begin mtree_set end", inputs);
        let fast = run_fast(&program, ExecutionOptions::default());
        let reference = run_reference(&program, ExecutionOptions::default());
        let verification_failed = matches!(
            fast,
            Outcome::Err {
                kind: weft_host::ErrorKind::MerklePathVerificationFailed,
                ..
            }
        );
        if !verification_failed || fast != reference {
            problems.push(format!(
                "forged mtree_set i{index}: fast {fast:?}, reference {reference:?}"
            ));
        }
    }
    let mut upstream_ok = Vec::new();
    for (name, source, store, operand_stack) in cases {
        let inputs = ProgramInputs {
            operand_stack,
            merkle_store: store,
            ..ProgramInputs::default()
        };
        let program = from_source(source, inputs);
        let comparison = weft_miden::compare_program(&name, &program);
        problems.extend(comparison.mismatches.iter().map(|m| format!("{name}: {m}")));
        upstream_ok.push((name.clone(), comparison.upstream.is_ok()));
        let fast = run_fast(&program, ExecutionOptions::default());
        let reference = run_reference(&program, ExecutionOptions::default());
        if fast != reference {
            problems.push(format!("{name}: fast {fast:?} vs reference {reference:?}"));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    // The cases reach both answers, the forged store's included.
    let ok = |name: &str| {
        upstream_ok
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, ok)| *ok)
    };
    assert_eq!(ok("forged mtree_verify the hashed child"), Some(true));
    assert_eq!(ok("forged mtree_verify the stored child"), Some(false));
    assert_eq!(ok("sound mtree_verify d3 i5 another node"), Some(false));
    assert_eq!(
        ok("sound mtree_set d3 i5 a new value, then mtree_get"),
        Some(true)
    );
}

#[test]
fn cycle_limit_matches_reference() {
    let programs = load_all();
    let mut problems = Vec::new();
    for (name, program) in programs.iter().take(40) {
        let full = run_reference(program, ExecutionOptions::default());
        let Outcome::Ok { n_cycles, .. } = full else {
            continue;
        };
        for limit in [n_cycles.saturating_sub(1), n_cycles / 2, n_cycles, 64] {
            let options = ExecutionOptions::with_max_cycles(limit as u32);
            let fast = run_fast(program, options);
            let reference = run_reference(program, options);
            if fast != reference {
                problems.push(format!("{name} limit {limit}: {fast:?} vs {reference:?}"));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn execute_for_trace_fragments_round_trip_on_every_program() {
    let programs = load_all();
    let (mut total_bytes, mut total_cycles, mut merkle_paths) = (0usize, 0u64, 0usize);
    let mut problems = Vec::new();
    for (name, program) in &programs {
        let plain = run_fast(program, ExecutionOptions::default());
        let Outcome::Ok { stack, n_cycles } = plain else {
            continue;
        };
        let mut concatenated = Vec::new();
        for size in [5u32, 64, 4096] {
            let mut host = weft_host(program.weft_kernel_forest.as_ref()).expect("a host");
            let (out, contexts) = weft_replay::execute_for_trace(
                &program.weft,
                program.inputs.weft_stack_inputs(),
                program.inputs.weft_advice_inputs(),
                &mut host,
                size,
            )
            .unwrap_or_else(|e| panic!("{name}: {e}"));
            if out.stack_outputs.to_ints() != stack || u64::from(out.n_cycles) != n_cycles {
                problems.push(format!("{name} size {size}: outputs differ from execute"));
            }
            let expected = (n_cycles as u32).div_ceil(size) as usize;
            if contexts.fragments.len() != expected {
                problems.push(format!(
                    "{name} size {size}: {} fragments, expected {expected}",
                    contexts.fragments.len()
                ));
            }
            for (i, fragment) in contexts.fragments.iter().enumerate() {
                if fragment.state.clk != i as u32 * size {
                    problems.push(format!("{name} size {size}: fragment {i} starts late"));
                }
                let bytes = fragment.to_bytes();
                if size == 4096 {
                    total_bytes += bytes.len();
                }
                let back = weft_replay::FragmentContext::from_bytes(&bytes).expect("decodes");
                if &back != fragment {
                    problems.push(format!(
                        "{name} size {size}: fragment {i} does not round-trip"
                    ));
                }
            }
            if size == 4096 {
                total_cycles += n_cycles;
                merkle_paths += check_path_rounds(name, &contexts, &mut problems);
            }
            concatenated.push(concatenate(&contexts));
        }
        if concatenated.windows(2).any(|w| w[0] != w[1]) {
            problems.push(format!("{name}: replay logs depend on the fragment size"));
        }
    }
    println!(
        "fragment contexts at 4096 rows: {total_bytes} bytes for {total_cycles} cycles = {:.3} bytes per recorded cycle",
        total_bytes as f64 / total_cycles.max(1) as f64
    );
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(
        merkle_paths >= 3,
        "the programs verify and update Merkle paths"
    );
}

/// The round states the recording kept for each Merkle path it hashed (`MPVERIFY`'s path,
/// `MRUPDATE`'s old path) are those of hashing the path again, one per level; returns the
/// number of paths checked (those of depth one or more).
fn check_path_rounds(
    name: &str,
    contexts: &weft_replay::TraceContexts,
    problems: &mut Vec<String>,
) -> usize {
    use weft_core::{Felt, rpo};
    use weft_replay::HasherRequest;
    let hash_path = |leaf: &[u64; 4], mut index: u64, path: &[[u64; 4]]| {
        let mut node = *leaf;
        let mut rounds = Vec::new();
        for sibling in path {
            let (a, b) = if index & 1 == 0 {
                (node, *sibling)
            } else {
                (*sibling, node)
            };
            let mut state = [Felt::new(0); 12];
            for (i, v) in a.iter().chain(&b).enumerate() {
                state[4 + i] = Felt::new(*v);
            }
            let mut level = [[Felt::new(0); 12]; 7];
            rpo::permute_rounds(&mut state, &mut level);
            rounds.push(level);
            node = core::array::from_fn(|i| state[4 + i].as_int());
            index >>= 1;
        }
        rounds
    };
    let mut checked = 0;
    for request in &contexts.chiplets.hasher.requests {
        let (kept, expected) = match request {
            HasherRequest::MerkleVerify(r) => {
                (r.rounds(), hash_path(r.leaf(), r.index(), r.path()))
            }
            HasherRequest::MerkleUpdate(r) => {
                (r.old_rounds(), hash_path(r.old(), r.index(), r.path()))
            }
            _ => continue,
        };
        if kept != expected.as_slice() {
            problems.push(format!("{name}: a Merkle path's kept round states differ"));
        }
        checked += usize::from(!expected.is_empty());
    }
    checked
}

/// The hasher logs: block addresses, permutations, Merkle roots.
type HasherLogs = (Vec<u32>, Vec<(u32, [u64; 12])>, Vec<(u32, [u64; 4])>);

/// Every replay log of every fragment, concatenated in order: must not depend on where the
/// fragment boundaries fall (nothing lost or duplicated at a boundary).
fn concatenate(contexts: &weft_replay::TraceContexts) -> String {
    let mut advice: Vec<u64> = Vec::new();
    let mut memory: (Vec<u64>, Vec<[u64; 4]>) = (Vec::new(), Vec::new());
    let mut hasher: HasherLogs = (Vec::new(), Vec::new(), Vec::new());
    let mut external: Vec<weft_replay::Resolution> = Vec::new();
    for f in &contexts.fragments {
        advice.extend(f.advice.values.iter().copied());
        memory.0.extend(f.memory.elements.iter().copied());
        memory.1.extend(f.memory.words.iter().copied());
        hasher.0.extend(f.hasher.block_addrs.iter().copied());
        hasher.1.extend(f.hasher.permutations.iter().copied());
        hasher.2.extend(f.hasher.merkle_roots.iter().copied());
        external.extend(f.external.resolutions.iter().copied());
    }
    format!(
        "{advice:?} {memory:?} {hasher:?} {external:?} {:?}",
        contexts.forests
    )
}
