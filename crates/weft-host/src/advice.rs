//! The advice provider: the advice stack, the advice map, the Merkle store and the precompile
//! requests a program accumulates, with the operations the VM's instructions and system events
//! need.

use miden_crypto::merkle::{InnerNodeInfo, MerkleError, MerklePath, NodeIndex, store::MerkleStore};
use weft_core::{Felt, Word, ZERO};
use weft_mast::AdviceMap;

use crate::{AdviceInputs, EventId};

/// Why an advice operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdviceError {
    /// The advice stack holds fewer elements than requested.
    #[error("advice stack read failed: not enough elements")]
    StackReadFailed,
    /// No advice map entry under the key.
    #[error("advice map key {key:?} not found")]
    MapKeyNotFound {
        /// The missing key.
        key: Word,
    },
    /// The key is already in the map with different values.
    #[error("advice map key {key:?} already present with different values")]
    MapKeyAlreadyPresent {
        /// The key.
        key: Word,
    },
    /// The depth/index pair does not name a node.
    #[error("invalid merkle tree node index (depth {depth}, index {index})")]
    InvalidMerkleTreeNodeIndex {
        /// The depth.
        depth: u64,
        /// The index.
        index: u64,
    },
    /// A Merkle store lookup failed (root or node not in the store).
    #[error("merkle store lookup failed")]
    MerkleStoreLookupFailed(#[source] MerkleError),
    /// A Merkle store update failed.
    #[error("merkle store update failed")]
    MerkleStoreUpdateFailed(#[source] MerkleError),
    /// Merging two roots failed.
    #[error("merkle store merge failed")]
    MerkleStoreMergeFailed(#[source] MerkleError),
}

/// A node of a tree in the Merkle store with the walk down to it from the root, as the store
/// holds them: what a caller needs to check the node's authentication path level by level.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MerkleOpening {
    /// The node the store holds at the index.
    pub value: Word,
    /// The authentication path, leaf level first (as [`MerklePath`] orders it).
    pub siblings: Vec<Word>,
    /// The inner nodes passed on the way, in the same order: `parents[i]` is the node whose
    /// children are the walk's node at level `i` and `siblings[i]`; the last one is the root.
    /// The store does not promise that a parent is the hash of its children (its nodes can be
    /// given whole, by the inputs or by event handlers).
    pub parents: Vec<Word>,
}

/// A deferred precompile computation logged by an event handler.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrecompileRequest {
    /// The event that produced it.
    pub event_id: EventId,
    /// Its call data.
    pub calldata: Vec<u8>,
}

/// A change to the advice provider requested by an event handler.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AdviceMutation {
    /// Push `values` onto the advice stack in order (the last one ends on top).
    ExtendStack {
        /// The values.
        values: Vec<Felt>,
    },
    /// Merge entries into the advice map (conflicting values are an error).
    ExtendMap {
        /// The entries.
        other: AdviceMap,
    },
    /// Add inner nodes to the Merkle store.
    ExtendMerkleStore {
        /// The nodes.
        infos: Vec<InnerNodeInfo>,
    },
    /// Log precompile requests.
    ExtendPrecompileRequests {
        /// The requests.
        data: Vec<PrecompileRequest>,
    },
}

impl AdviceMutation {
    /// A mutation pushing `values` in order (the last one ends on top).
    pub fn extend_stack(values: impl IntoIterator<Item = Felt>) -> Self {
        Self::ExtendStack {
            values: values.into_iter().collect(),
        }
    }
}

/// The advice provider. Its stack keeps the top at the end of the vector.
#[derive(Clone, Debug, Default)]
pub struct AdviceProvider {
    stack: Vec<Felt>,
    map: AdviceMap,
    store: MerkleStore,
    pc_requests: Vec<PrecompileRequest>,
}

impl From<AdviceInputs> for AdviceProvider {
    fn from(inputs: AdviceInputs) -> Self {
        let AdviceInputs {
            mut stack,
            map,
            store,
        } = inputs;
        stack.reverse();
        Self {
            stack,
            map,
            store,
            pc_requests: Vec::new(),
        }
    }
}

