//! The lane arithmetic of the AVX2 permutation path; the layers are [`super::vector`]'s.
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
    _mm256_mul_epu32, _mm256_set1_epi32, _mm256_set1_epi64x, _mm256_setr_epi64x, _mm256_slli_epi64,
    _mm256_srli_epi64, _mm256_sub_epi64, _mm256_xor_si256,
};

use super::consts::{BATCH, MDS, MDS_COLUMNS, NEG_ARK1, NEG_ARK2, NUM_ROUNDS, WIDTH};

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
pub(super) fn wide_mul(a: __m256i, b: __m256i) -> (__m256i, __m256i) {
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

/// The Montgomery product per lane.
#[inline]
#[target_feature(enable = "avx2")]
fn mul(a: __m256i, b: __m256i) -> __m256i {
    let (lo, hi) = wide_mul(a, b);
    mont_reduce(lo, hi)
}

/// The Montgomery square per lane (the same word as `mul(a, a)`), in fewer steps than `mul`:
/// with `a = h·2^32 + l`, `a² = (h² + (hl >> 31))·2^64 + l² + (hl << 33)`, so the low word is
/// one shift and one addition away from the products and the high word takes that addition's
/// carry; and `lo << 32` is `l² << 32`. The reduction then repeats `mont_reduce`'s steps.
#[inline]
#[target_feature(enable = "avx2")]
fn square(a: __m256i) -> __m256i {
    let sign = _mm256_set1_epi64x(i64::MIN);
    let a_hi = _mm256_srli_epi64::<32>(a);
    let ll = _mm256_mul_epu32(a, a);
    let lh = _mm256_mul_epu32(a, a_hi);
    let hh = _mm256_mul_epu32(a_hi, a_hi);
    let lo = _mm256_add_epi64(ll, _mm256_slli_epi64::<33>(lh));
    let lo_signed = _mm256_xor_si256(lo, sign);
    // The carry of `l² + (hl << 33)`: the sum is below `l²` (a -1 mask, so subtracting adds 1).
    let carry = _mm256_cmpgt_epi64(_mm256_xor_si256(ll, sign), lo_signed);
    let hi = _mm256_sub_epi64(_mm256_add_epi64(hh, _mm256_srli_epi64::<31>(lh)), carry);
    // `mont_reduce(lo, hi)`, with `lo << 32` taken from `l²`.
    let q = _mm256_add_epi64(lo, _mm256_slli_epi64::<32>(ll));
    let q_carry = _mm256_cmpgt_epi64(lo_signed, _mm256_xor_si256(q, sign));
    let b = _mm256_add_epi64(_mm256_sub_epi64(q, _mm256_srli_epi64::<32>(q)), q_carry);
    let r = _mm256_sub_epi64(hi, b);
    let borrow = gt_unsigned(b, hi);
    _mm256_sub_epi64(r, _mm256_srli_epi64::<SHIFT_TO_EPSILON>(borrow))
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

super::vector::vector_permutation!("avx2");
