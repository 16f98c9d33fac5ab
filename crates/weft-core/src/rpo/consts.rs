//! The permutation's constants as raw words, read at compile time from `miden-crypto`'s public
//! `Rpo256::MDS`, `Rpo256::ARK1` and `Rpo256::ARK2`, so they cannot drift from the reference.

use crate::Rpo256;

/// Elements in a state.
pub(super) const WIDTH: usize = 12;
/// Rounds in a permutation.
pub(super) const NUM_ROUNDS: usize = 7;

/// States per transposed batch of the vector paths: one per lane of a 256-bit vector.
pub(super) const BATCH: usize = 4;
/// The field modulus `2^64 - 2^32 + 1`.
pub(super) const P: u64 = 0xffff_ffff_0000_0001;
/// `2^64 - p = 2^32 - 1`: what a wrap past `2^64` is worth modulo `p`.
pub(super) const EPSILON: u64 = 0xffff_ffff;

/// The MDS matrix as small integers (`MDS[r][c]` multiplies input `c` into output `r`).
pub(super) const MDS: [[u64; WIDTH]; WIDTH] = {
    let mut out = [[0u64; WIDTH]; WIDTH];
    let mut r = 0;
    while r < WIDTH {
        let mut c = 0;
        while c < WIDTH {
            out[r][c] = Rpo256::MDS[r][c].as_int();
            c += 1;
        }
        r += 1;
    }
    out
};

/// The MDS matrix's columns in groups of four rows, as the vector paths multiply them:
/// `MDS_COLUMNS[c][j]` is `MDS[4j..4j + 4][c]`, one 256-bit vector. Gathering these from `MDS`
/// at run time took four loads and three shuffles per vector, which made the MDS layer about
/// an eighth of a lone state's permutation on the split path.
pub(super) const MDS_COLUMNS: [[[u64; 4]; WIDTH / 4]; WIDTH] = {
    let mut out = [[[0u64; 4]; WIDTH / 4]; WIDTH];
    let mut c = 0;
    while c < WIDTH {
        let mut r = 0;
        while r < WIDTH {
            out[c][r / 4][r % 4] = MDS[r][c];
            r += 1;
        }
        c += 1;
    }
    out
};

/// `p - k` for each first-half round constant `k` (stored Montgomery word), the operand of the
/// subtraction that `Felt` addition performs.
pub(super) const NEG_ARK1: [[u64; WIDTH]; NUM_ROUNDS] = negated(&Rpo256::ARK1);
/// `p - k` for each second-half round constant.
pub(super) const NEG_ARK2: [[u64; WIDTH]; NUM_ROUNDS] = negated(&Rpo256::ARK2);

const fn negated(ark: &[[crate::Felt; WIDTH]; NUM_ROUNDS]) -> [[u64; WIDTH]; NUM_ROUNDS] {
    let mut out = [[0u64; WIDTH]; NUM_ROUNDS];
    let mut r = 0;
    while r < NUM_ROUNDS {
        let mut i = 0;
        while i < WIDTH {
            // Round constants are canonical words, so this never wraps.
            out[r][i] = P - ark[r][i].inner();
            i += 1;
        }
        r += 1;
    }
    out
}

// The dimensions agree with the reference's.
const _: () = assert!(Rpo256::STATE_WIDTH == WIDTH && Rpo256::NUM_ROUNDS == NUM_ROUNDS);
// Every MDS entry is below 2^5, so a 12-term sum of entry × 32-bit half stays below 2^40.
const _: () = {
    let mut r = 0;
    while r < WIDTH {
        let mut c = 0;
        while c < WIDTH {
            assert!(MDS[r][c] < 32);
            c += 1;
        }
        r += 1;
    }
};
