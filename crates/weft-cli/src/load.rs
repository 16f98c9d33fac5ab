//! Loading a program file of any accepted kind, and its inputs.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use weft_host::{DefaultHost, ExecutionOptions};
use weft_mast::{
    Kernel, MastForest, MastNodeId, Program,
    format::{MastFile, compact, fast, text},
};
use weft_upstream::{LoadError, ProgramInputs, artifacts};

use super::{CliError, ProbeKind};

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// MASM source.
    Masm,
    /// An upstream serialized program.
    Masb,
    /// An upstream serialized library.
    Masl,
    /// weft's fast format.
    Fast,
    /// weft's compact format.
    Compact,
    /// weft's text format.
    Text,
}

impl FileKind {
    /// The kind's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            FileKind::Masm => "masm",
            FileKind::Masb => "masb",
            FileKind::Masl => "masl",
            FileKind::Fast => "fast",
            FileKind::Compact => "compact",
            FileKind::Text => "text",
        }
    }
}

/// A loaded file: its forest, its entry point if it is a program, and what is known of its
/// procedures.
#[derive(Debug)]
pub struct LoadedFile {
    /// What the file was.
    pub kind: FileKind,
    /// The forest.
    pub forest: Arc<MastForest>,
    /// The program, for a file that has an entry point.
    pub program: Option<Program>,
    /// Procedure names by root (libraries only).
    pub names: Vec<(MastNodeId, String)>,
    /// The kernel's forest, for a MASM program that makes syscalls.
    pub kernel_forest: Option<MastForest>,
    /// The options every execution of the file runs with (`--max-cycles`).
    pub options: ExecutionOptions,
    /// The forests of the libraries linked with `-l` (whose procedures the program may call).
    pub libraries: Vec<Arc<MastForest>>,
}

impl LoadedFile {
    /// Returns the program, or an error naming `path` if the file has none.
    pub fn runnable(&self, path: &Path) -> Result<&Program, CliError> {
        self.program.as_ref().ok_or_else(|| CliError::NotRunnable {
            path: path.display().to_string(),
            reason: match self.kind {
                FileKind::Masl => {
                    "a library has no entry point; only inspect and convert accept it"
                }
                _ => "the forest has no procedure root to run",
            },
        })
    }

    /// Prepares `program`'s code for running: batches every block it can reach, in its forest
    /// and in the core library (see [`crate::link`]), so that execution does not.
    ///
    /// # Errors
    /// [`CliError::CoreLibrary`] if weft's embedded core library does not read.
    pub fn link(&self, program: &Program) -> Result<(), CliError> {
        let mut forests = vec![weft_upstream::host::weft_core_library()?];
        forests.extend(self.libraries.iter().cloned());
        crate::link::prepare(program, &forests);
        Ok(())
    }

