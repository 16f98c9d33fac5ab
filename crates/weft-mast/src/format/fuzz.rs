//! Fuzz bodies, shared by the cargo-fuzz targets in `fuzz/` and by the seeded-random tests that
//! `cargo test` runs, plus a generator of random valid forests driven by arbitrary bytes.
//!
//! Each body takes arbitrary bytes, must never panic on them, and checks the round-trip property
//! on every input it accepts: a validated forest or program, written again and read back, is
//! the same. A panic in a body is a bug found.

use weft_core::{Felt, OpCode, Operation, Word, operations::ImmKind};

use std::sync::Arc;

use super::{checksum::checksum, compact, error::FormatError, fast, program::MastFile, text};
use crate::{Kernel, MastForest, MastForestBuilder, MastNode, MastNodeId, Program};

/// Reads `data` as a fast-format file, as it is and with its checksum fixed (so that a
/// fuzzer's mutations reach the structural checks behind it); on success checks write → read
/// gives the same forest.
pub fn fuzz_fast(data: &[u8]) {
    as_is_and_checksum_fixed(data, fuzz_fast_once);
}

/// Runs `body` on `data`, then on `data` with its last 8 bytes made its checksum (if that
/// changes it).
fn as_is_and_checksum_fixed(data: &[u8], body: fn(&[u8])) {
    body(data);
    let mut fixed = data.to_vec();
    fix_checksum(&mut fixed);
    if fixed != data {
        body(&fixed);
    }
}

fn fuzz_fast_once(data: &[u8]) {
    if let Ok(file) = fast::read(data).and_then(|u| u.validate_file()) {
        let bytes = write_fast(&file);
        let again = fast::read(&bytes)
            .and_then(|u| u.validate_file())
            .expect("a written file reads back");
        assert_eq!(again, file, "fast round trip changed the file");
        assert_eq!(bytes.as_slice(), data, "fast encoding is canonical");
    }
}

/// Writes `file` in the fast format (a forest or a program).
pub fn write_fast(file: &MastFile) -> Vec<u8> {
    match file {
        MastFile::Forest(forest) => fast::write(forest),
        MastFile::Program(program) => fast::write_program(program),
    }
    .expect("a validated file is writable")
}

/// Writes `file` in the compact format (a forest or a program).
pub fn write_compact(file: &MastFile) -> Vec<u8> {
    match file {
        MastFile::Forest(forest) => compact::write(forest),
        MastFile::Program(program) => compact::write_program(program),
    }
    .expect("a validated file is writable")
}

/// Prints `file` in the text format (a forest or a program).
pub fn print_text(file: &MastFile) -> String {
    match file {
        MastFile::Forest(forest) => text::print(forest),
        MastFile::Program(program) => text::print_program(program),
    }
    .expect("a validated file is printable")
}

/// The key [`fuzz_sealed`] seals its inputs with.
pub const FUZZ_KEY: [u8; 32] = [0x3c; 32];

/// Reads `data` as a fast-format file sealed by a holder of the key: the body sets the sealed
/// flag, fixes the checksum and seals the bytes under [`FUZZ_KEY`] itself, so that every input
/// reaches the path that trusts stored digests and batches blocks lazily. On success, every
/// block must batch on first use (to at least one operation), and `read` + `validate` of the
/// same bytes must give the same forest or reject only what the seal vouches for: a stored
/// digest, or a node that duplicates another.
pub fn fuzz_sealed(data: &[u8]) {
    let mut bytes = data.to_vec();
    if bytes.len() >= fast::HEADER_LEN + 8 + fast::SEAL_LEN {
        bytes[12] |= fast::FLAG_SEALED as u8;
        let n = bytes.len() - fast::SEAL_LEN;
        fix_checksum(&mut bytes[..n]);
        let mac = blake3::keyed_hash(&FUZZ_KEY, &bytes[..n]);
        bytes[n..].copy_from_slice(mac.as_bytes());
    }
    let Ok(file) = fast::read_sealed_file(&bytes, &FUZZ_KEY) else {
        return;
    };
    for node in file.forest().nodes() {
        if let MastNode::Block(block) = node {
            let n_ops = block
                .num_ops()
                .expect("a sealed block the reader accepted batches");
            assert!(n_ops > 0, "a sealed block batched to nothing");
        }
    }
    match fast::read(&bytes).and_then(|u| u.validate_file()) {
        Ok(validated) => assert_eq!(validated, file, "sealed and validated files differ"),
        Err(FormatError::DigestMismatch { .. } | FormatError::DuplicateNode { .. }) => {}
        Err(e) => panic!("read_sealed accepted a file that validate rejects: {e}"),
    }
}

