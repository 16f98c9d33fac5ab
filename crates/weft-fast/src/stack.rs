//! The operand stack: one flat buffer, stored bottom to top, with the top 16 elements always in
//! place.
//!
//! Unlike upstream's fixed array (top in the middle, re-centred on underflow), every cell below
//! the bottom of the live stack is kept zero. A pop at depth 16 then only moves the bottom index
//! down: the zero that must appear in position 15 is already there, so no copy and no branch on
//! the value are needed. Only when the bottom index reaches the start of the buffer is the
//! 16-element window moved back up (once per `HOME` such pops). A push past the end of the
//! buffer doubles it, so the stack is unbounded like upstream's sequential processor.
//!
//! A parallel buffer keeps, for every element in the overflow, the clock cycle of the push that
//! moved it there (the trace's `b1` column needs it at fragment boundaries).
//!
//! # Unchecked access
//! [`Stack::get`], [`Stack::set`] and [`Stack::push`] index the buffers without bounds checks;
//! this is weft-fast's only `unsafe`. Every operation reads or writes the top 16 through them,
//! and each checked index was a compare, a branch and a panic path at every site of the
//! processor's operation loop, which is inlined once per tracer. Without them that loop's code
//! shrank by a third (2026-12-07, release build: 43.9 to 28.2 KiB for `execute`, 56.9 to 38.0
//! KiB under the recording tracer, against a 32 KiB instruction cache), and in one process,
//! alternating, best of 300 (2-core development VM): execute 0.130 -> 0.123 ms on pell_loop,
//! 1.17 -> 1.10 ms on fib_loop, 0.102 -> 0.085 ms on mem_word_sum, 1.98 -> 1.82 ms on
//! sha256_chain; `execute_for_trace` 0.22 -> 0.16, 1.91 -> 1.50, 0.14 -> 0.11 and 2.43 -> 2.19
//! ms. Soundness rests on the invariant `bot + 15 <= top < buf.len() == clks.len()`, which
//! every method keeps (only this module touches the fields), and on `idx < 16`, asserted (the
//! assertion folds away where, as everywhere in the processor, the index is a constant).

use weft_core::{Felt, ZERO};

/// Where the bottom of the stack starts (and is moved back to): a window move copies 16
/// elements once per `HOME` pops at the minimum depth, so 256 makes that 1/16 of a copy per pop.
const HOME: usize = 256;
/// The initial buffer length: 8 KiB of elements and 4 KiB of clock cycles. A short program's
/// first execution pays a page fault for every fresh page it touches (about 1 µs each here):
/// the 64 KiB buffer this used to be was 16 of them, more than the rest of a small run.
const INITIAL_LEN: usize = 1024;
/// Where the bottom of a stack restored by [`Stack::from_parts`] starts.
const RESTORED_HOME: usize = 64;
/// Visible stack elements.
pub const TOP: usize = 16;

/// The overflow of a caller's context, put aside while a callee runs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SavedOverflow {
    /// Overflow values, bottom first.
    pub values: Vec<Felt>,
    /// The clock cycle of the push that moved each value into the overflow.
    pub clks: Vec<u32>,
}

/// The operand stack of one execution (see the module documentation for its layout).
///
/// Invariant (the unchecked accesses rely on it): `bot + 15 <= top < buf.len() == clks.len()`.
#[derive(Debug, Clone)]
pub struct Stack {
    buf: Vec<Felt>,
    clks: Vec<u32>,
    /// Index of the top element.
    top: usize,
    /// Index of the bottom element (`top - bot + 1` = depth, at least 16).
    bot: usize,
    /// Where the bottom is moved back to when it reaches the start of the buffer.
    home: usize,
}

impl Stack {
    /// A stack holding `inputs` (top first).
    pub fn new(inputs: &[Felt; TOP]) -> Self {
        let mut buf = vec![ZERO; INITIAL_LEN];
        for (i, v) in inputs.iter().enumerate() {
            buf[HOME + TOP - 1 - i] = *v;
        }
        Self {
            buf,
            clks: vec![0; INITIAL_LEN],
            top: HOME + TOP - 1,
            bot: HOME,
            home: HOME,
        }
    }

    /// A stack restored from a recorded state: the top 16 elements (top first) and the
    /// overflow (bottom first) with the clock cycle of the push that moved each element there.
    ///
    /// Returns `None` if `overflow` and `clks` differ in length.
    pub fn from_parts(top: &[Felt; TOP], overflow: &[Felt], clks: &[u32]) -> Option<Self> {
        if overflow.len() != clks.len() {
            return None;
        }
        // A small buffer: restored stacks are many (one per trace fragment) and short-lived.
        let n = overflow.len();
        let home = RESTORED_HOME;
        let len = (home + n + TOP + RESTORED_HOME).next_power_of_two();
        let mut buf = vec![ZERO; len];
        let mut buf_clks = vec![0; len];
        buf[home..home + n].copy_from_slice(overflow);
        buf_clks[home..home + n].copy_from_slice(clks);
        for (i, value) in top.iter().enumerate() {
            buf[home + n + TOP - 1 - i] = *value;
        }
        Some(Self {
            buf,
            clks: buf_clks,
            top: home + n + TOP - 1,
            bot: home,
            home,
        })
    }

