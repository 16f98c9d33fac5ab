//! `weft run`: execute a program with the fast processor and print its stack outputs, cycles
//! and speed.

use std::time::Instant;

use serde_json::json;
use weft_fast::FastProcessor;

use super::{failure::execution_error, print, print_json};
use crate::{
    CliError, ProgramArgs,
    load::FileKind,
    report::{cycles_per_s, digest_hex, seconds, si, stack_json, stack_text},
};

/// Runs `weft run`.
pub(super) fn run(args: &ProgramArgs, json: bool) -> Result<(), CliError> {
    let start = Instant::now();
    let (file, inputs) = args.load(|kind| {
        // Upstream's formats take milliseconds to assemble or decode: time enough to map the
        // code on another core. weft's own load in well under one, and the mapping would then
        // compete with the run itself.
        if matches!(kind, FileKind::Masm | FileKind::Masb | FileKind::Masl) {
            crate::warm::start_populating_code();
        }
    })?;
    let path = &args.file;
    let program = file.runnable(path)?;
    let mut host = file.host()?;
    file.link(program)?;
    // Converting the inputs (the advice provider's Merkle store among them) is loading.
    let (stack_inputs, advice_inputs) = (inputs.weft_stack_inputs(), inputs.weft_advice_inputs());
    // Choosing the permutation's code paths reads the CPU's features once per process, with
    // `cpuid` instructions that trap to the hypervisor in a virtual machine: 16-34 µs measured
    // on an Intel Xeon VM, more than a short program's whole execution. Process set-up, like
    // upstream's choice made when it was compiled, so it is done here.
    weft_core::rpo::Path::best();
    weft_core::rpo::Path::best_for_many();
    let load_s = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let output =
        FastProcessor::new(stack_inputs, advice_inputs, file.options).execute(program, &mut host);
    let execute_s = start.elapsed().as_secs_f64();
    let output = output.map_err(|e| execution_error(e, &file, program, &inputs))?;
    let cycles = u64::from(output.n_cycles);
    let rate = cycles_per_s(cycles, execute_s);
    if json {
        return print_json(&json!({
            "program_digest": digest_hex(&program.hash()),
            "cycles": cycles,
            "stack_outputs": stack_json(&output.stack_outputs),
            "execute_s": execute_s,
            "cycles_per_s": rate,
            "load_s": load_s,
        }));
    }
    print(&format!(
        "program  {}\nstack    {}\ncycles   {cycles}\ntime     {} (loading {})\nspeed    {}cycles/s\n",
        digest_hex(&program.hash()),
        stack_text(&output.stack_outputs),
        seconds(execute_s),
        seconds(load_s),
        si(rate),
    ))
}
