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
        Self::allocate(cells, false)
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
            // SAFETY: mapped by `map_huge` with this length, unmapped once. Nothing else
            // refers to the mapping once the buffer is dropped.
            Origin::Mapped(len) => unsafe {
                libc::munmap(self.ptr.as_ptr().cast(), len);
            },
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
