//! Format tests: round trips (proptest), seeded-random runs of the fuzz bodies, exhaustive
//! single-byte corruption, and one `check`-style test per error kind.

use proptest::prelude::*;
use weft_core::{Felt, Operation, Word};

use super::{
    FormatError, MastFile, WriteError, compact, fast,
    fuzz::{self, SplitMix64, fix_checksum, forest_from_bytes, mutate},
    strip, text,
};
use crate::{Decorator, MastForest, MastForestBuilder, NodeDecorators};

/// A small forest with every node kind, a root of each interesting shape, an advice entry and
/// an error message.
fn small_forest() -> MastForest {
    let mut b = MastForestBuilder::new();
    let code = 0xdead_beef;
    b.add_error_message(code, "boom");
    let x = b
        .add_block(&[
            Operation::Push(Felt::new(5)),
            Operation::Add,
            Operation::Assert(Felt::new(code)),
        ])
        .expect("block");
    let y = b
        .add_block(&[Operation::Mul, Operation::Push(Felt::new(u64::MAX - 1000))])
        .expect("block");
    let j = b.add_join(x, y).expect("join");
    let s = b.add_split(j, x).expect("split");
    let l = b.add_loop(y).expect("loop");
    let d = b.add_dyn().expect("dyn");
    let e = b
        .add_external(Word::new([
            Felt::new(1),
            Felt::new(2),
            Felt::new(3),
            Felt::new(4),
        ]))
        .expect("external");
    let j2 = b.add_join(s, l).expect("join");
    let j3 = b.add_join(j2, d).expect("join");
    let c = b.add_call(j3).expect("call");
    let sc = b.add_syscall(e).expect("syscall");
    let top = b.add_join(c, sc).expect("join");
    b.make_root(top).expect("root");
    b.make_root(j3).expect("root");
    b.advice_map_mut().insert(
        Word::new([Felt::new(9); 4]),
        vec![Felt::new(1), Felt::new(2)],
    );
    b.build()
}

fn read_fast(bytes: &[u8]) -> Result<MastForest, FormatError> {
    fast::read(bytes)?.validate()
}

fn read_compact(bytes: &[u8]) -> Result<MastForest, FormatError> {
    compact::read(bytes)?.validate()
}

/// The number of iterations of each seeded fuzz loop: `WEFT_FUZZ_ITERS`, or 2000.
fn fuzz_iters() -> u64 {
    std::env::var("WEFT_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000)
}

// ROUND TRIPS
// ================================================================================================

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn fast_round_trip(data in prop::collection::vec(any::<u8>(), 0..800)) {
        let forest = forest_from_bytes(&data);
        let bytes = fast::write(&forest).expect("writable");
        let back = read_fast(&bytes).expect("reads back");
        prop_assert_eq!(&back, &forest);
        for (x, y) in back.nodes().iter().zip(forest.nodes()) {
            prop_assert_eq!(x.digest(), y.digest());
        }
    }

    #[test]
    fn compact_round_trip(data in prop::collection::vec(any::<u8>(), 0..800)) {
        let forest = forest_from_bytes(&data);
        let bytes = compact::write(&forest).expect("writable");
        let back = read_compact(&bytes).expect("reads back");
        fuzz::assert_same_shape(&forest, &back);
        prop_assert_eq!(compact::write(&back).expect("writable"), bytes);
    }

    #[test]
    fn text_round_trip(data in prop::collection::vec(any::<u8>(), 0..800)) {
        let forest = forest_from_bytes(&data);
        let printed = text::print(&forest).expect("printable");
        let back = text::parse(&printed).expect("parses back");
        prop_assert_eq!(&back, &forest);
    }

    #[test]
    fn sealed_round_trip(data in prop::collection::vec(any::<u8>(), 0..400)) {
        let forest = forest_from_bytes(&data);
        let key = [7u8; 32];
        let bytes = fast::write_sealed(&forest, &key).expect("writable");
        prop_assert_eq!(&fast::read_sealed(&bytes, &key).expect("reads back"), &forest);
        prop_assert_eq!(&read_fast(&bytes).expect("reads back unsealed"), &forest);
    }
}

