//! The RPO-256 permutation, bit-identical to `miden-crypto` 0.19.8's default (scalar) build of
//! `Rpo256::apply_permutation` and `Rpo256::apply_round`, with AVX2 and AVX-512 paths chosen at
//! run time.
//!
//! # Paths
//!
//! - [`Path::Scalar`]: portable Rust ([`scalar`](self) module), on every target.
//! - [`Path::MidenCrypto`]: `miden-crypto`'s own functions, the reference, on every target.
//! - [`Path::Avx2`]: x86-64 with AVX2: a state is three 256-bit vectors.
//! - [`Path::Avx512`]: x86-64 with AVX-512F and AVX-512VL, on the same vectors and layers
//!   (`vector` module): unsigned comparisons into masks and masked additions make each carry and
//!   borrow two instructions instead of five; eight independent states at a time go on 512-bit
//!   vectors (`avx512_wide` module).
//! - [`Path::Split`]: x86-64 with BMI2 and AVX-512 (F and VL), for one state at a time: eight
//!   words' S-boxes on two vectors, four on the scalar units with a hand-written `mulx`
//!   product, side by side (`split` module).
//!
//! The CPU's features are read once per process (`is_x86_feature_detected!`), so a binary built
//! for generic x86-64 still uses the vector paths. [`permute`], [`permute_rounds`] and
//! [`merge`] take [`Path::best`], [`permute_many`] and [`permute_rounds_many`] take
//! [`Path::best_for_many`]. aarch64 (NEON)
//! stays on the scalar path: there is no machine here to test a NEON path on. The `_with` forms
//! take a given path (the differential tests run every path the CPU supports) and return
//! [`RpoError::Unsupported`] for one it cannot run.
//!
//! # Bit-identity
//!
//! `miden-crypto`'s `Felt` keeps `x·2^64 mod p` in a `u64` and compares stored words bit for bit;
//! its MDS reduction and additions can leave a word in `[p, 2^64)`. Every path therefore works on
//! the stored words and computes each of the reference's intermediate words exactly (the same
//! 128-bit products, the same reduction steps with the same carries and borrows), instead of
//! merely computing equal field values. The vector squares build the 128-bit product with fewer
//! steps than a general product, but it is the same product. The tests compare stored words,
//! including states built with `Felt::from_mont` from words at or above `p`.
//!
//! # Speed
//!
//! `cargo bench -p weft-benches --bench rpo -- --warm-up-time 1 --measurement-time 2` on two
//! build machines (2 cores, otherwise idle), per permutation:
//!
//! | machine | states | miden-crypto 0.19.8 | weft scalar | weft avx2 | weft avx512 |
//! |---|---|---:|---:|---:|---:|
//! | AMD EPYC, AVX-512 | one per call | 6.83 µs | 8.85 µs (0.77×) | 4.65 µs (1.47×) | 4.32 µs (1.58×) |
//! | AMD EPYC, AVX-512 | 64 (`permute_many`, in pairs) | 6.86 µs | 8.82 µs (0.78×) | 4.70 µs (1.46×) | 3.55 µs (1.93×) |
//! | Intel Xeon, AVX-512 | one per call | 6.58 µs | 9.01 µs (0.73×) | 6.96 µs (0.95×) | 7.61 µs (0.86×) |
//! | Intel Xeon, AVX-512 | 64 (`permute_many`, in pairs) | 6.56 µs | 9.02 µs (0.73×) | 6.09 µs (1.08×) | 5.40 µs (1.22×) |
//! | Intel Xeon, AVX-512 | 64 (`permute_many`, in fours) | 6.46 µs | 8.92 µs (0.72×) | 6.08 µs (1.06×) | 4.87 µs (1.33×) |
//! | Intel Xeon, AVX-512 | 64 (`permute_many`, AVX-512 in eights) | 6.52 µs | 9.09 µs (0.72×) | 6.18 µs (1.05×) | 3.60 µs (1.81×) |
//!
//! The split path (`split` module, whose documentation has the variants measured): 4.9-5.0 µs
//! one per call, against 6.5-6.8 µs for `miden-crypto` (1.3×).
//!
//! `permute_many` and `permute_rounds_many` take four states at a time on the vector paths,
//! transposed: vector `e` holds word `e` of the four states, so the S-boxes run on twelve
//! independent vectors and the MDS layer needs no broadcast. The AVX-512 path takes eight at a
//! time first, the same layout on 512-bit vectors (`avx512_wide`): the same instructions carry
//! twice the lanes, and on the Intel Xeon that is 4.87 -> 3.60 µs a permutation. Unrolling the
//! twelve vectors' squares by hand (so that they stay in registers) spilled instead: 7.5 µs.
//! AVX2, with half AVX-512VL's vector registers, gains nothing from fours over pairs. The AMD
//! EPYC rows predate the fours.
//!
//! A lone state is bound by latency: each S-box is a chain of about 70 dependent products,
//! and three vectors per state are too few to hide a product's latency (measured on the Intel
//! Xeon: 26 cycles for one vector's Montgomery square, 35 for three independent ones, against
//! 9 per vector when many are in flight). That latency is longer on the Intel Xeon, and longer
//! there with AVX-512's mask registers than with AVX2's compares, so [`Path::best`] takes
//! AVX-512 first on AMD's CPUs (told apart by SSE4a) and the split path elsewhere, then
//! `miden-crypto`'s scalar build (hperm_chain's execute went 0.94× -> 1.04× upstream on the
//! Intel Xeon with `miden-crypto`'s);
//! [`Path::best_for_many`] takes AVX-512 first everywhere, since several states at once
//! (`permute_many`) hide the latency. On the Intel Xeon no vector path beats `miden-crypto`'s
//! scalar build on a lone state, whose twelve independent scalar chains keep the scalar ports
//! busy; the split path does, by running part of the state on each; computing the squares on 32-bit limbs with one compare (fewer dependent compares, more
//! instructions) measured the same latency. Tried and dropped on the AMD machine, both slower
//! on a lone state: computing each comparison's sign-flipped operand alongside the plain one
//! (4.80 µs), and running four of the twelve words on the scalar units beside two vectors
//! (5.65 µs; also slower on the Intel Xeon). The scalar path is slower than `miden-crypto`'s:
//! its MDS layer is the direct 12×12 product on 32-bit halves, where `miden-crypto` uses a
//! frequency-domain form.

