//! The decoder's block stack: one entry per open control block (and the open basic block), with
//! what its `END` row must show and what a `CALL`-like block restores when it ends, plus the
//! decoder's position inside the current basic block.
//!
//! A well-formed execution always ends the block it opened and only asks for the current basic
//! block from inside one; a failure of either is a typed error, never a guess.

use weft_core::{Felt, Word, ZERO};
use weft_host::ExecutionError;

/// Kinds of blocks on the block stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BlockKind {
    Join,
    Split,
    Loop { entered: bool },
    Call,
    Syscall,
    Dyn,
    Dyncall,
    Basic,
}

/// What a `CALL`-like block must restore when it ends.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CallerContext {
    pub(crate) ctx: u32,
    pub(crate) fn_hash: Word,
}

/// One open block.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Block {
    pub(crate) kind: BlockKind,
    /// The block's hasher address (for a basic block, that of its current batch).
    pub(crate) addr: Felt,
    /// The enclosing block's address, or zero for the entry node.
    pub(crate) parent_addr: Felt,
    /// Whether the block is the body of an entered loop.
    pub(crate) is_loop_body: bool,
    pub(crate) caller: Option<CallerContext>,
}

/// The decoder state inside a basic block.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SpanState {
    /// Opcodes of the current group not yet executed (packed, next one lowest).
    pub(crate) group_ops_left: u64,
    /// Groups of the block not yet started (the `group_count` column).
    pub(crate) groups_left: u64,
}

/// The open blocks, innermost last.
#[derive(Debug, Default)]
pub(crate) struct BlockStack {
    blocks: Vec<Block>,
}

fn no_open_block() -> ExecutionError {
    ExecutionError::FailedToExecuteProgram("the decoder's block stack is empty")
}

impl BlockStack {
    /// Opens a block; returns its parent's address.
    pub(crate) fn push(
        &mut self,
        kind: BlockKind,
        addr: Felt,
        caller: Option<CallerContext>,
    ) -> Felt {
        let (parent_addr, is_loop_body) = match self.blocks.last() {
            Some(parent) => (
                parent.addr,
                matches!(parent.kind, BlockKind::Loop { entered: true }),
            ),
            None => (ZERO, false),
        };
        self.blocks.push(Block {
            kind,
            addr,
            parent_addr,
            is_loop_body,
            caller,
        });
        parent_addr
    }

    /// Closes the innermost block.
    ///
    /// # Errors
    /// [`ExecutionError::FailedToExecuteProgram`] if no block is open.
    pub(crate) fn pop(&mut self) -> Result<Block, ExecutionError> {
        self.blocks.pop().ok_or_else(no_open_block)
    }

    /// The innermost open block.
    ///
    /// # Errors
    /// [`ExecutionError::FailedToExecuteProgram`] if no block is open.
    pub(crate) fn last(&self) -> Result<&Block, ExecutionError> {
        self.blocks.last().ok_or_else(no_open_block)
    }

    /// The innermost open block, mutably.
    ///
    /// # Errors
    /// [`ExecutionError::FailedToExecuteProgram`] if no block is open.
    pub(crate) fn last_mut(&mut self) -> Result<&mut Block, ExecutionError> {
        self.blocks.last_mut().ok_or_else(no_open_block)
    }
}

#[cfg(test)]
mod tests {
    use weft_core::ONE;

    use super::*;

    #[test]
    fn closing_more_blocks_than_opened_is_an_error() {
        let mut blocks = BlockStack::default();
        assert!(matches!(
            blocks.pop(),
            Err(ExecutionError::FailedToExecuteProgram(_))
        ));
        assert!(blocks.last().is_err());
        assert_eq!(blocks.push(BlockKind::Join, ONE, None), ZERO);
        assert_eq!(blocks.push(BlockKind::Basic, Felt::new(9), None), ONE);
        assert_eq!(blocks.last().map(|b| b.parent_addr).ok(), Some(ONE));
        assert_eq!(blocks.pop().map(|b| b.kind).ok(), Some(BlockKind::Basic));
        assert_eq!(blocks.pop().map(|b| b.kind).ok(), Some(BlockKind::Join));
        assert!(blocks.last_mut().is_err());
    }
}
