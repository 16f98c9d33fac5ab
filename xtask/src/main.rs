//! Repository tasks: `cargo xtask <task>`.
//!
//! - `ci`: what CI runs (the README's test command, then the repository rules).
//! - `compare [ARGS...]`: upstream 0.20.6 vs weft speed table (`weft-compare` in weft-miden,
//!   release mode; xtask itself never depends on upstream). Arguments are passed through.

use std::process::{Command, ExitCode};

mod tidy;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("ci") => run_ci(),
        Some("compare") => run_compare(&args[1..]),
        Some("tidy") => match tidy::check_repository(&tidy::workspace_root()) {
            Ok(()) => {
                println!("tidy: ok");
                ExitCode::SUCCESS
            },
            Err(problems) => {
                for problem in problems {
                    eprintln!("tidy: {problem}");
                }
                ExitCode::FAILURE
            },
        },
        _ => {
            eprintln!("usage: cargo xtask <ci|tidy|compare [ARGS...]>");
            ExitCode::from(2)
        },
    }
}

fn run_compare(args: &[String]) -> ExitCode {
    let status = Command::new(env!("CARGO"))
        .args(["run", "--release", "-p", "weft-miden", "--bin", "weft-compare", "--"])
        .args(args)
        .current_dir(tidy::workspace_root())
        .status();
    match status {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("xtask: cannot run cargo: {err}");
            ExitCode::FAILURE
        },
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
        },
    }
}
