//! weft's trace generation: the whole main trace of upstream miden-vm 0.20.6 (71 columns:
//! system, decoder, stack, range checker, and the hasher, bitwise, memory, ACE and kernel ROM
//! chiplets), built in parallel from the fragment contexts and chiplet logs that
//! [`weft_replay::execute_for_trace`] records.
//!
//! # How
//! [`build_trace`] first checks the chiplet logs and computes every chiplet region's length
//! from counts alone (hasher rows by prefix sums of each request's row count, 8 rows per
//! bitwise operation, one row per memory access, the READ and EVAL rows of each circuit
//! evaluation, kernel ROM rows). It then reserves the 71 columns once, for the longest the trace
//! can be (the range checker's length is known only later; reserved pages that are never
//! written cost nothing), and runs, side by side on one rayon pool (with the default
//! `concurrent` feature; without it the same code runs one part after the other on the calling
//! thread), writing straight into the one buffer:
//! - the core: one task per fragment. Each task restores its fragment's state and runs the fast
//!   processor's own execution driver ([`weft_fast::Driver`]: the same continuation stack, row
//!   order and operation semantics) from the row the context names, with two parts of its own:
//!   a backend that reads memory, advice, hasher results and host resolutions from the
//!   fragment's replay logs only (no host, no shared mutable state), and a tracer that writes
//!   one trace row per row into its own row range (fragment `i` owns rows
//!   `i * fragment_size ..`);
//! - the hasher: one task per request in its own row range (control blocks, basic blocks batch
//!   by batch, permutations, Merkle paths leg by leg); a node entered again (a loop body, a
//!   procedure called often) copies the rows of its first entry once those are written, as
//!   upstream memoizes, instead of recomputing its permutations;
//! - the bitwise chiplet: eight rows per operation;
//! - memory: one parallel stable sort of the accesses by (context, word), then one scan per
//!   word, words in parallel, counting the deltas' 16-bit halves for the range checker;
//! - ACE: one task per evaluation, re-evaluated from the values its memory reads logged;
//! - the kernel ROM.
//!
//! Then the range checker's counts are merged: the memory deltas' halves and the four limbs of
//! every range-checking u32 operation, read back from the decoder's helper columns of the core
//! rows (chunks in parallel). With the core rows, the range checker's rows and the chiplets'
//! rows the length is known ([`weft_core::main_trace::main_trace_len`]) and the rest is written
//! in parallel: the core's `HALT` padding, the range checker (zero padding at the top, the table
//! with its power-of-3 bridges, the final `(0, 65535)` row), the chiplet padding, and last the
//! random row drawn from the program's digest ([`weft_core::main_trace::random_row`]: 71
//! draws, upstream's sequential convention; the 72nd padding column is not built).
//!
//! A `REPEAT` row copies the hasher columns of the row before it (the loop body's `END`), so a
//! fragment that starts with `REPEAT` gets them from the previous fragment's last row once every
//! task is done.
//!
//! Pages of the buffer are first touched by the worker that writes them, so the page-fault
//! cost is shared by the workers, and the columns lie in one mapping advised as transparent
//! huge pages, its last 2 MiB page included however little of it the trace uses (a 32,768-row
//! trace, 18.6 MB, left its last 1.75 MiB to 4 KiB pages until 2026-12-07: pell_loop's whole
//! pipeline took 5.4-6.1 ms, best of 200, and 4.2-4.4 ms once that block was advised too);
//! [`build_trace_into`] reuses a previous trace's memory and pays no page fault at all, and
//! [`build_trace`] takes a dropped trace's mapping from weft-core's buffer cache when one fits
//! (traces up to 64 MiB: `columns.rs`). Core rows go out through a 32-row tile, column by
//! column (`columns.rs` says why, with the figures behind both choices).
//!
//! The last row's random values (nine permutations) are drawn beside the core and chiplet
//! regions rather than after them: upstream's `debug` example (128 rows) built in 0.108 ms
//! before, 0.074 ms after (best of 3,000, 2 threads, 2026-12-07).
//!
//! # Performance
//! The whole 71-column trace, `cargo run --release -p weft-benches --example trace_figures`
//! (2,095,139 executed rows, 4,194,304 trace rows, 2,272 MiB), 2-core development VM, idle,
//! 2026-12-06, the columns in one buffer advised as huge pages, written through non-temporal
//! stores, permutation rounds kept by the recording:
//!
//! | buffer | 1 thread | 2 threads | scaling |
//! |---|---:|---:|---:|
//! | fresh (`build_trace`) | 708 ms, 5.9 M trace rows/s | 295 ms, 14.2 M trace rows/s | 2.40x |
//! | reused (`build_trace_into`) | 288 ms, 14.6 M trace rows/s | 167 ms, 25.1 M trace rows/s | 1.72x |
//!
//! Earlier the same day, with 71 separate column allocations (huge pages only inside their
//! 2 MiB-aligned blocks) and plain stores, the same run took 1,060 and 526 ms fresh, 710 and
//! 393 ms reused; smaller traces gained more (`columns.rs`: fib_loop, 524,288 rows, 65-70 ms
//! to 34-36 ms on 2 threads). Peak resident set 2,357 MiB, 1.037x the trace's bytes.
//!
//! Since the fresh buffer comes zeroed and the padding's zero fills write nothing
//! (`columns.rs`), pages that hold only zero padding are never faulted in: the same run's
//! peak resident set fell to 1,693 MiB, 0.745x the trace's bytes (2026-12-07, with the VM at
//! a slow spell: fresh 721 / 440 ms on 1 / 2 threads, reused 448 / 310 ms).
//!
//! Region by region ([`profile_build`]: the same build with the fresh buffer's first touch and
//! then each region run on its own, on the whole pool; printed by `trace_figures` and by
//! `cargo xtask compare`'s third table), same program, 2026-12-07, best of 5, M rows/s on 1 / 2
//! threads: first touch of the 71 columns 11.5 / 19.8, core 9.2 / 16.7, hasher 24.9 / 40.6,
//! memory 8.0 / 12.9, core padding 50.8 / 86.0, range checker 117 / 177, chiplet padding
//! 157 / 226. That run found the VM at about half its usual speed (whole build, fresh, 2
//! threads: 535 ms against the 295 ms above; upstream's own times were 1.8x theirs of the day
//! before), so the rates are low by about that much, their proportions are what to read: the
//! fresh buffer's page zeroing and the core rows take most of a build.
//!
//! The helper registers that hold an inverse (`EQ`'s and `EQZ`'s `h0`, the element check of
//! `U32SPLIT`, `U32MUL`, `U32MADD`) reach the row tracer as values to invert
//! (`Tracer::helpers_inverting`); each fragment's writer inverts them all together once its
//! rows are out (one inversion per fragment). Before that, inversions were 11 % of the samples
//! of fib_loop's build into a reused buffer on one thread (one `EQZ` per loop pass).
//!
//! The figures below were measured when this crate built the 49 core columns only:
//!
//! Measured with `cargo run --release -p weft-benches --example trace_figures` (a loop mixing
//! arithmetic, u32 operations, hashing, memory, advice and a call; fragments of 4096 rows) on
//! the 2-core development VM, best of 15 builds with one and two threads alternating, at a
//! moment when no other process used the second core:
//!
//! | trace | buffer | 1 thread | 2 threads | scaling |
//! |---|---|---:|---:|---:|
//! | 2,095,139 rows (2^21 padded, 784 MiB) | fresh (`build_trace`) | 383 ms, 5.5 M rows/s | 199 ms, 10.6 M rows/s | 1.93x |
//! | same | reused (`build_trace_into`) | 122 ms, 17.2 M rows/s | 62 ms, 33.8 M rows/s | 1.97x |
//! | 730,000 rows (2^20 padded) | fresh | 195 ms, 3.7 M rows/s | not recorded | 1.91x |
//! | same | reused | 86 ms, 8.5 M rows/s | 46 ms, 16.0 M rows/s | 1.88x |
//!
//! With the second core busy (other builds) the two-thread figures fall to 1.0-1.3x: the
//! scaling needs an idle core, not less work. `cargo bench -p weft-benches --bench build_trace`
//! gives the same comparison through criterion (730k rows).
//!
//! - Peak resident set of the 2^21-row build: 795.5 MiB for 784 MiB of trace, **1.015x** (the
//!   program and its contexts take 11 MiB before the build; the buffer is the only large
//!   allocation, never copied).
//! - Memory-write bandwidth: plain 8-byte stores into an already-faulted buffer of the same
//!   size (822 MB, a C loop, best of 7) run at 25 GB/s on one thread and 41 GB/s on two; the
//!   reused 2^21-row build writes its 822 MB at 6.7 GB/s (27 %) and 13.3 GB/s (32 %): the rest
//!   is regenerating the rows (operations, decoder bookkeeping, the tile's transposition).
//! - A fresh build is dominated by the kernel zeroing fresh pages (about half its CPU time in
//!   this VM, about 2 GB/s). A first try of transparent huge pages cut the fault count by four
//!   but not the CPU time; measured again on the whole trace, advising only each column's
//!   2 MiB-aligned blocks took fib_loop's build from 90-95 to 65-68 ms (`columns.rs`), and
//!   they are used.
//! - Writing one cell of each of the 49 columns per row made every store of a row fall into the
//!   same cache set (the columns sit at the same page offset): the reused 2^21-row build took
//!   604 ms on one thread before the eight-row tile, 122 ms after.
//! - The stack's `h0` (an inverse) comes from a table for overflows below 1024 elements: the
//!   inversion alone was a fifth of the build's samples.
//! - The per-row cost depends on where the allocator puts the columns: 2^20-row columns (8 MiB)
//!   land in thread arenas 16 bytes apart and cost about twice as much per row as 2^21-row ones
//!   (16 MiB, separately mapped).
//! - Against upstream (`cargo xtask compare`, second table, all threads, fresh buffers:
//!   `execute_for_trace` + `build_trace` each; upstream also builds its range checker and
//!   chiplet columns): fib_loop 1.76x, sha256_chain 1.74x, u32_arith 2.87x, hperm_chain 2.12x,
//!   mem_words 10.3x, geometric mean 2.86x faster.
//!
//! # Untrusted contexts
//! Contexts may come from elsewhere (they serialize). Every inconsistency (a node outside its
//! forest, a replay log that runs out, a fragment that does not start where it should, a
//! condition that is not binary) is a [`TraceGenError`], never a panic. A log that runs out is
//! [`FragmentError::ReplayExhausted`] naming the [`ReplayLog`], carried out of the operation
//! that needed the entry as the driver's own error type, never replaced by a made-up value. The buffer is sized
//! from `n_cycles`, which is bounded by [`weft_host::MAX_CYCLES`].

