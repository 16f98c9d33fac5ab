//! [`ReplayBackend`]: the driver's services answered from one fragment's replay logs.
//!
//! Memory reads, advice pops, hasher outputs and addresses, Merkle roots and host resolutions
//! come from the logs in the order the recording execution consumed them; a log that runs out
//! is [`FragmentError::ReplayExhausted`], never a made-up value. Writes, events and decorators
//! do nothing: their effects reach the trace only through later reads, which are replayed. No
//! host is called.

use std::sync::Arc;

use weft_core::{Felt, Word};
use weft_fast::{Backend, MerkleOutcome, NodeRef, ResolveKind, Resolved, Stack};
use weft_mast::{Decorator, MastForest};
use weft_replay::{FragmentContext, u64s_to_word, word_to_u64s};

use crate::error::{FragmentError, ReplayLog};

/// The next entries to read from each log.
#[derive(Debug, Default)]
struct LogCursors {
    advice: usize,
    elements: usize,
    words: usize,
    permutations: usize,
    merkle_roots: usize,
    resolutions: usize,
}

/// Answers the driver from the replay logs of one fragment.
#[derive(Debug)]
pub(super) struct ReplayBackend<'a> {
    forests: &'a [Arc<MastForest>],
    replay: &'a FragmentContext,
    logs: LogCursors,
    /// The length of the forest table so far (a resolution to this index adds a forest).
    n_forests: u32,
}

impl<'a> ReplayBackend<'a> {
    /// The services of `replay` over the forest table `forests`.
    pub(super) fn new(forests: &'a [Arc<MastForest>], replay: &'a FragmentContext) -> Self {
        Self {
            forests,
            replay,
            logs: LogCursors::default(),
            n_forests: replay.state.n_forests,
        }
    }

    /// The Merkle root log's next entry.
    fn next_merkle_root(&mut self, depth: Felt) -> Result<MerkleOutcome, FragmentError> {
        let (addr, root) = self
            .replay
            .hasher
            .merkle_roots
            .get(self.logs.merkle_roots)
            .ok_or(FragmentError::ReplayExhausted(ReplayLog::MerkleRoot))?;
        self.logs.merkle_roots += 1;
        let depth = u32::try_from(depth.as_int())
            .map_err(|_| FragmentError::Inconsistent("a Merkle path depth is not a u32"))?;
        Ok(MerkleOutcome {
            addr: Felt::new(u64::from(*addr)),
            depth,
            root: u64s_to_word(root),
            path: Vec::new(),
            rounds: Vec::new(),
        })
    }
}

impl Backend for ReplayBackend<'_> {
    type Error = FragmentError;

    #[cold]
    fn inconsistent(what: &'static str) -> FragmentError {
        FragmentError::Inconsistent(what)
    }

    #[inline(always)]
    fn forests(&self) -> &[Arc<MastForest>] {
        self.forests
    }

    /// Trace building has no kernel: the recording execution checked every `SYSCALL`.
    fn check_syscall(&self, _callee: Word) -> Result<(), FragmentError> {
        Ok(())
    }

    #[inline(always)]
    fn run_decorators(&self) -> bool {
        false
    }

    fn decorator(
        &mut self,
        _decorator: &Decorator,
        _clk: u32,
        _ctx: u32,
        _stack: &Stack,
    ) -> Result<(), FragmentError> {
        Ok(())
    }

    fn read_element(&mut self, _ctx: u32, _addr: u32, _clk: u32) -> Result<Felt, FragmentError> {
        let v = self
            .replay
            .memory
            .elements
            .get(self.logs.elements)
            .ok_or(FragmentError::ReplayExhausted(ReplayLog::MemoryElement))?;
        self.logs.elements += 1;
        Ok(Felt::new(*v))
    }

    fn read_word(&mut self, _ctx: u32, _addr: u32, _clk: u32) -> Result<Word, FragmentError> {
        let w = self
            .replay
            .memory
            .words
            .get(self.logs.words)
            .ok_or(FragmentError::ReplayExhausted(ReplayLog::MemoryWord))?;
        self.logs.words += 1;
        Ok(u64s_to_word(w))
    }

    fn write_element(&mut self, _ctx: u32, _addr: u32, _value: Felt) {}

    fn write_word(&mut self, _ctx: u32, _addr: u32, _word: Word) {}

    fn advice_pop(&mut self, _clk: u32) -> Result<Felt, FragmentError> {
        let v = self
            .replay
            .advice
            .values
            .get(self.logs.advice)
            .ok_or(FragmentError::ReplayExhausted(ReplayLog::Advice))?;
        self.logs.advice += 1;
        Ok(Felt::new(*v))
    }

    fn advice_pop_word(&mut self, _clk: u32) -> Result<Word, FragmentError> {
        let at = self.logs.advice;
        let v = self
            .replay
            .advice
            .values
            .get(at..at + 4)
            .ok_or(FragmentError::ReplayExhausted(ReplayLog::Advice))?;
        self.logs.advice += 4;
        Ok([v[0], v[1], v[2], v[3]].map(Felt::new).into())
    }

    fn advice_pop_dword(&mut self, clk: u32) -> Result<[Word; 2], FragmentError> {
        let a = self.advice_pop_word(clk)?;
        let b = self.advice_pop_word(clk)?;
        Ok([a, b])
    }

    fn permute(&mut self, state: &mut [Felt; 12]) -> Result<Felt, FragmentError> {
        let (addr, output) = self
            .replay
            .hasher
            .permutations
            .get(self.logs.permutations)
            .ok_or(FragmentError::ReplayExhausted(ReplayLog::Permutation))?;
        self.logs.permutations += 1;
        *state = output.map(Felt::new);
        Ok(Felt::new(u64::from(*addr)))
    }

    fn merkle_verify(
        &mut self,
        _node: Word,
        depth: Felt,
        _index: Felt,
        _root: Word,
        _err_code: Felt,
        _clk: u32,
    ) -> Result<MerkleOutcome, FragmentError> {
        self.next_merkle_root(depth)
    }

    fn merkle_update(
        &mut self,
        _old_node: Word,
        depth: Felt,
        _index: Felt,
        _old_root: Word,
        _new_node: Word,
        _clk: u32,
    ) -> Result<MerkleOutcome, FragmentError> {
        self.next_merkle_root(depth)
    }

    /// Events change only the advice provider and memory, whose effects are replayed.
    fn emit(&mut self, _clk: u32, _ctx: u32, _stack: &Stack) -> Result<(), FragmentError> {
        Ok(())
    }

    fn resolve(
        &mut self,
        digest: Word,
        _kind: ResolveKind,
        _clk: u32,
    ) -> Result<Resolved, FragmentError> {
        let r = self
            .replay
            .external
            .resolutions
            .get(self.logs.resolutions)
            .ok_or(FragmentError::ReplayExhausted(ReplayLog::Resolution))?;
        self.logs.resolutions += 1;
        if r.digest != word_to_u64s(&digest) {
            return Err(FragmentError::Inconsistent(
                "a resolution names another procedure",
            ));
        }
        let is_new = r.forest == self.n_forests;
        if is_new {
            self.n_forests += 1;
        } else if r.forest > self.n_forests {
            return Err(FragmentError::Inconsistent(
                "a resolution skips a forest of the table",
            ));
        }
        Ok(Resolved {
            node: NodeRef {
                forest: r.forest,
                node: r.root,
            },
            is_new,
        })
    }
}
