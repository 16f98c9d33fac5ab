//! The errors of trace generation: [`TraceGenError`] for a set of contexts, [`FragmentError`]
//! for one fragment, and [`ReplayLog`], the log a [`FragmentError::ReplayExhausted`] names.

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
