//! The compact binary format: no digests but the roots', nodes in post-order with implicit
//! children, operations packed at 7 bits, immediates as varint indices into a constant pool.
//!
//! # Node order
//! A node is *shared* if it is a procedure root or has other than exactly one parent (a join of a
//! node with itself counts twice). Shared nodes are emitted in id order; each is preceded by its
//! private subtree in post-order (a private node's only parent is emitted right after its
//! subtree). The decoder keeps a stack of private nodes not yet consumed: a child marked implicit
//! is popped from it (the last child first), a child marked explicit is a back-reference into the
//! list of shared nodes emitted so far. Decoded node ids are the emission order.
//!
//! # Layout (varints are unsigned LEB128, minimal length)
//! 1. magic `b"WEFTCMPT"`, version byte `1`, flags byte: bit 0 = program, other bits zero;
//! 2. varints `n_nodes`, `n_roots`, `n_ops` (raw operations of all blocks);
//! 3. error messages: varint count, then per message a varint code (the first one as is, each
//!    next one as the gap minus one from the previous, so codes increase), varint length, UTF-8;
//! 4. advice map: varint count, then per entry a key (four `u64` LE canonical felts), a varint
//!    value count and each value as a varint;
//! 5. constant pool: varint count, then each constant as a varint of its zigzag form
//!    (`v <= (p-1)/2` is `2v`, larger `v` is `2(p-v)-1`, so small negative values are short);
//! 6. nodes: per node a header byte (bits 0–3 kind as in the fast format, bit 4/5 first/second
//!    child explicit, bit 6 shared, bit 7 zero), then for a block a varint operation count, for an
//!    external its digest (32 bytes), and for each explicit child a varint back-reference
//!    `n_shared_so_far - 1 - shared_index`;
//! 7. roots: varint shared index per root, then every root's digest (32 bytes each), which the
//!    reader checks against the recomputed digests;
//!    - program files only: a varint index into the roots of the entry point, a varint kernel
//!      procedure count and each kernel digest (32 bytes; see [`crate::format::program`]);
//! 8. operations: all opcodes in emission order, 7 bits each, least significant bits first;
//!    padding bits of the last byte are zero;
//! 9. immediates, in operation order: a `PUSH` value is a varint constant-pool index; an error
//!    code is a varint `k`: `k < n_messages` names the k-th error message's code, otherwise
//!    `k - n_messages` is a constant-pool index;
//! 10. the 8-byte [`checksum`](crate::format::checksum) of everything before it.

mod encoding;
mod read;

use std::collections::HashMap;

use encoding::{EXPLICIT_0, EXPLICIT_1, SHARED, zigzag};
pub use encoding::{FLAG_PROGRAM, MAGIC, VERSION};
pub use read::read;

use super::{
    checksum::checksum,
    cursor::put_varint,
    error::WriteError,
    program::entry_root_index,
    raw::node_tag,
    writable::{check_writable, put_word},
};
use crate::{MastForest, MastNode, Program, limits};

// WRITING
// ================================================================================================

/// Writes `forest` in the compact format.
///
/// # Errors
/// [`WriteError`] if the forest carries decorators or has duplicate nodes.
pub fn write(forest: &MastForest) -> Result<Vec<u8>, WriteError> {
    encode(forest, None)
}

/// Writes `program` in the compact format: its forest, entry point and kernel.
///
/// # Errors
/// As [`write()`].
pub fn write_program(program: &Program) -> Result<Vec<u8>, WriteError> {
    encode(program.forest(), Some(program))
}

