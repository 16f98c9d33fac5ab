//! The fast binary format: fixed-width little-endian records in sections with stated lengths,
//! every digest stored, so that loading is one forward pass without per-node parsing decisions.
//!
//! # Layout (all integers little-endian)
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic `b"WEFTFAST"` |
//! | 8 | 4 | version, `1` |
//! | 12 | 4 | flags: bit 0 = sealed, bit 1 = program; other bits must be zero |
//! | 16 | 4 | `n_nodes` |
//! | 20 | 4 | `n_roots` |
//! | 24 | 4 | `n_ops`: raw operations of all blocks |
//! | 28 | 4 | `n_imms`: immediates of all operations |
//! | 32 | 4 | `advice_len`: bytes of the advice section |
//! | 36 | 4 | `errors_len`: bytes of the error-message section |
//! | 40 | 8 + 32 × `n_kernel` | program files only: the entry point as an index into the roots `u32`, `n_kernel: u32`, the kernel's procedure digests |
//! | | 12 × `n_nodes` | node records: tag `u8`, three zero bytes, `a: u32`, `b: u32` |
//! | | 32 × `n_nodes` | node digests (four canonical felts each) |
//! | | 4 × `n_roots` | root node indices |
//! | | `n_ops` | opcode bytes of all blocks, in node order, without padding `NOOP`s |
//! | | 8 × `n_imms` | immediates (canonical felts), in operation order |
//! | | `advice_len` | `u32` entry count, then per entry: key (32), `u32` count, felts |
//! | | `errors_len` | `u32` count, then per message: code `u64`, `u32` length, UTF-8 |
//! | | 8 | [`checksum`](super::checksum) of everything before it |
//! | | 32 | sealed files only: keyed BLAKE3 of everything before it |
//!
//! Node record fields by tag: block (0) `a` = operation count, `b` = 0; join (1) and split (2)
//! `a`, `b` = children; loop (3), call (4), syscall (5) `a` = child, `b` = 0; dyn (6),
//! dyncall (7) and external (8) `a` = `b` = 0 (an external's digest is its stored digest).
//! Children must precede their parent; the file must end exactly after the last field. A file
//! without the program flag holds a forest (files written before programs existed read as
//! they did); see [`super::program`] for what a program section must satisfy.
//!
//! # Speed
//! Loading means bytes to a [`MastForest`] ready to execute. [`read_sealed`] checks the MAC,
//! parses the sections, checks every record, child, root and map key, and checks each block's
//! opcode bytes and immediates (not empty, no byte that is not a non-control opcode, enough
//! immediates): everything that could make batching fail. It does not batch: a block is
//! batched the first time it is used ([`crate::BasicBlockNode::batches`]), from opcode and
//! immediate arrays the blocks share. [`read`] + [`UntrustedMastForest::validate`] batches and
//! hashes every block, in parallel runs.
//!
//! Measured with `cargo bench -p weft-benches --bench formats` on the upstream core library
//! (converted, decorators stripped; 694 nodes, 414 blocks, 93,789 operations) on a 2-vCPU
//! Intel Xeon (Sapphire Rapids, 2.3 GHz) virtual machine shared with other tenants, so
//! ±10–15 % from run to run; MB/s are file bytes per second (10^6):
//!
//! | format | bytes | % of upstream 250,412 | load | time | MB/s |
//! |---|---:|---:|---|---:|---:|
//! | upstream 0.20.6 `read_from_bytes` | 250,412 | 100.0 | digests of blocks recomputed | 29.9 ms | 8.4 |
//! | fast, [`read`] + [`UntrustedMastForest::validate`] | 252,896 | 101.0 | every digest recomputed | 20.5 ms | 12.3 |
//! | fast, [`read`] only (no forest) | 252,896 | 101.0 | checksum, records, felts, bounds | 55 µs | 4,570 |
//! | fast, [`read_sealed`] | 252,928 | 101.0 | MAC, structure, blocks checked; digests trusted | 178 µs | 1,420 |
//! | fast, [`read_sealed`], then every block used once | 252,928 | 101.0 | as above, plus batching every block | 873 µs | 290 |
//!
//! `cargo run --release -p weft-mast --example load_speed -- FILE` times the same loads
//! without the upstream build (`cargo run --release -p weft-miden --example core_lib_fast --
//! FILE` writes the file); on quiet runs it gives 143–150 µs (1.7 GB/s) for [`read_sealed`]
//! and 660–720 µs with every block used once.
//!
//! Where [`read_sealed`]'s time goes (perf): the BLAKE3 MAC about a fifth, checking the
//! blocks' bytes and making the nodes about a third, parsing the sections (digests, records,
//! immediates) most of the rest, dropping the forest a few percent. History: batching every
//! block while loading, straight from the opcode bytes into one operation array for the whole
//! forest, loaded at 735 MB/s on an earlier AMD EPYC machine and about 500 MB/s on this one
//! (the 94 k 16-byte operations written are half of that time; a format that stored each
//! batch's layout was tried and was slower). Batching the two halves of the forest on two
//! threads did not help a load this short here: waking the second thread in this virtual
//! machine costs about as much as it saves. So batching moved to first use. A block batched
//! on first use costs about 1.2 µs more than it would inside one forest-wide pass (its own
//! allocations), so a program that used every block of the library would pay about 30 % more
//! in all than before; a program that uses a few procedures of a large library pays for
//! those only. The `DYN`/`DYNCALL` digests, which were hashed again on every lookup (12 % of
//! the load), are now hashed once per process, and immediates stay plain values until their
//! block is batched (their conversion to Montgomery form was 10 %).

