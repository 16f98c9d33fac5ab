//! Differential tests of weft's fast processor against weft's reference processor and upstream
//! 0.20.6, on every program of `programs/` and `workloads/` (and the shared corpus when present): the same stack outputs and
//! cycle counts on success, the same error kind and clock cycle on failure.

mod common;

use weft_fast::FastProcessor;
use weft_host::{ExecutionError, ExecutionOptions};
use weft_upstream::{LoadedProgram, host::weft_host, load_program};

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
