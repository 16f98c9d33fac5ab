//! Repository tasks: `cargo xtask <task>`.
//!
//! - `ci`: what CI runs (the README's test command, then the repository rules).

use std::process::{Command, ExitCode};

mod tidy;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("ci") => run_ci(),
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
            eprintln!("usage: cargo xtask <ci|tidy>");
            ExitCode::from(2)
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
