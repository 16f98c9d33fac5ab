//! Repository tasks: `cargo xtask <task>`.
//!
//! - `ci [--no-lints]`: what CI runs (`.ci/run` is `cargo xtask ci --no-lints`; the list of
//!   steps is in `ci.rs`), with `cargo fmt --check` and clippy (`-D warnings`) first unless
//!   `--no-lints`.
//! - `package`: `cargo package` of every published crate (all but weft-miden and xtask), each
//!   built as packaged (several minutes: not part of `ci`).
//! - `compare [ARGS...]`: upstream 0.20.6 vs weft speed table (`weft-compare` in weft-miden, the
//!   conformance harness, release mode; xtask itself never depends on upstream). Arguments are
//!   passed through (`--help` lists them).
//! - `check-equivalence [--dev] [ARGS...]`: reference vs parallel trace on every program, at
//!   several fragment sizes and thread counts (`weft-check-equivalence` in weft-miden, release
//!   mode, or the dev profile with `--dev`, as CI runs it after the tests). Both run the
//!   repository's programs and, when present, the shared corpus (`WEFT_SHARED_CORPUS`, or the
//!   default place `weft_miden::corpus` names), and say which.

use std::process::{Command, ExitCode};

mod ci;
mod tidy;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("ci") => ci::run(&args[1..]),
        Some("package") => ci::package(),
        Some("compare") => run_bin("weft-compare", &args[1..]),
        Some("check-equivalence") => run_bin("weft-check-equivalence", &args[1..]),
        Some("tidy") => match tidy::check_repository(&tidy::workspace_root()) {
            Ok(()) => {
                println!("tidy: ok");
                ExitCode::SUCCESS
            }
            Err(problems) => {
                for problem in problems {
                    eprintln!("tidy: {problem}");
                }
                ExitCode::FAILURE
            }
        },
        _ => {
            eprintln!(
                "usage: cargo xtask <ci [--no-lints]|package|tidy|compare [ARGS...]|check-equivalence [ARGS...]>"
            );
            ExitCode::from(2)
        }
    }
}

/// Runs one of weft-miden's binaries with `args`: in release mode, or with `--dev` (anywhere in
/// `args`) as built by `cargo build --workspace --all-targets` in the dev profile. That build
/// resolves features as `cargo test --workspace --all-targets` does, so after the tests it has
/// nothing left to compile (a `cargo run -p weft-miden` would resolve them for one package and
/// rebuild the upstream crates).
fn run_bin(bin: &str, args: &[String]) -> ExitCode {
    let root = tidy::workspace_root();
    let args: Vec<&String> = args.iter().filter(|a| *a != "--dev").collect();
    let dev = std::env::args().any(|a| a == "--dev");
    let status = if dev {
        let built = Command::new(env!("CARGO"))
            .args(["build", "--workspace", "--all-targets"])
            .current_dir(&root)
            .status();
        match built {
            Ok(s) if s.success() => {}
            Ok(_) => return ExitCode::FAILURE,
            Err(err) => {
                eprintln!("xtask: cannot run cargo: {err}");
                return ExitCode::FAILURE;
            }
        }
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map_or_else(|| root.join("target"), std::path::PathBuf::from);
        Command::new(target.join("debug").join(bin))
            .args(&args)
            .current_dir(&root)
            .status()
    } else {
        Command::new(env!("CARGO"))
            .args(["run", "--release", "-p", "weft-miden", "--bin", bin, "--"])
            .args(&args)
            .current_dir(&root)
            .status()
    };
    match status {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("xtask: cannot run {bin}: {err}");
            ExitCode::FAILURE
        }
    }
}
