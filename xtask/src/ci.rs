//! `cargo xtask ci`: the one list of what CI checks.
//!
//! `.ci/run` runs `cargo xtask ci --no-lints`, so CI and a contributor run the same steps from
//! this list; `cargo xtask ci` adds the lints (`cargo fmt --check` and clippy with warnings
//! denied) in front of them. Each step is printed before it runs; the first failing step ends
//! the run with its name.

use std::process::{Command, ExitCode};

use crate::tidy::workspace_root;

/// What runs a step.
#[derive(Debug, Clone, Copy)]
enum Program {
    /// `cargo` (the one that runs xtask).
    Cargo,
    /// This xtask binary (for the tasks it implements itself).
    Xtask,
}

/// One CI step: a command line, the environment it adds, and why it is there.
#[derive(Debug)]
struct Step {
    why: &'static str,
    program: Program,
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
}

/// The lints `cargo xtask ci` runs before [`CHECKS`] (CI leaves them out: `--no-lints`).
const LINTS: &[Step] = &[
    Step {
        why: "formatting",
        program: Program::Cargo,
        args: &["fmt", "--all", "--", "--check"],
        env: &[],
    },
    Step {
        why: "clippy, warnings denied",
        program: Program::Cargo,
        args: &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
        env: &[],
    },
];

/// What CI runs, in order.
const CHECKS: &[Step] = &[
    Step {
        why: "the README's test command (the shared corpus beside the repository runs too when \
              present; the tests say whether they found it; weft-dist's tests start nats-server \
              and fail without it when WEFT_REQUIRE_NATS=1, as .ci/run sets)",
        program: Program::Cargo,
        args: &["test", "--workspace", "--all-targets"],
        env: &[],
    },
    Step {
        why: "the examples in the documentation (`--all-targets` leaves doctests out)",
        program: Program::Cargo,
        args: &["test", "--workspace", "--doc"],
        env: &[],
    },
    Step {
        why: "the conformance figures (nodes compared, programs, rows, mismatches, opcode and \
              error tables): the same tests with their output shown (`--workspace`, so the \
              features resolve as in the first step and nothing is rebuilt)",
        program: Program::Cargo,
        args: &[
            "test",
            "--workspace",
            "--test",
            "digests",
            "--test",
            "trace_conformance",
            "--",
            "--show-output",
        ],
        env: &[],
    },
    Step {
        why: "reference vs parallel trace on every program at fragment sizes 1, 7, 61 and 4096 (and \
              1..=64 on traces up to 1024 rows) \
              with 1 and all threads (dev build of the tests; traces above 2^21 rows skipped)",
        program: Program::Xtask,
        args: &["check-equivalence", "--dev"],
        env: &[("CI", "1")],
    },
    Step {
        why: "trace generation without the `concurrent` feature",
        program: Program::Cargo,
        args: &["test", "-p", "weft-tracegen", "--no-default-features"],
        env: &[],
    },
    Step {
        why: "the command line with the `dist` feature: weft worker and weft trace \
              --distributed end to end against nats-server",
        program: Program::Cargo,
        args: &[
            "test",
            "--workspace",
            "--features",
            "weft-cli/dist",
            "--test",
            "dist",
        ],
        env: &[],
    },
    Step {
        why: "MAST readers without the `concurrent` feature",
        program: Program::Cargo,
        args: &["test", "-p", "weft-mast", "--no-default-features"],
        env: &[],
    },
];

/// The crates that are not published (everything else must package).
const UNPUBLISHED: &[&str] = &["weft-miden", "weft-benches", "xtask"];

/// Runs `cargo xtask package`: `cargo package` of every published crate, which packages the
/// interdependent crates together and builds each as packaged. It is left out of [`CHECKS`]
/// because building every crate once more takes several minutes on CI's two cores.
pub fn package() -> ExitCode {
    let mut args = vec!["package", "--workspace"];
    for name in UNPUBLISHED {
        args.extend(["--exclude", name]);
    }
    run_one("cargo", std::path::Path::new(env!("CARGO")), &args, &[])
}

/// Runs one command in the workspace root; a failure is printed with the command.
fn run_one(
    shown: &str,
    program: &std::path::Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> ExitCode {
    let status = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(workspace_root())
        .status();
    match status {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(s) => {
            eprintln!("xtask: `{shown} {}` failed ({s})", args.join(" "));
            ExitCode::FAILURE
        }
        Err(err) => {
            eprintln!("xtask: cannot run `{shown}`: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Runs `cargo xtask ci [--no-lints]`.
pub fn run(args: &[String]) -> ExitCode {
    let lints = !args.iter().any(|a| a == "--no-lints");
    if let Some(unknown) = args.iter().find(|a| *a != "--no-lints") {
        eprintln!("xtask ci: unknown argument `{unknown}` (only `--no-lints`)");
        return ExitCode::from(2);
    }
    let steps = lints.then_some(LINTS).into_iter().flatten().chain(CHECKS);
    for step in steps {
        let program = match step.program {
            Program::Cargo => std::path::PathBuf::from(env!("CARGO")),
            Program::Xtask => match std::env::current_exe() {
                Ok(exe) => exe,
                Err(err) => {
                    eprintln!("xtask ci: cannot find the xtask binary: {err}");
                    return ExitCode::FAILURE;
                }
            },
        };
        let shown = match step.program {
            Program::Cargo => "cargo",
            Program::Xtask => "cargo xtask",
        };
        let env: String = step.env.iter().map(|(k, v)| format!("{k}={v} ")).collect();
        println!("==> {}\n==> {env}{shown} {}", step.why, step.args.join(" "));
        if run_one(shown, &program, step.args, step.env) != ExitCode::SUCCESS {
            return ExitCode::FAILURE;
        }
    }
    println!("xtask ci: every step passed");
    ExitCode::SUCCESS
}
