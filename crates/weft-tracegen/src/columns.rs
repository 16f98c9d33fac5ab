//! The one preallocated column buffer every fragment and every chiplet region writes into.
//!
//! The 71 columns sit one after the other in one [`ColumnBuffer`] (one mapping, aligned to
//! 2 MiB and advised as transparent huge pages: `weft_core::main_trace::ColumnBuffer` says
//! why), reserved for their final length and never touched by the allocating thread: each page
//! is first written by the worker that fills the rows on it, so the kernel's zeroing of fresh
//! pages is spread over the workers instead of being paid up front by one thread, and each page
//! is written once (a zero-filled `vec!` would write every page twice).
//!
//! Measured with `weft bench --reps 15` on fib_loop (524,288 rows) and u32_arith (262,144),
//! 2 threads, idle machine, build_trace median: 90-95 ms on fib_loop with 71 separately
//! allocated columns, 65-70 ms when their 2 MiB-aligned interiors were advised (half of each
//! 4 MiB column; none of a 2 MiB one), 44-53 ms in one advised buffer (`perf`: the process's
//! page faults fell from 257,000 to 6,800 over 15 builds). In `cargo xtask compare` the trace
//! pipeline's geometric mean went from 2.10x to 3.98x upstream's, u32_arith from 2.10x to
//! 4.52x (its 2 MiB columns had no huge page before).
//!
//! The length is reserved without the range checker, whose rows are known only once the core
//! rows are written; in the rare trace the range checker makes longer (only traces under
//! 2^17 rows can be), [`Columns::grow`] moves the written rows to a longer buffer.
//!
//! A fresh buffer comes zeroed from the kernel ([`ColumnBuffer::zeroed`]), so the padding's
//! zero columns (most of the chiplet padding, the range checker's zero rows, the core padding's
//! zero stack and decoder cells) are not written at all ([`Columns::fill_unwritten`]); huge
//! pages that hold nothing else are never faulted in. fib_loop (524,288 rows, 2 threads, best
//! of 60 builds, two alternating runs, 2026-12-07): 40.5-44.3 ms to 33.0-35.5 ms, and 27 fewer
//! page faults per build, of the 142 huge pages its trace spans.
//!
//! A caller that builds trace after trace can hand back a trace it no longer needs
//! ([`crate::build_trace_into`]): its pages are already mapped, so the build pays no page fault
//! at all. A caller that does not gets the same from weft-core's buffer cache when a dropped
//! trace's mapping fits ([`Storage::Any`]; at most 64 MiB kept, as glibc keeps freed memory
//! for a builder with one allocation per column): upstream's `fib` example (4,096 rows, two
//! huge pages), build on 2 threads, best of 3,000, 2026-12-07: 0.55 ms fresh (a third of it
//! the kernel clearing the pages), 0.35 ms recycled. Either way the buffer is not zero, so every
//! cell is written.
//!
//! Core workers hold [`RowWriter`]s over disjoint row ranges, which assemble eight rows at a
//! time and write the 49 core columns out column by column (see [`RowWriter`] for why); chiplet
//! workers hold [`CellWriter`]s over disjoint row ranges of the range-checker and chiplet
//! columns. The columns get their length only once every row has been written
//! ([`Columns::finish`]); they are reserved for an upper bound of the length, since the range
//! checker's length is known only after the core rows are written.

use std::mem::MaybeUninit;

#[cfg(feature = "concurrent")]
use rayon::prelude::*;

use weft_core::{
    Felt, FieldElement, ONE, ZERO,
    main_trace::{ColumnBuffer, MainTrace, TRACE_WIDTH},
    trace::CORE_TRACE_WIDTH,
};

/// The column buffer under construction.
#[derive(Debug)]
pub(crate) struct Columns {
    buffer: ColumnBuffer,
    ptrs: [*mut Felt; TRACE_WIDTH],
    /// The reserved rows of every column.
    len: usize,
    /// Cells from one column's start to the next's: `len` and [`STAGGER`].
    stride: usize,
    /// Whether the buffer came zeroed ([`ColumnBuffer::zeroed`]): then every cell no writer has
    /// written yet is zero, and [`Columns::fill_unwritten`] skips zero fills.
    zeroed: bool,
    /// Whether long runs are written with non-temporal stores: only in a buffer of at least
    /// [`STREAM_MIN_BUFFER_BYTES`].
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    stream: bool,
}