mod chiplets;
mod columns;
mod core_view;
mod error;
mod fragment;
mod partial;
mod profile;

use std::sync::Arc;

use weft_core::maybe_par;

#[cfg(feature = "concurrent")]
use rayon::prelude::*;
use weft_core::{
    Felt,
    main_trace::{
        CHIPLETS_WIDTH, ColumnBuffer, MainTrace, RANGE_CHECK_TRACE_WIDTH, TRACE_WIDTH,
        TraceLenSummary, main_trace_len, random_row,
    },
    trace::{CLK_COL_IDX, CORE_TRACE_WIDTH, DECODER_TRACE_OFFSET, decoder, halt_padding_row},
};
use weft_mast::MastForest;
use weft_replay::TraceContexts;

pub use crate::chiplets::MAX_CHIPLET_ROWS;
pub use crate::core_view::{core_trace, first_core_difference};
pub use crate::error::{ChipletError, FragmentError, ReplayLog, TraceGenError};
pub use crate::partial::{CoreRows, build_core_fragments, build_trace_from_core};
pub use crate::profile::{BuildProfile, RegionTiming, profile_build};
use crate::{
    chiplets::{Plan, RangeCounts, fill_padding, range},
    columns::{Columns, Storage},
    fragment::FragmentSummary,
    profile::RegionTimer,
};

