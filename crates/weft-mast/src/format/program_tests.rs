//! Program files: round trips through every format, forest-only files, and one check per way a
//! program section can be wrong.

use std::sync::Arc;

use weft_core::{Felt, Operation, Word};

use super::{
    FormatError, MastFile, compact, fast,
    fuzz::{self, fix_checksum},
    strip_program, text,
};
use crate::{Kernel, MastError, MastForestBuilder, Program};

/// A program whose entry point is its second root, with a two-procedure kernel (one of them a
/// root of its own forest).
fn small_program() -> Program {
    let mut b = MastForestBuilder::new();
    let add = b.add_block(&[Operation::Add]).expect("block");
    let mul = b
        .add_block(&[Operation::Push(Felt::new(3)), Operation::Mul])
        .expect("block");
    let ext = b
        .add_external(Word::new([Felt::new(1); 4]))
        .expect("external");
    let sys = b.add_syscall(ext).expect("syscall");
    let main = b.add_join(mul, sys).expect("join");
    b.make_root(add).expect("root");
    b.make_root(main).expect("root");
    let forest = b.build();
    let kernel =
        Kernel::new(&[forest[add].digest(), Word::new([Felt::new(1); 4])]).expect("kernel");
    Program::new(Arc::new(forest), main, kernel).expect("program")
}

#[test]
fn programs_round_trip_through_every_format() {
    let program = small_program();
    fuzz::check_program_roundtrips(&program);
    let printed = text::print_program(&program).expect("printable");
    assert!(printed.contains("entry 4\n"), "{printed}");
    assert!(printed.contains("kernel 0x"), "{printed}");
    // A program with an empty kernel is still a program.
    let no_kernel = Program::new(
        Arc::clone(program.forest()),
        program.entrypoint(),
        Kernel::default(),
    )
    .expect("program");
    fuzz::check_program_roundtrips(&no_kernel);
}

#[test]
fn forest_files_hold_no_program() {
    let program = small_program();
    let forest = program.forest();
    let bytes = fast::write(forest).expect("writable");
    assert_eq!(bytes[12], 0, "a forest file sets no flag");
    let file = fast::read(&bytes).and_then(|u| u.validate_file());
    assert_eq!(file, Ok(MastFile::Forest((**forest).clone())));
    assert_eq!(
        fast::read(&bytes).and_then(|u| u.validate_program()),
        Err(FormatError::NotAProgram { offset: 0 })
    );
    let bytes = compact::write(forest).expect("writable");
    assert_eq!(
        compact::read(&bytes).and_then(|u| u.validate_program()),
        Err(FormatError::NotAProgram { offset: 0 })
    );
    let printed = text::print(forest).expect("printable");
    assert!(matches!(
        text::parse_file(&printed),
        Ok(MastFile::Forest(_))
    ));
    // Sealed files: a forest reads as a forest, and a program file sealed by the key holder
    // reads as the program.
    let key = [9u8; 32];
    let sealed = fast::write_sealed(forest, &key).expect("writable");
    assert!(matches!(
        fast::read_sealed_file(&sealed, &key),
        Ok(MastFile::Forest(_))
    ));
    let mut sealed = fast::write_program(&program).expect("writable");
    sealed[12] |= fast::FLAG_SEALED as u8;
    fix_checksum(&mut sealed);
    sealed.extend_from_slice(blake3::keyed_hash(&key, &sealed).as_bytes());
    assert_eq!(
        fast::read_sealed_file(&sealed, &key),
        Ok(MastFile::Program(program.clone()))
    );
    assert_eq!(
        fast::read_sealed(&sealed, &key).as_ref(),
        Ok(&**program.forest())
    );
}

/// Returns the fast encoding of `program` changed by `edit`, with its checksum fixed.
fn edited_fast(program: &Program, edit: impl Fn(&mut Vec<u8>)) -> Vec<u8> {
    let mut bytes = fast::write_program(program).expect("writable");
    edit(&mut bytes);
    fix_checksum(&mut bytes);
    bytes
}

