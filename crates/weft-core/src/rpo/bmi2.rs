//! The BMI2 permutation path for one state at a time: the S-boxes on the scalar units, each
//! Montgomery product written out with `mulx`, `shlx` and `shrx`, and the MDS layer on AVX2
//! vectors (`avx2::apply_mds_words`).
//!
//! # Why
//!
//! A lone state's twelve S-box chains are independent, so on the scalar units the permutation is
//! bound by how many micro-operations each product costs, not by its latency. The compiler's
//! product (`scalar::mul`, `miden-crypto`'s `mont_red_cst`) spends twelve: `mul` with its
//! register moves, an `imul` by `2^32 + 1` for the Montgomery quotient and a compare for its
//! carry, and a `cmov` of a zeroed register for the final correction. Written by hand it is ten,
//! with one product on the multiplier port instead of two: `mulx` leaves the flags alone and
//! takes any output registers, `shlx`/`shrx` shift without touching the carry that the next
//! `sbb` consumes, and `sbb r32, r32` turns the final borrow into `2^32 - 1` or `0` directly.
//! Measured on the Intel Xeon VM (2.95 GHz): twelve chains of squares, 2.6 cycles a product
//! compiled, 2.2 by hand.
//!
//! Each product computes exactly the words of `scalar::mont_reduce` (the same quotient, carry,
//! borrow and correction), so the path is bit-identical on every stored word, those at or above
//! `p` included; the differential tests run it like every other path.

use super::consts::{NUM_ROUNDS, WIDTH};
use super::scalar::{self, Arith};

/// The BMI2 arithmetic. Only this module's entry points use it, and they carry the `bmi2` and
/// `avx2` target features that its product and MDS layer need.
struct Mulx;

impl Arith for Mulx {
    /// The Montgomery product of two stored words: `(hi, lo) = a·b`, the quotient
    /// `q = lo + lo·2^32` (carry `e`), `b = q - (q >> 32) - e`, then `hi - b`, less `2^32 - 1`
    /// when that borrowed.
    #[inline(always)]
    fn mul(a: u64, b: u64) -> u64 {
        let out: u64;
        // SAFETY: register arithmetic only (no memory, no stack); `mulx`, `shlx` and `shrx` are
        // BMI2 instructions, and `Mulx` runs only inside this module's entry points, which the
        // parent module calls only where the CPU has BMI2.
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

    #[inline(always)]
    fn mds(state: &mut [u64; WIDTH]) {
        // SAFETY: as for `mul`: this runs only inside the entry points below, which the parent
        // module calls only where the CPU has AVX2.
        unsafe { super::avx2::apply_mds_words(state) }
    }
}

/// The BMI2 product alone, for the tests' edge words.
///
/// # Safety
///
/// As for [`permute`].
#[cfg(test)]
#[target_feature(enable = "bmi2,avx2")]
pub(super) fn mul_for_tests(a: u64, b: u64) -> u64 {
    Mulx::mul(a, b)
}

/// The seven rounds on one state.
///
/// # Safety
///
/// Safe to call only where the CPU has BMI2 and AVX2 (the parent module checks at run time).
#[target_feature(enable = "bmi2,avx2")]
pub(super) fn permute(words: &mut [u64; WIDTH]) {
    scalar::permute_on::<Mulx>(words);
}

/// The seven rounds on one state, keeping the state after each.
///
/// # Safety
///
/// As for [`permute`].
#[target_feature(enable = "bmi2,avx2")]
pub(super) fn permute_rounds(words: &mut [u64; WIDTH], out: &mut [[u64; WIDTH]; NUM_ROUNDS]) {
    scalar::permute_rounds_on::<Mulx>(words, out);
}
