//! The reference processor's state beyond the [`Vm`]: the trace being written, the decoder's block
//! stack and basic-block position, and the options. It provides the cycle primitive every row
//! goes through, the `END` row of a block, and decorator execution.
//!
//! The control flow that drives it lives in [`crate::control`] and [`crate::basic_block`]; this
//! module depends on neither.

use weft_core::{
    Felt, OpCode, Word, ZERO,
    trace::{CORE_TRACE_WIDTH, CoreTrace},
};
use weft_host::{
    AdviceInputs, AdviceProvider, ExecutionError, ExecutionOptions, Host, StackInputs,
};
use weft_mast::{Decorator, DecoratorId, Kernel, MastForest, MastNode, MastNodeId, Program};

use crate::{
    blocks::{Block, BlockKind, BlockStack, SpanState},
    rows::{self, DecoderRow, flag},
    state::{Stack, TOP, View},
    vm::{Helpers, NO_HELPERS, Vm},
};

/// The reference processor.
pub(crate) struct Processor<'h, H: Host> {
    pub(crate) vm: Vm<'h, H>,
    max_cycles: u32,
    /// Decorators run (as upstream's debug mode) when debugging or tracing is enabled.
    pub(crate) run_decorators: bool,
    enable_tracing: bool,
    pub(crate) kernel: Kernel,
    pub(crate) blocks: BlockStack,
    /// The decoder's position inside the current basic block, if one is running.
    pub(crate) span: Option<SpanState>,
    pub(crate) trace: CoreTrace,
}

impl<'h, H: Host> Processor<'h, H> {
    pub(crate) fn new(
        program: &Program,
        stack_inputs: StackInputs,
        advice_inputs: AdviceInputs,
        host: &'h mut H,
        options: ExecutionOptions,
    ) -> Self {
        let vm = Vm::new(
            host,
            Stack::new(stack_inputs.as_slice()),
            AdviceProvider::from(advice_inputs),
            std::sync::Arc::clone(program.forest()),
        );
        Self {
            vm,
            max_cycles: options.max_cycles,
            run_decorators: options.enable_debugging || options.enable_tracing,
            enable_tracing: options.enable_tracing,
            kernel: program.kernel().clone(),
            blocks: BlockStack::default(),
            span: None,
            trace: CoreTrace::with_capacity(64),
        }
    }

    // ROWS
    // --------------------------------------------------------------------------------------------

