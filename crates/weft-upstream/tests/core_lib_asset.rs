//! The embedded core library (`assets/core-lib.fast`) is exactly upstream's core library,
//! converted and stripped afresh, in the sealed fast format; and a damaged copy is a typed error.
//!
//! `WEFT_BLESS=1 cargo test -p weft-upstream --test core_lib_asset` rewrites the file (after a
//! change to the fast format or to the conversion) instead of failing.

use miden_core::mast::MastNodeExt as _;
use weft_host::Host as _;
use weft_upstream::host::{
    CORE_LIB_ASSET, CORE_LIB_FAST, CoreLibError, convert_core_library, core_library,
    read_core_library, weft_core_library, weft_host, write_core_library,
};

#[test]
fn embedded_core_library_is_upstreams_converted() {
    let fresh = convert_core_library().expect("upstream's core library converts");
    let bytes = write_core_library(&fresh).expect("the core library writes");
    if std::env::var_os("WEFT_BLESS").is_some_and(|v| v == "1") {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(CORE_LIB_ASSET);
        std::fs::write(&path, &bytes).expect("the asset is writable");
        return;
    }
    assert!(
        bytes == CORE_LIB_FAST,
        "{CORE_LIB_ASSET} is stale ({} bytes embedded, {} expected): rewrite it with \
         `WEFT_BLESS=1 cargo test -p weft-upstream --test core_lib_asset`",
        CORE_LIB_FAST.len(),
        bytes.len()
    );
    let embedded = weft_core_library().expect("the embedded core library reads");
    assert_eq!(embedded.nodes().len(), fresh.nodes().len());
    assert_eq!(embedded.procedure_roots(), fresh.procedure_roots());
}

#[test]
fn embedded_roots_are_upstreams_procedures() {
    let embedded = weft_core_library().expect("the embedded core library reads");
    let mut weft: Vec<[u64; 4]> = embedded
        .procedure_roots()
        .iter()
        .map(|&root| {
            let digest = embedded[root].digest();
            std::array::from_fn(|i| digest.as_elements()[i].as_int())
        })
        .collect();
    let upstream_forest = core_library().mast_forest();
    let mut upstream: Vec<[u64; 4]> = upstream_forest
        .procedure_roots()
        .iter()
        .map(|&root| {
            let digest = upstream_forest[root].digest();
            std::array::from_fn(|i| digest[i].as_int())
        })
        .collect();
    weft.sort_unstable();
    weft.dedup();
    upstream.sort_unstable();
    upstream.dedup();
    assert!(!weft.is_empty());
    assert_eq!(weft, upstream);
}

#[test]
fn damaged_core_library_is_a_typed_error() {
    let mut bytes = CORE_LIB_FAST.to_vec();
    assert!(bytes.len() > 200, "the asset is missing");
    bytes[100] ^= 1;
    let err = read_core_library(&bytes).expect_err("a damaged file does not read");
    assert!(matches!(err, CoreLibError::Embedded { .. }), "{err}");
    assert!(err.to_string().contains("WEFT_BLESS=1"), "{err}");
    let err = read_core_library(&bytes[..bytes.len() - 1]).expect_err("a truncated file");
    assert!(matches!(err, CoreLibError::Embedded { .. }), "{err}");
}

#[test]
fn host_resolves_core_library_procedures() {
    let host = weft_host(None).expect("a host");
    let embedded = weft_core_library().expect("the embedded core library reads");
    let root = embedded.procedure_roots()[0];
    let digest = embedded[root].digest();
    let forest = host
        .get_mast_forest(&digest)
        .expect("the procedure resolves");
    assert!(std::sync::Arc::ptr_eq(&forest, &embedded));
}
