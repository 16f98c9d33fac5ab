//! The [`Machine`] interface that the operation semantics in [`crate::ops`] are written against.
//!
//! The one execution driver ([`crate::driver::Driver`]) implements it, once
//! (`driver/machine.rs`): the stack and system state are the driver's, memory addresses are
//! checked there, and every other service comes from the driver's [`crate::Backend`]: a real
//! memory, advice provider and hasher for the fast processor, replay-backed memory reads,
//! advice pops and hasher results for trace generation. Helper registers go to the driver's
//! tracer, which keeps them only when it writes trace rows. So the semantics of every user
//! operation exist exactly once.
//!
//! Every fallible operation returns the machine's own [`Machine::Error`], into which every
//! [`ExecutionError`] converts: a replay-backed machine reports a replay log that runs out as an
//! error of its own kind, not as an execution error.

use weft_core::{Felt, Word};
use weft_host::ExecutionError;

/// The state and services an operation may touch.
///
/// Stack positions count from the top (0 = top) and are always below 16; the machine keeps at
/// least 16 elements visible, reading zeros below the bottom of the stack.
pub trait Machine {
    /// Why an operation failed: an [`ExecutionError`] of the program, or for a machine whose
    /// services can run out (replay logs), an error of its own.
    type Error: From<ExecutionError>;

    /// Whether [`Machine::set_helpers`] keeps its argument. When false, operations skip
    /// computing helper values (inversions, limbs) altogether.
    const RECORD_HELPERS: bool;

    /// The clock cycle of the operation being executed.
    fn clk(&self) -> u32;
    /// The current execution context.
    fn ctx(&self) -> u32;
    /// The hash of the procedure that called the current context.
    fn fn_hash(&self) -> Word;

    /// The element at stack position `idx` (below 16).
    fn get(&self, idx: usize) -> Felt;
    /// Overwrites stack position `idx` (below 16).
    fn set(&mut self, idx: usize, value: Felt);
    /// The stack depth in the current context (at least 16).
    fn depth(&self) -> usize;
    /// Pushes `value`; the old position 15 moves into the overflow.
    fn push(&mut self, value: Felt);
    /// Removes the top element; position 15 is refilled from the overflow, or with zero.
    fn pop(&mut self);

    /// Reads the memory element at `addr` of the current context.
    ///
    /// # Errors
    /// [`ExecutionError::MemoryAddressOutOfBounds`] if `addr` is not a u32.
    fn mem_read(&mut self, addr: Felt) -> Result<Felt, Self::Error>;
    /// Reads the word at the word-aligned `addr` of the current context (element `addr` first).
    ///
    /// # Errors
    /// Out-of-bounds or unaligned address.
    fn mem_read_word(&mut self, addr: Felt) -> Result<Word, Self::Error>;
    /// Writes one element.
    ///
    /// # Errors
    /// Out-of-bounds address.
    fn mem_write(&mut self, addr: Felt, value: Felt) -> Result<(), Self::Error>;
    /// Writes one word at a word-aligned address.
    ///
    /// # Errors
    /// Out-of-bounds or unaligned address.
    fn mem_write_word(&mut self, addr: Felt, word: Word) -> Result<(), Self::Error>;

    /// Pops one element from the advice stack.
    ///
    /// # Errors
    /// An empty advice stack.
    fn advice_pop(&mut self) -> Result<Felt, Self::Error>;
    /// Pops one word from the advice stack (the top element first).
    ///
    /// # Errors
    /// Fewer than four elements.
    fn advice_pop_word(&mut self) -> Result<Word, Self::Error>;
    /// Pops two words from the advice stack.
    ///
    /// # Errors
    /// Fewer than eight elements.
    fn advice_pop_dword(&mut self) -> Result<[Word; 2], Self::Error>;

    /// Applies the RPO permutation to `state` in place; returns the hasher chiplet address of
    /// the permutation.
    ///
    /// # Errors
    /// A machine whose hasher results come from a log fails when the log runs out.
    fn permute(&mut self, state: &mut [Felt; 12]) -> Result<Felt, Self::Error>;
    /// Verifies that `node` sits at `index` of depth `depth` under `root` (path from the advice
    /// Merkle store); returns the hasher chiplet address.
    ///
    /// # Errors
    /// Missing path, or a path that does not lead to `root`.
    fn merkle_verify(
        &mut self,
        node: Word,
        depth: Felt,
        index: Felt,
        root: Word,
        err_code: Felt,
    ) -> Result<Felt, Self::Error>;
    /// Replaces `old_node` at `index` of depth `depth` under `old_root` with `new_node` in the
    /// advice Merkle store; returns the hasher chiplet address and the new root.
    ///
    /// # Errors
    /// Missing path, or `old_node` not in the tree.
    fn merkle_update(
        &mut self,
        old_node: Word,
        depth: Felt,
        index: Felt,
        old_root: Word,
        new_node: Word,
    ) -> Result<(Felt, Word), Self::Error>;

    /// The precompile transcript's state.
    fn pc_transcript(&self) -> Word;
    /// Replaces the precompile transcript's state.
    fn set_pc_transcript(&mut self, state: Word);

    /// Handles `EMIT` (the event id is on top of the stack).
    ///
    /// # Errors
    /// A failing system event or host handler.
    fn emit(&mut self) -> Result<(), Self::Error>;

    /// The message the running forest has for an assertion error code.
    fn error_message(&self, err_code: Felt) -> Option<String>;

    /// Reports a `U32AND`/`U32XOR` of the checked operands `a` (position 1) and `b` (the top)
    /// to the tracer.
    fn u32_bitwise(&mut self, xor: bool, a: u32, b: u32);

    /// Reports a successful `EVALCIRCUIT` (after its reads) to the tracer.
    fn circuit_evaluated(&mut self, ptr: u32, n_read: u32, n_eval: u32);

    /// Receives the six user-operation helper registers of the current cycle. Only called when
    /// [`Machine::RECORD_HELPERS`] is true.
    fn set_helpers(&mut self, helpers: [Felt; 6]);

    /// [`Machine::set_helpers`] with `helpers[slot]` still to be inverted (zero stays zero; see
    /// [`crate::Tracer::helpers_inverting`]).
    fn set_helpers_inverting(&mut self, helpers: [Felt; 6], slot: usize);
}