/// Reads `data` as a compact-format file, as it is and with its checksum fixed; on success
/// checks write → read gives the same forest up to renumbering, and that the writer's encoding
/// is a fixed point.
pub fn fuzz_compact(data: &[u8]) {
    as_is_and_checksum_fixed(data, fuzz_compact_once);
}

fn fuzz_compact_once(data: &[u8]) {
    if let Ok(file) = compact::read(data).and_then(|u| u.validate_file()) {
        let bytes = write_compact(&file);
        let again = compact::read(&bytes)
            .and_then(|u| u.validate_file())
            .expect("a written file reads back");
        // The input need not be in the writer's canonical order (a node may be marked shared
        // without need), so the written forest may be renumbered: same shape, and a fixed point.
        assert_same_file_shape(&file, &again);
        let bytes2 = write_compact(&again);
        assert_eq!(bytes2, bytes, "compact encoding is a fixed point");
    }
}

/// Asserts that two files hold the same forest up to renumbering and, for programs, entry
/// points of the same digest and the same kernel.
pub fn assert_same_file_shape(a: &MastFile, b: &MastFile) {
    assert_same_shape(a.forest(), b.forest());
    match (a.program(), b.program()) {
        (None, None) => {}
        (Some(a), Some(b)) => {
            assert_eq!(a.hash(), b.hash(), "entry points differ");
            assert_eq!(a.kernel(), b.kernel(), "kernels differ");
        }
        _ => panic!("one file holds a program, the other a forest"),
    }
}

/// Reads `data` as text; on success checks print → parse gives the same forest.
pub fn fuzz_text(data: &[u8]) {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(file) = text::parse_file(source) {
        let printed = print_text(&file);
        let again = text::parse_file(&printed).expect("a printed file parses back");
        assert_eq!(again, file, "text round trip changed the file");
    }
}

/// Builds a forest from `data` through all three writers and checks each reads back equal
/// (compact: equal after one normalizing round trip).
pub fn fuzz_roundtrip(data: &[u8]) {
    let forest = forest_from_bytes(data);
    check_roundtrips(&forest);
    check_program_roundtrips(&program_from_bytes(data));
}

/// Checks that `program` survives all three formats, and that each file also reads as its
/// forest alone.
pub fn check_program_roundtrips(program: &Program) {
    let file = MastFile::Program(program.clone());
    let bytes = write_fast(&file);
    let back = fast::read(&bytes).and_then(|u| u.validate_program());
    assert_eq!(back.as_ref(), Ok(program), "fast program round trip");
    let forest = fast::read(&bytes).and_then(|u| u.validate());
    assert_eq!(
        forest.as_ref(),
        Ok(&**program.forest()),
        "fast program as a forest"
    );

    let printed = print_text(&file);
    let back = text::parse_file(&printed).expect("text parses back");
    assert_eq!(back, file, "text program round trip");

    let bytes = write_compact(&file);
    let back = compact::read(&bytes)
        .and_then(|u| u.validate_file())
        .expect("compact reads back");
    assert_same_file_shape(&file, &back);
    assert_eq!(
        write_compact(&back),
        bytes,
        "compact encoding is a fixed point"
    );
}

/// Builds a valid program from arbitrary bytes: the forest of [`forest_from_bytes`], an entry
/// point among its roots and a kernel of distinct digests (some of them the forest's roots',
/// some made up), as many as the bytes choose (at most 8).
pub fn program_from_bytes(data: &[u8]) -> Program {
    let forest = forest_from_bytes(data);
    let mut c = Choices { data, pos: 0 };
    let roots = forest.procedure_roots();
    let entry = roots[usize::from(c.byte()) % roots.len()];
    let mut kernel: Vec<Word> = Vec::new();
    for _ in 0..c.byte() % 9 {
        let digest = if c.byte().is_multiple_of(2) {
            forest[roots[usize::from(c.byte()) % roots.len()]].digest()
        } else {
            let k = c.u64() % (1 << 40);
            Word::new([Felt::new(k), Felt::new(k + 1), Felt::new(7), Felt::new(9)])
        };
        if !kernel.contains(&digest) {
            kernel.push(digest);
        }
    }
    let kernel = Kernel::new(&kernel).expect("at most 8 distinct digests");
    Program::new(Arc::new(forest), entry, kernel).expect("the entry is a root")
}

