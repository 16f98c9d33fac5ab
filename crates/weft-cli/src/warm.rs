//! Mapping the binary's code while `weft run` loads, so that its timed execution does not pay
//! for it.
//!
//! A fresh process maps the pages of its executable lazily: the first call into code that
//! loading never reached (the executor, for a short program) takes a page fault, each of which
//! maps a window of already cached file pages. Measured with `weft run` on 13–92-cycle programs:
//! those faults were more than half of the first execution (call_proc 37 µs with them, 13 µs
//! without, against upstream's ~29 µs).
//!
//! Mapping the whole code segment (`MADV_POPULATE_READ`, Linux 5.14 and later) costs ~1 ms for
//! weft's ~5.6 MB of code: too much to wait for before a run whose whole process takes ~4 ms.
//! So it runs on its own thread, never joined, and only while a program in one of upstream's
//! formats is assembled or decoded (milliseconds, more than the mapping needs). A program in
//! weft's own formats loads in well under a millisecond: the mapping would still be running
//! when the execution starts, competing with it and with the rest of the process (whole-process
//! wall time of a fast-format run, `farm-bench`, median ratio 1.04-1.14 with it), so those runs
//! fault their code in as before. It is also skipped where only one processor is available.

/// Starts mapping every page of the executable's code segment on another thread, where the
/// platform can and a second processor is available.
pub(crate) fn start_populating_code() {
    #[cfg(target_os = "linux")]
    {
        let processors = std::thread::available_parallelism().map_or(1, usize::from);
        if processors > 1 {
            // A failed spawn leaves the pages to be faulted in as before.
            let _ = std::thread::Builder::new()
                .name("weft-populate-code".into())
                .spawn(linux::populate_code);
        }
    }
}

#[cfg(target_os = "linux")]
mod linux {
    unsafe extern "C" {
        // Defined by the GNU and LLVM linkers' default scripts: the start of the executable's
        // first segment and the end of its code.
        static __executable_start: u8;
        static etext: u8;
    }

    /// `MADV_POPULATE_READ`, from the Linux uapi headers (not in every `libc` release).
    const MADV_POPULATE_READ: libc::c_int = 22;

    pub(super) fn populate_code() {
        // Only the addresses of the two linker symbols are taken; nothing is read.
        let (start, end) = (
            (&raw const __executable_start) as usize,
            (&raw const etext) as usize,
        );
        let start = start & !4095;
        if end <= start {
            return;
        }
        // SAFETY: the range is the executable's own image; populating pages for reading
        // changes no contents and no protection. An error (an older kernel, a gap in the
        // range) leaves the pages to be faulted in as before.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, MADV_POPULATE_READ);
        }
    }
}
