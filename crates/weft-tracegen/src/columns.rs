//! The one preallocated column buffer every fragment writes into.
//!
//! The 49 columns are allocated with their final length as capacity and never touched by the
//! allocating thread: each page is first written by the worker that fills the rows on it, so
//! the page-fault cost is spread over the workers instead of being paid up front by one thread.
//! Workers hold [`RowWriter`]s over disjoint row ranges; the columns get their length only
//! once every row has been written ([`Columns::finish`]).

use weft_core::{Felt, trace::CORE_TRACE_WIDTH};

/// The column buffer under construction.
#[derive(Debug)]
pub(crate) struct Columns {
    columns: Vec<Vec<Felt>>,
    ptrs: [*mut Felt; CORE_TRACE_WIDTH],
    len: usize,
}

// SAFETY: the raw pointers point into `columns`, which `Columns` owns and never reallocates
// while it lives; writers reach them only through `RowWriter`s over disjoint row ranges.
unsafe impl Send for Columns {}
// SAFETY: as above: shared access only hands out writers of disjoint ranges.
unsafe impl Sync for Columns {}

impl Columns {
    /// Allocates `len` rows of every column, without touching them.
    pub(crate) fn new(len: usize) -> Self {
        let mut columns: Vec<Vec<Felt>> = (0..CORE_TRACE_WIDTH)
            .map(|_| Vec::with_capacity(len))
            .collect();
        let ptrs = core::array::from_fn(|c| columns[c].as_mut_ptr());
        for column in &columns {
            advise_huge_pages(column);
        }
        Self { columns, ptrs, len }
    }

    /// A writer of rows `start..end`.
    ///
    /// # Safety
    /// `start <= end <= len`, and the ranges of writers alive at the same time are disjoint.
    pub(crate) unsafe fn writer(&self, start: usize, end: usize) -> RowWriter<'_> {
        debug_assert!(start <= end && end <= self.len);
        RowWriter {
            columns: self,
            next: start,
            end,
        }
    }

    /// Reads a cell of a row that has been written.
    ///
    /// # Safety
    /// `row < len` and row `row` of column `col` has been written.
    pub(crate) unsafe fn read(&self, row: usize, col: usize) -> Felt {
        debug_assert!(row < self.len);
        // SAFETY: in bounds and initialised, by the caller's promise.
        unsafe { self.ptrs[col].add(row).read() }
    }

    /// Writes a cell.
    ///
    /// # Safety
    /// `row < len`, and no other thread reads or writes this row meanwhile.
    pub(crate) unsafe fn write(&self, row: usize, col: usize, value: Felt) {
        debug_assert!(row < self.len);
        // SAFETY: in bounds of the allocation; exclusive by the caller's promise.
        unsafe { self.ptrs[col].add(row).write(value) }
    }

    /// Gives the columns their length.
    ///
    /// # Safety
    /// Every row of every column has been written.
    pub(crate) unsafe fn finish(mut self) -> Vec<Vec<Felt>> {
        for column in &mut self.columns {
            // SAFETY: capacity is `len` and every element is initialised (caller's promise).
            unsafe { column.set_len(self.len) };
        }
        self.columns
    }
}

/// Asks the kernel to back the (untouched) allocation of `column` with transparent huge pages,
/// where the system leaves that to the program (`madvise` mode): a first write then faults in
/// 2 MiB at a time instead of 4 KiB, which divides the page-fault count of a large trace by 512.
/// Only a hint: the result is ignored, and nothing is done for allocations below 2 MiB.
#[cfg(target_os = "linux")]
fn advise_huge_pages(column: &Vec<Felt>) {
    const HUGE_PAGE: usize = 2 << 20;
    const PAGE: usize = 4096;
    let bytes = column.capacity() * size_of::<Felt>();
    if bytes < HUGE_PAGE {
        return;
    }
    let start = column.as_ptr() as usize;
    let first = start.next_multiple_of(PAGE);
    let end = (start + bytes) / PAGE * PAGE;
    if end <= first {
        return;
    }
    // SAFETY: `first..end` is a page-aligned range inside the allocation of `column`, which
    // this process owns; `MADV_HUGEPAGE` changes no content and no mapping, only how the
    // kernel backs the range on its next faults.
    unsafe {
        libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE);
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_column: &Vec<Felt>) {}

/// Writes consecutive rows of one range of the buffer.
#[derive(Debug)]
pub(crate) struct RowWriter<'a> {
    columns: &'a Columns,
    next: usize,
    end: usize,
}

impl RowWriter<'_> {
    /// The row the next write goes to.
    #[inline(always)]
    pub(crate) fn row(&self) -> usize {
        self.next
    }

    /// Writes `value` into column `col` of the current row.
    #[inline(always)]
    pub(crate) fn set(&mut self, col: usize, value: Felt) {
        assert!(self.next < self.end, "row writer overrun");
        // SAFETY: `next < end <= len`, and this writer's range is exclusively its own.
        unsafe { self.columns.write(self.next, col, value) }
    }

    /// Writes consecutive columns starting at `col`.
    #[inline(always)]
    pub(crate) fn set_range(&mut self, col: usize, values: &[Felt]) {
        for (i, v) in values.iter().enumerate() {
            self.set(col + i, *v);
        }
    }

    /// Moves to the next row.
    #[inline(always)]
    pub(crate) fn advance(&mut self) {
        self.next += 1;
    }
}