use std::sync::OnceLock;

use thiserror::Error;

use self::dispatch::{check, run, run_many, run_rounds, run_rounds_many};
use crate::{Felt, Word, ZERO};

mod consts;
mod dispatch;
mod scalar;

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
#[cfg(target_arch = "x86_64")]
mod avx512_wide;
#[cfg(target_arch = "x86_64")]
mod split;

#[cfg(target_arch = "x86_64")]
mod vector;

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
    /// `miden-crypto`'s own `Rpo256::apply_permutation` and `apply_round` (its default, scalar
    /// build), on every target: the reference itself. Its twelve independent scalar chains make
    /// it the fastest for a lone state where the vector paths are bound by latency.
    MidenCrypto,
    /// x86-64 AVX2, three 256-bit vectors per state.
    Avx2,
    /// x86-64 AVX-512 (F and VL) on the same three 256-bit vectors: unsigned comparisons into
    /// masks and masked additions make each carry and borrow cheaper.
    Avx512,
    /// x86-64 with BMI2, AVX2, AVX-512F and AVX-512VL, for one state at a time: the S-boxes of
    /// eight words on two 256-bit vectors and of four on the scalar units (a hand-written `mulx`
    /// product), side by side.
    Split,
}

impl Path {
    /// Every path, supported here or not.
    pub const ALL: [Path; 5] = [
        Path::Scalar,
        Path::MidenCrypto,
        Path::Avx2,
        Path::Avx512,
        Path::Split,
    ];

