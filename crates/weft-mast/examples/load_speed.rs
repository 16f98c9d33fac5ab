//! Times loading a fast-format file: `cargo run --release -p weft-mast --example load_speed --
//! FILE [ITERS]`. The file is read and validated once, written again sealed under a fixed key,
//! and then loaded `ITERS` times with `fast::read_sealed`, with `fast::read_sealed` followed by
//! the first use of every block (which batches it), and (`ITERS / 100` times, unless
//! `LOAD_SPEED_SEALED_ONLY` is set) with `fast::read` + `validate`. It prints the minimum and
//! median times and the median speed in MB/s of file bytes. Without the weft-miden build, this
//! is the quick way to measure a change to the readers (`cargo run -p weft-miden --release
//! --example core_lib_fast -- FILE` writes the core library's file).

use std::time::{Duration, Instant};

use weft_mast::{MastNode, format::fast};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: load_speed FILE [ITERS]");
        std::process::exit(2);
    };
    let iters: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(2000);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| {
        eprintln!("cannot read {path}: {e}");
        std::process::exit(1);
    });
    let forest = match fast::read(&bytes).and_then(|u| u.validate()) {
        Ok(forest) => forest,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    };
    let key = [0x5a; 32];
    let sealed = fast::write_sealed(&forest, &key).unwrap_or_else(|e| {
        eprintln!("cannot write {path} sealed: {e}");
        std::process::exit(1);
    });
    report("read_sealed", sealed.len(), iters, || {
        drop(fast::read_sealed(&sealed, &key));
    });
    report(
        "read_sealed + batch every block",
        sealed.len(),
        iters,
        || {
            if let Ok(forest) = fast::read_sealed(&sealed, &key) {
                for node in forest.nodes() {
                    if let MastNode::Block(block) = node {
                        drop(std::hint::black_box(block.batches()));
                    }
                }
            }
        },
    );
    if std::env::var_os("LOAD_SPEED_SEALED_ONLY").is_none() {
        report("read + validate", bytes.len(), iters / 100 + 1, || {
            drop(fast::read(&bytes).and_then(|u| u.validate()));
        });
    }
}

fn report(name: &str, n_bytes: usize, iters: usize, mut load: impl FnMut()) {
    for _ in 0..iters.min(50) {
        load();
    }
    let mut times: Vec<Duration> = (0..iters)
        .map(|_| {
            let start = Instant::now();
            load();
            start.elapsed()
        })
        .collect();
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "{name}: {n_bytes} bytes, min {:?}, median {:?}, {:.0} MB/s (median)",
        times[0],
        median,
        n_bytes as f64 / median.as_secs_f64() / 1e6
    );
}
