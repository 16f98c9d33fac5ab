//! The advice map a program carries: digest-keyed lists of field elements that the program can
//! load onto the advice stack at run time.

use std::{collections::BTreeMap, sync::Arc};

use weft_core::{Felt, Word};

use crate::MastError;

/// A map from keys to lists of field elements, ordered by key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AdviceMap(BTreeMap<Word, Arc<[Felt]>>);

impl AdviceMap {
    /// Creates an empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Returns the values under `key`.
    pub fn get(&self, key: &Word) -> Option<&Arc<[Felt]>> {
        self.0.get(key)
    }

    /// Inserts `values` under `key`, returning the values it replaces.
    pub fn insert(&mut self, key: Word, values: impl Into<Arc<[Felt]>>) -> Option<Arc<[Felt]>> {
        self.0.insert(key, values.into())
    }

    /// Returns the number of keys.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Returns true if the map has no key.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Iterates over the entries in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&Word, &Arc<[Felt]>)> + '_ {
        self.0.iter()
    }

    /// Merges `other` into this map.
    ///
    /// # Errors
    /// Returns [`MastError::AdviceMapKeyConflict`] if a key is present in both maps with different
    /// values; the map is then left unchanged.
    pub fn merge(&mut self, other: &AdviceMap) -> Result<(), MastError> {
        for (key, values) in other.iter() {
            if let Some(existing) = self.0.get(key)
                && existing != values
            {
                return Err(MastError::AdviceMapKeyConflict { key: *key });
            }
        }
        for (key, values) in other.iter() {
            self.0.insert(*key, values.clone());
        }
        Ok(())
    }
}

impl FromIterator<(Word, Vec<Felt>)> for AdviceMap {
    fn from_iter<T: IntoIterator<Item = (Word, Vec<Felt>)>>(iter: T) -> Self {
        Self(iter.into_iter().map(|(k, v)| (k, Arc::from(v))).collect())
    }
}