/// Checks that `forest` survives all three formats.
pub fn check_roundtrips(forest: &MastForest) {
    let bytes = fast::write(forest).expect("writable");
    let back = fast::read(&bytes)
        .and_then(|u| u.validate())
        .expect("fast reads back");
    assert_eq!(&back, forest, "fast round trip");

    let printed = text::print(forest).expect("printable");
    let back = text::parse(&printed).expect("text parses back");
    assert_eq!(&back, forest, "text round trip");

    let bytes = compact::write(forest).expect("writable");
    let back = compact::read(&bytes)
        .and_then(|u| u.validate())
        .expect("compact reads back");
    assert_same_shape(forest, &back);
    let bytes2 = compact::write(&back).expect("writable");
    assert_eq!(bytes, bytes2, "compact encoding is a fixed point");
}

/// Asserts that two forests hold the same nodes up to renumbering: same node count, same root
/// digests in order, same advice map and messages, and a node-by-node structural match found by
/// walking from the roots and then from every remaining node in order.
pub fn assert_same_shape(a: &MastForest, b: &MastForest) {
    assert_eq!(a.num_nodes(), b.num_nodes(), "node count");
    let ra: Vec<Word> = a.procedure_roots().iter().map(|r| a[*r].digest()).collect();
    let rb: Vec<Word> = b.procedure_roots().iter().map(|r| b[*r].digest()).collect();
    assert_eq!(ra, rb, "root digests");
    assert_eq!(a.advice_map(), b.advice_map(), "advice map");
    assert_eq!(a.error_messages(), b.error_messages(), "error messages");
    let mut map: Vec<Option<MastNodeId>> = vec![None; a.num_nodes()];
    let mut pending: Vec<(MastNodeId, MastNodeId)> = a
        .procedure_roots()
        .iter()
        .copied()
        .zip(b.procedure_roots().iter().copied())
        .collect();
    while let Some((x, y)) = pending.pop() {
        if let Some(seen) = map[x.as_usize()] {
            assert_eq!(seen, y, "node {x} maps to two nodes");
            continue;
        }
        map[x.as_usize()] = Some(y);
        let (nx, ny) = (&a[x], &b[y]);
        assert_eq!(nx.kind(), ny.kind(), "kind of {x}");
        assert_eq!(nx.digest(), ny.digest(), "digest of {x}");
        if let (Some(bx), Some(by)) = (nx.as_block(), ny.as_block()) {
            assert_eq!(bx, by, "block {x}");
        }
        for (cx, cy) in nx.children().iter().zip(ny.children()) {
            pending.push((*cx, *cy));
        }
    }
    let mut ids: Vec<MastNodeId> = map.iter().flatten().copied().collect();
    ids.sort();
    ids.dedup();
    let n_mapped = map.iter().flatten().count();
    assert_eq!(ids.len(), n_mapped, "mapping is injective");
}

// RANDOM FORESTS
// ================================================================================================

/// A small deterministic generator (SplitMix64), so tests need no extra dependency.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// Creates a generator from a seed.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// Returns the next value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Returns a value below `n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// Returns `n` random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

/// Reads bytes as a stream of choices; past the end every choice is zero.
struct Choices<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Choices<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }
    fn u64(&mut self) -> u64 {
        (0..8).fold(0, |acc, i| acc | (u64::from(self.byte()) << (8 * i)))
    }
    fn done(&self) -> bool {
        self.pos >= self.data.len()
    }
}