/// Seven-bit packing puts eight operations in seven bytes, so a forest made of one long NOOP
/// block has more operations than bytes; the reader must accept it (it once did not).
#[test]
fn long_noop_block_round_trips_through_compact() {
    let mut b = MastForestBuilder::new();
    let block = b.add_block(&vec![Operation::Noop; 600]).expect("block");
    b.make_root(block).expect("root");
    let forest = b.build();
    let bytes = compact::write(&forest).expect("writable");
    assert!(
        bytes.len() < 600,
        "the test needs fewer bytes ({}) than ops",
        bytes.len()
    );
    let back = read_compact(&bytes).expect("a long NOOP block reads back");
    assert_eq!(back, forest);
    fuzz::check_roundtrips(&forest);
}

#[test]
fn small_forest_round_trips_through_every_format() {
    fuzz::check_roundtrips(&small_forest());
    fuzz::check_roundtrips(&MastForest::default());
}

// SEEDED FUZZING
// ================================================================================================

/// Runs `body` on mutated valid encodings (half with the checksum fixed up so the structural
/// checks are reached) and on random bytes.
fn run_seeded(seed: u64, encode: impl Fn(&MastFile) -> Vec<u8>, body: fn(&[u8]), fix: bool) {
    let mut rng = SplitMix64::new(seed);
    for i in 0..fuzz_iters() {
        let recipe = {
            let n = rng.below(300) as usize;
            rng.bytes(n)
        };
        // Every other input holds a program, so that the program sections are fuzzed too.
        let file = if i % 2 == 1 {
            MastFile::Program(fuzz::program_from_bytes(&recipe))
        } else {
            MastFile::Forest(forest_from_bytes(&recipe))
        };
        let valid = encode(&file);
        body(&valid);
        let mut mutated = mutate(&valid, &mut rng);
        if fix && i % 2 == 0 {
            fix_checksum(&mut mutated);
        }
        body(&mutated);
        let random = {
            let n = rng.below(200) as usize;
            rng.bytes(n)
        };
        body(&random);
        // Random bytes behind a valid header.
        let mut headed = valid[..valid.len().min(16)].to_vec();
        headed.extend_from_slice(&random);
        if fix {
            fix_checksum(&mut headed);
        }
        body(&headed);
    }
}

#[test]
fn seeded_fuzz_fast() {
    run_seeded(1, fuzz::write_fast, fuzz::fuzz_fast, true);
}

#[test]
fn seeded_fuzz_sealed() {
    run_seeded(
        5,
        |f| match f {
            MastFile::Forest(f) => fast::write_sealed(f, &fuzz::FUZZ_KEY).expect("writable"),
            // The body seals its input itself.
            MastFile::Program(_) => fuzz::write_fast(f),
        },
        fuzz::fuzz_sealed,
        false,
    );
}

#[test]
fn seeded_fuzz_compact() {
    run_seeded(2, fuzz::write_compact, fuzz::fuzz_compact, true);
}

#[test]
fn seeded_fuzz_text() {
    run_seeded(
        3,
        |f| fuzz::print_text(f).into_bytes(),
        fuzz::fuzz_text,
        false,
    );
}

#[test]
fn seeded_fuzz_roundtrip() {
    let mut rng = SplitMix64::new(4);
    for _ in 0..fuzz_iters() / 4 {
        let recipe = {
            let n = rng.below(400) as usize;
            rng.bytes(n)
        };
        fuzz::fuzz_roundtrip(&recipe);
    }
}

// CORRUPTION
// ================================================================================================

/// Every single-byte change of the encoding is either rejected or decodes to the same forest.
fn every_byte_change_is_caught(bytes: &[u8], read: fn(&[u8]) -> Result<MastForest, FormatError>) {
    let original = read(bytes).expect("valid");
    let mut n_rejected = 0usize;
    let mut copy = bytes.to_vec();
    for i in 0..bytes.len() {
        for v in 0..=255u8 {
            if v == bytes[i] {
                continue;
            }
            copy[i] = v;
            match read(&copy) {
                Err(_) => n_rejected += 1,
                Ok(forest) => {
                    assert_eq!(forest, original, "byte {i} set to {v} changed the forest")
                }
            }
        }
        copy[i] = bytes[i];
    }
    assert!(n_rejected > 0);
}

#[test]
fn fast_detects_every_single_byte_change() {
    let bytes = fast::write(&small_forest()).expect("writable");
    every_byte_change_is_caught(&bytes, read_fast);
}