/// The most rows a range checker table can have: every 16-bit value once (no bridges) and the
/// final row.
const MAX_RANGE_ROWS: usize = (1 << 16) + 1;

/// Builds the main trace (71 columns: core, range checker, chiplets; padded to upstream's
/// length, last row random) from the contexts of one execution and its forest table (the
/// [`weft_fast::ExecutionOutput::forests`] of that execution), on the current thread pool.
///
/// # Errors
/// Contexts that do not describe a successful execution of these forests.
pub fn build_trace(
    forests: &[Arc<MastForest>],
    contexts: &TraceContexts,
) -> Result<MainTrace, TraceGenError> {
    build_trace_with_summary(forests, contexts).map(|(trace, _)| trace)
}

/// [`build_trace`], also returning the row counts that decided the trace's length.
///
/// # Errors
/// As [`build_trace`].
pub fn build_trace_with_summary(
    forests: &[Arc<MastForest>],
    contexts: &TraceContexts,
) -> Result<(MainTrace, TraceLenSummary), TraceGenError> {
    build(
        forests,
        contexts,
        None,
        CoreSource::Build,
        Schedule::SideBySide,
    )
}

/// [`build_trace`] into `trace`, reusing its buffer: the previous contents are replaced, the
/// memory is not. Building into a trace this crate built, at least as large, pays no page fault
/// (see the crate documentation's figures); a trace held in vectors (the reference engine's) or
/// too small is dropped and a fresh buffer taken.
///
/// # Errors
/// As [`build_trace`]; `trace` is then left with no rows.
pub fn build_trace_into(
    forests: &[Arc<MastForest>],
    contexts: &TraceContexts,
    trace: &mut MainTrace,
) -> Result<TraceLenSummary, TraceGenError> {
    let empty = MainTrace::from_columns(vec![Vec::new(); TRACE_WIDTH]).expect("71 columns");
    let storage = std::mem::replace(trace, empty).into_buffer();
    let (built, summary) = build(
        forests,
        contexts,
        storage,
        CoreSource::Build,
        Schedule::SideBySide,
    )?;
    *trace = built;
    Ok(summary)
}

