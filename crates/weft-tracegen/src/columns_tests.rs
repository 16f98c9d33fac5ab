//! The column buffer's writers: batch inversion, and every cell written at every alignment
//! of the fill and the tile.

use super::*;

/// Batch inversion gives each value's own inverse, zeros staying zero, wherever they sit.
#[test]
fn invert_all_matches_one_inversion_at_a_time() {
    let mut x = 0x9e37_79b9_7f4a_7c15_u64;
    for len in [0, 1, 2, 7, 100] {
        let values: Vec<Felt> = (0..len)
            .map(|i| {
                x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                if i % 3 == 1 { ZERO } else { Felt::new(x) }
            })
            .collect();
        let mut inverted = values.clone();
        invert_all(&mut inverted);
        let expected: Vec<Felt> = values.iter().map(|v| v.inv()).collect();
        assert_eq!(inverted, expected, "{len} values");
    }
}

/// Every cell of every run is written with its value, whatever the run's alignment and
/// length (plain stores for short runs, non-temporal pairs for long ones).
#[test]
fn fill_writes_every_cell_at_every_alignment() {
    let columns = Columns::new(Storage::Any, 1024);
    for start in [0, 1, 2, 3, 17] {
        for len in [0, 1, 2, 255, 256, 257, 258, 600] {
            let end = start + len;
            // SAFETY: in bounds, and nothing else uses the buffer.
            unsafe { columns.fill(5, start, end, |row| Felt::new(row as u64 * 3 + 1)) };
            for row in start..end {
                // SAFETY: written just now.
                let value = unsafe { columns.read(row, 5) };
                assert_eq!(
                    value,
                    Felt::new(row as u64 * 3 + 1),
                    "start {start} len {len}"
                );
            }
        }
    }
}

/// Rows written through a writer land in their columns, whole tiles and partial ones.
#[test]
fn row_writer_writes_whole_and_partial_tiles() {
    let columns = Columns::new(Storage::Any, 128);
    let (start, end) = (5, 5 + 2 * TILE_ROWS + 7);
    {
        // SAFETY: the only writer, in bounds.
        let mut out = unsafe { columns.writer(start, end) };
        while out.row() < end {
            let row = out.row() as u64;
            for col in 0..CORE_TRACE_WIDTH {
                out.set(col, Felt::new(row * 100 + col as u64));
            }
            out.advance();
        }
    }
    for row in start..end {
        for col in 0..CORE_TRACE_WIDTH {
            // SAFETY: written by the writer, which is dropped.
            let value = unsafe { columns.read(row, col) };
            assert_eq!(value, Felt::new(row as u64 * 100 + col as u64));
        }
    }
}