    /// The element at position `idx` (0 = top).
    ///
    /// # Panics
    /// If `idx` is 16 or more.
    #[inline(always)]
    pub fn get(&self, idx: usize) -> Felt {
        assert!(idx < TOP, "stack position {idx} is below the top 16");
        // SAFETY: `top - idx` lies in `bot..=top` (`idx < 16 <= depth`) and `top < buf.len()`
        // (the module's invariant).
        unsafe { *self.buf.get_unchecked(self.top - idx) }
    }

    /// Overwrites position `idx`.
    ///
    /// # Panics
    /// If `idx` is 16 or more.
    #[inline(always)]
    pub fn set(&mut self, idx: usize, value: Felt) {
        assert!(idx < TOP, "stack position {idx} is below the top 16");
        // SAFETY: as in `get`.
        unsafe { *self.buf.get_unchecked_mut(self.top - idx) = value };
    }

    /// The depth of the current context's stack (at least 16).
    #[inline(always)]
    pub fn depth(&self) -> usize {
        self.top - self.bot + 1
    }

    /// The element at any position (0 = top), zero past the depth.
    pub fn get_any(&self, idx: usize) -> Felt {
        if idx < self.depth() {
            self.buf[self.top - idx]
        } else {
            ZERO
        }
    }

    /// Pushes `value` at clock cycle `clk`; the old position 15 moves into the overflow.
    #[inline(always)]
    pub fn push(&mut self, value: Felt, clk: u32) {
        self.top += 1;
        if self.top == self.buf.len() {
            self.grow();
        }
        // SAFETY: `top < buf.len()` holds again after the growth above, `clks` is as long as
        // `buf`, and `top >= 16` (the depth was at least 16 before the push).
        unsafe {
            *self.buf.get_unchecked_mut(self.top) = value;
            *self.clks.get_unchecked_mut(self.top - TOP) = clk;
        }
    }

    /// Removes the top element; position 15 is refilled from the overflow, or with zero.
    #[inline(always)]
    pub fn pop(&mut self) {
        if self.top - self.bot == TOP - 1 {
            self.bot -= 1;
            if self.bot == 0 {
                self.relocate(self.home);
            }
        }
        self.top -= 1;
    }

    #[cold]
    fn grow(&mut self) {
        let len = self.buf.len() * 2;
        self.buf.resize(len, ZERO);
        self.clks.resize(len, 0);
    }

    /// Moves the live stack so that its bottom is at `new_bot`, keeping every cell below it
    /// zero.
    #[cold]
    fn relocate(&mut self, new_bot: usize) {
        let depth = self.top + 1 - self.bot;
        while new_bot + depth + 1 >= self.buf.len() {
            self.grow();
        }
        self.buf.copy_within(self.bot..=self.top, new_bot);
        self.clks.copy_within(self.bot..=self.top, new_bot);
        // Relocation only ever moves the stack up, so the cells it leaves are below `new_bot`.
        debug_assert!(new_bot > self.bot);
        self.buf[self.bot..new_bot].fill(ZERO);
        self.top = new_bot + depth - 1;
        self.bot = new_bot;
    }

    /// Starts a new context: the overflow is set aside (and zeroed) and returned.
    pub fn start_context(&mut self) -> SavedOverflow {
        let n = self.depth() - TOP;
        let range = self.bot..self.bot + n;
        let saved = SavedOverflow {
            values: self.buf[range.clone()].to_vec(),
            clks: self.clks[range.clone()].to_vec(),
        };
        self.buf[range].fill(ZERO);
        self.bot += n;
        saved
    }

    /// Ends a context whose depth is 16, bringing back the caller's overflow.
    pub fn end_context(&mut self, saved: &SavedOverflow) {
        let n = saved.values.len();
        if n == 0 {
            return;
        }
        // The bottom must stay above index 0: a pop at depth 16 moves it down one and relocates
        // only when it lands on 0, so a bottom left at 0 would wrap below the buffer.
        if self.bot <= n {
            self.relocate(self.home + n);
        }
        self.buf[self.bot - n..self.bot].copy_from_slice(&saved.values);
        self.clks[self.bot - n..self.bot].copy_from_slice(&saved.clks);
        self.bot -= n;
    }

    /// The top 16 elements, top first.
    pub fn top16(&self) -> [Felt; TOP] {
        core::array::from_fn(|i| self.get(i))
    }

    /// The overflow, bottom first, with push clocks.
    pub fn overflow(&self) -> (&[Felt], &[u32]) {
        let end = self.top + 1 - TOP;
        (&self.buf[self.bot..end], &self.clks[self.bot..end])
    }

