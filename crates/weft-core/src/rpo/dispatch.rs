//! Running a path: the one-state entry points of each, and the batches (eights, fours, pairs)
//! that [`permute_many`](super::permute_many) and
//! [`permute_rounds_many`](super::permute_rounds_many) take on the vector paths.

use super::{NUM_ROUNDS, Path, RpoError, STATE_WIDTH, State, consts::BATCH, scalar};
#[cfg(target_arch = "x86_64")]
use super::{avx2, avx512, avx512_wide, split};
use crate::{Felt, Rpo256, ZERO};

/// Four states' seven rounds at once, transposed, on a vector path.
type RoundsBatchFn =
    fn(&mut [[u64; STATE_WIDTH]; BATCH], &mut [[[u64; STATE_WIDTH]; NUM_ROUNDS]; BATCH]);

/// `path`'s batches, then the states left one at a time on `single`.
pub(super) fn run_rounds_many(
    path: Path,
    single: Path,
    states: &mut [State],
) -> Vec<[State; NUM_ROUNDS]> {
    #[cfg(target_arch = "x86_64")]
    let batch: Option<RoundsBatchFn> = match path {
        // SAFETY: as in `run_many`: the CPU has AVX2 on this path, and the closure runs only
        // below, on it.
        Path::Avx2 => Some(|w, o| unsafe { avx2::permute_rounds_batch(w, o) }),
        // SAFETY: as above, with AVX-512F and AVX-512VL.
        Path::Avx512 => Some(|w, o| unsafe { avx512::permute_rounds_batch(w, o) }),
        Path::Scalar | Path::MidenCrypto | Path::Split => None,
    };
    #[cfg(not(target_arch = "x86_64"))]
    let batch: Option<RoundsBatchFn> = None;
    let mut out = vec![[[ZERO; STATE_WIDTH]; NUM_ROUNDS]; states.len()];
    let mut done = run_rounds_wide(path, states, &mut out);
    if let Some(batch) = batch {
        for (chunk, rounds) in states[done..]
            .chunks_exact_mut(BATCH)
            .zip(out[done..].chunks_exact_mut(BATCH))
        {
            let mut words: [[u64; STATE_WIDTH]; BATCH] =
                core::array::from_fn(|i| to_words(&chunk[i]));
            let mut rows = [[[0u64; STATE_WIDTH]; NUM_ROUNDS]; BATCH];
            batch(&mut words, &mut rows);
            for (k, (state, w)) in chunk.iter_mut().zip(&words).enumerate() {
                *state = from_words(w);
                for (dst, src) in rounds[k].iter_mut().zip(&rows[k]) {
                    *dst = from_words(src);
                }
            }
            done += BATCH;
        }
    }
    for (state, rounds) in states[done..].iter_mut().zip(&mut out[done..]) {
        run_rounds(single, state, rounds);
    }
    out
}

