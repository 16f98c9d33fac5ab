//! The RPO-256 permutation, bit-identical to `miden-crypto` 0.19.8's default (scalar) build of
//! `Rpo256::apply_permutation` and `Rpo256::apply_round`, with an AVX2 path chosen at run time.
//!
//! # Paths
//!
//! - [`Path::Scalar`]: portable Rust ([`scalar`](self) module), on every target.
//! - [`Path::Avx2`]: x86-64 with AVX2, chosen when `is_x86_feature_detected!("avx2")` says so.
//!   The answer is cached after the first call, so a binary built for generic x86-64 still uses
//!   AVX2 where the CPU has it. aarch64 (NEON) stays on the scalar path: there is no machine here
//!   to test a NEON path on.
//!
//! [`permute`], [`permute_rounds`] and [`permute_many`] take the best path; the `_with` forms
//! take a given one (the differential tests run every path the CPU supports) and return
//! [`RpoError::Unsupported`] for a path this CPU or target cannot run.
//!
//! # Bit-identity
//!
//! `miden-crypto`'s `Felt` keeps `x·2^64 mod p` in a `u64` and compares stored words bit for bit;
//! its MDS reduction and additions can leave a word in `[p, 2^64)`. Both paths therefore work on
//! the stored words and repeat each of the reference's reduction steps exactly (the same products
//! in the same order, the same carries and borrows), instead of merely computing equal field
//! values. The tests compare stored words, including states built with `Felt::from_mont` from
//! words at or above `p`.
//!
//! # Speed
//!
//! `cargo bench -p weft-benches --bench rpo -- --warm-up-time 1 --measurement-time 2` on the
//! build machine (AMD EPYC, AVX2 + BMI2, no AVX-512; two cores shared with other builds, load
//! average about 12, so absolute times are inflated several-fold and only ratios mean much):
//!
//! | per permutation | miden-crypto 0.19.8 | weft scalar | weft avx2 |
//! |---|---:|---:|---:|
//! | one state per call | 7.78 µs | 10.33 µs (0.75×) | 6.04 µs (1.29×) |
//! | 64 states (`permute_many`) | 8.17 µs | 10.18 µs (0.80×) | 5.85 µs (1.40×) |
//! | 2-to-1 merge | 9.74 µs | | 6.14 µs (best path) |
//!
//! The scalar path is slower than `miden-crypto`'s: its MDS layer is the direct 12×12 product on
//! 32-bit halves, where `miden-crypto` uses a frequency-domain form. End to end (`weft-compare`,
//! same load), weft's execute speedup over upstream on `hperm_sponge` is 1.33× and on the corpus'
//! `hperm_chain` 1.30× with this module (the issue measured 1.0-1.2× on hash-bound programs before
//! it), short of the 1.5× bar.

use thiserror::Error;

use crate::{Felt, Word, ZERO};

mod consts;
mod scalar;

#[cfg(target_arch = "x86_64")]
mod avx2;

#[cfg(test)]
mod tests;

/// The number of elements in a state.
pub const STATE_WIDTH: usize = consts::WIDTH;
/// The number of rounds in a permutation.
pub const NUM_ROUNDS: usize = consts::NUM_ROUNDS;

/// A permutation state.
pub type State = [Felt; STATE_WIDTH];

// PATHS
// ================================================================================================

/// An implementation of the permutation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Path {
    /// Portable Rust, on every target.
    Scalar,
    /// x86-64 AVX2, three 256-bit vectors per state.
    Avx2,
}

impl Path {
    /// Every path, supported here or not.
    pub const ALL: [Path; 2] = [Path::Scalar, Path::Avx2];

    /// The path's name, as the bench and error messages print it.
    pub const fn name(self) -> &'static str {
        match self {
            Path::Scalar => "scalar",
            Path::Avx2 => "avx2",
        }
    }

    /// Whether this CPU (and this build's target) can run the path.
    pub fn is_supported(self) -> bool {
        match self {
            Path::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Path::Avx2 => std::is_x86_feature_detected!("avx2"),
            #[cfg(not(target_arch = "x86_64"))]
            Path::Avx2 => false,
        }
    }

    /// The paths this CPU supports, the portable one first.
    pub fn supported() -> Vec<Path> {
        Path::ALL.into_iter().filter(|p| p.is_supported()).collect()
    }

    /// The fastest supported path, detected once per process.
    pub fn best() -> Path {
        use std::sync::atomic::{AtomicU8, Ordering};
        // 0: not yet detected; otherwise 1 + the index into `ALL`.
        static BEST: AtomicU8 = AtomicU8::new(0);
        match BEST.load(Ordering::Relaxed) {
            1 => Path::Scalar,
            2 => Path::Avx2,
            _ => {
                let best = if Path::Avx2.is_supported() {
                    Path::Avx2
                } else {
                    Path::Scalar
                };
                let code = if best == Path::Avx2 { 2 } else { 1 };
                BEST.store(code, Ordering::Relaxed);
                best
            }
        }
    }
}

