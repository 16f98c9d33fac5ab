//! Differential tests: every path this CPU supports against `miden-crypto`'s
//! `Rpo256::apply_permutation` and `Rpo256::apply_round`, compared on stored words.

use super::{
    NUM_ROUNDS, Path, RpoError, STATE_WIDTH, State, consts, merge, merge_in_domain, permute,
    permute_many, permute_many_with, permute_rounds, permute_rounds_many, permute_rounds_many_with,
    permute_rounds_with, permute_with, scalar,
};
use crate::{Felt, Rpo256, Word};

/// A seeded splitmix64 generator: reproducible states without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

const P: u64 = consts::P;

/// Integers worth trying as elements: around 0, 2^32, p and 2^64.
const EDGES: [u64; 12] = [
    0,
    1,
    2,
    P - 1,
    P - 2,
    1 << 32,
    (1 << 32) - 1,
    (1 << 32) + 1,
    1 << 63,
    P,
    P + 1,
    u64::MAX,
];

fn words(state: &State) -> [u64; STATE_WIDTH] {
    core::array::from_fn(|i| state[i].inner())
}

/// Random states: canonical ones from `Felt::new` on random and edge integers, and raw stored
/// words (some at or above `p`) through `Felt::from_mont`.
fn sample_states(n: usize, seed: u64) -> Vec<State> {
    let mut rng = Rng(seed);
    let mut out = Vec::with_capacity(n + 8);
    // Whole states of one edge value, both as integers and as stored words.
    for &e in &EDGES {
        out.push([Felt::new(e); STATE_WIDTH]);
        out.push([Felt::from_mont(e); STATE_WIDTH]);
    }
    for k in 0..n {
        let state: State = core::array::from_fn(|_| {
            let pick = rng.next();
            let value = if pick.is_multiple_of(4) {
                EDGES[(pick >> 8) as usize % EDGES.len()]
            } else {
                rng.next()
            };
            if k % 3 == 0 {
                Felt::from_mont(value)
            } else {
                Felt::new(value)
            }
        });
        out.push(state);
    }
    out
}

fn reference(state: &State) -> State {
    let mut s = *state;
    Rpo256::apply_permutation(&mut s);
    s
}

fn reference_rounds(state: &State) -> [State; NUM_ROUNDS] {
    let mut s = *state;
    core::array::from_fn(|round| {
        Rpo256::apply_round(&mut s, round);
        s
    })
}

#[test]
fn the_portable_paths_are_always_supported_and_best_is_supported() {
    assert!(Path::Scalar.is_supported());
    assert!(Path::MidenCrypto.is_supported());
    assert!(Path::best().is_supported());
    assert_eq!(Path::supported()[..2], [Path::Scalar, Path::MidenCrypto]);
    // The cached answer is stable.
    assert_eq!(Path::best(), Path::best());
}

#[cfg(target_arch = "x86_64")]
#[test]
fn the_measured_fastest_path_is_chosen() {
    let avx2 = std::is_x86_feature_detected!("avx2");
    let avx512 = avx2
        && std::is_x86_feature_detected!("avx512f")
        && std::is_x86_feature_detected!("avx512vl");
    assert_eq!(Path::Avx2.is_supported(), avx2);
    assert_eq!(Path::Avx512.is_supported(), avx512);
    let split = avx512 && std::is_x86_feature_detected!("bmi2");
    assert_eq!(Path::Split.is_supported(), split);
    let widest = if avx512 {
        Path::Avx512
    } else if avx2 {
        Path::Avx2
    } else {
        Path::MidenCrypto
    };
    assert_eq!(Path::best_for_many(), widest);
    // One state at a time: the widest on AMD's CPUs (SSE4a), elsewhere the split path, else
    // miden-crypto's.
    let single = if std::is_x86_feature_detected!("sse4a") {
        widest
    } else if split {
        Path::Split
    } else {
        Path::MidenCrypto
    };
    assert_eq!(Path::best(), single);
}

