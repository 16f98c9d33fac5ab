//! Builds a random valid forest and program from the input and round-trips them through all
//! three formats.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| weft_mast::format::fuzz::fuzz_roundtrip(data));