fn encode(forest: &MastForest, program: Option<&Program>) -> Result<Vec<u8>, WriteError> {
    check_writable(forest)?;
    let nodes = forest.nodes();
    let n = nodes.len();
    let mut n_parents = vec![0u32; n];
    for node in nodes {
        for c in node.children() {
            n_parents[c.as_usize()] = n_parents[c.as_usize()].saturating_add(1);
        }
    }
    let mut shared = vec![false; n];
    for (i, &p) in n_parents.iter().enumerate() {
        shared[i] = p != 1;
    }
    for root in forest.procedure_roots() {
        shared[root.as_usize()] = true;
    }

    let error_index: HashMap<u64, usize> = forest
        .error_messages()
        .keys()
        .enumerate()
        .map(|(k, &code)| (code, k))
        .collect();

    // Emission order: shared nodes in id order, each after its private subtree in post-order.
    let mut order: Vec<usize> = Vec::with_capacity(n);
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for start in (0..n).filter(|&i| shared[i]) {
        stack.push((start, 0));
        while let Some(top) = stack.last_mut() {
            let (m, k) = *top;
            let children = nodes[m].children();
            if k < children.len() {
                top.1 += 1;
                let c = children[k].as_usize();
                if !shared[c] {
                    stack.push((c, 0));
                }
            } else {
                stack.pop();
                order.push(m);
            }
        }
    }

    // Constant pool: push values and error codes without a message, most frequent first.
    let mut freq: HashMap<u64, u64> = HashMap::new();
    for &m in &order {
        if let MastNode::Block(block) = &nodes[m] {
            for op in block.raw_ops()? {
                if let Some(v) = op.imm_value() {
                    *freq.entry(v.as_int()).or_default() += 1;
                } else if let Some(code) = op.error_code()
                    && !error_index.contains_key(&code.as_int())
                {
                    *freq.entry(code.as_int()).or_default() += 1;
                }
            }
        }
    }
    let mut pool: Vec<(u64, u64)> = freq.into_iter().collect();
    pool.sort_unstable_by_key(|&(v, f)| (std::cmp::Reverse(f), v));
    let pool_index: HashMap<u64, usize> =
        pool.iter().enumerate().map(|(k, &(v, _))| (v, k)).collect();

    let mut records = Vec::new();
    let mut opcodes: Vec<u8> = Vec::new();
    let mut imms = Vec::new();
    let mut shared_index = vec![usize::MAX; n];
    let mut n_shared = 0usize;
    for &m in &order {
        let node = &nodes[m];
        let mut head = node_tag(node);
        let children = node.children();
        for (slot, c) in children.iter().enumerate() {
            if shared[c.as_usize()] {
                head |= if slot == 0 { EXPLICIT_0 } else { EXPLICIT_1 };
            }
        }
        if shared[m] {
            head |= SHARED;
        }
        records.push(head);
        match node {
            MastNode::Block(block) => {
                let before = opcodes.len();
                for op in block.raw_ops()? {
                    opcodes.push(op.op_code_u8());
                    if let Some(v) = op.imm_value() {
                        put_varint(&mut imms, pool_index[&v.as_int()] as u64);
                    } else if let Some(code) = op.error_code() {
                        let k = match error_index.get(&code.as_int()) {
                            Some(&k) => k,
                            None => error_index.len() + pool_index[&code.as_int()],
                        };
                        put_varint(&mut imms, k as u64);
                    }
                }
                put_varint(&mut records, (opcodes.len() - before) as u64);
            }
            MastNode::External(_) => put_word(&mut records, &node.digest()),
            _ => {}
        }
        for c in children {
            let c = c.as_usize();
            if shared[c] {
                put_varint(&mut records, (n_shared - 1 - shared_index[c]) as u64);
            }
        }
        if shared[m] {
            shared_index[m] = n_shared;
            n_shared += 1;
        }
    }

    let mut out = Vec::new();
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&[VERSION, if program.is_some() { FLAG_PROGRAM } else { 0 }]);
    put_varint(&mut out, n as u64);
    put_varint(&mut out, forest.procedure_roots().len() as u64);
    put_varint(&mut out, opcodes.len() as u64);
    put_varint(&mut out, forest.error_messages().len() as u64);
    let mut prev: Option<u64> = None;
    for (&code, message) in forest.error_messages() {
        put_varint(&mut out, prev.map_or(code, |p| code - p - 1));
        prev = Some(code);
        put_varint(&mut out, message.len() as u64);
        out.extend_from_slice(message.as_bytes());
    }
    put_varint(&mut out, forest.advice_map().len() as u64);
    for (key, values) in forest.advice_map().iter() {
        put_word(&mut out, key);
        put_varint(&mut out, values.len() as u64);
        for v in values.iter() {
            put_varint(&mut out, v.as_int());
        }
    }
    put_varint(&mut out, pool.len() as u64);
    for &(v, _) in &pool {
        put_varint(&mut out, zigzag(v));
    }
    out.extend_from_slice(&records);
    for root in forest.procedure_roots() {
        put_varint(&mut out, shared_index[root.as_usize()] as u64);
    }
    for root in forest.procedure_roots() {
        put_word(&mut out, &forest[*root].digest());
    }
    if let Some(program) = program {
        put_varint(&mut out, u64::from(entry_root_index(program)?));
        let kernel = program.kernel().proc_hashes();
        put_varint(&mut out, kernel.len() as u64);
        for digest in kernel {
            put_word(&mut out, digest);
        }
    }
    let mut acc: u32 = 0;
    let mut n_bits = 0;
    for &code in &opcodes {
        acc |= u32::from(code) << n_bits;
        n_bits += 7;
        while n_bits >= 8 {
            out.push(acc as u8);
            acc >>= 8;
            n_bits -= 8;
        }
    }
    if n_bits > 0 {
        out.push(acc as u8);
    }
    out.extend_from_slice(&imms);
    if out.len() > limits::MAX_INPUT_LEN - 8 {
        return Err(WriteError::TooLarge {
            what: "file length",
        });
    }
    let sum = checksum(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    Ok(out)
}
