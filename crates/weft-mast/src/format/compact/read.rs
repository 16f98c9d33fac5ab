//! Reading the compact format into an untrusted forest.

use weft_core::{OpCode, Word, operations::ImmKind};

use super::encoding::{EXPLICIT_0, EXPLICIT_1, FLAG_PROGRAM, MAGIC, SHARED, VERSION, unzigzag};
use crate::format::error::check_input_len;
use crate::{
    format::{
        checksum::checksum,
        cursor::{Cursor, felt_from_u64, le_u64},
        error::FormatError,
        program::{RawEntry, RawProgram},
        raw::{UntrustedMastForest, raw_node, tag},
    },
    limits,
};

// READING
// ================================================================================================

/// Reads a compact-format file into an untrusted forest.
///
/// # Errors
/// A [`FormatError`] at the offset of the first malformed item.
pub fn read(bytes: &[u8]) -> Result<UntrustedMastForest, FormatError> {
    check_input_len(bytes.len())?;
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
