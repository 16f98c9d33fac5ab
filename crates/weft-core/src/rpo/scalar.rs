//! The portable RPO-256 permutation on raw Montgomery words.
//!
//! `miden-crypto`'s `Felt` stores `x·2^64 mod p` in a `u64` and compares the stored words bit for
//! bit, and a few of its steps can leave a word in `[p, 2^64)` (the MDS reduction, an addition fed
//! such a word, a product of two such words). Bit-identity therefore means reproducing every
//! reduction step on the stored words, not only computing the same field values. Each helper
//! below is written to give the same word as the corresponding `miden-crypto` step for every
//! `u64` input, and each S-box evaluates the same products in the same order.
//!
//! The layers are generic over [`Arith`], the product and the MDS layer, so the BMI2 path
//! (`bmi2` module) runs the same addition chains with its own instructions.

use super::consts::{EPSILON, MDS, NEG_ARK1, NEG_ARK2, NUM_ROUNDS, WIDTH};

/// The two operations a scalar path supplies: the Montgomery product of two stored words and
/// the MDS layer. Each must give `miden-crypto`'s word for every input.
pub(super) trait Arith {
    /// The Montgomery product of two stored words.
    fn mul(a: u64, b: u64) -> u64;
    /// The MDS layer.
    fn mds(state: &mut [u64; WIDTH]);
}

/// Portable Rust, on every target.
pub(super) struct Portable;

impl Arith for Portable {
    #[inline(always)]
    fn mul(a: u64, b: u64) -> u64 {
        mul(a, b)
    }

    #[inline(always)]
    fn mds(state: &mut [u64; WIDTH]) {
        apply_mds(state);
    }
}

/// Montgomery reduction of the 128-bit value `hi·2^64 + lo`: returns a word congruent to
/// `(hi·2^64 + lo)·2^-64 mod p`, below `p` whenever `hi < p`.
#[inline(always)]
pub(super) fn mont_reduce(lo: u64, hi: u64) -> u64 {
    // q = lo·(1 + 2^32) mod 2^64 is the Montgomery quotient; b = floor(q·p / 2^64), obtained
    // with shifts because p = 2^64 - 2^32 + 1.
    let (q, carry) = lo.overflowing_add(lo << 32);
    let b = q.wrapping_sub(q >> 32).wrapping_sub(u64::from(carry));
    let (r, borrow) = hi.overflowing_sub(b);
    r.wrapping_sub(EPSILON * u64::from(borrow))
}

/// The Montgomery product of two stored words.
#[inline(always)]
pub(super) fn mul(a: u64, b: u64) -> u64 {
    let x = u128::from(a) * u128::from(b);
    mont_reduce(x as u64, (x >> 64) as u64)
}

/// Adds a round constant given as `p - k` (so the step is `a - (p - k)`, as `Felt`'s `+` does).
#[inline(always)]
fn add_neg(a: u64, neg_k: u64) -> u64 {
    let (x, borrow) = a.overflowing_sub(neg_k);
    x.wrapping_sub(EPSILON * u64::from(borrow))
}

/// Folds the 72-bit integer `l + h·2^32` (both below `2^40`) into a word as `miden-crypto`'s MDS
/// step does: `2^64 ≡ 2^32 - 1`, then one conditional correction.
#[inline(always)]
pub(super) fn fold_mds(l: u64, h: u64) -> u64 {
    let (s_lo, carry) = l.overflowing_add(h << 32);
    let s_hi = (h >> 32) + u64::from(carry);
    let z = (s_hi << 32) - s_hi;
    let (res, over) = s_lo.overflowing_add(z);
    res.wrapping_add(EPSILON * u64::from(over))
}

/// The MDS layer: each output is the exact integer `Σ MDS[r][c]·s[c]`, computed on the 32-bit
/// halves of the words so that nothing overflows, then folded.
#[inline(always)]
pub(super) fn apply_mds(state: &mut [u64; WIDTH]) {
    let lo: [u64; WIDTH] = core::array::from_fn(|c| state[c] & EPSILON);
    let hi: [u64; WIDTH] = core::array::from_fn(|c| state[c] >> 32);
    for (r, out) in state.iter_mut().enumerate() {
        let mut l = 0u64;
        let mut h = 0u64;
        for c in 0..WIDTH {
            l += MDS[r][c] * lo[c];
            h += MDS[r][c] * hi[c];
        }
        *out = fold_mds(l, h);
    }
}

