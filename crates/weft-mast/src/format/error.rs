//! Why bytes could not be read as a forest, or a forest could not be written.

use weft_core::Word;

use crate::MastError;

/// Why bytes (or text) could not be read as a forest. Every variant carries the byte offset of
/// the offending item in the input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// The input ended inside an item.
    #[error("unexpected end of input at offset {offset}: {needed} more bytes needed")]
    UnexpectedEof {
        /// Where the truncated item starts.
        offset: usize,
        /// How many bytes it needs past the end.
        needed: usize,
    },
    /// The input does not start with the format's magic bytes.
    #[error("bad magic at offset {offset}")]
    BadMagic {
        /// Always 0.
        offset: usize,
    },
    /// A version this reader does not know.
    #[error("unsupported version {found} at offset {offset} (expected {expected})")]
    UnsupportedVersion {
        /// Where the version is.
        offset: usize,
        /// The version found.
        found: u32,
        /// The version this reader reads.
        expected: u32,
    },
    /// The checksum does not match the content.
    #[error(
        "checksum mismatch at offset {offset}: stored {stored:#018x}, computed {computed:#018x}"
    )]
    ChecksumMismatch {
        /// Where the checksum is.
        offset: usize,
        /// The stored checksum.
        stored: u64,
        /// The checksum of the content.
        computed: u64,
    },
    /// A sealed file whose MAC does not match under the reader's key.
    #[error("seal mismatch at offset {offset}: the file was not sealed with this key")]
    SealMismatch {
        /// Where the MAC is.
        offset: usize,
    },
    /// A count or length past its limit (see [`limits`](crate::limits)) or past what the rest of the input
    /// could hold.
    #[error("{what} {value} at offset {offset} exceeds the limit {limit}")]
    LimitExceeded {
        /// Where the count is.
        offset: usize,
        /// What is counted.
        what: &'static str,
        /// The count read.
        value: u64,
        /// The limit that applies.
        limit: u64,
    },
    /// Bytes left over after the last item, or a section whose length disagrees with its
    /// content.
    #[error("{what} at offset {offset}: {found} bytes where {expected} were expected")]
    LengthMismatch {
        /// Where the section starts.
        offset: usize,
        /// Which section.
        what: &'static str,
        /// The length stated or expected.
        expected: usize,
        /// The length found.
        found: usize,
    },
    /// Reserved bits or bytes that are not zero.
    #[error("reserved bits set at offset {offset}")]
    ReservedBits {
        /// Where the bits are.
        offset: usize,
    },
    /// An unknown node kind.
    #[error("invalid node kind {kind} at offset {offset}")]
    InvalidNodeKind {
        /// Where the node is.
        offset: usize,
        /// The kind found.
        kind: u32,
    },
    /// A field element that is not below the modulus.
    #[error("non-canonical field element {value:#x} at offset {offset}")]
    NonCanonicalFelt {
        /// Where the element is.
        offset: usize,
        /// The value found.
        value: u64,
    },
    /// A varint that is over-long or overflows 64 bits.
    #[error("invalid varint at offset {offset}")]
    InvalidVarint {
        /// Where the varint starts.
        offset: usize,
    },
    /// A string that is not UTF-8.
    #[error("invalid UTF-8 at offset {offset}")]
    InvalidUtf8 {
        /// Where the string starts.
        offset: usize,
    },
    /// An operation byte that is not an opcode, or an immediate missing or misplaced.
    #[error("invalid operation at offset {offset}: {source}")]
    InvalidOperation {
        /// Where the operation (or its block) is.
        offset: usize,
        /// Why.
        source: weft_core::OpDecodeError,
    },
    /// A child that does not precede its parent.
    #[error("node {node} at offset {offset} refers to node {child}, which does not precede it")]
    ChildNotBefore {
        /// Where the parent is.
        offset: usize,
        /// The parent's index.
        node: u32,
        /// The child's index.
        child: u32,
    },
    /// A reference to a node that does not exist.
    #[error("{what} {index} at offset {offset} is out of range (bound {bound})")]
    IndexOutOfRange {
        /// Where the reference is.
        offset: usize,
        /// What kind of reference.
        what: &'static str,
        /// The index found.
        index: u64,
        /// The number of referable items.
        bound: usize,
    },
    /// The builder rejected a node.
    #[error("invalid node at offset {offset}: {source}")]
    InvalidNode {
        /// Where the node is.
        offset: usize,
        /// The builder's reason.
        source: MastError,
    },
    /// A node identical to an earlier one (encodings are of deduplicated forests).
    #[error("node {node} at offset {offset} duplicates node {existing}")]
    DuplicateNode {
        /// Where the node is.
        offset: usize,
        /// Its index.
        node: u32,
        /// The index of the identical earlier node.
        existing: u32,
    },
    /// A stored digest that differs from the recomputed one.
    #[error(
        "digest mismatch for node {node} at offset {offset}: stored {stored}, computed {computed}"
    )]
    DigestMismatch {
        /// Where the digest is.
        offset: usize,
        /// The node's index.
        node: u32,
        /// The stored digest.
        stored: Word,
        /// The recomputed digest.
        computed: Word,
    },
    /// A root listed twice.
    #[error("root {root} at offset {offset} is listed twice")]
    DuplicateRoot {
        /// Where the second listing is.
        offset: usize,
        /// The root's index.
        root: u32,
    },
    /// Keys of a map (advice map, error messages) that are not strictly increasing.
    #[error("{what} key at offset {offset} is not greater than the previous one")]
    UnorderedKey {
        /// Where the key is.
        offset: usize,
        /// Which map.
        what: &'static str,
    },
    /// Compact format: the node stream's implicit-child stack is inconsistent.
    #[error("implicit child stack at offset {offset}: {what}")]
    ImplicitChildren {
        /// Where the problem shows.
        offset: usize,
        /// What went wrong.
        what: &'static str,
    },
    /// A program section that does not fit its forest (an entry point that is not a root, a
    /// kernel listing a procedure twice).
    #[error("invalid program at offset {offset}: {source}")]
    InvalidProgram {
        /// Where the offending item is.
        offset: usize,
        /// Why.
        source: MastError,
    },
    /// A file that holds a forest where a program was asked for.
    #[error("the file at offset {offset} holds a forest without entry point, not a program")]
    NotAProgram {
        /// Always 0.
        offset: usize,
    },
    /// Text format: a token that does not fit the grammar.
    #[error("syntax error at offset {offset}: expected {expected}")]
    Syntax {
        /// Where the token starts.
        offset: usize,
        /// What the grammar expects there.
        expected: &'static str,
    },
}