use super::{
    checksum::checksum,
    cursor::{Cursor, felt_from_u64, le_u64},
    error::{FormatError, WriteError, shift_offset},
    program::{MastFile, RawEntry, RawProgram, entry_root_index},
    raw::{RawNode, UntrustedMastForest, node_tag, raw_node},
    writable::{check_writable, put_word},
};
use crate::format::error::check_input_len;
use crate::limits;
use std::sync::Arc;

use crate::{MastForest, MastNode, Program};
use weft_core::{Felt, StarkField, Word};

/// The magic bytes the format starts with.
pub const MAGIC: [u8; 8] = *b"WEFTFAST";
/// The version this module writes and reads.
pub const VERSION: u32 = 1;
/// The header size in bytes.
pub const HEADER_LEN: usize = 40;
/// Size of one node record.
pub const RECORD_LEN: usize = 12;
/// Flag bit of a sealed file.
pub const FLAG_SEALED: u32 = 1;
/// Flag bit of a file that holds a program (a program section follows the header).
pub const FLAG_PROGRAM: u32 = 2;
/// Size of the seal (a keyed BLAKE3 hash).
pub const SEAL_LEN: usize = 32;

/// Writes `forest` in the fast format.
///
/// # Errors
/// [`WriteError`] if the forest carries decorators, has duplicate nodes or is too large.
pub fn write(forest: &MastForest) -> Result<Vec<u8>, WriteError> {
    encode(forest, 0, None)
}

/// Writes `program` in the fast format: its forest, entry point and kernel.
///
/// # Errors
/// As [`write()`].
pub fn write_program(program: &Program) -> Result<Vec<u8>, WriteError> {
    encode(program.forest(), FLAG_PROGRAM, Some(program))
}

/// Writes `forest` in the fast format, sealed with a keyed BLAKE3 MAC under `key`, so that
/// [`read_sealed`] with the same key can trust the stored digests.
///
/// # Errors
/// As [`write()`].
pub fn write_sealed(forest: &MastForest, key: &[u8; 32]) -> Result<Vec<u8>, WriteError> {
    let mut out = encode(forest, FLAG_SEALED, None)?;
    let mac = blake3::keyed_hash(key, &out);
    out.extend_from_slice(mac.as_bytes());
    Ok(out)
}