#[test]
fn sealed_fast_detects_every_single_byte_change() {
    fn read_sealed(bytes: &[u8]) -> Result<MastForest, FormatError> {
        fast::read_sealed(bytes, &fuzz::FUZZ_KEY)
    }
    let bytes = fast::write_sealed(&small_forest(), &fuzz::FUZZ_KEY).expect("writable");
    every_byte_change_is_caught(&bytes, read_sealed);
}

#[test]
fn compact_detects_every_single_byte_change() {
    let bytes = compact::write(&small_forest()).expect("writable");
    every_byte_change_is_caught(&bytes, read_compact);
}

#[test]
fn checksum_detects_every_single_word_change() {
    let mut rng = SplitMix64::new(9);
    let data = rng.bytes(101);
    let sum = super::checksum(&data);
    for i in 0..data.len() {
        let mut copy = data.clone();
        for bit in 0..8 {
            copy[i] ^= 1 << bit;
            assert_ne!(super::checksum(&copy), sum);
            copy[i] ^= 1 << bit;
        }
    }
}

// ERRORS
// ================================================================================================

#[test]
fn fast_errors_carry_offsets() {
    let good = fast::write(&small_forest()).expect("writable");
    assert_eq!(
        read_fast(b"nope"),
        Err(FormatError::UnexpectedEof {
            offset: 0,
            needed: 4
        })
    );
    let mut bad = good.clone();
    bad[0] = b'X';
    assert_eq!(read_fast(&bad), Err(FormatError::BadMagic { offset: 0 }));
    let mut bad = good.clone();
    bad[8] = 2;
    assert!(matches!(
        read_fast(&bad),
        Err(FormatError::UnsupportedVersion {
            offset: 8,
            found: 2,
            ..
        })
    ));
    let mut bad = good.clone();
    bad[100] ^= 1;
    assert!(matches!(
        read_fast(&bad),
        Err(FormatError::ChecksumMismatch { .. })
    ));
    // A huge node count is rejected before anything is allocated for it.
    let mut bad = good.clone();
    bad[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
    fix_checksum(&mut bad);
    assert!(matches!(
        read_fast(&bad),
        Err(FormatError::LimitExceeded {
            offset: 16,
            what: "node count",
            ..
        })
    ));
    // A tampered digest is caught by recomputation.
    let digests_at = fast::HEADER_LEN + fast::RECORD_LEN * small_forest().num_nodes();
    let mut bad = good.clone();
    bad[digests_at] ^= 1;
    fix_checksum(&mut bad);
    assert!(matches!(
        read_fast(&bad),
        Err(FormatError::DigestMismatch { node: 0, offset, .. }) if offset == fast::HEADER_LEN
    ));
    // A join whose child is itself (a cycle) is rejected.
    let join_at = fast::HEADER_LEN + fast::RECORD_LEN * 2;
    let mut bad = good.clone();
    assert_eq!(bad[join_at], super::raw::tag::JOIN);
    bad[join_at + 4..join_at + 8].copy_from_slice(&2u32.to_le_bytes());
    fix_checksum(&mut bad);
    assert_eq!(
        read_fast(&bad),
        Err(FormatError::ChildNotBefore {
            offset: join_at,
            node: 2,
            child: 2
        })
    );
    // A join duplicating the node before it.
    let mut bad = good.clone();
    bad[join_at] = super::raw::tag::DYN;
    bad[join_at + 4..join_at + 12].fill(0);
    fix_checksum(&mut bad);
    assert!(matches!(
        read_fast(&bad),
        Err(FormatError::DigestMismatch { node: 2, .. })
    ));
}

/// A forest of many blocks dense with immediates, which the first pass of `validate` splits
/// into several runs (unit tests use runs of 16 operations): blocks of `(node, first opcode
/// offset in a fast file, opcode count)`.
fn many_block_forest() -> (MastForest, Vec<(usize, usize)>) {
    let mut b = MastForestBuilder::new();
    let mut blocks = Vec::new();
    let mut prev = None;
    for k in 0..40u64 {
        let mut ops = vec![Operation::Push(Felt::new(k)), Operation::Add];
        for j in 0..(k % 13) {
            ops.push(match j % 4 {
                0 => Operation::Push(Felt::new(1000 + j)),
                1 => Operation::Assert(Felt::new(j)),
                2 => Operation::Swap,
                _ => Operation::Mul,
            });
        }
        let id = b.add_block(&ops).expect("block");
        blocks.push((id.as_usize(), ops.len()));
        prev = Some(match prev {
            None => id,
            Some(p) => b.add_join(p, id).expect("join"),
        });
    }
    b.make_root(prev.expect("forty blocks")).expect("root");
    let forest = b.build();
    // Opcodes follow the records, digests and roots, block after block in node order.
    let mut at = fast::HEADER_LEN
        + (fast::RECORD_LEN + 32) * forest.num_nodes()
        + 4 * forest.procedure_roots().len();
    let blocks = blocks
        .into_iter()
        .map(|(node, n_ops)| {
            let first = at;
            at += n_ops;
            (node, first)
        })
        .collect();
    (forest, blocks)
}

/// Asserts that `result` is an invalid-operation error at byte `offset`.
fn assert_invalid_operation_at(result: Result<MastForest, FormatError>, offset: usize) {
    assert!(
        matches!(result, Err(FormatError::InvalidOperation { offset: at, .. }) if at == offset),
        "expected an invalid operation at {offset}: {result:?}"
    );
}

/// Blocks batched in different runs of the first pass come out as one pass would make them
/// (immediates counted across runs), and an error in any run is reported at its own offset,
/// in node order.
#[test]
fn blocks_batched_in_runs_match_one_pass() {
    let (forest, blocks) = many_block_forest();
    fuzz::check_roundtrips(&forest);
    let good = fast::write(&forest).expect("writable");
    for &(node, first) in &blocks {
        // An opcode byte that is no operation, in the middle of the block.
        let mut bad = good.clone();
        bad[first + 1] = 0xff;
        fix_checksum(&mut bad);
        assert_invalid_operation_at(read_fast(&bad), first + 1);
        // The block's `PUSH` made an `ADD`: it takes one immediate fewer, so its digest no
        // longer matches (and every later block's immediates shift).
        let mut bad = good.clone();
        bad[first] = bad[first + 1];
        fix_checksum(&mut bad);
        assert!(
            matches!(read_fast(&bad), Err(FormatError::DigestMismatch { node: n, .. }) if n as usize == node),
            "block at node {node}: {:?}",
            read_fast(&bad)
        );
    }
    // The last block's `ADD` made a `PUSH`: the immediates run out there.
    let &(_, first) = blocks.last().expect("blocks");
    let mut bad = good.clone();
    bad[first + 1] = bad[first];
    fix_checksum(&mut bad);
    assert_invalid_operation_at(read_fast(&bad), first + 1);
}

/// Seals `bytes` (a sealed fast file) again under `key` after a change, with its checksum
/// fixed, as a holder of the key could.
fn reseal(bytes: &mut [u8], key: &[u8; 32]) {
    let n = bytes.len() - fast::SEAL_LEN;
    fix_checksum(&mut bytes[..n]);
    let mac = blake3::keyed_hash(key, &bytes[..n]);
    bytes[n..].copy_from_slice(mac.as_bytes());
}

/// A sealed file's blocks are batched on first use, into the batches an eager read makes; and
/// even under a valid seal, operations that could not be batched are rejected when the file is
/// read, never left for the first use to find.
#[test]
fn sealed_blocks_are_batched_lazily_and_checked_eagerly() {
    let (forest, blocks) = many_block_forest();
    let key = [7u8; 32];
    let sealed = fast::write_sealed(&forest, &key).expect("writable");
    let lazy = fast::read_sealed(&sealed, &key).expect("reads");
    assert_eq!(lazy, forest);
    for (a, b) in lazy.nodes().iter().zip(forest.nodes()) {
        if let (crate::MastNode::Block(a), crate::MastNode::Block(b)) = (a, b) {
            assert_eq!(a.num_op_groups(), b.num_op_groups());
            let batches = a.batches().expect("a sealed block batches");
            assert_eq!(a.digest(), crate::batch::batches_digest(batches));
        }
    }
    // Shared across threads, a lazy block is batched once, the same for every thread.
    fn total_ops(forest: &MastForest) -> usize {
        forest
            .nodes()
            .iter()
            .map(|n| match n {
                crate::MastNode::Block(b) => b.num_ops().expect("a sealed block batches"),
                _ => 0,
            })
            .sum()
    }
    let lazy = std::sync::Arc::new(fast::read_sealed(&sealed, &key).expect("reads"));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let lazy = std::sync::Arc::clone(&lazy);
            std::thread::spawn(move || total_ops(&lazy))
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().expect("no panic"), total_ops(&forest));
    }
    for &(node, first) in &blocks {
        let mut bad = sealed.clone();
        bad[first + 1] = 0xff;
        reseal(&mut bad, &key);
        assert_invalid_operation_at(fast::read_sealed(&bad, &key), first + 1);
        // A control-flow opcode inside a block.
        let mut bad = sealed.clone();
        bad[first + 1] = weft_core::OpCode::Join.as_u8();
        reseal(&mut bad, &key);
        assert!(
            fast::read_sealed(&bad, &key).is_err(),
            "block at node {node}"
        );
        // One immediate fewer taken: the immediates no longer add up.
        let mut bad = sealed.clone();
        bad[first] = bad[first + 1];
        reseal(&mut bad, &key);
        assert!(
            matches!(
                fast::read_sealed(&bad, &key),
                Err(FormatError::LengthMismatch { .. })
            ),
            "block at node {node}"
        );
    }
    // One immediate more than there are, in the last block.
    let &(_, first) = blocks.last().expect("blocks");
    let mut bad = sealed.clone();
    bad[first + 1] = bad[first];
    reseal(&mut bad, &key);
    assert_invalid_operation_at(fast::read_sealed(&bad, &key), first + 1);
}

