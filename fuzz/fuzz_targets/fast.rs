//! Fuzzes the fast-format reader (`weft_mast::format::fast::read` + `validate`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| weft_mast::format::fuzz::fuzz_fast(data));