    /// The path's name, as the bench and error messages print it.
    pub const fn name(self) -> &'static str {
        match self {
            Path::Scalar => "scalar",
            Path::MidenCrypto => "miden-crypto",
            Path::Avx2 => "avx2",
            Path::Avx512 => "avx512",
            Path::Split => "split",
        }
    }

    /// Whether this CPU (and this build's target) can run the path.
    pub fn is_supported(self) -> bool {
        match self {
            Path::Scalar | Path::MidenCrypto => true,
            #[cfg(target_arch = "x86_64")]
            Path::Avx2 => std::is_x86_feature_detected!("avx2"),
            #[cfg(target_arch = "x86_64")]
            Path::Avx512 => {
                std::is_x86_feature_detected!("avx2")
                    && std::is_x86_feature_detected!("avx512f")
                    && std::is_x86_feature_detected!("avx512vl")
            }
            #[cfg(target_arch = "x86_64")]
            Path::Split => Path::Avx512.is_supported() && std::is_x86_feature_detected!("bmi2"),
            #[cfg(not(target_arch = "x86_64"))]
            Path::Avx2 | Path::Avx512 | Path::Split => false,
        }
    }

    /// The paths this CPU supports, the portable one first.
    pub fn supported() -> Vec<Path> {
        Path::ALL.into_iter().filter(|p| p.is_supported()).collect()
    }

    /// The fastest supported path for one state at a time ([`permute`], [`permute_rounds`]),
    /// detected once per process. Measured (module documentation): on AMD, AVX-512 then AVX2;
    /// on Intel, a scalar path, because there a lone state on a vector path is bound by the
    /// latency of each product's chain (Intel Xeon: 6.5 µs on `miden-crypto`'s against 6.7-7.0 µs
    /// on AVX2 and 5.8 µs on AVX-512): the split path, 4.9-5.0 µs, else `miden-crypto`'s. `miden-crypto` comes before weft's own
    /// portable path everywhere. CPUs of neither vendor take Intel's order.
    pub fn best() -> Path {
        static BEST: OnceLock<Path> = OnceLock::new();
        *BEST.get_or_init(|| {
            if is_amd_family() {
                Path::first_supported(&[Path::Avx512, Path::Avx2, Path::MidenCrypto])
            } else {
                Path::first_supported(&[Path::Split, Path::MidenCrypto])
            }
        })
    }

    /// The fastest supported path for many independent states ([`permute_many`] and
    /// [`permute_rounds_many`], eight or four at a time): AVX-512, then AVX2, then
    /// `miden-crypto`'s, on every CPU measured (several states at once hide the latency that
    /// makes `miden-crypto`'s win for one on Intel).
    pub fn best_for_many() -> Path {
        static BEST: OnceLock<Path> = OnceLock::new();
        *BEST.get_or_init(|| Path::first_supported(&[Path::Avx512, Path::Avx2, Path::MidenCrypto]))
    }

    fn first_supported(preference: &[Path]) -> Path {
        preference
            .iter()
            .copied()
            .find(|p| p.is_supported())
            .unwrap_or(Path::MidenCrypto)
    }
}

impl core::fmt::Display for Path {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether the CPU is AMD's (or a design derived from it): it has SSE4a, which AMD's
/// processors have had since 2007 and Intel's never. Read from the feature cache that the path
/// detection fills anyway: asking `cpuid` for the vendor string directly costs ~10 µs more at
/// the first permutation in a virtual machine, where every `cpuid` traps to the hypervisor.
fn is_amd_family() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("sse4a")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
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
/// On the vector paths, states are taken four at a time (eight first on AVX-512), transposed
/// (word `e` of the states in one vector), then a remaining pair interleaved, then a last one
/// alone, on [`Path::best`].
pub fn permute_many(states: &mut [State]) {
    run_many(Path::best_for_many(), Path::best(), states);
}

/// [`permute_rounds`] on each of `states` independently: returns each one's seven round
/// states, in order, and leaves each permuted.
///
/// On the vector paths, states are taken eight or four at a time, transposed, as in
/// [`permute_many`], and the last ones alone on [`Path::best`].
pub fn permute_rounds_many(states: &mut [State]) -> Vec<[State; NUM_ROUNDS]> {
    run_rounds_many(Path::best_for_many(), Path::best(), states)
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
    let mut state = merge_state(values, domain);
    permute(&mut state);
    digest_of(&state)
}

/// The state [`merge_in_domain`] permutes: zero but for the second capacity element (element
/// 1), `domain`, and the rate, `values[0] ‖ values[1]` (elements 4-11). The hasher chiplet
/// writes this state on a merge's first row.
#[inline]
pub fn merge_state(values: &[Word; 2], domain: Felt) -> State {
    let mut state = [ZERO; STATE_WIDTH];
    state[1] = domain;
    state[4..8].copy_from_slice(values[0].as_elements());
    state[8..12].copy_from_slice(values[1].as_elements());
    state
}

/// The digest a permuted state holds: elements 4-7, the rate's first word.
#[inline]
pub fn digest_of(state: &State) -> Word {
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
    run_many(path, path, states);
    Ok(())
}

/// [`permute_rounds_many`] on a given path.
///
/// # Errors
///
/// [`RpoError::Unsupported`] if this CPU cannot run `path`; nothing is changed then.
pub fn permute_rounds_many_with(
    path: Path,
    states: &mut [State],
) -> Result<Vec<[State; NUM_ROUNDS]>, RpoError> {
    check(path)?;
    Ok(run_rounds_many(path, path, states))
}