fn encode(
    forest: &MastForest,
    flags: u32,
    program: Option<&Program>,
) -> Result<Vec<u8>, WriteError> {
    check_writable(forest)?;
    let mut program_section = Vec::new();
    if let Some(program) = program {
        program_section.extend_from_slice(&entry_root_index(program)?.to_le_bytes());
        let kernel = program.kernel().proc_hashes();
        program_section.extend_from_slice(&u32_of(kernel.len(), "kernel")?.to_le_bytes());
        for digest in kernel {
            put_word(&mut program_section, digest);
        }
    }
    let too_large = |what| WriteError::TooLarge { what };
    let mut ops: Vec<u8> = Vec::new();
    let mut imms: Vec<u8> = Vec::new();
    let mut records: Vec<u8> = Vec::with_capacity(forest.num_nodes() * RECORD_LEN);
    let mut digests: Vec<u8> = Vec::with_capacity(forest.num_nodes() * 32);
    for node in forest.nodes() {
        let (a, b) = match node {
            MastNode::Block(block) => {
                let before = ops.len();
                for op in block.raw_ops()? {
                    ops.push(op.op_code_u8());
                    if let Some(imm) = op.immediate() {
                        imms.extend_from_slice(&imm.as_int().to_le_bytes());
                    }
                }
                let n = u32::try_from(ops.len() - before).map_err(|_| too_large("block"))?;
                (n, 0)
            }
            MastNode::Join(_) | MastNode::Split(_) => {
                let c = node.children();
                (c[0].as_u32(), c[1].as_u32())
            }
            MastNode::Loop(_) | MastNode::Call(_) => (node.children()[0].as_u32(), 0),
            MastNode::Dyn(_) | MastNode::External(_) => (0, 0),
        };
        records.extend_from_slice(&[node_tag(node), 0, 0, 0]);
        records.extend_from_slice(&a.to_le_bytes());
        records.extend_from_slice(&b.to_le_bytes());
        put_word(&mut digests, &node.digest());
    }
    let mut advice = Vec::new();
    advice.extend_from_slice(&u32_of(forest.advice_map().len(), "advice map")?.to_le_bytes());
    for (key, values) in forest.advice_map().iter() {
        put_word(&mut advice, key);
        advice.extend_from_slice(&u32_of(values.len(), "advice values")?.to_le_bytes());
        for v in values.iter() {
            advice.extend_from_slice(&v.as_int().to_le_bytes());
        }
    }
    let mut errors = Vec::new();
    errors.extend_from_slice(&u32_of(forest.error_messages().len(), "errors")?.to_le_bytes());
    for (code, message) in forest.error_messages() {
        errors.extend_from_slice(&code.to_le_bytes());
        errors.extend_from_slice(&u32_of(message.len(), "error message")?.to_le_bytes());
        errors.extend_from_slice(message.as_bytes());
    }

    let mut out = Vec::with_capacity(
        HEADER_LEN
            + program_section.len()
            + records.len()
            + digests.len()
            + ops.len()
            + imms.len()
            + advice.len()
            + errors.len()
            + 4 * forest.procedure_roots().len()
            + 8
            + SEAL_LEN,
    );
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&flags.to_le_bytes());
    for n in [
        forest.num_nodes(),
        forest.procedure_roots().len(),
        ops.len(),
        imms.len() / 8,
        advice.len(),
        errors.len(),
    ] {
        out.extend_from_slice(&u32_of(n, "section")?.to_le_bytes());
    }
    out.extend_from_slice(&program_section);
    out.extend_from_slice(&records);
    out.extend_from_slice(&digests);
    for root in forest.procedure_roots() {
        out.extend_from_slice(&root.as_u32().to_le_bytes());
    }
    out.extend_from_slice(&ops);
    out.extend_from_slice(&imms);
    out.extend_from_slice(&advice);
    out.extend_from_slice(&errors);
    if out.len() > limits::MAX_INPUT_LEN - 8 - SEAL_LEN {
        return Err(too_large("file length"));
    }
    let sum = checksum(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    Ok(out)
}

fn u32_of(n: usize, what: &'static str) -> Result<u32, WriteError> {
    u32::try_from(n).map_err(|_| WriteError::TooLarge { what })
}

/// Reads an unsealed or sealed fast-format file into an untrusted forest (the seal, if any, is
/// not checked: [`UntrustedMastForest::validate`] verifies every digest anyway).
///
/// # Errors
/// A [`FormatError`] at the offset of the first malformed item.
pub fn read(bytes: &[u8]) -> Result<UntrustedMastForest, FormatError> {
    parse(bytes, true).map(|(forest, _)| forest)
}

