//! One allocation holding every column of a trace, column after column.
//!
//! A trace builder that allocates each column on its own gets what the allocator gives: on
//! Linux, each large column is its own mapping, 16 bytes past a 4 KiB page boundary, so at most
//! the 2 MiB-aligned blocks inside each column can be backed by transparent huge pages. A column
//! of 2 MiB (a 2^18-row trace) then has none, one of 4 MiB about half. Faulting in a fresh 4 KiB
//! page costs the kernel far more than its share of a 2 MiB one: measured on the 2-core
//! development VM (first write to each page of 300 MiB, a C loop), 120-170 ms with 4 KiB pages,
//! 27-32 ms with huge pages after the first run (the kernel's very first huge-page run compacted
//! memory: 640 ms). So [`ColumnBuffer`] takes one mapping for the whole trace, aligned to 2 MiB
//! and advised as huge pages (`MADV_HUGEPAGE`; this machine kind runs THP in `madvise` mode),
//! and the columns sit in it one after the other, `stride` cells apart.
//!
//! Nothing is written at allocation: every page is first touched by whoever writes its cells,
//! so a parallel builder shares the kernel's zeroing among its workers. The mapping is whole huge
//! pages, the last one included (`map_huge` says why). Elsewhere than Linux, and below
//! `MIN_MAPPED`, the buffer comes from the global allocator.
//!
//! # Recycling
//!
//! A dropped buffer's mapping is kept, up to [`buffer_cache_limit`] bytes in all (64 MiB unless
//! [`set_buffer_cache_limit`] says otherwise), and the next [`ColumnBuffer::new`] or
//! [`ColumnBuffer::reuse_or_zeroed`] that fits in it takes it, its pages already faulted in.
//! This is what the global allocator does for the small buffers it serves: glibc keeps freed
//! memory and serves the next allocation from it, and raises its mapping threshold as large
//! blocks are freed (up to 32 MiB a block, keeping up to twice that at the top of its heap), so a
//! trace builder with one allocation per column recycles warm memory for columns up to 32 MiB
//! without asking. A fresh huge page instead costs its first toucher the zeroing of 2 MiB: on
//! the development VM a 4,096-row trace (2.3 MB, two huge pages) spent 0.3-0.4 ms of its
//! 0.7-1.0 ms build in the kernel's `clear_page`, more than all its rows. A recycled buffer is
//! not zero, so its builder writes every cell; [`ColumnBuffer::zeroed`] never recycles.
//!
//! All of this crate's `unsafe` for trace storage is in this module.

use core::{mem::MaybeUninit, ptr::NonNull};
use std::alloc::{self, Layout};

use crate::Felt;

/// Transparent huge page size on x86-64 and most aarch64 kernels.
#[cfg(target_os = "linux")]
const HUGE_PAGE: usize = 2 << 20;

/// The smallest buffer mapped as huge pages; smaller ones come from the global allocator. A
/// fresh huge page costs its first toucher the zeroing of 2 MiB, which is already cheaper than
/// faulting in 300 KB of 4 KiB pages one by one (0.09-0.12 ms against 0.21-0.24 ms, measured as
/// in [`map_huge`]). The threshold is set higher than that, at a quarter of a huge page, so
/// that the smallest traces, whose memory the allocator can recycle without any fault, and
/// their resident size stay with the allocator; it was not measured more finely.
#[cfg(target_os = "linux")]
const MIN_MAPPED: usize = HUGE_PAGE / 4;

/// Alignment of buffers from the global allocator: one cache line.
const LINE: usize = 64;

/// The default of [`buffer_cache_limit`]: glibc's own retention for a process freeing large
/// blocks (twice its 32 MiB largest mapping threshold).
pub const DEFAULT_BUFFER_CACHE_LIMIT: usize = 64 << 20;

/// The most bytes of dropped buffers' mappings kept for reuse (see the module's docs).
pub fn buffer_cache_limit() -> usize {
    #[cfg(target_os = "linux")]
    return cache::global().limit;
    #[cfg(not(target_os = "linux"))]
    0
}

/// Sets [`buffer_cache_limit`] and unmaps what the cache holds beyond it; returns the limit
/// before. Zero turns recycling off (every buffer then comes fresh and zeroed from the kernel).
/// Elsewhere than Linux there is nothing to recycle and the limit stays zero.
pub fn set_buffer_cache_limit(bytes: usize) -> usize {
    #[cfg(target_os = "linux")]
    return cache::global().set_limit(bytes);
    #[cfg(not(target_os = "linux"))]
    {
        let _ = bytes;
        0
    }
}

