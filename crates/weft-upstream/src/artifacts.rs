//! Upstream's serialized artifacts: programs (`.masb`, upstream's `Program` serialization) and
//! libraries (`.masl`, upstream's `Library` serialization), read from untrusted bytes and
//! converted to weft, and written from MASM source (for tools and tests).
//!
//! Upstream's deserializers are not guaranteed to be panic-free on arbitrary bytes, so every read
//! runs under [`std::panic::catch_unwind`]: a panic inside upstream becomes
//! [`ArtifactError::Malformed`] like any other decoding failure. Counts read from the top-level
//! stream are bounded by the input's length, but upstream also decodes nested sections with its
//! own readers and sizes vectors from counts found there: a corrupted count can still ask for an
//! impossible allocation, which aborts the process. A tool that must survive arbitrary files
//! decodes them in a child process first (the `weft` command line does).

use std::panic::{AssertUnwindSafe, catch_unwind};

use miden_assembly::{Library, diagnostics::NamedSource, library::LibraryExport};
use miden_core::utils::{
    ByteReader, Deserializable, DeserializationError, Serializable, SliceReader,
};
use weft_mast::{MastForest, MastNodeId, Program};

use crate::{
    AssembleError, ConvertError, assembler_with_core_lib, convert_forest, convert_program,
};

/// Why an upstream artifact could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArtifactError {
    /// The bytes are not a serialized artifact of the expected kind.
    #[error("malformed upstream {kind}: {reason}")]
    Malformed {
        /// `program` or `library`.
        kind: &'static str,
        /// Upstream's description of the problem.
        reason: String,
    },
    /// The artifact decoded but could not be converted to weft.
    #[error(transparent)]
    Convert(#[from] ConvertError),
    /// MASM source did not assemble (when writing an artifact).
    #[error(transparent)]
    Assemble(#[from] AssembleError),
}

/// One procedure a library exports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibraryProcedure {
    /// The procedure's fully qualified path, as upstream prints it.
    pub path: String,
    /// Its root node in the converted forest.
    pub node: MastNodeId,
}

/// An upstream library converted to weft.
#[derive(Debug, Clone)]
pub struct UpstreamLibrary {
    /// The library's forest, converted.
    pub forest: MastForest,
    /// The exported procedures, in upstream's order (sorted by path).
    pub procedures: Vec<LibraryProcedure>,
}

/// A reader over untrusted bytes that rejects every length or count larger than the whole
/// input. Upstream's decoders size their vectors from the counts they read; without this bound
/// a corrupted count asks for an allocation far beyond the input, which aborts the process (an
/// allocation failure is not a panic, so `catch_unwind` cannot turn it into an error). Every count
/// upstream reads (nodes, decorators, roots, advice entries, exports, bytes) describes items of
/// at least one byte each, so a valid input never trips the bound.
struct BoundedReader<'a> {
    inner: SliceReader<'a>,
    limit: usize,
}

impl ByteReader for BoundedReader<'_> {
    fn read_u8(&mut self) -> Result<u8, DeserializationError> {
        self.inner.read_u8()
    }

    fn peek_u8(&self) -> Result<u8, DeserializationError> {
        self.inner.peek_u8()
    }

    fn read_slice(&mut self, len: usize) -> Result<&[u8], DeserializationError> {
        self.inner.read_slice(len)
    }

    fn read_array<const N: usize>(&mut self) -> Result<[u8; N], DeserializationError> {
        self.inner.read_array()
    }

    fn check_eor(&self, num_bytes: usize) -> Result<(), DeserializationError> {
        self.inner.check_eor(num_bytes)
    }

    fn has_more_bytes(&self) -> bool {
        self.inner.has_more_bytes()
    }

    fn read_usize(&mut self) -> Result<usize, DeserializationError> {
        let value = self.inner.read_usize()?;
        if value > self.limit {
            return Err(DeserializationError::InvalidValue(format!(
                "count {value} exceeds the input's {} bytes",
                self.limit
            )));
        }
        Ok(value)
    }
}

fn decode<T: Deserializable>(bytes: &[u8], kind: &'static str) -> Result<T, ArtifactError> {
    let malformed = |reason: String| ArtifactError::Malformed { kind, reason };
    let read = || {
        let mut reader = BoundedReader {
            inner: SliceReader::new(bytes),
            limit: bytes.len(),
        };
        let value = T::read_from(&mut reader)?;
        if reader.has_more_bytes() {
            return Err(DeserializationError::InvalidValue(
                "bytes left after the end".to_string(),
            ));
        }
        Ok(value)
    };
    match catch_unwind(AssertUnwindSafe(read)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) => Err(malformed(err.to_string())),
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "the decoder rejected the bytes".to_string());
            Err(malformed(message))
        }
    }
}

/// Reads a serialized upstream program (`.masb`) and converts it.
///
/// # Errors
/// [`ArtifactError::Malformed`] if the bytes are not a program, [`ArtifactError::Convert`] if it
/// does not convert.
pub fn read_program(bytes: &[u8]) -> Result<Program, ArtifactError> {
    let program: miden_core::Program = decode(bytes, "program")?;
    Ok(convert_program(&program)?)
}

