//! Fuzzes the text-format parser (`weft_mast::format::text::parse_file`), forests and programs.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| weft_mast::format::fuzz::fuzz_text(data));