/// Cells between the end of one column's reservation and the start of the next: one cache line.
///
/// Reservations are powers of two, so without it every column would start at the same offset
/// modulo the page size, and the cells of one row (which the chiplets write row by row, across
/// up to 20 columns) would all fall in the same cache set, more than its ways: each line would
/// be evicted before its eight rows were written. With it, column `c` starts `64 * c` bytes
/// further along modulo 4 KiB, in a set of its own. Measured with `weft bench`, three
/// alternating runs each, build_trace minimum: blake3_1to1 (1,048,576 rows) 66.6-72.3 ms to
/// 58.7-70.8 ms, mem_words (32,768 rows) 4.32-4.44 ms to 4.02-4.07 ms.
const STAGGER: usize = 8;

// SAFETY: the raw pointers point into `buffer`, which `Columns` owns and never reallocates
// while it lives; writers reach them only through `RowWriter`s over disjoint row ranges.
unsafe impl Send for Columns {}
// SAFETY: as above: shared access only hands out writers of disjoint ranges.
unsafe impl Sync for Columns {}

/// Where [`Columns`] keep their cells.
#[derive(Debug)]
pub(crate) enum Storage {
    /// A caller's buffer, when it is large enough (else as `Any`): its contents are forgotten,
    /// its pages kept, and every cell will be written.
    Given(ColumnBuffer),
    /// A dropped buffer's mapping from the cache when one fits (every cell will be written),
    /// else a fresh, zeroed one ([`ColumnBuffer::reuse_or_zeroed`]).
    Any,
    /// A fresh, zeroed mapping (one mapping advised as huge pages: zero fills of it are
    /// skipped), never a recycled one: a profiled build times its first touches.
    Fresh,
}

impl Columns {
    /// Room for `len` rows of every column, column `c` at cells `c * (len + STAGGER) ..` of
    /// the buffer `storage` says. Nothing is written.
    pub(crate) fn new(storage: Storage, len: usize) -> Self {
        let stride = len + STAGGER;
        let cells = stride
            .checked_mul(TRACE_WIDTH)
            .expect("trace length is bounded by the cycle limit");
        let (buffer, zeroed) = match storage {
            Storage::Given(buffer) if buffer.capacity() >= cells => (buffer, false),
            Storage::Given(_) | Storage::Any => ColumnBuffer::reuse_or_zeroed(cells),
            Storage::Fresh => (ColumnBuffer::zeroed(cells), true),
        };
        let ptrs = core::array::from_fn(|c| buffer.cell_ptr(c * stride));
        let stream = cells * size_of::<Felt>() >= STREAM_MIN_BUFFER_BYTES;
        Self {
            buffer,
            ptrs,
            len,
            stride,
            zeroed,
            stream,
        }
    }

    /// Maps every page of the buffer now (one cell written per 4 KiB page, in parallel), so
    /// that no region pays for first touches: [`crate::profile_build`] times them on their own.
    /// It maps the pages a real build leaves untouched too (those holding only zero padding),
    /// so that step overstates the real build's first touches on long-padded traces.
    pub(crate) fn touch_pages(&mut self) {
        const PAGE_CELLS: usize = 4096 / size_of::<Felt>();
        let cells = self.buffer.capacity();
        let all = self.buffer.uninit_mut(0, cells);
        weft_core::maybe_par!(all.par_chunks_mut(PAGE_CELLS), all.chunks_mut(PAGE_CELLS)).for_each(
            |page| {
                page[0].write(ZERO);
            },
        );
    }

    /// The reserved rows of every column.
    pub(crate) fn reserved(&self) -> usize {
        self.len
    }

    /// The same columns with room for `len` rows (more than reserved), in another buffer: rows
    /// `0..core_rows` of the core columns and `0..chiplet_rows` of the chiplet columns are
    /// copied (the range checker's columns are not written yet).
    ///
    /// # Safety
    /// Those rows have been written, and no writer is alive.
    pub(crate) unsafe fn grow(self, len: usize, core_rows: usize, chiplet_rows: usize) -> Self {
        assert!(len > self.len && core_rows <= self.len && chiplet_rows <= self.len);
        let grown = Self::new(Storage::Any, len);
        let copy = |cols: core::ops::Range<usize>, rows: usize| {
            for col in cols {
                // SAFETY: the source rows are written (caller's promise) and in bounds of both
                // buffers, which are distinct allocations; nothing else touches either.
                unsafe { core::ptr::copy_nonoverlapping(self.ptrs[col], grown.ptrs[col], rows) };
            }
        };
        copy(0..CORE_TRACE_WIDTH, core_rows);
        copy(
            weft_core::main_trace::CHIPLETS_OFFSET..TRACE_WIDTH,
            chiplet_rows,
        );
        grown
    }

