//! Fuzzes the fast-format reader (`weft_mast::format::fast::read` + `validate_file`), on forest
//! and program files.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| weft_mast::format::fuzz::fuzz_fast(data));
