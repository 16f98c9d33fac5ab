//! Test programs shared by the conformance tests: this crate's own (`programs/` and
//! `workloads/`), upstream's `masm-examples` (with their inputs, from the published `miden-vm`
//! 0.20.6 package, a dev-dependency) and, when present, the shared corpus (see
//! `weft_miden::corpus`).

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::path::{Path, PathBuf};

use weft_miden::corpus;

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

/// The programs of the shared corpus, or none if it is absent; says on stdout which.
pub fn corpus_programs() -> Vec<TestProgram> {
    let shared = corpus::shared_corpus();
    println!("{}", shared.describe());
    match shared.dir() {
        Some(dir) => read_dir_masm(dir, "corpus", None),
        None => Vec::new(),
    }
}

/// This crate's longer programs of the corpus's kinds (`workloads/*.masm`).
pub fn workload_programs() -> Vec<TestProgram> {
    read_dir_masm(&corpus::workloads_dir(), "workload", None)
}

/// This crate's own programs (`programs/*.masm`, with `programs/kernel.masm` as their kernel).
pub fn own_programs() -> Vec<TestProgram> {
    let dir = corpus::programs_dir();
    let kernel = std::fs::read_to_string(dir.join("kernel.masm")).expect("kernel.masm");
    read_dir_masm(&dir, "own", Some(&kernel))
}

/// The directory of the `miden-vm` 0.20.6 package that Cargo downloaded for this crate's
/// dev-dependency, found with `cargo metadata` (offline: the lock file already names it).
fn miden_vm_package_dir() -> PathBuf {
    let output = std::process::Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--offline",
            "--manifest-path",
        ])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON");
    let package = metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .find(|p| p["name"] == "miden-vm" && p["version"] == "0.20.6")
        .expect("miden-vm 0.20.6 is a dev-dependency");
    let manifest = PathBuf::from(package["manifest_path"].as_str().expect("manifest_path"));
    manifest.parent().expect("package directory").to_path_buf()
}

/// Upstream's example programs (`masm-examples/**/*.masm`, each with the `.inputs` file beside
/// it), as the published `miden-vm` 0.20.6 package ships them.
pub fn upstream_examples() -> Vec<TestProgram> {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
        let entries =
            std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                walk(&path, found);
            } else if path.extension().is_some_and(|e| e == "masm") {
                found.push(path);
            }
        }
    }
    let dir = miden_vm_package_dir().join("masm-examples");
    let mut paths = Vec::new();
    walk(&dir, &mut paths);
    paths.sort();
    assert!(
        paths.len() >= 5,
        "{}: only {} programs",
        dir.display(),
        paths.len()
    );
    paths
        .into_iter()
        .map(|path| TestProgram {
            name: format!(
                "masm-examples/{}",
                path.file_stem().expect("stem").to_string_lossy()
            ),
            source: std::fs::read_to_string(&path).expect("read program"),
            kernel: None,
            path,
        })
        .collect()
}

/// Every test program: the workloads, the shared corpus when present, upstream's examples and
/// the own programs.
pub fn all_programs() -> Vec<TestProgram> {
    let mut all = workload_programs();
    all.extend(corpus_programs());
    all.extend(upstream_examples());
    all.extend(own_programs());
    all
}