    /// A writer of rows `start..end`.
    ///
    /// # Safety
    /// `start <= end <= len`, and the ranges of writers alive at the same time are disjoint.
    pub(crate) unsafe fn writer(&self, start: usize, end: usize) -> RowWriter<'_> {
        debug_assert!(start <= end && end <= self.len);
        RowWriter {
            columns: self,
            tile_start: start,
            n_done: 0,
            end,
            tile: [[ZERO; TILE_ROWS]; CORE_TRACE_WIDTH],
            inverses: Vec::new(),
        }
    }

    /// Fills rows `start..end` of column `col` with `value(row)`.
    ///
    /// # Safety
    /// `start <= end <= len`, and no other thread reads or writes these rows meanwhile.
    pub(crate) unsafe fn fill(
        &self,
        col: usize,
        start: usize,
        end: usize,
        value: impl Fn(usize) -> Felt,
    ) {
        debug_assert!(start <= end && end <= self.len);
        // SAFETY: in bounds of the allocation and exclusive, by the caller's promise;
        // `MaybeUninit` makes no claim about the current contents.
        let cells = unsafe {
            std::slice::from_raw_parts_mut(
                self.ptrs[col].add(start).cast::<MaybeUninit<Felt>>(),
                end - start,
            )
        };
        #[cfg(target_arch = "x86_64")]
        if self.stream && cells.len() >= STREAM_MIN_CELLS {
            stream_fill(cells, |i| value(start + i));
            return;
        }
        for (i, cell) in cells.iter_mut().enumerate() {
            cell.write(value(start + i));
        }
    }

    /// Fills rows `start..end` of column `col`, which nothing has written yet, with `value`.
    /// In a zeroed buffer a zero fill writes nothing: those cells are zero already, and the
    /// pages they cover are not even faulted in unless something else lies on them.
    ///
    /// # Safety
    /// As [`Columns::fill`].
    pub(crate) unsafe fn fill_unwritten(&self, col: usize, start: usize, end: usize, value: Felt) {
        if self.zeroed && value == ZERO {
            return;
        }
        // SAFETY: the caller's promise.
        unsafe { self.fill(col, start, end, |_| value) };
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

    /// Copies rows `src..src + n` to rows `dst..dst + n` in columns `cols`.
    ///
    /// # Safety
    /// Both ranges are inside `len` and do not overlap; the source rows of these columns have
    /// been written and no thread writes them meanwhile; no other thread reads or writes the
    /// destination cells meanwhile.
    pub(crate) unsafe fn copy_rows(
        &self,
        src: usize,
        dst: usize,
        n: usize,
        cols: core::ops::Range<usize>,
    ) {
        debug_assert!(src + n <= self.len && dst + n <= self.len);
        debug_assert!(src + n <= dst || dst + n <= src);
        for col in cols {
            // SAFETY: in bounds, initialised, disjoint and not written by others, by the
            // caller's promise.
            unsafe {
                core::ptr::copy_nonoverlapping(self.ptrs[col].add(src), self.ptrs[col].add(dst), n);
            }
        }
    }

    /// A writer of the cells of rows `start..end` in columns `cols` (not core columns).
    ///
    /// # Safety
    /// `start <= end <= len`, and no other writer alive at the same time covers any of these
    /// cells.
    pub(crate) unsafe fn cells(
        &self,
        start: usize,
        end: usize,
        cols: core::ops::Range<usize>,
    ) -> CellWriter<'_> {
        debug_assert!(start <= end && end <= self.len);
        CellWriter {
            columns: self,
            start,
            end,
            cols,
        }
    }

    /// The trace of the first `len` rows (at most the reserved length).
    ///
    /// # Safety
    /// Rows `0..len` of every column have been written.
    pub(crate) unsafe fn finish(self, len: usize) -> MainTrace {
        assert!(len <= self.len, "trace longer than its reservation");
        // SAFETY: rows `0..len` of every column are initialised (caller's promise).
        unsafe { MainTrace::from_buffer(self.buffer, self.stride, len) }
            .expect("the buffer holds every column's reservation")
    }

    /// The 49 core columns' first `len` rows (at most the reserved length), copied out into
    /// vectors, for a build of core rows alone.
    ///
    /// # Safety
    /// Rows `0..len` of every core column have been written.
    pub(crate) unsafe fn finish_core(self, len: usize) -> Vec<Vec<Felt>> {
        assert!(len <= self.len, "trace longer than its reservation");
        (0..CORE_TRACE_WIDTH)
            // SAFETY: rows `0..len` of the core columns are initialised (caller's promise) and
            // no writer is alive (`self` is owned).
            .map(|col| unsafe { self.buffer.slice(col * self.stride, len) }.to_vec())
            .collect()
    }
}

