//! Fuzzes the sealed fast-format reader (`weft_mast::format::fast::read_sealed_file`, which trusts
//! stored digests and batches blocks lazily) on inputs the body seals with a known key.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| weft_mast::format::fuzz::fuzz_sealed(data));
