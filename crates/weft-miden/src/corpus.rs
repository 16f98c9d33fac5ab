//! The programs the conformance tests and tools run, and where they are.
//!
//! The repository holds all the programs a test needs:
//! - `programs/`: the conformance programs (one or a few features each, `fail_*` ones fail on
//!   purpose), with `programs/kernel.masm` as the kernel of those that make syscalls;
//! - `workloads/`: longer programs, one of each kind the speed comparison measures (a long
//!   Fibonacci-like loop, a chain of `hperm`, word memory traffic, a core-library SHA-256 chain,
//!   u32 arithmetic), sized to keep the suite fast.
//!
//! The shared corpus is an extra set, run when present: the directory named by the
//! `WEFT_SHARED_CORPUS` environment variable ([`SHARED_CORPUS_ENV`]) or, without it, `shared/corpus`
//! beside the repository. Tests and tools print whether they found it, so a run without it says
//! so rather than passing silently on fewer programs. Pointing the variable at a directory that
//! does not exist runs without it.
//!
//! ```
//! use weft_miden::corpus::{self, SharedCorpus};
//!
//! let roots = [corpus::workloads_dir(), corpus::programs_dir()];
//! let files = corpus::program_files(&roots);
//! assert!(files.len() > 200);
//! match corpus::locate_shared_corpus(Some("/nonexistent".as_ref())) {
//!     SharedCorpus::Found(dir) => unreachable!("{} exists", dir.display()),
//!     missing => println!("{}", missing.describe()),
//! }
//! ```

use std::{
    ffi::OsStr,
    path::{Path, PathBuf},
};

/// The environment variable naming the shared corpus directory.
pub const SHARED_CORPUS_ENV: &str = "WEFT_SHARED_CORPUS";

/// This crate's directory (where `programs/` and `workloads/` are).
fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The conformance programs: `programs/*.masm`, with `programs/kernel.masm` as their kernel.
pub fn programs_dir() -> PathBuf {
    crate_dir().join("programs")
}

/// The longer programs of the corpus's kinds: `workloads/*.masm`.
pub fn workloads_dir() -> PathBuf {
    crate_dir().join("workloads")
}

/// Where the shared corpus is when [`SHARED_CORPUS_ENV`] is not set: `shared/corpus` in the
/// directory that holds the repository.
pub fn default_shared_corpus_dir() -> PathBuf {
    // This crate is `<repository>/crates/weft-miden`, an absolute path as Cargo gives it.
    let beside_repository = crate_dir().ancestors().nth(3).unwrap_or(Path::new(".."));
    beside_repository.join("shared").join("corpus")
}

/// Whether the shared corpus was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SharedCorpus {
    /// The corpus directory.
    Found(PathBuf),
    /// No directory at `path`.
    Missing {
        /// Where it was looked for.
        path: PathBuf,
        /// Whether `path` came from [`SHARED_CORPUS_ENV`].
        from_env: bool,
    },
}

impl SharedCorpus {
    /// The corpus directory, if found.
    pub fn dir(&self) -> Option<&Path> {
        match self {
            SharedCorpus::Found(dir) => Some(dir),
            SharedCorpus::Missing { .. } => None,
        }
    }

    /// One line saying where the corpus is, or where it was looked for.
    pub fn describe(&self) -> String {
        match self {
            SharedCorpus::Found(dir) => format!("shared corpus: running {}", dir.display()),
            SharedCorpus::Missing { path, from_env } => format!(
                "shared corpus: not found at {}{}; running the repository's programs only",
                path.display(),
                if *from_env {
                    format!(" (from {SHARED_CORPUS_ENV})")
                } else {
                    format!(" (set {SHARED_CORPUS_ENV} to run it from elsewhere)")
                }
            ),
        }
    }
}

/// Finds the shared corpus: `env_value` (the value of [`SHARED_CORPUS_ENV`], if set and not
/// empty), else [`default_shared_corpus_dir`].
pub fn locate_shared_corpus(env_value: Option<&OsStr>) -> SharedCorpus {
    let (path, from_env) = match env_value.filter(|v| !v.is_empty()) {
        Some(value) => (PathBuf::from(value), true),
        None => (default_shared_corpus_dir(), false),
    };
    if path.is_dir() {
        SharedCorpus::Found(path)
    } else {
        SharedCorpus::Missing { path, from_env }
    }
}

/// Finds the shared corpus as [`locate_shared_corpus`] does, reading [`SHARED_CORPUS_ENV`].
pub fn shared_corpus() -> SharedCorpus {
    locate_shared_corpus(std::env::var_os(SHARED_CORPUS_ENV).as_deref())
}

/// The `.masm` program files of `roots`, in order: each directory's `*.masm` files sorted by
/// name (a `kernel.masm` is a kernel, not a program, and is left out), each file as given.
/// Unreadable directories are reported on stderr and skipped.
pub fn program_files(roots: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for root in roots {
        if !root.is_dir() {
            out.push(root.clone());
            continue;
        }
        let Ok(entries) = std::fs::read_dir(root) else {
            eprintln!("cannot read {}", root.display());
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "masm"))
            .filter(|p| p.file_stem().is_some_and(|s| s != "kernel"))
            .collect();
        files.sort();
        out.extend(files);
    }
    out
}

/// The directories a tool runs by default, and one line naming them: `workloads/`, the shared
/// corpus when found, and with `conformance` also `programs/`.
pub fn default_roots(conformance: bool) -> (Vec<PathBuf>, String) {
    let mut roots = vec![workloads_dir()];
    let shared = shared_corpus();
    roots.extend(shared.dir().map(Path::to_path_buf));
    if conformance {
        roots.push(programs_dir());
    }
    let names: Vec<String> = roots.iter().map(|r| r.display().to_string()).collect();
    let line = format!("programs from {}\n{}", names.join(", "), shared.describe());
    (roots, line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_corpus_is_reported_with_where_it_was_looked_for() {
        let missing = locate_shared_corpus(Some(OsStr::new("/nonexistent/weft-corpus")));
        assert_eq!(
            missing,
            SharedCorpus::Missing {
                path: PathBuf::from("/nonexistent/weft-corpus"),
                from_env: true
            }
        );
        assert_eq!(missing.dir(), None);
        assert!(missing.describe().contains("/nonexistent/weft-corpus"));
        // An empty value is no value: the default place is looked at.
        let default = locate_shared_corpus(Some(OsStr::new("")));
        let expected = default_shared_corpus_dir();
        assert!(
            default == SharedCorpus::Found(expected.clone())
                || default
                    == SharedCorpus::Missing {
                        path: expected,
                        from_env: false
                    },
            "{default:?}"
        );
    }

    #[test]
    fn an_existing_directory_is_found() {
        let dir = workloads_dir();
        assert_eq!(
            locate_shared_corpus(Some(dir.as_os_str())),
            SharedCorpus::Found(dir)
        );
    }

    #[test]
    fn program_files_are_sorted_and_leave_the_kernel_out() {
        let files = program_files(&[programs_dir()]);
        assert!(files.len() >= 200, "{} programs", files.len());
        assert!(files.windows(2).all(|w| w[0] < w[1]));
        assert!(
            files
                .iter()
                .all(|f| f.extension() == Some(OsStr::new("masm")))
        );
        assert!(
            !files
                .iter()
                .any(|f| f.file_stem() == Some(OsStr::new("kernel")))
        );
        let workloads = program_files(&[workloads_dir()]);
        assert_eq!(workloads.len(), 5, "{workloads:?}");
    }
}
