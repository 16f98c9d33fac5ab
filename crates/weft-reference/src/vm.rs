//! The state every operation reads and writes: clock, context, stack, memory, advice, the hasher
//! chiplet's row counter, the chiplet log, the precompile transcript and the host.
//!
//! The control flow ([`crate::processor`]) and the user operations ([`crate::ops`]) both work on
//! a [`Vm`]; it knows nothing of either, so the modules form no cycle.

use std::sync::Arc;

use weft_core::{Felt, Rpo256, Word, ZERO};
use weft_host::{AdviceProvider, Host};
use weft_mast::MastForest;

use crate::{
    log::{ChipletLog, HasherRequest},
    state::{Memory, Stack},
};

/// Hasher chiplet rows per permutation.
pub(crate) const HASH_CYCLE_LEN: u64 = 8;

/// The six user-operation helper registers `h2..h7` an operation reports for its decoder row.
pub(crate) type Helpers = [Felt; 6];

/// Helper registers of an operation that sets none.
pub(crate) const NO_HELPERS: Helpers = [ZERO; 6];

/// The machine state shared by the control flow and the operations.
pub(crate) struct Vm<'h, H: Host> {
    pub(crate) host: &'h mut H,
    pub(crate) clk: u32,
    pub(crate) ctx: u32,
    pub(crate) fn_hash: Word,
    pub(crate) stack: Stack,
    pub(crate) memory: Memory,
    pub(crate) advice: AdviceProvider,
    /// Address of the next hasher chiplet row (starts at 1).
    pub(crate) hasher_addr: u64,
    /// The chiplet requests made so far (memory accesses are logged by `memory`).
    pub(crate) log: ChipletLog,
    /// The precompile transcript's capacity.
    pub(crate) pc_transcript: Word,
    /// The forest whose error messages describe the running code.
    pub(crate) forest: Arc<MastForest>,
}

impl<'h, H: Host> Vm<'h, H> {
    /// The state at the start of an execution of `forest`'s code.
    pub(crate) fn new(
        host: &'h mut H,
        stack: Stack,
        advice: AdviceProvider,
        forest: Arc<MastForest>,
    ) -> Self {
        Self {
            host,
            clk: 0,
            ctx: 0,
            fn_hash: Word::default(),
            stack,
            memory: Memory::default(),
            advice,
            hasher_addr: 1,
            log: ChipletLog::default(),
            pc_transcript: Word::default(),
            forest,
        }
    }

    /// Logs a hasher request and returns the address of its first row.
    pub(crate) fn hash_request(&mut self, request: HasherRequest) -> Felt {
        let addr = self.hasher_addr;
        self.hasher_addr += HASH_CYCLE_LEN * request.n_perms() as u64;
        self.log.hasher.push(request);
        Felt::new(addr)
    }

    /// Applies one RPO permutation, taking hasher rows; returns the address and the output.
    pub(crate) fn permute(&mut self, state: [Felt; 12]) -> (Felt, [Felt; 12]) {
        let addr = self.hash_request(HasherRequest::Permute { state });
        let mut out = state;
        Rpo256::apply_permutation(&mut out);
        (addr, out)
    }

    /// Reports the error message the running forest has for `code`.
    pub(crate) fn error_message(&self, code: Felt) -> Option<String> {
        self.forest.error_messages().get(&code.as_int()).cloned()
    }
}
