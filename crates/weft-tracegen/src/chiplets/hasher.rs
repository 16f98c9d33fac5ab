//! Hasher chiplet rows: every request owns a row range known from the prefix sums of the row
//! counts, so requests are filled in parallel; a node entered again copies the rows of its
//! first entry (upstream memoizes the same way, by digest), which are filled first.

use weft_core::rpo;
use weft_core::{
    Felt, Word, ZERO,
    main_trace::{
        CHIPLETS_OFFSET, CHIPLETS_WIDTH,
        chiplets::hasher::{
            CYCLE_LEN, LINEAR_HASH, MP_VERIFY, MR_UPDATE_NEW, MR_UPDATE_OLD, RETURN_HASH,
            RETURN_STATE, Selectors,
        },
    },
};
use weft_mast::{MastForest, MastNode};

use super::{Checked, HasherJob};
use crate::columns::CellWriter;

/// Main-trace column of chiplet column `c`.
const fn col(c: usize) -> usize {
    CHIPLETS_OFFSET + c
}

/// Writes one hasher row: selector prefix 0, the three hasher selectors, the state, the node
/// index and zeros in the unused columns.
fn write_row(out: &mut CellWriter<'_>, row: usize, sel: Selectors, state: &[Felt; 12], idx: Felt) {
    out.set(row, col(0), ZERO);
    for (i, s) in sel.iter().enumerate() {
        out.set(row, col(1 + i), *s);
    }
    for (i, v) in state.iter().enumerate() {
        out.set(row, col(4 + i), *v);
    }
    out.set(row, col(16), idx);
    for c in 17..CHIPLETS_WIDTH {
        out.set(row, col(c), ZERO);
    }
}

/// Writes one permutation of `state` (8 rows from `row`), leaving the output in `state`.
fn permutation(
    out: &mut CellWriter<'_>,
    row: usize,
    state: &mut [Felt; 12],
    init: Selectors,
    last: Selectors,
    (init_idx, rest_idx): (Felt, Felt),
) {
    // The seven round states in one call, on the path `weft_core::rpo` measured fastest for a
    // lone state on this CPU (its docs; bit-identical to `Rpo256::apply_round` on every path).
    let mut rounds = [[ZERO; rpo::STATE_WIDTH]; rpo::NUM_ROUNDS];
    let input = *state;
    rpo::permute_rounds(state, &mut rounds);
    permutation_rows(out, row, &input, &rounds, init, last, (init_idx, rest_idx));
}

/// Writes the 8 rows of a permutation of `input` whose round states are `rounds`.
fn permutation_rows(
    out: &mut CellWriter<'_>,
    row: usize,
    input: &[Felt; 12],
    rounds: &[[Felt; 12]; rpo::NUM_ROUNDS],
    init: Selectors,
    last: Selectors,
    (init_idx, rest_idx): (Felt, Felt),
) {
    write_row(out, row, init, input, init_idx);
    let mid = [ZERO, init[1], init[2]];
    let (last_round, inner) = rounds.split_last().expect("seven rounds");
    for (round, round_state) in inner.iter().enumerate() {
        write_row(out, row + 1 + round, mid, round_state, rest_idx);
    }
    write_row(out, row + CYCLE_LEN - 1, last, last_round, rest_idx);
}

