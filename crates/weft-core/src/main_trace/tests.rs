//! Tests of the main trace layout, length rule and comparison.

use super::*;
use crate::ZERO;

#[test]
fn layout_matches_upstream() {
    assert_eq!(range::M_COL_IDX, 49);
    assert_eq!(range::V_COL_IDX, 50);
    assert_eq!(CHIPLETS_OFFSET, 51);
    assert_eq!(TRACE_WIDTH, 71);
    assert_eq!(PADDED_TRACE_WIDTH, 72);
    assert_eq!(column_name(48), Some("stack.h0"));
    assert_eq!(column_name(50), Some("range.v"));
    assert_eq!(column_name(70), Some("chiplets.c19"));
    assert_eq!(column_name(71), None);
    assert_eq!(
        chiplets::hasher::OFFSET + chiplets::hasher::WIDTH,
        chiplets::hasher::IDX + chiplets::hasher::OFFSET + 1
    );
    assert_eq!(chiplets::ace::OFFSET + chiplets::ace::WIDTH, CHIPLETS_WIDTH);
}

#[test]
fn length_rule() {
    // Upstream's minimum: the range checker alone has 39 rows.
    assert_eq!(main_trace_len(10, 39, 1), 64);
    assert_eq!(main_trace_len(63, 39, 1), 64);
    assert_eq!(main_trace_len(64, 39, 1), 128);
    assert_eq!(main_trace_len(10, 39, 200), 256);
    assert_eq!(main_trace_len(10, 127, 1), 128);
    let summary = TraceLenSummary {
        core_rows: 100,
        range_rows: 39,
        hasher_rows: 64,
        bitwise_rows: 8,
        memory_rows: 3,
        ace_rows: 0,
        kernel_rom_rows: 2,
    };
    assert_eq!(summary.chiplets_rows(), 78);
    assert_eq!(summary.trace_len(), 128);
    assert_eq!(summary.chiplet_starts(), [0, 64, 72, 75, 75, 77]);
}

#[test]
fn random_row_is_seeded_by_the_digest() {
    let a = random_row(Word::default());
    let b = random_row([ONE, ZERO, ZERO, ZERO].into());
    assert_ne!(a, b);
    assert_eq!(a, random_row(Word::default()));
    // Nine or more draws re-permute: the ninth value is not a repeat of the first.
    assert_ne!(a[0], a[8]);
}

#[test]
fn regions_and_diffs() {
    let n = 8;
    let mut columns = vec![vec![ZERO; n]; TRACE_WIDTH];
    // Row 2 is a memory row (c0 c1 = 1, c2 = 0); rows 5.. are chiplet padding.
    columns[CHIPLETS_OFFSET][2] = ONE;
    columns[CHIPLETS_OFFSET + 1][2] = ONE;
    let padding_selectors = CHIPLETS_OFFSET..CHIPLETS_OFFSET + chiplets::NUM_PADDING_SELECTORS;
    for column in &mut columns[padding_selectors] {
        column[5..].fill(ONE);
    }
    let trace = MainTrace::from_columns(columns).expect("71 columns");
    assert_eq!(trace.region(0, 0), Region::System);
    assert_eq!(trace.region(0, 20), Region::Decoder);
    assert_eq!(trace.region(0, 40), Region::Stack);
    assert_eq!(trace.region(0, 50), Region::RangeChecker);
    assert_eq!(trace.region(0, 60), Region::Hasher);
    assert_eq!(trace.region(2, 60), Region::Memory);
    assert_eq!(trace.region(5, 60), Region::ChipletsPadding);
    assert_eq!(trace.region(7, 0), Region::RandomRow);

    let mut other = trace.clone();
    assert_eq!(first_difference(&trace, &other), None);
    other.column_mut(CHIPLETS_OFFSET + 9)[2] = Felt::new(7);
    other.column_mut(0)[6] = Felt::new(7);
    let diff = first_difference(&trace, &other).expect("differs");
    assert_eq!(
        (
            diff.row,
            diff.column,
            diff.region,
            diff.expected,
            diff.found
        ),
        (2, "chiplets.c9", Region::Memory, 0, 7)
    );
    assert!(diff.to_string().contains("memory region"));
    assert_eq!(
        first_difference_in_columns(&trace, &other, 0..49).map(|d| d.row),
        Some(6)
    );
    assert!(MainTrace::from_columns(vec![vec![ZERO; 2]; 70]).is_none());
}

#[test]
fn random_row_equals_miden_crypto_coin_draws() {
    use miden_crypto::rand::{FeltRng, RpoRandomCoin};
    let seeds = (0..64u64).map(|i| {
        let x = i.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        Word::from([
            Felt::new(x),
            Felt::new(x >> 7),
            Felt::new(i),
            Felt::new(u64::MAX - i),
        ])
    });
    for seed in seeds.chain([Word::default()]) {
        let mut coin = RpoRandomCoin::new(seed);
        let expected: Vec<Felt> = (0..TRACE_WIDTH).map(|_| coin.draw_element()).collect();
        assert_eq!(random_row(seed).to_vec(), expected, "seed {seed:?}");
    }
}

#[test]
fn buffer_and_vector_storage_read_and_compare_alike() {
    let n_rows = 8;
    let stride = 10;
    let value = |row: usize, col: usize| Felt::new((col * 100 + row) as u64);
    let vectors: Vec<Vec<Felt>> = (0..TRACE_WIDTH)
        .map(|col| (0..n_rows).map(|row| value(row, col)).collect())
        .collect();
    let by_vectors = MainTrace::from_columns(vectors.clone()).expect("71 columns");
    let mut buffer = ColumnBuffer::new(stride * TRACE_WIDTH);
    for col in 0..TRACE_WIDTH {
        for (row, cell) in buffer
            .uninit_mut(col * stride, n_rows)
            .iter_mut()
            .enumerate()
        {
            cell.write(value(row, col));
        }
    }
    // SAFETY: the first `n_rows` cells of every column were written.
    let by_buffer = unsafe { MainTrace::from_buffer(buffer, stride, n_rows) }.expect("fits");
    assert_eq!(by_buffer, by_vectors);
    assert_eq!(by_buffer.row(3), by_vectors.row(3));
    assert_eq!(by_buffer.try_get(7, 70), Some(value(7, 70)));
    assert_eq!(by_buffer.try_get(8, 0), None);
    assert_eq!(by_buffer.try_get(0, TRACE_WIDTH), None);

    let mut copy = by_buffer.clone();
    assert_eq!(copy, by_buffer);
    copy.column_mut(70)[7] = Felt::new(1);
    assert_ne!(copy, by_buffer);
    assert_eq!(
        first_difference(&by_buffer, &copy).map(|d| (d.row, d.column)),
        Some((7, "chiplets.c19"))
    );
    assert_eq!(by_buffer.clone().into_columns(), vectors);
    assert!(by_vectors.into_buffer().is_none());
    assert_eq!(
        by_buffer.into_buffer().map(|b| b.capacity()),
        Some(stride * TRACE_WIDTH)
    );

    // A buffer too small for 71 strides, or rows longer than the stride, is refused.
    // SAFETY: nothing is read: both are refused before any access.
    assert!(unsafe { MainTrace::from_buffer(ColumnBuffer::new(70 * stride), stride, 1) }.is_none());
    let too_long = {
        // SAFETY: as above.
        unsafe { MainTrace::from_buffer(ColumnBuffer::new(71 * stride), stride, 11) }
    };
    assert!(too_long.is_none());
}