/// Where the memory came from, for giving it back.
#[derive(Clone, Copy, Debug)]
enum Origin {
    /// Nothing allocated (no cells).
    Empty,
    /// The global allocator, with this layout.
    Heap(Layout),
    /// An anonymous mapping of this many bytes.
    #[cfg(target_os = "linux")]
    Mapped(usize),
}

/// Room for a number of field elements, none of them initialised, in one allocation.
///
/// The buffer hands out raw pointers only; [`super::MainTrace::from_buffer`] gives safe
/// access to the cells once they are written.
pub struct ColumnBuffer {
    ptr: NonNull<Felt>,
    cells: usize,
    origin: Origin,
}

// SAFETY: the buffer owns its memory (like a `Box<[MaybeUninit<Felt>]>`), and `Felt` is `Send`.
unsafe impl Send for ColumnBuffer {}
// SAFETY: shared references give only `*const`/`*mut` pointers; every read or write through
// them is `unsafe` and its caller promises exclusivity.
unsafe impl Sync for ColumnBuffer {}

impl core::fmt::Debug for ColumnBuffer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ColumnBuffer")
            .field("cells", &self.cells)
            .field("origin", &self.origin)
            .finish()
    }
}

impl ColumnBuffer {
    /// Room for `cells` cells. No page is touched: the memory is mapped (or allocated) only.
    ///
    /// # Panics
    /// If the size overflows `isize`; out of memory aborts, as for a `Vec`.
    pub fn new(cells: usize) -> Self {
        Self::recycled(cells).unwrap_or_else(|| Self::allocate(cells, false))
    }

    /// Room for `cells` cells: a recycled mapping when one fits (see the module's docs), whose
    /// cells hold whatever its last owner wrote, else a fresh zeroed one as
    /// [`ColumnBuffer::zeroed`]. The flag says which: `true` when every cell is zero.
    ///
    /// # Panics
    /// As [`ColumnBuffer::new`].
    pub fn reuse_or_zeroed(cells: usize) -> (Self, bool) {
        match Self::recycled(cells) {
            Some(buffer) => (buffer, false),
            None => (Self::allocate(cells, true), true),
        }
    }

    /// Empties the cache of dropped buffers' mappings (see the module's docs), handing them
    /// over as buffers of whole mappings (their cells hold what their last owners wrote). A
    /// build meanwhile gets a fresh buffer; dropping these gives them back to the cache, as far
    /// as its limit allows. This is how a benchmark times builds into fresh buffers without
    /// losing the cache.
    pub fn take_cached() -> Vec<Self> {
        #[cfg(target_os = "linux")]
        return cache::global()
            .take_all()
            .into_iter()
            .map(|(ptr, len)| Self {
                ptr,
                cells: len / size_of::<Felt>(),
                origin: Origin::Mapped(len),
            })
            .collect();
        #[cfg(not(target_os = "linux"))]
        Vec::new()
    }

    /// A recycled mapping for `cells` cells, if the cache has one that fits.
    fn recycled(cells: usize) -> Option<Self> {
        #[cfg(target_os = "linux")]
        if let Some(bytes) = cells.checked_mul(size_of::<Felt>())
            && bytes >= MIN_MAPPED
            && let Some((ptr, len)) = cache::global().take(bytes)
        {
            return Some(Self {
                ptr,
                cells,
                origin: Origin::Mapped(len),
            });
        }
        #[cfg(not(target_os = "linux"))]
        let _ = cells;
        None
    }

    /// Room for `cells` cells, every one of them zero. A mapping is zero as the kernel hands
    /// it over, so no page is touched here either (a smaller buffer from the global allocator
    /// is allocated zeroed): a writer that knows a cell must stay zero can leave it alone, and
    /// a page nobody writes is never faulted in.
    ///
    /// # Panics
    /// As [`ColumnBuffer::new`].
    pub fn zeroed(cells: usize) -> Self {
        Self::allocate(cells, true)
    }

    fn allocate(cells: usize, zeroed: bool) -> Self {
        let bytes = cells
            .checked_mul(size_of::<Felt>())
            .filter(|&b| b <= isize::MAX as usize / 2)
            .expect("trace buffer size overflows");
        if bytes == 0 {
            return Self {
                ptr: NonNull::dangling(),
                cells: 0,
                origin: Origin::Empty,
            };
        }
        #[cfg(target_os = "linux")]
        if bytes >= MIN_MAPPED
            && let Some((ptr, len)) = map_huge(bytes)
        {
            return Self {
                ptr,
                cells,
                origin: Origin::Mapped(len),
            };
        }
        let layout = Layout::from_size_align(bytes, LINE).expect("size checked above");
        // SAFETY: the layout's size is not zero.
        let ptr = unsafe {
            if zeroed {
                alloc::alloc_zeroed(layout)
            } else {
                alloc::alloc(layout)
            }
        };
        let Some(ptr) = NonNull::new(ptr.cast::<Felt>()) else {
            alloc::handle_alloc_error(layout)
        };
        Self {
            ptr,
            cells,
            origin: Origin::Heap(layout),
        }
    }