impl core::fmt::Display for Path {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a permutation could not run.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RpoError {
    /// The path needs a CPU feature (or target) this machine lacks.
    #[error("the {path} permutation path is not supported on this cpu")]
    Unsupported {
        /// The path asked for.
        path: Path,
    },
}

// PUBLIC API
// ================================================================================================

/// Applies the RPO-256 permutation to `state` on the best path; equal to
/// `Rpo256::apply_permutation`.
#[inline]
pub fn permute(state: &mut State) {
    run(Path::best(), state);
}

/// Applies the permutation and writes the state after each of the seven rounds to `out`
/// (`out[6]` is the final state, also left in `state`); equal to seven `Rpo256::apply_round`s.
#[inline]
pub fn permute_rounds(state: &mut State, out: &mut [State; NUM_ROUNDS]) {
    run_rounds(Path::best(), state, out);
}

/// Applies the permutation to each of `states` independently on the best path.
///
/// On the AVX2 path, states are taken two at a time and their rounds interleaved.
pub fn permute_many(states: &mut [State]) {
    run_many(Path::best(), states);
}

/// Merges two digests as `Rpo256::merge` does: capacity zero, rate `values[0] ‖ values[1]`, one
/// permutation, digest from elements 4-7.
#[inline]
pub fn merge(values: &[Word; 2]) -> Word {
    merge_in_domain(values, ZERO)
}

/// Merges two digests in a domain as `Rpo256::merge_in_domain` does: [`merge`] with the second
/// capacity element (element 1) set to `domain`.
#[inline]
pub fn merge_in_domain(values: &[Word; 2], domain: Felt) -> Word {
    let mut state = [ZERO; STATE_WIDTH];
    state[1] = domain;
    state[4..8].copy_from_slice(values[0].as_elements());
    state[8..12].copy_from_slice(values[1].as_elements());
    permute(&mut state);
    Word::new([state[4], state[5], state[6], state[7]])
}

/// [`permute`] on a given path.
///
/// # Errors
///
/// [`RpoError::Unsupported`] if this CPU cannot run `path`; `state` is then left unchanged.
pub fn permute_with(path: Path, state: &mut State) -> Result<(), RpoError> {
    check(path)?;
    run(path, state);
    Ok(())
}

/// [`permute_rounds`] on a given path.
///
/// # Errors
///
/// [`RpoError::Unsupported`] if this CPU cannot run `path`; nothing is written then.
pub fn permute_rounds_with(
    path: Path,
    state: &mut State,
    out: &mut [State; NUM_ROUNDS],
) -> Result<(), RpoError> {
    check(path)?;
    run_rounds(path, state, out);
    Ok(())
}

/// [`permute_many`] on a given path.
///
/// # Errors
///
/// [`RpoError::Unsupported`] if this CPU cannot run `path`; nothing is changed then.
pub fn permute_many_with(path: Path, states: &mut [State]) -> Result<(), RpoError> {
    check(path)?;
    run_many(path, states);
    Ok(())
}

// DISPATCH
// ================================================================================================

fn check(path: Path) -> Result<(), RpoError> {
    if path.is_supported() {
        Ok(())
    } else {
        Err(RpoError::Unsupported { path })
    }
}

#[inline(always)]
fn to_words(state: &State) -> [u64; STATE_WIDTH] {
    core::array::from_fn(|i| state[i].inner())
}

#[inline(always)]
fn from_words(words: &[u64; STATE_WIDTH]) -> State {
    core::array::from_fn(|i| Felt::from_mont(words[i]))
}

/// Runs a supported path (callers have checked, or took [`Path::best`]).
#[inline(always)]
fn run(path: Path, state: &mut State) {
    let mut words = to_words(state);
    match path {
        #[cfg(target_arch = "x86_64")]
        Path::Avx2 => {
            // SAFETY: `path` is supported (checked by the caller or chosen by `Path::best`), and
            // `Path::Avx2` is supported only where `is_x86_feature_detected!("avx2")` is true.
            unsafe { avx2::permute(&mut words) }
        }
        _ => scalar::permute(&mut words),
    }
    *state = from_words(&words);
}

fn run_many(path: Path, states: &mut [State]) {
    match path {
        #[cfg(target_arch = "x86_64")]
        Path::Avx2 => {
            let mut pairs = states.chunks_exact_mut(2);
            for pair in &mut pairs {
                // Every chunk has exactly two states.
                if let [a, b] = pair {
                    let (mut wa, mut wb) = (to_words(a), to_words(b));
                    // SAFETY: as in `run`: the AVX2 path is taken only where the CPU has AVX2.
                    unsafe { avx2::permute_pair(&mut wa, &mut wb) }
                    *a = from_words(&wa);
                    *b = from_words(&wb);
                }
            }
            for state in pairs.into_remainder() {
                run(path, state);
            }
        }
        _ => {
            for state in states {
                run(path, state);
            }
        }
    }
}

#[inline(always)]
fn run_rounds(path: Path, state: &mut State, out: &mut [State; NUM_ROUNDS]) {
    let mut words = to_words(state);
    let mut rows = [[0u64; STATE_WIDTH]; NUM_ROUNDS];
    match path {
        #[cfg(target_arch = "x86_64")]
        Path::Avx2 => {
            // SAFETY: as in `run`: the AVX2 path is taken only where the CPU has AVX2.
            unsafe { avx2::permute_rounds(&mut words, &mut rows) }
        }
        _ => scalar::permute_rounds(&mut words, &mut rows),
    }
    *state = from_words(&words);
    for (dst, src) in out.iter_mut().zip(&rows) {
        *dst = from_words(src);
    }
}
