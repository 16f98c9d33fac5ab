//! The machine state of the reference processor: the operand stack with its per-context overflow
//! tables, element-addressed memory per context, and the read-only view handed to event
//! handlers. Memory logs every access for the memory chiplet.

use std::collections::BTreeMap;

use weft_core::{Felt, Word, ZERO};
use weft_host::{ExecutionError, ProcessView};

use crate::log::MemoryAccess;

/// Number of visible stack elements.
pub(crate) const TOP: usize = 16;

/// The operand stack: sixteen visible elements plus, per execution context, an overflow table
/// whose entries remember the clock cycle at which they were pushed.
#[derive(Clone, Debug)]
pub(crate) struct Stack {
    /// The visible top, `top[0]` being the top of the stack.
    pub(crate) top: [Felt; TOP],
    /// The overflow table of the current context. Each entry is `(value, clk of the push)`, the
    /// most recently pushed last.
    overflow: Vec<(Felt, u32)>,
    /// The overflow tables of the callers, innermost last.
    callers: Vec<Vec<(Felt, u32)>>,
}

impl Stack {
    pub(crate) fn new(inputs: &[Felt; TOP]) -> Self {
        Self {
            top: *inputs,
            overflow: Vec::new(),
            callers: Vec::new(),
        }
    }

    /// The depth of the stack in the current context.
    pub(crate) fn depth(&self) -> usize {
        TOP + self.overflow.len()
    }

    /// The `b1` column: the clock cycle of the last push into the current overflow table, or 0.
    pub(crate) fn overflow_addr(&self) -> Felt {
        self.overflow
            .last()
            .map_or(ZERO, |&(_, clk)| Felt::new(u64::from(clk)))
    }

    /// The element at `idx` (0 = top); past the depth, zero.
    pub(crate) fn get(&self, idx: usize) -> Felt {
        if idx < TOP {
            self.top[idx]
        } else {
            let below = idx - TOP;
            self.overflow
                .len()
                .checked_sub(below + 1)
                .map_or(ZERO, |i| self.overflow[i].0)
        }
    }

    /// Pushes `value` on top at cycle `clk`; the old `s15` moves into the overflow table.
    pub(crate) fn push(&mut self, value: Felt, clk: u32) {
        self.insert(0, value, clk);
    }

    /// Inserts `value` at position `idx` (below 16) at cycle `clk`, shifting the elements below
    /// it down; the old `s15` moves into the overflow table.
    pub(crate) fn insert(&mut self, idx: usize, value: Felt, clk: u32) {
        let spilled = self.top[TOP - 1];
        self.overflow.push((spilled, clk));
        self.top.copy_within(idx..TOP - 1, idx + 1);
        self.top[idx] = value;
    }

    /// Removes the element at `idx` (below 16), shifting the ones below it up; `s15` is refilled
    /// from the overflow table, or with zero if it is empty.
    pub(crate) fn remove(&mut self, idx: usize) -> Felt {
        let value = self.top[idx];
        self.top.copy_within(idx + 1..TOP, idx);
        self.top[TOP - 1] = self.overflow.pop().map_or(ZERO, |(v, _)| v);
        value
    }

    /// Pops the top element.
    pub(crate) fn pop(&mut self) -> Felt {
        self.remove(0)
    }

    /// Writes two words onto `s0..s7` the way `MSTREAM`/`PIPE`/`CRYPTOSTREAM` do: `s7` is
    /// `w0[0]` and `s0` is `w1[3]`.
    pub(crate) fn set_dword(&mut self, w0: Word, w1: Word) {
        for (i, v) in w0.iter().chain(w1.iter()).rev().enumerate() {
            self.top[i] = *v;
        }
    }

    /// Enters a new context: a fresh, empty overflow table.
    pub(crate) fn start_context(&mut self) {
        self.callers.push(std::mem::take(&mut self.overflow));
    }

    /// Leaves the current context and restores the caller's overflow table.
    ///
    /// # Errors
    /// [`ExecutionError::FailedToExecuteProgram`] if there is no caller context or the current
    /// overflow table is not empty (the depth check on return runs first, so neither happens for
    /// a well-formed execution).
    pub(crate) fn end_context(&mut self) -> Result<(), ExecutionError> {
        if !self.overflow.is_empty() {
            return Err(ExecutionError::FailedToExecuteProgram(
                "a context ended with elements in its overflow table",
            ));
        }
        self.overflow = self
            .callers
            .pop()
            .ok_or(ExecutionError::FailedToExecuteProgram(
                "a context ended without a caller context",
            ))?;
        Ok(())
    }

    /// Total number of overflow elements across every context.
    pub(crate) fn total_overflow(&self) -> usize {
        self.overflow.len() + self.callers.iter().map(Vec::len).sum::<usize>()
    }
}

/// Element-addressed memory, one address space per context. Unwritten elements read as zero.
/// Every successful access is logged for the memory chiplet.
#[derive(Debug, Default)]
pub(crate) struct Memory {
    cells: BTreeMap<(u32, u32), Felt>,
    /// Every access, in execution order.
    pub(crate) accesses: Vec<MemoryAccess>,
}

impl Memory {
    /// Checks that `addr` is a valid memory address.
    pub(crate) fn addr(addr: Felt, clk: u32) -> Result<u32, ExecutionError> {
        u32::try_from(addr.as_int()).map_err(|_| ExecutionError::MemoryAddressOutOfBounds {
            clk,
            addr: addr.as_int(),
        })
    }

    /// Checks that `addr` is a valid, word-aligned memory address.
    pub(crate) fn word_addr(addr: Felt, ctx: u32, clk: u32) -> Result<u32, ExecutionError> {
        let a = Self::addr(addr, clk)?;
        if a % 4 != 0 {
            return Err(ExecutionError::UnalignedWordAccess { clk, ctx, addr: a });
        }
        Ok(a)
    }

