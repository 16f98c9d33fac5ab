//! Conversion of upstream `miden-core` 0.20.6 forests and programs into weft's types.

use std::sync::Arc;

use miden_core::mast::{self as up, MastNodeExt};
use weft_core::{Felt, OpCode, Operation};
use weft_mast::{
    AssemblyOp, DebugOptions, Decorator, DecoratorId, Kernel, MastError, MastForest,
    MastForestBuilder, MastNodeId, NodeDecorators, Program, SourceLocation,
};

/// Why an upstream forest could not be converted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConvertError {
    /// The weft builder rejected a node.
    #[error("node {node} of the upstream forest: {source}")]
    Build {
        /// The upstream node index.
        node: usize,
        /// The builder's error.
        source: MastError,
    },
    /// A weft invariant that the upstream forest does not respect.
    #[error("upstream forest: {0}")]
    Forest(#[from] MastError),
    /// An upstream opcode weft does not know (a version mismatch).
    #[error("unknown upstream opcode {opcode}")]
    UnknownOpcode {
        /// The opcode.
        opcode: u8,
    },
    /// A node references itself through its children (upstream does not forbid it on read).
    #[error("node {node} is part of a cycle")]
    Cycle {
        /// The upstream node index.
        node: usize,
    },
}

/// A converted forest, with the map from upstream node indices to weft ids.
#[derive(Debug)]
pub struct ConvertedForest {
    /// The weft forest.
    pub forest: MastForest,
    /// `node_map[i]` is the weft id of upstream node `i`.
    pub node_map: Vec<MastNodeId>,
}

/// Converts one upstream operation.
///
/// # Errors
/// Returns [`ConvertError::UnknownOpcode`] if weft does not know the opcode.
pub fn convert_operation(op: &miden_core::Operation) -> Result<Operation, ConvertError> {
    use miden_core::Operation as U;
    let opcode = op.op_code();
    let code = OpCode::try_from(opcode).map_err(|_| ConvertError::UnknownOpcode { opcode })?;
    let imm: Option<Felt> = match op {
        U::Push(v) | U::Assert(v) | U::U32assert2(v) | U::MpVerify(v) => Some(*v),
        _ => None,
    };
    Operation::from_parts(code, imm).map_err(|_| ConvertError::UnknownOpcode { opcode })
}

fn convert_decorator(decorator: &miden_core::Decorator) -> Decorator {
    use miden_core::{DebugOptions as D, Decorator as U};
    match decorator {
        U::AsmOp(asm) => Decorator::AsmOp(AssemblyOp {
            location: asm.location().map(|loc| SourceLocation {
                uri: Arc::from(loc.uri.as_str()),
                start: loc.start.to_u32(),
                end: loc.end.to_u32(),
            }),
            context_name: Arc::from(asm.context_name()),
            op: Arc::from(asm.op()),
            num_cycles: asm.num_cycles(),
            should_break: asm.should_break(),
        }),
        U::Debug(options) => Decorator::Debug(match options {
            D::StackAll => DebugOptions::StackAll,
            D::StackTop(n) => DebugOptions::StackTop(*n),
            D::MemAll => DebugOptions::MemAll,
            D::MemInterval(a, b) => DebugOptions::MemInterval(*a, *b),
            D::LocalInterval(a, b, c) => DebugOptions::LocalInterval(*a, *b, *c),
            D::AdvStackTop(n) => DebugOptions::AdvStackTop(*n),
        }),
        U::Trace(id) => Decorator::Trace(*id),
    }
}