/// Reads a sealed file and, if its MAC matches under `key`, validates its structure while
/// trusting its stored digests (the MAC proves a holder of the key wrote it from a forest).
///
/// # Errors
/// [`FormatError::SealMismatch`] if the file is not sealed or not with this key; any structural
/// error as [`read`] and [`UntrustedMastForest::validate`] report it.
pub fn read_sealed(bytes: &[u8], key: &[u8; 32]) -> Result<MastForest, FormatError> {
    read_sealed_file(bytes, key).map(MastFile::into_forest)
}

/// As [`read_sealed`], for a file that may hold a program: returns what the file holds, its
/// program section validated (see [`super::program`]).
///
/// # Errors
/// As [`read_sealed`].
pub fn read_sealed_file(bytes: &[u8], key: &[u8; 32]) -> Result<MastFile, FormatError> {
    let flags = bytes
        .get(12..16)
        .map_or(0, |f| u32::from_le_bytes([f[0], f[1], f[2], f[3]]));
    if flags & FLAG_SEALED != 0
        && bytes.len() >= HEADER_LEN + 8 + SEAL_LEN
        && bytes.len() <= limits::MAX_INPUT_LEN
    {
        let at = bytes.len() - SEAL_LEN;
        let mac = blake3::keyed_hash(key, &bytes[..at]);
        // Constant-time comparison (blake3's `Hash` equality).
        if blake3::Hash::from_slice(&bytes[at..]).ok() == Some(mac) {
            // The MAC covers the checksum too, so the checksum pass is skipped.
            let (forest, _) = parse(bytes, false)?;
            return forest.validate_trusting_digests();
        }
    }
    // Not sealed, or not with this key, or damaged: report what an unsealed read reports
    // (a damaged file fails its checksum), else the seal.
    let (_, sealed_at) = parse(bytes, true)?;
    Err(FormatError::SealMismatch {
        offset: sealed_at.unwrap_or(12),
    })
}

