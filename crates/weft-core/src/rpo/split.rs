//! The split permutation path for one state at a time: the S-boxes of words 0-7 on two 256-bit
//! vectors (AVX-512's lane arithmetic) and of words 8-11 on the scalar units (BMI2), side by
//! side; the MDS layer on the vectors.
//!
//! # Why
//!
//! A lone state leaves the vector paths waiting on each product's latency (three vectors per
//! state are too few to hide it) and the scalar path short of ports (twelve chains of products,
//! each a dozen micro-operations). Splitting the state gives each side what it lacks: two
//! vectors' chains and four scalar ones run in the same cycles, the scalar ones on ports the
//! vector products leave free. Measured on the Intel Xeon VM (2.95 GHz), one state per call:
//!
//! | words on vectors / scalar units | µs a permutation |
//! |---|---:|
//! | 0 / 12 (hand-written product) | 5.89 |
//! | 4 / 8 | 5.43 |
//! | 8 / 4 (this path) | 4.9-5.0 (5.1-5.2 before the MDS columns were a table) |
//! | 8 on one 512-bit vector / 4 | 5.8 |
//! | 8 / 4, compiled for AVX2 only (16 vector registers, compares for carries) | 6.0 |
//! | 12 / 0 (the AVX-512 path) | 7.7 (5.8 with the MDS table) |
//! | `miden-crypto` (the compiled scalar product) | 6.5-6.8 |
//!
//! The other rows predate the MDS table. One step of the inverse S-box (every word squared
//! once), in a micro-benchmark of the same instructions: two 256-bit vectors and four scalar
//! words (this path) 23.2 cycles; three 256-bit vectors 26.4; a 512-bit and a 256-bit vector
//! 28.3; a 512-bit vector and four scalar words 26.1; and carries through `vpternlogq` instead
//! of mask compares, 24.9 cycles against 22.3 on two vectors alone. Inside the permutation a step
//! takes about 26 cycles (the inverse S-box alone is 4.3 µs of the 4.9). Unrolling its squaring
//! loops fully made the permutation slower (6.8 µs).
//!
//! The scalar product is written by hand (`mulx`, `shlx`/`shrx` around the carry, `sbb` for the
//! final correction): ten micro-operations and one multiplier-port product, where the compiled
//! `scalar::mul` (`miden-crypto`'s `mont_red_cst`) takes twelve and two (an `imul` by `2^32 + 1`
//! for the quotient); on twelve chains of squares, 2.2 cycles a product against 2.6.
//!
//! Every step computes exactly the words of the scalar and AVX-512 paths (the same products,
//! carries, borrows and corrections), so the path is bit-identical on every stored word, those
//! at or above `p` included; the differential tests run it like every other path.

use core::arch::x86_64::{__m256i, _mm256_setr_epi64x};

use super::consts::{NEG_ARK1, NEG_ARK2, NUM_ROUNDS, WIDTH};
use super::scalar::{self, Lanes};

/// Words on the two vectors; the rest go to the scalar units.
const ON_VECTORS: usize = 8;

/// The Montgomery product of two stored words: `(hi, lo) = a·b`, the quotient
/// `q = lo + lo·2^32` (carry `e`), `b = q - (q >> 32) - e`, then `hi - b`, less `2^32 - 1` when
/// that borrowed: `scalar::mont_reduce`'s steps.
#[inline(always)]
fn mulx(a: u64, b: u64) -> u64 {
    let out: u64;
    // SAFETY: register arithmetic only (no memory, no stack). `mulx`, `shlx` and `shrx` are
    // BMI2 instructions: this runs only inside this module's entry points, which the parent
    // module calls only where the CPU has BMI2.
    unsafe {
        core::arch::asm!(
            "mulx {hi}, {lo}, {b}",
            "shlx {q}, {lo}, {k32}",
            "add {q}, {lo}",
            "shrx {lo}, {q}, {k32}",
            "sbb {q}, {lo}",
            "sub {hi}, {q}",
            "sbb {lo:e}, {lo:e}",
            "sub {hi}, {lo}",
            in("rdx") a,
            b = in(reg) b,
            k32 = in(reg) 32u64,
            hi = out(reg) out,
            lo = out(reg) _,
            q = out(reg) _,
            options(pure, nomem, nostack),
        );
    }
    out
}

