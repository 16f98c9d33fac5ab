//! The errors of trace generation: [`TraceGenError`] for a set of contexts, [`FragmentError`]
//! for one fragment, [`ChipletError`] for the chiplet logs, and [`ReplayLog`], the log a
//! [`FragmentError::ReplayExhausted`] names.

use weft_host::ExecutionError;

/// Why a trace could not be built from a set of contexts.
#[derive(Debug, thiserror::Error)]
pub enum TraceGenError {
    /// The forest table does not match the contexts.
    #[error("the contexts name {expected} forests but {found} were given")]
    ForestCount {
        /// Forests the contexts name.
        expected: usize,
        /// Forests given.
        found: usize,
    },
    /// A fragment size of zero.
    #[error("the fragment size is zero")]
    ZeroFragmentSize,
    /// No executed row at all.
    #[error("the contexts hold no executed row")]
    Empty,
    /// More cycles than any execution may run.
    #[error("{n_cycles} cycles exceed the limit of {limit}")]
    TooManyCycles {
        /// The claimed cycle count.
        n_cycles: u32,
        /// The limit.
        limit: u32,
    },
    /// The number of fragments does not match the cycle count and fragment size.
    #[error(
        "{n_cycles} cycles in fragments of {fragment_size} need {expected} fragments, found {found}"
    )]
    FragmentCount {
        /// Executed rows.
        n_cycles: u32,
        /// Rows per fragment.
        fragment_size: u32,
        /// Fragments needed.
        expected: usize,
        /// Fragments found.
        found: usize,
    },
    /// A fragment does not start at its row.
    #[error("fragment {fragment} starts at clock cycle {found}, expected {expected}")]
    FragmentStart {
        /// The fragment's index.
        fragment: usize,
        /// Its first row.
        expected: u64,
        /// The clock cycle it records.
        found: u32,
    },
    /// A range of fragments that is empty or runs past the execution's last fragment.
    #[error("fragments {first}..{first}+{count} are not a range of the {n_fragments} fragments")]
    FragmentRange {
        /// The range's first fragment.
        first: usize,
        /// Its number of fragments.
        count: usize,
        /// The execution's fragments.
        n_fragments: usize,
    },
    /// Core rows that are not 49 columns of one length, at least one row long.
    #[error("core rows of {n_columns} columns and {n_rows} rows (in the first column)")]
    CoreRowsShape {
        /// Columns found.
        n_columns: usize,
        /// Rows of the first column.
        n_rows: usize,
    },
    /// Parts of the core rows that do not cover the execution's rows once, in order.
    #[error("core rows part {part} starts at row {found_row}, expected {expected_row}")]
    CoreRowsCoverage {
        /// The part's index (the number of parts when the parts end short or long).
        part: usize,
        /// The row it should start at (or where the parts should end).
        expected_row: usize,
        /// The row it starts at (or where the parts end).
        found_row: usize,
    },
    /// The chiplet logs are malformed.
    #[error("chiplet logs: {0}")]
    Chiplets(#[from] ChipletError),
    /// A fragment's rows could not be rebuilt.
    #[error("fragment {fragment}: {source}")]
    Fragment {
        /// The fragment's index.
        fragment: usize,
        /// What went wrong.
        #[source]
        source: FragmentError,
    },
}

/// Why the chiplet logs ([`weft_replay::ChipletsReplay`]) cannot describe an execution.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChipletError {
    /// A hasher request names a node outside the forests, or an external node.
    #[error(
        "hasher request {request} names node {node} of forest {forest}, which is not a node that starts"
    )]
    UnknownNode {
        /// The request's index.
        request: usize,
        /// The forest table index.
        forest: u32,
        /// The node index.
        node: u32,
    },
    /// A basic block of a hasher request could not be batched.
    #[error("the basic block of hasher request {request} cannot be batched")]
    Batching {
        /// The request's index.
        request: usize,
    },
    /// A stored field element is not canonical.
    #[error("{value} is not a canonical field element")]
    NonCanonical {
        /// The value.
        value: u64,
    },
    /// A Merkle path is empty, too long, or too short for its index.
    #[error("Merkle index {index} does not fit a path of depth {depth}")]
    MerkleIndex {
        /// The index.
        index: u64,
        /// The path's length.
        depth: usize,
    },
    /// A word access at an unaligned address.
    #[error("memory access {access} reads or writes a word at unaligned address {addr}")]
    UnalignedWord {
        /// The access's index.
        access: usize,
        /// The address.
        addr: u32,
    },
    /// A circuit evaluation that contradicts itself or the memory log.
    #[error("circuit evaluation {evaluation}: {what}")]
    Ace {
        /// The evaluation's index.
        evaluation: usize,
        /// What is wrong.
        what: &'static str,
    },
    /// A `SYSCALL` to a procedure outside the kernel.
    #[error("kernel access {access} names a procedure outside the kernel")]
    NotInKernel {
        /// The access's index.
        access: usize,
    },
    /// More chiplet rows than any trace may hold.
    #[error("the chiplet logs need more than 2^32 rows")]
    TooManyRows,
}

/// Why one fragment's rows could not be rebuilt.
#[derive(Debug, thiserror::Error)]
pub enum FragmentError {
    /// The context contradicts itself or the forests.
    #[error("inconsistent context: {0}")]
    Inconsistent(&'static str),
    /// A replay log holds fewer entries than the rows consume.
    #[error("the {0} replay log ran out")]
    ReplayExhausted(ReplayLog),
    /// An operation failed while its row was rebuilt (the contexts are not of a successful
    /// execution of these forests).
    #[error("an operation failed: {0}")]
    Execution(ExecutionError),
    /// Rows were left after the execution ended.
    #[error("the execution ended with rows of the fragment left")]
    EndedEarly,
}

impl From<ExecutionError> for FragmentError {
    fn from(error: ExecutionError) -> Self {
        Self::Execution(error)
    }
}

/// A replay log of a fragment context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplayLog {
    /// Advice stack pops.
    Advice,
    /// Memory element reads.
    MemoryElement,
    /// Memory word reads (callee hashes of `DYN`/`DYNCALL` included).
    MemoryWord,
    /// Hasher addresses of started blocks.
    BlockAddress,
    /// `HPERM`/`LOGPRECOMPILE` permutations.
    Permutation,
    /// `MPVERIFY`/`MRUPDATE` roots.
    MerkleRoot,
    /// Resolutions through the host.
    Resolution,
}

impl std::fmt::Display for ReplayLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Advice => "advice",
            Self::MemoryElement => "memory element",
            Self::MemoryWord => "memory word",
            Self::BlockAddress => "block address",
            Self::Permutation => "hasher permutation",
            Self::MerkleRoot => "Merkle root",
            Self::Resolution => "external resolution",
        })
    }
}