/// The most rows the main trace of these contexts can have: the core and chiplet rows are
/// known from the contexts, the range checker's are taken at their largest (`2^16 + 1`), so the
/// bound is exact for every trace longer than `2^17` rows. For sizing memory before a build.
///
/// # Errors
/// As [`build_trace`], for the checks that need no building.
pub fn trace_len_bound(
    forests: &[Arc<MastForest>],
    contexts: &TraceContexts,
) -> Result<usize, TraceGenError> {
    let n_cycles = check_contexts(forests, contexts)?;
    let plan = Plan::new(forests, &contexts.chiplets)?;
    Ok(main_trace_len(
        n_cycles,
        MAX_RANGE_ROWS,
        plan.summary.chiplets_rows(),
    ))
}

/// Where the core rows come from.
#[derive(Clone, Copy, Debug)]
enum CoreSource<'a> {
    /// Built here, one task per fragment.
    Build,
    /// Built elsewhere ([`build_trace_from_core`]).
    Given(&'a [CoreRows]),
}

/// How [`build`] runs its regions.
enum Schedule<'a> {
    /// The core fragments and the chiplet regions side by side on the pool (the real build).
    SideBySide,
    /// One region after another, each timed ([`profile_build`]).
    OneByOne(&'a mut RegionTimer),
}

