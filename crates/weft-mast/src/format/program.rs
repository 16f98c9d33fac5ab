//! Programs in weft's files: a forest plus its entry point and its kernel.
//!
//! A file of any of the three formats holds either a forest (a library: no entry point, no
//! kernel) or a program. A program file adds, behind a flag (the binary formats) or an `entry`
//! line (the text format), its entry point, which must be one of its procedure roots, and its
//! kernel: the digests of the procedures it may `SYSCALL`, at most
//! [`MAX_KERNEL_PROCS`](crate::limits::MAX_KERNEL_PROCS), each once. A program's writer (the
//! command line's `convert`) may also store the kernel's procedures as roots of the same
//! forest, so that the file alone can run its syscalls; the format does not require it.
//!
//! Readers keep the section as a [`RawProgram`], and validation checks it against the
//! validated forest ([`UntrustedMastForest::validate_file`](super::UntrustedMastForest)).

use std::{collections::HashSet, sync::Arc};

use weft_core::Word;

use super::error::{FormatError, WriteError};
use crate::{Kernel, MastError, MastForest, MastNodeId, Program, limits};

/// What a file holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MastFile {
    /// A forest without entry point (a library).
    Forest(MastForest),
    /// A program: a forest, its entry point and its kernel.
    Program(Program),
}

impl MastFile {
    /// Returns the forest.
    pub fn forest(&self) -> &MastForest {
        match self {
            Self::Forest(forest) => forest,
            Self::Program(program) => program.forest(),
        }
    }

    /// Returns the program, if the file holds one.
    pub fn program(&self) -> Option<&Program> {
        match self {
            Self::Forest(_) => None,
            Self::Program(program) => Some(program),
        }
    }

    /// Returns the forest, dropping the entry point and kernel of a program.
    pub fn into_forest(self) -> MastForest {
        match self {
            Self::Forest(forest) => forest,
            Self::Program(program) => {
                Arc::try_unwrap(program.into_forest()).unwrap_or_else(|arc| (*arc).clone())
            }
        }
    }
}

/// How a file names its entry point, before validation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RawEntry {
    /// An index into the procedure roots (the binary formats: a root by construction).
    Root(u32),
    /// A node index (the text format), which must be a procedure root.
    Node(u32),
}

/// A program section as read, before validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RawProgram {
    /// The entry point.
    pub(crate) entry: RawEntry,
    /// Where the entry point is in the input.
    pub(crate) entry_offset: u32,
    /// The kernel's procedure digests, each with its offset.
    pub(crate) kernel: Vec<(Word, u32)>,
}

impl RawProgram {
    /// Checks the section against `forest`, the validated forest of the same file: the entry
    /// point is a procedure root, the kernel is within its limit and lists each digest once.
    ///
    /// # Errors
    /// [`FormatError::IndexOutOfRange`] for an entry point past the roots or nodes;
    /// [`FormatError::InvalidProgram`] for an entry node that is not a root, a duplicate kernel
    /// digest or too large a kernel.
    pub(crate) fn validate(self, forest: MastForest) -> Result<Program, FormatError> {
        let offset = self.entry_offset as usize;
        let entry =
            match self.entry {
                RawEntry::Root(k) => *forest.procedure_roots().get(k as usize).ok_or(
                    FormatError::IndexOutOfRange {
                        offset,
                        what: "entry root index",
                        index: u64::from(k),
                        bound: forest.procedure_roots().len(),
                    },
                )?,
                RawEntry::Node(n) => {
                    MastNodeId::from_u32_checked(n, forest.num_nodes()).map_err(|_| {
                        FormatError::IndexOutOfRange {
                            offset,
                            what: "entry node",
                            index: u64::from(n),
                            bound: forest.num_nodes(),
                        }
                    })?
                }
            };
        if self.kernel.len() > limits::MAX_KERNEL_PROCS {
            return Err(FormatError::LimitExceeded {
                offset: self.kernel.first().map_or(offset, |&(_, at)| at as usize),
                what: "kernel procedure count",
                value: self.kernel.len() as u64,
                limit: limits::MAX_KERNEL_PROCS as u64,
            });
        }
        let mut seen = HashSet::with_capacity(self.kernel.len());
        for (index, &(digest, at)) in self.kernel.iter().enumerate() {
            if !seen.insert(digest) {
                return Err(FormatError::InvalidProgram {
                    offset: at as usize,
                    source: MastError::DuplicateKernelProcedure { index, digest },
                });
            }
        }
        let digests: Vec<Word> = self.kernel.iter().map(|&(digest, _)| digest).collect();
        let kernel_offset = self.kernel.first().map_or(offset, |&(_, at)| at as usize);
        let kernel = Kernel::new(&digests).map_err(|source| FormatError::InvalidProgram {
            offset: kernel_offset,
            source,
        })?;
        Program::new(Arc::new(forest), entry, kernel)
            .map_err(|source| FormatError::InvalidProgram { offset, source })
    }
}

/// Returns the index of `program`'s entry point among its forest's procedure roots (what the
/// binary formats store).
///
/// # Errors
/// [`WriteError::EntryNotRoot`] if it is not a root (a [`Program`] guarantees it is).
pub(crate) fn entry_root_index(program: &Program) -> Result<u32, WriteError> {
    let entry = program.entrypoint();
    program
        .forest()
        .procedure_roots()
        .iter()
        .position(|&root| root == entry)
        .and_then(|k| u32::try_from(k).ok())
        .ok_or(WriteError::EntryNotRoot {
            entry: entry.as_u32(),
        })
}
