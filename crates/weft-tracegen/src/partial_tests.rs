//! Core rows built a range of fragments at a time, and traces built around them, against
//! [`crate::build_trace`].

use weft_core::main_trace::first_difference;

use super::{CoreRows, build_core_fragments, build_trace_from_core};
use crate::{
    TraceGenError, build_trace,
    tests::{contexts, sample_program},
};

/// Splits the fragments into parts of `per_part` fragments and builds each on its own.
fn parts(
    forests: &[std::sync::Arc<weft_mast::MastForest>],
    contexts: &weft_replay::TraceContexts,
    per_part: usize,
) -> Vec<CoreRows> {
    contexts
        .fragments
        .chunks(per_part)
        .enumerate()
        .map(|(i, chunk)| {
            build_core_fragments(
                forests,
                contexts.fragment_size,
                contexts.n_cycles,
                i * per_part,
                chunk,
            )
            .expect("part builds")
        })
        .collect()
}

#[test]
fn parts_equal_the_whole_build_at_every_split() {
    let program = sample_program();
    for size in [1, 3, 7, 16, 64, 1000] {
        let (forests, contexts) = contexts(&program, size);
        let expected = build_trace(&forests, &contexts).expect("trace builds");
        let n = contexts.fragments.len();
        for per_part in [1, 2, 5, n] {
            let parts = parts(&forests, &contexts, per_part);
            for part in &parts {
                for (c, column) in part.columns().iter().enumerate() {
                    let rows = part.rows();
                    let whole = &expected.column(c)[rows.clone()];
                    // A part's first `REPEAT` row still lacks the previous row's hasher columns.
                    let skip = usize::from(part.starts_with_repeat());
                    assert_eq!(
                        &column[skip..],
                        &whole[skip..],
                        "size {size}, {per_part} per part, rows {rows:?}, column {c}"
                    );
                }
            }
            let (found, _) =
                build_trace_from_core(&forests, &contexts, &parts).expect("trace builds");
            if let Some(diff) = first_difference(&expected, &found) {
                panic!("size {size}, {per_part} fragments per part: {diff}");
            }
        }
    }
}

#[test]
fn parts_that_do_not_cover_the_rows_are_errors() {
    let program = sample_program();
    let (forests, contexts) = contexts(&program, 16);
    let mut parts = parts(&forests, &contexts, 2);
    let last = parts.pop().expect("a part");
    assert!(matches!(
        build_trace_from_core(&forests, &contexts, &parts),
        Err(TraceGenError::CoreRowsCoverage { .. })
    ));
    parts.insert(0, last);
    assert!(matches!(
        build_trace_from_core(&forests, &contexts, &parts),
        Err(TraceGenError::CoreRowsCoverage { part: 0, .. })
    ));
    assert!(matches!(
        CoreRows::from_columns(0, vec![vec![]; 49], false),
        Err(TraceGenError::CoreRowsShape { .. })
    ));
}

#[test]
fn ranges_outside_the_execution_are_errors() {
    let program = sample_program();
    let (forests, c) = contexts(&program, 16);
    let n = c.fragments.len();
    let build = |first, fragments: &[weft_replay::FragmentContext]| {
        build_core_fragments(&forests, c.fragment_size, c.n_cycles, first, fragments)
    };
    assert!(matches!(
        build(0, &[]),
        Err(TraceGenError::FragmentRange { .. })
    ));
    assert!(matches!(
        build(n, &c.fragments[..1]),
        Err(TraceGenError::FragmentRange { .. })
    ));
    // A context handed in at the wrong index.
    assert!(matches!(
        build(1, &c.fragments[..1]),
        Err(TraceGenError::FragmentStart { fragment: 1, .. })
    ));
    assert!(matches!(
        build_core_fragments(&forests, 0, c.n_cycles, 0, &c.fragments[..1]),
        Err(TraceGenError::ZeroFragmentSize)
    ));
}
