//! weft hosts with upstream's core library: the core library's forest, deserialized from
//! upstream once per process and converted to weft once per process, loaded into weft's
//! [`DefaultHost`] with the core library's event handlers registered.
//!
//! ```
//! use weft_upstream::host::weft_host;
//!
//! // A host for programs that call into `miden::core` and make no syscalls.
//! let host = weft_host(None);
//! # drop(host);
//! ```

use std::sync::{Arc, OnceLock};

use miden_core_lib::CoreLibrary;
use weft_host::DefaultHost;
use weft_mast::MastForest;

use crate::convert_forest;

/// Upstream's core library, deserialized once per process.
pub fn core_library() -> &'static CoreLibrary {
    static CORE_LIBRARY: OnceLock<CoreLibrary> = OnceLock::new();
    CORE_LIBRARY.get_or_init(CoreLibrary::default)
}

/// weft's conversion of upstream's core library, converted once per process.
///
/// # Panics
/// Panics if upstream's core library does not convert. It is fixed data, checked node by node
/// against upstream by the conformance suite, so this is a bug, not an input error.
pub fn weft_core_library() -> Arc<MastForest> {
    static FOREST: OnceLock<Arc<MastForest>> = OnceLock::new();
    FOREST
        .get_or_init(|| {
            let upstream = core_library().mast_forest();
            Arc::new(
                convert_forest(upstream)
                    .expect("the core library converts")
                    .forest,
            )
        })
        .clone()
}

/// Returns weft's default host with the core library (converted from upstream's) and, if
/// given, `kernel_forest` loaded, and weft's core-library event handlers registered.
///
/// # Panics
/// See [`weft_core_library`].
pub fn weft_host(kernel_forest: Option<&MastForest>) -> DefaultHost {
    let mut host = DefaultHost::with_core_lib_handlers();
    host.load_forest(weft_core_library());
    if let Some(forest) = kernel_forest {
        host.load_forest(Arc::new(forest.clone()));
    }
    host
}
