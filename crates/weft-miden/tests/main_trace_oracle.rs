//! The shared main-trace vocabulary of `weft_core::main_trace` checked against upstream's own
//! traces: the length rule over upstream's row counts, the chiplet regions read from the
//! selector columns, and the random last row drawn from the program's digest.

mod common;

use weft_core::main_trace::{CHIPLETS_OFFSET, Region, TRACE_WIDTH, random_row};
use weft_miden::run_upstream;
use weft_upstream::load_program;

#[test]
fn length_rule_regions_and_random_row_match_upstream() {
    let programs = common::own_programs();
    let mut checked = 0;
    let mut problems = Vec::new();
    for program in programs.iter().step_by(7) {
        let loaded = load_program(&program.path).expect("own programs load");
        let extra: Vec<_> = loaded.kernel_forest.iter().cloned().collect();
        let Ok(run) = run_upstream(&loaded.upstream, &loaded.inputs, &extra) else {
            continue;
        };
        checked += 1;
        let name = &program.name;
        let rows = run.main.num_rows();
        if run.summary.trace_len() != rows {
            problems.push(format!(
                "{name}: length rule gives {} rows for {:?}, upstream has {rows}",
                run.summary.trace_len(),
                run.summary
            ));
        }
        let expected = random_row(loaded.weft.hash());
        let last: Vec<_> = (0..TRACE_WIDTH)
            .map(|c| run.main.get(rows - 1, c))
            .collect();
        if last != expected {
            problems.push(format!("{name}: the random last row differs"));
        }
        // Every chiplet region has the row count upstream reports, in stacking order.
        let starts = run.summary.chiplet_starts();
        let regions = [
            Region::Hasher,
            Region::Bitwise,
            Region::Memory,
            Region::Ace,
            Region::KernelRom,
        ];
        for (i, region) in regions.into_iter().enumerate() {
            for row in starts[i]..starts[i + 1] {
                let found = run.main.region(row, CHIPLETS_OFFSET);
                if found != region {
                    problems.push(format!("{name}: row {row} is {found}, expected {region}"));
                    break;
                }
            }
        }
        let padding = run.main.region(starts[5], CHIPLETS_OFFSET);
        if padding != Region::ChipletsPadding {
            problems.push(format!(
                "{name}: row {} is {padding}, not padding",
                starts[5]
            ));
        }
    }
    println!("checked {checked} upstream traces");
    assert!(checked >= 20, "only {checked} programs ran upstream");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
