//! Program inputs in upstream's JSON `.inputs` format, converted to upstream's and weft's input
//! types.
//!
//! # Format
//!
//! The file is one JSON object, the same shape as the miden-vm CLI's `InputFile`; every field is
//! optional and unknown fields are rejected (a misspelt field would otherwise be silently empty):
//!
//! ```json
//! {
//!   "operand_stack": ["1", 2, "3"],
//!   "advice_stack": [4, "5"],
//!   "advice_map": { "0x<64 hex digits>": [6, 7, "8"] },
//!   "merkle_store": [
//!     { "merkle_tree": ["0x<word>", "0x<word>"] },
//!     { "sparse_merkle_tree": [[3, "0x<word>"]] },
//!     { "partial_merkle_tree": [[[2, 1], "0x<word>"]] }
//!   ]
//! }
//! ```
//!
//! - Values are field elements written as JSON numbers or as decimal strings (the CLI writes
//!   strings; both are accepted); each must be below the field modulus.
//! - `operand_stack`: at most 16 values; as in upstream's `StackInputs::new`, the **last** value
//!   ends on top of the stack.
//! - `advice_stack`: the **first** value is the first one popped (upstream's `AdviceInputs`).
//! - Words (advice-map keys, Merkle leaves) are `0x` followed by 64 hex digits: four 8-byte
//!   little-endian field elements, element 0 first (upstream's `Word` hex form). The `0x` may be
//!   left out.
//! - `merkle_store` entries add every inner node of the tree they describe to one Merkle store:
//!   `merkle_tree` is the list of leaves of a full tree (a power-of-two count), `sparse_merkle_tree`
//!   is a list of `(index, leaf)` pairs of a depth-64 sparse tree, `partial_merkle_tree` is a list
//!   of `((depth, index), node)` pairs.

use std::{collections::BTreeMap, path::Path};

use miden_core::{
    Felt, Word,
    crypto::merkle::{MerkleStore, MerkleTree, NodeIndex, PartialMerkleTree, SimpleSmt},
};
use serde::Deserialize;

/// The most values the operand stack can be initialised with.
pub const MAX_STACK_INPUTS: usize = 16;

/// Why an inputs file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputsError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file's path.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The text is not JSON of the expected shape.
    #[error("malformed inputs: {0}")]
    Json(#[from] serde_json::Error),
    /// The text is JSON, but not an object.
    #[error("malformed inputs: expected a JSON object")]
    NotAnObject,
    /// A value is not a canonical field element.
    #[error("{field}[{index}]: {value:?} is not a field element")]
    NotFieldElement {
        /// The field holding the value.
        field: String,
        /// The value's position in that field.
        index: usize,
        /// The value as written.
        value: String,
    },
    /// More than [`MAX_STACK_INPUTS`] operand-stack values.
    #[error("operand_stack has {n_values} values; at most {MAX_STACK_INPUTS} are allowed")]
    TooManyStackInputs {
        /// The number of values given.
        n_values: usize,
    },
    /// A word is not `0x` plus 64 hex digits of four canonical field elements.
    #[error("{field}: {value:?} is not a word: {reason}")]
    InvalidWord {
        /// Where the word appears.
        field: String,
        /// The word as written.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A Merkle-store entry does not describe a valid tree.
    #[error("merkle_store[{index}]: {reason}")]
    InvalidMerkleData {
        /// The entry's position in `merkle_store`.
        index: usize,
        /// What is wrong with it.
        reason: String,
    },
}

// RAW JSON SHAPE
// ================================================================================================

/// A field element as written: a JSON number or a decimal string.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawFelt {
    Number(u64),
    Text(String),
}

/// One entry of `merkle_store`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
enum RawMerkleData {
    #[serde(rename = "merkle_tree")]
    Full(Vec<String>),
    #[serde(rename = "sparse_merkle_tree")]
    Sparse(Vec<(u64, String)>),
    #[serde(rename = "partial_merkle_tree")]
    Partial(Vec<((u8, u64), String)>),
}

/// The untrusted file, before its values are checked.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInputFile {
    #[serde(default)]
    operand_stack: Vec<RawFelt>,
    #[serde(default)]
    advice_stack: Vec<RawFelt>,
    #[serde(default)]
    advice_map: BTreeMap<String, Vec<RawFelt>>,
    #[serde(default)]
    merkle_store: Vec<RawMerkleData>,
}

// CHECKED INPUTS
// ================================================================================================

