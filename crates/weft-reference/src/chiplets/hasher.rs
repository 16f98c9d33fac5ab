//! The hasher chiplet's rows: eight per permutation (the input state, then the state after
//! each of the seven rounds), with the selectors and node index upstream writes for each kind
//! of request.

use weft_core::{
    Felt, Rpo256, Word, ZERO,
    main_trace::chiplets::hasher::{
        CYCLE_LEN, LINEAR_HASH, MP_VERIFY, MR_UPDATE_NEW, MR_UPDATE_OLD, RETURN_HASH, RETURN_STATE,
        Selectors, WIDTH,
    },
};

use crate::log::HasherRequest;

/// One hasher row: `s0 s1 s2`, `h0..h11`, `idx`.
pub(crate) type HasherRow = [Felt; WIDTH];

/// RPO's number of rounds.
const NUM_ROUNDS: usize = 7;

/// The rows of every request, in request order.
pub(crate) fn rows(requests: &[HasherRequest]) -> Vec<HasherRow> {
    let n_rows = requests.iter().map(|r| CYCLE_LEN * r.n_perms()).sum();
    let mut rows = Vec::with_capacity(n_rows);
    for request in requests {
        request_rows(&mut rows, request);
    }
    rows
}

/// Appends the rows of one request.
fn request_rows(rows: &mut Vec<HasherRow>, request: &HasherRequest) {
    match request {
        HasherRequest::ControlBlock { h1, h2, domain } => {
            let mut state = state_from_words(*h1, *h2);
            state[1] = *domain;
            permutation(rows, &mut state, LINEAR_HASH, RETURN_HASH, ZERO, ZERO);
        }
        HasherRequest::BasicBlock { batches } => basic_block(rows, batches),
        HasherRequest::Permute { state } => {
            let mut state = *state;
            permutation(rows, &mut state, LINEAR_HASH, RETURN_STATE, ZERO, ZERO);
        }
        HasherRequest::MerkleVerify { leaf, path, index } => {
            merkle_path(rows, *leaf, path, *index, MP_VERIFY);
        }
        HasherRequest::MerkleUpdate {
            old,
            new,
            path,
            index,
        } => {
            merkle_path(rows, *old, path, *index, MR_UPDATE_OLD);
            merkle_path(rows, *new, path, *index, MR_UPDATE_NEW);
        }
    }
}

/// A basic block's batches: the first batch's groups fill the rate of a zero state; each
/// further batch overwrites the rate and the capacity carries over. A single batch starts with
/// `LINEAR_HASH` and ends with `RETURN_HASH`; with several, the first permutation starts with
/// `LINEAR_HASH`, later ones with all-zero selectors, and every permutation but the last ends
/// with `LINEAR_HASH` (absorb the next batch).
fn basic_block(rows: &mut Vec<HasherRow>, batches: &[[Felt; 8]]) {
    const CONTINUE: Selectors = [ZERO, LINEAR_HASH[1], LINEAR_HASH[2]];
    let mut state = [ZERO; 12];
    let n = batches.len();
    for (k, groups) in batches.iter().enumerate() {
        state[4..].copy_from_slice(groups);
        let init = if k == 0 { LINEAR_HASH } else { CONTINUE };
        let last = if k + 1 == n { RETURN_HASH } else { LINEAR_HASH };
        permutation(rows, &mut state, init, last, ZERO, ZERO);
    }
}

/// One Merkle path from `value` at `index` up to the root, one permutation per level. The
/// first level starts with `main` selectors, later levels with `main` less its first selector;
/// every level but the last ends with `main`, the last with `RETURN_HASH`. The index column
/// holds `index` on the very first row and the index of the level above everywhere else.
fn merkle_path(rows: &mut Vec<HasherRow>, value: Word, path: &[Word], index: u64, main: Selectors) {
    let part = [ZERO, main[1], main[2]];
    let mut node = value;
    let mut index = index;
    for (level, sibling) in path.iter().enumerate() {
        let init = if level == 0 { main } else { part };
        let last = if level + 1 == path.len() {
            RETURN_HASH
        } else {
            main
        };
        let mut state = if index & 1 == 0 {
            state_from_words(node, *sibling)
        } else {
            state_from_words(*sibling, node)
        };
        let init_index = if level == 0 { index } else { index >> 1 };
        permutation(
            rows,
            &mut state,
            init,
            last,
            Felt::new(init_index),
            Felt::new(index >> 1),
        );
        index >>= 1;
        node = [state[4], state[5], state[6], state[7]].into();
    }
}

/// The state `[0, 0, 0, 0, a, b]`.
fn state_from_words(a: Word, b: Word) -> [Felt; 12] {
    let mut state = [ZERO; 12];
    state[4..8].copy_from_slice(a.as_elements());
    state[8..].copy_from_slice(b.as_elements());
    state
}

/// Appends the eight rows of one permutation of `state` (left holding its output): the input
/// with `init` selectors and `init_index`, the states after rounds 0..5 with `[0, init[1],
/// init[2]]`, and the output with `last` selectors; rows after the first hold `rest_index`.
fn permutation(
    rows: &mut Vec<HasherRow>,
    state: &mut [Felt; 12],
    init: Selectors,
    last: Selectors,
    init_index: Felt,
    rest_index: Felt,
) {
    rows.push(row(init, state, init_index));
    let middle = [ZERO, init[1], init[2]];
    for round in 0..NUM_ROUNDS {
        Rpo256::apply_round(state, round);
        let selectors = if round + 1 == NUM_ROUNDS {
            last
        } else {
            middle
        };
        rows.push(row(selectors, state, rest_index));
    }
}

fn row(selectors: Selectors, state: &[Felt; 12], index: Felt) -> HasherRow {
    let mut row = [ZERO; WIDTH];
    row[..3].copy_from_slice(&selectors);
    row[3..15].copy_from_slice(state);
    row[15] = index;
    row
}
