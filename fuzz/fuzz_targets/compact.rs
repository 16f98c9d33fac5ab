//! Fuzzes the compact-format reader (`weft_mast::format::compact::read` + `validate`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| weft_mast::format::fuzz::fuzz_compact(data));