pub(super) fn check(path: Path) -> Result<(), RpoError> {
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
pub(super) fn run(path: Path, state: &mut State) {
    if path == Path::MidenCrypto {
        Rpo256::apply_permutation(state);
        return;
    }
    let mut words = to_words(state);
    match path {
        #[cfg(target_arch = "x86_64")]
        Path::Avx2 => {
            // SAFETY: `path` is supported (checked by the caller or chosen by `Path::best`), and
            // `Path::Avx2` is supported only where `is_x86_feature_detected!("avx2")` is true.
            unsafe { avx2::permute(&mut words) }
        }
        #[cfg(target_arch = "x86_64")]
        Path::Avx512 => {
            // SAFETY: as for AVX2: `Path::Avx512` is supported only where the CPU has AVX2,
            // AVX-512F and AVX-512VL.
            unsafe { avx512::permute(&mut words) }
        }
        #[cfg(target_arch = "x86_64")]
        Path::Split => {
            // SAFETY: as for AVX2: `Path::Split` is supported only where the CPU has BMI2,
            // AVX2, AVX-512F and AVX-512VL.
            unsafe { split::permute(&mut words) }
        }
        _ => scalar::permute(&mut words),
    }
    *state = from_words(&words);
}

/// Runs the leading multiples of eight of `states` on the AVX-512 path's 512-bit batch, if
/// `path` is that path; returns the states left.
#[inline(always)]
fn run_wide(path: Path, states: &mut [State]) -> &mut [State] {
    #[cfg(target_arch = "x86_64")]
    if path == Path::Avx512 {
        use avx512_wide::WIDE_BATCH;
        let mut chunks = states.chunks_exact_mut(WIDE_BATCH);
        for chunk in &mut chunks {
            let mut words: [[u64; STATE_WIDTH]; WIDE_BATCH] =
                core::array::from_fn(|i| to_words(&chunk[i]));
            // SAFETY: `Path::Avx512` is supported (the caller checked it or took it from
            // `Path::best_for_many`) only where the CPU has AVX-512F.
            unsafe { avx512_wide::permute_batch(&mut words) };
            for (state, w) in chunk.iter_mut().zip(&words) {
                *state = from_words(w);
            }
        }
        return chunks.into_remainder();
    }
    states
}

/// [`run_wide`] keeping the round states: fills `out`'s leading entries; returns how many
/// states it ran.
#[inline(always)]
fn run_rounds_wide(path: Path, states: &mut [State], out: &mut [[State; NUM_ROUNDS]]) -> usize {
    #[cfg(target_arch = "x86_64")]
    if path == Path::Avx512 {
        use avx512_wide::WIDE_BATCH;
        let mut done = 0;
        for (chunk, rounds) in states
            .chunks_exact_mut(WIDE_BATCH)
            .zip(out.chunks_exact_mut(WIDE_BATCH))
        {
            let mut words: [[u64; STATE_WIDTH]; WIDE_BATCH] =
                core::array::from_fn(|i| to_words(&chunk[i]));
            let mut rows = [[[0u64; STATE_WIDTH]; NUM_ROUNDS]; WIDE_BATCH];
            // SAFETY: as in `run_wide`.
            unsafe { avx512_wide::permute_rounds_batch(&mut words, &mut rows) };
            for (k, (state, w)) in chunk.iter_mut().zip(&words).enumerate() {
                *state = from_words(w);
                for (dst, src) in rounds[k].iter_mut().zip(&rows[k]) {
                    *dst = from_words(src);
                }
            }
            done += WIDE_BATCH;
        }
        return done;
    }
    let _ = (path, states, out);
    0
}

/// Two states through the seven rounds at once, on a vector path.
type PairFn = fn(&mut [u64; STATE_WIDTH], &mut [u64; STATE_WIDTH]);

/// Four states through the seven rounds at once, transposed, on a vector path.
type BatchFn = fn(&mut [[u64; STATE_WIDTH]; BATCH]);

/// `path`'s batches and pairs, then a state left alone on `single`.
pub(super) fn run_many(path: Path, single: Path, states: &mut [State]) {
    #[cfg(target_arch = "x86_64")]
    let vector: Option<(BatchFn, PairFn)> = match path {
        Path::Avx2 => Some((
            // SAFETY: the caller checked `path`, or took it from `Path::best_for_many`, so the
            // CPU has AVX2; the closure runs only below, on this path.
            |w| unsafe { avx2::permute_batch(w) },
            // SAFETY: as above.
            |a, b| unsafe { avx2::permute_pair(a, b) },
        )),
        Path::Avx512 => Some((
            // SAFETY: as above, with AVX-512F and AVX-512VL.
            |w| unsafe { avx512::permute_batch(w) },
            // SAFETY: as above, with AVX-512F and AVX-512VL.
            |a, b| unsafe { avx512::permute_pair(a, b) },
        )),
        Path::Scalar | Path::MidenCrypto | Path::Split => None,
    };
    #[cfg(not(target_arch = "x86_64"))]
    let vector: Option<(BatchFn, PairFn)> = None;
    let Some((batch, pair)) = vector else {
        for state in states {
            run(path, state);
        }
        return;
    };
    let states = run_wide(path, states);
    let mut batches = states.chunks_exact_mut(BATCH);
    for chunk in &mut batches {
        let mut words: [[u64; STATE_WIDTH]; BATCH] = core::array::from_fn(|i| to_words(&chunk[i]));
        batch(&mut words);
        for (state, w) in chunk.iter_mut().zip(&words) {
            *state = from_words(w);
        }
    }
    let mut pairs = batches.into_remainder().chunks_exact_mut(2);
    for chunk in &mut pairs {
        // Every chunk has exactly two states.
        if let [a, b] = chunk {
            let (mut wa, mut wb) = (to_words(a), to_words(b));
            pair(&mut wa, &mut wb);
            *a = from_words(&wa);
            *b = from_words(&wb);
        }
    }
    for state in pairs.into_remainder() {
        run(single, state);
    }
}

#[inline(always)]
pub(super) fn run_rounds(path: Path, state: &mut State, out: &mut [State; NUM_ROUNDS]) {
    if path == Path::MidenCrypto {
        for (round, row) in out.iter_mut().enumerate() {
            Rpo256::apply_round(state, round);
            *row = *state;
        }
        return;
    }
    let mut words = to_words(state);
    let mut rows = [[0u64; STATE_WIDTH]; NUM_ROUNDS];
    match path {
        #[cfg(target_arch = "x86_64")]
        Path::Avx2 => {
            // SAFETY: as in `run`: the AVX2 path is taken only where the CPU has AVX2.
            unsafe { avx2::permute_rounds(&mut words, &mut rows) }
        }
        #[cfg(target_arch = "x86_64")]
        Path::Avx512 => {
            // SAFETY: as in `run`.
            unsafe { avx512::permute_rounds(&mut words, &mut rows) }
        }
        #[cfg(target_arch = "x86_64")]
        Path::Split => {
            // SAFETY: as in `run`.
            unsafe { split::permute_rounds(&mut words, &mut rows) }
        }
        _ => scalar::permute_rounds(&mut words, &mut rows),
    }
    *state = from_words(&words);
    for (dst, src) in out.iter_mut().zip(&rows) {
        *dst = from_words(src);
    }
}