/// The checked inputs of one program run.
#[derive(Debug, Clone, Default)]
pub struct ProgramInputs {
    /// Operand-stack values, in file order: the last one is the top of the stack.
    pub operand_stack: Vec<Felt>,
    /// Advice-stack values, in file order: the first one is popped first.
    pub advice_stack: Vec<Felt>,
    /// Advice-map entries, sorted by key.
    pub advice_map: Vec<(Word, Vec<Felt>)>,
    /// The Merkle store holding every node of every tree in the file.
    pub merkle_store: MerkleStore,
}

fn parse_felt(raw: &RawFelt, field: &str, index: usize) -> Result<Felt, InputsError> {
    let value = match raw {
        RawFelt::Number(n) => Some(*n),
        RawFelt::Text(text) => text.trim().parse::<u64>().ok(),
    };
    value
        .and_then(|v| Felt::try_from(v).ok())
        .ok_or_else(|| InputsError::NotFieldElement {
            field: field.to_string(),
            index,
            value: match raw {
                RawFelt::Number(n) => n.to_string(),
                RawFelt::Text(text) => text.clone(),
            },
        })
}

fn parse_felts(raw: &[RawFelt], field: &str) -> Result<Vec<Felt>, InputsError> {
    raw.iter()
        .enumerate()
        .map(|(index, value)| parse_felt(value, field, index))
        .collect()
}

/// Parses a word written as `0x` plus 64 hex digits (the prefix is optional).
fn parse_word(text: &str, field: &str) -> Result<Word, InputsError> {
    let prefixed = if text.starts_with("0x") {
        text.to_string()
    } else {
        format!("0x{text}")
    };
    Word::try_from(prefixed.as_str()).map_err(|err| InputsError::InvalidWord {
        field: field.to_string(),
        value: text.to_string(),
        reason: err.to_string(),
    })
}

fn merkle_error(index: usize, reason: impl ToString) -> InputsError {
    InputsError::InvalidMerkleData {
        index,
        reason: reason.to_string(),
    }
}

fn build_merkle_store(raw: &[RawMerkleData]) -> Result<MerkleStore, InputsError> {
    let mut store = MerkleStore::default();
    for (index, data) in raw.iter().enumerate() {
        let field = format!("merkle_store[{index}]");
        match data {
            RawMerkleData::Full(leaves) => {
                let leaves = leaves
                    .iter()
                    .map(|leaf| parse_word(leaf, &field))
                    .collect::<Result<Vec<_>, _>>()?;
                let tree = MerkleTree::new(leaves).map_err(|e| merkle_error(index, e))?;
                store.extend(tree.inner_nodes());
            }
            RawMerkleData::Sparse(entries) => {
                let entries = entries
                    .iter()
                    .map(|(leaf_idx, leaf)| Ok((*leaf_idx, parse_word(leaf, &field)?)))
                    .collect::<Result<Vec<_>, InputsError>>()?;
                let tree =
                    SimpleSmt::<64>::with_leaves(entries).map_err(|e| merkle_error(index, e))?;
                store.extend(tree.inner_nodes());
            }
            // An empty partial tree adds no node (and miden-crypto's constructor would panic on it).
            RawMerkleData::Partial(entries) if entries.is_empty() => {}
            RawMerkleData::Partial(entries) => {
                let entries = entries
                    .iter()
                    .map(|((depth, node_idx), node)| {
                        let node_index = NodeIndex::new(*depth, *node_idx)
                            .map_err(|e| merkle_error(index, e))?;
                        Ok((node_index, parse_word(node, &field)?))
                    })
                    .collect::<Result<Vec<_>, InputsError>>()?;
                let tree =
                    PartialMerkleTree::with_leaves(entries).map_err(|e| merkle_error(index, e))?;
                store.extend(tree.inner_nodes());
            }
        }
    }
    Ok(store)
}

impl ProgramInputs {
    /// Parses and checks inputs given as JSON text.
    ///
    /// # Errors
    /// Returns an error if the text is not JSON of the documented shape, or a value, word or tree
    /// in it is invalid. Never panics.
    pub fn from_json(text: &str) -> Result<Self, InputsError> {
        let value: serde_json::Value = serde_json::from_str(text)?;
        if !value.is_object() {
            // serde would otherwise accept an array for the struct, field by field.
            return Err(InputsError::NotAnObject);
        }
        let raw = RawInputFile::deserialize(value)?;
        if raw.operand_stack.len() > MAX_STACK_INPUTS {
            return Err(InputsError::TooManyStackInputs {
                n_values: raw.operand_stack.len(),
            });
        }
        let operand_stack = parse_felts(&raw.operand_stack, "operand_stack")?;
        let advice_stack = parse_felts(&raw.advice_stack, "advice_stack")?;
        let advice_map = raw
            .advice_map
            .iter()
            .map(|(key, values)| {
                let field = format!("advice_map[{key:?}]");
                Ok((parse_word(key, &field)?, parse_felts(values, &field)?))
            })
            .collect::<Result<BTreeMap<_, _>, InputsError>>()?
            .into_iter()
            .collect();
        let merkle_store = build_merkle_store(&raw.merkle_store)?;
        Ok(Self {
            operand_stack,
            advice_stack,
            advice_map,
            merkle_store,
        })
    }

