//! Unit tests of the regions built from the chiplet log: the range checker's bridges and
//! padding, the memory chiplet's deltas, the kernel ROM's order, the hasher's selectors and
//! node indices, the bitwise rows, ACE multiplicities and the stacking of the chiplets.

use weft_core::{
    Felt, FieldElement, ONE, Rpo256, Word, ZERO,
    main_trace::{CHIPLETS_WIDTH, chiplets::hasher as h},
};

use super::{ChipletRows, ace, bitwise, hasher, kernel_rom, memory};
use crate::{
    log::{AceEvaluation, BitwiseOp, ChipletLog, HasherRequest, MemoryAccess, QuadFelt},
    range::RangeTable,
};

fn felt(v: u64) -> Felt {
    Felt::new(v)
}

fn word(v: [u64; 4]) -> Word {
    v.map(felt).into()
}

// RANGE CHECKER
// ------------------------------------------------------------------------------------------------

#[test]
fn range_table_always_holds_0_and_65535_with_bridges() {
    let empty = RangeTable::new([]);
    // Upstream's minimum: 0, the bridges up to 65535, 65535, and the final row.
    assert_eq!(empty.len(), 39);
    assert_eq!(empty.rows()[0], (0, 0));
    assert_eq!(empty.rows()[37], (0, u16::MAX));
    assert_eq!(empty.rows()[38], (0, u16::MAX));

    let table = RangeTable::new([5, 5, 4, 0]);
    // 0 (looked up once), then 3 as a bridge, 4 (once), 5 (twice).
    assert_eq!(&table.rows()[..4], &[(1, 0), (0, 3), (1, 4), (2, 5)]);
    for pair in table.rows().windows(2) {
        let step = pair[1].1 - pair[0].1;
        assert!(
            [0, 1, 3, 9, 27, 81, 243, 729, 2187].contains(&step),
            "step {step} between {pair:?}"
        );
    }
}

#[test]
fn range_columns_are_bottom_aligned_under_zero_rows() {
    let table = RangeTable::new([7]);
    let len = 64;
    let [m, v] = table.columns(len).expect("fits");
    let start = len - 1 - table.len();
    assert!(m[..start].iter().chain(&v[..start]).all(|x| *x == ZERO));
    assert_eq!(v[start], ZERO);
    assert_eq!(v[len - 2], felt(65535));
    assert_eq!((m[len - 1], v[len - 1]), (ZERO, ZERO));
    let looked_up = (start..len)
        .find(|&r| v[r] == felt(7))
        .expect("7 is in the table");
    assert_eq!(m[looked_up], ONE);
    assert!(table.columns(table.len()).is_none());
}

// MEMORY
// ------------------------------------------------------------------------------------------------

fn access(
    ctx: u32,
    addr: u32,
    element: bool,
    is_read: bool,
    clk: u32,
    w: [u64; 4],
) -> MemoryAccess {
    MemoryAccess {
        ctx,
        word_addr: addr - addr % 4,
        element: element.then_some((addr % 4) as u8),
        is_read,
        clk,
        word: word(w),
    }
}