impl AdviceProvider {
    // MUTATIONS
    // --------------------------------------------------------------------------------------------

    /// Applies `mutations` in order.
    ///
    /// # Errors
    /// [`AdviceError::MapKeyAlreadyPresent`] if a map extension conflicts.
    pub fn apply_mutations(
        &mut self,
        mutations: impl IntoIterator<Item = AdviceMutation>,
    ) -> Result<(), AdviceError> {
        for mutation in mutations {
            match mutation {
                AdviceMutation::ExtendStack { values } => self.stack.extend(values),
                AdviceMutation::ExtendMap { other } => self.extend_map(&other)?,
                AdviceMutation::ExtendMerkleStore { infos } => self.store.extend(infos),
                AdviceMutation::ExtendPrecompileRequests { data } => self.pc_requests.extend(data),
            }
        }
        Ok(())
    }

    // STACK
    // --------------------------------------------------------------------------------------------

    /// Pops the top element.
    ///
    /// # Errors
    /// [`AdviceError::StackReadFailed`] if the stack is empty.
    pub fn pop_stack(&mut self) -> Result<Felt, AdviceError> {
        self.stack.pop().ok_or(AdviceError::StackReadFailed)
    }

    /// Pops four elements as a word: element `i` of the word is the `i`-th popped.
    ///
    /// # Errors
    /// [`AdviceError::StackReadFailed`] if fewer than four elements remain (nothing is popped).
    pub fn pop_stack_word(&mut self) -> Result<Word, AdviceError> {
        let n = self.stack.len();
        if n < 4 {
            return Err(AdviceError::StackReadFailed);
        }
        let word = [
            self.stack[n - 1],
            self.stack[n - 2],
            self.stack[n - 3],
            self.stack[n - 4],
        ];
        self.stack.truncate(n - 4);
        Ok(word.into())
    }

    /// Pops two words.
    ///
    /// # Errors
    /// [`AdviceError::StackReadFailed`] if fewer than eight elements remain.
    pub fn pop_stack_dword(&mut self) -> Result<[Word; 2], AdviceError> {
        if self.stack.len() < 8 {
            return Err(AdviceError::StackReadFailed);
        }
        let first = self.pop_stack_word()?;
        let second = self.pop_stack_word()?;
        Ok([first, second])
    }

    /// Pushes one element on top.
    pub fn push_stack(&mut self, value: Felt) {
        self.stack.push(value);
    }

    /// Pushes a word so that a following [`Self::pop_stack_word`] returns it unchanged.
    pub fn push_stack_word(&mut self, word: &Word) {
        self.stack.extend(word.iter().rev());
    }

    /// Pushes the values under `key` so that the first value ends on top; zero padding (to a
    /// multiple of `pad_to`, if non-zero) goes below them, and the length (if `include_len`)
    /// above them.
    ///
    /// # Errors
    /// [`AdviceError::MapKeyNotFound`].
    pub fn push_from_map(
        &mut self,
        key: Word,
        include_len: bool,
        pad_to: u8,
    ) -> Result<(), AdviceError> {
        let values = self
            .map
            .get(&key)
            .ok_or(AdviceError::MapKeyNotFound { key })?;
        if pad_to != 0 {
            let n_pad = values.len().next_multiple_of(usize::from(pad_to)) - values.len();
            self.stack.extend(std::iter::repeat_n(ZERO, n_pad));
        }
        self.stack.extend(values.iter().rev());
        if include_len {
            self.stack.push(Felt::new(values.len() as u64));
        }
        Ok(())
    }

    /// Returns the stack, top last.
    pub fn stack(&self) -> &[Felt] {
        &self.stack
    }

    /// Pushes every value of `values` in order (the last one ends on top).
    pub fn extend_stack(&mut self, values: impl IntoIterator<Item = Felt>) {
        self.stack.extend(values);
    }

    // MAP
    // --------------------------------------------------------------------------------------------

    /// Returns the advice map.
    pub fn map(&self) -> &AdviceMap {
        &self.map
    }

    /// Returns true if the map has `key`.
    pub fn contains_map_key(&self, key: &Word) -> bool {
        self.map.get(key).is_some()
    }