/// Parses the file; returns the forest and, for a sealed file, the offset of its MAC. The
/// checksum is verified unless `verify_checksum` is false (a verified MAC covers it).
fn parse(
    bytes: &[u8],
    verify_checksum: bool,
) -> Result<(UntrustedMastForest, Option<usize>), FormatError> {
    check_input_len(bytes.len())?;
    let mut cur = Cursor::new(bytes);
    if cur.take(8)? != MAGIC {
        return Err(FormatError::BadMagic { offset: 0 });
    }
    let version = cur.u32()?;
    if version != VERSION {
        return Err(FormatError::UnsupportedVersion {
            offset: 8,
            found: version,
            expected: VERSION,
        });
    }
    let flags = cur.u32()?;
    if flags & !(FLAG_SEALED | FLAG_PROGRAM) != 0 {
        return Err(FormatError::ReservedBits { offset: 12 });
    }
    let sealed = flags & FLAG_SEALED != 0;
    // The checksum is verified before any section is interpreted.
    let trailer = 8 + if sealed { SEAL_LEN } else { 0 };
    if bytes.len() < HEADER_LEN + trailer {
        return Err(FormatError::UnexpectedEof {
            offset: bytes.len(),
            needed: HEADER_LEN + trailer - bytes.len(),
        });
    }
    let sum_at = bytes.len() - trailer;
    let stored = le_u64(&bytes[sum_at..]);
    let computed = if verify_checksum {
        checksum(&bytes[..sum_at])
    } else {
        stored
    };
    if stored != computed {
        return Err(FormatError::ChecksumMismatch {
            offset: sum_at,
            stored,
            computed,
        });
    }
    let body = &bytes[..sum_at];
    let mut cur = Cursor::new(body);
    cur.take(16)?;
    let n_nodes = cur.count_u32("node count", limits::MAX_NODES, RECORD_LEN + 32)?;
    let n_roots = cur.count_u32("root count", limits::MAX_ROOTS, 4)?;
    let n_ops = cur.count_u32("operation count", limits::MAX_TOTAL_OPS, 1)?;
    let n_imms = cur.count_u32("immediate count", limits::MAX_TOTAL_OPS, 8)?;
    let advice_len = cur.count_u32("advice section length", limits::MAX_INPUT_LEN, 1)?;
    let errors_len = cur.count_u32("error section length", limits::MAX_INPUT_LEN, 1)?;
    let program = if flags & FLAG_PROGRAM != 0 {
        let entry_offset = cur.offset() as u32;
        let entry = RawEntry::Root(cur.u32()?);
        let n_kernel = cur.count_u32("kernel procedure count", limits::MAX_KERNEL_PROCS, 32)?;
        let mut kernel = Vec::with_capacity(n_kernel);
        for _ in 0..n_kernel {
            let at = cur.offset() as u32;
            kernel.push((cur.word()?, at));
        }
        Some(RawProgram {
            entry,
            entry_offset,
            kernel,
        })
    } else {
        None
    };
    let program_len = program
        .as_ref()
        .map_or(0, |p| 8 + 32 * p.kernel.len() as u64);
    let expected = HEADER_LEN as u64
        + program_len
        + (RECORD_LEN as u64 + 32) * n_nodes as u64
        + 4 * n_roots as u64
        + n_ops as u64
        + 8 * n_imms as u64
        + advice_len as u64
        + errors_len as u64;
    if expected != body.len() as u64 {
        return Err(FormatError::LengthMismatch {
            offset: 16,
            what: "file",
            expected: usize::try_from(expected).unwrap_or(usize::MAX),
            found: body.len(),
        });
    }

    let records_at = cur.offset();
    let records = cur.take(RECORD_LEN * n_nodes)?;
    let digests_at = cur.offset();
    let digest_bytes = cur.take(32 * n_nodes)?;
    let roots_bytes = cur.take(4 * n_roots)?;
    let roots_at = digests_at + digest_bytes.len();
    let ops_at = cur.offset();
    let opcodes = cur.take(n_ops)?;
    let imms_at = cur.offset();
    let imm_bytes = cur.take(8 * n_imms)?;
    let advice_at = cur.offset();
    let advice_bytes = cur.take(advice_len)?;
    let errors_at = cur.offset();
    let error_bytes = cur.take(errors_len)?;

    let mut digests = Vec::with_capacity(n_nodes);
    for (i, d) in digest_bytes.chunks_exact(32).enumerate() {
        let at = digests_at + 32 * i;
        let felt = |k: usize| felt_from_u64(le_u64(&d[8 * k..]), at + 8 * k);
        digests.push(Word::new([felt(0)?, felt(1)?, felt(2)?, felt(3)?]));
    }

    let mut nodes = Vec::with_capacity(n_nodes);
    let mut node_offsets = Vec::with_capacity(n_nodes);
    let mut block_op_offsets = Vec::new();
    let mut op_total: u64 = 0;
    for (i, rec) in records.chunks_exact(RECORD_LEN).enumerate() {
        let at = records_at + RECORD_LEN * i;
        let head = u32::from_le_bytes([rec[0], rec[1], rec[2], rec[3]]);
        let a = u32::from_le_bytes([rec[4], rec[5], rec[6], rec[7]]);
        let b = u32::from_le_bytes([rec[8], rec[9], rec[10], rec[11]]);
        if head > 0xff {
            return Err(FormatError::ReservedBits { offset: at + 1 });
        }
        let tag = rec[0];
        let node = raw_node(tag, a, b, digests[i], a).ok_or(FormatError::InvalidNodeKind {
            offset: at,
            kind: u32::from(tag),
        })?;
        let used = match node {
            RawNode::Block { .. } => {
                if a as usize > limits::MAX_BLOCK_OPS {
                    return Err(FormatError::LimitExceeded {
                        offset: at + 4,
                        what: "block operation count",
                        value: u64::from(a),
                        limit: limits::MAX_BLOCK_OPS as u64,
                    });
                }
                block_op_offsets.push((ops_at as u64 + op_total) as u32);
                op_total += u64::from(a);
                (true, false)
            }
            RawNode::Join(..) | RawNode::Split(..) => (true, true),
            RawNode::Loop(_) | RawNode::Call(_) | RawNode::Syscall(_) => (true, false),
            RawNode::Dyn | RawNode::Dyncall | RawNode::External(_) => (false, false),
        };
        if (!used.0 && a != 0) || (!used.1 && b != 0) {
            return Err(FormatError::ReservedBits { offset: at + 4 });
        }
        nodes.push(node);
        node_offsets.push(at as u32);
    }
    if op_total != n_ops as u64 {
        return Err(FormatError::LengthMismatch {
            offset: ops_at,
            what: "operations",
            expected: usize::try_from(op_total).unwrap_or(usize::MAX),
            found: n_ops,
        });
    }

    let roots = roots_bytes
        .chunks_exact(4)
        .enumerate()
        .map(|(k, r)| {
            (
                u32::from_le_bytes([r[0], r[1], r[2], r[3]]),
                (roots_at + 4 * k) as u32,
            )
        })
        .collect();
    // Kept as values (they become field elements when their block is batched); checked to be
    // canonical here.
    let imms: Arc<[u64]> = imm_bytes.chunks_exact(8).map(le_u64).collect();
    if let Some(k) = imms.iter().position(|&v| v >= Felt::MODULUS) {
        felt_from_u64(imms[k], imms_at + 8 * k)?;
    }
    let advice = read_advice(advice_bytes, advice_at)?;
    let errors = read_errors(error_bytes, errors_at)?;

    let forest = UntrustedMastForest {
        nodes,
        node_offsets,
        digests: Some(digests),
        opcodes: Arc::from(opcodes),
        block_op_offsets,
        imms,
        roots,
        root_digests: None,
        advice,
        errors,
        program,
    };
    Ok((forest, sealed.then_some(sum_at + 8)))
}

