//! Writes upstream's core library, converted and stripped of decorators, in weft's fast format
//! to the path given: the input of `weft-mast`'s `load_speed` example.
//!
//! `cargo run -p weft-miden --release --example core_lib_fast -- FILE`

use weft_mast::format::{fast, strip};
use weft_upstream::{convert_forest, upstream_core_lib_forest};

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: core_lib_fast FILE");
        std::process::exit(2);
    };
    let forest = match convert_forest(&upstream_core_lib_forest()) {
        Ok(converted) => match strip(&converted.forest) {
            Ok(forest) => forest,
            Err(e) => {
                eprintln!("cannot strip the core library: {e}");
                std::process::exit(1);
            }
        },
        Err(e) => {
            eprintln!("cannot convert the core library: {e}");
            std::process::exit(1);
        }
    };
    let bytes = match fast::write(&forest) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("cannot write the core library: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = std::fs::write(&path, bytes) {
        eprintln!("cannot write {path}: {e}");
        std::process::exit(1);
    }
}