/// Writes cells of one row range and column range of the buffer; every write is checked
/// against both ranges, so safe code holding one cannot write outside them.
#[derive(Debug)]
pub(crate) struct CellWriter<'a> {
    columns: &'a Columns,
    start: usize,
    end: usize,
    cols: core::ops::Range<usize>,
}

impl CellWriter<'_> {
    /// Writes `value` at `row` (an absolute row number) of column `col`.
    ///
    /// # Panics
    /// If the cell is outside the writer's ranges (a bug of the caller).
    #[inline(always)]
    pub(crate) fn set(&mut self, row: usize, col: usize, value: Felt) {
        assert!(
            (self.start..self.end).contains(&row) && self.cols.contains(&col),
            "cell writer overrun"
        );
        // SAFETY: in the writer's ranges, which are in bounds and exclusively its own by the
        // promise made when it was created.
        unsafe { self.columns.write(row, col, value) };
    }

    /// Fills rows `start..end` of column `col`, which this writer has not written, with
    /// `value` ([`Columns::fill_unwritten`]: a zero fill of a zeroed buffer writes nothing).
    ///
    /// # Panics
    /// If the cells are outside the writer's ranges.
    pub(crate) fn fill_unwritten(&mut self, col: usize, start: usize, end: usize, value: Felt) {
        assert!(
            self.start <= start && start <= end && end <= self.end && self.cols.contains(&col),
            "cell writer overrun"
        );
        // SAFETY: as in `set`.
        unsafe { self.columns.fill_unwritten(col, start, end, value) };
    }
}

/// Rows a [`RowWriter`] holds before writing them out: 256 bytes of each column.
const TILE_ROWS: usize = 32;

/// Writes consecutive rows of one range of the buffer.
///
/// Rows are assembled in a small tile (12.5 KiB, within the L1 cache) and written out
/// column by column, [`TILE_ROWS`] rows at a time, at row numbers that are multiples of it.
/// When the columns were separate allocations at the same page offset, writing one cell of
/// each of the 49 columns per row landed 49 stores in the same cache set: measured on a
/// 2^21-row trace, a tile of eight rows made building about twice as fast ([`STAGGER`] now
/// spreads the columns over the sets too). When columns started 16 bytes into a cache line (the
/// allocator's header), eight rows were two partly written lines per column, each fetched again
/// by the next tile's flush after the set conflicts evicted it; 32 rows were five lines of which
/// three whole (in the one buffer they are four whole lines). Measured as CPU time of
/// `weft bench` (15 to 100 repetitions, two cores): 8 to 32 rows took mem_word_sum (32,768
/// rows) from 603-731 to 465-551 ms and fib_loop (524,288 rows) from 1,829-2,134 to
/// 1,716-2,028 ms. Rows are written out when the tile is full and when the writer is dropped;
/// only rows that were finished ([`RowWriter::advance`]) are written.
///
/// The tile is held column-major, so a column's 32 rows go out as one 256-byte run: with
/// non-temporal stores ([`stream_pairs`], whole aligned tiles on x86-64) that are four whole
/// cache lines written past the cache, with no read of the fresh line first. Long runs of
/// [`Columns::fill`] (the padding) do the same. Measured with `weft bench --reps 21` on
/// fib_loop, 2 threads, four alternating runs each: build_trace median 40-41 ms with the
/// column-major tile and plain stores, 34-36 ms with non-temporal stores (user CPU 0.93-1.02 s
/// to 0.68-0.74 s per run); the column-major tile alone had taken it from 41-51 to 39-42 ms.
/// A trace smaller than [`STREAM_MIN_BUFFER_BYTES`] fits in the cache and is written through it.
#[derive(Debug)]
pub(crate) struct RowWriter<'a> {
    columns: &'a Columns,
    /// The row of `tile[0]`.
    tile_start: usize,
    /// Finished rows in the tile; the current row is `tile[n_done]`.
    n_done: usize,
    end: usize,
    tile: [[Felt; TILE_ROWS]; CORE_TRACE_WIDTH],
    /// Cells whose inverse is written when the writer is dropped: `(row, column, value)`.
    inverses: Vec<(usize, usize, Felt)>,
}