impl FormatError {
    /// Returns the byte offset the error points at.
    pub fn offset(&self) -> usize {
        match self {
            Self::UnexpectedEof { offset, .. }
            | Self::BadMagic { offset }
            | Self::UnsupportedVersion { offset, .. }
            | Self::ChecksumMismatch { offset, .. }
            | Self::SealMismatch { offset }
            | Self::LimitExceeded { offset, .. }
            | Self::LengthMismatch { offset, .. }
            | Self::ReservedBits { offset }
            | Self::InvalidNodeKind { offset, .. }
            | Self::NonCanonicalFelt { offset, .. }
            | Self::InvalidVarint { offset }
            | Self::InvalidUtf8 { offset }
            | Self::InvalidOperation { offset, .. }
            | Self::ChildNotBefore { offset, .. }
            | Self::IndexOutOfRange { offset, .. }
            | Self::InvalidNode { offset, .. }
            | Self::DuplicateNode { offset, .. }
            | Self::DigestMismatch { offset, .. }
            | Self::DuplicateRoot { offset, .. }
            | Self::UnorderedKey { offset, .. }
            | Self::ImplicitChildren { offset, .. }
            | Self::InvalidProgram { offset, .. }
            | Self::NotAProgram { offset }
            | Self::Syntax { offset, .. } => *offset,
        }
    }
}

/// Why a forest could not be written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// The formats are defined on stripped forests; call [`strip`](super::strip) first.
    #[error("the forest carries decorators; strip them first")]
    HasDecorators,
    /// Two identical nodes (possible only after `strip_decorators`); call [`strip`](super::strip) first.
    #[error("node {second} duplicates node {first}; rebuild the forest with `strip` first")]
    DuplicateNode {
        /// The first of the two.
        first: u32,
        /// The second.
        second: u32,
    },
    /// A block whose batches could not be made (a block of a sealed file; see
    /// [`crate::BasicBlockNode::batches`]).
    #[error(transparent)]
    Batch(#[from] crate::BatchError),
    /// A program whose entry point is not one of its forest's procedure roots.
    #[error("the program's entry node {entry} is not a procedure root")]
    EntryNotRoot {
        /// The entry node.
        entry: u32,
    },
    /// The forest is too large for the format's fixed-width fields.
    #[error("the forest is too large for this format: {what}")]
    TooLarge {
        /// What overflowed.
        what: &'static str,
    },
}

/// Moves an error's offset from a section-relative one to a file offset.
pub(crate) fn shift_offset(mut e: FormatError, base: usize) -> FormatError {
    use FormatError as E;
    match &mut e {
        E::UnexpectedEof { offset, .. }
        | E::BadMagic { offset }
        | E::UnsupportedVersion { offset, .. }
        | E::ChecksumMismatch { offset, .. }
        | E::SealMismatch { offset }
        | E::LimitExceeded { offset, .. }
        | E::LengthMismatch { offset, .. }
        | E::ReservedBits { offset }
        | E::InvalidNodeKind { offset, .. }
        | E::NonCanonicalFelt { offset, .. }
        | E::InvalidVarint { offset }
        | E::InvalidUtf8 { offset }
        | E::InvalidOperation { offset, .. }
        | E::ChildNotBefore { offset, .. }
        | E::IndexOutOfRange { offset, .. }
        | E::InvalidNode { offset, .. }
        | E::DuplicateNode { offset, .. }
        | E::DigestMismatch { offset, .. }
        | E::DuplicateRoot { offset, .. }
        | E::UnorderedKey { offset, .. }
        | E::ImplicitChildren { offset, .. }
        | E::InvalidProgram { offset, .. }
        | E::NotAProgram { offset }
        | E::Syntax { offset, .. } => *offset += base,
    }
    e
}

/// Checks a whole input's length against [`crate::limits::MAX_INPUT_LEN`], before any reader
/// looks at its contents (every format's first check).
///
/// # Errors
/// [`FormatError::LimitExceeded`] at offset 0.
pub(crate) fn check_input_len(len: usize) -> Result<(), FormatError> {
    if len > crate::limits::MAX_INPUT_LEN {
        return Err(FormatError::LimitExceeded {
            offset: 0,
            what: "input length",
            value: len as u64,
            limit: crate::limits::MAX_INPUT_LEN as u64,
        });
    }
    Ok(())
}