fn build(
    forests: &[Arc<MastForest>],
    contexts: &TraceContexts,
    storage: Option<ColumnBuffer>,
    source: CoreSource<'_>,
    mut schedule: Schedule<'_>,
) -> Result<(MainTrace, TraceLenSummary), TraceGenError> {
    // Called from outside the pool, every parallel step below would be handed to the pool
    // on its own, the caller sleeping in between: the whole build is handed over once instead.
    // Measured on 2 threads (`weft bench --reps 2000`, three alternations): masm-examples'
    // `debug` (128 rows) best 88-92 µs against 97-102 µs without; medians and the 4,096-row
    // `fib` equal within noise.
    #[cfg(feature = "concurrent")]
    if matches!(schedule, Schedule::SideBySide) && rayon::current_thread_index().is_none() {
        return rayon::scope(move |_| build(forests, contexts, storage, source, schedule));
    }
    let n_cycles = check_contexts(forests, contexts)?;
    if let CoreSource::Given(parts) = source {
        partial::check_parts(parts, n_cycles, contexts.fragment_size as usize)?;
    }
    let plan = Plan::new(forests, &contexts.chiplets)?;
    // The range checker's length is known only once the core rows are written: reserve the
    // length without it, and move to a longer buffer in the rare trace the range checker
    // makes longer (only traces under 2^17 rows can be).
    let reserve = main_trace_len(n_cycles, 0, plan.summary.chiplets_rows());
    let storage = match (storage, &schedule) {
        (Some(buffer), _) => Storage::Given(buffer),
        (None, Schedule::SideBySide) => Storage::Any,
        (None, Schedule::OneByOne(_)) => Storage::Fresh,
    };
    let mut columns = Columns::new(storage, reserve);
    if let Schedule::OneByOne(timer) = &mut schedule {
        // Page faults on their own, so that each region's time is its own work.
        timer.time("first_touch", reserve, TRACE_WIDTH, || {
            columns.touch_pages()
        });
    }
    let columns = columns;

    // The core fragments and the chiplet regions, side by side on one pool.
    let core = || {
        let summaries = match source {
            CoreSource::Build => build_core(forests, contexts, &columns, n_cycles)?,
            CoreSource::Given(parts) => partial::copy_core(
                parts,
                &columns,
                contexts.fragments.len(),
                contexts.fragment_size as usize,
            ),
        };
        copy_repeat_rows(&columns, &summaries, contexts.fragment_size as usize);
        Ok::<_, TraceGenError>(summaries)
    };
    let chiplets = || plan.fill(&columns);
    // The last row's values depend on the program alone: drawn beside the regions (nine
    // permutations, as long as a short program's whole build).
    let random = || random_row(plan.program_hash());
    let (summaries, (memory_counts, last_row)) = match &mut schedule {
        #[cfg(feature = "concurrent")]
        Schedule::SideBySide => rayon::join(core, || rayon::join(chiplets, random)),
        #[cfg(not(feature = "concurrent"))]
        Schedule::SideBySide => (core(), (chiplets(), random())),
        Schedule::OneByOne(timer) => {
            let summaries = timer.time("core", n_cycles + 1, CORE_TRACE_WIDTH, core);
            (summaries, (plan.fill_timed(&columns, timer), random()))
        }
    };
    summaries?;

    // The range checker decides the length with the core and the chiplets.
    let count = || range::count_u32_limbs(&columns, n_cycles).merge(memory_counts);
    let (counts, counting_s): (RangeCounts, f64) = match &schedule {
        // Only a profiled build reads the clock: counting is part of the range checker's time.
        Schedule::OneByOne(_) => {
            let start = std::time::Instant::now();
            let counts = count();
            (counts, start.elapsed().as_secs_f64())
        }
        Schedule::SideBySide => (count(), 0.0),
    };
    let summary = TraceLenSummary {
        core_rows: n_cycles,
        range_rows: counts.n_rows(),
        ..plan.summary
    };
    let len = summary.trace_len();
    let padding_start = summary.chiplet_starts()[5];
    let columns = if len > columns.reserved() {
        // SAFETY: the core rows `0..=n_cycles` and the chiplet rows above the padding are
        // written, and every task is done.
        unsafe { columns.grow(len, n_cycles + 1, padding_start) }
    } else {
        columns
    };
    let core_padding = || pad(&columns, n_cycles, len);
    let range = || range::fill(&columns, &counts, len);
    let chiplet_padding = || fill_padding(&columns, padding_start, len - 1);
    match schedule {
        #[cfg(feature = "concurrent")]
        Schedule::SideBySide => {
            rayon::join(core_padding, || rayon::join(range, chiplet_padding));
        }
        #[cfg(not(feature = "concurrent"))]
        Schedule::SideBySide => {
            core_padding();
            range();
            chiplet_padding();
        }
        Schedule::OneByOne(timer) => {
            let core_rows = len - (n_cycles + 1);
            timer.time("core_padding", core_rows, CORE_TRACE_WIDTH, core_padding);
            // The range checker's time: counting the values it checks, then its table.
            timer.time_after("range", len, RANGE_CHECK_TRACE_WIDTH, counting_s, range);
            let chiplet_rows = len - 1 - padding_start;
            timer.time(
                "chiplet_padding",
                chiplet_rows,
                CHIPLETS_WIDTH,
                chiplet_padding,
            );
        }
    }
    for (col, value) in last_row.into_iter().enumerate() {
        // SAFETY: every task is done; `len - 1` is below the reservation.
        unsafe { columns.write(len - 1, col, value) };
    }
    // SAFETY: rows `0..=n_cycles` of the core columns were written by the fragments, the rest
    // by `pad`; the chiplet rows by their regions and the padding; the range rows by
    // `range::fill`; the last row just now.
    let trace = unsafe { columns.finish(len) };
    Ok((trace, summary))
}

