//! [`MainTrace`]: the 71 columns of a built trace, in 71 vectors or in one [`ColumnBuffer`].

use super::{ColumnBuffer, Region, TRACE_WIDTH, region_of_cell};
use crate::{Felt, trace::CoreTrace};

/// The 71 columns of a main trace, stored column by column, every column of the same length.
///
/// The columns live either in 71 vectors ([`Self::from_columns`], what the reference engine
/// builds) or in one [`ColumnBuffer`] ([`Self::from_buffer`], what the parallel builder writes
/// into); both read the same, and two traces are equal when their cells are, whatever their
/// storage.
pub struct MainTrace {
    storage: Storage,
    n_rows: usize,
}

/// Where a trace's cells are.
enum Storage {
    /// One vector per column.
    Vectors(Vec<Vec<Felt>>),
    /// One buffer; column `c` starts at cell `c * stride`.
    Buffer { buffer: ColumnBuffer, stride: usize },
}

impl MainTrace {
    /// Builds a trace from 71 columns.
    ///
    /// Returns `None` unless there are exactly [`TRACE_WIDTH`] columns of equal length.
    pub fn from_columns(columns: Vec<Vec<Felt>>) -> Option<Self> {
        if columns.len() != TRACE_WIDTH {
            return None;
        }
        let n_rows = columns[0].len();
        if columns.iter().any(|c| c.len() != n_rows) {
            return None;
        }
        Some(Self {
            storage: Storage::Vectors(columns),
            n_rows,
        })
    }

    /// Builds a trace of `n_rows` rows whose column `c` is cells `c * stride ..` of `buffer`.
    ///
    /// Returns `None` unless `n_rows <= stride` and the buffer holds [`TRACE_WIDTH`] strides.
    ///
    /// # Safety
    /// The first `n_rows` cells of every column are initialised.
    pub unsafe fn from_buffer(buffer: ColumnBuffer, stride: usize, n_rows: usize) -> Option<Self> {
        let fits = stride
            .checked_mul(TRACE_WIDTH)
            .is_some_and(|cells| n_rows <= stride && cells <= buffer.capacity());
        fits.then_some(Self {
            storage: Storage::Buffer { buffer, stride },
            n_rows,
        })
    }

    /// Builds a trace from a core trace and the 22 range-checker and chiplet columns (moved, not
    /// copied).
    ///
    /// Returns `None` unless there are 22 other columns, all as long as the core trace.
    pub fn from_core(core: CoreTrace, rest: Vec<Vec<Felt>>) -> Option<Self> {
        let mut columns = core.into_columns();
        columns.extend(rest);
        Self::from_columns(columns)
    }

    /// Returns the number of rows.
    pub fn num_rows(&self) -> usize {
        self.n_rows
    }

    /// Returns the value at `row` of column `col`.
    ///
    /// # Panics
    /// If `row` or `col` is out of range.
    pub fn get(&self, row: usize, col: usize) -> Felt {
        self.column(col)[row]
    }

    /// Returns the value at `row` of column `col`, or `None` out of range.
    pub fn try_get(&self, row: usize, col: usize) -> Option<Felt> {
        if col < TRACE_WIDTH {
            self.column(col).get(row).copied()
        } else {
            None
        }
    }

    /// Returns column `col`.
    ///
    /// # Panics
    /// If `col` is not below [`TRACE_WIDTH`].
    pub fn column(&self, col: usize) -> &[Felt] {
        match &self.storage {
            Storage::Vectors(columns) => &columns[col],
            Storage::Buffer { buffer, stride } => {
                assert!(col < TRACE_WIDTH, "column out of range");
                // SAFETY: the first `n_rows` cells of every column are initialised (the promise
                // of `from_buffer`, kept by every mutable access), and `&self` excludes writers.
                unsafe { buffer.slice(col * stride, self.n_rows) }
            }
        }
    }

    /// Returns column `col`, mutably (its length is fixed).
    ///
    /// # Panics
    /// If `col` is not below [`TRACE_WIDTH`].
    pub fn column_mut(&mut self, col: usize) -> &mut [Felt] {
        match &mut self.storage {
            Storage::Vectors(columns) => &mut columns[col],
            Storage::Buffer { buffer, stride } => {
                assert!(col < TRACE_WIDTH, "column out of range");
                // SAFETY: as in `column`; `&mut self` makes the access exclusive.
                unsafe { buffer.slice_mut(col * *stride, self.n_rows) }
            }
        }
    }

    /// Returns every column, in order.
    pub fn columns(&self) -> impl ExactSizeIterator<Item = &[Felt]> + '_ {
        (0..TRACE_WIDTH).map(|col| self.column(col))
    }

    /// Gives up the columns as vectors: moved when the trace holds vectors, copied out of its
    /// buffer otherwise.
    pub fn into_columns(self) -> Vec<Vec<Felt>> {
        match self.storage {
            Storage::Vectors(columns) => columns,
            Storage::Buffer { .. } => self.columns().map(<[Felt]>::to_vec).collect(),
        }
    }

    /// Gives up the trace's buffer (for instance to build another trace into it), or `None`
    /// when the trace holds vectors.
    pub fn into_buffer(self) -> Option<ColumnBuffer> {
        match self.storage {
            Storage::Vectors(_) => None,
            Storage::Buffer { buffer, .. } => Some(buffer),
        }
    }

    /// Returns row `i` as an array.
    ///
    /// # Panics
    /// If `i` is not below [`Self::num_rows`].
    pub fn row(&self, i: usize) -> [Felt; TRACE_WIDTH] {
        core::array::from_fn(|col| self.column(col)[i])
    }

    /// Returns the region of the cell at `row`, column `col`. Chiplet cells are placed by the
    /// row's own selector columns, so this describes the trace as it is (a wrong selector moves
    /// the cell).
    ///
    /// # Panics
    /// If `row` or `col` is out of range.
    pub fn region(&self, row: usize, col: usize) -> Region {
        region_of_cell(self.num_rows(), row, col, |c| self.column(c)[row])
    }
}

impl Clone for MainTrace {
    /// A copy in the same kind of storage.
    fn clone(&self) -> Self {
        match &self.storage {
            Storage::Vectors(columns) => Self {
                storage: Storage::Vectors(columns.clone()),
                n_rows: self.n_rows,
            },
            Storage::Buffer { stride, .. } => {
                let mut buffer = ColumnBuffer::new(stride * TRACE_WIDTH);
                for (col, column) in self.columns().enumerate() {
                    for (cell, value) in buffer
                        .uninit_mut(col * stride, self.n_rows)
                        .iter_mut()
                        .zip(column)
                    {
                        cell.write(*value);
                    }
                }
                // SAFETY: the first `n_rows` cells of every column were written just now.
                unsafe { Self::from_buffer(buffer, *stride, self.n_rows) }
                    .expect("same shape as the original")
            }
        }
    }
}

impl PartialEq for MainTrace {
    fn eq(&self, other: &Self) -> bool {
        self.n_rows == other.n_rows && self.columns().eq(other.columns())
    }
}

impl Eq for MainTrace {}

impl core::fmt::Debug for MainTrace {
    /// The shape only: a trace has millions of cells ([`super::first_difference`] compares two).
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let storage = match &self.storage {
            Storage::Vectors(_) => "vectors",
            Storage::Buffer { .. } => "buffer",
        };
        f.debug_struct("MainTrace")
            .field("num_rows", &self.n_rows)
            .field("num_cols", &TRACE_WIDTH)
            .field("storage", &storage)
            .finish()
    }
}
