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
//!      procedure count and each kernel digest (32 bytes; see [`super::program`]);
//! 8. operations: all opcodes in emission order, 7 bits each, least significant bits first;
//!    padding bits of the last byte are zero;
//! 9. immediates, in operation order: a `PUSH` value is a varint constant-pool index; an error
//!    code is a varint `k`: `k < n_messages` names the k-th error message's code, otherwise
//!    `k - n_messages` is a constant-pool index;
//! 10. the 8-byte [`checksum`](super::checksum) of everything before it.

use std::collections::HashMap;

use weft_core::{Felt, OpCode, StarkField, Word, operations::ImmKind};

use super::{
    checksum::checksum,
    cursor::{Cursor, felt_from_u64, le_u64, put_varint},
    error::{FormatError, WriteError},
    program::{RawEntry, RawProgram, entry_root_index},
    raw::{UntrustedMastForest, node_tag, raw_node, tag},
    writable::{check_writable, put_word},
};
use crate::limits;
use crate::{MastForest, MastNode, Program};

/// The magic bytes the format starts with.
pub const MAGIC: [u8; 8] = *b"WEFTCMPT";
/// The version this module writes and reads.
pub const VERSION: u8 = 1;
/// Flag bit of a file that holds a program (a program section follows the roots).
pub const FLAG_PROGRAM: u8 = 1;

const EXPLICIT_0: u8 = 1 << 4;
const EXPLICIT_1: u8 = 1 << 5;
const SHARED: u8 = 1 << 6;

/// Half the modulus, rounded down: the largest value whose zigzag form is even.
const HALF: u64 = (Felt::MODULUS - 1) / 2;

fn zigzag(v: u64) -> u64 {
    if v <= HALF {
        2 * v
    } else {
        2 * (Felt::MODULUS - v) - 1
    }
}

fn unzigzag(z: u64, offset: usize) -> Result<Felt, FormatError> {
    let v = if z.is_multiple_of(2) {
        z / 2
    } else {
        // n = (z + 1) / 2 without overflow; n >= 1.
        let n = z / 2 + 1;
        Felt::MODULUS.saturating_sub(n)
    };
    // Only the canonical form is accepted: each felt has exactly one zigzag value.
    if v < Felt::MODULUS && zigzag(v) == z {
        Ok(Felt::new(v))
    } else {
        Err(FormatError::NonCanonicalFelt { offset, value: z })
    }
}

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

// READING
// ================================================================================================

