//! Test programs shared by the conformance tests: the shared corpus and this crate's own.

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::path::{Path, PathBuf};

/// A MASM program to assemble.
pub struct TestProgram {
    /// A short name (the file stem, prefixed by its collection).
    pub name: String,
    /// The MASM source.
    pub source: String,
    /// The kernel source, for programs that make syscalls.
    pub kernel: Option<String>,
    /// The program file.
    pub path: PathBuf,
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read_dir_masm(dir: &Path, prefix: &str, kernel: Option<&str>) -> Vec<TestProgram> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "masm"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .filter(|p| p.file_stem().is_some_and(|s| s != "kernel"))
        .map(|path| {
            let source = std::fs::read_to_string(&path).expect("read program");
            let needs_kernel = source.contains("syscall.");
            TestProgram {
                name: format!(
                    "{prefix}/{}",
                    path.file_stem().expect("stem").to_string_lossy()
                ),
                kernel: needs_kernel.then(|| kernel.expect("kernel available").to_string()),
                source,
                path,
            }
        })
        .collect()
}

/// The programs of `../shared/corpus` (the directory must exist: CI places it beside the clone).
pub fn corpus_programs() -> Vec<TestProgram> {
    let dir = manifest_dir().join("../../../shared/corpus");
    read_dir_masm(&dir, "corpus", None)
}

/// This crate's own programs (`programs/*.masm`, with `programs/kernel.masm` as their kernel).
pub fn own_programs() -> Vec<TestProgram> {
    let dir = manifest_dir().join("programs");
    let kernel = std::fs::read_to_string(dir.join("kernel.masm")).expect("kernel.masm");
    read_dir_masm(&dir, "own", Some(&kernel))
}

/// Every test program.
pub fn all_programs() -> Vec<TestProgram> {
    let mut all = corpus_programs();
    all.extend(own_programs());
    all
}
