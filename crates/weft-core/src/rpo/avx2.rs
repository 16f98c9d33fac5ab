//! The RPO-256 permutation with AVX2: a state is three 256-bit vectors of four words each.
//!
//! Every function here carries `#[target_feature(enable = "avx2")]`, so calling one from code
//! compiled without AVX2 is `unsafe`: the dispatcher in the parent module does it only after
//! `is_x86_feature_detected!("avx2")` said yes. The arithmetic mirrors [`super::scalar`] step for
//! step on the stored Montgomery words (the same products in the same order, the same
//! reductions with the same carries and borrows), so the two paths agree bit for bit on every
//! input. AVX2 has no unsigned 64-bit comparison: `a >u b` is computed as a signed comparison of
//! both operands with their top bit flipped.

use core::arch::x86_64::{
    __m256i, _mm256_add_epi64, _mm256_and_si256, _mm256_blend_epi32, _mm256_cmpgt_epi64,
    _mm256_mul_epu32, _mm256_set1_epi64x, _mm256_setr_epi64x, _mm256_slli_epi64, _mm256_srli_epi64,
    _mm256_sub_epi64, _mm256_xor_si256,
};

use super::consts::{MDS, NEG_ARK1, NEG_ARK2, NUM_ROUNDS, WIDTH};

/// A whole state: words 0-3, 4-7 and 8-11.
type State = [__m256i; 3];

/// All-ones masks (a comparison result) shifted right by 32 give this `2^32 - 1` per lane.
const SHIFT_TO_EPSILON: i32 = 32;

// LANE ARITHMETIC
// ================================================================================================

/// `a >u b` per lane, as an all-ones or all-zeros mask.
#[inline]
#[target_feature(enable = "avx2")]
fn gt_unsigned(a: __m256i, b: __m256i) -> __m256i {
    let sign = _mm256_set1_epi64x(i64::MIN);
    _mm256_cmpgt_epi64(_mm256_xor_si256(a, sign), _mm256_xor_si256(b, sign))
}

/// Montgomery reduction of `hi·2^64 + lo` per lane, the same steps as `scalar::mont_reduce`.
#[inline]
#[target_feature(enable = "avx2")]
fn mont_reduce(lo: __m256i, hi: __m256i) -> __m256i {
    let q = _mm256_add_epi64(lo, _mm256_slli_epi64::<32>(lo));
    // The addition carried exactly when the sum is below an operand; the mask is -1 then, so
    // adding it subtracts the carry.
    let carry = gt_unsigned(lo, q);
    let b = _mm256_add_epi64(_mm256_sub_epi64(q, _mm256_srli_epi64::<32>(q)), carry);
    let r = _mm256_sub_epi64(hi, b);
    let borrow = gt_unsigned(b, hi);
    _mm256_sub_epi64(r, _mm256_srli_epi64::<SHIFT_TO_EPSILON>(borrow))
}

/// The full 128-bit products `a·b` per lane as (low, high) words, from four 32×32 products.
#[inline]
#[target_feature(enable = "avx2")]
fn wide_mul(a: __m256i, b: __m256i) -> (__m256i, __m256i) {
    let mask32 = _mm256_set1_epi64x(0xffff_ffff);
    let a_hi = _mm256_srli_epi64::<32>(a);
    let b_hi = _mm256_srli_epi64::<32>(b);
    let ll = _mm256_mul_epu32(a, b);
    let lh = _mm256_mul_epu32(a, b_hi);
    let hl = _mm256_mul_epu32(a_hi, b);
    let hh = _mm256_mul_epu32(a_hi, b_hi);
    // None of these sums overflow: each adds at most 2^32 - 1 to a product of two 32-bit halves.
    let t0 = _mm256_add_epi64(hl, _mm256_srli_epi64::<32>(ll));
    let t1 = _mm256_add_epi64(lh, _mm256_and_si256(t0, mask32));
    let hi = _mm256_add_epi64(
        _mm256_add_epi64(hh, _mm256_srli_epi64::<32>(t0)),
        _mm256_srli_epi64::<32>(t1),
    );
    let lo = _mm256_blend_epi32::<0b1010_1010>(ll, _mm256_slli_epi64::<32>(t1));
    (lo, hi)
}

