//! The driver as the [`Machine`] the operation semantics in [`crate::ops`] run against: the
//! stack and system state are the driver's own, memory addresses are checked here, every other
//! service is the backend's, and each successful read is reported to the tracer.

use weft_core::{Felt, Word, ZERO};
use weft_host::ExecutionError;

use super::{Driver, Interrupt};
use crate::{backend::Backend, machine::Machine, tracer::Tracer};

/// `addr` as a u32 memory address.
#[inline(always)]
fn check_addr(addr: Felt, clk: u32) -> Result<u32, ExecutionError> {
    let a = addr.as_int();
    u32::try_from(a).map_err(|_| ExecutionError::MemoryAddressOutOfBounds { clk, addr: a })
}

/// `addr` as a word-aligned u32 memory address.
#[inline(always)]
fn check_word_addr(addr: Felt, ctx: u32, clk: u32) -> Result<u32, ExecutionError> {
    let a = check_addr(addr, clk)?;
    if a & 3 != 0 {
        return Err(ExecutionError::UnalignedWordAccess { clk, ctx, addr: a });
    }
    Ok(a)
}

impl<B, T> Driver<B, T>
where
    B: Backend,
    T: Tracer,
    B::Error: From<T::Error>,
{
    /// Reads the word at `addr` of the current context and reports the read (also the callee
    /// hash of a `DYN`/`DYNCALL` row).
    #[inline(always)]
    pub(super) fn read_word_checked(&mut self, addr: Felt) -> Result<Word, Interrupt<B::Error>> {
        Ok(self.read_word(addr)?)
    }

    #[inline(always)]
    fn read_word(&mut self, addr: Felt) -> Result<Word, B::Error> {
        let a = check_word_addr(addr, self.ctx, self.clk)?;
        let w = self.backend.read_word(self.ctx, a, self.clk)?;
        self.tracer.memory_read_word(w, a, self.ctx, self.clk);
        Ok(w)
    }

    /// Hands a Merkle path's round states to a tracer that wants them, level by level.
    fn path_rounds(&mut self, rounds: &[[[Felt; 12]; 7]]) {
        if self.tracer.wants_permutation_rounds() {
            for level in rounds {
                self.tracer.permutation_rounds(level);
            }
        }
    }
}