    /// Returns the values under `key`.
    pub fn get_mapped_values(&self, key: &Word) -> Option<&[Felt]> {
        self.map.get(key).map(|v| v.as_ref())
    }

    /// Inserts `values` under `key`; inserting identical values again is allowed.
    ///
    /// # Errors
    /// [`AdviceError::MapKeyAlreadyPresent`] if the key holds different values.
    pub fn insert_into_map(&mut self, key: Word, values: Vec<Felt>) -> Result<(), AdviceError> {
        match self.map.get(&key) {
            Some(existing) if existing.as_ref() != values.as_slice() => {
                Err(AdviceError::MapKeyAlreadyPresent { key })
            }
            Some(_) => Ok(()),
            None => {
                self.map.insert(key, values);
                Ok(())
            }
        }
    }

    /// Merges `other` into the map.
    ///
    /// # Errors
    /// [`AdviceError::MapKeyAlreadyPresent`] on a conflicting key (the map is unchanged).
    pub fn extend_map(&mut self, other: &AdviceMap) -> Result<(), AdviceError> {
        self.map.merge(other).map_err(|err| match err {
            weft_mast::MastError::AdviceMapKeyConflict { key } => {
                AdviceError::MapKeyAlreadyPresent { key }
            }
            _ => AdviceError::MapKeyAlreadyPresent {
                key: Word::default(),
            },
        })
    }

    // MERKLE STORE
    // --------------------------------------------------------------------------------------------

    /// Returns the Merkle store.
    pub fn store(&self) -> &MerkleStore {
        &self.store
    }

    /// Adds inner nodes to the store.
    pub fn extend_merkle_store(&mut self, infos: impl IntoIterator<Item = InnerNodeInfo>) {
        self.store.extend(infos);
    }

    /// Returns the node at `depth`/`index` of the tree with `root`.
    ///
    /// # Errors
    /// An invalid index, or a node missing from the store.
    pub fn get_tree_node(&self, root: Word, depth: Felt, index: Felt) -> Result<Word, AdviceError> {
        let idx = node_index(depth, index)?;
        self.store
            .get_node(root, idx)
            .map_err(AdviceError::MerkleStoreLookupFailed)
    }

    /// Returns the authentication path of the node at `depth`/`index` of the tree with `root`.
    ///
    /// # Errors
    /// An invalid index, or a path missing from the store.
    pub fn get_merkle_path(
        &self,
        root: Word,
        depth: Felt,
        index: Felt,
    ) -> Result<MerklePath, AdviceError> {
        let idx = node_index(depth, index)?;
        self.store
            .get_path(root, idx)
            .map(|proof| proof.path)
            .map_err(AdviceError::MerkleStoreLookupFailed)
    }

    /// Returns the node at `depth`/`index` of the tree with `root` with its siblings and the
    /// inner nodes above it ([`MerkleOpening`]).
    ///
    /// # Errors
    /// The errors of [`AdviceProvider::get_merkle_path`], exactly.
    pub fn merkle_opening(
        &self,
        root: Word,
        depth: Felt,
        index: Felt,
    ) -> Result<MerkleOpening, AdviceError> {
        let idx = node_index(depth, index)?;
        let depth = usize::from(idx.depth());
        let mut opening = MerkleOpening {
            value: root,
            siblings: Vec::with_capacity(depth),
            parents: Vec::with_capacity(depth),
        };
        if depth == 0 {
            // The root must still be in the store.
            self.store
                .get_path(root, idx)
                .map_err(AdviceError::MerkleStoreLookupFailed)?;
            return Ok(opening);
        }
        // One level at a time, from the root down: each step is a depth-1 path from the node
        // reached, which gives both its children (the store lends no other access to them).
        let steps = [
            NodeIndex::root().left_child(),
            NodeIndex::root().right_child(),
        ];
        for level in (0..depth).rev() {
            let step = steps[usize::from(idx.is_nth_bit_odd(level as u8))];
            let proof = match self.store.get_path(opening.value, step) {
                Ok(proof) => proof,
                // The same lookups as the whole path's, in the same order, so the same failure;
                // its error names the whole index, so it comes from the whole path's lookup.
                Err(step_err) => {
                    return Err(AdviceError::MerkleStoreLookupFailed(
                        self.store.get_path(root, idx).err().unwrap_or(step_err),
                    ));
                }
            };
            opening.parents.push(opening.value);
            opening.siblings.extend(proof.path.nodes().first().copied());
            opening.value = proof.value;
        }
        opening.siblings.reverse();
        opening.parents.reverse();
        Ok(opening)
    }