#[test]
fn memory_rows_sorted_with_upstream_deltas() {
    let accesses = [
        access(0, 8, true, false, 5, [0, 0, 9, 0]),
        access(3, 0, false, true, 6, [0; 4]),
        access(0, 4, false, false, 7, [1, 2, 3, 4]),
        access(0, 10, true, true, 9, [0, 0, 9, 0]),
        access(0, 11, true, true, 9, [0, 0, 9, 0]),
    ];
    let rows = memory::rows(&accesses);
    // Order: ctx 0 word 4, ctx 0 word 8 (three accesses), ctx 3 word 0.
    let key = |r: &memory::MemoryRow| (r[2].as_int(), r[3].as_int(), r[6].as_int());
    let keys: Vec<_> = rows.iter().map(key).collect();
    assert_eq!(
        keys,
        [(0, 4, 7), (0, 8, 5), (0, 8, 9), (0, 8, 9), (3, 0, 6)]
    );
    // The first row: delta 1 against itself one cycle before, same context and word.
    assert_eq!(&rows[0][memory::D0..], &[ONE, ZERO, ONE, ONE]);
    // A new word: the address difference, not the same word.
    assert_eq!(
        &rows[1][memory::D0..],
        &[felt(4), ZERO, felt(4).inv(), ZERO]
    );
    // The same word later: the clock difference.
    assert_eq!(&rows[2][memory::D0..], &[felt(4), ZERO, felt(4).inv(), ONE]);
    // The same word in the same cycle: delta 0, inverse 0.
    assert_eq!(&rows[3][memory::D0..], &[ZERO, ZERO, ZERO, ONE]);
    // A new context: the context difference.
    assert_eq!(
        &rows[4][memory::D0..],
        &[felt(3), ZERO, felt(3).inv(), ZERO]
    );
    // Flags, element index bits and values: element 10 is index 2 (idx0 0, idx1 1).
    assert_eq!(
        &rows[2][..7],
        &[ONE, ZERO, ZERO, felt(8), ZERO, ONE, felt(9)]
    );
    assert_eq!(&rows[3][4..6], &[ONE, ONE]);
    assert_eq!(&rows[0][..2], &[ZERO, ONE]);
    assert_eq!(&rows[0][7..11], word([1, 2, 3, 4]).as_elements());
}

#[test]
fn memory_delta_splits_into_16_bit_limbs() {
    let rows = memory::rows(&[
        access(0, 0, true, true, 1, [0; 4]),
        access(0, 0x12_3450, true, true, 2, [0; 4]),
    ]);
    assert_eq!(rows[1][memory::D0], felt(0x3450));
    assert_eq!(rows[1][memory::D1], felt(0x12));
    assert!(memory::rows(&[]).is_empty());
}

// KERNEL ROM
// ------------------------------------------------------------------------------------------------

#[test]
fn kernel_rom_orders_procedures_by_digest_bytes() {
    // As field elements a > b, but a's first byte (0) is below b's (1).
    let a = word([256, 0, 0, 0]);
    let b = word([1, 0, 0, 0]);
    let never_called = word([0, 0, 0, 7]);
    let rows = kernel_rom::rows(&[b, never_called, a], &[b, a, b]);
    let got: Vec<(Felt, Felt, Felt)> = rows.iter().map(|r| (r[0], r[1], r[4])).collect();
    assert_eq!(
        got,
        [
            (ONE, ZERO, felt(7)),
            (ONE, felt(256), ZERO),
            (ZERO, felt(256), ZERO),
            (ONE, ONE, ZERO),
            (ZERO, ONE, ZERO),
            (ZERO, ONE, ZERO),
        ]
    );
}

// HASHER
// ------------------------------------------------------------------------------------------------

fn selectors(rows: &[hasher::HasherRow], row: usize) -> [Felt; 3] {
    [rows[row][0], rows[row][1], rows[row][2]]
}

fn digest(row: &hasher::HasherRow) -> Word {
    [row[7], row[8], row[9], row[10]].into()
}

#[test]
fn hasher_control_block_is_a_domain_merge() {
    let (h1, h2) = (word([1, 2, 3, 4]), word([5, 6, 7, 8]));
    let rows = hasher::rows(&[HasherRequest::ControlBlock {
        h1,
        h2,
        domain: felt(7),
    }]);
    assert_eq!(rows.len(), 8);
    assert_eq!(selectors(&rows, 0), h::LINEAR_HASH);
    assert_eq!(selectors(&rows, 3), [ZERO; 3]);
    assert_eq!(selectors(&rows, 7), h::RETURN_HASH);
    assert_eq!(
        digest(&rows[7]),
        Rpo256::merge_in_domain(&[h1, h2], felt(7))
    );
}

#[test]
fn hasher_multi_batch_block_absorbs_each_batch() {
    let batches: Vec<[Felt; 8]> = (0..3u64)
        .map(|k| core::array::from_fn(|i| felt(10 * k + i as u64)))
        .collect();
    let rows = hasher::rows(&[HasherRequest::BasicBlock {
        batches: batches.clone(),
    }]);
    assert_eq!(rows.len(), 24);
    let expected = [
        (0, h::LINEAR_HASH),
        (1, [ZERO; 3]),
        (7, h::LINEAR_HASH),
        (8, [ZERO; 3]),
        (15, h::LINEAR_HASH),
        (16, [ZERO; 3]),
        (23, h::RETURN_HASH),
    ];
    for (row, sel) in expected {
        assert_eq!(selectors(&rows, row), sel, "row {row}");
    }
    // Each batch's groups overwrite the rate; the capacity carries over.
    assert_eq!(&rows[8][7..15], &batches[1]);
    assert_eq!(&rows[8][3..7], &rows[7][3..7]);
    let elements: Vec<Felt> = batches.iter().flatten().copied().collect();
    assert_eq!(digest(&rows[23]), Rpo256::hash_elements(&elements));
}

