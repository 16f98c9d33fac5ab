//! weft hosts with the core library (`miden::core`): weft's own copy of upstream's core library,
//! stored in weft's sealed fast format inside this crate and loaded once per process, in
//! [`DefaultHost`] with the core library's event handlers registered.
//!
//! # The embedded core library
//! Deserializing upstream's core library (`CoreLibrary::default`) and converting it to weft
//! re-hashes every block: about 60 ms, paid by every process that built a host. The same forest,
//! converted once and stripped of decorators, is kept in `assets/core-lib.fast` (a sealed fast
//! file, [`CORE_LIB_SEAL_KEY`]) and compiled into this crate with `include_bytes!`; loading it is
//! [`fast::read_sealed`], a fraction of a millisecond, and blocks are batched on first use.
//!
//! Why a checked-in file rather than a build script: a build script would need upstream's
//! crates and the conversion as build dependencies, which cargo compiles a second time (with
//! the build profile), and upstream's core library build assembles the whole library. Why not
//! a cache file: every fresh machine would pay the conversion once and there would be a file
//! to invalidate, corrupt or fail to write. The file cannot silently go stale: upstream is
//! pinned to exactly 0.20.6 in the workspace, and this crate's test `core_lib_asset` converts
//! upstream's library afresh and checks that the embedded bytes are exactly what the writer
//! produces for it (`WEFT_BLESS=1 cargo test -p weft-upstream --test core_lib_asset` rewrites
//! the file after a change to the fast format or the conversion). A file that does not read
//! (damaged, or written by another version of the format) is a typed [`CoreLibError`], never a
//! different library: the seal covers every byte.
//!
//! ```
//! use weft_upstream::host::weft_host;
//!
//! // A host for programs that call into `miden::core` and make no syscalls.
//! let host = weft_host(None)?;
//! # drop(host);
//! # Ok::<(), weft_upstream::host::CoreLibError>(())
//! ```

use std::sync::{Arc, OnceLock};

use miden_core_lib::CoreLibrary;
use weft_host::DefaultHost;
use weft_mast::{
    MastError, MastForest,
    format::{FormatError, WriteError, fast},
};

use crate::{ConvertError, convert_forest};

/// The key the embedded core library is sealed with. It is public: the seal is not a secret
/// between parties, it lets [`fast::read_sealed`] tell this crate's own file (whose digests
/// were computed by weft's builder when it was written) from any other bytes, and checks every
/// byte of it.
pub const CORE_LIB_SEAL_KEY: [u8; 32] = *b"weft core library, miden 0.20.6!";

/// Path of the embedded core library, relative to this crate's root.
pub const CORE_LIB_ASSET: &str = "assets/core-lib.fast";

/// The embedded core library: a sealed fast file (see the module documentation).
pub static CORE_LIB_FAST: &[u8] = include_bytes!("../assets/core-lib.fast");

/// Why the core library could not be provided.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CoreLibError {
    /// The embedded file does not read: damaged, or written by another version of the format
    /// (rewrite it as the module documentation says).
    #[error(
        "weft's embedded core library ({CORE_LIB_ASSET} of weft-upstream) does not read: \
         {source}; rewrite it with `WEFT_BLESS=1 cargo test -p weft-upstream --test \
         core_lib_asset`"
    )]
    Embedded {
        /// What is wrong with it.
        #[source]
        source: FormatError,
    },
    /// Upstream's core library does not convert to weft.
    #[error("upstream's core library does not convert: {0}")]
    Convert(#[source] ConvertError),
    /// The converted core library could not be stripped of its decorators.
    #[error("upstream's core library cannot be stripped of its decorators: {0}")]
    Strip(#[source] MastError),
    /// The converted core library could not be written in the fast format.
    #[error("the core library cannot be written in the fast format: {0}")]
    Write(#[source] WriteError),
}

/// Upstream's core library, deserialized once per process (about 30 ms: only what needs
/// upstream's own types pays it, such as assembling MASM).
pub fn core_library() -> &'static CoreLibrary {
    static CORE_LIBRARY: OnceLock<CoreLibrary> = OnceLock::new();
    CORE_LIBRARY.get_or_init(CoreLibrary::default)
}

/// weft's core library, read from the embedded sealed file once per process.
///
/// # Errors
/// [`CoreLibError::Embedded`] if the embedded file does not read (then every call tries again
/// and fails the same way).
pub fn weft_core_library() -> Result<Arc<MastForest>, CoreLibError> {
    static FOREST: OnceLock<Arc<MastForest>> = OnceLock::new();
    if let Some(forest) = FOREST.get() {
        return Ok(Arc::clone(forest));
    }
    let forest = read_core_library(CORE_LIB_FAST)?;
    // Another thread may have loaded it meanwhile: the first one stored wins, both are equal.
    Ok(Arc::clone(FOREST.get_or_init(|| Arc::new(forest))))
}

/// Reads a core library sealed with [`CORE_LIB_SEAL_KEY`] from `bytes`.
///
/// # Errors
/// [`CoreLibError::Embedded`] if the bytes are not such a file.
pub fn read_core_library(bytes: &[u8]) -> Result<MastForest, CoreLibError> {
    fast::read_sealed(bytes, &CORE_LIB_SEAL_KEY).map_err(|source| CoreLibError::Embedded { source })
}

/// Converts upstream's core library to weft afresh and strips its decorators: the forest the
/// embedded file holds (slow: deserializes upstream's library and hashes every block).
///
/// # Errors
/// [`CoreLibError::Convert`] or [`CoreLibError::Strip`].
pub fn convert_core_library() -> Result<MastForest, CoreLibError> {
    let converted = convert_forest(core_library().mast_forest()).map_err(CoreLibError::Convert)?;
    weft_mast::format::strip(&converted.forest).map_err(CoreLibError::Strip)
}

/// Returns the bytes of the embedded file for `forest` (what [`convert_core_library`] returns):
/// the sealed fast format under [`CORE_LIB_SEAL_KEY`].
///
/// # Errors
/// [`CoreLibError::Write`] if the forest cannot be written.
pub fn write_core_library(forest: &MastForest) -> Result<Vec<u8>, CoreLibError> {
    fast::write_sealed(forest, &CORE_LIB_SEAL_KEY).map_err(CoreLibError::Write)
}

/// Returns weft's default host with the core library and, if given, `kernel_forest` loaded, and
/// weft's core-library event handlers registered.
///
/// # Errors
/// As [`weft_core_library`].
pub fn weft_host(kernel_forest: Option<&MastForest>) -> Result<DefaultHost, CoreLibError> {
    let mut host = DefaultHost::with_core_lib_handlers();
    host.load_forest(weft_core_library()?);
    if let Some(forest) = kernel_forest {
        host.load_forest(Arc::new(forest.clone()));
    }
    Ok(host)
}