#[test]
fn an_unsupported_path_is_an_error_and_leaves_the_state() {
    for path in Path::ALL.into_iter().filter(|p| !p.is_supported()) {
        let mut state = [Felt::new(5); STATE_WIDTH];
        assert_eq!(
            permute_with(path, &mut state),
            Err(RpoError::Unsupported { path })
        );
        assert_eq!(words(&state), [Felt::new(5).inner(); STATE_WIDTH]);
        let mut out = [[Felt::new(0); STATE_WIDTH]; NUM_ROUNDS];
        assert!(permute_rounds_with(path, &mut state, &mut out).is_err());
        assert!(permute_many_with(path, &mut [state]).is_err());
        assert!(permute_rounds_many_with(path, &mut [state]).is_err());
    }
}

#[test]
fn every_path_equals_the_reference_permutation() {
    let states = sample_states(3000, 0x5eed_0001);
    for path in Path::supported() {
        for (k, state) in states.iter().enumerate() {
            let mut ours = *state;
            permute_with(path, &mut ours).expect("supported path");
            assert_eq!(
                words(&ours),
                words(&reference(state)),
                "{path} path, state #{k}: {:?}",
                words(state)
            );
        }
    }
}

#[test]
fn every_path_equals_the_reference_rounds() {
    let states = sample_states(300, 0x5eed_0002);
    for path in Path::supported() {
        for (k, state) in states.iter().enumerate() {
            let mut ours = *state;
            let mut rows = [[Felt::new(0); STATE_WIDTH]; NUM_ROUNDS];
            permute_rounds_with(path, &mut ours, &mut rows).expect("supported path");
            let expected = reference_rounds(state);
            for round in 0..NUM_ROUNDS {
                assert_eq!(
                    words(&rows[round]),
                    words(&expected[round]),
                    "{path} path, state #{k}, round {round}"
                );
            }
            assert_eq!(words(&ours), words(&expected[NUM_ROUNDS - 1]));
        }
    }
}

#[test]
fn chained_permutations_stay_identical() {
    // Feeding each output back in walks far from the sampled inputs.
    for path in Path::supported() {
        let mut ours = [Felt::new(0); STATE_WIDTH];
        let mut theirs = ours;
        for step in 0..2000 {
            permute_with(path, &mut ours).expect("supported path");
            Rpo256::apply_permutation(&mut theirs);
            assert_eq!(words(&ours), words(&theirs), "{path} path, step {step}");
        }
    }
}

#[test]
fn permute_many_equals_permute_on_each_state() {
    let states = sample_states(97, 0x5eed_0003);
    // Every way a batch splits on the vector paths: transposed eights (AVX-512), then fours,
    // then a pair, then one.
    for n in [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 15, 16, 23, 97] {
        for path in Path::supported() {
            let mut batch = states[..n].to_vec();
            permute_many_with(path, &mut batch).expect("supported path");
            for (k, (got, state)) in batch.iter().zip(&states).enumerate() {
                assert_eq!(
                    words(got),
                    words(&reference(state)),
                    "{path} path, {n} states, state #{k}"
                );
            }
        }
    }
    let mut batch = states.clone();
    permute_many(&mut batch);
    let expected: Vec<_> = states.iter().map(|s| words(&reference(s))).collect();
    let got: Vec<_> = batch.iter().map(words).collect();
    assert_eq!(got, expected);
    // An empty batch is fine.
    permute_many(&mut []);
}

