//! Repository tasks: `cargo xtask <task>`.
//!
//! - `ci`: what CI runs (the README's test command, then the repository rules).
//! - `compare [ARGS...]`: upstream 0.20.6 vs weft speed table (`weft-compare` in weft-miden,
//!   release mode; xtask itself never depends on upstream). Arguments are passed through.
//! - `check-equivalence [--dev] [ARGS...]`: reference vs parallel trace on every program, at
//!   several fragment sizes and thread counts (`weft-check-equivalence` in weft-miden, release
//!   mode, or the dev profile with `--dev`, as CI runs it after the tests).

use std::process::{Command, ExitCode};

mod tidy;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("ci") => run_ci(),
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
            eprintln!("usage: cargo xtask <ci|tidy|compare [ARGS...]|check-equivalence [ARGS...]>");
            ExitCode::from(2)
        }
    }
}

/// Runs one of weft-miden's binaries with `args`: in release mode, or with `--dev` (anywhere in
/// `args`) in the dev profile, which reuses a test build's dependencies.
fn run_bin(bin: &str, args: &[String]) -> ExitCode {
    let dev = args.iter().any(|a| a == "--dev");
    let mut cargo = Command::new(env!("CARGO"));
    cargo.arg("run");
    if !dev {
        cargo.arg("--release");
    }
    let status = cargo
        .args(["-p", "weft-miden", "--bin", bin, "--"])
        .args(args.iter().filter(|a| *a != "--dev"))
        .current_dir(tidy::workspace_root())
        .status();
    match status {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("xtask: cannot run cargo: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run_ci() -> ExitCode {
    let status = Command::new(env!("CARGO"))
        .args(["test", "--workspace", "--all-targets"])
        .current_dir(tidy::workspace_root())
        .status();
    match status {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("xtask: cannot run cargo: {err}");
            ExitCode::FAILURE
        }
    }
}
