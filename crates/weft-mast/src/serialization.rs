//! winter-utils [`Serializable`] / [`Deserializable`] for [`MastForest`], [`Program`] and
//! [`Kernel`]: the traits upstream Miden code serializes with, on top of weft's fast format.
//!
//! # Layout
//! A forest or program is written as a tag byte, then:
//! - tag 0: a `usize` (winter-utils' variable-length encoding) byte count, then a fast-format
//!   file of that length ([`fast::write`] of the forest, [`fast::write_program`] of the program);
//! - tag 1: a `usize` byte count, then a UTF-8 message: the writer could not encode the value
//!   (a forest too large for the format, or a block of a sealed file that cannot be batched).
//!   [`Serializable::write_into`] cannot fail, so the failure is written down and reading it
//!   back is an error that carries the message, never a wrong value.
//!
//! The fast format is defined on stripped forests, so decorators (debugging data that never
//! change a digest) are not serialized: the bytes are those of [`format::strip`] of the forest
//! (of the program's forest, its entry point mapped), and a forest read back carries none; a
//! forest or program without decorators comes back equal.
//!
//! A kernel is a `usize` count of procedures, then each digest as four little-endian `u64`s.
//!
//! # Reading
//! [`Deserializable::read_from`] takes the untrusted path: the byte count is checked against
//! [`limits::MAX_INPUT_LEN`] before anything is read, the file is read with [`fast::read`]
//! (every limit of [`limits`]) and validated with
//! [`UntrustedMastForest::validate`](format::UntrustedMastForest::validate) (every digest
//! recomputed, every invariant checked), never through the sealed, trusting path. Every failure
//! is a [`DeserializationError::InvalidValue`] whose message says what was wrong and where.

use weft_core::{Felt, StarkField, Word};
use winter_utils::{ByteReader, ByteWriter, Deserializable, DeserializationError, Serializable};

use std::sync::Arc;

use crate::{
    Kernel, MastError, MastForest, Program,
    format::{self, FormatError, fast},
    limits,
};

/// Tag of a value written as a fast-format file.
const TAG_FAST: u8 = 0;
/// Tag of a value the writer could not encode.
const TAG_UNWRITABLE: u8 = 1;

/// Writes the outcome of encoding a value.
fn write_encoded<W: ByteWriter>(target: &mut W, encoded: Result<Vec<u8>, String>) {
    let (tag, bytes) = match encoded {
        Ok(bytes) => (TAG_FAST, bytes),
        Err(message) => (TAG_UNWRITABLE, message.into_bytes()),
    };
    target.write_u8(tag);
    target.write_usize(bytes.len());
    target.write_bytes(&bytes);
}

/// Reads a tagged fast-format file and hands its bytes to `decode`.
fn read_encoded<R: ByteReader, T>(
    source: &mut R,
    what: &str,
    decode: impl FnOnce(&[u8]) -> Result<T, FormatError>,
) -> Result<T, DeserializationError> {
    let tag = source.read_u8()?;
    let len = source.read_usize()?;
    if len > limits::MAX_INPUT_LEN {
        return Err(DeserializationError::InvalidValue(format!(
            "{what}: length {len} exceeds the limit {}",
            limits::MAX_INPUT_LEN
        )));
    }
    let bytes = source.read_slice(len)?;
    match tag {
        TAG_FAST => decode(bytes).map_err(|e| {
            DeserializationError::InvalidValue(format!(
                "{what}: invalid weft fast-format file: {e}"
            ))
        }),
        TAG_UNWRITABLE => Err(DeserializationError::InvalidValue(format!(
            "{what}: the writer could not serialize it: {}",
            String::from_utf8_lossy(bytes)
        ))),
        other => Err(DeserializationError::InvalidValue(format!(
            "{what}: unknown tag {other} (expected {TAG_FAST} or {TAG_UNWRITABLE})"
        ))),
    }
}

impl Serializable for MastForest {
    /// Writes the forest, stripped of decorators, as a fast-format file (see the module
    /// documentation).
    fn write_into<W: ByteWriter>(&self, target: &mut W) {
        let encoded = format::strip(self)
            .map_err(|e| e.to_string())
            .and_then(|stripped| fast::write(&stripped).map_err(|e| e.to_string()));
        write_encoded(target, encoded);
    }
}