#[test]
fn permute_rounds_many_equals_the_reference_rounds() {
    let states = sample_states(23, 0x5eed_0004);
    for n in [0, 1, 3, 4, 5, 8, 11, 12, 13, 16, 23] {
        for path in Path::supported() {
            let mut batch = states[..n].to_vec();
            let rounds = permute_rounds_many_with(path, &mut batch).expect("supported path");
            assert_eq!(rounds.len(), n);
            for (k, state) in states[..n].iter().enumerate() {
                let expected = reference_rounds(state);
                for r in 0..NUM_ROUNDS {
                    assert_eq!(
                        words(&rounds[k][r]),
                        words(&expected[r]),
                        "{path} path, {n} states, state #{k}, round {r}"
                    );
                }
                assert_eq!(words(&batch[k]), words(&expected[NUM_ROUNDS - 1]));
            }
        }
    }
    let mut batch = states.clone();
    let rounds = permute_rounds_many(&mut batch);
    assert_eq!(rounds.len(), states.len());
    assert_eq!(words(&batch[22]), words(&reference(&states[22])));
}

#[test]
fn the_best_path_entry_points_equal_the_reference() {
    for state in sample_states(50, 0x5eed_0004) {
        let mut ours = state;
        permute(&mut ours);
        assert_eq!(words(&ours), words(&reference(&state)));
        let mut ours = state;
        let mut rows = [[Felt::new(0); STATE_WIDTH]; NUM_ROUNDS];
        permute_rounds(&mut ours, &mut rows);
        assert_eq!(
            rows.map(|r| words(&r)),
            reference_rounds(&state).map(|r| words(&r))
        );
    }
}

#[test]
fn merge_and_merge_in_domain_equal_the_reference() {
    let mut rng = Rng(0x5eed_0005);
    for _ in 0..200 {
        let a = Word::new(core::array::from_fn(|_| Felt::new(rng.next())));
        let b = Word::new(core::array::from_fn(|_| Felt::new(rng.next())));
        assert_eq!(merge(&[a, b]), Rpo256::merge(&[a, b]));
        let domain = Felt::new(rng.next() % 256);
        assert_eq!(
            merge_in_domain(&[a, b], domain),
            Rpo256::merge_in_domain(&[a, b], domain)
        );
    }
}

#[test]
fn the_arithmetic_helpers_match_felt_on_edge_words() {
    // Montgomery products and the MDS fold agree with `Felt` on stored words, edges included.
    let mut rng = Rng(0x5eed_0006);
    let mut values: Vec<u64> = EDGES.to_vec();
    values.extend((0..64).map(|_| rng.next()));
    for &a in &values {
        for &b in &values {
            let expected = (Felt::from_mont(a) * Felt::from_mont(b)).inner();
            assert_eq!(scalar::mul(a, b), expected, "{a:#x} * {b:#x}");
            #[cfg(target_arch = "x86_64")]
            if Path::Split.is_supported() {
                // SAFETY: the CPU has the split path's features (checked just above).
                let got = unsafe { super::split::mul_for_tests(a, b) };
                assert_eq!(got, expected, "split: {a:#x} * {b:#x}");
            }
        }
    }
    // The negated constants are p - k for the reference's constants.
    for round in 0..NUM_ROUNDS {
        for i in 0..STATE_WIDTH {
            assert_eq!(
                consts::NEG_ARK1[round][i],
                P - Rpo256::ARK1[round][i].inner()
            );
            assert_eq!(
                consts::NEG_ARK2[round][i],
                P - Rpo256::ARK2[round][i].inner()
            );
        }
    }
}

#[test]
fn the_mds_layer_is_the_reference_matrix_on_canonical_states() {
    // On canonical inputs the fold gives the field value of the matrix product.
    for state in sample_states(200, 0x5eed_0007) {
        let state: State = state.map(|f| Felt::new(f.as_int()));
        let mut ours = words(&state);
        scalar::apply_mds(&mut ours);
        for (r, (&got, row)) in ours.iter().zip(&Rpo256::MDS).enumerate() {
            let mut expected = Felt::new(0);
            for (&m, &s) in row.iter().zip(&state) {
                expected += m * s;
            }
            assert_eq!(Felt::from_mont(got).as_int(), expected.as_int(), "row {r}");
        }
    }
}
