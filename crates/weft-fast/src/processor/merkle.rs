//! Merkle paths for `MPVERIFY` and `MRUPDATE`: checked level by level where the store's nodes
//! allow it, else hashed as one chain from the leaf up.
//!
//! Up a path, each level's hash waits for the one below: a chain of permutations that runs at
//! the permutation's latency. But the store already holds every node on the way
//! ([`MerkleOpening`]), so each level can be checked on its own: does this parent hash from its
//! two children? Those checks are independent, and [`rpo::permute_many`] (or
//! [`rpo::permute_rounds_many`], where a trace builder wants the round states) runs them eight
//! or four at a time on the vector paths. When the leaf is the store's node and every level
//! checks out, the chain would end at the root too, through the same states (each level's input
//! is the level below's checked output), so the answer and the round states are the chain's. When
//! anything does not check out, the chain runs after all: the store does not promise that its
//! parents are their children's hashes (its nodes can come whole from the inputs or from event
//! handlers), and only the chain then gives upstream's answer.
//!
//! Measured on masm-examples' `merkle_store` (three lookups, one of them 64 levels deep;
//! `weft-compare`, Intel Xeon VM): execute 0.481 -> 0.345 ms and execute_for_trace 0.488 ->
//! 0.363 ms with the checks four at a time, 0.258 and 0.275 ms eight at a time (AVX-512),
//! upstream's 0.47 ms for both.

use miden_crypto::merkle::InnerNodeInfo;
use weft_core::{Felt, Word, ZERO, rpo};
use weft_host::{AdviceProvider, MerkleOpening};

/// Hashes `node` up a Merkle path (leaf level first) at `index`; returns the root and, when
/// `keep` says so, each level's round states (a trace builder writes them on the hasher
/// chiplet's rows), else none.
pub(super) fn merkle_root(
    node: Word,
    path: &[Word],
    mut index: u64,
    keep: bool,
) -> (Word, PathRounds) {
    let mut value = node;
    let mut rounds = Vec::with_capacity(if keep { path.len() } else { 0 });
    for sibling in path {
        let pair = ordered(value, *sibling, index);
        value = if keep {
            let mut state = rpo::merge_state(&pair, ZERO);
            let mut level = [[ZERO; 12]; 7];
            rpo::permute_rounds(&mut state, &mut level);
            rounds.push(level);
            rpo::digest_of(&state)
        } else {
            rpo::merge(&pair)
        };
        index >>= 1;
    }
    (value, rounds)
}

/// Each level's round states, leaf level first: a trace builder writes them on the hasher
/// chiplet's rows.
pub(super) type PathRounds = Vec<[[Felt; 12]; 7]>;

/// Whether `node` opens `opening` at `index`, checked level by level: `Some` means the chain
/// from `node` through the siblings ends at the opening's root, and holds each level's round
/// states where `keep` asks for them (the chain's own, since its inputs are the levels'); `None`
/// means only that the levels did not all check out, and the chain must give the answer.
pub(super) fn opens_by_levels(
    node: Word,
    opening: &MerkleOpening,
    index: u64,
    keep: bool,
) -> Option<PathRounds> {
    if node != opening.value {
        return None;
    }
    let mut child = node;
    let mut states: Vec<rpo::State> = Vec::with_capacity(opening.siblings.len());
    for (level, (sibling, parent)) in opening.siblings.iter().zip(&opening.parents).enumerate() {
        let pair = ordered(child, *sibling, index >> level);
        states.push(rpo::merge_state(&pair, ZERO));
        child = *parent;
    }
    let rounds = if keep {
        rpo::permute_rounds_many(&mut states)
    } else {
        rpo::permute_many(&mut states);
        Vec::new()
    };
    states
        .iter()
        .zip(&opening.parents)
        .all(|(state, parent)| rpo::digest_of(state) == *parent)
        .then_some(rounds)
}

