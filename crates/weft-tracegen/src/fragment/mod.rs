//! One fragment's rows, regenerated from its context alone.
//!
//! [`FragmentBuilder`] restores the state a [`FragmentContext`] records and hands it to the one
//! execution driver ([`weft_fast::Driver`]), the same code the fast processor runs, starting at
//! the row the context names (a node's start, an operation inside a batch, a `RESPAN`, a block's
//! `END`, a `REPEAT` or another `END`). The builder has no control flow of its own; it provides
//! the two things that differ from a plain execution:
//! - the backend ([`replay::ReplayBackend`]): memory reads, advice pops, hasher outputs and
//!   addresses, Merkle roots and host resolutions from the fragment's replay logs;
//! - the tracer ([`rows::RowTracer`]): one trace row written per row the driver runs, helper
//!   registers included, until the fragment's rows are written, where it stops the driver.

mod replay;
mod rows;

use std::sync::Arc;

use weft_core::{Felt, ONE};
use weft_fast::{
    CallFrame, Continuation, Driver, DriverState, RowAt, RunEnd, SavedOverflow, Stack,
};
use weft_mast::MastForest;
use weft_replay::{FragmentContext, u64s_to_word};

use self::{replay::ReplayBackend, rows::RowTracer};
use crate::{columns::RowWriter, error::FragmentError};

/// Visible stack elements.
const TOP: usize = weft_fast::stack::TOP;

/// What the builder reports besides the rows it wrote.
#[derive(Debug)]
pub(crate) struct FragmentSummary {
    /// The fragment's first row is a `REPEAT`, whose hasher columns copy the row before it
    /// (the loop body's `END`, in the previous fragment): the caller copies them.
    pub(crate) starts_with_repeat: bool,
}

/// Rebuilds the rows of one fragment.
#[derive(Debug)]
pub(crate) struct FragmentBuilder<'a> {
    driver: Driver<ReplayBackend<'a>, RowTracer<'a>>,
    /// The row the context starts at.
    first_row: RowAt,
    /// How the run ended (`None` before it ran).
    end: Option<RunEnd>,
}

impl<'a> FragmentBuilder<'a> {
    /// Restores the state of `replay`.
    pub(crate) fn new(
        forests: &'a [Arc<MastForest>],
        replay: &'a FragmentContext,
        out: RowWriter<'a>,
    ) -> Result<Self, FragmentError> {
        let s = &replay.state;
        let top: [Felt; TOP] = s.stack_top.map(Felt::new);
        let overflow: Vec<Felt> = s.overflow.iter().map(|v| Felt::new(*v)).collect();
        let stack = Stack::from_parts(&top, &overflow, &s.overflow_clks).ok_or(
            FragmentError::Inconsistent("overflow and push clocks differ in length"),
        )?;
        let mut frames = Vec::with_capacity(s.frames.len());
        for frame in &s.frames {
            if frame.overflow.len() != frame.overflow_clks.len() {
                return Err(FragmentError::Inconsistent(
                    "a frame's overflow and push clocks differ in length",
                ));
            }
            frames.push(CallFrame {
                ctx: frame.ctx,
                fn_hash: u64s_to_word(&frame.fn_hash),
                overflow: SavedOverflow {
                    values: frame.overflow.iter().map(|v| Felt::new(*v)).collect(),
                    clks: frame.overflow_clks.clone(),
                },
            });
        }
        let state = DriverState {
            clk: s.clk,
            ctx: s.ctx,
            fn_hash: u64s_to_word(&s.fn_hash),
            pc_transcript: u64s_to_word(&s.pc_transcript),
            stack,
            frames,
            continuations: s.continuations.clone(),
        };
        let backend = ReplayBackend::new(forests, replay);
        let tracer = RowTracer::new(
            forests,
            &replay.hasher.block_addrs,
            s.block_stack.clone(),
            out,
        );
        Ok(Self {
            driver: Driver::new(state, weft_host::MAX_CYCLES, backend, tracer),
            first_row: s.row,
            end: None,
        })
    }

    /// Writes the next `n_rows` rows.
    pub(crate) fn run_rows(
        mut self,
        n_rows: usize,
    ) -> Result<(FragmentSummary, Self), FragmentError> {
        let starts_with_repeat = self.first_row_is_repeat();
        self.driver.tracer_mut().stop_after(n_rows);
        let end = self.driver.run_from(self.first_row)?;
        if end == RunEnd::Finished && !self.driver.tracer().is_full() {
            return Err(FragmentError::EndedEarly);
        }
        self.end = Some(end);
        Ok((FragmentSummary { starts_with_repeat }, self))
    }

    fn first_row_is_repeat(&self) -> bool {
        matches!(
            self.first_row,
            RowAt::Finish(Continuation::FinishLoop { entered: true, .. })
        ) && self.driver.stack().get(0) == ONE
    }

    /// Writes the `HALT` row that follows the last executed row.
    pub(crate) fn write_halt_row(&mut self) -> Result<(), FragmentError> {
        let (tracer, state) = self.driver.tracer_and_state();
        tracer.write_halt_row(state)
    }

    /// Whether the execution ended: the run finished with no block left open.
    pub(crate) fn is_finished(&self) -> bool {
        self.end == Some(RunEnd::Finished) && self.driver.tracer().no_open_block()
    }
}