/// The full 128-bit squares per lane: [`wide_mul`] with the two cross products equal.
#[inline]
#[target_feature(enable = "avx2")]
fn wide_square(a: __m256i) -> (__m256i, __m256i) {
    let mask32 = _mm256_set1_epi64x(0xffff_ffff);
    let a_hi = _mm256_srli_epi64::<32>(a);
    let ll = _mm256_mul_epu32(a, a);
    let lh = _mm256_mul_epu32(a, a_hi);
    let hh = _mm256_mul_epu32(a_hi, a_hi);
    let t0 = _mm256_add_epi64(lh, _mm256_srli_epi64::<32>(ll));
    let t1 = _mm256_add_epi64(lh, _mm256_and_si256(t0, mask32));
    let hi = _mm256_add_epi64(
        _mm256_add_epi64(hh, _mm256_srli_epi64::<32>(t0)),
        _mm256_srli_epi64::<32>(t1),
    );
    let lo = _mm256_blend_epi32::<0b1010_1010>(ll, _mm256_slli_epi64::<32>(t1));
    (lo, hi)
}

/// The Montgomery product per lane.
#[inline]
#[target_feature(enable = "avx2")]
fn mul(a: __m256i, b: __m256i) -> __m256i {
    let (lo, hi) = wide_mul(a, b);
    mont_reduce(lo, hi)
}

/// The Montgomery square per lane (the same word as `mul(a, a)`).
#[inline]
#[target_feature(enable = "avx2")]
fn square(a: __m256i) -> __m256i {
    let (lo, hi) = wide_square(a);
    mont_reduce(lo, hi)
}

/// `a - neg_k` with the wrap correction of `Felt` addition, where `neg_k = p - k`.
#[inline]
#[target_feature(enable = "avx2")]
fn add_neg(a: __m256i, neg_k: __m256i) -> __m256i {
    let x = _mm256_sub_epi64(a, neg_k);
    let borrow = gt_unsigned(neg_k, a);
    _mm256_sub_epi64(x, _mm256_srli_epi64::<SHIFT_TO_EPSILON>(borrow))
}

/// Folds `l + h·2^32` per lane, the same steps as `scalar::fold_mds`.
#[inline]
#[target_feature(enable = "avx2")]
fn fold_mds(l: __m256i, h: __m256i) -> __m256i {
    let s_lo = _mm256_add_epi64(l, _mm256_slli_epi64::<32>(h));
    let carry = gt_unsigned(l, s_lo);
    let s_hi = _mm256_sub_epi64(_mm256_srli_epi64::<32>(h), carry);
    let z = _mm256_sub_epi64(_mm256_slli_epi64::<32>(s_hi), s_hi);
    let res = _mm256_add_epi64(s_lo, z);
    let over = gt_unsigned(s_lo, res);
    _mm256_add_epi64(res, _mm256_srli_epi64::<SHIFT_TO_EPSILON>(over))
}

// STATE LAYERS
// ================================================================================================
//
// The layers work on `K` states at once, `3·K` vectors: state `k` is vectors `3k..3k + 3`. The
// states are independent, so interleaving them gives the out-of-order core more independent
// products to overlap; `K = 1` is the single-state path.

/// Four consecutive words of a 12-word row as a vector.
#[inline]
#[target_feature(enable = "avx2")]
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
#[target_feature(enable = "avx2")]
fn load(words: &[u64; WIDTH]) -> State {
    [
        row_vector(words, 0),
        row_vector(words, 1),
        row_vector(words, 2),
    ]
}

/// Stores a state.
#[inline]
#[target_feature(enable = "avx2")]
fn store(state: State) -> [u64; WIDTH] {
    // SAFETY: `[__m256i; 3]` and `[u64; 12]` are both 96 plain bytes with no invalid bit patterns;
    // the target array's alignment (8) is no stricter than the source's (32).
    unsafe { core::mem::transmute::<State, [u64; WIDTH]>(state) }
}