/// Reads a compact-format file into an untrusted forest.
///
/// # Errors
/// A [`FormatError`] at the offset of the first malformed item.
pub fn read(bytes: &[u8]) -> Result<UntrustedMastForest, FormatError> {
    if bytes.len() > limits::MAX_INPUT_LEN {
        return Err(FormatError::LimitExceeded {
            offset: 0,
            what: "input length",
            value: bytes.len() as u64,
            limit: limits::MAX_INPUT_LEN as u64,
        });
    }
    let mut cur = Cursor::new(bytes);
    if cur.take(8)? != MAGIC {
        return Err(FormatError::BadMagic { offset: 0 });
    }
    let version = cur.u8()?;
    if version != VERSION {
        return Err(FormatError::UnsupportedVersion {
            offset: 8,
            found: u32::from(version),
            expected: u32::from(VERSION),
        });
    }
    let flags = cur.u8()?;
    if flags & !FLAG_PROGRAM != 0 {
        return Err(FormatError::ReservedBits { offset: 9 });
    }
    if bytes.len() < 18 {
        return Err(FormatError::UnexpectedEof {
            offset: bytes.len(),
            needed: 18 - bytes.len(),
        });
    }
    let sum_at = bytes.len() - 8;
    let stored = le_u64(&bytes[sum_at..]);
    let computed = checksum(&bytes[..sum_at]);
    if stored != computed {
        return Err(FormatError::ChecksumMismatch {
            offset: sum_at,
            stored,
            computed,
        });
    }
    let mut cur = Cursor::new(&bytes[..sum_at]);
    cur.take(10)?;
    let n_nodes = cur.count_varint("node count", limits::MAX_NODES, 1)?;
    let n_roots = cur.count_varint("root count", limits::MAX_ROOTS, 33)?;
    let n_ops_at = cur.offset();
    let n_ops_u64 = cur.varint()?;
    // Seven bits per operation: eight operations fit in seven bytes, so the count itself is
    // checked against the absolute limit only and the packed byte length against the input.
    if n_ops_u64 > limits::MAX_TOTAL_OPS as u64 {
        return Err(FormatError::LimitExceeded {
            offset: n_ops_at,
            what: "operation count",
            value: n_ops_u64,
            limit: limits::MAX_TOTAL_OPS as u64,
        });
    }
    let n_ops = n_ops_u64 as usize;
    cur.check_count(
        n_ops_at,
        "packed operation bytes",
        (n_ops as u64 * 7).div_ceil(8),
        usize::MAX,
        1,
    )?;

    let n_errors = cur.count_varint("error message count", limits::MAX_ERROR_MESSAGES, 2)?;
    let mut errors = Vec::with_capacity(n_errors);
    let mut prev: Option<u64> = None;
    for _ in 0..n_errors {
        let at = cur.offset();
        let raw = cur.varint()?;
        let code = match prev {
            None => Some(raw),
            Some(p) => p.checked_add(raw).and_then(|c| c.checked_add(1)),
        }
        .ok_or(FormatError::UnorderedKey {
            offset: at,
            what: "error message",
        })?;
        prev = Some(code);
        let message = cur.string_varint(limits::MAX_ERROR_MESSAGE_LEN)?;
        errors.push((code, message, at as u32));
    }

    let n_advice = cur.count_varint("advice entry count", limits::MAX_ADVICE_ENTRIES, 33)?;
    let mut advice = Vec::with_capacity(n_advice);
    for _ in 0..n_advice {
        let at = cur.offset() as u32;
        let key = cur.word()?;
        let len = cur.count_varint("advice value count", limits::MAX_ADVICE_VALUES, 1)?;
        let mut values = Vec::with_capacity(len);
        for _ in 0..len {
            let at = cur.offset();
            values.push(felt_from_u64(cur.varint()?, at)?);
        }
        advice.push((key, values, at));
    }

    let n_consts = cur.count_varint("constant count", limits::MAX_CONSTANTS, 1)?;
    let mut pool = Vec::with_capacity(n_consts);
    for _ in 0..n_consts {
        let at = cur.offset();
        pool.push(unzigzag(cur.varint()?, at)?);
    }

    let mut nodes = Vec::with_capacity(n_nodes);
    let mut node_offsets = Vec::with_capacity(n_nodes);
    let mut block_first_op: Vec<u64> = Vec::new();
    let mut shared: Vec<u32> = Vec::new();
    let mut stack: Vec<u32> = Vec::new();
    let mut op_total: u64 = 0;
    for i in 0..n_nodes {
        let at = cur.offset();
        let head = cur.u8()?;
        let kind = head & 0x0f;
        if head & 0x80 != 0 {
            return Err(FormatError::ReservedBits { offset: at });
        }
        let n_children = match kind {
            tag::JOIN | tag::SPLIT => 2,
            tag::LOOP | tag::CALL | tag::SYSCALL => 1,
            _ => 0,
        };
        let explicit = [head & EXPLICIT_0 != 0, head & EXPLICIT_1 != 0];
        if explicit[n_children.min(2)..].iter().any(|&e| e) {
            return Err(FormatError::ReservedBits { offset: at });
        }
        let mut n_ops_here = 0u32;
        let mut digest = Word::default();
        match kind {
            tag::BLOCK => {
                let count_at = cur.offset();
                let count = cur.varint()?;
                if count > limits::MAX_BLOCK_OPS as u64 {
                    return Err(FormatError::LimitExceeded {
                        offset: count_at,
                        what: "block operation count",
                        value: count,
                        limit: limits::MAX_BLOCK_OPS as u64,
                    });
                }
                block_first_op.push(op_total);
                op_total += count;
                if op_total > n_ops as u64 {
                    return Err(FormatError::LengthMismatch {
                        offset: count_at,
                        what: "operations",
                        expected: n_ops,
                        found: usize::try_from(op_total).unwrap_or(usize::MAX),
                    });
                }
                n_ops_here = count as u32;
            }
            tag::EXTERNAL => digest = cur.word()?,
            _ => {}
        }
        let mut children = [0u32; 2];
        for (slot, child) in children.iter_mut().enumerate().take(n_children) {
            if explicit[slot] {
                let ref_at = cur.offset();
                let back = cur.varint()?;
                let idx = (shared.len() as u64)
                    .checked_sub(1)
                    .and_then(|last| last.checked_sub(back))
                    .ok_or(FormatError::IndexOutOfRange {
                        offset: ref_at,
                        what: "shared node back-reference",
                        index: back,
                        bound: shared.len(),
                    })?;
                *child = shared[idx as usize];
            }
        }
        for slot in (0..n_children).rev() {
            if !explicit[slot] {
                children[slot] = stack.pop().ok_or(FormatError::ImplicitChildren {
                    offset: at,
                    what: "no private node left for an implicit child",
                })?;
            }
        }
        let node = raw_node(kind, children[0], children[1], digest, n_ops_here).ok_or(
            FormatError::InvalidNodeKind {
                offset: at,
                kind: u32::from(kind),
            },
        )?;
        nodes.push(node);
        node_offsets.push(at as u32);
        if head & SHARED != 0 {
            shared.push(i as u32);
        } else {
            stack.push(i as u32);
        }
    }
    if !stack.is_empty() {
        return Err(FormatError::ImplicitChildren {
            offset: cur.offset(),
            what: "private nodes left without a parent",
        });
    }
    if op_total != n_ops as u64 {
        return Err(FormatError::LengthMismatch {
            offset: n_ops_at,
            what: "operations",
            expected: n_ops,
            found: usize::try_from(op_total).unwrap_or(usize::MAX),
        });
    }

    let mut roots = Vec::with_capacity(n_roots);
    for _ in 0..n_roots {
        let at = cur.offset();
        let idx = cur.varint()?;
        let node = shared
            .get(usize::try_from(idx).unwrap_or(usize::MAX))
            .ok_or(FormatError::IndexOutOfRange {
                offset: at,
                what: "root shared index",
                index: idx,
                bound: shared.len(),
            })?;
        roots.push((*node, at as u32));
    }
    let mut root_digests = Vec::with_capacity(n_roots);
    for _ in 0..n_roots {
        root_digests.push(cur.word()?);
    }
    let program = if flags & FLAG_PROGRAM != 0 {
        let entry_offset = cur.offset();
        let entry = cur.varint()?;
        let entry = u32::try_from(entry).map_err(|_| FormatError::IndexOutOfRange {
            offset: entry_offset,
            what: "entry root index",
            index: entry,
            bound: n_roots,
        })?;
        let n_kernel = cur.count_varint("kernel procedure count", limits::MAX_KERNEL_PROCS, 32)?;
        let mut kernel = Vec::with_capacity(n_kernel);
        for _ in 0..n_kernel {
            let at = cur.offset() as u32;
            kernel.push((cur.word()?, at));
        }
        Some(RawProgram {
            entry: RawEntry::Root(entry),
            entry_offset: entry_offset as u32,
            kernel,
        })
    } else {
        None
    };

    let ops_at = cur.offset();
    let packed_len = (n_ops * 7).div_ceil(8);
    let packed = cur.take(packed_len)?;
    let mut opcodes = Vec::with_capacity(n_ops);
    let mut acc: u32 = 0;
    let mut n_bits = 0;
    let mut bytes_iter = packed.iter();
    for _ in 0..n_ops {
        if n_bits < 7 {
            // `packed` holds exactly the bits of `n_ops` operations, so a byte is always left.
            let byte = bytes_iter.next().ok_or(FormatError::UnexpectedEof {
                offset: ops_at + packed_len,
                needed: 1,
            })?;
            acc |= u32::from(*byte) << n_bits;
            n_bits += 8;
        }
        opcodes.push((acc & 0x7f) as u8);
        acc >>= 7;
        n_bits -= 7;
    }
    if acc != 0 {
        return Err(FormatError::ReservedBits {
            offset: ops_at + packed_len.saturating_sub(1),
        });
    }
    let block_op_offsets = block_first_op
        .iter()
        .map(|&first| (ops_at as u64 + first * 7 / 8) as u32)
        .collect();

    let mut imms = Vec::new();
    for &byte in &opcodes {
        let Ok(code) = OpCode::try_from(byte) else {
            continue;
        };
        let at = cur.offset();
        let index_error = |k: u64, bound: usize| FormatError::IndexOutOfRange {
            offset: at,
            what: "immediate index",
            index: k,
            bound,
        };
        match code.imm_kind() {
            ImmKind::None => {}
            ImmKind::Value => {
                let k = cur.varint()?;
                let v = usize::try_from(k)
                    .ok()
                    .and_then(|k| pool.get(k))
                    .ok_or(index_error(k, pool.len()))?;
                imms.push(v.as_int());
            }
            ImmKind::ErrorCode => {
                let k = cur.varint()?;
                let v = match usize::try_from(k) {
                    Ok(k) if k < errors.len() => felt_from_u64(errors[k].0, at)?,
                    Ok(k) => *pool
                        .get(k - errors.len())
                        .ok_or(index_error(k as u64, errors.len() + pool.len()))?,
                    Err(_) => return Err(index_error(k, errors.len() + pool.len())),
                };
                imms.push(v.as_int());
            }
        }
    }
    if cur.remaining() != 0 {
        return Err(FormatError::LengthMismatch {
            offset: cur.offset(),
            what: "file",
            expected: cur.offset(),
            found: sum_at,
        });
    }
    Ok(UntrustedMastForest {
        nodes,
        node_offsets,
        digests: None,
        opcodes: opcodes.into(),
        block_op_offsets,
        imms: imms.into(),
        roots,
        root_digests: Some(root_digests),
        advice,
        errors,
        program,
    })
}