impl Deserializable for MastForest {
    /// Reads a forest through the untrusted path: [`fast::read`] then
    /// [`UntrustedMastForest::validate`](format::UntrustedMastForest::validate).
    fn read_from<R: ByteReader>(source: &mut R) -> Result<Self, DeserializationError> {
        read_encoded(source, "mast forest", |bytes| fast::read(bytes)?.validate())
    }
}

impl Serializable for Program {
    /// Writes the program, stripped of decorators, as a fast-format program file (see the
    /// module documentation).
    fn write_into<W: ByteWriter>(&self, target: &mut W) {
        let encoded = stripped_in_order(self)
            .map_err(|e| e.to_string())
            .and_then(|stripped| fast::write_program(&stripped).map_err(|e| e.to_string()));
        write_encoded(target, encoded);
    }
}

/// Returns `program` without decorators, its nodes and roots in their order (a decorator-free
/// program comes back equal).
fn stripped_in_order(program: &Program) -> Result<Program, MastError> {
    let (forest, map) = format::strip_with_entry(program.forest(), None)?;
    let entry = program.entrypoint();
    let entry = *map.get(entry.as_usize()).ok_or(MastError::DanglingChild {
        child: entry.as_u32(),
        n_nodes: map.len(),
    })?;
    Program::new(Arc::new(forest), entry, program.kernel().clone())
}

impl Deserializable for Program {
    /// Reads a program through the untrusted path: [`fast::read`] then
    /// [`UntrustedMastForest::validate_program`](format::UntrustedMastForest::validate_program).
    fn read_from<R: ByteReader>(source: &mut R) -> Result<Self, DeserializationError> {
        read_encoded(source, "program", |bytes| {
            fast::read(bytes)?.validate_program()
        })
    }
}

impl Serializable for Kernel {
    fn write_into<W: ByteWriter>(&self, target: &mut W) {
        let hashes = self.proc_hashes();
        target.write_usize(hashes.len());
        for digest in hashes {
            for felt in digest.iter() {
                target.write_u64(felt.as_int());
            }
        }
    }
}