impl RowWriter<'_> {
    /// The row the next write goes to.
    #[inline(always)]
    pub(crate) fn row(&self) -> usize {
        self.tile_start + self.n_done
    }

    /// Writes `value` into column `col` of the current row.
    #[inline(always)]
    pub(crate) fn set(&mut self, col: usize, value: Felt) {
        self.tile[col][self.n_done] = value;
    }

    /// Writes consecutive columns starting at `col`.
    #[inline(always)]
    pub(crate) fn set_range(&mut self, col: usize, values: &[Felt]) {
        for (column, value) in self.tile[col..col + values.len()].iter_mut().zip(values) {
            column[self.n_done] = *value;
        }
    }

    /// Writes the inverse of `value` (zero stays zero) into column `col` of the current row
    /// when the writer is dropped, if the row was finished by then, over whatever the row
    /// wrote there.
    ///
    /// The inverses of every row the writer wrote are taken together (Montgomery's trick:
    /// one inversion for all, and three multiplications each, where one inversion alone costs
    /// about a hundred). Measured with a reused buffer on one thread (`build_trace_into`,
    /// fib_loop, whose every loop pass has an `EQZ`): inversions were 11 % of the samples
    /// before.
    ///
    /// # Panics
    /// If `col` is not a core column (a bug of the caller).
    #[inline(always)]
    pub(crate) fn invert_later(&mut self, col: usize, value: Felt) {
        assert!(col < CORE_TRACE_WIDTH, "row writer column outside the core");
        self.inverses.push((self.row(), col, value));
    }

    /// Finishes the current row and moves to the next.
    ///
    /// # Panics
    /// If the current row is past the writer's range (a bug of the caller).
    #[inline(always)]
    pub(crate) fn advance(&mut self) {
        assert!(self.row() < self.end, "row writer overrun");
        self.n_done += 1;
        if self.row().is_multiple_of(TILE_ROWS) {
            self.flush();
        }
    }

    /// Writes the finished rows of the tile out and empties it.
    fn flush(&mut self) {
        let n = self.n_done;
        for (col, rows) in self.tile.iter().enumerate() {
            // SAFETY: rows `tile_start..tile_start + n` are finished rows, each checked below
            // `end <= len` by `advance`, and this writer's range is exclusively its own; the
            // tile is not part of the buffer.
            let dst = unsafe { self.columns.ptrs[col].add(self.tile_start) };
            #[cfg(target_arch = "x86_64")]
            if self.columns.stream && n == TILE_ROWS && dst.cast::<u8>().align_offset(16) == 0 {
                // SAFETY: as above, and `dst` is 16-byte aligned; the writer fences when dropped.
                unsafe { stream_pairs(dst, TILE_ROWS / 2, |i| rows[i]) };
                continue;
            }
            // SAFETY: as above.
            unsafe { core::ptr::copy_nonoverlapping(rows.as_ptr(), dst, n) };
        }
        self.tile_start += n;
        self.n_done = 0;
    }
}

/// The smallest buffer whose rows are written with non-temporal stores ([`RowWriter`],
/// [`Columns::fill`]); a smaller trace is written through the cache, where its consumer (the
/// caller, or the build's own later reads of the rows) finds it. Measured with `weft bench
/// --reps 400` on masm-examples' `fib` (4,096 rows, 2.3 MB), three alternations, build_trace
/// minimum: 374-386 us streamed against 322-325 us through the cache; the examples'
/// `short_corelib` 153 against 141-145 us, `hash` (16,384 rows, 9.3 MB) 1.83 against 1.80 ms;
/// traces of 18-37 MB (`sha256`, `nprime`, `mem_words`) equal within noise either way, and
/// large ones keep the streamed stores measured below.
const STREAM_MIN_BUFFER_BYTES: usize = 16 << 20;