#[test]
fn sealed_files_need_the_key() {
    let forest = small_forest();
    let key = [1u8; 32];
    let sealed = fast::write_sealed(&forest, &key).expect("writable");
    assert_eq!(fast::read_sealed(&sealed, &key), Ok(forest.clone()));
    assert!(matches!(
        fast::read_sealed(&sealed, &[2u8; 32]),
        Err(FormatError::SealMismatch { .. })
    ));
    let unsealed = fast::write(&forest).expect("writable");
    assert!(matches!(
        fast::read_sealed(&unsealed, &key),
        Err(FormatError::SealMismatch { offset: 12 })
    ));
    // Tampering (with the checksum fixed) breaks the seal.
    let mut bad = sealed.clone();
    bad[fast::HEADER_LEN + fast::RECORD_LEN * forest.num_nodes()] ^= 1;
    let n = bad.len() - fast::SEAL_LEN;
    fix_checksum(&mut bad[..n]);
    assert!(matches!(
        fast::read_sealed(&bad, &key),
        Err(FormatError::SealMismatch { .. })
    ));
}

#[test]
fn compact_errors_carry_offsets() {
    let good = compact::write(&small_forest()).expect("writable");
    let mut bad = good.clone();
    bad[3] = 0;
    assert_eq!(read_compact(&bad), Err(FormatError::BadMagic { offset: 0 }));
    let mut bad = good.clone();
    bad[10] = 0x80 | 0x7f;
    bad.splice(11..11, [0xff, 0xff, 0xff, 0x0f]);
    fix_checksum(&mut bad);
    assert!(matches!(
        read_compact(&bad),
        Err(FormatError::LimitExceeded {
            offset: 10,
            what: "node count",
            ..
        })
    ));
    // An over-long varint.
    let mut bad = good.clone();
    bad.splice(10..11, [good[10] | 0x80, 0x00]);
    fix_checksum(&mut bad);
    assert_eq!(
        read_compact(&bad),
        Err(FormatError::InvalidVarint { offset: 10 })
    );
}

