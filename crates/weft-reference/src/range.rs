//! The range checker's table: every sixteen-bit value looked up (the limbs of u32 operations'
//! results and the memory chiplet's deltas), with its number of lookups, in ascending order.
//!
//! The values 0 and 65535 are always in the table (with zero lookups if nobody asked). Between
//! two consecutive values the table inserts "bridge" rows with no lookups so that every step of
//! the value column is 0 or a power of three up to 3^7: greedily, the largest such stride that
//! does not overshoot. After the last value comes one more row `(0, 65535)`. In the main trace
//! the table sits at the bottom, just above the random last row, under rows of zeros.

use std::collections::BTreeMap;

use weft_core::Felt;

/// The largest step between two values of the table.
const MAX_STRIDE: u16 = 3u16.pow(7);

/// The range checker's rows, as `(multiplicity, value)` pairs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RangeTable {
    rows: Vec<(u64, u16)>,
}

impl RangeTable {
    /// The table of the lookups `values`.
    pub(crate) fn new(values: impl IntoIterator<Item = u16>) -> Self {
        let mut counts: BTreeMap<u16, u64> = BTreeMap::from([(0, 0), (u16::MAX, 0)]);
        for value in values {
            *counts.entry(value).or_default() += 1;
        }
        let mut rows = Vec::new();
        let mut prev = 0u16;
        for (&value, &count) in &counts {
            let mut gap = value - prev;
            let mut stride = MAX_STRIDE;
            while gap != stride && stride != 0 {
                if gap > stride {
                    gap -= stride;
                    prev += stride;
                    rows.push((0, prev));
                } else {
                    stride /= 3;
                }
            }
            rows.push((count, value));
            prev = value;
        }
        rows.push((0, u16::MAX));
        Self { rows }
    }

    /// The number of rows.
    pub(crate) fn len(&self) -> usize {
        self.rows.len()
    }

    /// The multiplicity and value columns of a trace of `trace_len` rows: zeros on top, the
    /// table, then the last row (left zero here, for the random row).
    ///
    /// Returns `None` if the table and the last row do not fit.
    pub(crate) fn columns(&self, trace_len: usize) -> Option<[Vec<Felt>; 2]> {
        let start = trace_len.checked_sub(self.rows.len() + 1)?;
        let mut m = vec![Felt::new(0); trace_len];
        let mut v = vec![Felt::new(0); trace_len];
        for (i, &(count, value)) in self.rows.iter().enumerate() {
            m[start + i] = Felt::new(count);
            v[start + i] = Felt::new(u64::from(value));
        }
        Some([m, v])
    }

    #[cfg(test)]
    pub(crate) fn rows(&self) -> &[(u64, u16)] {
        &self.rows
    }
}