    pub(crate) fn get(&self, ctx: u32, addr: u32) -> Option<Felt> {
        self.cells.get(&(ctx, addr)).copied()
    }

    /// The word at the word-aligned address `word_addr`.
    fn word_at(&self, ctx: u32, word_addr: u32) -> Word {
        core::array::from_fn::<_, 4, _>(|i| self.get(ctx, word_addr + i as u32).unwrap_or(ZERO))
            .into()
    }

    /// Logs an access to the word holding `addr` (an element access when `element`), with the
    /// word's value after it.
    fn log(&mut self, ctx: u32, addr: u32, element: bool, is_read: bool, clk: u32) {
        let word_addr = addr - addr % 4;
        self.accesses.push(MemoryAccess {
            ctx,
            word_addr,
            element: element.then_some((addr % 4) as u8),
            is_read,
            clk,
            word: self.word_at(ctx, word_addr),
        });
    }

    pub(crate) fn read(&mut self, ctx: u32, addr: Felt, clk: u32) -> Result<Felt, ExecutionError> {
        let a = Self::addr(addr, clk)?;
        self.log(ctx, a, true, true, clk);
        Ok(self.get(ctx, a).unwrap_or(ZERO))
    }

    pub(crate) fn read_word(
        &mut self,
        ctx: u32,
        addr: Felt,
        clk: u32,
    ) -> Result<Word, ExecutionError> {
        let a = Self::word_addr(addr, ctx, clk)?;
        self.log(ctx, a, false, true, clk);
        Ok(self.word_at(ctx, a))
    }

    pub(crate) fn write(
        &mut self,
        ctx: u32,
        addr: Felt,
        clk: u32,
        value: Felt,
    ) -> Result<(), ExecutionError> {
        let a = Self::addr(addr, clk)?;
        self.cells.insert((ctx, a), value);
        self.log(ctx, a, true, false, clk);
        Ok(())
    }

    pub(crate) fn write_word(
        &mut self,
        ctx: u32,
        addr: Felt,
        clk: u32,
        word: Word,
    ) -> Result<(), ExecutionError> {
        let a = Self::word_addr(addr, ctx, clk)?;
        for (i, value) in word.iter().enumerate() {
            self.cells.insert((ctx, a + i as u32), *value);
        }
        self.log(ctx, a, false, false, clk);
        Ok(())
    }
}

/// What an event handler sees: the stack, memory, clock and context.
pub(crate) struct View<'a> {
    pub(crate) clk: u32,
    pub(crate) ctx: u32,
    pub(crate) stack: &'a Stack,
    pub(crate) memory: &'a Memory,
}

impl ProcessView for View<'_> {
    fn clk(&self) -> u32 {
        self.clk
    }

    fn ctx(&self) -> u32 {
        self.ctx
    }

    fn stack_item(&self, idx: usize) -> Felt {
        self.stack.get(idx)
    }

    fn stack_depth(&self) -> usize {
        self.stack.depth()
    }

    /// As upstream's memory, which is organised in words: an element reads as `Some` (zero if
    /// never written itself) as soon as any element of its word was written.
    fn mem_element(&self, ctx: u32, addr: u32) -> Option<Felt> {
        let word_start = addr - addr % 4;
        let touched =
            (word_start..=word_start.saturating_add(3)).any(|a| self.memory.get(ctx, a).is_some());
        touched.then(|| self.memory.get(ctx, addr).unwrap_or(ZERO))
    }
}

#[cfg(test)]
mod tests {
    use weft_core::ONE;

    use super::*;

    #[test]
    fn overflow_records_push_clock() {
        let mut stack = Stack::new(&core::array::from_fn(|i| Felt::new(i as u64)));
        stack.push(Felt::new(100), 7);
        assert_eq!(stack.depth(), 17);
        assert_eq!(stack.overflow_addr(), Felt::new(7));
        assert_eq!(stack.get(16), Felt::new(15));
        stack.start_context();
        assert_eq!(stack.depth(), 16);
        assert_eq!(stack.overflow_addr(), ZERO);
        assert_eq!(stack.pop(), Felt::new(100));
        assert_eq!(stack.top[15], ZERO);
        stack.end_context().expect("caller context");
        assert_eq!(stack.depth(), 17);
        assert_eq!(stack.total_overflow(), 1);
    }

    #[test]
    fn ending_a_context_checks_its_state() {
        let mut stack = Stack::new(&[ZERO; TOP]);
        assert!(matches!(
            stack.end_context(),
            Err(ExecutionError::FailedToExecuteProgram(_))
        ));
        stack.start_context();
        stack.push(ONE, 1);
        assert!(matches!(
            stack.end_context(),
            Err(ExecutionError::FailedToExecuteProgram(_))
        ));
        stack.pop();
        assert!(stack.end_context().is_ok());
    }

    #[test]
    fn memory_checks_addresses() {
        let mut mem = Memory::default();
        assert!(matches!(
            mem.write(0, Felt::new(1 << 32), 3, ZERO),
            Err(ExecutionError::MemoryAddressOutOfBounds { clk: 3, .. })
        ));
        assert!(matches!(
            mem.read_word(0, Felt::new(2), 4),
            Err(ExecutionError::UnalignedWordAccess {
                clk: 4,
                addr: 2,
                ..
            })
        ));
        mem.write(1, Felt::new(5), 0, Felt::new(9)).expect("valid");
        assert_eq!(mem.read(1, Felt::new(5), 0).expect("valid"), Felt::new(9));
        assert_eq!(mem.read(0, Felt::new(5), 0).expect("valid"), ZERO);
    }
}
