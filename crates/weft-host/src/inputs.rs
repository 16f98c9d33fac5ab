//! Stack inputs, stack outputs and advice inputs.

use miden_crypto::merkle::store::MerkleStore;
use weft_core::{Felt, ZERO};
use weft_mast::AdviceMap;

use crate::MIN_STACK_DEPTH;

/// Why program inputs could not be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// More than sixteen stack inputs were given.
    #[error("{n_inputs} stack inputs exceed the limit of {MIN_STACK_DEPTH}")]
    TooManyStackValues {
        /// How many were given.
        n_inputs: usize,
    },
    /// A value is not a canonical field element.
    #[error("value {value} is not a field element")]
    NotFieldElement {
        /// The offending value.
        value: u64,
    },
}

/// The initial operand stack: sixteen elements, top first, zero padded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StackInputs([Felt; MIN_STACK_DEPTH]);

impl StackInputs {
    /// Creates stack inputs from `values`, given top first (`values[0]` ends on top).
    ///
    /// Note that this is the reverse of upstream's `StackInputs::new`, which takes the values
    /// bottom first; use [`Self::from_bottom_first`] for that order.
    ///
    /// # Errors
    /// [`InputError::TooManyStackValues`] past sixteen values.
    pub fn new(values: &[Felt]) -> Result<Self, InputError> {
        if values.len() > MIN_STACK_DEPTH {
            return Err(InputError::TooManyStackValues {
                n_inputs: values.len(),
            });
        }
        let mut stack = [ZERO; MIN_STACK_DEPTH];
        stack[..values.len()].copy_from_slice(values);
        Ok(Self(stack))
    }

    /// Creates stack inputs from `values` given bottom first, as upstream's `StackInputs::new`
    /// takes them (the last value ends on top).
    ///
    /// # Errors
    /// [`InputError::TooManyStackValues`] past sixteen values.
    pub fn from_bottom_first(values: &[Felt]) -> Result<Self, InputError> {
        let top_first: Vec<Felt> = values.iter().rev().copied().collect();
        Self::new(&top_first)
    }

    /// Creates stack inputs from integers given bottom first, as `miden run` reads them.
    ///
    /// # Errors
    /// [`InputError::NotFieldElement`] for a non-canonical value and
    /// [`InputError::TooManyStackValues`] past sixteen values.
    pub fn try_from_ints(values: impl IntoIterator<Item = u64>) -> Result<Self, InputError> {
        let values = values
            .into_iter()
            .map(felt_from_u64)
            .collect::<Result<Vec<_>, _>>()?;
        Self::from_bottom_first(&values)
    }

    /// Returns the sixteen elements, top first.
    pub fn as_slice(&self) -> &[Felt; MIN_STACK_DEPTH] {
        &self.0
    }
}

/// Converts a canonical integer to a field element.
pub(crate) fn felt_from_u64(value: u64) -> Result<Felt, InputError> {
    if value >= <Felt as weft_core::StarkField>::MODULUS {
        return Err(InputError::NotFieldElement { value });
    }
    Ok(Felt::new(value))
}

/// The final operand stack: its sixteen top elements, top first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StackOutputs([Felt; MIN_STACK_DEPTH]);

impl StackOutputs {
    /// Creates stack outputs from the sixteen top elements, top first.
    pub fn new(values: [Felt; MIN_STACK_DEPTH]) -> Self {
        Self(values)
    }

    /// Returns the sixteen elements, top first.
    pub fn as_slice(&self) -> &[Felt; MIN_STACK_DEPTH] {
        &self.0
    }

    /// Returns the element at `idx` (0 = top), or `None` past the sixteenth.
    pub fn get(&self, idx: usize) -> Option<Felt> {
        self.0.get(idx).copied()
    }

    /// Returns the elements as integers, top first.
    pub fn to_ints(&self) -> [u64; MIN_STACK_DEPTH] {
        self.0.map(|f| f.as_int())
    }
}

/// The non-deterministic inputs of a program.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AdviceInputs {
    /// Advice stack values; `stack[0]` ends on top of the advice stack (is popped first).
    pub stack: Vec<Felt>,
    /// Advice map entries, merged with the program's own advice map at start.
    pub map: AdviceMap,
    /// Merkle store nodes.
    pub store: MerkleStore,
}

impl AdviceInputs {
    /// Appends `values` to the advice stack inputs (below the ones already given).
    pub fn with_stack(mut self, values: impl IntoIterator<Item = Felt>) -> Self {
        self.stack.extend(values);
        self
    }

    /// Adds map entries.
    pub fn with_map(
        mut self,
        entries: impl IntoIterator<Item = (weft_core::Word, Vec<Felt>)>,
    ) -> Self {
        for (key, values) in entries {
            self.map.insert(key, values);
        }
        self
    }

    /// Replaces the Merkle store.
    pub fn with_merkle_store(mut self, store: MerkleStore) -> Self {
        self.store = store;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_inputs_orders() {
        let v: Vec<Felt> = (1..=3).map(Felt::new).collect();
        let top_first = StackInputs::new(&v).expect("fits");
        assert_eq!(top_first.as_slice()[0], Felt::new(1));
        let bottom_first = StackInputs::from_bottom_first(&v).expect("fits");
        assert_eq!(bottom_first.as_slice()[0], Felt::new(3));
        assert_eq!(bottom_first.as_slice()[3], ZERO);
        assert_eq!(
            StackInputs::try_from_ints([1, 2, 3]).expect("fits"),
            bottom_first
        );
    }

    #[test]
    fn stack_inputs_limits() {
        let v = vec![Felt::new(1); 17];
        assert_eq!(
            StackInputs::new(&v),
            Err(InputError::TooManyStackValues { n_inputs: 17 })
        );
        assert_eq!(
            StackInputs::try_from_ints([u64::MAX]),
            Err(InputError::NotFieldElement { value: u64::MAX })
        );
    }
}
