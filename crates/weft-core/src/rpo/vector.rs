//! The parts of a vector permutation path that do not depend on the lane arithmetic: a state is
//! three 256-bit vectors of four words each, and the layers (MDS, constants, S-box and its
//! inverse) and entry points are the same for every instruction set that works on such vectors.
//!
//! [`vector_permutation!`] expands them inside a path's module, where `mul`, `square`,
//! `add_neg` and `fold_mds` give that path's lane arithmetic, each function compiled with the
//! path's target features. Its S-box layers come from [`sbox_layers!`], which the 512-bit batch
//! (`avx512_wide`) expands on its own vectors too.

/// Expands the state layers and entry points (`permute`, `permute_pair`, `permute_batch`,
/// `permute_rounds`, `permute_rounds_batch`)
/// for the target features `$features`, using the `mul`, `square`, `add_neg` and `fold_mds` of
/// the module it is expanded in.
macro_rules! vector_permutation {
    ($features:literal) => {
        // STATE LAYERS
        // ================================================================================================
        //
        // The layers work on `K` states at once, `3·K` vectors: state `k` is vectors `3k..3k + 3`. The
        // states are independent, so interleaving them gives the out-of-order core more independent
        // products to overlap; `K = 1` is the single-state path.

        /// Four consecutive words of a 12-word row as a vector.
        #[inline]
        #[target_feature(enable = $features)]
        fn row_vector(row: &[u64; WIDTH], j: usize) -> __m256i {
            _mm256_setr_epi64x(
                row[4 * j] as i64,
                row[4 * j + 1] as i64,
                row[4 * j + 2] as i64,
                row[4 * j + 3] as i64,
            )
        }

        /// Loads a state.
        #[inline]
        #[target_feature(enable = $features)]
        fn load(words: &[u64; WIDTH]) -> State {
            [
                row_vector(words, 0),
                row_vector(words, 1),
                row_vector(words, 2),
            ]
        }

        /// Stores a state.
        #[inline]
        #[target_feature(enable = $features)]
        fn store(state: State) -> [u64; WIDTH] {
            // SAFETY: `[__m256i; 3]` and `[u64; 12]` are both 96 plain bytes with no invalid bit patterns;
            // the target array's alignment (8) is no stricter than the source's (32).
            unsafe { core::mem::transmute::<State, [u64; WIDTH]>(state) }
        }

        /// The MDS layer on one state: for each input word, its two 32-bit halves broadcast and
        /// multiplied into the matching column of the matrix, summed per output; then folded as in the
        /// scalar path.
        #[inline]
        #[target_feature(enable = $features)]
        fn apply_mds(state: &mut [__m256i]) {
            let out = mds_of_words(&store([state[0], state[1], state[2]]));
            state[..3].copy_from_slice(&out);
        }

        /// [`apply_mds`] on a state held as words (the broadcasts read them straight from there).
        #[inline]
        #[target_feature(enable = $features)]
        fn mds_of_words(words: &[u64; WIDTH]) -> State {
            let zero = _mm256_set1_epi64x(0);
            let mut l = [zero; 3];
            let mut h = [zero; 3];
            // SAFETY: `[u64; WIDTH]` and `[[u32; 2]; WIDTH]` are the same plain bytes with no invalid
            // bit patterns, and the target's alignment (4) is no stricter than the source's.
            let halves = unsafe { &*(words as *const [u64; WIDTH]).cast::<[[u32; 2]; WIDTH]>() };
            for (&[low, high], columns) in halves.iter().zip(&MDS_COLUMNS) {
                // `_mm256_mul_epu32` reads only the low 32 bits of each lane, so a half broadcast
                // to every 32-bit lane serves (a broadcast straight from memory, where the words
                // are). The halves are little-endian: x86-64 is.
                let lo = _mm256_set1_epi32(low as i32);
                let hi = _mm256_set1_epi32(high as i32);
                for (j, column) in columns.iter().enumerate() {
                    // SAFETY: `[u64; 4]` and `__m256i` are both 32 plain bytes with no invalid
                    // bit patterns.
                    let column = unsafe { core::mem::transmute::<[u64; 4], __m256i>(*column) };
                    l[j] = _mm256_add_epi64(l[j], _mm256_mul_epu32(column, lo));
                    h[j] = _mm256_add_epi64(h[j], _mm256_mul_epu32(column, hi));
                }
            }
            [
                fold_mds(l[0], h[0]),
                fold_mds(l[1], h[1]),
                fold_mds(l[2], h[2]),
            ]
        }

        /// The MDS layer on each of the states.
        #[inline]
        #[target_feature(enable = $features)]
        fn apply_mds_all<const N: usize>(state: &mut [__m256i; N]) {
            for one in state.chunks_exact_mut(3) {
                apply_mds(one);
            }
        }

        /// Adds one half-round's constants to each state.
        #[inline]
        #[target_feature(enable = $features)]
        fn add_constants<const N: usize>(state: &mut [__m256i; N], neg_ark: &[u64; WIDTH]) {
            let ark = [
                row_vector(neg_ark, 0),
                row_vector(neg_ark, 1),
                row_vector(neg_ark, 2),
            ];
            for (i, v) in state.iter_mut().enumerate() {
                *v = add_neg(*v, ark[i % 3]);
            }
        }

        super::vector::sbox_layers!($features, __m256i);

        /// One round on each state.
        #[inline]
        #[target_feature(enable = $features)]
        fn apply_round<const N: usize>(state: &mut [__m256i; N], round: usize) {
            apply_mds_all(state);
            add_constants(state, &NEG_ARK1[round]);
            sbox(state);
            apply_mds_all(state);
            add_constants(state, &NEG_ARK2[round]);
            inv_sbox(state);
        }

        // TRANSPOSED BATCHES
        // ================================================================================================

        /// `value` in every lane.
        #[inline]
        #[target_feature(enable = $features)]
        fn splat(value: u64) -> __m256i {
            _mm256_set1_epi64x(value as i64)
        }

        /// Each lane's high 32 bits.
        #[inline]
        #[target_feature(enable = $features)]
        fn high_halves(v: __m256i) -> __m256i {
            _mm256_srli_epi64::<32>(v)
        }

        /// Lane-wise 64-bit sum.
        #[inline]
        #[target_feature(enable = $features)]
        fn add_lanes(a: __m256i, b: __m256i) -> __m256i {
            _mm256_add_epi64(a, b)
        }

        /// Lane-wise product of the low 32 bits of each lane.
        #[inline]
        #[target_feature(enable = $features)]
        fn mul_low_halves(a: __m256i, b: __m256i) -> __m256i {
            _mm256_mul_epu32(a, b)
        }

        /// A vector from its lanes, lane 0 first.
        #[inline]
        #[target_feature(enable = $features)]
        fn from_lanes(lanes: [u64; BATCH]) -> __m256i {
            _mm256_setr_epi64x(
                lanes[0] as i64,
                lanes[1] as i64,
                lanes[2] as i64,
                lanes[3] as i64,
            )
        }

        super::vector::transposed_batch!($features, __m256i, BATCH);

        // ENTRY POINTS
        // ================================================================================================

        /// The seven rounds on one state.
        ///
        /// # Safety
        ///
        /// Safe to call only where the CPU has every feature of the path (the parent module checks at
        /// run time).
        #[target_feature(enable = $features)]
        pub(super) fn permute(words: &mut [u64; WIDTH]) {
            let mut state = load(words);
            for round in 0..NUM_ROUNDS {
                apply_round(&mut state, round);
            }
            *words = store(state);
        }

        /// The seven rounds on two independent states at once.
        ///
        /// # Safety
        ///
        /// Safe to call only where the CPU has every feature of the path (the parent module checks at
        /// run time).
        #[target_feature(enable = $features)]
        pub(super) fn permute_pair(a: &mut [u64; WIDTH], b: &mut [u64; WIDTH]) {
            let [a0, a1, a2] = load(a);
            let [b0, b1, b2] = load(b);
            let mut state = [a0, a1, a2, b0, b1, b2];
            for round in 0..NUM_ROUNDS {
                apply_round(&mut state, round);
            }
            *a = store([state[0], state[1], state[2]]);
            *b = store([state[3], state[4], state[5]]);
        }

        /// The seven rounds on one state, keeping the state after each.
        ///
        /// # Safety
        ///
        /// Safe to call only where the CPU has every feature of the path (the parent module checks at
        /// run time).
        #[target_feature(enable = $features)]
        pub(super) fn permute_rounds(
            words: &mut [u64; WIDTH],
            out: &mut [[u64; WIDTH]; NUM_ROUNDS],
        ) {
            let mut state = load(words);
            for (round, row) in out.iter_mut().enumerate() {
                apply_round(&mut state, round);
                *row = store(state);
            }
            *words = store(state);
        }
    };
}