impl<B, T> Machine for Driver<B, T>
where
    B: Backend,
    T: Tracer,
    B::Error: From<T::Error>,
{
    type Error = B::Error;
    const RECORD_HELPERS: bool = T::RECORD_HELPERS;

    #[inline(always)]
    fn clk(&self) -> u32 {
        self.clk
    }
    #[inline(always)]
    fn ctx(&self) -> u32 {
        self.ctx
    }
    #[inline(always)]
    fn fn_hash(&self) -> Word {
        self.fn_hash
    }
    #[inline(always)]
    fn get(&self, idx: usize) -> Felt {
        self.stack.get(idx)
    }
    #[inline(always)]
    fn set(&mut self, idx: usize, value: Felt) {
        self.stack.set(idx, value);
    }
    #[inline(always)]
    fn depth(&self) -> usize {
        self.stack.depth()
    }
    #[inline(always)]
    fn push(&mut self, value: Felt) {
        self.stack.push(value, self.clk);
    }
    #[inline(always)]
    fn pop(&mut self) {
        self.stack.pop();
    }

    #[inline(always)]
    fn mem_read(&mut self, addr: Felt) -> Result<Felt, B::Error> {
        let a = check_addr(addr, self.clk)?;
        let v = self.backend.read_element(self.ctx, a, self.clk)?;
        self.tracer.memory_read_element(v, a, self.ctx, self.clk);
        Ok(v)
    }
    #[inline(always)]
    fn mem_read_word(&mut self, addr: Felt) -> Result<Word, B::Error> {
        self.read_word(addr)
    }
    #[inline(always)]
    fn mem_write(&mut self, addr: Felt, value: Felt) -> Result<(), B::Error> {
        let a = check_addr(addr, self.clk)?;
        self.backend.write_element(self.ctx, a, value);
        self.tracer
            .memory_write_element(value, a, self.ctx, self.clk);
        Ok(())
    }
    #[inline(always)]
    fn mem_write_word(&mut self, addr: Felt, word: Word) -> Result<(), B::Error> {
        let a = check_word_addr(addr, self.ctx, self.clk)?;
        self.backend.write_word(self.ctx, a, word);
        self.tracer.memory_write_word(word, a, self.ctx, self.clk);
        Ok(())
    }

    #[inline(always)]
    fn advice_pop(&mut self) -> Result<Felt, B::Error> {
        let v = self.backend.advice_pop(self.clk)?;
        self.tracer.advice_popped(&[v]);
        Ok(v)
    }
    #[inline(always)]
    fn advice_pop_word(&mut self) -> Result<Word, B::Error> {
        let w = self.backend.advice_pop_word(self.clk)?;
        self.tracer.advice_popped(w.as_elements());
        Ok(w)
    }
    #[inline(always)]
    fn advice_pop_dword(&mut self) -> Result<[Word; 2], B::Error> {
        let [a, b] = self.backend.advice_pop_dword(self.clk)?;
        self.tracer.advice_popped(a.as_elements());
        self.tracer.advice_popped(b.as_elements());
        Ok([a, b])
    }

    #[inline(always)]
    fn permute(&mut self, state: &mut [Felt; 12]) -> Result<Felt, B::Error> {
        self.tracer.permutation_input(state);
        let addr = if self.tracer.wants_permutation_rounds() {
            let mut rounds = [[ZERO; 12]; 7];
            let (addr, written) = self.backend.permute_rounds(state, &mut rounds)?;
            if written {
                self.tracer.permutation_rounds(&rounds);
            }
            addr
        } else {
            self.backend.permute(state)?
        };
        self.tracer.hasher_permuted(state);
        Ok(addr)
    }

    fn merkle_verify(
        &mut self,
        node: Word,
        depth: Felt,
        index: Felt,
        root: Word,
        err_code: Felt,
    ) -> Result<Felt, B::Error> {
        let outcome = self
            .backend
            .merkle_verify(node, depth, index, root, err_code, self.clk)?;
        self.tracer.merkle_path(node, None, index, &outcome.path);
        self.path_rounds(&outcome.rounds);
        self.tracer
            .merkle_root_computed(outcome.depth, false, outcome.root);
        Ok(outcome.addr)
    }

    fn merkle_update(
        &mut self,
        old_node: Word,
        depth: Felt,
        index: Felt,
        old_root: Word,
        new_node: Word,
    ) -> Result<(Felt, Word), B::Error> {
        let outcome = self
            .backend
            .merkle_update(old_node, depth, index, old_root, new_node, self.clk)?;
        self.tracer
            .merkle_path(old_node, Some(new_node), index, &outcome.path);
        self.path_rounds(&outcome.rounds);
        self.tracer
            .merkle_root_computed(outcome.depth, true, outcome.root);
        Ok((outcome.addr, outcome.root))
    }

    #[inline(always)]
    fn pc_transcript(&self) -> Word {
        self.pc_transcript
    }
    #[inline(always)]
    fn set_pc_transcript(&mut self, state: Word) {
        self.pc_transcript = state;
    }

    #[inline(always)]
    fn emit(&mut self) -> Result<(), B::Error> {
        self.backend.emit(self.clk, self.ctx, &self.stack)
    }

    fn error_message(&self, err_code: Felt) -> Option<String> {
        self.backend
            .forests()
            .get(self.cur_forest as usize)?
            .error_messages()
            .get(&err_code.as_int())
            .cloned()
    }

    #[inline(always)]
    fn u32_bitwise(&mut self, xor: bool, a: u32, b: u32) {
        self.tracer.u32_bitwise(xor, a, b);
    }

    #[inline(always)]
    fn circuit_evaluated(&mut self, ptr: u32, n_read: u32, n_eval: u32) {
        self.tracer
            .circuit_evaluated(self.ctx, self.clk, ptr, n_read, n_eval);
    }

    #[inline(always)]
    fn set_helpers(&mut self, helpers: [Felt; 6]) {
        self.tracer.helpers(helpers);
    }

    #[inline(always)]
    fn set_helpers_inverting(&mut self, helpers: [Felt; 6], slot: usize) {
        self.tracer.helpers_inverting(helpers, slot);
    }
}
