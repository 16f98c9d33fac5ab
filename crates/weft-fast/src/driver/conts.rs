//! The driver's continuation stack, each entry packed into two words.
//!
//! A node's start commonly pushes its child's [`Continuation::Start`] last, and the driver pops
//! it on the next step. Stored as the enum, the push wrote the tag byte and the node's two
//! halves separately and the pop read them back as wider words: the load spanned two stores,
//! which the CPU cannot forward, and waited for them to reach the cache. That stall took 42 % of
//! the node loop's samples in `execute_for_trace` of a `while` program (`fib_loop`, Intel
//! Xeon). Packed, an entry is written as two whole words and read back as the same two words.

use crate::tracer::{Continuation, NodeRef};

/// Kind tags of the first word (its low byte); the second byte holds `FinishLoop`'s `entered`.
const START: u64 = 0;
const FINISH_JOIN: u64 = 1;
const FINISH_SPLIT: u64 = 2;
const FINISH_LOOP: u64 = 3;
const FINISH_CALL: u64 = 4;
const FINISH_DYN: u64 = 5;

/// A stack of continuations, the next one to run last.
#[derive(Clone, Debug, Default)]
pub(super) struct ContStack {
    entries: Vec<[u64; 2]>,
}

impl ContStack {
    /// The stack holding `conts` (the next one to run last).
    pub(super) fn new(conts: &[Continuation]) -> Self {
        let mut entries = Vec::with_capacity(conts.len().max(64));
        entries.extend(conts.iter().map(|c| pack(*c)));
        Self { entries }
    }

    #[inline(always)]
    pub(super) fn push(&mut self, cont: Continuation) {
        self.entries.push(pack(cont));
    }

    #[inline(always)]
    pub(super) fn pop(&mut self) -> Option<Continuation> {
        self.entries.pop().map(unpack)
    }

    /// Writes the stack into `out` (emptied first), the next one to run last.
    pub(super) fn write_to(&self, out: &mut Vec<Continuation>) {
        out.clear();
        out.extend(self.entries.iter().map(|e| unpack(*e)));
    }
}

#[inline(always)]
fn pack(cont: Continuation) -> [u64; 2] {
    let (kind, node) = match cont {
        Continuation::Start(node) => (START, node),
        Continuation::FinishJoin(node) => (FINISH_JOIN, node),
        Continuation::FinishSplit(node) => (FINISH_SPLIT, node),
        Continuation::FinishLoop { node, entered } => {
            (FINISH_LOOP | (u64::from(entered) << 8), node)
        }
        Continuation::FinishCall(node) => (FINISH_CALL, node),
        Continuation::FinishDyn(node) => (FINISH_DYN, node),
    };
    [kind, (u64::from(node.forest) << 32) | u64::from(node.node)]
}

#[inline(always)]
fn unpack([kind, node]: [u64; 2]) -> Continuation {
    let node = NodeRef {
        forest: (node >> 32) as u32,
        node: node as u32,
    };
    // Only `pack` writes entries, so the tag is one of the six.
    match kind & 0xff {
        START => Continuation::Start(node),
        FINISH_JOIN => Continuation::FinishJoin(node),
        FINISH_SPLIT => Continuation::FinishSplit(node),
        FINISH_LOOP => Continuation::FinishLoop {
            node,
            entered: kind >> 8 != 0,
        },
        FINISH_CALL => Continuation::FinishCall(node),
        _ => Continuation::FinishDyn(node),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_continuation_survives_the_stack() {
        let node = NodeRef {
            forest: u32::MAX,
            node: 0x8000_0001,
        };
        let all = [
            Continuation::Start(node),
            Continuation::FinishJoin(node),
            Continuation::FinishSplit(node),
            Continuation::FinishLoop {
                node,
                entered: true,
            },
            Continuation::FinishLoop {
                node: NodeRef { forest: 0, node: 7 },
                entered: false,
            },
            Continuation::FinishCall(node),
            Continuation::FinishDyn(NodeRef { forest: 3, node: 0 }),
        ];
        let mut stack = ContStack::new(&all[..2]);
        for cont in &all[2..] {
            stack.push(*cont);
        }
        let mut seen = Vec::new();
        stack.write_to(&mut seen);
        assert_eq!(seen, all);
        for cont in all.iter().rev() {
            assert_eq!(stack.pop(), Some(*cont));
        }
        assert_eq!(stack.pop(), None);
    }
}