/// `x^7` as `x^3·x^4` with `x^2`, `x^4` and `x^3 = x^2·x` in that order.
#[inline(always)]
fn exp7<A: Arith>(x: u64) -> u64 {
    let x2 = A::mul(x, x);
    let x4 = A::mul(x2, x2);
    let x3 = A::mul(x2, x);
    A::mul(x3, x4)
}

/// Squares every element `n` times, then multiplies by `tail`, element-wise.
#[inline(always)]
fn square_n_mul<A: Arith>(mut base: [u64; WIDTH], n: usize, tail: &[u64; WIDTH]) -> [u64; WIDTH] {
    for _ in 0..n {
        base.iter_mut().for_each(|v| *v = A::mul(*v, *v));
    }
    base.iter_mut()
        .zip(tail)
        .for_each(|(v, t)| *v = A::mul(*v, *t));
    base
}

/// `x^(1/7)`, i.e. `x^10540996611094048183`, by the addition chain of 72 products `miden-crypto`
/// uses (the same products in the same order, which matters for words at or above `p`).
#[inline(always)]
fn inv_sbox<A: Arith>(state: &mut [u64; WIDTH]) {
    let mut t1 = *state;
    t1.iter_mut().for_each(|v| *v = A::mul(*v, *v));
    let mut t2 = t1;
    t2.iter_mut().for_each(|v| *v = A::mul(*v, *v));
    let t3 = square_n_mul::<A>(t2, 3, &t2);
    let t4 = square_n_mul::<A>(t3, 6, &t3);
    let t5 = square_n_mul::<A>(t4, 12, &t4);
    let t6 = square_n_mul::<A>(t5, 6, &t3);
    let t7 = square_n_mul::<A>(t6, 31, &t6);
    for i in 0..WIDTH {
        let a = A::mul(A::mul(t7[i], t7[i]), t6[i]);
        let a = A::mul(a, a);
        let a = A::mul(a, a);
        let b = A::mul(A::mul(t1[i], t2[i]), state[i]);
        state[i] = A::mul(a, b);
    }
}

/// One RPO round: MDS, constants, `x^7`; MDS, constants, `x^(1/7)`.
#[inline(always)]
fn apply_round<A: Arith>(state: &mut [u64; WIDTH], round: usize) {
    A::mds(state);
    for i in 0..WIDTH {
        state[i] = exp7::<A>(add_neg(state[i], NEG_ARK1[round][i]));
    }
    A::mds(state);
    for i in 0..WIDTH {
        state[i] = add_neg(state[i], NEG_ARK2[round][i]);
    }
    inv_sbox::<A>(state);
}

/// The seven rounds on the portable arithmetic.
pub(super) fn permute(state: &mut [u64; WIDTH]) {
    permute_on::<Portable>(state);
}

/// The seven rounds on the portable arithmetic, keeping the state after each.
pub(super) fn permute_rounds(state: &mut [u64; WIDTH], out: &mut [[u64; WIDTH]; NUM_ROUNDS]) {
    permute_rounds_on::<Portable>(state, out);
}

/// The seven rounds on the arithmetic `A`.
#[inline(always)]
pub(super) fn permute_on<A: Arith>(state: &mut [u64; WIDTH]) {
    for round in 0..NUM_ROUNDS {
        apply_round::<A>(state, round);
    }
}

/// The seven rounds on the arithmetic `A`, keeping the state after each.
#[inline(always)]
pub(super) fn permute_rounds_on<A: Arith>(
    state: &mut [u64; WIDTH],
    out: &mut [[u64; WIDTH]; NUM_ROUNDS],
) {
    for (round, row) in out.iter_mut().enumerate() {
        apply_round::<A>(state, round);
        *row = *state;
    }
}