    /// Returns a host with the core library, the file's kernel (if any) and the linked
    /// libraries loaded.
    ///
    /// # Errors
    /// [`CliError::CoreLibrary`] if weft's embedded core library does not read.
    pub fn host(&self) -> Result<DefaultHost, CliError> {
        let mut host = weft_upstream::host::weft_host(self.kernel_forest.as_ref())?;
        for library in &self.libraries {
            host.load_forest(Arc::clone(library));
        }
        Ok(host)
    }
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

/// Tells the kind of a file from its extension (`.masm`, `.masb`, `.masl`) or its header.
fn detect(path: &Path, bytes: &[u8]) -> Option<FileKind> {
    if bytes.starts_with(&fast::MAGIC) {
        return Some(FileKind::Fast);
    }
    if bytes.starts_with(&compact::MAGIC) {
        return Some(FileKind::Compact);
    }
    match path.extension().and_then(|e| e.to_str()) {
        Some("masm") => return Some(FileKind::Masm),
        Some("masb") => return Some(FileKind::Masb),
        Some("masl") => return Some(FileKind::Masl),
        _ => {}
    }
    let text = std::str::from_utf8(bytes).ok()?;
    let first_token = text
        .lines()
        .map(|line| line.split(';').next().unwrap_or("").trim())
        .find(|line| !line.is_empty())?
        .split_whitespace()
        .next()?;
    (first_token == "mast").then_some(FileKind::Text)
}

/// Loads the file at `path`.
///
/// # Errors
/// The file cannot be read, is of no accepted kind, or is malformed.
pub fn load(path: &Path) -> Result<LoadedFile, CliError> {
    load_then(path, &[], |_| {})
}

impl crate::ProgramArgs {
    /// Loads the program with its libraries (calling `detected` with the file's kind as soon
    /// as it is known) and its inputs, and sets the cycle limit.
    ///
    /// # Errors
    /// As [`load_then`], [`LoadedFile::runnable`] and [`inputs`].
    pub fn load(
        &self,
        detected: impl FnOnce(FileKind),
    ) -> Result<(LoadedFile, ProgramInputs), CliError> {
        let mut file = load_then(&self.file, &self.libraries, detected)?;
        if let Some(max_cycles) = self.max_cycles {
            file.options = ExecutionOptions::with_max_cycles(max_cycles);
        }
        file.runnable(&self.file)?;
        let inputs = inputs(&self.file, self.inputs.as_deref())?;
        Ok((file, inputs))
    }
}

/// Reads the libraries at `paths` to link a program against.
fn read_libraries(paths: &[PathBuf]) -> Result<Vec<artifacts::LinkedLibrary>, CliError> {
    paths
        .iter()
        .map(|path| {
            let bytes = std::fs::read(path).map_err(|source| CliError::Read {
                path: display(path),
                source,
            })?;
            probe(path, ProbeKind::Library, &bytes)?;
            artifacts::read_library_to_link(&bytes).map_err(|source| CliError::Artifact {
                path: display(path),
                source,
            })
        })
        .collect()
}

/// [`load`], calling `detected` with the file's kind as soon as it is known, before the
/// program is assembled or decoded.
///
/// # Errors
/// As [`load`].
pub fn load_then(
    path: &Path,
    libraries: &[PathBuf],
    detected: impl FnOnce(FileKind),
) -> Result<LoadedFile, CliError> {
    let libraries = read_libraries(libraries)?;
    let mut file = load_file(path, &libraries, detected)?;
    file.libraries = libraries
        .into_iter()
        .map(|library| Arc::new(library.forest))
        .collect();
    Ok(file)
}

fn load_file(
    path: &Path,
    libraries: &[artifacts::LinkedLibrary],
    detected: impl FnOnce(FileKind),
) -> Result<LoadedFile, CliError> {
    let bytes = std::fs::read(path).map_err(|source| CliError::Read {
        path: display(path),
        source,
    })?;
    let kind = detect(path, &bytes).ok_or_else(|| CliError::UnknownFormat {
        path: display(path),
    })?;
    detected(kind);
    let artifact = |source| CliError::Artifact {
        path: display(path),
        source,
    };
    let format = |format, source| CliError::Format {
        path: display(path),
        format,
        source,
    };
    match kind {
        FileKind::Masm => {
            let upstream: Vec<_> = libraries.iter().map(|l| l.upstream.clone()).collect();
            let loaded = weft_upstream::load_program_with_libraries(path, &upstream).map_err(
                |err| match err {
                    LoadError::Inputs(source) => CliError::Inputs {
                        path: display(&path.with_extension("inputs")),
                        source,
                    },
                    other => CliError::Masm(other),
                },
            )?;
            Ok(LoadedFile {
                kind,
                forest: Arc::clone(loaded.weft.forest()),
                program: Some(loaded.weft),
                names: Vec::new(),
                kernel_forest: loaded.weft_kernel_forest,
                options: ExecutionOptions::default(),
                libraries: Vec::new(),
            })
        }
        FileKind::Masb => {
            probe(path, ProbeKind::Program, &bytes)?;
            let program = artifacts::read_program(&bytes).map_err(artifact)?;
            // The file names its kernel's procedures by digest only; their code comes from the
            // `kernel.masm` beside it, as for a MASM program, when there is one.
            let kernel_forest = if program.kernel().proc_hashes().is_empty()
                || !path.with_file_name("kernel.masm").is_file()
            {
                None
            } else {
                Some(weft_upstream::load_kernel_beside(path).map_err(CliError::Masm)?)
            };
            Ok(LoadedFile {
                kind,
                forest: Arc::clone(program.forest()),
                program: Some(program),
                names: Vec::new(),
                kernel_forest,
                options: ExecutionOptions::default(),
                libraries: Vec::new(),
            })
        }
        FileKind::Masl => {
            probe(path, ProbeKind::Library, &bytes)?;
            let library = artifacts::read_library(&bytes).map_err(artifact)?;
            Ok(LoadedFile {
                kind,
                forest: Arc::new(library.forest),
                program: None,
                names: library
                    .procedures
                    .into_iter()
                    .map(|p| (p.node, p.path))
                    .collect(),
                kernel_forest: None,
                options: ExecutionOptions::default(),
                libraries: Vec::new(),
            })
        }
        FileKind::Fast => {
            let file = fast::read(&bytes)
                .and_then(|f| f.validate_file())
                .map_err(|e| format("fast", e))?;
            Ok(from_file(kind, file))
        }
        FileKind::Compact => {
            let file = compact::read(&bytes)
                .and_then(|f| f.validate_file())
                .map_err(|e| format("compact", e))?;
            Ok(from_file(kind, file))
        }
        FileKind::Text => {
            // `detect` only returns `Text` for UTF-8.
            let source = String::from_utf8_lossy(&bytes);
            let file = text::parse_file(&source).map_err(|source| CliError::Text {
                path: display(path),
                source,
            })?;
            Ok(from_file(kind, file))
        }
    }
}

// UPSTREAM FILES IN A CHILD PROCESS
// ================================================================================================

/// Decodes `bytes` in a child process (`weft __probe-upstream`) before this process does.
///
/// Upstream's decoders size some vectors from counts inside the file; a corrupted count can ask
/// for more memory than exists, and an allocation failure aborts the process rather than
/// panicking. Decoding is deterministic, so if the child decodes (or fails with an ordinary
/// error), so will this process; if the child dies, the file is reported as malformed. If no
/// child can be started, the file is decoded here directly.
fn probe(path: &Path, kind: ProbeKind, bytes: &[u8]) -> Result<(), CliError> {
    use std::{
        io::Write,
        process::{Command, Stdio},
    };
    let Ok(exe) = std::env::current_exe() else {
        return Ok(());
    };
    let kind_arg = match kind {
        ProbeKind::Program => "program",
        ProbeKind::Library => "library",
    };
    let Ok(mut child) = Command::new(exe)
        .args(["__probe-upstream", kind_arg])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    else {
        return Ok(());
    };
    // The child reads all of stdin before anything else, and writes nowhere we read.
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(bytes);
    }
    match child.wait() {
        Ok(status) if status.success() || status.code() == Some(1) => Ok(()),
        Ok(_) => Err(CliError::Artifact {
            path: display(path),
            source: artifacts::ArtifactError::Malformed {
                kind: kind_arg,
                reason: "the decoder aborted (a corrupted count asks for more memory than exists)"
                    .to_string(),
            },
        }),
        Err(_) => Ok(()),
    }
}