impl Deserializable for Kernel {
    /// Reads a kernel: every element must be canonical and no digest may repeat.
    fn read_from<R: ByteReader>(source: &mut R) -> Result<Self, DeserializationError> {
        let n = source.read_usize()?;
        if n > limits::MAX_KERNEL_PROCS {
            return Err(DeserializationError::InvalidValue(format!(
                "kernel: {n} procedures exceed the limit {}",
                limits::MAX_KERNEL_PROCS
            )));
        }
        let mut hashes = Vec::with_capacity(n);
        for k in 0..n {
            let mut felts = [Felt::new(0); 4];
            for (j, felt) in felts.iter_mut().enumerate() {
                let value = source.read_u64()?;
                if value >= Felt::MODULUS {
                    return Err(DeserializationError::InvalidValue(format!(
                        "kernel: element {j} of procedure {k} is not a canonical field element: \
                         {value:#x}"
                    )));
                }
                *felt = Felt::new(value);
            }
            hashes.push(Word::new(felts));
        }
        Kernel::new(&hashes).map_err(|e| DeserializationError::InvalidValue(format!("kernel: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use weft_core::{Felt, Operation, Word};
    use winter_utils::{Deserializable, DeserializationError, Serializable, SliceReader};

    use crate::{
        Decorator, Kernel, MastForest, MastForestBuilder, NodeDecorators, Program,
        format::{self, fuzz},
    };

    fn program() -> Program {
        fuzz::program_from_bytes(b"a program with a kernel, from a handful of bytes")
    }

    #[test]
    fn forests_programs_and_kernels_round_trip() {
        // Programs whose entry point is any of their roots come back equal.
        let mut rng = fuzz::SplitMix64::new(11);
        for _ in 0..64 {
            let recipe = {
                let n = rng.below(200) as usize;
                rng.bytes(n)
            };
            let program = fuzz::program_from_bytes(&recipe);
            let back = Program::read_from_bytes(&program.to_bytes());
            assert_eq!(back.as_ref(), Ok(&program));
        }
        let program = program();
        let forest: &MastForest = program.forest();
        let bytes = forest.to_bytes();
        assert_eq!(MastForest::read_from_bytes(&bytes).as_ref(), Ok(forest));
        let bytes = program.to_bytes();
        assert_eq!(Program::read_from_bytes(&bytes).as_ref(), Ok(&program));
        let bytes = program.kernel().to_bytes();
        assert_eq!(
            Kernel::read_from_bytes(&bytes).as_ref(),
            Ok(program.kernel())
        );
        // Several values one after the other in one stream.
        let mut stream = Vec::new();
        program.write_into(&mut stream);
        forest.write_into(&mut stream);
        let mut reader = SliceReader::new(&stream);
        assert_eq!(Program::read_from(&mut reader).as_ref(), Ok(&program));
        assert_eq!(MastForest::read_from(&mut reader).as_ref(), Ok(forest));
    }

    #[test]
    fn decorators_are_stripped() {
        let mut b = MastForestBuilder::new();
        let dec = b.add_decorator(Decorator::Trace(3)).expect("decorator");
        let plain = b.add_block(&[Operation::Add]).expect("block");
        let decorated = b
            .add_block_with_decorators(
                &[Operation::Add],
                NodeDecorators {
                    before_enter: vec![dec],
                    ..NodeDecorators::default()
                },
            )
            .expect("block");
        let join = b.add_join(plain, decorated).expect("join");
        b.make_root(join).expect("root");
        let forest = b.build();
        let back = MastForest::read_from_bytes(&forest.to_bytes()).expect("reads");
        assert_eq!(back, format::strip(&forest).expect("strips"));
        let program = Program::new(Arc::new(forest), join, Kernel::default()).expect("program");
        let back = Program::read_from_bytes(&program.to_bytes()).expect("reads");
        assert_eq!(back.hash(), program.hash());
        assert_eq!(back.forest().num_nodes(), 2);
    }

    fn invalid(result: Result<impl std::fmt::Debug, DeserializationError>) -> String {
        match result {
            Err(DeserializationError::InvalidValue(message)) => message,
            other => panic!("expected an invalid value, got {other:?}"),
        }
    }

    #[test]
    fn corrupted_bytes_are_errors_not_panics() {
        let program = program();
        let bytes = program.to_bytes();
        // Every single-byte change and every truncation is an error or the same value.
        for i in 0..bytes.len() {
            for delta in [1u8, 0x80] {
                let mut copy = bytes.clone();
                copy[i] = copy[i].wrapping_add(delta);
                if let Ok(back) = Program::read_from_bytes(&copy) {
                    assert_eq!(back, program, "byte {i} changed the program");
                }
                drop(MastForest::read_from_bytes(&copy));
            }
            assert!(
                Program::read_from_bytes(&bytes[..i]).is_err(),
                "truncated at {i}"
            );
        }
        let mut tag = bytes.clone();
        tag[0] = 7;
        assert!(invalid(Program::read_from_bytes(&tag)).contains("unknown tag 7"));
        // A forest-only file where a program is expected.
        let forest_bytes = program.forest().to_bytes();
        assert!(invalid(Program::read_from_bytes(&forest_bytes)).contains("not a program"));
        // A huge stated length is rejected before anything is read.
        let mut huge = vec![0u8];
        winter_utils::ByteWriter::write_usize(&mut huge, usize::MAX >> 1);
        assert!(invalid(MastForest::read_from_bytes(&huge)).contains("exceeds the limit"));
        // What a writer could not encode reads back as an error with its message.
        let mut unwritable = vec![1u8];
        winter_utils::ByteWriter::write_usize(&mut unwritable, 4);
        unwritable.extend_from_slice(b"oops");
        assert!(invalid(MastForest::read_from_bytes(&unwritable)).contains("oops"));
    }

    #[test]
    fn kernels_are_checked() {
        let digest = Word::new([Felt::new(5); 4]);
        let once = Kernel::new(&[digest]).expect("kernel").to_bytes();
        // One count byte (a small `usize`), then 32 bytes of digest.
        assert_eq!(once.len(), 33);
        let mut dup = Vec::new();
        winter_utils::ByteWriter::write_usize(&mut dup, 2);
        dup.extend_from_slice(&once[1..]);
        dup.extend_from_slice(&once[1..]);
        assert!(invalid(Kernel::read_from_bytes(&dup)).contains("listed twice"));
        let mut non_canonical = once.clone();
        non_canonical[1..9].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(invalid(Kernel::read_from_bytes(&non_canonical)).contains("canonical"));
        let mut many = Vec::new();
        winter_utils::ByteWriter::write_usize(&mut many, 256);
        assert!(invalid(Kernel::read_from_bytes(&many)).contains("exceed the limit"));
    }
}