/// Runs at least this long are written with non-temporal stores ([`stream_fill`]).
#[cfg(target_arch = "x86_64")]
const STREAM_MIN_CELLS: usize = 256;

/// Writes `value(i)` into every cell `i` of `cells` with non-temporal stores (past the cache:
/// the trace is far larger than it, and a line written whole need not be read first), then
/// fences them so that whoever is told the cells are written sees them.
#[cfg(target_arch = "x86_64")]
fn stream_fill(cells: &mut [MaybeUninit<Felt>], value: impl Fn(usize) -> Felt) {
    // Cells before the first 16-byte boundary (`align_offset` counts cells; they are 8-byte
    // aligned, so at most one), then pairs, then the last cell if any.
    let head = cells.as_ptr().align_offset(16).min(cells.len());
    for (i, cell) in cells[..head].iter_mut().enumerate() {
        cell.write(value(i));
    }
    let pairs = (cells.len() - head) / 2;
    // SAFETY: `cells[head..]` starts on a 16-byte boundary and holds `2 * pairs` cells, which
    // the caller holds exclusively.
    unsafe {
        stream_pairs(cells[head..].as_mut_ptr().cast(), pairs, |i| {
            value(head + i)
        })
    };
    let tail = head + 2 * pairs;
    for (i, cell) in cells.iter_mut().enumerate().skip(tail) {
        cell.write(value(i));
    }
    // SAFETY: SSE is part of x86-64.
    unsafe { core::arch::x86_64::_mm_sfence() };
}

/// Writes `value(i)` into cells `0..2 * pairs` from `dst` with non-temporal stores, two cells
/// per store. Not fenced: the caller fences before the cells are read elsewhere.
///
/// # Safety
/// `dst` is 16-byte aligned and valid for `2 * pairs` writes that nobody else makes.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn stream_pairs(dst: *mut Felt, pairs: usize, value: impl Fn(usize) -> Felt) {
    use core::arch::x86_64::{__m128i, _mm_loadu_si128, _mm_stream_si128};
    const { assert!(size_of::<Felt>() == 8) };
    let dst = dst.cast::<__m128i>();
    for p in 0..pairs {
        let pair = [value(2 * p), value(2 * p + 1)];
        // SAFETY: SSE2 is part of x86-64; `pair` is 16 readable bytes (two 8-byte cells, as
        // laid out in memory); `dst` is aligned and pair `p` is writable by the caller's
        // promise.
        unsafe { _mm_stream_si128(dst.add(p), _mm_loadu_si128(pair.as_ptr().cast::<__m128i>())) };
    }
}

impl Drop for RowWriter<'_> {
    fn drop(&mut self) {
        self.flush();
        // Non-temporal stores are weakly ordered: make them visible before whoever waits for
        // this writer reads the rows, and before the inverses below overwrite some of them.
        #[cfg(target_arch = "x86_64")]
        // SAFETY: SSE is part of x86-64.
        unsafe {
            core::arch::x86_64::_mm_sfence();
        }
        // Only finished rows were written out (`flush` wrote every one of them).
        self.inverses.retain(|&(row, _, _)| row < self.tile_start);
        if self.inverses.is_empty() {
            return;
        }
        let mut values: Vec<Felt> = self.inverses.iter().map(|&(_, _, v)| v).collect();
        invert_all(&mut values);
        for (&(row, col, _), value) in self.inverses.iter().zip(values) {
            // SAFETY: a finished row of this writer's range (checked below `end <= len` by
            // `advance`), which is exclusively its own, and a core column (checked by
            // `invert_later`).
            unsafe { self.columns.write(row, col, value) };
        }
    }
}

/// Replaces every value by its inverse, zeros staying zero, with one inversion in all: the
/// products of the nonzero values before each are kept, the inverse of the whole product is
/// taken, and walking back each inverse is that times the product before it, the running
/// inverse then taking the value back out.
fn invert_all(values: &mut [Felt]) {
    let mut before = Vec::with_capacity(values.len());
    let mut product = ONE;
    for &v in values.iter() {
        before.push(product);
        if v != ZERO {
            product *= v;
        }
    }
    let mut inverse = product.inv();
    for (v, before) in values.iter_mut().zip(before).rev() {
        if *v != ZERO {
            let value = *v;
            *v = inverse * before;
            inverse *= value;
        }
    }
}

#[cfg(test)]
#[path = "columns_tests.rs"]
mod tests;