/// Converts an upstream forest: every node, its decorators, the procedure roots, the advice map
/// and the error messages.
///
/// # Errors
/// Returns an error if a node is rejected by weft's builder or an opcode is unknown.
pub fn convert_forest(forest: &up::MastForest) -> Result<ConvertedForest, ConvertError> {
    let mut builder = MastForestBuilder::new();
    let mut decorator_ids: Vec<DecoratorId> = Vec::with_capacity(forest.decorators().len());
    for decorator in forest.decorators() {
        decorator_ids.push(builder.add_decorator(convert_decorator(decorator))?);
    }
    let map_dec = |id: &up::DecoratorId| decorator_ids[ix(*id)];

    let nodes = forest.nodes();
    let mut node_map: Vec<Option<MastNodeId>> = vec![None; nodes.len()];
    // Children are converted before parents with an explicit stack (no recursion depth limit).
    for start in 0..nodes.len() {
        let mut stack = vec![(start, false)];
        while let Some((idx, children_done)) = stack.pop() {
            if node_map[idx].is_some() {
                continue;
            }
            let node = &nodes[idx];
            if !children_done {
                stack.push((idx, true));
                let mut children = Vec::new();
                node.append_children_to(&mut children);
                for child in children {
                    let c = ix(child);
                    if node_map[c].is_none() {
                        if stack.iter().any(|&(i, done)| i == c && done) {
                            return Err(ConvertError::Cycle { node: c });
                        }
                        stack.push((c, false));
                    }
                }
                continue;
            }
            let id_of = |child: up::MastNodeId| {
                node_map[ix(child)].ok_or(ConvertError::Cycle { node: ix(child) })
            };
            let node_id = up::MastNodeId::from_usize_safe(idx, forest)
                .map_err(|_| ConvertError::Cycle { node: idx })?;
            let wrap = |source| ConvertError::Build { node: idx, source };
            let id = match node {
                up::MastNode::Block(block) => {
                    let ops = block
                        .raw_operations()
                        .map(convert_operation)
                        .collect::<Result<Vec<_>, _>>()?;
                    let decorators = NodeDecorators {
                        before_enter: forest
                            .before_enter_decorators(node_id)
                            .iter()
                            .map(map_dec)
                            .collect(),
                        after_exit: forest
                            .after_exit_decorators(node_id)
                            .iter()
                            .map(map_dec)
                            .collect(),
                        ops: block
                            .indexed_decorator_iter(forest)
                            .map(|(op_idx, dec)| (op_idx, map_dec(&dec)))
                            .collect(),
                    };
                    builder
                        .add_block_with_decorators(&ops, decorators)
                        .map_err(wrap)?
                }
                up::MastNode::Join(n) => builder
                    .add_join(id_of(n.first())?, id_of(n.second())?)
                    .map_err(wrap)?,
                up::MastNode::Split(n) => builder
                    .add_split(id_of(n.on_true())?, id_of(n.on_false())?)
                    .map_err(wrap)?,
                up::MastNode::Loop(n) => builder.add_loop(id_of(n.body())?).map_err(wrap)?,
                up::MastNode::Call(n) if n.is_syscall() => {
                    builder.add_syscall(id_of(n.callee())?).map_err(wrap)?
                }
                up::MastNode::Call(n) => builder.add_call(id_of(n.callee())?).map_err(wrap)?,
                up::MastNode::Dyn(n) if n.is_dyncall() => builder.add_dyncall().map_err(wrap)?,
                up::MastNode::Dyn(_) => builder.add_dyn().map_err(wrap)?,
                up::MastNode::External(n) => builder.add_external(n.digest()).map_err(wrap)?,
            };
            if !matches!(node, up::MastNode::Block(_)) {
                let before: Vec<_> = forest
                    .before_enter_decorators(node_id)
                    .iter()
                    .map(map_dec)
                    .collect();
                let after: Vec<_> = forest
                    .after_exit_decorators(node_id)
                    .iter()
                    .map(map_dec)
                    .collect();
                if !before.is_empty() || !after.is_empty() {
                    builder.decorate(id, &before, &after).map_err(wrap)?;
                }
            }
            node_map[idx] = Some(id);
        }
    }
    let node_map: Vec<MastNodeId> = node_map
        .into_iter()
        .enumerate()
        .map(|(i, id)| id.ok_or(ConvertError::Cycle { node: i }))
        .collect::<Result<_, _>>()?;

    for root in forest.procedure_roots() {
        builder.make_root(node_map[ix(*root)])?;
    }
    for (key, values) in forest.advice_map().iter() {
        builder.advice_map_mut().insert(*key, values.to_vec());
    }
    for node in nodes {
        if let up::MastNode::Block(block) = node {
            for op in block.raw_operations() {
                if let miden_core::Operation::Assert(code)
                | miden_core::Operation::U32assert2(code)
                | miden_core::Operation::MpVerify(code) = op
                    && let Some(msg) = forest.resolve_error_message(*code)
                {
                    builder.add_error_message(code.as_int(), msg.as_ref());
                }
            }
        }
    }
    Ok(ConvertedForest {
        forest: builder.build(),
        node_map,
    })
}

/// Converts an upstream program (its forest, entry point and kernel).
///
/// # Errors
/// Returns an error if the forest cannot be converted.
pub fn convert_program(program: &miden_core::Program) -> Result<Program, ConvertError> {
    let converted = convert_forest(program.mast_forest())?;
    let entrypoint = converted.node_map[ix(program.entrypoint())];
    let kernel = Kernel::new(program.kernel().proc_hashes())?;
    Ok(Program::new(
        Arc::new(converted.forest),
        entrypoint,
        kernel,
    )?)
}

/// Returns the arena index of an upstream id.
fn ix(id: impl Into<u32>) -> usize {
    id.into() as usize
}