/// The MDS layer on one state: for each input word, its two 32-bit halves broadcast and
/// multiplied into the matching column of the matrix, summed per output; then folded as in the
/// scalar path.
#[inline]
#[target_feature(enable = "avx2")]
fn apply_mds(state: &mut [__m256i]) {
    let words = store([state[0], state[1], state[2]]);
    let zero = _mm256_set1_epi64x(0);
    let mut l = [zero; 3];
    let mut h = [zero; 3];
    for (c, &word) in words.iter().enumerate() {
        // `_mm256_mul_epu32` reads only the low 32 bits of each lane, so the word itself serves
        // as its low half.
        let lo = _mm256_set1_epi64x(word as i64);
        let hi = _mm256_set1_epi64x((word >> 32) as i64);
        for j in 0..3 {
            let column = _mm256_setr_epi64x(
                MDS[4 * j][c] as i64,
                MDS[4 * j + 1][c] as i64,
                MDS[4 * j + 2][c] as i64,
                MDS[4 * j + 3][c] as i64,
            );
            l[j] = _mm256_add_epi64(l[j], _mm256_mul_epu32(column, lo));
            h[j] = _mm256_add_epi64(h[j], _mm256_mul_epu32(column, hi));
        }
    }
    for j in 0..3 {
        state[j] = fold_mds(l[j], h[j]);
    }
}

/// The MDS layer on each of the states.
#[inline]
#[target_feature(enable = "avx2")]
fn apply_mds_all<const N: usize>(state: &mut [__m256i; N]) {
    for one in state.chunks_exact_mut(3) {
        apply_mds(one);
    }
}

/// Adds one half-round's constants to each state.
#[inline]
#[target_feature(enable = "avx2")]
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

/// `x^7` per word, the products in the scalar order.
#[inline]
#[target_feature(enable = "avx2")]
fn sbox<const N: usize>(state: &mut [__m256i; N]) {
    for v in state.iter_mut() {
        let x2 = square(*v);
        let x4 = square(x2);
        let x3 = mul(x2, *v);
        *v = mul(x3, x4);
    }
}

/// Squares each vector `n` times, then multiplies by `tail`.
#[inline]
#[target_feature(enable = "avx2")]
fn square_n_mul<const N: usize>(
    mut base: [__m256i; N],
    n: usize,
    tail: &[__m256i; N],
) -> [__m256i; N] {
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
#[target_feature(enable = "avx2")]
fn square_all<const N: usize>(mut base: [__m256i; N]) -> [__m256i; N] {
    for v in base.iter_mut() {
        *v = square(*v);
    }
    base
}

/// `x^(1/7)` per word by the scalar path's addition chain.
#[inline]
#[target_feature(enable = "avx2")]
fn inv_sbox<const N: usize>(state: &mut [__m256i; N]) {
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

/// One round on each state.
#[inline]
#[target_feature(enable = "avx2")]
fn apply_round<const N: usize>(state: &mut [__m256i; N], round: usize) {
    apply_mds_all(state);
    add_constants(state, &NEG_ARK1[round]);
    sbox(state);
    apply_mds_all(state);
    add_constants(state, &NEG_ARK2[round]);
    inv_sbox(state);
}

// ENTRY POINTS
// ================================================================================================

/// The seven rounds on one state.
///
/// # Safety
///
/// Safe to call only where AVX2 is available (the parent module checks at run time).
#[target_feature(enable = "avx2")]
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
/// Safe to call only where AVX2 is available (the parent module checks at run time).
#[target_feature(enable = "avx2")]
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
/// Safe to call only where AVX2 is available (the parent module checks at run time).
#[target_feature(enable = "avx2")]
pub(super) fn permute_rounds(words: &mut [u64; WIDTH], out: &mut [[u64; WIDTH]; NUM_ROUNDS]) {
    let mut state = load(words);
    for (round, row) in out.iter_mut().enumerate() {
        apply_round(&mut state, round);
        *row = store(state);
    }
    *words = store(state);
}
