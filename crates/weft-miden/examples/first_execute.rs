//! Times the first execution of a MASM program in a fresh process, on upstream 0.20.6's fast
//! processor or on weft's: what a short-lived process pays, fixed costs included. Loading
//! (assembly, conversion, host construction) is not timed; processor construction and
//! execution are, as `weft run` times its `execute_s`. Prints `ENGINE CYCLES SECONDS`.
//!
//! `cargo run --release -p weft-miden --example first_execute -- FILE.masm upstream|weft`
//!
//! Run it several times (a fresh process each) and take the median.

use std::time::Instant;

use weft_miden::upstream::{block_on, stack_bottom_first};
use weft_upstream::{host::weft_host, load_program};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(path), Some(engine)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: first_execute FILE.masm upstream|weft");
        std::process::exit(2);
    };
    let program = match load_program(std::path::Path::new(path)) {
        Ok(program) => program,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let (cycles, seconds) = match engine.as_str() {
        "upstream" => {
            let mut host = weft_miden::upstream::upstream_host();
            if let Some(forest) = &program.kernel_forest {
                host.load_library(forest).expect("the kernel loads");
            }
            let stack = stack_bottom_first(&program.inputs);
            let advice = program.inputs.upstream_advice_inputs();
            let start = Instant::now();
            let processor =
                miden_processor::fast::FastProcessor::new_with_advice_inputs(&stack, advice);
            let output = block_on(processor.execute(&program.upstream, &mut host));
            let seconds = start.elapsed().as_secs_f64();
            let output = output.expect("the program runs upstream");
            // Upstream's output does not count cycles: report 0 (weft's line has them).
            drop(output);
            (0, seconds)
        }
        "weft" => {
            let mut host =
                weft_host(program.weft_kernel_forest.as_ref()).expect("the core library reads");
            // The inputs are built before the clock starts, as upstream's are above.
            let stack = program.inputs.weft_stack_inputs();
            let advice = program.inputs.weft_advice_inputs();
            let start = Instant::now();
            let output = weft_fast::FastProcessor::new(
                stack,
                advice,
                weft_host::ExecutionOptions::default(),
            )
            .execute(&program.weft, &mut host);
            let seconds = start.elapsed().as_secs_f64();
            (output.expect("the program runs on weft").n_cycles, seconds)
        }
        other => {
            eprintln!("unknown engine {other}: upstream or weft");
            std::process::exit(2);
        }
    };
    println!("{engine} {cycles} {seconds:.9}");
}
