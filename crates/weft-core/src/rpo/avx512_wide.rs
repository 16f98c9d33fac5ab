//! Eight independent states at once on 512-bit vectors, transposed: vector `e` holds word `e`
//! of each state, one state per lane. This module gives the 512-bit lane arithmetic, with the
//! same lane steps as [`super::avx512`] (the same products, the same reductions with the same
//! carries and borrows, so it agrees with every other path bit for bit); the layers and entry
//! points are the transposed batch of [`super::vector`] (`transposed_batch!`), the same code as
//! the four-state batch on 256-bit vectors.
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

/// Each lane's high 32 bits.
#[inline]
#[target_feature(enable = "avx512f")]
fn high_halves(v: __m512i) -> __m512i {
    _mm512_srli_epi64::<32>(v)
}

/// Lane-wise 64-bit sum.
#[inline]
#[target_feature(enable = "avx512f")]
fn add_lanes(a: __m512i, b: __m512i) -> __m512i {
    _mm512_add_epi64(a, b)
}

/// Lane-wise product of the low 32 bits of each lane.
#[inline]
#[target_feature(enable = "avx512f")]
fn mul_low_halves(a: __m512i, b: __m512i) -> __m512i {
    _mm512_mul_epu32(a, b)
}

/// A vector from its lanes, lane 0 first.
#[inline]
#[target_feature(enable = "avx512f")]
fn from_lanes(lanes: [u64; WIDE_BATCH]) -> __m512i {
    _mm512_setr_epi64(
        lanes[0] as i64,
        lanes[1] as i64,
        lanes[2] as i64,
        lanes[3] as i64,
        lanes[4] as i64,
        lanes[5] as i64,
        lanes[6] as i64,
        lanes[7] as i64,
    )
}

super::vector::sbox_layers!("avx512f", __m512i);

super::vector::transposed_batch!("avx512f", __m512i, WIDE_BATCH);