pub(super) use vector_permutation;

/// Expands the S-box and its inverse (`sbox`, `inv_sbox`, and their `square_all`,
/// `square_n_mul`) on arrays of the vector type `$vec`, for the target features `$features`,
/// using the `square` and `mul` of the module it is expanded in: the same addition chain for
/// every vector width.
macro_rules! sbox_layers {
    ($features:literal, $vec:ty) => {
        /// `x^7` per word, the products in the scalar order.
        #[inline]
        #[target_feature(enable = $features)]
        fn sbox<const N: usize>(state: &mut [$vec; N]) {
            for v in state.iter_mut() {
                let x2 = square(*v);
                let x4 = square(x2);
                let x3 = mul(x2, *v);
                *v = mul(x3, x4);
            }
        }

        /// Squares each vector `n` times, then multiplies by `tail`.
        #[inline]
        #[target_feature(enable = $features)]
        fn square_n_mul<const N: usize>(
            mut base: [$vec; N],
            n: usize,
            tail: &[$vec; N],
        ) -> [$vec; N] {
            for _ in 0..n {
                for v in base.iter_mut() {
                    *v = square(*v);
                }
            }
            for (v, t) in base.iter_mut().zip(tail) {
                *v = mul(*v, *t);
            }
            base
        }

        /// Squares each vector.
        #[inline]
        #[target_feature(enable = $features)]
        fn square_all<const N: usize>(mut base: [$vec; N]) -> [$vec; N] {
            for v in base.iter_mut() {
                *v = square(*v);
            }
            base
        }

        /// `x^(1/7)` per word by the scalar path's addition chain.
        #[inline]
        #[target_feature(enable = $features)]
        fn inv_sbox<const N: usize>(state: &mut [$vec; N]) {
            let t1 = square_all(*state);
            let t2 = square_all(t1);
            let t3 = square_n_mul(t2, 3, &t2);
            let t4 = square_n_mul(t3, 6, &t3);
            let t5 = square_n_mul(t4, 12, &t4);
            let t6 = square_n_mul(t5, 6, &t3);
            let t7 = square_n_mul(t6, 31, &t6);
            for j in 0..N {
                let a = square(square(mul(square(t7[j]), t6[j])));
                let b = mul(mul(t1[j], t2[j]), state[j]);
                state[j] = mul(a, b);
            }
        }
    };
}

