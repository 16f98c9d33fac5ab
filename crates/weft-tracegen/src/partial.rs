//! The core rows of a contiguous range of fragments, built on their own, and a main trace built
//! around core rows that were built elsewhere.
//!
//! This is what lets the core's work leave the machine that executed the program (the
//! `weft-dist` crate's jobs): a worker holds the contexts of fragments `first..first + n` and the
//! forests, and [`build_core_fragments`] gives it their rows; the machine that holds every
//! context builds the range checker and the chiplets itself and takes the core rows from the
//! workers ([`build_trace_from_core`]). The result is the trace [`crate::build_trace`] builds,
//! cell for cell.
//!
//! # Rows and `REPEAT`
//! Fragment `i` owns rows `i * fragment_size ..`; the last fragment also owns the `HALT` row
//! after the last executed row, so the parts of one execution cover rows `0..=n_cycles`. A
//! fragment that starts with `REPEAT` copies the hasher columns of the row before it: inside a
//! part [`build_core_fragments`] does that copy itself, and a part whose first fragment starts
//! with `REPEAT` says so ([`CoreRows::starts_with_repeat`]) for [`build_trace_from_core`] to copy
//! from the previous part.
//!
//! # Untrusted input
//! The contexts are checked as in [`crate::build_trace`] (a fragment that does not start where
//! its index says, a log that runs out, a node outside its forest: typed errors). Core rows from
//! elsewhere are checked for shape only (49 columns of one length, parts that cover the rows
//! exactly once, in order): their values cannot be checked without building them again.

use std::{ops::Range, sync::Arc};

#[cfg(feature = "concurrent")]
use rayon::prelude::*;
use weft_core::{
    Felt,
    main_trace::{MainTrace, TraceLenSummary},
    maybe_par,
    trace::CORE_TRACE_WIDTH,
};
use weft_mast::MastForest;
use weft_replay::{FragmentContext, TraceContexts};

use crate::{
    TraceGenError,
    columns::{Columns, RowWriter, Storage},
    copy_repeat_rows,
    error::FragmentError,
    fragment::{FragmentBuilder, FragmentSummary},
};

/// The 49 core columns of the rows of a contiguous range of fragments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoreRows {
    first_row: usize,
    columns: Vec<Vec<Felt>>,
    starts_with_repeat: bool,
}

impl CoreRows {
    /// Rows `first_row .. first_row + n` of the core columns (`columns[c][r]` is column `c` of
    /// row `first_row + r`); `starts_with_repeat` says the first row is a `REPEAT` whose
    /// hasher columns are still to be copied from the row before it.
    ///
    /// # Errors
    /// [`TraceGenError::CoreRowsShape`] unless there are 49 columns of one length, at least 1.
    pub fn from_columns(
        first_row: usize,
        columns: Vec<Vec<Felt>>,
        starts_with_repeat: bool,
    ) -> Result<Self, TraceGenError> {
        let n_rows = columns.first().map_or(0, Vec::len);
        if columns.len() != CORE_TRACE_WIDTH
            || n_rows == 0
            || columns.iter().any(|c| c.len() != n_rows)
        {
            return Err(TraceGenError::CoreRowsShape {
                n_columns: columns.len(),
                n_rows,
            });
        }
        Ok(Self {
            first_row,
            columns,
            starts_with_repeat,
        })
    }

    /// The first row's number in the trace.
    pub fn first_row(&self) -> usize {
        self.first_row
    }

    /// The number of rows.
    pub fn n_rows(&self) -> usize {
        self.columns[0].len()
    }

    /// The rows' numbers in the trace.
    pub fn rows(&self) -> Range<usize> {
        self.first_row..self.first_row + self.n_rows()
    }

    /// The 49 columns.
    pub fn columns(&self) -> &[Vec<Felt>] {
        &self.columns
    }

    /// Whether the first row is a `REPEAT` whose hasher columns copy the previous row's.
    pub fn starts_with_repeat(&self) -> bool {
        self.starts_with_repeat
    }
}

/// The core rows of fragments `first .. first + fragments.len()` of an execution of `n_cycles`
/// rows in fragments of `fragment_size` rows, from those fragments' contexts and the execution's
/// forest table, on the current thread pool (one task per fragment). With the last fragment,
/// the rows include the `HALT` row after the last executed row.
///
/// # Errors
/// [`TraceGenError::FragmentRange`] for a range outside the execution's fragments, the shape
/// errors of [`crate::build_trace`] (zero fragment size, no rows, too many cycles, a fragment
/// that does not start at its row), and every fragment's own errors.
pub fn build_core_fragments(
    forests: &[Arc<MastForest>],
    fragment_size: u32,
    n_cycles: u32,
    first: usize,
    fragments: &[FragmentContext],
) -> Result<CoreRows, TraceGenError> {
    if fragment_size == 0 {
        return Err(TraceGenError::ZeroFragmentSize);
    }
    if n_cycles == 0 {
        return Err(TraceGenError::Empty);
    }
    if n_cycles > weft_host::MAX_CYCLES {
        return Err(TraceGenError::TooManyCycles {
            n_cycles,
            limit: weft_host::MAX_CYCLES,
        });
    }
    let size = fragment_size as usize;
    let n_cycles = n_cycles as usize;
    let n_fragments = n_cycles.div_ceil(size);
    let end = first.checked_add(fragments.len());
    if fragments.is_empty() || end.is_none_or(|end| end > n_fragments) {
        return Err(TraceGenError::FragmentRange {
            first,
            count: fragments.len(),
            n_fragments,
        });
    }
    for (i, fragment) in fragments.iter().enumerate() {
        let start = ((first + i) * size) as u64;
        if u64::from(fragment.state.clk) != start {
            return Err(TraceGenError::FragmentStart {
                fragment: first + i,
                expected: start,
                found: fragment.state.clk,
            });
        }
    }
    let first_row = first * size;
    let last = n_fragments - 1;
    let row_end = if first + fragments.len() - 1 == last {
        n_cycles + 1
    } else {
        (first + fragments.len()) * size
    };
    let n_rows = row_end - first_row;
    let columns = Columns::new(Storage::Any, n_rows);
    let summaries = maybe_par!(fragments.par_iter(), fragments.iter())
        .enumerate()
        .map(|(i, fragment)| {
            let start = i * size;
            let is_last = first + i == last;
            let end = if is_last { n_rows } else { start + size };
            // SAFETY: the ranges `i * size .. (i + 1) * size` (the execution's last fragment's
            // `.. n_rows`, with its `HALT` row) are disjoint and within the reservation.
            let out = unsafe { columns.writer(start, end) };
            run_fragment(forests, fragment, first + i, out, size, n_cycles, is_last)
        })
        .collect::<Result<Vec<_>, _>>()?;
    // Rows are numbered from the part's first row here, so fragment `i` of the part starts at
    // `i * size`, as `copy_repeat_rows` expects; the first one is left to the caller.
    copy_repeat_rows(&columns, &summaries, size);
    // SAFETY: every fragment wrote all its rows (the last one through its `HALT` row), so rows
    // `0..n_rows` of the core columns are written.
    let columns = unsafe { columns.finish_core(n_rows) };
    CoreRows::from_columns(first_row, columns, summaries[0].starts_with_repeat)
}