#[test]
fn text_errors_point_at_line_and_column() {
    let check = |source: &str, line: usize, column: usize| {
        let err = text::parse(source).expect_err("must fail");
        assert_eq!((err.line, err.column), (line, column), "{err}");
    };
    check("mast 2", 1, 6);
    check("mast 1\nnode 0 block [add frob]", 2, 19);
    check("mast 1\nnode 0 block [add]\nnode 1 join 0 1", 3, 1);
    check("mast 1\nnode 0 block [push]", 2, 15);
    check("mast 1\nnode 0 block [push(18446744069414584321)]", 2, 20);
    check("mast 1\nnode 0 block [add]\nroot 3", 3, 6);
    check("mast 1\nnode 0 block [add]\nerror 5 \"oops", 3, 9);
    check("mast 1\nnode 1 dyn", 2, 6);
    check("mast 1\nnode 0 block [add]\nnode 1 block [add]", 3, 1);
    check("mast 1\n  ; é comment\nnode 0 bloc", 3, 8);
    let err = text::parse("mast 1\nnode 0 block [join]").expect_err("control flow");
    assert!(
        matches!(err.error, FormatError::InvalidNode { .. }),
        "{err}"
    );
}

#[test]
fn text_is_readable() {
    let printed = text::print(&small_forest()).expect("printable");
    assert!(
        printed.contains("node 0 block [push(5) add assert(3735928559)]"),
        "{printed}"
    );
    assert!(printed.contains("node 2 join 0 1"), "{printed}");
    assert!(printed.contains("error 3735928559 \"boom\""), "{printed}");
}