    /// Reads and checks an inputs file.
    ///
    /// # Errors
    /// Returns an error if the file cannot be read or its contents are invalid.
    pub fn from_file(path: &Path) -> Result<Self, InputsError> {
        let text = std::fs::read_to_string(path).map_err(|source| InputsError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json(&text)
    }

    /// Reads the inputs of the program at `program_path`: the file with the same stem and the
    /// `.inputs` extension beside it, or empty inputs if there is none.
    ///
    /// # Errors
    /// Returns an error if the inputs file exists but cannot be read or is invalid.
    pub fn for_program(program_path: &Path) -> Result<Self, InputsError> {
        let path = program_path.with_extension("inputs");
        if path.exists() {
            Self::from_file(&path)
        } else {
            Ok(Self::default())
        }
    }

    /// Returns the operand-stack values with the top of the stack first (16 of them, zero
    /// padded).
    pub fn stack_top_first(&self) -> [Felt; MAX_STACK_INPUTS] {
        let mut top_first = [Felt::new(0); MAX_STACK_INPUTS];
        for (slot, value) in top_first.iter_mut().zip(self.operand_stack.iter().rev()) {
            *slot = *value;
        }
        top_first
    }

    /// Returns upstream's stack inputs.
    pub fn upstream_stack_inputs(&self) -> miden_processor::StackInputs {
        miden_processor::StackInputs::from(self.stack_top_first())
    }

    /// Returns upstream's advice inputs.
    pub fn upstream_advice_inputs(&self) -> miden_processor::AdviceInputs {
        miden_processor::AdviceInputs::default()
            .with_stack(self.advice_stack.iter().copied())
            .with_map(self.advice_map.iter().cloned())
            .with_merkle_store(self.merkle_store.clone())
    }

    /// Returns weft's stack inputs.
    pub fn weft_stack_inputs(&self) -> weft_host::StackInputs {
        weft_host::StackInputs::new(&self.stack_top_first())
            .expect("sixteen values always fit the stack inputs")
    }

    /// Returns weft's advice inputs.
    ///
    /// Built field by field: `AdviceInputs::default()` would first build an empty Merkle store
    /// (its 255 empty-subtree roots, about 12 µs) only to replace it with this one.
    pub fn weft_advice_inputs(&self) -> weft_host::AdviceInputs {
        let mut map = weft_mast::AdviceMap::default();
        for (key, values) in &self.advice_map {
            map.insert(*key, values.clone());
        }
        weft_host::AdviceInputs {
            stack: self.advice_stack.clone(),
            map,
            store: self.merkle_store.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word_hex(values: [u64; 4]) -> String {
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        format!("0x{hex}")
    }

    fn err(text: &str) -> InputsError {
        ProgramInputs::from_json(text).expect_err("inputs must be rejected")
    }

    #[test]
    fn empty_object_gives_empty_inputs() {
        let inputs = ProgramInputs::from_json("{}").expect("valid");
        assert!(inputs.operand_stack.is_empty() && inputs.advice_stack.is_empty());
        assert_eq!(inputs.stack_top_first(), [Felt::new(0); 16]);
    }

    #[test]
    fn values_as_numbers_or_strings_in_upstream_order() {
        let inputs = ProgramInputs::from_json(
            r#"{"operand_stack": ["1", 2, " 3 "], "advice_stack": [4, "5"]}"#,
        )
        .expect("valid");
        let top = inputs.stack_top_first();
        assert_eq!(
            &top[..4],
            &[Felt::new(3), Felt::new(2), Felt::new(1), Felt::new(0)]
        );
        assert_eq!(*inputs.upstream_stack_inputs(), top);
        assert_eq!(inputs.weft_stack_inputs().as_slice(), &top);
        assert_eq!(inputs.advice_stack, [Felt::new(4), Felt::new(5)]);
        assert_eq!(
            inputs.upstream_advice_inputs().stack,
            inputs.weft_advice_inputs().stack
        );
    }

    #[test]
    fn advice_map_keys_are_upstream_word_hex() {
        let key = word_hex([1, 2, 3, 4]);
        let inputs =
            ProgramInputs::from_json(&format!(r#"{{"advice_map": {{"{key}": [7, "8"]}}}}"#))
                .expect("valid");
        let expected = Word::from([Felt::new(1), Felt::new(2), Felt::new(3), Felt::new(4)]);
        assert_eq!(
            inputs.advice_map,
            [(expected, vec![Felt::new(7), Felt::new(8)])]
        );
        // The prefix is optional.
        let inputs =
            ProgramInputs::from_json(&format!(r#"{{"advice_map": {{"{}": []}}}}"#, &key[2..]))
                .expect("valid");
        assert_eq!(inputs.advice_map[0].0, expected);
    }

    #[test]
    fn merkle_store_holds_every_tree() {
        let leaves: Vec<String> = (0..4u64).map(|i| word_hex([i, i, i, i])).collect();
        let text = format!(
            r#"{{"merkle_store": [
                {{"merkle_tree": ["{}", "{}", "{}", "{}"]}},
                {{"sparse_merkle_tree": [[5, "{}"]]}},
                {{"partial_merkle_tree": [[[1, 0], "{}"], [[1, 1], "{}"]]}}
            ]}}"#,
            leaves[0], leaves[1], leaves[2], leaves[3], leaves[1], leaves[2], leaves[3]
        );
        let inputs = ProgramInputs::from_json(&text).expect("valid");
        let leaf_words: Vec<Word> = (0..4u64).map(|i| Word::from([Felt::new(i); 4])).collect();
        let tree = MerkleTree::new(leaf_words.clone()).expect("four leaves");
        let index = NodeIndex::new(2, 3).expect("valid index");
        assert_eq!(
            inputs
                .merkle_store
                .get_node(tree.root(), index)
                .expect("stored"),
            leaf_words[3]
        );
        let smt = SimpleSmt::<64>::with_leaves([(5, leaf_words[1])]).expect("one leaf");
        let index = NodeIndex::new(64, 5).expect("valid index");
        assert_eq!(
            inputs
                .merkle_store
                .get_node(smt.root(), index)
                .expect("stored"),
            leaf_words[1]
        );
        assert_eq!(inputs.weft_advice_inputs().store, inputs.merkle_store);
    }

    #[test]
    fn malformed_inputs_are_typed_errors() {
        assert!(matches!(err("{"), InputsError::Json(_)));
        assert!(matches!(err("[]"), InputsError::NotAnObject));
        assert!(matches!(err("7"), InputsError::NotAnObject));
        assert!(matches!(
            err(r#"{"operand_stak": []}"#),
            InputsError::Json(_)
        ));
        assert!(matches!(
            err(r#"{"operand_stack": [1.5]}"#),
            InputsError::Json(_)
        ));
        assert!(matches!(
            err(r#"{"operand_stack": [-1]}"#),
            InputsError::Json(_)
        ));
        assert!(matches!(
            err(r#"{"operand_stack": ["18446744069414584321"]}"#),
            InputsError::NotFieldElement { index: 0, .. }
        ));
        assert!(matches!(
            err(r#"{"advice_stack": [1, "x"]}"#),
            InputsError::NotFieldElement { index: 1, .. }
        ));
        assert!(matches!(
            err(r#"{"operand_stack": [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]}"#),
            InputsError::TooManyStackInputs { n_values: 17 }
        ));
        assert!(matches!(
            err(r#"{"advice_map": {"0x12": [1]}}"#),
            InputsError::InvalidWord { .. }
        ));
        let not_canonical = format!("0x{}", "ff".repeat(32));
        assert!(matches!(
            err(&format!(r#"{{"advice_map": {{"{not_canonical}": []}}}}"#)),
            InputsError::InvalidWord { .. }
        ));
        let leaf = word_hex([1, 2, 3, 4]);
        assert!(matches!(
            err(&format!(
                r#"{{"merkle_store": [{{"merkle_tree": ["{leaf}", "{leaf}", "{leaf}"]}}]}}"#
            )),
            InputsError::InvalidMerkleData { index: 0, .. }
        ));
        assert!(matches!(
            err(&format!(
                r#"{{"merkle_store": [{{"partial_merkle_tree": [[[1, 5], "{leaf}"]]}}]}}"#
            )),
            InputsError::InvalidMerkleData { index: 0, .. }
        ));
        assert!(matches!(
            err(r#"{"merkle_store": [{"merkle_forest": []}]}"#),
            InputsError::Json(_)
        ));
        assert!(matches!(
            err(r#"{"merkle_store": [{"merkle_tree": []}]}"#),
            InputsError::InvalidMerkleData { index: 0, .. }
        ));
        assert!(
            ProgramInputs::from_json(r#"{"merkle_store": [{"partial_merkle_tree": []}]}"#).is_ok()
        );
    }
}