#[test]
fn fast_program_sections_are_checked() {
    let program = small_program();
    let read = |bytes: &[u8]| fast::read(bytes).and_then(|u| u.validate_program());
    // The program section follows the 40-byte header: entry root index, kernel count, digests.
    let bytes = edited_fast(&program, |b| b[40] = 2);
    assert_eq!(
        read(&bytes),
        Err(FormatError::IndexOutOfRange {
            offset: 40,
            what: "entry root index",
            index: 2,
            bound: 2
        })
    );
    let bytes = edited_fast(&program, |b| b[44] = 0);
    assert!(matches!(
        read(&bytes),
        Err(FormatError::LengthMismatch { .. })
    ));
    let bytes = edited_fast(&program, |b| {
        b[44..48].copy_from_slice(&256u32.to_le_bytes())
    });
    assert!(matches!(
        read(&bytes),
        Err(FormatError::LimitExceeded {
            what: "kernel procedure count",
            value: 256,
            limit: 255,
            ..
        })
    ));
    // The second kernel digest made a copy of the first.
    let bytes = edited_fast(&program, |b| {
        let first: Vec<u8> = b[48..80].to_vec();
        b[80..112].copy_from_slice(&first);
    });
    assert_eq!(
        read(&bytes),
        Err(FormatError::InvalidProgram {
            offset: 80,
            source: MastError::DuplicateKernelProcedure {
                index: 1,
                digest: program.kernel().proc_hashes()[0]
            }
        })
    );
    // An unknown flag bit is still rejected.
    let bytes = edited_fast(&program, |b| b[12] |= 4);
    assert_eq!(read(&bytes), Err(FormatError::ReservedBits { offset: 12 }));
}

#[test]
fn compact_program_sections_are_checked() {
    let program = small_program();
    let bytes = compact::write_program(&program).expect("writable");
    assert_eq!(bytes[9], compact::FLAG_PROGRAM);
    let mut bad = bytes.clone();
    bad[9] = 3;
    fix_checksum(&mut bad);
    assert_eq!(
        compact::read(&bad).map(|_| ()),
        Err(FormatError::ReservedBits { offset: 9 })
    );
    // Clearing the flag leaves a program section the reader does not expect.
    let mut bad = bytes.clone();
    bad[9] = 0;
    fix_checksum(&mut bad);
    assert!(
        compact::read(&bad)
            .and_then(|u| u.validate_program())
            .is_err()
    );
}

#[test]
fn text_program_sections_are_checked() {
    let program = small_program();
    let printed = text::print_program(&program).expect("printable");
    let check = |source: &str, expected: FormatError| {
        let err = text::parse_file(source).expect_err("rejected");
        assert_eq!(err.error, expected, "{source}");
    };
    // The entry node must be a root.
    let not_root = printed.replace("entry 4", "entry 3");
    let at = not_root.find("entry 3").expect("entry line") + 6;
    check(
        &not_root,
        FormatError::InvalidProgram {
            offset: at,
            source: MastError::EntrypointNotRoot { id: 3 },
        },
    );
    let past = printed.replace("entry 4", "entry 9");
    check(
        &past,
        FormatError::IndexOutOfRange {
            offset: at,
            what: "entry node",
            index: 9,
            bound: 5,
        },
    );
    let twice = printed.replace("entry 4", "entry 4\nentry 4");
    let at_second = twice.rfind("entry 4").expect("second entry");
    check(
        &twice,
        FormatError::Syntax {
            offset: at_second,
            expected: "one `entry` line",
        },
    );
    let without_entry = printed.replace("entry 4\n", "");
    let first_kernel = without_entry.find("kernel").expect("kernel line");
    check(
        &without_entry,
        FormatError::Syntax {
            offset: first_kernel,
            expected: "an `entry` line before a kernel (a kernel belongs to a program)",
        },
    );
    let first = printed.find("kernel ").expect("kernel line");
    let line_end = first + printed[first..].find('\n').expect("line end") + 1;
    let doubled = format!("{}{}", printed, &printed[first..line_end]);
    let second = doubled.rfind("kernel ").expect("second kernel line");
    check(
        &doubled,
        FormatError::InvalidProgram {
            offset: second,
            source: MastError::DuplicateKernelProcedure {
                index: 2,
                digest: program.kernel().proc_hashes()[0],
            },
        },
    );
}

#[test]
fn stripping_a_program_keeps_its_entry_first_and_adds_its_kernel_code() {
    let program = small_program();
    let mut kb = MastForestBuilder::new();
    let proc_a = kb.add_block(&[Operation::Swap]).expect("block");
    kb.make_root(proc_a).expect("root");
    let kernel_forest = kb.build();
    let stripped = strip_program(&program, Some(&kernel_forest)).expect("strips");
    let forest = stripped.forest();
    assert_eq!(forest.procedure_roots()[0], stripped.entrypoint());
    assert_eq!(stripped.hash(), program.hash());
    assert_eq!(stripped.kernel(), program.kernel());
    assert!(
        forest
            .find_procedure_root(&kernel_forest[proc_a].digest())
            .is_some()
    );
    fuzz::check_program_roundtrips(&stripped);
    let alone = strip_program(&program, None).expect("strips");
    assert_eq!(alone.forest().num_nodes(), program.forest().num_nodes());
}
