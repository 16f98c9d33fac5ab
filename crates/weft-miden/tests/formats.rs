//! weft's three MAST formats on real code: the upstream core library and every program under
//! `programs/`, converted, stripped and round-tripped; and the compact format's size target
//! against upstream's serialization of the stripped core library.

mod common;

use miden_core::utils::Serializable;
use weft_mast::{
    MastForest,
    format::{compact, fast, fuzz::assert_same_shape, strip, text},
};
use weft_upstream::{assemble_upstream_with_kernel, convert_forest, upstream_core_lib_forest};

/// Round-trips `forest` through all three formats, checking digests and structure; returns the
/// encoded sizes (fast, compact, text).
fn round_trip(name: &str, forest: &MastForest) -> (usize, usize, usize) {
    let fast_bytes = fast::write(forest).unwrap_or_else(|e| panic!("{name}: {e}"));
    let back = fast::read(&fast_bytes)
        .and_then(|u| u.validate())
        .unwrap_or_else(|e| panic!("{name}: fast: {e}"));
    assert_eq!(&back, forest, "{name}: fast");

    let sealed = fast::write_sealed(forest, &[3; 32]).expect("writable");
    assert_eq!(
        &fast::read_sealed(&sealed, &[3; 32]).unwrap_or_else(|e| panic!("{name}: sealed: {e}")),
        forest,
        "{name}: sealed"
    );

    let compact_bytes = compact::write(forest).expect("writable");
    let back = compact::read(&compact_bytes)
        .and_then(|u| u.validate())
        .unwrap_or_else(|e| panic!("{name}: compact: {e}"));
    assert_same_shape(forest, &back);
    for (a, b) in forest.procedure_roots().iter().zip(back.procedure_roots()) {
        assert_eq!(
            forest[*a].digest(),
            back[*b].digest(),
            "{name}: compact root"
        );
    }

    let printed = text::print(forest).expect("printable");
    let back = text::parse(&printed).unwrap_or_else(|e| panic!("{name}: text: {e}"));
    assert_eq!(&back, forest, "{name}: text");
    (fast_bytes.len(), compact_bytes.len(), printed.len())
}

#[test]
fn core_library_round_trips_and_compact_is_at_most_half_of_upstream() {
    let upstream = upstream_core_lib_forest();
    let mut stripped_up = (*upstream).clone();
    stripped_up.strip_decorators();
    stripped_up.compact();
    let up_len = stripped_up.to_bytes().len();

    let converted = convert_forest(&upstream).expect("converts").forest;
    let forest = strip(&converted).expect("strips");
    assert_eq!(
        forest.num_nodes(),
        stripped_up.nodes().len(),
        "same node count as upstream"
    );
    let (fast_len, compact_len, text_len) = round_trip("core library", &forest);
    println!(
        "core library: upstream stripped {up_len} B, fast {fast_len} B, compact {compact_len} B \
         ({:.1}%), text {text_len} B",
        100.0 * compact_len as f64 / up_len as f64
    );
    assert!(
        2 * compact_len <= up_len,
        "compact {compact_len} B is more than half of upstream's {up_len} B"
    );
}

#[test]
fn every_own_program_round_trips() {
    let programs = common::own_programs();
    assert!(programs.len() >= 30);
    for program in &programs {
        let upstream = assemble_upstream_with_kernel(&program.source, program.kernel.as_deref())
            .unwrap_or_else(|e| panic!("{}: {e}", program.name));
        let converted = convert_forest(upstream.mast_forest())
            .unwrap_or_else(|e| panic!("{}: {e}", program.name));
        let forest = strip(&converted.forest).expect("strips");
        let entry = converted.node_map[u32::from(upstream.entrypoint()) as usize];
        assert!(
            forest
                .find_procedure_root(&converted.forest[entry].digest())
                .is_some()
        );
        round_trip(&program.name, &forest);
    }
}