/// Writes the rows of one Merkle path (`main`: the first leg's selectors), from its levels'
/// round states where the recording kept them (`rounds`, one per level), else hashing it.
fn merkle_path(
    out: &mut CellWriter<'_>,
    mut row: usize,
    (leaf, path, mut index): (Word, &[Word], u64),
    rounds: &[[[Felt; 12]; 7]],
    main: Selectors,
) {
    let part = [ZERO, main[1], main[2]];
    let mut node = leaf;
    let depth = path.len();
    for (leg, sibling) in path.iter().enumerate() {
        let pair = if index & 1 == 0 {
            [node, *sibling]
        } else {
            [*sibling, node]
        };
        let mut state = rpo::merge_state(&pair, ZERO);
        let init = if leg == 0 { main } else { part };
        let last = if leg + 1 == depth { RETURN_HASH } else { main };
        let idx = if leg == 0 {
            (Felt::new(index), Felt::new(index >> 1))
        } else {
            (Felt::new(index >> 1), Felt::new(index >> 1))
        };
        match rounds.get(leg) {
            Some(kept) => {
                permutation_rows(out, row, &state, kept, init, last, idx);
                state = kept[rpo::NUM_ROUNDS - 1];
            }
            None => permutation(out, row, &mut state, init, last, idx),
        }
        node = rpo::digest_of(&state);
        index >>= 1;
        row += CYCLE_LEN;
    }
}

/// Writes the rows of a node's start: a basic block's batches absorbed one permutation each,
/// or a control node's two child digests hashed in its domain.
fn node_rows(out: &mut CellWriter<'_>, row: usize, forest: &MastForest, node: &MastNode) {
    let zero_idx = (ZERO, ZERO);
    if let MastNode::Block(block) = node {
        let batches = block.batches().expect("batching was checked when planning");
        let n = batches.len();
        let mut state = [ZERO; 12];
        state[4..].copy_from_slice(batches[0].groups());
        let cont = [ZERO, LINEAR_HASH[1], LINEAR_HASH[2]];
        for (k, batch) in batches.iter().enumerate() {
            if k > 0 {
                state[4..].copy_from_slice(batch.groups());
            }
            let init = if k == 0 { LINEAR_HASH } else { cont };
            let last = if k + 1 == n { RETURN_HASH } else { LINEAR_HASH };
            permutation(out, row + k * CYCLE_LEN, &mut state, init, last, zero_idx);
        }
        return;
    }
    let child = |i: usize| {
        node.children()
            .get(i)
            .and_then(|id| forest.get(*id))
            .map_or(Word::default(), MastNode::digest)
    };
    let (h1, h2) = match node {
        MastNode::Join(_) | MastNode::Split(_) => (child(0), child(1)),
        MastNode::Loop(_) | MastNode::Call(_) => (child(0), Word::default()),
        _ => (Word::default(), Word::default()),
    };
    let mut state = rpo::merge_state(&[h1, h2], node.domain());
    permutation(out, row, &mut state, LINEAR_HASH, RETURN_HASH, zero_idx);
}

/// Writes the rows of one checked request at `row`.
pub(super) fn fill(out: &mut CellWriter<'_>, row: usize, job: &HasherJob<'_>) {
    match &job.checked {
        Checked::Node { forest, node } => node_rows(out, row, forest, node),
        // Round states kept by the recording execution (`weft_replay::PermuteRequest`) are
        // written as they are: they come only from the permutation of this very input.
        Checked::Permute(input, Some(rounds)) => {
            permutation_rows(
                out,
                row,
                input,
                rounds,
                LINEAR_HASH,
                RETURN_STATE,
                (ZERO, ZERO),
            );
        }
        Checked::Permute(state, None) => {
            let mut state = *state;
            permutation(
                out,
                row,
                &mut state,
                LINEAR_HASH,
                RETURN_STATE,
                (ZERO, ZERO),
            );
        }
        // Round states kept by the recording execution come only from hashing this very path
        // (`weft_replay::MerkleVerifyRequest`).
        Checked::MerkleVerify {
            leaf,
            index,
            path,
            rounds,
        } => {
            merkle_path(out, row, (*leaf, path, *index), rounds, MP_VERIFY);
        }
        Checked::MerkleUpdate {
            old,
            new,
            index,
            path,
            old_rounds,
        } => {
            merkle_path(out, row, (*old, path, *index), old_rounds, MR_UPDATE_OLD);
            let half = path.len() * CYCLE_LEN;
            merkle_path(out, row + half, (*new, path, *index), &[], MR_UPDATE_NEW);
        }
    }
}