/// Rebuilds every fragment's core rows (and the `HALT` row after the last one).
fn build_core(
    forests: &[Arc<MastForest>],
    contexts: &TraceContexts,
    columns: &Columns,
    n_cycles: usize,
) -> Result<Vec<FragmentSummary>, TraceGenError> {
    let size = contexts.fragment_size as usize;
    let last = contexts.fragments.len() - 1;
    maybe_par!(contexts.fragments.par_iter(), contexts.fragments.iter())
        .enumerate()
        .map(|(i, fragment)| {
            let start = i * size;
            let end = if i == last {
                n_cycles + 1
            } else {
                start + size
            };
            // SAFETY: `check_contexts` makes the ranges `i * size .. (i + 1) * size` (the last
            // one `.. n_cycles + 1`, below the reservation) disjoint and in bounds.
            let out = unsafe { columns.writer(start, end) };
            partial::run_fragment(forests, fragment, i, out, size, n_cycles, i == last)
        })
        .collect::<Result<Vec<_>, _>>()
}

/// A fragment that starts with `REPEAT` copies the hasher columns of the row before it.
fn copy_repeat_rows(columns: &Columns, summaries: &[FragmentSummary], size: usize) {
    for (i, summary) in summaries.iter().enumerate() {
        if summary.starts_with_repeat && i > 0 {
            let row = i * size;
            for c in 0..decoder::NUM_HASHER_COLUMNS {
                let col = DECODER_TRACE_OFFSET + decoder::HASHER_STATE_OFFSET + c;
                // SAFETY: every fragment wrote all its rows; `row - 1` and `row` are in range
                // and no task runs any more.
                unsafe { columns.write(row, col, columns.read(row - 1, col)) };
            }
        }
    }
}

/// Checks the shape of the contexts; returns the number of executed rows.
fn check_contexts(
    forests: &[Arc<MastForest>],
    contexts: &TraceContexts,
) -> Result<usize, TraceGenError> {
    if contexts.forests.len() != forests.len() {
        return Err(TraceGenError::ForestCount {
            expected: contexts.forests.len(),
            found: forests.len(),
        });
    }
    if contexts.fragment_size == 0 {
        return Err(TraceGenError::ZeroFragmentSize);
    }
    if contexts.n_cycles == 0 {
        return Err(TraceGenError::Empty);
    }
    if contexts.n_cycles > weft_host::MAX_CYCLES {
        return Err(TraceGenError::TooManyCycles {
            n_cycles: contexts.n_cycles,
            limit: weft_host::MAX_CYCLES,
        });
    }
    let n_cycles = contexts.n_cycles as usize;
    let size = contexts.fragment_size as usize;
    let expected = n_cycles.div_ceil(size);
    if contexts.fragments.len() != expected {
        return Err(TraceGenError::FragmentCount {
            n_cycles: contexts.n_cycles,
            fragment_size: contexts.fragment_size,
            expected,
            found: contexts.fragments.len(),
        });
    }
    for (i, fragment) in contexts.fragments.iter().enumerate() {
        let start = (i * size) as u64;
        if u64::from(fragment.state.clk) != start {
            return Err(TraceGenError::FragmentStart {
                fragment: i,
                expected: start,
                found: fragment.state.clk,
            });
        }
    }
    Ok(n_cycles)
}

/// Rows per padding task.
const PAD_CHUNK: usize = 1 << 14;

/// Writes the core columns' `HALT` padding after the `HALT` row at `n_cycles` up to `len`: `clk` counts on, `ctx` and
/// `fn_hash` are zero, the decoder repeats the `HALT` row's op bits, first four hasher columns
/// and `e1`, the stack columns repeat.
fn pad(columns: &Columns, n_cycles: usize, len: usize) {
    // SAFETY: the HALT row at `n_cycles` was written by the last fragment.
    let halt: [Felt; CORE_TRACE_WIDTH] =
        core::array::from_fn(|c| unsafe { columns.read(n_cycles, c) });
    let template = halt_padding_row(&halt);
    let first = n_cycles + 1;
    maybe_par!((first..len).into_par_iter(), first..len)
        .step_by(PAD_CHUNK)
        .for_each(|chunk_start| {
            let chunk_end = (chunk_start + PAD_CHUNK).min(len);
            for (col, value) in template.iter().enumerate() {
                // SAFETY: padding chunks are disjoint, past every fragment's rows, below
                // `len`.
                unsafe {
                    if col == CLK_COL_IDX {
                        columns.fill(col, chunk_start, chunk_end, |row| Felt::new(row as u64));
                    } else {
                        columns.fill_unwritten(col, chunk_start, chunk_end, *value);
                    }
                }
            }
        });
}

#[cfg(test)]
mod tests;

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