    /// Runs one cycle: captures the state, runs `effect` (which may return helper register
    /// values), appends the row and advances the clock.
    ///
    /// # Errors
    /// The effect's error, or [`ExecutionError::CycleLimitExceeded`] once the clock passes the
    /// limit.
    pub(crate) fn cycle(
        &mut self,
        dec: DecoderRow,
        effect: impl FnOnce(&mut Vm<'h, H>) -> Result<Helpers, ExecutionError>,
    ) -> Result<(), ExecutionError> {
        let mut row = rows::state_columns(&self.vm);
        let helpers = effect(&mut self.vm)?;
        rows::write_decoder(&mut row, dec, helpers);
        self.trace.push_row(&row);
        self.vm.clk = self.next_clk()?;
        if self.vm.clk > self.max_cycles {
            return Err(self.cycle_limit());
        }
        Ok(())
    }

    /// The clock cycle after the current one (a new context's id is the cycle after its call
    /// row).
    ///
    /// # Errors
    /// [`ExecutionError::CycleLimitExceeded`] if the clock would pass `u32::MAX`, which only a
    /// cycle limit above every clock value allows.
    pub(crate) fn next_clk(&self) -> Result<u32, ExecutionError> {
        self.vm.clk.checked_add(1).ok_or_else(|| self.cycle_limit())
    }

    fn cycle_limit(&self) -> ExecutionError {
        ExecutionError::CycleLimitExceeded {
            max_cycles: self.max_cycles,
        }
    }

    /// A control row whose stack effect is a `NOOP`.
    pub(crate) fn control_noop(&mut self, dec: DecoderRow) -> Result<(), ExecutionError> {
        self.cycle(dec, |_| Ok(NO_HELPERS))
    }

    /// A control row whose stack effect is a `DROP`.
    pub(crate) fn control_drop(&mut self, dec: DecoderRow) -> Result<(), ExecutionError> {
        self.cycle(dec, |vm| {
            vm.stack.pop();
            Ok(NO_HELPERS)
        })
    }

    /// The last row written.
    ///
    /// # Errors
    /// [`ExecutionError::FailedToExecuteProgram`] if no row has been written yet.
    pub(crate) fn last_row(&self) -> Result<[Felt; CORE_TRACE_WIDTH], ExecutionError> {
        self.trace
            .num_rows()
            .checked_sub(1)
            .map(|i| self.trace.row(i))
            .ok_or(ExecutionError::FailedToExecuteProgram(
                "no trace row has been written yet",
            ))
    }

    /// The decoder's position inside the running basic block.
    ///
    /// # Errors
    /// [`ExecutionError::FailedToExecuteProgram`] outside a basic block.
    pub(crate) fn span(&self) -> Result<SpanState, ExecutionError> {
        self.span.ok_or(ExecutionError::FailedToExecuteProgram(
            "a basic-block row was requested outside a basic block",
        ))
    }

    /// The `END` row of a control block; `drop` for an entered loop.
    pub(crate) fn end_control(
        &mut self,
        digest: Word,
        drop: bool,
    ) -> Result<Block, ExecutionError> {
        let block = self.blocks.pop()?;
        let flags = [
            flag(block.is_loop_body),
            flag(matches!(block.kind, BlockKind::Loop { entered: true })),
            flag(matches!(block.kind, BlockKind::Call | BlockKind::Dyncall)),
            flag(block.kind == BlockKind::Syscall),
        ];
        let mut h = [ZERO; 8];
        h[..4].copy_from_slice(digest.as_elements());
        h[4..].copy_from_slice(&flags);
        let dec = DecoderRow::control(block.addr, OpCode::End, h);
        if let Some(caller) = block.caller {
            // The END row shows the callee's context; the next row the caller's.
            self.cycle(dec, |vm| {
                vm.ctx = caller.ctx;
                vm.fn_hash = caller.fn_hash;
                vm.stack.end_context()?;
                Ok(NO_HELPERS)
            })?;
        } else if drop {
            self.control_drop(dec)?;
        } else {
            self.control_noop(dec)?;
        }
        Ok(block)
    }

    /// Checks that a callee returns with no more than sixteen elements on its stack.
    pub(crate) fn check_return_depth(&self) -> Result<(), ExecutionError> {
        let depth = self.vm.stack.depth();
        if depth > TOP {
            return Err(ExecutionError::InvalidStackDepthOnReturn {
                clk: self.vm.clk,
                depth,
            });
        }
        Ok(())
    }

    /// The digest of node `id` of `forest`.
    ///
    /// # Errors
    /// [`ExecutionError::FailedToExecuteProgram`] if `forest` has no such node.
    pub(crate) fn digest_of(forest: &MastForest, id: MastNodeId) -> Result<Word, ExecutionError> {
        forest
            .get(id)
            .map(MastNode::digest)
            .ok_or(ExecutionError::FailedToExecuteProgram(
                "node id not in forest",
            ))
    }

    // DECORATORS
    // --------------------------------------------------------------------------------------------

    /// Runs the decorators `ids` of `forest`, in order.
    pub(crate) fn run_decorator_list(
        &mut self,
        forest: &MastForest,
        ids: &[DecoratorId],
    ) -> Result<(), ExecutionError> {
        for &id in ids {
            self.run_decorator(forest, id)?;
        }
        Ok(())
    }

    /// Runs the decorators attached to executed op index `op_idx` of a block.
    pub(crate) fn run_op_decorators(
        &mut self,
        forest: &MastForest,
        decorators: &[(usize, DecoratorId)],
        op_idx: usize,
    ) -> Result<(), ExecutionError> {
        for &(_, id) in decorators.iter().filter(|(idx, _)| *idx == op_idx) {
            self.run_decorator(forest, id)?;
        }
        Ok(())
    }

    /// Runs decorator `id` of `forest`: `Debug` calls [`Host::on_debug`], `Trace` calls
    /// [`Host::on_trace`] (only when tracing is enabled), `AsmOp` does nothing. Decorators cost
    /// no cycle.
    ///
    /// # Errors
    /// The handler's error, or [`ExecutionError::FailedToExecuteProgram`] if `forest` has no
    /// decorator `id` (a valid forest always has it).
    fn run_decorator(
        &mut self,
        forest: &MastForest,
        id: DecoratorId,
    ) -> Result<(), ExecutionError> {
        let decorator = forest
            .decorator(id)
            .ok_or(ExecutionError::FailedToExecuteProgram(
                "decorator id not in forest",
            ))?;
        let vm = &mut self.vm;
        let clk = vm.clk;
        let view = View {
            clk,
            ctx: vm.ctx,
            stack: &vm.stack,
            memory: &vm.memory,
        };
        match decorator {
            Decorator::Debug(options) => vm
                .host
                .on_debug(&view, options)
                .map_err(|source| ExecutionError::DebugHandlerError { clk, source }),
            Decorator::Trace(trace_id) if self.enable_tracing => vm
                .host
                .on_trace(&view, *trace_id)
                .map_err(|source| ExecutionError::TraceHandlerError {
                    clk,
                    trace_id: *trace_id,
                    source,
                }),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use weft_core::Operation;
    use weft_host::DefaultHost;
    use weft_mast::MastForestBuilder;

    use super::*;

    fn processor<'h>(
        host: &'h mut DefaultHost,
        options: ExecutionOptions,
    ) -> Processor<'h, DefaultHost> {
        let mut builder = MastForestBuilder::new();
        let entry = builder.add_block(&[Operation::Noop]).expect("block");
        builder.make_root(entry).expect("root");
        let program =
            Program::new(Arc::new(builder.build()), entry, Kernel::default()).expect("program");
        Processor::new(
            &program,
            StackInputs::default(),
            AdviceInputs::default(),
            host,
            options,
        )
    }

    #[test]
    fn state_asked_for_before_it_exists_is_an_error() {
        let mut host = DefaultHost::new();
        let mut p = processor(&mut host, ExecutionOptions::default());
        assert!(matches!(
            p.last_row(),
            Err(ExecutionError::FailedToExecuteProgram(_))
        ));
        assert!(matches!(
            p.span(),
            Err(ExecutionError::FailedToExecuteProgram(_))
        ));
        assert!(matches!(
            p.end_control(Word::default(), false),
            Err(ExecutionError::FailedToExecuteProgram(_))
        ));
        p.control_noop(DecoderRow::control(ZERO, OpCode::Noop, [ZERO; 8]))
            .expect("one row");
        assert_eq!(p.last_row().map(|row| row[0]).ok(), Some(ZERO));
    }

    #[test]
    fn the_clock_never_wraps() {
        let mut host = DefaultHost::new();
        let options = ExecutionOptions {
            max_cycles: u32::MAX,
            ..ExecutionOptions::default()
        };
        let mut p = processor(&mut host, options);
        p.vm.clk = u32::MAX - 1;
        p.control_noop(DecoderRow::control(ZERO, OpCode::Noop, [ZERO; 8]))
            .expect("the last clock value");
        assert_eq!(p.vm.clk, u32::MAX);
        assert!(matches!(
            p.control_noop(DecoderRow::control(ZERO, OpCode::Noop, [ZERO; 8])),
            Err(ExecutionError::CycleLimitExceeded {
                max_cycles: u32::MAX
            })
        ));
        assert!(matches!(
            p.next_clk(),
            Err(ExecutionError::CycleLimitExceeded { .. })
        ));
    }
}