/// Reads a serialized upstream library (`.masl`) and converts it.
///
/// # Errors
/// [`ArtifactError::Malformed`] if the bytes are not a library, [`ArtifactError::Convert`] if it
/// does not convert.
pub fn read_library(bytes: &[u8]) -> Result<UpstreamLibrary, ArtifactError> {
    library_of(&decode(bytes, "library")?)
}

/// A library to link a program against: upstream's library, which upstream's assembler links
/// a MASM program to, and its forest converted to weft, which a weft host resolves the
/// program's calls into it through.
#[derive(Debug, Clone)]
pub struct LinkedLibrary {
    /// Upstream's library.
    pub upstream: Library,
    /// Its forest, converted.
    pub forest: MastForest,
}

/// Reads a serialized upstream library (`.masl`) to link a program against (`miden-vm run -l`).
///
/// # Errors
/// As [`read_library`].
pub fn read_library_to_link(bytes: &[u8]) -> Result<LinkedLibrary, ArtifactError> {
    let upstream: Library = decode(bytes, "library")?;
    let forest = library_of(&upstream)?.forest;
    Ok(LinkedLibrary { upstream, forest })
}

fn library_of(library: &Library) -> Result<UpstreamLibrary, ArtifactError> {
    let converted = convert_forest(library.mast_forest())?;
    let procedures = library
        .exports()
        .filter_map(|export| match export {
            LibraryExport::Procedure(proc) => Some(LibraryProcedure {
                path: proc.path.to_string(),
                node: converted.node_map[u32::from(proc.node) as usize],
            }),
            LibraryExport::Constant(_) | LibraryExport::Type(_) => None,
        })
        .collect();
    Ok(UpstreamLibrary {
        forest: converted.forest,
        procedures,
    })
}

/// Assembles MASM program source (with the core library) and serializes it as upstream does:
/// the bytes of a `.masb` file.
///
/// # Errors
/// [`ArtifactError::Assemble`] if the source does not assemble.
pub fn program_bytes(source: &str) -> Result<Vec<u8>, ArtifactError> {
    Ok(crate::assemble_upstream(source)?.to_bytes())
}

/// Assembles MASM program source against the kernel in `kernel_source` (both with the core
/// library) and serializes it as upstream does: the bytes of a `.masb` file, which name the
/// kernel's procedures by digest only.
///
/// # Errors
/// [`ArtifactError::Assemble`] if the kernel or the program does not assemble.
pub fn program_bytes_with_kernel(
    source: &str,
    kernel_source: &str,
) -> Result<Vec<u8>, ArtifactError> {
    Ok(crate::assemble_upstream_with_kernel(source, Some(kernel_source))?.to_bytes())
}

/// Assembles one MASM library module named `module` (a path such as `demo::math`, with the core
/// library available) and serializes it as upstream does: the bytes of a `.masl` file.
///
/// # Errors
/// [`ArtifactError::Assemble`] if the source does not assemble.
pub fn library_bytes(module: &str, source: &str) -> Result<Vec<u8>, ArtifactError> {
    let library = assembler_with_core_lib(None)?
        .assemble_library([NamedSource::new(module, source.to_string())])
        .map_err(crate::report)?;
    Ok(library.to_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn program_round_trips_through_upstream_bytes() {
        let source = "begin push.3 push.4 add drop end";
        let bytes = program_bytes(source).expect("assembles");
        let program = read_program(&bytes).expect("reads back");
        let direct = convert_program(&crate::assemble_upstream(source).expect("assembles"))
            .expect("converts");
        assert_eq!(program.hash(), direct.hash());
    }

    #[test]
    fn library_lists_its_procedures() {
        let source = "pub proc double\n  dup add\nend\n\npub proc triple\n  dup dup add add\nend\n";
        let bytes = library_bytes("demo::math", source).expect("assembles");
        let library = read_library(&bytes).expect("reads back");
        let paths: Vec<&str> = library.procedures.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths.len(), 2, "{paths:?}");
        assert!(paths.iter().any(|p| p.ends_with("double")), "{paths:?}");
        for proc in &library.procedures {
            assert!(library.forest.is_procedure_root(proc.node));
        }
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        for bytes in [&[][..], &[0xff; 3][..], &[1, 2, 3, 4, 5, 6, 7, 8, 9][..]] {
            assert!(matches!(
                read_program(bytes),
                Err(ArtifactError::Malformed {
                    kind: "program",
                    ..
                })
            ));
            assert!(matches!(
                read_library(bytes),
                Err(ArtifactError::Malformed {
                    kind: "library",
                    ..
                })
            ));
        }
        // A library's bytes are not a program.
        let lib = library_bytes("demo::one", "pub proc one\n  push.1 drop\nend\n").expect("ok");
        assert!(read_program(&lib).is_err());
    }
}