    /// The number of cells.
    pub fn capacity(&self) -> usize {
        self.cells
    }

    /// A pointer to cell `index` (at most [`Self::capacity`], one past the end allowed).
    ///
    /// # Panics
    /// If `index` is past the end.
    pub fn cell_ptr(&self, index: usize) -> *mut Felt {
        assert!(index <= self.cells, "cell outside the buffer");
        // SAFETY: in bounds of the allocation (or one past its end), checked above.
        unsafe { self.ptr.as_ptr().add(index) }
    }

    /// Cells `start..start + len`, as possibly uninitialised memory.
    ///
    /// # Panics
    /// If the range is outside the buffer.
    pub fn uninit_mut(&mut self, start: usize, len: usize) -> &mut [MaybeUninit<Felt>] {
        assert!(
            start.checked_add(len).is_some_and(|end| end <= self.cells),
            "cells outside the buffer"
        );
        // SAFETY: in bounds, checked above; `&mut self` makes the access exclusive, and
        // `MaybeUninit` claims nothing about the contents.
        unsafe { core::slice::from_raw_parts_mut(self.ptr.as_ptr().add(start).cast(), len) }
    }

    /// Cells `start..start + len`.
    ///
    /// # Safety
    /// The cells are initialised, and nobody writes them while the slice lives.
    ///
    /// # Panics
    /// If the range is outside the buffer.
    pub unsafe fn slice(&self, start: usize, len: usize) -> &[Felt] {
        assert!(
            start.checked_add(len).is_some_and(|end| end <= self.cells),
            "cells outside the buffer"
        );
        // SAFETY: in bounds (checked), initialised and not written meanwhile (caller's
        // promise).
        unsafe { core::slice::from_raw_parts(self.ptr.as_ptr().add(start), len) }
    }

    /// Cells `start..start + len`, mutably.
    ///
    /// # Safety
    /// The cells are initialised.
    ///
    /// # Panics
    /// If the range is outside the buffer.
    pub unsafe fn slice_mut(&mut self, start: usize, len: usize) -> &mut [Felt] {
        let cells = self.uninit_mut(start, len);
        // SAFETY: initialised by the caller's promise; exclusive through `&mut self`.
        unsafe { &mut *(core::ptr::from_mut(cells) as *mut [Felt]) }
    }
}

impl Drop for ColumnBuffer {
    fn drop(&mut self) {
        match self.origin {
            Origin::Empty => {}
            // SAFETY: allocated by `alloc::alloc` with this layout, freed once.
            Origin::Heap(layout) => unsafe { alloc::dealloc(self.ptr.as_ptr().cast(), layout) },
            #[cfg(target_os = "linux")]
            // The cache takes the mapping over (and unmaps it when it cannot keep it): nothing
            // else refers to it once the buffer is dropped.
            Origin::Mapped(len) => cache::global().keep(self.ptr, len),
        }
    }
}

