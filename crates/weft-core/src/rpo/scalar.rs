//! The portable RPO-256 permutation on raw Montgomery words.
//!
//! `miden-crypto`'s `Felt` stores `x·2^64 mod p` in a `u64` and compares the stored words bit for
//! bit, and a few of its steps can leave a word in `[p, 2^64)` (the MDS reduction, an addition fed
//! such a word, a product of two such words). Bit-identity therefore means reproducing every
//! reduction step on the stored words, not only computing the same field values. Each helper
//! below is written to give the same word as the corresponding `miden-crypto` step for every
//! `u64` input, and each S-box evaluates the same products in the same order.
//!
//! The S-box chains are written once, generic over [`Lanes`] (a whole state's elements under
//! one arithmetic), so the BMI2 path (`bmi2` module) runs the same products on its split state.

use super::consts::{EPSILON, MDS, NEG_ARK1, NEG_ARK2, NUM_ROUNDS, WIDTH};

/// A state's twelve elements under some arithmetic: what the S-box chains need. Each product
/// must give, element by element, `miden-crypto`'s word for every input.
pub(super) trait Lanes: Copy {
    /// Each element times itself.
    fn square(self) -> Self;
    /// Each element times the matching element of `other`.
    fn mul(self, other: Self) -> Self;
}

/// The portable arithmetic on the stored words.
impl Lanes for [u64; WIDTH] {
    #[inline(always)]
    fn square(self) -> Self {
        self.map(|v| mul(v, v))
    }

    #[inline(always)]
    fn mul(self, other: Self) -> Self {
        core::array::from_fn(|i| mul(self[i], other[i]))
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
pub(super) fn add_neg(a: u64, neg_k: u64) -> u64 {
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

/// `x^7` as `x^3·x^4` with `x^2`, `x^4` and `x^3 = x^2·x`, element-wise.
#[inline(always)]
pub(super) fn exp7<L: Lanes>(x: L) -> L {
    let x2 = x.square();
    let x4 = x2.square();
    let x3 = x2.mul(x);
    x3.mul(x4)
}

/// Squares `base` `n` times, then multiplies by `tail`, element-wise.
#[inline(always)]
fn square_n_mul<L: Lanes>(mut base: L, n: usize, tail: L) -> L {
    for _ in 0..n {
        base = base.square();
    }
    base.mul(tail)
}

/// `x^(1/7)`, i.e. `x^10540996611094048183`, element-wise, by the addition chain of 72 products
/// `miden-crypto` uses (the same products, which matters for words at or above `p`).
#[inline(always)]
pub(super) fn inv_sbox<L: Lanes>(x: L) -> L {
    let t1 = x.square();
    let t2 = t1.square();
    let t3 = square_n_mul(t2, 3, t2);
    let t4 = square_n_mul(t3, 6, t3);
    let t5 = square_n_mul(t4, 12, t4);
    let t6 = square_n_mul(t5, 6, t3);
    let t7 = square_n_mul(t6, 31, t6);
    let a = t7.square().mul(t6).square().square();
    let b = t1.mul(t2).mul(x);
    a.mul(b)
}

/// Adds one half-round's constants (given as `p - k`) to each word.
#[inline(always)]
fn add_constants(state: &[u64; WIDTH], neg_ark: &[u64; WIDTH]) -> [u64; WIDTH] {
    core::array::from_fn(|i| add_neg(state[i], neg_ark[i]))
}

/// One RPO round: MDS, constants, `x^7`; MDS, constants, `x^(1/7)`.
#[inline(always)]
fn apply_round(state: &mut [u64; WIDTH], round: usize) {
    apply_mds(state);
    *state = exp7(add_constants(state, &NEG_ARK1[round]));
    apply_mds(state);
    *state = inv_sbox(add_constants(state, &NEG_ARK2[round]));
}

/// The seven rounds.
pub(super) fn permute(state: &mut [u64; WIDTH]) {
    for round in 0..NUM_ROUNDS {
        apply_round(state, round);
    }
}

/// The seven rounds, keeping the state after each.
pub(super) fn permute_rounds(state: &mut [u64; WIDTH], out: &mut [[u64; WIDTH]; NUM_ROUNDS]) {
    for (round, row) in out.iter_mut().enumerate() {
        apply_round(state, round);
        *row = *state;
    }
}
