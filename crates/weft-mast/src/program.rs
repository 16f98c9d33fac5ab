//! Executable programs and kernels.

use std::sync::Arc;

use weft_core::Word;

use crate::{MastError, MastForest, MastNodeId};

/// The procedures a program may `SYSCALL`, by digest (at most 255, each once).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Kernel(Vec<Word>);

impl Kernel {
    /// The largest number of procedures a kernel may export.
    pub const MAX_NUM_PROCEDURES: usize = crate::limits::MAX_KERNEL_PROCS;

    /// Creates a kernel exporting `proc_hashes`.
    ///
    /// # Errors
    /// [`MastError::KernelTooLarge`] past [`Self::MAX_NUM_PROCEDURES`] procedures;
    /// [`MastError::DuplicateKernelProcedure`] for a digest listed twice (as upstream).
    pub fn new(proc_hashes: &[Word]) -> Result<Self, MastError> {
        if proc_hashes.len() > Self::MAX_NUM_PROCEDURES {
            return Err(MastError::KernelTooLarge {
                n_procs: proc_hashes.len(),
            });
        }
        if let Some((k, _)) = proc_hashes
            .iter()
            .enumerate()
            .find(|(k, digest)| proc_hashes[..*k].contains(digest))
        {
            return Err(MastError::DuplicateKernelProcedure {
                index: k,
                digest: proc_hashes[k],
            });
        }
        Ok(Self(proc_hashes.to_vec()))
    }

    /// Returns the exported procedure digests.
    pub fn proc_hashes(&self) -> &[Word] {
        &self.0
    }

    /// Returns true if the kernel exports `digest`.
    pub fn contains(&self, digest: &Word) -> bool {
        self.0.contains(digest)
    }
}

/// A forest with an entry point (one of its procedure roots) and the kernel it runs against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    forest: Arc<MastForest>,
    entrypoint: MastNodeId,
    kernel: Kernel,
}

impl Program {
    /// Creates a program.
    ///
    /// # Errors
    /// [`MastError::EntrypointNotRoot`] if `entrypoint` is not a procedure root of `forest`.
    pub fn new(
        forest: Arc<MastForest>,
        entrypoint: MastNodeId,
        kernel: Kernel,
    ) -> Result<Self, MastError> {
        if forest.get(entrypoint).is_none() || !forest.procedure_roots().contains(&entrypoint) {
            return Err(MastError::EntrypointNotRoot {
                id: entrypoint.as_u32(),
            });
        }
        Ok(Self {
            forest,
            entrypoint,
            kernel,
        })
    }

    /// Returns the program's forest.
    pub fn forest(&self) -> &Arc<MastForest> {
        &self.forest
    }

    /// Returns the program's forest, dropping its entry point and kernel.
    pub fn into_forest(self) -> Arc<MastForest> {
        self.forest
    }

    /// Returns the entry node.
    pub fn entrypoint(&self) -> MastNodeId {
        self.entrypoint
    }

    /// Returns the kernel.
    pub fn kernel(&self) -> &Kernel {
        &self.kernel
    }

    /// Returns the program's digest (the entry node's digest).
    pub fn hash(&self) -> Word {
        self.forest[self.entrypoint].digest()
    }
}