/// Rebuilds the rows of fragment `index` into `out` (`out`'s range is the fragment's: `size`
/// rows, or up to and including the `HALT` row for the last fragment of the execution).
pub(crate) fn run_fragment<'a>(
    forests: &'a [Arc<MastForest>],
    fragment: &'a FragmentContext,
    index: usize,
    out: RowWriter<'a>,
    size: usize,
    n_cycles: usize,
    is_last: bool,
) -> Result<FragmentSummary, TraceGenError> {
    let wrap = |source| TraceGenError::Fragment {
        fragment: index,
        source,
    };
    let start = fragment.state.clk as usize;
    let builder = FragmentBuilder::new(forests, fragment, out).map_err(wrap)?;
    if is_last {
        let (summary, mut builder) = builder.run_rows(n_cycles - start).map_err(wrap)?;
        if !builder.is_finished() {
            return Err(wrap(FragmentError::Inconsistent(
                "the last fragment ends with work left",
            )));
        }
        builder.write_halt_row().map_err(wrap)?;
        Ok(summary)
    } else {
        builder.run_rows(size).map(|(s, _)| s).map_err(wrap)
    }
}

/// The main trace of `contexts` with its core rows taken from `parts` instead of being built:
/// the range checker, the chiplets, the padding and the random row are built as in
/// [`crate::build_trace`], and the result equals it when the parts hold the rows it builds.
/// Also returns the row counts that decided the trace's length (as
/// [`crate::build_trace_with_summary`]).
///
/// # Errors
/// The shape errors of [`crate::build_trace`], the chiplet logs' errors, and
/// [`TraceGenError::CoreRowsCoverage`] unless the parts, in order, cover rows `0..=n_cycles`
/// exactly once, each starting at a fragment's first row.
pub fn build_trace_from_core(
    forests: &[Arc<MastForest>],
    contexts: &TraceContexts,
    parts: &[CoreRows],
) -> Result<(MainTrace, TraceLenSummary), TraceGenError> {
    crate::build(
        forests,
        contexts,
        None,
        crate::CoreSource::Given(parts),
        crate::Schedule::SideBySide,
    )
}

/// Checks that `parts` cover rows `0..=n_cycles` exactly once, in order, each starting at a
/// fragment's first row.
pub(crate) fn check_parts(
    parts: &[CoreRows],
    n_cycles: usize,
    size: usize,
) -> Result<(), TraceGenError> {
    let mut next = 0;
    for (i, part) in parts.iter().enumerate() {
        if part.first_row != next || !part.first_row.is_multiple_of(size) {
            return Err(TraceGenError::CoreRowsCoverage {
                part: i,
                expected_row: next,
                found_row: part.first_row,
            });
        }
        next += part.n_rows();
    }
    if next != n_cycles + 1 {
        return Err(TraceGenError::CoreRowsCoverage {
            part: parts.len(),
            expected_row: n_cycles + 1,
            found_row: next,
        });
    }
    Ok(())
}

/// Writes `parts` (checked by [`check_parts`]) into the core columns; returns a summary per
/// fragment saying which ones still need their `REPEAT` row's hasher columns copied (the
/// parts' first fragments that start with `REPEAT`).
pub(crate) fn copy_core(
    parts: &[CoreRows],
    columns: &Columns,
    n_fragments: usize,
    size: usize,
) -> Vec<FragmentSummary> {
    maybe_par!(parts.par_iter(), parts.iter()).for_each(|part| {
        for (col, values) in part.columns.iter().enumerate() {
            // SAFETY: the parts' row ranges are disjoint and end at `n_cycles + 1`, below the
            // reservation (`check_parts`); each part writes only its own rows.
            unsafe {
                columns.fill(col, part.first_row, part.first_row + values.len(), |row| {
                    values[row - part.first_row]
                })
            };
        }
    });
    let mut summaries: Vec<FragmentSummary> = (0..n_fragments)
        .map(|_| FragmentSummary {
            starts_with_repeat: false,
        })
        .collect();
    for part in parts {
        summaries[part.first_row / size].starts_with_repeat = part.starts_with_repeat;
    }
    summaries
}

#[cfg(test)]
#[path = "partial_tests.rs"]
mod tests;
