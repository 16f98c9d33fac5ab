//! Eight independent states at once on 512-bit vectors, transposed: vector `e` holds word `e`
//! of each state, one state per lane. This is the transposed batch of [`super::vector`] (four
//! states on 256-bit vectors) twice as wide, with the same lane steps as [`super::avx512`]: the
//! same products, the same reductions with the same carries and borrows, so it agrees with
//! every other path bit for bit.
//!
//! It pays where eight or more independent permutations are at hand (the level-by-level checks
//! of a Merkle path, the hasher chiplet's rows): the twelve vectors of a round carry twice the
//! lanes of the 256-bit batch for about the same number of instructions, where a CPU executes
//! 512-bit integer products and compares at the same rate as 256-bit ones.
//!
//! Every function carries `#[target_feature(enable = "avx512f")]`, so calling one from code
//! compiled without it is `unsafe`: the dispatcher in the parent module does it only on the
//! AVX-512 path, which it takes only after `is_x86_feature_detected!` said yes.

use core::arch::x86_64::{
    __m512i, _mm512_add_epi64, _mm512_and_si512, _mm512_cmplt_epu64_mask, _mm512_mask_add_epi64,
    _mm512_mask_blend_epi32, _mm512_mask_sub_epi64, _mm512_mul_epu32, _mm512_set1_epi64,
    _mm512_setr_epi64, _mm512_slli_epi64, _mm512_srli_epi64, _mm512_sub_epi64,
};

use super::consts::{EPSILON, MDS, NEG_ARK1, NEG_ARK2, NUM_ROUNDS, WIDTH};

/// States per call.
pub(super) const WIDE_BATCH: usize = 8;

/// Eight transposed states.
type Wide = [__m512i; WIDTH];

// LANE ARITHMETIC
// ================================================================================================

#[inline]
#[target_feature(enable = "avx512f")]
fn splat(value: u64) -> __m512i {
    _mm512_set1_epi64(value as i64)
}

/// Montgomery reduction of `hi·2^64 + lo` per lane, given `lo_shl = lo << 32`.
#[inline]
#[target_feature(enable = "avx512f")]
fn mont_reduce(lo: __m512i, lo_shl: __m512i, hi: __m512i) -> __m512i {
    let q = _mm512_add_epi64(lo, lo_shl);
    let carry = _mm512_cmplt_epu64_mask(q, lo);
    let b = _mm512_sub_epi64(q, _mm512_srli_epi64::<32>(q));
    let b = _mm512_mask_sub_epi64(b, carry, b, splat(1));
    let r = _mm512_sub_epi64(hi, b);
    let borrow = _mm512_cmplt_epu64_mask(hi, b);
    _mm512_mask_sub_epi64(r, borrow, r, splat(EPSILON))
}

/// The full 128-bit product per lane, from four 32×32-bit products.
#[inline]
#[target_feature(enable = "avx512f")]
fn wide_mul(a: __m512i, b: __m512i) -> (__m512i, __m512i) {
    let a_hi = _mm512_srli_epi64::<32>(a);
    let b_hi = _mm512_srli_epi64::<32>(b);
    let ll = _mm512_mul_epu32(a, b);
    let lh = _mm512_mul_epu32(a, b_hi);
    let hl = _mm512_mul_epu32(a_hi, b);
    let hh = _mm512_mul_epu32(a_hi, b_hi);
    // None of these sums overflow: each adds at most 2^32 - 1 to a product of two 32-bit halves.
    let t0 = _mm512_add_epi64(hl, _mm512_srli_epi64::<32>(ll));
    let t1 = _mm512_add_epi64(lh, _mm512_and_si512(t0, splat(0xffff_ffff)));
    let hi = _mm512_add_epi64(
        _mm512_add_epi64(hh, _mm512_srli_epi64::<32>(t0)),
        _mm512_srli_epi64::<32>(t1),
    );
    // The low word: `ll`'s low half, `t1`'s low half above it (odd 32-bit lanes).
    let lo = _mm512_mask_blend_epi32(0xaaaa, ll, _mm512_slli_epi64::<32>(t1));
    (lo, hi)
}

/// The Montgomery product per lane.
#[inline]
#[target_feature(enable = "avx512f")]
fn mul(a: __m512i, b: __m512i) -> __m512i {
    let (lo, hi) = wide_mul(a, b);
    mont_reduce(lo, _mm512_slli_epi64::<32>(lo), hi)
}

/// The Montgomery square per lane (the same word as `mul(a, a)`), as `avx512::square`.
#[inline]
#[target_feature(enable = "avx512f")]
fn square(a: __m512i) -> __m512i {
    let a_hi = _mm512_srli_epi64::<32>(a);
    let ll = _mm512_mul_epu32(a, a);
    let lh = _mm512_mul_epu32(a, a_hi);
    let hh = _mm512_mul_epu32(a_hi, a_hi);
    let lo = _mm512_add_epi64(ll, _mm512_slli_epi64::<33>(lh));
    let carry = _mm512_cmplt_epu64_mask(lo, ll);
    let hi = _mm512_add_epi64(hh, _mm512_srli_epi64::<31>(lh));
    let hi = _mm512_mask_add_epi64(hi, carry, hi, splat(1));
    mont_reduce(lo, _mm512_slli_epi64::<32>(ll), hi)
}