pub(super) use sbox_layers;

/// Expands the transposed batch (`permute_batch`, `permute_rounds_batch` and their layers) for
/// `$n` states on vectors of type `$vec`, one state per lane: vector `e` holds word `e` of each
/// state. The S-boxes and the constants work word by word, so they run on twelve independent
/// vectors, enough in flight to keep the vector ports busy where one or two states leave them
/// waiting on each product's latency; the MDS layer mixes the words of a state, which are whole
/// vectors here, so it needs no broadcast or reload.
///
/// Uses the module's lane arithmetic (`add_neg`, `fold_mds`, and the `sbox` / `inv_sbox` of
/// [`sbox_layers!`]) and its lane helpers: `splat`, `high_halves`, `add_lanes`,
/// `mul_low_halves` (the 64-bit products of the low 32 bits of each lane) and `from_lanes`.
macro_rules! transposed_batch {
    ($features:literal, $vec:ty, $n:expr) => {
        /// The MDS layer on transposed states: per output word, the matrix row's constants times
        /// each input word's two 32-bit halves, summed, then folded as in the scalar path.
        #[inline]
        #[target_feature(enable = $features)]
        fn apply_mds_batch(state: &mut [$vec; WIDTH]) {
            let zero = splat(0);
            let mut hi = [zero; WIDTH];
            for (h, v) in hi.iter_mut().zip(state.iter()) {
                *h = high_halves(*v);
            }
            let mut out = [zero; WIDTH];
            for (row, o) in MDS.iter().zip(out.iter_mut()) {
                let (mut l, mut h) = (zero, zero);
                for c in 0..WIDTH {
                    let k = splat(row[c]);
                    // The product reads only the low 32 bits of each lane.
                    l = add_lanes(l, mul_low_halves(k, state[c]));
                    h = add_lanes(h, mul_low_halves(k, hi[c]));
                }
                *o = fold_mds(l, h);
            }
            *state = out;
        }

        /// Adds one half-round's constants to transposed states.
        #[inline]
        #[target_feature(enable = $features)]
        fn add_constants_batch(state: &mut [$vec; WIDTH], neg_ark: &[u64; WIDTH]) {
            for (v, k) in state.iter_mut().zip(neg_ark) {
                *v = add_neg(*v, splat(*k));
            }
        }

        /// One round on transposed states.
        #[inline]
        #[target_feature(enable = $features)]
        fn apply_round_batch(state: &mut [$vec; WIDTH], round: usize) {
            apply_mds_batch(state);
            add_constants_batch(state, &NEG_ARK1[round]);
            sbox(state);
            apply_mds_batch(state);
            add_constants_batch(state, &NEG_ARK2[round]);
            inv_sbox(state);
        }

        /// The states as twelve vectors, word `e` of state `s` in lane `s` of vector `e`.
        #[inline]
        #[target_feature(enable = $features)]
        fn load_batch(words: &[[u64; WIDTH]; $n]) -> [$vec; WIDTH] {
            core::array::from_fn(|e| from_lanes(core::array::from_fn(|s| words[s][e])))
        }

        /// The inverse of [`load_batch`].
        #[inline]
        #[target_feature(enable = $features)]
        fn store_batch(state: &[$vec; WIDTH], words: &mut [[u64; WIDTH]; $n]) {
            for (e, v) in state.iter().enumerate() {
                // SAFETY: the vector and `[u64; $n]` are both `8·$n` plain bytes with no invalid
                // bit patterns.
                let lanes = unsafe { core::mem::transmute::<$vec, [u64; $n]>(*v) };
                for (s, lane) in lanes.into_iter().enumerate() {
                    words[s][e] = lane;
                }
            }
        }

        /// The seven rounds on independent states at once, transposed.
        ///
        /// # Safety
        ///
        /// Safe to call only where the CPU has every feature of the path (the parent module checks at
        /// run time).
        #[target_feature(enable = $features)]
        pub(super) fn permute_batch(words: &mut [[u64; WIDTH]; $n]) {
            let mut state = load_batch(words);
            for round in 0..NUM_ROUNDS {
                apply_round_batch(&mut state, round);
            }
            store_batch(&state, words);
        }

        /// [`permute_batch`], keeping each state after each round (`out[s][round]`).
        ///
        /// # Safety
        ///
        /// Safe to call only where the CPU has every feature of the path (the parent module checks at
        /// run time).
        #[target_feature(enable = $features)]
        pub(super) fn permute_rounds_batch(
            words: &mut [[u64; WIDTH]; $n],
            out: &mut [[[u64; WIDTH]; NUM_ROUNDS]; $n],
        ) {
            let mut state = load_batch(words);
            for round in 0..NUM_ROUNDS {
                apply_round_batch(&mut state, round);
                store_batch(&state, words);
                for (rows, w) in out.iter_mut().zip(words.iter()) {
                    rows[round] = *w;
                }
            }
        }
    };
}

pub(super) use transposed_batch;
