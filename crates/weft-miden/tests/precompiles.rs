//! The core library's event handlers: weft registers one for every event upstream 0.20.6's
//! core library handles, and the precompiles leave what upstream leaves: the same precompile
//! requests (event and call data, which a verifier re-runs later), the same advice stack and
//! the same transcript, on the programs that call them.

use miden_processor::fast::FastProcessor as UpstreamFast;
use weft_host::{DefaultHost, EventId, ExecutionOptions};
use weft_miden::upstream::{block_on, stack_bottom_first};
use weft_upstream::{host::weft_host, load_program};

#[test]
fn every_core_library_event_has_a_weft_handler() {
    let upstream = weft_upstream::host::core_library().handlers();
    assert!(
        upstream.len() >= 10,
        "upstream registers {}",
        upstream.len()
    );
    let mut host = DefaultHost::with_core_lib_handlers();
    let mut missing = Vec::new();
    for (name, _) in &upstream {
        let id = EventId::from_name(name.as_str());
        assert_eq!(
            id.as_u64(),
            name.to_event_id().as_felt().as_int(),
            "{name}: weft's event id differs from upstream's"
        );
        // Unregistering answers whether a handler was there.
        if !host.unregister_handler(id) {
            missing.push(name.as_str().to_string());
        }
    }
    assert!(missing.is_empty(), "no weft handler for {missing:?}");
}

/// One program's precompile requests, final advice stack and transcript, on both sides.
#[derive(Debug, PartialEq, Eq)]
struct Leftovers {
    requests: Vec<(u64, Vec<u8>)>,
    advice_stack: Vec<u64>,
    transcript: [u64; 4],
}

fn words(word: [weft_core::Felt; 4]) -> [u64; 4] {
    word.map(|f| f.as_int())
}

fn upstream_leftovers(program: &weft_upstream::LoadedProgram) -> Leftovers {
    let processor = UpstreamFast::new_with_advice_inputs(
        &stack_bottom_first(&program.inputs),
        program.inputs.upstream_advice_inputs(),
    );
    let mut host = weft_miden::upstream::upstream_host();
    let out = block_on(processor.execute(&program.upstream, &mut host)).expect("upstream runs");
    Leftovers {
        requests: out
            .advice
            .precompile_requests()
            .iter()
            .map(|r| (r.event_id().as_felt().as_int(), r.calldata().to_vec()))
            .collect(),
        advice_stack: out.advice.stack().iter().map(|f| f.as_int()).collect(),
        transcript: words(out.final_pc_transcript.state().into()),
    }
}

fn weft_leftovers(program: &weft_upstream::LoadedProgram) -> Leftovers {
    let mut host = weft_host(program.weft_kernel_forest.as_ref()).expect("core library reads");
    let out = weft_fast::FastProcessor::new(
        program.inputs.weft_stack_inputs(),
        program.inputs.weft_advice_inputs(),
        ExecutionOptions::default(),
    )
    .execute(&program.weft, &mut host)
    .expect("weft runs");
    Leftovers {
        requests: out
            .advice
            .precompile_requests()
            .iter()
            .map(|r| (r.event_id.as_u64(), r.calldata.clone()))
            .collect(),
        advice_stack: out.advice.stack().iter().map(|f| f.as_int()).collect(),
        transcript: words(out.pc_transcript.into()),
    }
}

#[test]
fn precompiles_leave_what_upstream_leaves() {
    let dir = weft_miden::corpus::programs_dir();
    let mut checked = 0;
    for name in PRECOMPILE_PROGRAMS {
        let path = dir.join(name);
        let program = load_program(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let upstream = upstream_leftovers(&program);
        assert!(
            !upstream.requests.is_empty(),
            "{name} logs no precompile request: it tests nothing here"
        );
        assert_eq!(weft_leftovers(&program), upstream, "{name}");
        checked += upstream.requests.len();
    }
    println!("{checked} precompile requests equal to upstream's");
}

/// Programs of `programs/` that call the core library's precompiles.
const PRECOMPILE_PROGRAMS: &[&str] = &[
    "lib_keccak256.masm",
    "lib_sha512.masm",
    "lib_ecdsa_verify.masm",
    "lib_eddsa_verify.masm",
];