/// `a - neg_k` with the wrap correction of `Felt` addition, where `neg_k = p - k`.
#[inline]
#[target_feature(enable = "avx512f")]
fn add_neg(a: __m512i, neg_k: __m512i) -> __m512i {
    let x = _mm512_sub_epi64(a, neg_k);
    let borrow = _mm512_cmplt_epu64_mask(a, neg_k);
    _mm512_mask_sub_epi64(x, borrow, x, splat(EPSILON))
}

/// Folds `l + h·2^32` per lane, the same steps as `scalar::fold_mds`.
#[inline]
#[target_feature(enable = "avx512f")]
fn fold_mds(l: __m512i, h: __m512i) -> __m512i {
    let s_lo = _mm512_add_epi64(l, _mm512_slli_epi64::<32>(h));
    let carry = _mm512_cmplt_epu64_mask(s_lo, l);
    let h_hi = _mm512_srli_epi64::<32>(h);
    let s_hi = _mm512_mask_add_epi64(h_hi, carry, h_hi, splat(1));
    let z = _mm512_sub_epi64(_mm512_slli_epi64::<32>(s_hi), s_hi);
    let res = _mm512_add_epi64(s_lo, z);
    let over = _mm512_cmplt_epu64_mask(res, s_lo);
    _mm512_mask_add_epi64(res, over, res, splat(EPSILON))
}

// LAYERS
// ================================================================================================

/// The MDS layer: per output word, the matrix row's constants times each input word's two
/// 32-bit halves, summed, then folded.
#[inline]
#[target_feature(enable = "avx512f")]
fn apply_mds(state: &mut Wide) {
    let zero = splat(0);
    let mut hi = [zero; WIDTH];
    for (h, v) in hi.iter_mut().zip(state.iter()) {
        *h = _mm512_srli_epi64::<32>(*v);
    }
    let mut out = [zero; WIDTH];
    for (row, o) in MDS.iter().zip(out.iter_mut()) {
        let (mut l, mut h) = (zero, zero);
        for c in 0..WIDTH {
            let k = splat(row[c]);
            // `_mm512_mul_epu32` reads only the low 32 bits of each lane.
            l = _mm512_add_epi64(l, _mm512_mul_epu32(k, state[c]));
            h = _mm512_add_epi64(h, _mm512_mul_epu32(k, hi[c]));
        }
        *o = fold_mds(l, h);
    }
    *state = out;
}

#[inline]
#[target_feature(enable = "avx512f")]
fn add_constants(state: &mut Wide, neg_ark: &[u64; WIDTH]) {
    for (v, k) in state.iter_mut().zip(neg_ark) {
        *v = add_neg(*v, splat(*k));
    }
}

super::vector::sbox_layers!("avx512f", __m512i);

#[inline]
#[target_feature(enable = "avx512f")]
fn apply_round(state: &mut Wide, round: usize) {
    apply_mds(state);
    add_constants(state, &NEG_ARK1[round]);
    sbox(state);
    apply_mds(state);
    add_constants(state, &NEG_ARK2[round]);
    inv_sbox(state);
}

#[inline]
#[target_feature(enable = "avx512f")]
fn load(words: &[[u64; WIDTH]; WIDE_BATCH]) -> Wide {
    core::array::from_fn(|e| {
        _mm512_setr_epi64(
            words[0][e] as i64,
            words[1][e] as i64,
            words[2][e] as i64,
            words[3][e] as i64,
            words[4][e] as i64,
            words[5][e] as i64,
            words[6][e] as i64,
            words[7][e] as i64,
        )
    })
}

#[inline]
#[target_feature(enable = "avx512f")]
fn store(state: &Wide, words: &mut [[u64; WIDTH]; WIDE_BATCH]) {
    for (e, v) in state.iter().enumerate() {
        // SAFETY: `__m512i` and `[u64; 8]` are both 64 plain bytes with no invalid bit patterns.
        let lanes = unsafe { core::mem::transmute::<__m512i, [u64; 8]>(*v) };
        for (s, lane) in lanes.into_iter().enumerate() {
            words[s][e] = lane;
        }
    }
}

// ENTRY POINTS
// ================================================================================================

/// The seven rounds on eight independent states at once.
///
/// # Safety
///
/// Safe to call only where the CPU has AVX-512F (the parent module checks at run time).
#[target_feature(enable = "avx512f")]
pub(super) fn permute_batch(words: &mut [[u64; WIDTH]; WIDE_BATCH]) {
    let mut state = load(words);
    for round in 0..NUM_ROUNDS {
        apply_round(&mut state, round);
    }
    store(&state, words);
}

/// [`permute_batch`], keeping each state after each round (`out[s][round]`).
///
/// # Safety
///
/// Safe to call only where the CPU has AVX-512F (the parent module checks at run time).
#[target_feature(enable = "avx512f")]
pub(super) fn permute_rounds_batch(
    words: &mut [[u64; WIDTH]; WIDE_BATCH],
    out: &mut [[[u64; WIDTH]; NUM_ROUNDS]; WIDE_BATCH],
) {
    let mut state = load(words);
    for round in 0..NUM_ROUNDS {
        apply_round(&mut state, round);
        store(&state, words);
        for (rows, w) in out.iter_mut().zip(words.iter()) {
            rows[round] = *w;
        }
    }
}