#[test]
fn hasher_merkle_legs_carry_selectors_and_index() {
    let leaf = word([1, 1, 1, 1]);
    let path = vec![word([2, 0, 0, 0]), word([3, 0, 0, 0]), word([4, 0, 0, 0])];
    let index = 0b101;
    let rows = hasher::rows(&[HasherRequest::MerkleVerify {
        leaf,
        path: path.clone(),
        index,
    }]);
    assert_eq!(rows.len(), 24);
    let expected = [
        (0, h::MP_VERIFY, 5),
        (1, [ZERO, ZERO, ONE], 2),
        (7, h::MP_VERIFY, 2),
        (8, [ZERO, ZERO, ONE], 1),
        (15, h::MP_VERIFY, 1),
        (16, [ZERO, ZERO, ONE], 0),
        (23, h::RETURN_HASH, 0),
    ];
    for (row, sel, idx) in expected {
        assert_eq!(selectors(&rows, row), sel, "row {row}");
        assert_eq!(rows[row][15], felt(idx), "row {row}");
    }
    let l1 = Rpo256::merge(&[path[0], leaf]);
    let l2 = Rpo256::merge(&[l1, path[1]]);
    let root = Rpo256::merge(&[path[2], l2]);
    assert_eq!(digest(&rows[23]), root);

    // An update: the old path, then the new one, with their own selectors.
    let rows = hasher::rows(&[HasherRequest::MerkleUpdate {
        old: leaf,
        new: word([9, 9, 9, 9]),
        path: path[..1].to_vec(),
        index: 1,
    }]);
    assert_eq!(rows.len(), 16);
    assert_eq!(selectors(&rows, 0), h::MR_UPDATE_OLD);
    assert_eq!(selectors(&rows, 1), [ZERO, ONE, ZERO]);
    assert_eq!(selectors(&rows, 7), h::RETURN_HASH);
    assert_eq!(selectors(&rows, 8), h::MR_UPDATE_NEW);
    assert_eq!(selectors(&rows, 9), [ZERO, ONE, ONE]);
    assert_eq!((rows[8][15], rows[9][15]), (ONE, ZERO));
}

#[test]
fn hasher_permute_returns_the_whole_state() {
    let state: [Felt; 12] = core::array::from_fn(|i| felt(i as u64 * 3));
    let rows = hasher::rows(&[HasherRequest::Permute { state }]);
    let mut out = state;
    Rpo256::apply_permutation(&mut out);
    assert_eq!(&rows[0][3..15], &state);
    assert_eq!(&rows[7][3..15], &out);
    assert_eq!(selectors(&rows, 7), h::RETURN_STATE);
}

// BITWISE AND ACE
// ------------------------------------------------------------------------------------------------

#[test]
fn bitwise_rows_build_the_result_four_bits_at_a_time() {
    let (a, b) = (0xF0F0_1234u64, 0x0FF0_FF35u64);
    let rows = bitwise::rows(&[(BitwiseOp::And, a, b), (BitwiseOp::Xor, a, b)]);
    assert_eq!(rows.len(), 16);
    assert_eq!(&rows[0][..3], &[ZERO, felt(0xF), ZERO]);
    assert_eq!(rows[0][11], ZERO);
    assert_eq!(&rows[7][1..3], &[felt(a), felt(b)]);
    assert_eq!(rows[7][12], felt(a & b));
    assert_eq!(rows[7][11], felt((a & b) >> 4));
    assert_eq!(rows[15][12], felt(a ^ b));
    assert_eq!(rows[8][0], ONE);
    // Bits of a's last nibble (4 = 0b0100), least significant first.
    assert_eq!(&rows[7][3..7], &[ZERO, ZERO, ONE, ZERO]);
}