    /// The clock cycle of the push of the overflow's top element, or 0 (the `b1` column).
    #[inline(always)]
    pub fn overflow_addr(&self) -> u32 {
        if self.depth() > TOP {
            self.clks[self.top - TOP]
        } else {
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(v: u64) -> Felt {
        Felt::new(v)
    }

    #[test]
    fn floor_pops_read_zero_and_relocate() {
        let mut s = Stack::new(&core::array::from_fn(|i| f(i as u64 + 1)));
        for _ in 0..(3 * HOME) {
            s.pop();
            assert_eq!(s.depth(), TOP);
            assert_eq!(s.get(15), ZERO);
        }
        assert_eq!(s.top16(), [ZERO; TOP]);
        s.push(f(9), 4);
        assert_eq!(s.get(0), f(9));
        assert_eq!(s.overflow_addr(), 4);
    }

    #[test]
    fn contexts_hide_and_restore_overflow() {
        let mut s = Stack::new(&core::array::from_fn(|i| f(i as u64)));
        for i in 0..20 {
            s.push(f(100 + i), i as u32);
        }
        let before: Vec<Felt> = (0..36).map(|i| s.get_any(i)).collect();
        let saved = s.start_context();
        assert_eq!(s.depth(), TOP);
        assert_eq!(saved.values.len(), 20);
        for _ in 0..5000 {
            s.pop();
        }
        for i in 0..16 {
            s.push(before[15 - i], 7);
        }
        for _ in 0..16 {
            s.pop();
        }
        for (i, v) in before.iter().take(16).enumerate() {
            s.set(i, *v);
        }
        s.end_context(&saved);
        let after: Vec<Felt> = (0..36).map(|i| s.get_any(i)).collect();
        assert_eq!(before, after);
        assert_eq!(s.overflow_addr(), 19);
    }

    /// A callee whose pops leave the bottom exactly as many cells above the buffer's start as
    /// the caller's overflow holds: the overflow comes back below it, and the caller's pops at
    /// depth 16 afterwards must still find the window above the buffer's start (they once
    /// moved the bottom below index 0 and wrote outside the buffer). Every bottom position a
    /// callee can leave is tried.
    #[test]
    fn a_callee_leaving_the_bottom_at_the_overflow_length_keeps_the_stack_in_bounds() {
        for n_overflow in [1, 3, 16, 255, 256, 300] {
            for callee_pops in 0..(HOME + n_overflow + 2) {
                let mut s = Stack::new(&core::array::from_fn(|i| f(i as u64 + 1)));
                for i in 0..n_overflow {
                    s.push(f(100 + i as u64), i as u32 + 1);
                }
                let before: Vec<Felt> = (0..TOP + n_overflow).map(|i| s.get_any(i)).collect();
                let saved = s.start_context();
                for _ in 0..callee_pops {
                    s.pop();
                }
                for (i, v) in before.iter().take(TOP).enumerate() {
                    s.set(i, *v);
                }
                s.end_context(&saved);
                let after: Vec<Felt> = (0..TOP + n_overflow).map(|i| s.get_any(i)).collect();
                assert_eq!(before, after, "{n_overflow} overflow, {callee_pops} pops");
                for _ in 0..(n_overflow + 2 * HOME) {
                    s.pop();
                    assert_eq!(s.get(15), s.get_any(15));
                }
                assert_eq!(s.depth(), TOP);
                assert_eq!(s.overflow().0.len(), 0);
                s.push(f(5), 3);
                assert_eq!(s.get(0), f(5));
                assert_eq!(s.overflow_addr(), 3);
            }
        }
    }

    #[test]
    fn restored_stack_behaves_like_the_original() {
        let mut s = Stack::new(&core::array::from_fn(|i| f(i as u64 + 1)));
        for i in 0..300 {
            s.push(f(1000 + i), i as u32 + 5);
        }
        let (overflow, clks) = s.overflow();
        let mut r = Stack::from_parts(&s.top16(), overflow, clks).expect("same lengths");
        assert!(Stack::from_parts(&s.top16(), overflow, &clks[1..]).is_none());
        for _ in 0..700 {
            assert_eq!(r.depth(), s.depth());
            assert_eq!(r.top16(), s.top16());
            assert_eq!(r.overflow_addr(), s.overflow_addr());
            r.pop();
            s.pop();
        }
        r.push(f(7), 9);
        s.push(f(7), 9);
        assert_eq!(r.top16(), s.top16());
        assert_eq!(r.overflow_addr(), 9);
    }

    #[test]
    fn growth_keeps_contents() {
        let mut s = Stack::new(&[ZERO; TOP]);
        for i in 0..(3 * INITIAL_LEN) as u64 {
            s.push(f(i), 1);
        }
        for i in (0..(3 * INITIAL_LEN) as u64).rev() {
            assert_eq!(s.get(0), f(i));
            s.pop();
        }
        assert_eq!(s.depth(), TOP);
    }
}
