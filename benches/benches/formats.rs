//! Sizes and load speeds of weft's three MAST formats on the upstream core library (converted
//! through `weft_upstream::convert_forest`, decorators stripped), against upstream's own
//! serialization of the stripped, compacted forest.
//!
//! Run with `cargo bench -p weft-benches --bench formats`; the size table is printed first.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use weft_mast::{
    MastNode,
    format::{compact, fast, strip, text},
};
use weft_upstream::{convert_forest, upstream_core_lib_forest};

fn formats(c: &mut Criterion) {
    let upstream = upstream_core_lib_forest();
    let up_bytes = weft_miden::formats::stripped_upstream_bytes(&upstream);

    let forest = strip(&convert_forest(&upstream).expect("converts").forest).expect("strips");
    let key = [0x5a; 32];
    let fast_bytes = fast::write(&forest).expect("writable");
    let sealed_bytes = fast::write_sealed(&forest, &key).expect("writable");
    let compact_bytes = compact::write(&forest).expect("writable");
    let text_str = text::print(&forest).expect("printable");

    let pct = |n: usize| 100.0 * n as f64 / up_bytes.len() as f64;
    println!(
        "core library: {} nodes, {} roots",
        forest.num_nodes(),
        forest.procedure_roots().len()
    );
    println!("| format | bytes | % of upstream stripped |");
    println!("|---|---|---|");
    println!(
        "| upstream 0.20.6 (stripped, compacted) | {} | 100.0 |",
        up_bytes.len()
    );
    for (name, n) in [
        ("weft fast", fast_bytes.len()),
        ("weft fast, sealed", sealed_bytes.len()),
        ("weft compact", compact_bytes.len()),
        ("weft text", text_str.len()),
    ] {
        println!("| {name} | {n} | {:.1} |", pct(n));
    }

    let mut group = c.benchmark_group("load_core_lib");
    group.sample_size(20);
    group.measurement_time(std::time::Duration::from_secs(3));
    group.throughput(Throughput::Bytes(up_bytes.len() as u64));
    group.bench_function("upstream_read_from_bytes", |b| {
        b.iter(|| weft_miden::formats::read_upstream_forest(&up_bytes).expect("reads"))
    });
    group.throughput(Throughput::Bytes(fast_bytes.len() as u64));
    group.bench_function("fast_read_validate", |b| {
        b.iter(|| {
            fast::read(&fast_bytes)
                .and_then(|u| u.validate())
                .expect("reads")
        })
    });
    group.bench_function("fast_read_only", |b| {
        b.iter(|| fast::read(&fast_bytes).expect("reads"))
    });
    group.throughput(Throughput::Bytes(sealed_bytes.len() as u64));
    group.bench_function("fast_sealed", |b| {
        b.iter(|| fast::read_sealed(&sealed_bytes, &key).expect("reads"))
    });
    // The same, followed by the first use of every block (which batches it): what loading
    // would cost if every procedure of the library ran.
    group.bench_function("fast_sealed_then_batch_all", |b| {
        b.iter(|| {
            let forest = fast::read_sealed(&sealed_bytes, &key).expect("reads");
            for node in forest.nodes() {
                if let MastNode::Block(block) = node {
                    drop(std::hint::black_box(block.batches()));
                }
            }
            forest
        })
    });
    group.throughput(Throughput::Bytes(compact_bytes.len() as u64));
    group.bench_function("compact_read_validate", |b| {
        b.iter(|| {
            compact::read(&compact_bytes)
                .and_then(|u| u.validate())
                .expect("reads")
        })
    });
    group.throughput(Throughput::Bytes(text_str.len() as u64));
    group.bench_function("text_parse", |b| {
        b.iter(|| text::parse(&text_str).expect("parses"))
    });
    group.finish();
}

criterion_group!(benches, formats);
criterion_main!(benches);