fn read_advice(bytes: &[u8], base: usize) -> Result<Vec<(Word, Vec<Felt>, u32)>, FormatError> {
    let mut cur = Cursor::new(bytes);
    let shift = |e: FormatError| shift_offset(e, base);
    let n = cur
        .count_u32("advice entry count", limits::MAX_ADVICE_ENTRIES, 36)
        .map_err(shift)?;
    let mut entries = Vec::with_capacity(n);
    for _ in 0..n {
        let at = (base + cur.offset()) as u32;
        let key = cur.word().map_err(shift)?;
        let len = cur
            .count_u32("advice value count", limits::MAX_ADVICE_VALUES, 8)
            .map_err(shift)?;
        let mut values = Vec::with_capacity(len);
        for _ in 0..len {
            values.push(cur.felt().map_err(shift)?);
        }
        entries.push((key, values, at));
    }
    if cur.remaining() != 0 {
        return Err(FormatError::LengthMismatch {
            offset: base,
            what: "advice section",
            expected: cur.offset(),
            found: bytes.len(),
        });
    }
    Ok(entries)
}

fn read_errors(bytes: &[u8], base: usize) -> Result<Vec<(u64, String, u32)>, FormatError> {
    let mut cur = Cursor::new(bytes);
    let shift = |e: FormatError| shift_offset(e, base);
    let n = cur
        .count_u32("error message count", limits::MAX_ERROR_MESSAGES, 12)
        .map_err(shift)?;
    let mut errors = Vec::with_capacity(n);
    for _ in 0..n {
        let at = (base + cur.offset()) as u32;
        let code = cur.u64().map_err(shift)?;
        let len = cur
            .count_u32("error message length", limits::MAX_ERROR_MESSAGE_LEN, 1)
            .map_err(shift)?;
        let text_at = base + cur.offset();
        let text = cur.take(len).map_err(shift)?;
        let text =
            std::str::from_utf8(text).map_err(|_| FormatError::InvalidUtf8 { offset: text_at })?;
        errors.push((code, text.to_owned(), at));
    }
    if cur.remaining() != 0 {
        return Err(FormatError::LengthMismatch {
            offset: base,
            what: "error section",
            expected: cur.offset(),
            found: bytes.len(),
        });
    }
    Ok(errors)
}