/// `MRUPDATE` checked level by level: the old path's levels checked, the new path hashed, and
/// its nodes put in the store as the store's own update would. Returns the siblings, the new
/// root and, where `keep` asks for them, the old path's round states; `None` (and the store
/// untouched) where that cannot answer: the lookup failed (its error is the store update's to
/// give), the old node is not the store's, a level does not check out, or the new node is the
/// old one (the store then changes nothing and returns the old root).
pub(super) fn update_by_levels(
    advice: &mut AdviceProvider,
    (old_node, new_node): (Word, Word),
    (depth, index): (Felt, Felt),
    old_root: Word,
    keep: bool,
) -> Option<(Vec<Word>, Word, PathRounds)> {
    let opening = advice.merkle_opening(old_root, depth, index).ok()?;
    if new_node == opening.value {
        return None;
    }
    let index = index.as_int();
    // With round states to keep, the old levels go eight or four at a time first; without, each
    // level's check is paired with the new path's permutation there (the new path is a chain).
    let rounds = if keep {
        Some(opens_by_levels(old_node, &opening, index, true)?)
    } else if old_node != opening.value {
        return None;
    } else {
        None
    };
    let mut nodes = Vec::with_capacity(opening.siblings.len());
    let (mut new_child, mut old_child) = (new_node, old_node);
    for (level, (sibling, parent)) in opening.siblings.iter().zip(&opening.parents).enumerate() {
        let [left, right] = ordered(new_child, *sibling, index >> level);
        let mut new_state = rpo::merge_state(&[left, right], ZERO);
        if rounds.is_some() {
            rpo::permute(&mut new_state);
        } else {
            let old_pair = ordered(old_child, *sibling, index >> level);
            let mut states = [new_state, rpo::merge_state(&old_pair, ZERO)];
            rpo::permute_many(&mut states);
            if rpo::digest_of(&states[1]) != *parent {
                return None;
            }
            new_state = states[0];
        }
        new_child = rpo::digest_of(&new_state);
        nodes.push(InnerNodeInfo {
            value: new_child,
            left,
            right,
        });
        old_child = *parent;
    }
    advice.extend_merkle_store(nodes);
    Some((opening.siblings, new_child, rounds.unwrap_or_default()))
}

/// The pair a level merges: the walk's node on the side `index`'s lowest bit names.
#[inline]
fn ordered(node: Word, sibling: Word, index: u64) -> [Word; 2] {
    if index & 1 == 0 {
        [node, sibling]
    } else {
        [sibling, node]
    }
}

#[cfg(test)]
mod tests {
    use miden_crypto::merkle::{MerkleTree, store::MerkleStore};
    use weft_core::Felt;
    use weft_host::AdviceInputs;

    use super::*;

    fn word(v: u64) -> Word {
        Word::new([
            Felt::new(v),
            Felt::new(v + 1),
            Felt::new(v + 2),
            Felt::new(v + 3),
        ])
    }

    /// A provider over a sound tree of eight leaves, and the tree.
    fn sound() -> (AdviceProvider, MerkleTree) {
        let tree = MerkleTree::new((0..8).map(|i| word(10 * i)).collect::<Vec<_>>()).expect("tree");
        let mut store = MerkleStore::default();
        store.extend(tree.inner_nodes());
        (
            AdviceInputs::default().with_merkle_store(store).into(),
            tree,
        )
    }

    /// A provider whose store holds `root` = merge(a, b) with the children (forged, b): a parent
    /// that is not its children's hash. Returns it with `root`, `a`, `forged` and `b`.
    fn forged_provider() -> (AdviceProvider, [Word; 4]) {
        let (a, forged, b) = (word(1), word(100), word(7));
        let root = rpo::merge(&[a, b]);
        let mut store = MerkleStore::default();
        store.extend([InnerNodeInfo {
            value: root,
            left: forged,
            right: b,
        }]);
        (
            AdviceInputs::default().with_merkle_store(store).into(),
            [root, a, forged, b],
        )
    }

    fn felt(v: u64) -> Felt {
        Felt::new(v)
    }

    #[test]
    fn levels_give_the_chains_answer_on_a_sound_tree() {
        let (advice, tree) = sound();
        for depth in 0..=3u64 {
            for index in 0..(1u64 << depth) {
                let opening = advice
                    .merkle_opening(tree.root(), felt(depth), felt(index))
                    .expect("opening");
                let path = advice
                    .get_merkle_path(tree.root(), felt(depth), felt(index))
                    .expect("path");
                assert_eq!(
                    opening.siblings,
                    path.nodes(),
                    "depth {depth} index {index}"
                );
                assert_eq!(
                    opening.parents.last().copied().unwrap_or(opening.value),
                    tree.root()
                );
                let (root, _) = merkle_root(opening.value, &opening.siblings, index, false);
                assert_eq!(root, tree.root());
                assert_eq!(
                    opens_by_levels(opening.value, &opening, index, false),
                    Some(Vec::new())
                );
                let (_, chain_rounds) = merkle_root(opening.value, &opening.siblings, index, true);
                assert_eq!(
                    opens_by_levels(opening.value, &opening, index, true),
                    Some(chain_rounds)
                );
                let wrong = word(999);
                assert_eq!(opens_by_levels(wrong, &opening, index, true), None);
                assert_eq!(
                    merkle_root(wrong, &opening.siblings, index, false).0 == tree.root(),
                    depth == 0 && wrong == tree.root()
                );
            }
        }
    }