/// The child's side of [`probe`]: decodes stdin; `Err` (exit status 1) if it does not decode.
pub fn probe_child(kind: ProbeKind) -> Result<(), CliError> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .map_err(|source| CliError::Read {
            path: "standard input".to_string(),
            source,
        })?;
    let result = match kind {
        ProbeKind::Program => artifacts::read_program(&bytes).map(drop),
        ProbeKind::Library => artifacts::read_library(&bytes).map(drop),
    };
    result.map_err(|source| CliError::Artifact {
        path: "standard input".to_string(),
        source,
    })
}

/// A file of one of weft's formats: a program file gives its program, whose kernel's
/// procedures (which `convert` stores as roots of the same forest) the host is given by loading
/// the file's forest; a forest file is read as [`from_forest`] reads it.
fn from_file(kind: FileKind, file: MastFile) -> LoadedFile {
    match file {
        MastFile::Forest(forest) => from_forest(kind, forest),
        MastFile::Program(program) => LoadedFile {
            kind,
            forest: Arc::clone(program.forest()),
            kernel_forest: (!program.kernel().proc_hashes().is_empty())
                .then(|| MastForest::clone(program.forest())),
            program: Some(program),
            names: Vec::new(),
            options: ExecutionOptions::default(),
            libraries: Vec::new(),
        },
    }
}