#[test]
fn ace_rows_count_wire_reads() {
    let x = QuadFelt::new(felt(3), felt(0));
    let y = QuadFelt::new(felt(3), felt(0));
    // Wire ids: x 3, y 2, gate0 1, gate1 0. gate0 = x - y; gate1 = gate0 * x.
    let evaluation = AceEvaluation {
        ctx: 2,
        clk: 40,
        ptr: felt(100),
        wires: vec![x, y, x - y, (x - y) * x],
        gates: vec![(0, 3, 2), (1, 1, 3)],
    };
    let rows = ace::rows(&[evaluation]);
    assert_eq!(rows.len(), 3);
    // READ row: first, ctx, ptr, clk, wires 3 and 2, gates - 1, multiplicities.
    assert_eq!(&rows[0][..5], &[ONE, ZERO, felt(2), felt(100), felt(40)]);
    assert_eq!((rows[0][6], rows[0][9]), (felt(3), felt(2)));
    assert_eq!(rows[0][12], ONE);
    assert_eq!((rows[0][15], rows[0][14]), (felt(2), ONE));
    // EVAL rows: block flag, ptr after the word, op, output id, inputs.
    assert_eq!(
        &rows[1][..6],
        &[ZERO, ONE, felt(2), felt(104), felt(40), -ONE]
    );
    assert_eq!(
        (rows[1][6], rows[1][9], rows[1][12]),
        (ONE, felt(3), felt(2))
    );
    assert_eq!(rows[1][15], ONE);
    assert_eq!(
        (rows[2][3], rows[2][5], rows[2][15]),
        (felt(105), ZERO, ZERO)
    );
}

// STACKING
// ------------------------------------------------------------------------------------------------

#[test]
fn chiplets_stack_under_their_selector_prefix() {
    let log = ChipletLog {
        hasher: vec![HasherRequest::Permute { state: [ZERO; 12] }],
        bitwise: vec![(BitwiseOp::Xor, 1, 2)],
        kernel_calls: vec![],
        ..ChipletLog::default()
    };
    let memory = [access(0, 0, true, false, 3, [5, 0, 0, 0])];
    let chiplets = ChipletRows::new(&log, &memory, &[word([1, 2, 3, 4])]);
    let columns = chiplets.columns(32).expect("fits");
    assert_eq!(columns.len(), CHIPLETS_WIDTH);
    // Each chiplet's selector prefix: n ones then a zero (the padding rows are all ones); the
    // columns after the prefix belong to the chiplet.
    let prefix =
        |row: usize, n: usize| -> Vec<u64> { (0..n).map(|c| columns[c][row].as_int()).collect() };
    assert_eq!(prefix(0, 1), [0], "hasher");
    assert_eq!(prefix(7, 1), [0], "hasher");
    assert_eq!(prefix(8, 2), [1, 0], "bitwise");
    assert_eq!(prefix(15, 2), [1, 0], "bitwise");
    assert_eq!(prefix(16, 3), [1, 1, 0], "memory");
    assert_eq!(prefix(17, 5), [1, 1, 1, 1, 0], "kernel ROM (no ACE rows)");
    assert_eq!(prefix(18, 5), [1, 1, 1, 1, 1], "padding");
    assert_eq!(prefix(31, 5), [1, 1, 1, 1, 1], "padding");
    // A permutation starts with the hasher's linear-hash selectors 1, 0, 0; XOR is bitwise
    // operation selector 1.
    assert_eq!(prefix(0, 4), [0, 1, 0, 0]);
    assert_eq!(columns[2][8], ONE);
    // Kernel ROM row: s_first then the digest, in c5..c9.
    assert_eq!(columns[5][17], ONE);
    assert_eq!(columns[6][17], ONE);
    // Memory value v0 is c10.
    assert_eq!(columns[10][16], felt(5));
    assert!(
        columns[5..]
            .iter()
            .all(|c| c[18..].iter().all(|x| *x == ZERO))
    );
    assert_eq!(chiplets.memory_range_checks().collect::<Vec<_>>(), [1, 0]);
    assert!(chiplets.columns(19).is_none());
}
