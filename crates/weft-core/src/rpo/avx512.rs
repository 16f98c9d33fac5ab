//! The lane arithmetic of the AVX-512 permutation path; the layers are [`super::vector`]'s.
//!
//! The vectors are the same 256-bit ones as the AVX2 path's, so the state layout and the layers
//! are shared; what AVX-512 (F and VL) adds is unsigned 64-bit comparisons into mask registers
//! and additions under a mask. Every carry and borrow of the reduction then costs two
//! instructions instead of five, which is most of the arithmetic's instruction count (the
//! permutation is bound by it, three independent vectors per state keep the ports busy).
//!
//! Every function here carries `#[target_feature(enable = "avx2,avx512f,avx512vl")]`, so calling
//! one from code compiled without them is `unsafe`: the dispatcher in the parent module does it
//! only after `is_x86_feature_detected!` said yes to each. The arithmetic repeats
//! [`super::scalar`]'s steps on the stored Montgomery words (the same products, the same
//! reductions with the same carries and borrows), so every path agrees bit for bit.

use core::arch::x86_64::{
    __m256i, _mm256_add_epi64, _mm256_cmplt_epu64_mask, _mm256_mask_add_epi64,
    _mm256_mask_sub_epi64, _mm256_mul_epu32, _mm256_set1_epi32, _mm256_set1_epi64x,
    _mm256_setr_epi64x, _mm256_slli_epi64, _mm256_srli_epi64, _mm256_sub_epi64,
};

use super::consts::{BATCH, EPSILON, MDS, MDS_COLUMNS, NEG_ARK1, NEG_ARK2, NUM_ROUNDS, WIDTH};

/// A whole state: words 0-3, 4-7 and 8-11.
type State = [__m256i; 3];

// LANE ARITHMETIC
// ================================================================================================

/// `2^32 - 1` in every lane.
#[inline]
#[target_feature(enable = "avx2,avx512f,avx512vl")]
fn epsilon() -> __m256i {
    _mm256_set1_epi64x(EPSILON as i64)
}

/// Montgomery reduction of `hi·2^64 + lo` per lane, given `lo_shl = lo << 32`: the steps of
/// `scalar::mont_reduce`.
#[inline]
#[target_feature(enable = "avx2,avx512f,avx512vl")]
fn mont_reduce(lo: __m256i, lo_shl: __m256i, hi: __m256i) -> __m256i {
    let one = _mm256_set1_epi64x(1);
    let q = _mm256_add_epi64(lo, lo_shl);
    let carry = _mm256_cmplt_epu64_mask(q, lo);
    let b = _mm256_sub_epi64(q, _mm256_srli_epi64::<32>(q));
    let b = _mm256_mask_sub_epi64(b, carry, b, one);
    let r = _mm256_sub_epi64(hi, b);
    let borrow = _mm256_cmplt_epu64_mask(hi, b);
    _mm256_mask_sub_epi64(r, borrow, r, epsilon())
}

/// The Montgomery product per lane: the AVX2 path's 128-bit product, reduced with masks.
#[inline]
#[target_feature(enable = "avx2,avx512f,avx512vl")]
pub(super) fn mul(a: __m256i, b: __m256i) -> __m256i {
    let (lo, hi) = super::avx2::wide_mul(a, b);
    mont_reduce(lo, _mm256_slli_epi64::<32>(lo), hi)
}

/// The Montgomery square per lane (the same word as `mul(a, a)`): with `a = h·2^32 + l`,
/// `a² = (h² + (hl >> 31))·2^64 + l² + (hl << 33)`, the high word taking the carry of the low
/// word's addition.
#[inline]
#[target_feature(enable = "avx2,avx512f,avx512vl")]
pub(super) fn square(a: __m256i) -> __m256i {
    let one = _mm256_set1_epi64x(1);
    let a_hi = _mm256_srli_epi64::<32>(a);
    let ll = _mm256_mul_epu32(a, a);
    let lh = _mm256_mul_epu32(a, a_hi);
    let hh = _mm256_mul_epu32(a_hi, a_hi);
    let lo = _mm256_add_epi64(ll, _mm256_slli_epi64::<33>(lh));
    let carry = _mm256_cmplt_epu64_mask(lo, ll);
    let hi = _mm256_add_epi64(hh, _mm256_srli_epi64::<31>(lh));
    let hi = _mm256_mask_add_epi64(hi, carry, hi, one);
    mont_reduce(lo, _mm256_slli_epi64::<32>(ll), hi)
}

/// `a - neg_k` with the wrap correction of `Felt` addition, where `neg_k = p - k`.
#[inline]
#[target_feature(enable = "avx2,avx512f,avx512vl")]
pub(super) fn add_neg(a: __m256i, neg_k: __m256i) -> __m256i {
    let x = _mm256_sub_epi64(a, neg_k);
    let borrow = _mm256_cmplt_epu64_mask(a, neg_k);
    _mm256_mask_sub_epi64(x, borrow, x, epsilon())
}

/// Folds `l + h·2^32` per lane, the same steps as `scalar::fold_mds`.
#[inline]
#[target_feature(enable = "avx2,avx512f,avx512vl")]
fn fold_mds(l: __m256i, h: __m256i) -> __m256i {
    let one = _mm256_set1_epi64x(1);
    let s_lo = _mm256_add_epi64(l, _mm256_slli_epi64::<32>(h));
    let carry = _mm256_cmplt_epu64_mask(s_lo, l);
    let h_hi = _mm256_srli_epi64::<32>(h);
    let s_hi = _mm256_mask_add_epi64(h_hi, carry, h_hi, one);
    let z = _mm256_sub_epi64(_mm256_slli_epi64::<32>(s_hi), s_hi);
    let res = _mm256_add_epi64(s_lo, z);
    let over = _mm256_cmplt_epu64_mask(res, s_lo);
    _mm256_mask_add_epi64(res, over, res, epsilon())
}

super::vector::vector_permutation!("avx2,avx512f,avx512vl");

/// The MDS layer on a state held as words, as three vectors, for the split path (whose S-boxes
/// take the first two as they are and the third's words on the scalar units).
///
/// # Safety
///
/// Safe to call only where the CPU has AVX2, AVX-512F and AVX-512VL.
#[inline]
#[target_feature(enable = "avx2,avx512f,avx512vl")]
pub(super) fn mds_vectors(words: &[u64; WIDTH]) -> State {
    mds_of_words(words)
}