/// A state split across the two sides: words 0-7 on `vec`, words 8-11 in `words`.
///
/// Only this module's entry points, which carry the `bmi2`, `avx2`, `avx512f` and `avx512vl`
/// target features, build one, so its methods may use them all.
#[derive(Clone, Copy)]
struct Split {
    vec: [__m256i; 2],
    words: [u64; WIDTH - ON_VECTORS],
}

impl Split {
    /// The MDS layer of the words `state`, split.
    #[inline(always)]
    fn mds_of(state: &[u64; WIDTH]) -> Split {
        // SAFETY: see the type's documentation: the CPU has AVX-512F and VL here.
        let [v0, v1, v2] = unsafe { super::avx512::mds_vectors(state) };
        // SAFETY: `__m256i` and `[u64; 4]` are both 32 plain bytes with no invalid patterns.
        let words = unsafe { core::mem::transmute::<__m256i, [u64; 4]>(v2) };
        Split {
            vec: [v0, v1],
            words,
        }
    }

    /// The state as words.
    #[inline(always)]
    fn to_words(self) -> [u64; WIDTH] {
        // SAFETY: `[__m256i; 2]` and `[u64; 8]` are both 64 plain bytes with no invalid
        // patterns.
        let low = unsafe { core::mem::transmute::<[__m256i; 2], [u64; ON_VECTORS]>(self.vec) };
        let mut out = [0u64; WIDTH];
        out[..ON_VECTORS].copy_from_slice(&low);
        out[ON_VECTORS..].copy_from_slice(&self.words);
        out
    }

    /// Adds one half-round's constants (given as `p - k`).
    #[inline(always)]
    fn add_constants(self, neg_ark: &[u64; WIDTH]) -> Split {
        let vec = core::array::from_fn(|j| {
            let k = &neg_ark[4 * j..4 * j + 4];
            // SAFETY: see the type's documentation.
            unsafe {
                let k = _mm256_setr_epi64x(k[0] as i64, k[1] as i64, k[2] as i64, k[3] as i64);
                super::avx512::add_neg(self.vec[j], k)
            }
        });
        let words =
            core::array::from_fn(|i| scalar::add_neg(self.words[i], neg_ark[ON_VECTORS + i]));
        Split { vec, words }
    }
}

impl Lanes for Split {
    #[inline(always)]
    fn square(self) -> Self {
        let [v0, v1] = self.vec;
        // SAFETY: see the type's documentation.
        let vec = unsafe { [super::avx512::square(v0), super::avx512::square(v1)] };
        Split {
            vec,
            words: self.words.map(|w| mulx(w, w)),
        }
    }

    #[inline(always)]
    fn mul(self, other: Self) -> Self {
        let ([a0, a1], [b0, b1]) = (self.vec, other.vec);
        // SAFETY: see the type's documentation.
        let vec = unsafe { [super::avx512::mul(a0, b0), super::avx512::mul(a1, b1)] };
        let words = core::array::from_fn(|i| mulx(self.words[i], other.words[i]));
        Split { vec, words }
    }
}

/// One round on the words `state`.
#[inline(always)]
fn apply_round(state: &[u64; WIDTH], round: usize) -> [u64; WIDTH] {
    let half = scalar::exp7(Split::mds_of(state).add_constants(&NEG_ARK1[round]));
    scalar::inv_sbox(Split::mds_of(&half.to_words()).add_constants(&NEG_ARK2[round])).to_words()
}

/// The seven rounds on one state.
///
/// # Safety
///
/// Safe to call only where the CPU has BMI2, AVX2, AVX-512F and AVX-512VL (the parent module
/// checks at run time).
#[target_feature(enable = "bmi2,avx2,avx512f,avx512vl")]
pub(super) fn permute(words: &mut [u64; WIDTH]) {
    for round in 0..NUM_ROUNDS {
        *words = apply_round(words, round);
    }
}

/// The seven rounds on one state, keeping the state after each.
///
/// # Safety
///
/// As for [`permute`].
#[target_feature(enable = "bmi2,avx2,avx512f,avx512vl")]
pub(super) fn permute_rounds(words: &mut [u64; WIDTH], out: &mut [[u64; WIDTH]; NUM_ROUNDS]) {
    for (round, row) in out.iter_mut().enumerate() {
        *words = apply_round(words, round);
        *row = *words;
    }
}

/// The hand-written product alone, for the tests' edge words.
///
/// # Safety
///
/// As for [`permute`].
#[cfg(test)]
#[target_feature(enable = "bmi2,avx2,avx512f,avx512vl")]
pub(super) fn mul_for_tests(a: u64, b: u64) -> u64 {
    mulx(a, b)
}
