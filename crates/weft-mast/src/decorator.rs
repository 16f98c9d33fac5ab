//! Decorators: debugging and tracing metadata attached to nodes, kept in side tables of the
//! forest rather than inside nodes. Decorators cost no cycles and never change a digest.

use std::sync::Arc;

/// What a `Debug` decorator asks the host to print.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DebugOptions {
    /// The whole stack of the current context.
    StackAll,
    /// The top `n` stack elements.
    StackTop(u8),
    /// All of memory.
    MemAll,
    /// Memory between two addresses, both inclusive.
    MemInterval(u32, u32),
    /// Procedure locals between two indices, both inclusive, with the number of locals.
    LocalInterval(u16, u16, u16),
    /// The top `n` elements of the advice stack.
    AdvStackTop(u16),
}

/// A source location: a file (by URI) and a byte span.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SourceLocation {
    /// The source file's URI.
    pub uri: Arc<str>,
    /// First byte of the span.
    pub start: u32,
    /// One past the last byte of the span.
    pub end: u32,
}

/// The assembly instruction that produced the operations that follow it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AssemblyOp {
    /// Where the instruction was written, if known.
    pub location: Option<SourceLocation>,
    /// The procedure the instruction belongs to.
    pub context_name: Arc<str>,
    /// The instruction's text.
    pub op: Arc<str>,
    /// How many cycles the instruction takes.
    pub num_cycles: u8,
    /// Whether a debugger should stop before it.
    pub should_break: bool,
}

/// A decorator.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Decorator {
    /// Assembly-instruction metadata.
    AsmOp(AssemblyOp),
    /// A debug print request (debug mode only).
    Debug(DebugOptions),
    /// A trace event sent to the host with its id.
    Trace(u32),
}

/// The decorators attached to one node.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct NodeDecorators {
    /// Decorators run before the node is entered.
    pub before_enter: Vec<crate::DecoratorId>,
    /// Decorators run after the node is exited.
    pub after_exit: Vec<crate::DecoratorId>,
    /// For a basic block: `(executed op index, decorator)` pairs, sorted by index; they run
    /// before the operation at that index (an index equal to the op count runs after the last
    /// operation). Indices count padding `NOOP`s.
    pub ops: Vec<(usize, crate::DecoratorId)>,
}

impl NodeDecorators {
    /// Returns true if no decorator is attached.
    pub fn is_empty(&self) -> bool {
        self.before_enter.is_empty() && self.after_exit.is_empty() && self.ops.is_empty()
    }
}