    /// Replaces the node at `depth`/`index` of the tree with `root` by `value` (the old tree
    /// stays in the store), returning the old node's path and the new root.
    ///
    /// # Errors
    /// An invalid index, or a path missing from the store.
    pub fn update_merkle_node(
        &mut self,
        root: Word,
        depth: Felt,
        index: Felt,
        value: Word,
    ) -> Result<(MerklePath, Word), AdviceError> {
        let idx = node_index(depth, index)?;
        self.store
            .set_node(root, idx, value)
            .map(|r| (r.path, r.root))
            .map_err(AdviceError::MerkleStoreUpdateFailed)
    }

    /// Adds the parent of `lhs` and `rhs` to the store and returns it.
    ///
    /// # Errors
    /// [`AdviceError::MerkleStoreMergeFailed`].
    pub fn merge_roots(&mut self, lhs: Word, rhs: Word) -> Result<Word, AdviceError> {
        self.store
            .merge_roots(lhs, rhs)
            .map_err(AdviceError::MerkleStoreMergeFailed)
    }

    // PRECOMPILES
    // --------------------------------------------------------------------------------------------

    /// Returns the precompile requests logged so far.
    pub fn precompile_requests(&self) -> &[PrecompileRequest] {
        &self.pc_requests
    }

    /// Splits the provider into its stack (top last), map, store and precompile requests.
    pub fn into_parts(self) -> (Vec<Felt>, AdviceMap, MerkleStore, Vec<PrecompileRequest>) {
        (self.stack, self.map, self.store, self.pc_requests)
    }
}

fn node_index(depth: Felt, index: Felt) -> Result<NodeIndex, AdviceError> {
    NodeIndex::from_elements(&depth, &index).map_err(|_| AdviceError::InvalidMerkleTreeNodeIndex {
        depth: depth.as_int(),
        index: index.as_int(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn felts(v: &[u64]) -> Vec<Felt> {
        v.iter().copied().map(Felt::new).collect()
    }

    #[test]
    fn stack_order_matches_upstream() {
        let inputs = AdviceInputs::default().with_stack(felts(&[1, 2, 3, 4, 5, 6, 7, 8, 9]));
        let mut adv = AdviceProvider::from(inputs);
        assert_eq!(adv.pop_stack().ok(), Some(Felt::new(1)));
        let w = adv.pop_stack_word().expect("word");
        assert_eq!(w, Word::from([2u64, 3, 4, 5].map(Felt::new)));
        assert!(matches!(
            adv.pop_stack_dword(),
            Err(AdviceError::StackReadFailed)
        ));
        adv.push_stack_word(&w);
        assert_eq!(adv.pop_stack_word().ok(), Some(w));
    }

    #[test]
    fn push_from_map_pads_and_counts() {
        let key = Word::from([1u64, 0, 0, 0].map(Felt::new));
        let inputs = AdviceInputs::default().with_map([(key, felts(&[7, 8, 9]))]);
        let mut adv = AdviceProvider::from(inputs);
        adv.push_from_map(key, true, 4).expect("present");
        assert_eq!(adv.stack(), felts(&[0, 9, 8, 7, 3]).as_slice());
        assert!(matches!(
            adv.push_from_map(Word::default(), false, 0),
            Err(AdviceError::MapKeyNotFound { .. })
        ));
        assert!(adv.insert_into_map(key, felts(&[7, 8, 9])).is_ok());
        assert!(matches!(
            adv.insert_into_map(key, felts(&[1])),
            Err(AdviceError::MapKeyAlreadyPresent { .. })
        ));
    }
}
