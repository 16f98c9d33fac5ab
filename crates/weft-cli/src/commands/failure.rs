//! Execution failures: the processor's error, with the operation (or control row) at its clock
//! cycle located by running the program again with a tracer that watches that cycle.

use std::sync::Arc;

use weft_fast::{
    FastProcessor,
    tracer::{Checkpoint, Continuation, RowAt, Tracer},
};
use weft_host::ExecutionError;
use weft_mast::{MastForest, MastNode, MastNodeKind, Program};
use weft_upstream::ProgramInputs;

use crate::{CliError, load::LoadedFile};

/// A tracer that describes the rows at one clock cycle and the one before it.
struct Locator {
    target: u32,
    at_target: Option<String>,
    before_target: Option<String>,
    pending: Option<u32>,
}

impl Tracer for Locator {
    type Error = weft_fast::Never;

    fn start_clock_cycle(&mut self, clk: u32) -> bool {
        let wanted = clk == self.target || clk.checked_add(1) == Some(self.target);
        self.pending = wanted.then_some(clk);
        wanted
    }

    fn checkpoint(&mut self, checkpoint: Checkpoint<'_>) {
        let description = describe_row(checkpoint.row, checkpoint.forests);
        if self.pending == Some(self.target) {
            self.at_target = Some(description);
        } else {
            self.before_target = Some(description);
        }
    }
}

fn node_of(forests: &[Arc<MastForest>], node: weft_fast::tracer::NodeRef) -> Option<&MastNode> {
    forests
        .get(node.forest as usize)?
        .nodes()
        .get(node.node as usize)
}

fn kind_name(node: Option<&MastNode>) -> &'static str {
    match node.map(MastNode::kind) {
        Some(MastNodeKind::Block) => "basic block",
        Some(kind) => kind.name(),
        None => "unknown",
    }
}

/// Describes the row about to execute: the operation, or which control row of which node.
fn describe_row(row: RowAt, forests: &[Arc<MastForest>]) -> String {
    match row {
        RowAt::Op { block, batch, op } => node_of(forests, block)
            .and_then(MastNode::as_block)
            .and_then(|b| b.batches().ok()?.get(batch as usize))
            .and_then(|b| b.ops().get(op as usize))
            .map_or_else(
                || "an operation".to_string(),
                |op| format!("operation `{op}`"),
            ),
        RowAt::Start(node) => format!("the start of a {} node", kind_name(node_of(forests, node))),
        RowAt::Respan { .. } => "`respan`".to_string(),
        RowAt::BlockEnd(_) => "the `end` of a basic block".to_string(),
        RowAt::Finish(cont) => match cont {
            Continuation::FinishLoop { .. } => "the `repeat`/`end` of a loop".to_string(),
            Continuation::Start(node) => {
                format!("the start of a {} node", kind_name(node_of(forests, node)))
            }
            Continuation::FinishJoin(node)
            | Continuation::FinishSplit(node)
            | Continuation::FinishCall(node)
            | Continuation::FinishDyn(node) => {
                format!("the `end` of a {} node", kind_name(node_of(forests, node)))
            }
        },
    }
}

/// Turns an execution error into the command's error, locating the operation at its clock
/// cycle by running the program again (deterministically) with a [`Locator`].
pub(super) fn execution_error(
    source: ExecutionError,
    file: &LoadedFile,
    program: &Program,
    inputs: &ProgramInputs,
) -> CliError {
    let clk = source.clk();
    let op = clk.and_then(|target| {
        let mut locator = Locator {
            target,
            at_target: None,
            before_target: None,
            pending: None,
        };
        // The host was built once already for the run that failed, so this one builds too.
        let mut host = file.host().ok()?;
        // The run fails again, at the same cycle; only what the locator saw matters.
        let _ = FastProcessor::new(
            inputs.weft_stack_inputs(),
            inputs.weft_advice_inputs(),
            file.options,
        )
        .execute_with_tracer(program, &mut host, &mut locator);
        locator.at_target.or(locator.before_target)
    });
    CliError::Execution { clk, op, source }
}