/// A forest read from one of weft's formats without a program section (files written before
/// programs existed, or libraries): its first root is the entry point, no kernel.
fn from_forest(kind: FileKind, forest: MastForest) -> LoadedFile {
    let forest = Arc::new(forest);
    let program = forest
        .procedure_roots()
        .first()
        .and_then(|&entry| Program::new(Arc::clone(&forest), entry, Kernel::default()).ok());
    LoadedFile {
        kind,
        forest,
        program,
        names: Vec::new(),
        kernel_forest: None,
        options: ExecutionOptions::default(),
        libraries: Vec::new(),
    }
}

/// Reads the inputs: `explicit` if given, else the `.inputs` file beside `program_path`, else
/// none.
///
/// # Errors
/// The inputs file cannot be read or is invalid.
pub fn inputs(program_path: &Path, explicit: Option<&Path>) -> Result<ProgramInputs, CliError> {
    let (path, result): (PathBuf, _) = match explicit {
        Some(path) => (path.to_path_buf(), ProgramInputs::from_file(path)),
        None => (
            program_path.with_extension("inputs"),
            ProgramInputs::for_program(program_path),
        ),
    };
    result.map_err(|source| CliError::Inputs {
        path: display(&path),
        source,
    })
}

/// Rebuilds `forest` without decorators, with `entry` (if any) as its first procedure root (where
/// a reader that knows no program section looks for it). Also returns, for each node of
/// `forest`, its id in the rebuilt forest (nodes that differed only by decorators merge).
///
/// # Errors
/// [`CliError::Strip`] (naming `path`) if the forest cannot be rebuilt.
pub fn canonical_forest(
    path: &Path,
    forest: &MastForest,
    entry: Option<MastNodeId>,
) -> Result<(MastForest, Vec<MastNodeId>), CliError> {
    weft_mast::format::strip_with_entry(forest, entry).map_err(|source| CliError::Strip {
        path: display(path),
        source,
    })
}

/// Rebuilds `program` without decorators for writing, with its kernel's procedures (from
/// `kernel_forest`, if the file came with one) as roots, so that the written file alone runs its
/// syscalls.
///
/// # Errors
/// [`CliError::Strip`] (naming `path`) if the forest cannot be rebuilt.
pub fn canonical_program(
    path: &Path,
    program: &Program,
    kernel_forest: Option<&MastForest>,
) -> Result<Program, CliError> {
    weft_mast::format::strip_program(program, kernel_forest).map_err(|source| CliError::Strip {
        path: display(path),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_extension_and_header() {
        let p = Path::new;
        assert_eq!(detect(p("a.masm"), b"begin end"), Some(FileKind::Masm));
        assert_eq!(detect(p("a.masb"), b"\0\0"), Some(FileKind::Masb));
        assert_eq!(detect(p("a.masl"), b"\0\0"), Some(FileKind::Masl));
        assert_eq!(detect(p("a.bin"), b"WEFTFAST...."), Some(FileKind::Fast));
        assert_eq!(
            detect(p("a.masm"), b"WEFTCMPT...."),
            Some(FileKind::Compact)
        );
        assert_eq!(
            detect(p("a.txt"), b"; a comment\n\n  mast 1\nnode 0 block [add]\n"),
            Some(FileKind::Text)
        );
        assert_eq!(detect(p("a.txt"), b"begin add end"), None);
        assert_eq!(detect(p("a"), &[0xff, 0xfe]), None);
    }
}
