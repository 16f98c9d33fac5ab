//! The [`Backend`]: the services behind the driver's [`crate::Machine`] (memory, advice,
//! hasher, events, decorators, host resolutions) and the forest table.
//!
//! The driver ([`crate::driver::Driver`]) owns the state every row shows (clock, context,
//! stack, call frames, continuations) and reports to its [`crate::Tracer`]; everything it has
//! to ask for goes through its backend. The fast processor's backend (`processor::HostBackend`)
//! has a real memory, advice provider and host; the trace builder's (in `weft_tracegen`) reads
//! the same answers back from a fragment's replay logs and fails with an error of its own when
//! a log runs out.
//!
//! The driver checks memory addresses (range and alignment) before it asks, so a backend only
//! ever sees valid u32 addresses.

use std::sync::Arc;

use weft_core::{Felt, Word};
use weft_host::ExecutionError;
use weft_mast::{Decorator, MastForest};

use crate::{stack::Stack, tracer::NodeRef};

/// Why a procedure is resolved through the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResolveKind {
    /// An external node names it.
    External,
    /// A `DYN`/`DYNCALL` callee hash names it and the running forest does not hold it.
    Dynamic,
}

/// A procedure resolved through the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// The node to run.
    pub node: NodeRef,
    /// Whether the resolution appended its forest to the forest table.
    pub is_new: bool,
}

/// A Merkle operation's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MerkleOutcome {
    /// The hasher chiplet address of the operation.
    pub addr: Felt,
    /// The length of the hashed path.
    pub depth: u32,
    /// The verified root (`MPVERIFY`) or the new root (`MRUPDATE`).
    pub root: Word,
    /// The path's siblings, from the leaf up (empty for a backend that replays outcomes).
    pub path: Vec<Word>,
    /// The seven round states of each permutation up the path hashed from the leaf
    /// (`MPVERIFY`'s path, `MRUPDATE`'s old path), leaf level first, where the backend hashed
    /// it for a tracer that wants them ([`crate::Tracer::wants_permutation_rounds`]); empty
    /// otherwise.
    pub rounds: Vec<[[Felt; 12]; 7]>,
}

/// What the driver asks of the world outside its own state.
pub trait Backend {
    /// Why a service failed: at least every [`ExecutionError`].
    type Error: From<ExecutionError>;

    /// The error for a state that contradicts itself or the forests (a node outside its
    /// forest, an `END` with no caller frame). For the fast processor such a state cannot
    /// arise; for a restored state it means a malformed context.
    fn inconsistent(what: &'static str) -> Self::Error;

    /// The forest table that [`NodeRef::forest`] indexes.
    fn forests(&self) -> &[Arc<MastForest>];

    /// Checks that a `SYSCALL` may call `callee`.
    ///
    /// # Errors
    /// A callee outside the kernel.
    fn check_syscall(&self, callee: Word) -> Result<(), Self::Error>;

    /// Whether decorators run at all; when false, [`Backend::decorator`] is never called.
    fn run_decorators(&self) -> bool;

    /// Runs one decorator with the state at `clk`.
    ///
    /// # Errors
    /// A failing debug or trace handler.
    fn decorator(
        &mut self,
        decorator: &Decorator,
        clk: u32,
        ctx: u32,
        stack: &Stack,
    ) -> Result<(), Self::Error>;

    /// Reads the element at `addr` of context `ctx`.
    ///
    /// # Errors
    /// A service that runs out.
    fn read_element(&mut self, ctx: u32, addr: u32, clk: u32) -> Result<Felt, Self::Error>;

    /// Reads the word at the word-aligned `addr` of context `ctx`.
    ///
    /// # Errors
    /// A service that runs out.
    fn read_word(&mut self, ctx: u32, addr: u32, clk: u32) -> Result<Word, Self::Error>;

    /// Writes one element.
    fn write_element(&mut self, ctx: u32, addr: u32, value: Felt);

    /// Writes one word at a word-aligned address.
    fn write_word(&mut self, ctx: u32, addr: u32, word: Word);

    /// Pops one element from the advice stack.
    ///
    /// # Errors
    /// An empty advice stack.
    fn advice_pop(&mut self, clk: u32) -> Result<Felt, Self::Error>;

    /// Pops one word from the advice stack.
    ///
    /// # Errors
    /// Fewer than four elements.
    fn advice_pop_word(&mut self, clk: u32) -> Result<Word, Self::Error>;

    /// Pops two words from the advice stack.
    ///
    /// # Errors
    /// Fewer than eight elements.
    fn advice_pop_dword(&mut self, clk: u32) -> Result<[Word; 2], Self::Error>;

    /// Applies the RPO permutation to `state`; returns the hasher chiplet address.
    ///
    /// # Errors
    /// A service that runs out.
    fn permute(&mut self, state: &mut [Felt; 12]) -> Result<Felt, Self::Error>;

    /// [`Backend::permute`], also writing the seven round states into `rounds` where this
    /// backend computes the permutation itself; returns the address and whether `rounds` was
    /// written. The default runs [`Backend::permute`] and writes nothing.
    ///
    /// # Errors
    /// As [`Backend::permute`].
    fn permute_rounds(
        &mut self,
        state: &mut [Felt; 12],
        rounds: &mut [[Felt; 12]; 7],
    ) -> Result<(Felt, bool), Self::Error> {
        let _ = rounds;
        self.permute(state).map(|addr| (addr, false))
    }

    /// `MPVERIFY`: see [`crate::Machine::merkle_verify`].
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
        clk: u32,
    ) -> Result<MerkleOutcome, Self::Error>;

    /// `MRUPDATE`: see [`crate::Machine::merkle_update`].
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
        clk: u32,
    ) -> Result<MerkleOutcome, Self::Error>;

    /// Handles `EMIT` with the state at `clk` (the event id is on top of `stack`).
    ///
    /// # Errors
    /// A failing system event or host handler.
    fn emit(&mut self, clk: u32, ctx: u32, stack: &Stack) -> Result<(), Self::Error>;

    /// Resolves the procedure `digest` through the host (at clock cycle `clk`, after the row
    /// that needed it).
    ///
    /// # Errors
    /// No forest holds the procedure, or the one that claims to does not.
    fn resolve(
        &mut self,
        digest: Word,
        kind: ResolveKind,
        clk: u32,
    ) -> Result<Resolved, Self::Error>;
}