#[test]
fn writers_reject_decorators_and_strip_removes_them() {
    let mut b = MastForestBuilder::new();
    let dec = b.add_decorator(Decorator::Trace(1)).expect("decorator");
    let plain = b.add_block(&[Operation::Add]).expect("block");
    let decorated = b
        .add_block_with_decorators(
            &[Operation::Add],
            NodeDecorators {
                before_enter: vec![dec],
                ..NodeDecorators::default()
            },
        )
        .expect("block");
    let j = b.add_join(plain, decorated).expect("join");
    b.make_root(j).expect("root");
    let forest = b.build();
    assert_eq!(forest.num_nodes(), 3);
    assert_eq!(fast::write(&forest), Err(WriteError::HasDecorators));
    assert_eq!(compact::write(&forest), Err(WriteError::HasDecorators));
    assert_eq!(text::print(&forest).err(), Some(WriteError::HasDecorators));
    // Stripping in place merges the two blocks that now differ in nothing, as `strip` does.
    let in_place = forest.clone().strip_decorators().expect("strips");
    let stripped = strip(&forest).expect("strips");
    assert_eq!(in_place, stripped);
    assert_eq!(stripped.num_nodes(), 2);
    assert_eq!(
        stripped[stripped.procedure_roots()[0]].digest(),
        forest[forest.procedure_roots()[0]].digest()
    );
    fuzz::check_roundtrips(&stripped);
}

// FUZZ CORPORA
// ================================================================================================

/// Every committed seed of `fuzz/corpus/<target>/` runs cleanly through its body (with
/// `WEFT_WRITE_FUZZ_CORPUS=1` the seeds are regenerated first).
#[test]
fn fuzz_corpora_run_clean() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    if std::env::var_os("WEFT_WRITE_FUZZ_CORPUS").is_some() {
        let mut rng = SplitMix64::new(42);
        let mut forests = vec![(b"small".to_vec(), small_forest())];
        for _ in 0..8 {
            let recipe = {
                let n = rng.below(300) as usize;
                rng.bytes(n)
            };
            forests.push((recipe.clone(), forest_from_bytes(&recipe)));
        }
        for (target, ext) in [
            ("fast", "bin"),
            ("sealed", "bin"),
            ("compact", "bin"),
            ("text", "txt"),
            ("roundtrip", "bin"),
        ] {
            let dir = root.join(target);
            std::fs::create_dir_all(&dir).expect("corpus dir");
            for (k, (recipe, forest)) in forests.iter().enumerate() {
                let bytes = match target {
                    "fast" => fast::write(forest).expect("writable"),
                    "sealed" => fast::write_sealed(forest, &fuzz::FUZZ_KEY).expect("writable"),
                    "compact" => compact::write(forest).expect("writable"),
                    "text" => text::print(forest).expect("printable").into_bytes(),
                    _ => recipe.clone(),
                };
                std::fs::write(dir.join(format!("seed-{k:02}.{ext}")), bytes).expect("write seed");
            }
        }
    }
    type Body = fn(&[u8]);
    let bodies: [(&str, Body); 5] = [
        ("fast", fuzz::fuzz_fast),
        ("sealed", fuzz::fuzz_sealed),
        ("compact", fuzz::fuzz_compact),
        ("text", fuzz::fuzz_text),
        ("roundtrip", fuzz::fuzz_roundtrip),
    ];
    for (target, body) in bodies {
        let entries = std::fs::read_dir(root.join(target)).expect("every target has a corpus");
        for entry in entries {
            let bytes = std::fs::read(entry.expect("entry").path()).expect("read seed");
            body(&bytes);
        }
    }
}
