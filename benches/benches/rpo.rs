//! The RPO-256 permutation: `miden-crypto`'s `Rpo256::apply_permutation` (the default, scalar
//! build upstream uses) against `weft_core::rpo` on each path this CPU supports, one state per
//! call and a batch of 64 independent states, plus a 2-to-1 merge; and what a trace builder
//! pays instead of a permutation when the recording kept its output (reading back 12 canonical
//! `u64`s as field elements: `weft_replay`'s "replayed, not recomputed" decision).
//!
//! Run with `cargo bench -p weft-benches --bench rpo`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use weft_core::{
    Felt, Rpo256, Word,
    rpo::{self, Path},
};

/// A state with no special structure.
fn sample_state(seed: u64) -> [Felt; 12] {
    core::array::from_fn(|i| Felt::new(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (i as u64 * 31)))
}

fn single(c: &mut Criterion) {
    let mut group = c.benchmark_group("rpo_permutation");
    group.throughput(Throughput::Elements(1));
    group.bench_function("miden-crypto", |b| {
        let mut state = sample_state(1);
        b.iter(|| {
            Rpo256::apply_permutation(black_box(&mut state));
        });
    });
    for path in Path::supported() {
        group.bench_function(BenchmarkId::new("weft", path.name()), |b| {
            let mut state = sample_state(1);
            b.iter(|| {
                rpo::permute_with(path, black_box(&mut state)).expect("supported");
            });
        });
    }
    group.bench_function("weft/best", |b| {
        let mut state = sample_state(1);
        b.iter(|| rpo::permute(black_box(&mut state)));
    });
    group.finish();
}

fn batched(c: &mut Criterion) {
    const N: usize = 64;
    let states: Vec<[Felt; 12]> = (0..N as u64).map(sample_state).collect();
    let mut group = c.benchmark_group("rpo_permutation_x64");
    group.throughput(Throughput::Elements(N as u64));
    group.bench_function("miden-crypto", |b| {
        let mut batch = states.clone();
        b.iter(|| {
            for state in black_box(&mut batch).iter_mut() {
                Rpo256::apply_permutation(state);
            }
        });
    });
    for path in Path::supported() {
        group.bench_function(BenchmarkId::new("weft", path.name()), |b| {
            let mut batch = states.clone();
            b.iter(|| rpo::permute_many_with(path, black_box(&mut batch)).expect("supported"));
        });
    }
    group.finish();
}

fn merge(c: &mut Criterion) {
    let a = Word::new([Felt::new(1), Felt::new(2), Felt::new(3), Felt::new(4)]);
    let b = Word::new([Felt::new(5), Felt::new(6), Felt::new(7), Felt::new(8)]);
    let mut group = c.benchmark_group("rpo_merge");
    group.bench_function("miden-crypto", |bench| {
        bench.iter(|| Rpo256::merge(black_box(&[a, b])));
    });
    group.bench_function("weft", |bench| {
        bench.iter(|| rpo::merge(black_box(&[a, b])));
    });
    group.finish();
}

/// Reading back a recorded 12-element permutation output, as the trace builder's replay backend
/// does, against computing it.
fn replay_read(c: &mut Criterion) {
    let mut group = c.benchmark_group("permutation_output");
    let recorded: Vec<[u64; 12]> = (0..1024u64)
        .map(|i| sample_state(i).map(|f| f.as_int()))
        .collect();
    group.throughput(Throughput::Elements(recorded.len() as u64));
    group.bench_function("replayed", |b| {
        b.iter(|| {
            for words in black_box(&recorded) {
                black_box(words.map(Felt::new));
            }
        });
    });
    group.bench_function("recomputed", |b| {
        b.iter(|| {
            for words in black_box(&recorded) {
                let mut state = words.map(Felt::new);
                rpo::permute(&mut state);
                black_box(state);
            }
        });
    });
    group.finish();
}

criterion_group!(benches, single, batched, merge, replay_read);
criterion_main!(benches);