/// Builds a valid forest from arbitrary bytes, through the builder: blocks of random operations
/// (with small and large immediates and error codes), all control-node kinds over random earlier
/// nodes, roots, advice entries and error messages. Any input gives a forest with at least one
/// block and one root.
pub fn forest_from_bytes(data: &[u8]) -> MastForest {
    let mut c = Choices { data, pos: 0 };
    let user_ops: Vec<OpCode> = OpCode::ALL
        .iter()
        .copied()
        .filter(|op| !op.is_control_flow())
        .collect();
    let mut b = MastForestBuilder::new();
    let mut ids: Vec<MastNodeId> = Vec::new();
    let first = b.add_block(&[Operation::Add]).expect("a block");
    ids.push(first);
    let mut codes: Vec<u64> = Vec::new();
    let mut steps = 0;
    while !c.done() && steps < 200 {
        steps += 1;
        let pick = |c: &mut Choices<'_>, ids: &[MastNodeId]| ids[c.byte() as usize % ids.len()];
        let action = c.byte() % 14;
        let id = match action {
            0..=3 => {
                let n = 1 + c.byte() as usize % 24;
                let ops: Vec<Operation> = (0..n)
                    .map(|_| {
                        let op = user_ops[c.byte() as usize % user_ops.len()];
                        let imm = match op.imm_kind() {
                            ImmKind::None => None,
                            _ => Some(Felt::new(match c.byte() % 4 {
                                0 => u64::from(c.byte()),
                                1 => c.u64(),
                                2 => codes.first().copied().unwrap_or(7),
                                _ => 0u64.wrapping_sub(1 + u64::from(c.byte())),
                            })),
                        };
                        Operation::from_parts(op, imm).expect("immediate matches")
                    })
                    .collect();
                b.add_block(&ops).ok()
            }
            4 | 5 => {
                let (x, y) = (pick(&mut c, &ids), pick(&mut c, &ids));
                b.add_join(x, y).ok()
            }
            6 => {
                let (x, y) = (pick(&mut c, &ids), pick(&mut c, &ids));
                b.add_split(x, y).ok()
            }
            7 => b.add_loop(pick(&mut c, &ids)).ok(),
            8 => b.add_call(pick(&mut c, &ids)).ok(),
            9 => b.add_syscall(pick(&mut c, &ids)).ok(),
            10 => if c.byte().is_multiple_of(2) {
                b.add_dyn()
            } else {
                b.add_dyncall()
            }
            .ok(),
            11 => {
                let d = Word::new([
                    Felt::new(c.u64()),
                    Felt::new(u64::from(c.byte())),
                    Felt::new(c.u64()),
                    Felt::new(0),
                ]);
                b.add_external(d).ok()
            }
            12 => {
                let r = pick(&mut c, &ids);
                let _ = b.make_root(r);
                None
            }
            _ => {
                if c.byte().is_multiple_of(2) {
                    let key = Word::new([
                        Felt::new(c.u64()),
                        Felt::new(1),
                        Felt::new(2),
                        Felt::new(u64::from(c.byte())),
                    ]);
                    let n = c.byte() as usize % 5;
                    let values: Vec<Felt> = (0..n).map(|_| Felt::new(c.u64())).collect();
                    b.advice_map_mut().insert(key, values);
                } else {
                    let code = Felt::new(c.u64()).as_int();
                    codes.push(code);
                    let len = c.byte() as usize % 12;
                    let message: String = (0..len)
                        .map(|_| match c.byte() % 6 {
                            0 => '"',
                            1 => '\\',
                            2 => '\n',
                            3 => 'é',
                            _ => char::from(b'a' + c.byte() % 26),
                        })
                        .collect();
                    b.add_error_message(code, message);
                }
                None
            }
        };
        if let Some(id) = id
            && !ids.contains(&id)
        {
            ids.push(id);
        }
    }
    let last = *ids.last().unwrap_or(&first);
    let _ = b.make_root(last);
    b.build()
}

/// Returns a mutated copy of `bytes`: byte flips, overwrites, insertions, deletions or a
/// truncation, chosen by `rng`.
pub fn mutate(bytes: &[u8], rng: &mut SplitMix64) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let n_mutations = 1 + rng.below(4);
    for _ in 0..n_mutations {
        let len = out.len() as u64;
        match rng.below(6) {
            0 if len > 0 => {
                let i = rng.below(len) as usize;
                out[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len) as usize;
                out[i] = rng.next_u64() as u8;
            }
            2 => {
                let i = rng.below(len + 1) as usize;
                out.insert(i, rng.next_u64() as u8);
            }
            3 if len > 0 => {
                let i = rng.below(len) as usize;
                out.remove(i);
            }
            4 if len > 0 => out.truncate(rng.below(len) as usize),
            _ if len > 0 => {
                // Interesting values at a random aligned position.
                let i = (rng.below(len) as usize) & !3;
                let v: u32 = [0, 1, 0xff, 0xffff_ffff, 0x8000_0000][rng.below(5) as usize];
                for (k, b) in v.to_le_bytes().iter().enumerate() {
                    if let Some(slot) = out.get_mut(i + k) {
                        *slot = *b;
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Recomputes the trailing checksum of a binary encoding (fast unsealed or compact) so that a
/// mutated input reaches the structural checks instead of stopping at the checksum.
pub fn fix_checksum(bytes: &mut [u8]) {
    if bytes.len() >= 8 {
        let at = bytes.len() - 8;
        let sum = checksum(&bytes[..at]);
        bytes[at..].copy_from_slice(&sum.to_le_bytes());
    }
}