/// Maps `bytes` bytes, rounded up to whole 2 MiB blocks, of fresh anonymous memory at a 2 MiB
/// boundary and advises all of it as transparent huge pages. Returns the start and the
/// mapping's length, or `None` if the kernel refuses the mapping.
///
/// The last block is advised too, however little of it the buffer uses: the kernel zeroes a
/// whole huge page at its first touch, but faulting in 4 KiB pages one by one costs far more
/// per byte. Measured on the 2-core development VM (first write to every byte of a fresh
/// mapping, then unmapping it, a C loop, best of 100, 2026-12-07): 18.6 MB (a 32,768-row trace)
/// took 4.7-5.3 ms with its last 1.75 MiB in 4 KiB pages and 3.0-3.3 ms with that block advised
/// too; 2.4 MB took 0.38-0.45 ms against 0.25-0.27 ms; 600 KB, in 4 KiB pages only, 0.45-0.52 ms
/// against 0.14-0.15 ms in one huge page.
#[cfg(target_os = "linux")]
fn map_huge(bytes: usize) -> Option<(NonNull<Felt>, usize)> {
    let len = bytes.checked_next_multiple_of(HUGE_PAGE)?;
    // Map one huge page more, then cut what lies outside the aligned range.
    let padded = len.checked_add(HUGE_PAGE)?;
    // SAFETY: a fresh private anonymous mapping; no existing memory is affected.
    let raw = unsafe {
        libc::mmap(
            core::ptr::null_mut(),
            padded,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if raw == libc::MAP_FAILED {
        return None;
    }
    let base = raw as usize;
    let start = base.next_multiple_of(HUGE_PAGE);
    let head = start - base;
    let tail = padded - head - len;
    // SAFETY: both cut ranges lie inside the mapping just made, are page-aligned (the mapping
    // is, and so are `head` and `len`), and nothing refers to them; the advised range lies
    // inside what is kept.
    unsafe {
        if head > 0 {
            libc::munmap(raw, head);
        }
        if tail > 0 {
            libc::munmap((start + len) as *mut libc::c_void, tail);
        }
        // Only advice: where the kernel has transparent huge pages off, 4 KiB pages back the
        // buffer and the result is the same.
        libc::madvise(start as *mut libc::c_void, len, libc::MADV_HUGEPAGE);
    }
    NonNull::new(start as *mut Felt).map(|ptr| (ptr, len))
}

/// Dropped buffers' mappings, for reuse.
#[cfg(target_os = "linux")]
mod cache {
    use core::ptr::NonNull;
    use std::sync::{Mutex, MutexGuard, PoisonError};

    use super::{DEFAULT_BUFFER_CACHE_LIMIT, Felt};

    /// Mappings made by `map_huge`, owned here: at most `limit` bytes, newest last.
    #[derive(Debug)]
    pub(super) struct Cache {
        pub(super) limit: usize,
        held: usize,
        /// Start address and length of each mapping kept.
        maps: Vec<(usize, usize)>,
    }

    static GLOBAL: Mutex<Cache> = Mutex::new(Cache::new(DEFAULT_BUFFER_CACHE_LIMIT));

    /// The process's cache. A panic while it was held cannot leave it inconsistent (every
    /// method updates `held` and `maps` together, after any call that could fail), so a
    /// poisoned lock is taken as it is.
    pub(super) fn global() -> MutexGuard<'static, Cache> {
        GLOBAL.lock().unwrap_or_else(PoisonError::into_inner)
    }

    impl Cache {
        pub(super) const fn new(limit: usize) -> Self {
            Self {
                limit,
                held: 0,
                maps: Vec::new(),
            }
        }

        /// The bytes kept.
        #[cfg(test)]
        pub(super) fn held(&self) -> usize {
            self.held
        }

        /// Takes the smallest mapping of at least `bytes` bytes, if any.
        pub(super) fn take(&mut self, bytes: usize) -> Option<(NonNull<Felt>, usize)> {
            let (i, _) = self
                .maps
                .iter()
                .enumerate()
                .filter(|(_, (_, len))| *len >= bytes)
                .min_by_key(|(_, (_, len))| *len)?;
            let (addr, len) = self.maps.remove(i);
            self.held -= len;
            NonNull::new(addr as *mut Felt).map(|ptr| (ptr, len))
        }

        /// Takes every mapping kept.
        pub(super) fn take_all(&mut self) -> Vec<(NonNull<Felt>, usize)> {
            self.held = 0;
            self.maps
                .drain(..)
                .filter_map(|(addr, len)| NonNull::new(addr as *mut Felt).map(|ptr| (ptr, len)))
                .collect()
        }

        /// Takes over a mapping of `len` bytes at `ptr` (made by `map_huge`, referred to by
        /// nothing else): kept, the oldest kept ones unmapped to stay within the limit, or
        /// unmapped at once when it alone is over the limit.
        pub(super) fn keep(&mut self, ptr: NonNull<Felt>, len: usize) {
            if len > self.limit {
                unmap(ptr.as_ptr() as usize, len);
                return;
            }
            self.maps.push((ptr.as_ptr() as usize, len));
            self.held += len;
            self.trim();
        }

        pub(super) fn set_limit(&mut self, limit: usize) -> usize {
            let before = core::mem::replace(&mut self.limit, limit);
            self.trim();
            before
        }

        /// Unmaps the oldest mappings until the rest fit the limit.
        fn trim(&mut self) {
            while self.held > self.limit {
                let (addr, len) = self.maps.remove(0);
                self.held -= len;
                unmap(addr, len);
            }
        }
    }

    impl Drop for Cache {
        fn drop(&mut self) {
            self.limit = 0;
            self.trim();
        }
    }

    fn unmap(addr: usize, len: usize) {
        // SAFETY: a mapping made by `map_huge` with this length, owned by the cache alone and
        // unmapped once: it leaves the cache here.
        unsafe {
            libc::munmap(addr as *mut libc::c_void, len);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_writable_and_readable_at_every_size() {
        for cells in [
            0,
            1,
            1000,
            (512 << 10) / 8 - 1,
            (512 << 10) / 8,
            (2 << 20) / 8 - 1,
            (2 << 20) / 8,
            3 << 18,
        ] {
            let mut buffer = ColumnBuffer::new(cells);
            assert_eq!(buffer.capacity(), cells);
            for (i, cell) in buffer.uninit_mut(0, cells).iter_mut().enumerate() {
                cell.write(Felt::new(i as u64));
            }
            // SAFETY: every cell was written just now.
            let all = unsafe { buffer.slice(0, cells) };
            assert!(all.iter().enumerate().all(|(i, f)| f.as_int() == i as u64));
            #[cfg(target_os = "linux")]
            if cells * 8 >= MIN_MAPPED {
                assert_eq!(
                    buffer.cell_ptr(0) as usize % HUGE_PAGE,
                    0,
                    "aligned to 2 MiB"
                );
            }
        }
    }

    #[test]
    fn zeroed_buffers_read_zero_at_every_size() {
        for cells in [0, 1, 1000, (512 << 10) / 8, (2 << 20) / 8 + 1, 3 << 18] {
            let buffer = ColumnBuffer::zeroed(cells);
            assert_eq!(buffer.capacity(), cells);
            // SAFETY: a zeroed buffer's cells are initialised (to zero).
            let all = unsafe { buffer.slice(0, cells) };
            assert!(all.iter().all(|f| *f == Felt::new(0)));
        }
    }

    /// A freshly zeroed buffer reads zero even when a dropped buffer of its size, full of
    /// other values, waits in the cache; a buffer that says it is zeroed is.
    #[test]
    fn zeroed_buffers_never_come_from_the_cache() {
        let cells = (3 << 20) / 8 + 5;
        let mut old = ColumnBuffer::new(cells);
        for cell in old.uninit_mut(0, cells) {
            cell.write(Felt::new(7));
        }
        drop(old);
        let fresh = ColumnBuffer::zeroed(cells);
        // SAFETY: a zeroed buffer's cells are initialised (to zero).
        let cells_read = unsafe { fresh.slice(0, cells) };
        assert!(cells_read.iter().all(|f| *f == Felt::new(0)));
        let (maybe, zeroed) = ColumnBuffer::reuse_or_zeroed(cells);
        if zeroed {
            // SAFETY: as above.
            let cells_read = unsafe { maybe.slice(0, cells) };
            assert!(cells_read.iter().all(|f| *f == Felt::new(0)));
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_cache_keeps_within_its_limit_and_hands_out_the_smallest_fit() {
        let map = |bytes| map_huge(bytes).expect("mapping");
        let mut cache = cache::Cache::new(3 * HUGE_PAGE);
        let (a, a_len) = map(HUGE_PAGE);
        let (b, b_len) = map(2 * HUGE_PAGE);
        cache.keep(b, b_len);
        cache.keep(a, a_len);
        assert_eq!(cache.held(), 3 * HUGE_PAGE);
        // The smallest mapping that fits, and nothing when none does.
        assert_eq!(cache.take(HUGE_PAGE / 2), Some((a, a_len)));
        assert_eq!(cache.take(3 * HUGE_PAGE), None);
        cache.keep(a, a_len);
        // Over the limit: the oldest (b) goes.
        let (c, c_len) = map(HUGE_PAGE);
        cache.keep(c, c_len);
        assert_eq!(cache.held(), 2 * HUGE_PAGE);
        assert_eq!(cache.take(HUGE_PAGE + 1), None);
        // A mapping alone over the limit is not kept.
        let (d, d_len) = map(4 * HUGE_PAGE);
        cache.keep(d, d_len);
        assert_eq!(cache.held(), 2 * HUGE_PAGE);
        // Everything taken out at once, and kept again.
        let all = cache.take_all();
        assert_eq!((all.len(), cache.held()), (2, 0));
        for (ptr, len) in all {
            cache.keep(ptr, len);
        }
        // A limit of zero empties it.
        assert_eq!(cache.set_limit(0), 3 * HUGE_PAGE);
        assert_eq!(cache.held(), 0);
        assert_eq!(cache.take(1), None);
    }

    #[test]
    fn out_of_range_cells_are_refused() {
        let mut buffer = ColumnBuffer::new(10);
        let past = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            buffer.uninit_mut(5, 6).len()
        }));
        assert!(past.is_err());
        assert!(std::panic::catch_unwind(|| ColumnBuffer::new(10).cell_ptr(11)).is_err());
    }
}