    #[test]
    fn openings_fail_as_paths_do() {
        let (advice, tree) = sound();
        let cases = [
            (&advice, word(5), 3, 1),      // root not in the store
            (&advice, tree.root(), 3, 8),  // index past the depth
            (&advice, tree.root(), 65, 0), // depth past 64
            (&advice, tree.root(), 4, 3),  // below the leaves
        ];
        for (provider, root, depth, index) in cases {
            let opening = provider.merkle_opening(root, felt(depth), felt(index));
            let path = provider.get_merkle_path(root, felt(depth), felt(index));
            assert_eq!(
                format!("{:?}", opening.err()),
                format!("{:?}", path.err()),
                "root {root:?} depth {depth} index {index}"
            );
        }
        // A walk that stops below the root names the whole index, as the path's lookup does.
        let (forged, [root, ..]) = forged_provider();
        let opening = forged.merkle_opening(root, felt(2), felt(1)).map(|_| ());
        let path = forged.get_merkle_path(root, felt(2), felt(1)).map(|_| ());
        assert!(opening.is_err());
        assert_eq!(format!("{opening:?}"), format!("{path:?}"));
    }

    #[test]
    fn a_forged_parent_sends_the_check_to_the_chain() {
        let (advice, [root, a, forged, _]) = forged_provider();
        let opening = advice
            .merkle_opening(root, felt(1), felt(0))
            .expect("opening");
        assert_eq!(opening.value, forged);
        // The real child hashes to the root along the store's path, though the store holds
        // another: the levels cannot say so, the chain does.
        assert_eq!(opens_by_levels(a, &opening, 0, false), None);
        assert_eq!(merkle_root(a, &opening.siblings, 0, false).0, root);
        // The store's own child does not hash to the root.
        assert_eq!(opens_by_levels(forged, &opening, 0, true), None);
        assert_ne!(merkle_root(forged, &opening.siblings, 0, false).0, root);
        // An update leaves it to the store's own path too, touching nothing.
        for keep in [false, true] {
            let mut updated = advice.clone();
            let by_levels = update_by_levels(
                &mut updated,
                (forged, word(50)),
                (felt(1), felt(0)),
                root,
                keep,
            );
            assert_eq!(by_levels, None);
            assert_eq!(updated.store(), advice.store());
        }
    }

    #[test]
    fn updates_by_levels_leave_the_store_as_its_own_update_does() {
        let (advice, tree) = sound();
        for depth in 1..=3u64 {
            for index in 0..(1u64 << depth) {
                let old = advice
                    .get_tree_node(tree.root(), felt(depth), felt(index))
                    .expect("node");
                let new = word(500 + index);
                let mut by_store = advice.clone();
                let (path, root) = by_store
                    .update_merkle_node(tree.root(), felt(depth), felt(index), new)
                    .expect("store update");
                // The old path's round states, as the chain gives them.
                let (_, chain_rounds) = merkle_root(old, path.nodes(), index, true);
                for keep in [false, true] {
                    let mut by_levels = advice.clone();
                    let got = update_by_levels(
                        &mut by_levels,
                        (old, new),
                        (felt(depth), felt(index)),
                        tree.root(),
                        keep,
                    );
                    let rounds = if keep {
                        chain_rounds.clone()
                    } else {
                        Vec::new()
                    };
                    assert_eq!(
                        got,
                        Some((path.nodes().to_vec(), root, rounds)),
                        "depth {depth} index {index} keep {keep}"
                    );
                    assert_eq!(by_levels.store(), by_store.store());
                    // Not the store's node, or no change: left to the store's own update.
                    let mut untouched = advice.clone();
                    for (old_node, new_node) in [(new, new), (old, old)] {
                        let by_levels = update_by_levels(
                            &mut untouched,
                            (old_node, new_node),
                            (felt(depth), felt(index)),
                            tree.root(),
                            keep,
                        );
                        assert_eq!(by_levels, None);
                    }
                    assert_eq!(untouched.store(), advice.store());
                }
            }
        }
    }
}
